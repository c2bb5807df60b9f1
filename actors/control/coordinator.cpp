#include "actors/control/coordinator.hpp"

#include <algorithm>
#include <cstdio>

#include "actors/apply/envelope.hpp"
#include "actors/control/failure_decisions.hpp"
#include "actors/control/stage_settings.hpp"
#include "actors/apply/table_applier.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/sink/redis_writer.hpp"
#include "actors/source/snapshot_reader.hpp"
#include "actors/tuning.hpp"

namespace trib {

std::vector<table_result> table_results(const snapshot_result& result,
                                        const std::vector<table_schema>& tables,
                                        const map_config& map, bool& skipped) {
  std::vector<table_result> out;
  skipped = false;
  for (size_t i = 0; i < result.tables.size() && i < tables.size(); ++i) {
    const auto& d = result.tables[i];
    table_result tr;
    tr.table = tables[i].id;
    tr.stream = snapshot_stream_name(tables[i].id, map);
    tr.rows_written = d.rows_written;
    tr.skipped = d.skipped;
    if (d.skipped) tr.reason = std::string{to_string(d.reason.code)} + ": " + d.reason.what;
    // A stopped run marks the tables it did not finish (finish_if_stopped).
    if (result.stopped && !d.skipped && !d.reason.what.empty()) {
      tr.finished = false;
      tr.reason = d.reason.what;
    }
    skipped = skipped || d.skipped;
    out.push_back(std::move(tr));
  }
  return out;
}

coordinator_settings settings_for(const run_options& opts, size_t tables) {
  coordinator_settings s;
  s.reader_threads = static_cast<size_t>(std::max(opts.extractor.snapshot.threads, 1));
  size_t writers = std::min<size_t>(
    {static_cast<size_t>(std::max(opts.target.max_connections, 1)),
     static_cast<size_t>(std::max(opts.applier.snapshot.threads, 1)), tables});
  s.writers = std::max<size_t>(writers, 1);
  s.skip_tables_on_failures = opts.applier.snapshot.skip_tables_on_failures;
  s.rules.policy = retry_policy_for(opts.target);
  return s;
}

redis_writer_settings writer_settings_for(const run_options& opts) {
  redis_writer_settings ws;
  ws.trim = opts.applier.trim;
  ws.max_consumer_lag = opts.applier.max_consumer_lag;
  return ws;
}

table_applier_settings applier_settings_for(const run_options& opts, const source_facts& facts,
                                            std::shared_ptr<progress_board> progress,
                                            uint64_t max_entry_bytes) {
  table_applier_settings as;
  as.applier = opts.applier;
  as.map = opts.map;
  as.group = opts.group;
  as.id = opts.id;
  as.facts = facts;
  // Write size and writes in flight: the defaults of tuning.hpp.
  as.max_entry_bytes = max_entry_bytes;
  as.progress = std::move(progress);
  return as;
}

size_t reader_threads(const run_options& opts) {
  return static_cast<size_t>(std::max(opts.extractor.snapshot.threads, 1));
}

snapshot_reader_settings reader_settings_for(const run_options& opts,
                                             const exported_snapshot& exported) {
  snapshot_reader_settings rs;
  rs.source = opts.source;
  rs.fetch_size_rows = static_cast<size_t>(std::max(opts.extractor.snapshot.fetch_size_rows, 1));
  rs.batch_size_rows = static_cast<size_t>(std::max(opts.applier.snapshot.batch_size_rows, 1));
  // The rows in flight of all tables read at once share one budget, so
  // memory stays flat however many tables run in parallel.
  rs.max_in_flight_bytes = std::max(tuning::snapshot_min_reader_window_bytes,
                                     tuning::snapshot_memory_budget_bytes / reader_threads(opts));
  rs.max_batch_bytes = std::max(tuning::snapshot_min_batch_bytes, rs.max_in_flight_bytes / 4);
  rs.exported_snapshot = exported.name;
  rs.exported_at = exported.at;
  rs.one_snapshot = exported.one_snapshot;
  if (exported.open) rs.open = exported.open;
  return rs;
}

snapshot_reader_settings reader_settings_for_job(const snapshot_reader_settings& shared,
                                                 const filter_config& filter, source_kind kind,
                                                 size_t threads, const table_schema& t,
                                                 const reader_job& job) {
  auto s = shared;
  s.conditions = filter_conditions(filter, t.id);
  if (job.range > 0) {
    // The first range also takes the rows whose split-key is NULL.
    auto range = split_range_condition(kind, t.split_key, job.lo, job.hi, job.range == 1);
    if (!range.empty())
      s.conditions = s.conditions.empty() ? range
                                          : "(" + s.conditions + ") AND (" + range + ")";
  }
  if (job.ranges > 1) {
    // The ranges of a table read at once feed its one applier: together
    // they hold what one reader would, not that many times over.
    auto at_once = std::min<size_t>(job.ranges, threads);
    s.max_in_flight_bytes =
      std::max(tuning::snapshot_min_range_window_bytes, shared.max_in_flight_bytes / at_once);
    s.max_batch_bytes = s.max_in_flight_bytes / 4;
  }
  s.start = job.start;
  s.range = job.range;
  s.ranges = job.ranges;
  return s;
}

stage_factories default_factories(const run_options& opts,
                                  const source_facts& facts,
                                  std::shared_ptr<progress_board> progress,
                                  exported_snapshot exported, uint64_t max_entry_bytes) {
  stage_factories f;
  auto target = opts.target;
  auto ws = writer_settings_for(opts);
  f.writer = [target, ws](caf::local_actor* self, size_t) {
    return self->spawn<caf::detached>(redis_writer, target, ws);
  };
  auto as = applier_settings_for(opts, facts, std::move(progress), max_entry_bytes);
  f.applier = [as](caf::local_actor* self, uint32_t table, const table_schema& t,
                   redis_writer_actor writer, coordinator_actor coordinator) {
    return self->spawn(table_applier, table, t, as, std::move(writer),
                       std::move(coordinator));
  };
  auto rs = reader_settings_for(opts, exported);
  auto filter = opts.filter;
  auto kind = facts.kind;
  auto threads = reader_threads(opts);
  f.reader = [rs, filter, kind, threads](caf::local_actor* self, uint32_t table,
                                         const table_schema& t, const reader_job& job,
                                         table_applier_actor applier,
                                         coordinator_actor coordinator) {
    auto s = reader_settings_for_job(rs, filter, kind, threads, t, job);
    return self->spawn<caf::detached>(snapshot_reader, table, t, std::move(s),
                                      std::move(applier), std::move(coordinator));
  };
  return f;
}

namespace {

using coordinator_ptr = coordinator_actor::stateful_pointer<coordinator_state>;

coordinator_actor handle_of(coordinator_ptr self) {
  return caf::actor_cast<coordinator_actor>(self);
}

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", s);
  return buf;
}

std::string range_text(const reader_job& job) {
  if (job.range == 0) return "";
  return " range " + std::to_string(job.range) + " (" +
         (job.lo ? std::to_string(*job.lo) : std::string("-inf")) + " to " +
         (job.hi ? std::to_string(*job.hi) : std::string("+inf")) + ")";
}

// Starts readers until reader_threads run or no job is left.
void start_readers(coordinator_ptr self) {
  auto& st = self->state;
  if (st.stopping) return;
  while (st.active_readers < st.settings.reader_threads && !st.jobs.empty()) {
    auto job = std::move(st.jobs.front());
    st.jobs.pop_front();
    auto i = job.table;
    if (st.done[i]) continue;
    const auto& t = st.plan.tables[i];
    if (!st.reading[i]) {
      st.reading[i] = true;
      st.started[i] = std::chrono::steady_clock::now();
      log::info("starts snapshot of " + to_string(t.id) + " (" +
                std::to_string(t.estimated_rows) + " rows estimated" +
                (job.ranges > 1 ? ", " + std::to_string(job.ranges) + " ranges of " +
                                    t.split_key + " read in parallel"
                                : std::string()) +
                ")");
      if (st.settings.progress) st.settings.progress->start(to_string(t.id), t.estimated_rows);
    }
    if (job.range > 0) log::debug("starts reading " + to_string(t.id) + range_text(job));
    auto h = st.make.reader(self, i, t, job, st.appliers[i], handle_of(self));
    self->monitor(h);
    st.readers.push_back({i, std::move(h), true});
    ++st.active_readers;
  }
}

// Gives back the slot of a reader.
void release(coordinator_state& st, coordinator_state::running_reader& r) {
  if (!r.active) return;
  r.active = false;
  --st.active_readers;
}

void finish(coordinator_ptr self);

// Ends a stopped run once no reader runs any more: what they sent has
// committed, so every checkpoint is where --resume continues.
void finish_if_stopped(coordinator_ptr self) {
  auto& st = self->state;
  if (!st.stopping || st.finished || st.active_readers > 0) return;
  for (size_t j = 0; j < st.done.size(); ++j)
    if (!st.done[j])
      st.results[j] = table_done{static_cast<uint32_t>(j), 0, false,
                                 failure{failure_code::internal,
                                         "not finished: the run was stopped"}};
  finish(self);
}

// Answers the run and stops every stage.
void finish(coordinator_ptr self) {
  auto& st = self->state;
  if (st.finished) return;
  st.finished = true;
  snapshot_result r;
  r.tables = st.results;
  r.aborted = st.aborted;
  r.reason = st.abort_reason;
  r.stopped = st.stopping && st.remaining > 0;
  st.promise.deliver(std::move(r));
  for (auto& rr : st.readers) self->send_exit(rr.handle, caf::exit_reason::user_shutdown);
  for (auto& h : st.appliers) self->send_exit(h, caf::exit_reason::user_shutdown);
  for (auto& h : st.writers) self->send_exit(h, caf::exit_reason::user_shutdown);
}

// Ends the realtime phase's stages (the reader has answered).
void stop_change_path(coordinator_ptr self) {
  auto& st = self->state;
  st.streaming = false;
  self->send_exit(st.dispatcher, caf::exit_reason::user_shutdown);
  for (auto& a : st.change_appliers) self->send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& w : st.change_writers) self->send_exit(w, caf::exit_reason::user_shutdown);
  if (st.supervisor) self->send_exit(st.supervisor, caf::exit_reason::user_shutdown);
  st.change_appliers.clear();
  st.change_writers.clear();
}

