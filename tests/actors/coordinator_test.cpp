// The coordinator on CAF's test coordinator, with test doubles of the full
// interfaces in place of readers, appliers and writers. The test plays the
// appliers' part by sending table_done.

#include "actors/control/coordinator.hpp"
#include "actors/control/supervisor.hpp"

#include <algorithm>
#include <optional>

#include "tests/actors/actor_test_env.hpp"

namespace trib::test {
namespace {

/// What the stage factories made.
struct stages_log {
  std::vector<uint32_t> readers_started;
  std::vector<reader_job> jobs;
  std::vector<snapshot_reader_actor> readers;
  std::vector<redis_writer_actor> writers;
  /// Per table: the index of the writer its applier got.
  std::vector<size_t> applier_writer;
  /// Tables whose reader should die instead of reading.
  std::vector<uint32_t> crashing;
  /// Readers asked to stop: they stop when the test sends read_atom, as a
  /// reader does once its batches in flight have committed.
  size_t stops = 0;
  /// Writers told of a stop.
  size_t writer_stops = 0;
  /// Every double, to stop them after the test.
  std::vector<caf::actor> all;
};

redis_writer_actor::behavior_type writer_double(redis_writer_actor::pointer,
                                               std::shared_ptr<stages_log> log) {
  return {[](write_batch& b) { return write_ack{b.size(), "1-0"}; },
          [](undo_request&) { return undo_result{}; },
          [](flush_atom, uint64_t) {}, [](tick_atom) {},
          [log](stop_atom) { ++log->writer_stops; }};
}

table_applier_actor::behavior_type applier_double(table_applier_actor::pointer) {
  return {[](row_batch& b) { return batch_ack{b.table, b.seq, b.rows.size(), {}}; }};
}

snapshot_reader_actor::behavior_type
reader_double(snapshot_reader_actor::pointer self, bool crash,
              std::shared_ptr<stages_log> log) {
  if (crash) self->send(self, read_atom::value);
  return {
    [self, crash](read_atom) {
      // A crashing double dies; another one stops as a reader does when its
      // range is written (the test sends read_atom for that).
      if (crash) self->quit(caf::make_error(caf::sec::runtime_error, "reader blew up"));
      else self->quit();
    },
    [log](stop_atom) { ++log->stops; },
  };
}

stage_factories doubles(std::shared_ptr<stages_log> log) {
  stage_factories f;
  f.writer = [log](caf::local_actor* self, size_t) {
    auto h = self->spawn(writer_double, log);
    log->writers.push_back(h);
    log->all.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  };
  f.applier = [log](caf::local_actor* self, uint32_t table, const table_schema&,
                    redis_writer_actor writer, coordinator_actor) {
    auto it = std::find(log->writers.begin(), log->writers.end(), writer);
    if (log->applier_writer.size() <= table) log->applier_writer.resize(table + 1);
    log->applier_writer[table] = static_cast<size_t>(it - log->writers.begin());
    auto h = self->spawn(applier_double);
    log->all.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  };
  f.reader = [log](caf::local_actor* self, uint32_t table, const table_schema&,
                   const reader_job& job, table_applier_actor, coordinator_actor) {
    log->readers_started.push_back(table);
    log->jobs.push_back(job);
    bool crash = std::count(log->crashing.begin(), log->crashing.end(), table) > 0;
    auto h = self->spawn(reader_double, crash, log);
    log->all.push_back(caf::actor_cast<caf::actor>(h));
    log->readers.push_back(h);
    return h;
  };
  return f;
}

/// Asks the coordinator to run and keeps its answer.
struct client_log {
  std::optional<snapshot_result> result;
  std::optional<failure> error;
};

caf::behavior client(caf::event_based_actor* self, coordinator_actor coordinator,
                     std::shared_ptr<client_log> log) {
  self->request(coordinator, caf::infinite, run_atom::value)
    .then([log](snapshot_result& r) { log->result = std::move(r); },
          [log](caf::error& e) { log->error = to_failure(e); });
  return {};
}

snapshot_plan plan_of(size_t tables) {
  snapshot_plan p;
  for (size_t i = 0; i < tables; ++i) {
    table_schema t;
    t.id = table_id{"db", "public", "t" + std::to_string(i)};
    t.estimated_rows = 100 * i;
    p.tables.push_back(t);
  }
  return p;
}

class coordinator_test : public actor_test {
protected:
  void start(snapshot_plan plan, coordinator_settings s) {
    aut = sys.spawn(coordinator, std::move(plan), s, doubles(stages));
    asker = sys.spawn(client, aut, answer);
    sched.run();
  }

  void TearDown() override {
    stop(aut, asker);
    for (auto& h : stages->all) stop(h);
    stages->all.clear();
    stages->writers.clear();
  }

