#include "actors/node/node_stages.hpp"

#include <memory>
#include <utility>

#include "actors/control/stage_settings.hpp"
#include "actors/log.hpp"
#include "actors/node/placement.hpp"
#include "actors/node/stage_orders.hpp"
#include "actors/tuning.hpp"

namespace trib {

namespace {

/// The writers of the phase that runs, by the coordinator's index, with
/// their worker; and how many appliers each worker's writers serve so far.
struct placed_writers {
  std::vector<std::pair<size_t, redis_writer_actor>> by_index;
  std::vector<size_t> served;
};

/// Asks worker `w` (number n, from 0) to spawn a stage and waits for its
/// handle. The factories are called inside the coordinator's handlers and
/// must return a handle, so the answer is awaited here; a worker answers
/// from its own node at once.
template <class Handle, class... Ts>
Handle spawn_on(caf::local_actor* self, const worker_actor& w, size_t n, const std::string& what,
                Ts&&... xs) {
  caf::scoped_actor s{self->system()};
  Handle h;
  std::string failed = "no answer";
  s->request(w, tuning::node_spawn_timeout, std::forward<Ts>(xs)...)
    .receive([&](Handle& x) { h = std::move(x); },
             [&](caf::error& e) { failed = self->system().render(e); });
  if (!h)
    throw error(failure_code::connection, "worker " + std::to_string(n + 1) +
                                            " did not start " + what + ": " + failed);
  return h;
}

/// A writer of worker p for the next applier there (round-robin over its
/// writers); an invalid handle when p has none, and the worker makes one.
redis_writer_actor writer_on(placed_writers& pw, size_t p) {
  std::vector<redis_writer_actor> here;
  for (auto& [worker, h] : pw.by_index)
    if (worker == p && h) here.push_back(h);
  if (here.empty()) return {};
  if (pw.served.size() <= p) pw.served.resize(p + 1, 0);
  return here[pw.served[p]++ % here.size()];
}

}  // namespace

stage_placement plan_placement(const std::vector<worker_actor>& workers,
                               const std::vector<table_schema>& tables,
                               const std::vector<uint32_t>& stream_of_table, size_t streams) {
  stage_placement p;
  p.workers = workers;
  std::vector<uint64_t> rows;
  for (const auto& t : tables) rows.push_back(t.estimated_rows);
  p.table_worker = place_tables(rows, workers.size());
  // A stream goes where its tables' rows are: under EVENTUAL that is its
  // table's worker, so a table's snapshot and its changes share a node.
  std::vector<uint64_t> stream_rows(streams, 0);
  for (size_t t = 0; t < stream_of_table.size() && t < tables.size(); ++t)
    if (stream_of_table[t] < streams) stream_rows[stream_of_table[t]] += tables[t].estimated_rows;
  p.stream_worker = place_tables(stream_rows, workers.size());
  if (streams == tables.size() && stream_of_table.size() == tables.size()) {
    bool one_to_one = true;
    for (size_t t = 0; t < tables.size(); ++t) one_to_one = one_to_one && stream_of_table[t] == t;
    if (one_to_one) p.stream_worker = p.table_worker;
  }
  return p;
}

stage_factories place_on_workers(stage_factories local, stage_placement placement,
                                 const run_options& opts, const source_facts& facts,
                                 const exported_snapshot& exported, uint64_t max_entry_bytes,
                                 std::vector<change_applier_settings> streams) {
  auto where = std::make_shared<const stage_placement>(std::move(placement));
  auto writers = std::make_shared<placed_writers>();
  stage_factories f = local;
  auto worker_of = [where](const std::vector<size_t>& v, size_t i) {
    return i < v.size() ? v[i] % where->workers.size() : 0;
  };

  auto ws = to_order(writer_settings_for(opts));
  f.writer = [where, writers, ws](caf::local_actor* self, size_t index) {
    // Index 0 starts a phase's pool (the snapshot's, then realtime's).
    if (index == 0) *writers = placed_writers{};
    auto p = index % where->workers.size();
    auto h = spawn_on<redis_writer_actor>(self, where->workers[p], p, "a redis writer", ws);
    if (writers->by_index.size() <= index) writers->by_index.resize(index + 1);
    writers->by_index[index] = {p, h};
    return h;
  };

  auto as = applier_settings_for(opts, facts, nullptr, max_entry_bytes);
  f.applier = [where, writers, as, worker_of](caf::local_actor* self, uint32_t table,
                                              const table_schema& t, redis_writer_actor,
                                              coordinator_actor coordinator) {
    auto p = worker_of(where->table_worker, table);
    log::debug("places " + to_string(t.id) + " on worker " + std::to_string(p + 1));
    return spawn_on<table_applier_actor>(self, where->workers[p], p,
                                         "the applier of " + to_string(t.id),
                                         to_order(table, t, as), writer_on(*writers, p),
                                         std::move(coordinator));
  };

  if (!where->readers_here) {
    auto rs = reader_settings_for(opts, exported);
    auto filter = opts.filter;
    auto kind = facts.kind;
    auto threads = reader_threads(opts);
    f.reader = [where, rs, filter, kind, threads, worker_of](
                 caf::local_actor* self, uint32_t table, const table_schema& t,
                 const reader_job& job, table_applier_actor applier,
                 coordinator_actor coordinator) {
      auto p = worker_of(where->table_worker, table);
      auto s = reader_settings_for_job(rs, filter, kind, threads, t, job);
      return spawn_on<snapshot_reader_actor>(self, where->workers[p], p,
                                             "a snapshot reader of " + to_string(t.id),
                                             to_order(table, t, s), std::move(applier),
                                             std::move(coordinator));
    };
  }

  // The change appliers ask the supervisor, which stays here: its handle
  // is kept as the coordinator makes it.
  auto sup = std::make_shared<supervisor_actor>();
  if (local.changes.supervisor) {
    auto make_sup = local.changes.supervisor;
    f.changes.supervisor = [make_sup, sup](caf::local_actor* self) {
      *sup = make_sup(self);
      return *sup;
    };
  }
  if (local.changes.applier) {
    auto per_stream = std::make_shared<const std::vector<change_applier_settings>>(std::move(streams));
    f.changes.applier = [where, writers, per_stream, sup, worker_of](
                          caf::local_actor* self, uint32_t stream, redis_writer_actor) {
      auto p = worker_of(where->stream_worker, stream);
      const auto& s = per_stream->at(stream);
      return spawn_on<change_applier_actor>(self, where->workers[p], p,
                                            "the change applier of " + s.stream_name,
                                            to_order(s), writer_on(*writers, p), *sup);
    };
  }
  return f;
}

}  // namespace trib
