#include "actors/control/failure_decisions.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace trib {
namespace {

failure_rules rules(int max_retries, bool skip = true) {
  failure_rules r;
  r.policy.max_retries = max_retries;
  r.policy.base_wait = 100ms;
  r.skip_tables_on_failures = skip;
  return r;
}

failure_case failed(failure_code code, int failures, bool undo_failed = false) {
  failure_case c;
  c.code = code;
  c.failures = failures;
  c.undo_failed = undo_failed;
  return c;
}

TEST(failure_decisions, retries_a_retryable_failure_with_the_policys_backoff) {
  auto v = decide(failed(failure_code::server_busy, 1), rules(3));
  EXPECT_EQ(v.action, failure_action::retry);
  EXPECT_EQ(v.wait_ms, 100);
  v = decide(failed(failure_code::connection, 3), rules(3));
  EXPECT_EQ(v.action, failure_action::retry);
  EXPECT_EQ(v.wait_ms, 400);
}

TEST(failure_decisions, skips_the_table_once_out_of_retries) {
  auto v = decide(failed(failure_code::server_busy, 4), rules(3));
  EXPECT_EQ(v.action, failure_action::skip_table);
  EXPECT_NE(v.why.find("out of retries (3)"), std::string::npos) << v.why;
}

TEST(failure_decisions, never_retries_a_permanent_failure) {
  for (auto code : {failure_code::auth, failure_code::wrong_type, failure_code::bad_data}) {
    auto v = decide(failed(code, 1), rules(10));
    EXPECT_EQ(v.action, failure_action::skip_table) << to_string(code);
    EXPECT_NE(v.why.find("permanent"), std::string::npos) << v.why;
  }
}

TEST(failure_decisions, stops_the_run_when_tables_may_not_be_skipped) {
  EXPECT_EQ(decide(failed(failure_code::auth, 1), rules(10, false)).action,
            failure_action::stop_run);
  EXPECT_EQ(decide(failed(failure_code::connection, 11), rules(10, false)).action,
            failure_action::stop_run);
  // Retries still come first.
  EXPECT_EQ(decide(failed(failure_code::connection, 2), rules(10, false)).action,
            failure_action::retry);
}

TEST(failure_decisions, a_lost_target_stops_the_run_whatever_skip_says) {
  EXPECT_EQ(decide(failed(failure_code::target_lost, 1), rules(10, true)).action,
            failure_action::stop_run);
  EXPECT_EQ(decide(failed(failure_code::config, 1), rules(10, true)).action,
            failure_action::stop_run);
}

TEST(failure_decisions, entries_not_undone_are_in_doubt_and_never_retried) {
  // Even a retryable failure with retries left: a retry would double them.
  auto v = decide(failed(failure_code::connection, 1, true), rules(10));
  EXPECT_EQ(v.action, failure_action::in_doubt);
  v = decide(failed(failure_code::auth, 1, true), rules(10, false));
  EXPECT_EQ(v.action, failure_action::stop_run);
  EXPECT_NE(v.why.find("in-doubt log"), std::string::npos) << v.why;
}

TEST(failure_decisions, zero_retries_skips_at_the_first_failure) {
  EXPECT_EQ(decide(failed(failure_code::connection, 1), rules(0)).action,
            failure_action::skip_table);
}

}  // namespace
}  // namespace trib

namespace trib {
namespace {

TEST(in_doubt_lines, writes_ready_to_run_xdel_lines) {
  auto lines = in_doubt_lines("replicate_io_cdc_public.t", {"1-0", "1-1", "2-0"}, 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "XDEL replicate_io_cdc_public.t 1-0 1-1");
  EXPECT_EQ(lines[1], "XDEL replicate_io_cdc_public.t 2-0");
  EXPECT_TRUE(in_doubt_lines("s", {}).empty());
}

TEST(in_doubt_lines, quotes_a_stream_name_redis_cli_would_split) {
  auto lines = in_doubt_lines("my stream \"x\"", {"5-0"});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "XDEL \"my stream \\\"x\\\"\" 5-0");
}

}  // namespace
}  // namespace trib