  void done(uint32_t table, uint64_t rows = 10) {
    caf::anon_send(aut, table_done{table, rows, false, {}});
    sched.run();
  }

  void skipped(uint32_t table, failure_code code = failure_code::wrong_type) {
    caf::anon_send(aut, table_done{table, 0, true, failure{code, "WRONGTYPE"}});
    sched.run();
  }

  /// Readers started whose table is not reported done.
  size_t running(const std::vector<uint32_t>& finished) const {
    size_t n = 0;
    for (auto t : stages->readers_started)
      if (std::count(finished.begin(), finished.end(), t) == 0) ++n;
    return n;
  }

  std::shared_ptr<stages_log> stages = std::make_shared<stages_log>();
  std::shared_ptr<client_log> answer = std::make_shared<client_log>();
  coordinator_actor aut;
  caf::actor asker;
};

coordinator_settings threads(size_t readers, size_t writers = 1, bool skip = true) {
  coordinator_settings s;
  s.reader_threads = readers;
  s.writers = writers;
  s.skip_tables_on_failures = skip;
  return s;
}

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

/// What the change path's doubles saw.
struct change_log {
  size_t appliers = 0;
  /// Per stream: the index of the writer its applier got (writers are
  /// counted from those the snapshot phase made).
  std::vector<redis_writer_actor> applier_writer;
  size_t dispatchers = 0;
  size_t dispatcher_appliers = 0;
  size_t readers = 0;
  size_t runs = 0;
  size_t stops = 0;
  /// The reader's answer to a stop: this position, or (fail) an error.
  bool fail = false;
  /// Change-path stages that ended.
  size_t exited = 0;
  size_t supervisors = 0;
  bool supervisor_first = false;
};

void count_exit(caf::abstract_actor* a, std::shared_ptr<change_log> log) {
  a->attach_functor([log](const caf::error&) { ++log->exited; });
}

change_applier_actor::behavior_type change_applier_double(change_applier_actor::pointer) {
  return {[](change_batch& b) { return change_ack{b.stream, b.seq, 0, 0, 0, {}}; },
          [](schema_change&) {}, [](retry_atom) {}};
}

change_dispatcher_actor::behavior_type change_dispatcher_double(change_dispatcher_actor::pointer) {
  return {[](change_feed&) -> uint64_t { return 0; }, [](schema_change&) {},
          [](reset_atom) -> uint64_t { return 0; }, [](drain_atom) -> uint64_t { return 0; },
          [](tick_atom) {}};
}

struct reader_double_state {
  caf::typed_response_promise<uint64_t> promise;
};

streaming_reader_actor::behavior_type
change_reader_double(streaming_reader_actor::stateful_pointer<reader_double_state> self,
                     std::shared_ptr<change_log> log) {
  return {
    [self, log](run_atom) -> caf::result<uint64_t> {
      ++log->runs;
      self->state.promise = self->make_response_promise<uint64_t>();
      return self->state.promise;
    },
    [self, log](stop_atom) {
      // Drains and answers, as a change reader does.
      ++log->stops;
      if (log->fail)
        self->state.promise.deliver(
          to_caf_error(failure{failure_code::source_state, "slot dropped"}));
      else
        self->state.promise.deliver(uint64_t{42});
      self->quit();
    },
    [](change_release&) {},
  };
}

/// Asks the coordinator to stream and keeps its answer.
struct stream_answer {
  std::optional<uint64_t> released;
  std::optional<failure> error;
};

caf::behavior stream_client(caf::event_based_actor* self, coordinator_actor coordinator,
                            std::shared_ptr<stream_answer> log) {
  self->request(coordinator, caf::infinite, stream_atom::value)
    .then([log](uint64_t r) { log->released = r; },
          [log](caf::error& e) { log->error = to_failure(e); });
  return {};
}

class coordinator_realtime_test : public coordinator_test {
protected:
  /// A coordinator whose change path has `streams` streams and `writers`
  /// writers, all doubles; no snapshot phase runs.
  void spawn_streaming(size_t streams, size_t writers) {
    auto f = doubles(stages);
    auto log = changes;
    auto all = stages;
    f.changes.streams = streams;
    f.changes.writers = writers;
    f.changes.applier = [log, all](caf::local_actor* self, uint32_t stream,
                              redis_writer_actor writer) {
      ++log->appliers;
      if (log->applier_writer.size() <= stream) log->applier_writer.resize(stream + 1);
      log->applier_writer[stream] = writer;
      auto h = self->spawn(change_applier_double);
      count_exit(caf::actor_cast<caf::abstract_actor*>(h), log);
      all->all.push_back(caf::actor_cast<caf::actor>(h));
      return h;
    };
    f.changes.dispatcher = [log, all](caf::local_actor* self,
                                 std::vector<change_applier_actor> appliers) {
      ++log->dispatchers;
      log->dispatcher_appliers = appliers.size();
      auto h = self->spawn(change_dispatcher_double);
      count_exit(caf::actor_cast<caf::abstract_actor*>(h), log);
      all->all.push_back(caf::actor_cast<caf::actor>(h));
      return h;
    };
    if (supervised)
      f.changes.supervisor = [log, all](caf::local_actor* self) {
        ++log->supervisors;
        log->supervisor_first = log->appliers == 0 && log->dispatchers == 0;
        auto h = self->spawn(supervisor, supervisor_settings{});
        count_exit(caf::actor_cast<caf::abstract_actor*>(h), log);
        all->all.push_back(caf::actor_cast<caf::actor>(h));
        return h;
      };
    f.changes.reader = [log, all](caf::local_actor* self, change_dispatcher_actor) {
      ++log->readers;
      streaming_reader_actor h = self->spawn(change_reader_double, log);
      count_exit(caf::actor_cast<caf::abstract_actor*>(h), log);
      all->all.push_back(caf::actor_cast<caf::actor>(h));
      return h;
    };
    aut = sys.spawn(coordinator, plan_of(0), threads(1), std::move(f));
    sched.run();
  }

