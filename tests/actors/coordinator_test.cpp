// The coordinator's snapshot phase on CAF's test coordinator, with test
// doubles of the full interfaces in place of readers, appliers and writers.
// The test plays the appliers' part by sending table_done.

#include "tests/actors/coordinator_fixture.hpp"

namespace trib::test {
namespace {

TEST_F(coordinator_test, never_runs_more_readers_than_snapshot_threads) {
  start(plan_of(5), threads(2));
  EXPECT_EQ(stages->readers_started, (std::vector<uint32_t>{0, 1}));
  std::vector<uint32_t> finished;
  // Finish in an order unlike the start order.
  for (uint32_t t : {1u, 0u, 3u, 2u, 4u}) {
    EXPECT_FALSE(answer->result.has_value());
    done(t);
    finished.push_back(t);
    EXPECT_LE(running(finished), 2u);
  }
  EXPECT_EQ(stages->readers_started, (std::vector<uint32_t>{0, 1, 2, 3, 4}));
  ASSERT_TRUE(answer->result.has_value());
  EXPECT_FALSE(answer->result->aborted);
  ASSERT_EQ(answer->result->tables.size(), 5u);
  for (uint32_t t = 0; t < 5; ++t) {
    EXPECT_EQ(answer->result->tables[t].table, t);
    EXPECT_EQ(answer->result->tables[t].rows_written, 10u);
    EXPECT_FALSE(answer->result->tables[t].skipped);
  }
}

TEST_F(coordinator_test, starts_the_next_reader_as_soon_as_a_table_finishes) {
  start(plan_of(3), threads(1));
  EXPECT_EQ(stages->readers_started, (std::vector<uint32_t>{0}));
  done(0);
  EXPECT_EQ(stages->readers_started, (std::vector<uint32_t>{0, 1}));
}

TEST_F(coordinator_test, finishes_counting_skipped_tables) {
  start(plan_of(3), threads(3));
  done(0);
  skipped(1);
  EXPECT_FALSE(answer->result.has_value());
  done(2);
  ASSERT_TRUE(answer->result.has_value());
  const auto& r = *answer->result;
  EXPECT_FALSE(r.aborted);
  auto n = std::count_if(r.tables.begin(), r.tables.end(),
                         [](const table_done& d) { return d.skipped; });
  EXPECT_EQ(n, 1);
  EXPECT_TRUE(r.tables[1].skipped);
  EXPECT_EQ(r.tables[1].reason.code, failure_code::wrong_type);
}

TEST_F(coordinator_test, a_second_report_of_a_table_changes_nothing) {
  start(plan_of(2), threads(2));
  done(0, 7);
  skipped(0);
  EXPECT_FALSE(answer->result.has_value());
  done(1);
  ASSERT_TRUE(answer->result.has_value());
  EXPECT_FALSE(answer->result->tables[0].skipped);
  EXPECT_EQ(answer->result->tables[0].rows_written, 7u);
}

TEST_F(coordinator_test, stops_the_run_at_a_failure_when_tables_may_not_be_skipped) {
  start(plan_of(3), threads(1, 1, false));
  skipped(0, failure_code::auth);
  ASSERT_TRUE(answer->result.has_value());
  const auto& r = *answer->result;
  EXPECT_TRUE(r.aborted);
  EXPECT_EQ(r.reason.code, failure_code::auth);
  ASSERT_EQ(r.tables.size(), 3u);
  for (const auto& d : r.tables) EXPECT_TRUE(d.skipped);
  EXPECT_EQ(stages->readers_started, (std::vector<uint32_t>{0}));
}

TEST_F(coordinator_test, shares_the_writer_pool_round_robin) {
  start(plan_of(5), threads(1, 2));
  EXPECT_EQ(stages->writers.size(), 2u);
  EXPECT_EQ(stages->applier_writer, (std::vector<size_t>{0, 1, 0, 1, 0}));
}

TEST_F(coordinator_test, never_makes_more_writers_than_tables) {
  start(plan_of(2), threads(1, 8));
  EXPECT_EQ(stages->writers.size(), 2u);
}

TEST_F(coordinator_test, reads_no_table_its_checkpoint_says_is_complete) {
  auto plan = plan_of(3);
  plan.start.resize(3);
  plan.start[1].done = true;
  plan.start[1].rows_done = 100;
  start(plan, threads(3));
  EXPECT_EQ(stages->readers_started, (std::vector<uint32_t>{0, 2}));
  done(0);
  done(2);
  ASSERT_TRUE(answer->result.has_value());
  EXPECT_FALSE(answer->result->tables[1].skipped);
}

TEST_F(coordinator_test, skips_the_table_of_a_reader_that_dies_unreported) {
  stages->crashing = {0};
  start(plan_of(2), threads(1));
  // The crash freed the reader slot for the next table.
  EXPECT_EQ(stages->readers_started, (std::vector<uint32_t>{0, 1}));
  done(1);
  ASSERT_TRUE(answer->result.has_value());
  EXPECT_TRUE(answer->result->tables[0].skipped);
  EXPECT_FALSE(answer->result->tables[1].skipped);
}

TEST_F(coordinator_test, answers_at_once_when_there_is_nothing_to_do) {
  start(plan_of(0), threads(2));
  ASSERT_TRUE(answer->result.has_value());
  EXPECT_TRUE(answer->result->tables.empty());
  EXPECT_TRUE(stages->writers.empty());
}

snapshot_plan split_plan(size_t tables, size_t ranges_of_0) {
  auto p = plan_of(tables);
  p.ranges.resize(tables);
  for (size_t r = 0; r < ranges_of_0; ++r) {
    split_range sr;
    if (r > 0) sr.lo = static_cast<int64_t>(r * 100);
    if (r + 1 < ranges_of_0) sr.hi = static_cast<int64_t>((r + 1) * 100);
    p.ranges[0].push_back(sr);
  }
  return p;
}

TEST_F(coordinator_test, reads_a_split_table_with_a_reader_per_range_within_the_reader_slots) {
  start(split_plan(2, 3), threads(2));
  // Two slots: two ranges of table 0 start, labelled 1 and 2 of 3.
  ASSERT_EQ(stages->readers_started, (std::vector<uint32_t>{0, 0}));
  EXPECT_EQ(stages->jobs[0].range, 1u);
  EXPECT_EQ(stages->jobs[0].ranges, 3u);
  EXPECT_FALSE(stages->jobs[0].lo.has_value());
  EXPECT_EQ(stages->jobs[0].hi, std::optional<int64_t>{100});
  EXPECT_EQ(stages->jobs[1].lo, std::optional<int64_t>{100});
  EXPECT_EQ(stages->jobs[1].hi, std::optional<int64_t>{200});
  // A range reader that stopped gives its slot to the next range.
  caf::anon_send(stages->readers[0], read_atom::value);
  sched.run();
  ASSERT_EQ(stages->readers_started, (std::vector<uint32_t>{0, 0, 0}));
  EXPECT_EQ(stages->jobs[2].range, 3u);
  EXPECT_FALSE(stages->jobs[2].hi.has_value());
  // The table is done when its applier says so; table 1 takes the slot.
  done(0, 300);
  EXPECT_EQ(stages->readers_started, (std::vector<uint32_t>{0, 0, 0, 1}));
  EXPECT_EQ(stages->jobs[3].range, 0u);
  done(1);
  ASSERT_TRUE(answer->result.has_value());
  EXPECT_EQ(answer->result->tables[0].rows_written, 300u);
}

TEST_F(coordinator_test, a_resumed_split_table_reads_only_its_unfinished_ranges) {
  auto plan = split_plan(1, 3);
  plan.ranges[0][1].start.done = true;
  plan.ranges[0][2].start.rows_done = 40;
  plan.ranges[0][2].start.last_key = {make_cell("240")};
  start(plan, threads(4));
  ASSERT_EQ(stages->jobs.size(), 2u);
  EXPECT_EQ(stages->jobs[0].range, 1u);
  EXPECT_EQ(stages->jobs[1].range, 3u);
  // Two ranges are read in this run: the applier ends the table after two.
  EXPECT_EQ(stages->jobs[0].ranges, 2u);
  EXPECT_EQ(stages->jobs[1].start.rows_done, 40u);
}

TEST_F(coordinator_test, a_split_table_whose_ranges_are_all_done_needs_no_reader) {
  auto plan = split_plan(1, 2);
  for (auto& r : plan.ranges[0]) r.start.done = true;
  start(plan, threads(2));
  EXPECT_TRUE(stages->readers_started.empty());
  ASSERT_TRUE(answer->result.has_value());
  EXPECT_FALSE(answer->result->tables[0].skipped);
}

TEST_F(coordinator_test, a_stop_starts_no_reader_and_answers_once_the_running_ones_stopped) {
  start(plan_of(4), threads(2));
  done(0);
  ASSERT_EQ(stages->readers_started, (std::vector<uint32_t>{0, 1, 2}));
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  // Tables 1 and 2 are being read: both readers are told, and the run waits
  // for them (their batches in flight must commit first).
  EXPECT_EQ(stages->stops, 2u);
  EXPECT_FALSE(answer->result.has_value());
  caf::anon_send(stages->readers[1], read_atom::value);
  sched.run();
  EXPECT_FALSE(answer->result.has_value());
  caf::anon_send(stages->readers[2], read_atom::value);
  sched.run();
  ASSERT_TRUE(answer->result.has_value());
  const auto& r = *answer->result;
  EXPECT_TRUE(r.stopped);
  EXPECT_FALSE(r.aborted);
  // Table 3 never started; the finished table keeps its outcome, the others
  // are marked unfinished rather than skipped.
  EXPECT_EQ(stages->readers_started, (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(r.tables[0].rows_written, 10u);
  EXPECT_TRUE(r.tables[0].reason.what.empty());
  for (uint32_t t : {1u, 2u, 3u}) {
    EXPECT_FALSE(r.tables[t].skipped);
    EXPECT_NE(r.tables[t].reason.what.find("not finished"), std::string::npos);
  }
  bool skipped = true;
  auto results = table_results(r, plan_of(4).tables, map_config{}, skipped);
  EXPECT_FALSE(skipped);
  EXPECT_TRUE(results[0].finished);
  EXPECT_FALSE(results[3].finished);
}

TEST_F(coordinator_test, a_write_a_stop_kept_from_waiting_for_memory_leaves_its_table_unfinished) {
  // Tables may not be skipped: a failure would end the run as aborted.
  start(plan_of(2), threads(2, 1, false));
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  // The writers hear of the stop too: one paused for Redis memory answers
  // its waiting writes unwritten, and the applier reports that.
  EXPECT_EQ(stages->writer_stops, stages->writers.size());
  EXPECT_GT(stages->writer_stops, 0u);
  caf::anon_send(aut, table_done{1, 5, true,
                                 failure{failure_code::stopped, "not written: the run stopped"}});
  sched.run();
  caf::anon_send(stages->readers[0], read_atom::value);
  caf::anon_send(stages->readers[1], read_atom::value);
  sched.run();
  ASSERT_TRUE(answer->result.has_value());
  const auto& r = *answer->result;
  EXPECT_TRUE(r.stopped);
  EXPECT_FALSE(r.aborted) << r.reason.what;
  // Not skipped, not failed: not finished, as a stop leaves any table.
  for (uint32_t t : {0u, 1u}) {
    EXPECT_FALSE(r.tables[t].skipped) << t;
    EXPECT_NE(r.tables[t].reason.what.find("not finished"), std::string::npos) << t;
  }
}

TEST_F(coordinator_test, a_stop_before_the_run_starts_answers_at_once) {
  aut = sys.spawn(coordinator, plan_of(2), threads(2), doubles(stages));
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  asker = sys.spawn(client, aut, answer);
  sched.run();
  EXPECT_TRUE(stages->readers_started.empty());
  ASSERT_TRUE(answer->result.has_value());
  EXPECT_TRUE(answer->result->stopped);
}

TEST_F(coordinator_test, a_stop_after_the_last_table_changes_nothing) {
  start(plan_of(1), threads(1));
  done(0);
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  ASSERT_TRUE(answer->result.has_value());
  EXPECT_FALSE(answer->result->stopped);
}

// -- the realtime phase ------------------------------------------------------

TEST(coordinator_settings_test, sizes_the_writer_pool_by_the_smallest_limit) {
  run_options o;
  o.target.max_connections = 30;
  o.applier.snapshot.threads = 4;
  o.extractor.snapshot.threads = 3;
  EXPECT_EQ(settings_for(o, 10).writers, 4u);
  EXPECT_EQ(settings_for(o, 2).writers, 2u);
  o.target.max_connections = 1;
  EXPECT_EQ(settings_for(o, 10).writers, 1u);
  EXPECT_EQ(settings_for(o, 0).writers, 1u);
  EXPECT_EQ(settings_for(o, 10).reader_threads, 3u);
  o.applier.snapshot.skip_tables_on_failures = false;
  EXPECT_FALSE(settings_for(o, 1).skip_tables_on_failures);
}

}  // namespace
}  // namespace trib::test