void on_table_done(coordinator_ptr self, const table_done& d) {
  auto& st = self->state;
  if (st.finished || d.table >= st.done.size() || st.done[d.table]) return;
  // A write the stop kept from waiting for memory: the table is not
  // finished (finish_if_stopped says so), not failed.
  if (d.skipped && d.reason.code == failure_code::stopped) return;
  auto i = d.table;
  const auto& t = st.plan.tables[i];
  st.done[i] = true;
  st.results[i] = d;
  --st.remaining;
  for (auto& r : st.readers)
    if (r.table == i) release(st, r);
  if (d.skipped) {
    log::warn("skips table " + to_string(t.id) + " (" + to_string(d.reason.code) +
              "): " + d.reason.what);
    metrics::add_table_skipped(to_string(t.id));
    if (st.settings.progress) st.settings.progress->drop(to_string(t.id));
    // Its readers may still be reading; nothing they send matters now.
    for (auto& r : st.readers)
      if (r.table == i) self->send_exit(r.handle, caf::exit_reason::user_shutdown);
    // The writer spent the retries already: what is left is the supervisor's
    // rule for a table out of retries (skip it, or stop the run).
    failure_case fc;
    fc.code = d.reason.code;
    fc.failures = std::max(st.settings.rules.policy.max_retries, 0) + 1;
    failure_rules rules = st.settings.rules;
    rules.skip_tables_on_failures = st.settings.skip_tables_on_failures;
    if (decide(fc, rules).action == failure_action::stop_run) {
      st.aborted = true;
      st.abort_reason = d.reason;
      for (size_t j = 0; j < st.done.size(); ++j) {
        if (st.done[j]) continue;
        st.done[j] = true;
        st.results[j] = table_done{
          static_cast<uint32_t>(j), 0, true,
          failure{failure_code::internal,
                  "not finished: the run stopped when " + to_string(t.id) +
                    " failed" + (d.reason.code == failure_code::target_lost
                                    ? std::string()
                                    : " (skip-tables-on-failures is false)")}};
      }
      st.remaining = 0;
      finish(self);
      return;
    }
  } else {
    double secs = 0;
    if (st.reading[i])
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           st.started[i])
               .count();
    if (st.settings.progress && st.reading[i]) {
      st.settings.progress->advance(to_string(t.id), d.rows_written);
      st.settings.progress->finish(to_string(t.id));
    }
    double rate = secs > 0 ? d.rows_written / secs : 0;
    log::info("finishes snapshot of " + to_string(t.id) + ": " +
              std::to_string(d.rows_written) + " rows in " + format_seconds(secs) +
              " s (" + std::to_string(static_cast<uint64_t>(rate)) + " rows/s)");
  }
  start_readers(self);
  if (st.remaining == 0) finish(self);
  finish_if_stopped(self);
}

}  // namespace