  void stream() {
    streamer = sys.spawn(stream_client, aut, streamed);
    sched.run();
  }

  void TearDown() override {
    stop(streamer);
    coordinator_test::TearDown();
  }

  std::shared_ptr<change_log> changes = std::make_shared<change_log>();
  std::shared_ptr<stream_answer> streamed = std::make_shared<stream_answer>();
  caf::actor streamer;
  /// Whether the change path has a retry/undo supervisor.
  bool supervised = false;
};

TEST_F(coordinator_realtime_test, makes_the_supervisor_first_and_ends_it_with_the_change_path) {
  supervised = true;
  spawn_streaming(2, 1);
  stream();
  EXPECT_EQ(changes->supervisors, 1u);
  EXPECT_TRUE(changes->supervisor_first);
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  ASSERT_TRUE(streamed->released.has_value());
  // Two appliers, the dispatcher, the reader and the supervisor.
  EXPECT_EQ(changes->exited, 5u);
}

TEST_F(coordinator_realtime_test, makes_the_change_path_through_its_factories_and_runs_the_reader) {
  spawn_streaming(3, 2);
  stream();
  EXPECT_EQ(changes->appliers, 3u);
  EXPECT_EQ(stages->writers.size(), 2u);
  ASSERT_EQ(changes->applier_writer.size(), 3u);
  // Streams share the writers round-robin.
  EXPECT_EQ(changes->applier_writer[0], stages->writers[0]);
  EXPECT_EQ(changes->applier_writer[1], stages->writers[1]);
  EXPECT_EQ(changes->applier_writer[2], stages->writers[0]);
  EXPECT_EQ(changes->dispatchers, 1u);
  EXPECT_EQ(changes->dispatcher_appliers, 3u);
  EXPECT_EQ(changes->readers, 1u);
  EXPECT_EQ(changes->runs, 1u);
  EXPECT_FALSE(streamed->released.has_value());
  EXPECT_FALSE(streamed->error.has_value());
}

TEST_F(coordinator_realtime_test, a_stop_message_drains_the_reader_and_ends_the_change_path) {
  spawn_streaming(2, 1);
  stream();
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  EXPECT_EQ(changes->stops, 1u);
  ASSERT_TRUE(streamed->released.has_value());
  EXPECT_EQ(*streamed->released, 42u);
  // Two appliers, the dispatcher and the reader.
  EXPECT_EQ(changes->exited, 4u);
}

TEST_F(coordinator_realtime_test, a_stop_before_the_phase_lets_the_reader_start_and_drain_at_once) {
  spawn_streaming(1, 1);
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  stream();
  EXPECT_EQ(changes->runs, 1u);
  EXPECT_EQ(changes->stops, 1u);
  ASSERT_TRUE(streamed->released.has_value());
  EXPECT_EQ(*streamed->released, 42u);
}

TEST_F(coordinator_realtime_test, a_failed_reader_fails_the_phase_and_ends_the_change_path) {
  spawn_streaming(2, 1);
  changes->fail = true;
  stream();
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  ASSERT_TRUE(streamed->error.has_value());
  EXPECT_EQ(streamed->error->code, failure_code::source_state);
  EXPECT_EQ(streamed->error->what, "slot dropped");
  EXPECT_EQ(changes->exited, 4u);
}

TEST_F(coordinator_realtime_test, refuses_to_stream_without_a_change_reader) {
  aut = sys.spawn(coordinator, plan_of(0), threads(1), doubles(stages));
  sched.run();
  stream();
  ASSERT_TRUE(streamed->error.has_value());
  EXPECT_EQ(streamed->error->code, failure_code::internal);
  EXPECT_TRUE(stages->writers.empty());
}

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
