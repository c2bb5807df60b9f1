#include "actors/control/retry_policy.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace trib {
namespace {

retry_policy make(int max_retries, std::chrono::milliseconds base) {
  retry_policy p;
  p.max_retries = max_retries;
  p.base_wait = base;
  return p;
}

TEST(retry_policy, retries_a_lost_connection_after_the_base_wait) {
  auto d = make(3, 250ms).next(1, failure_code::connection);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.wait, 250ms);
}

TEST(retry_policy, doubles_the_wait_with_every_failure) {
  auto p = make(5, 100ms);
  EXPECT_EQ(p.next(2, failure_code::server_busy).wait, 200ms);
  EXPECT_EQ(p.next(3, failure_code::server_busy).wait, 400ms);
  EXPECT_EQ(p.next(4, failure_code::server_busy).wait, 800ms);
}

TEST(retry_policy, caps_the_wait) {
  auto p = make(1000, 1000ms);
  p.max_wait = 30s;
  EXPECT_EQ(p.next(6, failure_code::connection).wait, 30s);
  EXPECT_EQ(p.next(999, failure_code::connection).wait, 30s);
}

TEST(retry_policy, gives_up_after_max_retries) {
  auto p = make(2, 10ms);
  EXPECT_TRUE(p.next(2, failure_code::connection).retry);
  EXPECT_FALSE(p.next(3, failure_code::connection).retry);
}

TEST(retry_policy, never_retries_when_max_retries_is_zero) {
  EXPECT_FALSE(make(0, 10ms).next(1, failure_code::connection).retry);
}

TEST(retry_policy, never_retries_permanent_failures) {
  auto p = make(10, 10ms);
  for (auto code : {failure_code::config, failure_code::auth,
                    failure_code::wrong_type, failure_code::bad_data,
                    failure_code::source_state, failure_code::state_exists,
                    failure_code::internal})
    EXPECT_FALSE(p.next(1, code).retry) << to_string(code);
}

TEST(retry_policy, takes_its_settings_from_a_connection_file) {
  redis_config target;
  target.max_retries = 4;
  target.retry_wait_duration_ms = 75;
  auto p = retry_policy_for(target);
  EXPECT_EQ(p.max_retries, 4);
  EXPECT_EQ(p.base_wait, 75ms);
  source_config source;
  source.max_retries = 0;
  source.retry_wait_duration_ms = 5;
  EXPECT_FALSE(retry_policy_for(source).next(1, failure_code::connection).retry);
}

}  // namespace
}  // namespace trib