coordinator_actor::behavior_type
coordinator(coordinator_actor::stateful_pointer<coordinator_state> self,
            snapshot_plan plan, coordinator_settings settings,
            stage_factories make) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.settings = settings;
  st.settings.reader_threads = std::max<size_t>(st.settings.reader_threads, 1);
  st.settings.writers = std::max<size_t>(st.settings.writers, 1);
  st.make = std::move(make);
  // A stage that dies without reporting (an exception escaped it) would
  // leave its table unfinished forever: count the table as skipped.
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    // The snapshot's stages end after its answer: nothing to do then.
    if (st.finished) return;
    // A reader that stopped gives its slot to the next (a range reader
    // stops when its range is written, before its table is done).
    bool freed = false;
    for (auto& r : st.readers)
      if (r.active && r.handle.address() == dm.source) {
        release(st, r);
        freed = true;
      }
    bool clean = !dm.reason || dm.reason == caf::exit_reason::normal ||
                 dm.reason == caf::exit_reason::user_shutdown;
    if (clean) {
      if (freed && st.running && st.remaining > 0) start_readers(self);
      if (freed) finish_if_stopped(self);
      return;
    }
    for (size_t i = 0; i < st.done.size(); ++i) {
      bool mine = i < st.appliers.size() && st.appliers[i].address() == dm.source;
      for (const auto& r : st.readers)
        mine = mine || (r.table == i && r.handle.address() == dm.source);
      if (!mine || st.done[i]) continue;
      on_table_done(self, table_done{static_cast<uint32_t>(i), 0, true,
                                     failure{failure_code::internal,
                                             "a stage of the table stopped: " +
                                               self->system().render(dm.reason)}});
      return;
    }
  });
  return {
    [=](run_atom) -> caf::result<snapshot_result> {
      auto& st = self->state;
      if (st.running)
        return to_caf_error(failure{failure_code::internal, "the run has started already"});
      st.running = true;
      st.promise = self->make_response_promise<snapshot_result>();
      auto promise = st.promise;
      auto n = st.plan.tables.size();
      st.done.assign(n, false);
      st.reading.assign(n, false);
      st.results.resize(n);
      st.started.resize(n);
      st.remaining = n;
      for (size_t i = 0; i < n; ++i) st.results[i].table = static_cast<uint32_t>(i);
      if (n == 0) {
        finish(self);
        return promise;
      }
      auto writers = std::min(st.settings.writers, n);
      for (size_t w = 0; w < writers; ++w) st.writers.push_back(st.make.writer(self, w));
      for (size_t i = 0; i < n; ++i) {
        auto h = st.make.applier(self, static_cast<uint32_t>(i), st.plan.tables[i],
                                 st.writers[i % writers], handle_of(self));
        self->monitor(h);
        st.appliers.push_back(std::move(h));
      }
      // Tables a resumed run finished already need no reader; a split
      // table needs one per range not finished.
      for (size_t i = 0; i < n; ++i) {
        auto idx = static_cast<uint32_t>(i);
        bool finished = i < st.plan.start.size() && st.plan.start[i].done;
        if (!finished && i < st.plan.ranges.size() && !st.plan.ranges[i].empty()) {
          const auto& ranges = st.plan.ranges[i];
          std::vector<reader_job> jobs;
          for (size_t r = 0; r < ranges.size(); ++r) {
            if (ranges[r].start.done) continue;
            reader_job job;
            job.table = idx;
            job.start = ranges[r].start;
            job.range = static_cast<uint32_t>(r + 1);
            job.lo = ranges[r].lo;
            job.hi = ranges[r].hi;
            jobs.push_back(std::move(job));
          }
          for (auto& job : jobs) {
            job.ranges = static_cast<uint32_t>(jobs.size());
            st.jobs.push_back(std::move(job));
          }
          finished = jobs.empty();
        } else if (!finished) {
          reader_job job;
          job.table = idx;
          if (i < st.plan.start.size()) job.start = st.plan.start[i];
          st.jobs.push_back(std::move(job));
        }
        if (finished) {
          log::info("finds snapshot of " + to_string(st.plan.tables[i].id) +
                    " complete in its checkpoint; skips reading it");
          st.done[i] = true;
          st.results[i] = table_done{static_cast<uint32_t>(i), 0, false, {}};
          --st.remaining;
        }
      }
      start_readers(self);
      if (st.remaining == 0) finish(self);
      finish_if_stopped(self);
      return promise;
    },
    [=](stream_atom) -> caf::result<uint64_t> {
      auto& st = self->state;
      auto& m = st.make.changes;
      if (st.streaming || !m.reader || !m.applier || !m.dispatcher)
        return to_caf_error(failure{failure_code::internal,
                                    st.streaming ? "the realtime phase has started already"
                                                 : "the run has no change reader"});
      st.streaming = true;
      auto writers = std::max<size_t>(m.writers, 1);
      if (m.supervisor) st.supervisor = m.supervisor(self);
      for (size_t w = 0; w < writers; ++w) st.change_writers.push_back(st.make.writer(self, w));
      for (size_t i = 0; i < m.streams; ++i)
        st.change_appliers.push_back(
          m.applier(self, static_cast<uint32_t>(i), st.change_writers[i % writers]));
      st.dispatcher = m.dispatcher(self, st.change_appliers);
      st.change_reader = m.reader(self, st.dispatcher);
      auto promise = self->make_response_promise<uint64_t>();
      self->request(st.change_reader, caf::infinite, run_atom::value)
        .then(
          [=](uint64_t released) mutable {
            stop_change_path(self);
            promise.deliver(released);
          },
          [=](caf::error& e) mutable {
            stop_change_path(self);
            promise.deliver(std::move(e));
          });
      // A stop that came before (during the snapshot, or between the
      // phases) lets the reader start and drain at once.
      if (st.stop_requested) self->send(st.change_reader, stop_atom::value);
      return promise;
    },
    [=](table_done& d) { on_table_done(self, d); },
    [=](stop_atom) {
      auto& st = self->state;
      if (st.stop_requested) return;
      st.stop_requested = true;
      if (st.streaming) {
        log::info("stops realtime replication on request: the change reader drains");
        self->send(st.change_reader, stop_atom::value);
        return;
      }
      if (st.stopping || st.finished) return;
      st.stopping = true;
      st.jobs.clear();
      size_t readers = 0;
      for (auto& r : st.readers)
        if (r.active) {
          self->send(r.handle, stop_atom::value);
          ++readers;
        }
      // A writer paused for Redis memory would hold the readers' batches
      // until memory is freed; told of the stop, it answers them unwritten.
      for (auto& h : st.writers) self->send(h, stop_atom::value);
      log::info("stops the snapshot on request: " + std::to_string(readers) +
                " readers let the batches they sent commit; " +
                std::to_string(st.remaining) + " tables are not finished yet");
      // Before run_atom there is nothing to wait for; run_atom answers at once.
      if (st.running) finish_if_stopped(self);
    },
  };
}

}  // namespace trib
