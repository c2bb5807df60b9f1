#pragma once
// The coordinator's actor tests share these: test doubles of the full
// interfaces in place of readers, appliers and writers, a client that asks
// the coordinator to run, and the fixture (coordinator_test.cpp: the
// snapshot phase; coordinator_realtime_test.cpp: the realtime phase).

#include "actors/control/coordinator.hpp"

#include <algorithm>
#include <optional>

#include "tests/actors/actor_test_env.hpp"

namespace trib::test {

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

inline redis_writer_actor::behavior_type writer_double(redis_writer_actor::pointer,
                                               std::shared_ptr<stages_log> log) {
  return {[](write_batch& b) { return write_ack{b.size(), "1-0"}; },
          [](undo_request&) { return undo_result{}; },
          [](flush_atom, uint64_t) {}, [](tick_atom) {},
          [log](stop_atom) { ++log->writer_stops; }};
}

inline table_applier_actor::behavior_type applier_double(table_applier_actor::pointer) {
  return {[](row_batch& b) { return batch_ack{b.table, b.seq, b.rows.size(), {}}; }};
}

inline snapshot_reader_actor::behavior_type
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

inline stage_factories doubles(std::shared_ptr<stages_log> log) {
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

inline caf::behavior client(caf::event_based_actor* self, coordinator_actor coordinator,
                     std::shared_ptr<client_log> log) {
  self->request(coordinator, caf::infinite, run_atom::value)
    .then([log](snapshot_result& r) { log->result = std::move(r); },
          [log](caf::error& e) { log->error = to_failure(e); });
  return {};
}

inline snapshot_plan plan_of(size_t tables) {
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

inline coordinator_settings threads(size_t readers, size_t writers = 1, bool skip = true) {
  coordinator_settings s;
  s.reader_threads = readers;
  s.writers = writers;
  s.skip_tables_on_failures = skip;
  return s;
}

}  // namespace trib::test
