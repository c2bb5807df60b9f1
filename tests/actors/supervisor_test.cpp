// The retry/undo supervisor on CAF's test coordinator: it answers each
// failure report with the rules of failure_decisions, writes the in-doubt
// log, and records what it handled for the run's summary.

#include "actors/control/supervisor.hpp"

#include <filesystem>
#include <fstream>

#include "tests/actors/actor_test_env.hpp"

namespace trib::test {
namespace {

class supervisor_test : public actor_test {
protected:
  void start(bool skip = true, int max_retries = 2) {
    supervisor_settings s;
    s.rules.policy.max_retries = max_retries;
    s.rules.policy.base_wait = std::chrono::milliseconds{50};
    s.rules.skip_tables_on_failures = skip;
    s.in_doubt_path = in_doubt_log_path(dir);
    record = s.record;
    aut = sys.spawn(supervisor, s);
    sched.run();
  }
  failure_verdict ask(failure_report r) {
    failure_verdict got;
    bool answered = false;
    auto asker = sys.spawn([=, &got, &answered](caf::event_based_actor* self) {
      self->request(aut, caf::infinite, r).then([&](failure_verdict& v) {
        got = v;
        answered = true;
      });
    });
    sched.run();
    EXPECT_TRUE(answered);
    return got;
  }
  std::string in_doubt_text() {
    std::ifstream in(in_doubt_log_path(dir));
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void TearDown() override {
    stop(aut);
    std::filesystem::remove_all(dir);
  }

  std::string dir = ::testing::TempDir() + "trib_supervisor_" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::shared_ptr<supervision_record> record;
  supervisor_actor aut;
};

failure_report report(failure_code code, int failures) {
  failure_report r;
  r.stream = "shop_public_items_cdc_logs";
  r.tables = {"shop.public.items"};
  r.at = "LSN 0/16B3748 (transaction 741)";
  r.reason = failure{code, "redis said no"};
  r.failures = failures;
  return r;
}

}  // namespace

TEST_F(supervisor_test, answers_retry_with_the_backoff_and_counts_the_undo) {
  start();
  auto r = report(failure_code::server_busy, 2);
  r.undone = 3;
  auto v = ask(r);
  EXPECT_EQ(v.action, failure_action::retry);
  EXPECT_EQ(v.wait_ms, 100);
  std::lock_guard<std::mutex> g{record->lock};
  EXPECT_EQ(record->undone, 3u);
  EXPECT_EQ(record->retries, 1u);
  EXPECT_TRUE(record->events.empty());
}

TEST_F(supervisor_test, skips_the_table_out_of_retries_and_records_it) {
  start();
  auto v = ask(report(failure_code::connection, 3));
  EXPECT_EQ(v.action, failure_action::skip_table);
  std::lock_guard<std::mutex> g{record->lock};
  ASSERT_EQ(record->events.size(), 1u);
  EXPECT_NE(record->events[0].find("shop.public.items"), std::string::npos) << record->events[0];
  EXPECT_NE(record->events[0].find("LSN 0/16B3748"), std::string::npos) << record->events[0];
  EXPECT_FALSE(std::filesystem::exists(in_doubt_log_path(dir)));
}

TEST_F(supervisor_test, writes_the_entries_it_could_not_undo_to_the_in_doubt_log) {
  start();
  auto r = report(failure_code::auth, 1);
  r.undo_failed = true;
  r.undo_error = "NOPERM xdel";
  r.in_doubt = {"1700000000000-0", "1700000000000-1"};
  EXPECT_EQ(ask(r).action, failure_action::in_doubt);
  r.in_doubt = {"1700000000001-0"};
  EXPECT_EQ(ask(r).action, failure_action::in_doubt);
  // Appended, one ready-to-run line per report.
  EXPECT_EQ(in_doubt_text(),
            "XDEL shop_public_items_cdc_logs 1700000000000-0 1700000000000-1\n"
            "XDEL shop_public_items_cdc_logs 1700000000001-0\n");
  std::lock_guard<std::mutex> g{record->lock};
  EXPECT_EQ(record->in_doubt, 3u);
  EXPECT_EQ(record->events.size(), 2u);
}

TEST_F(supervisor_test, stops_the_run_when_tables_may_not_be_skipped_and_still_lists_doubt) {
  start(false);
  EXPECT_EQ(ask(report(failure_code::wrong_type, 1)).action, failure_action::stop_run);
  auto r = report(failure_code::auth, 1);
  r.undo_failed = true;
  r.in_doubt = {"5-0"};
  EXPECT_EQ(ask(r).action, failure_action::stop_run);
  EXPECT_EQ(in_doubt_text(), "XDEL shop_public_items_cdc_logs 5-0\n");
}

TEST_F(supervisor_test, a_lost_target_stops_the_run) {
  start(true);
  EXPECT_EQ(ask(report(failure_code::target_lost, 1)).action, failure_action::stop_run);
}

}  // namespace trib::test
