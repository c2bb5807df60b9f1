// run_replication: the one run driver of every mode and source (run() below),
// and the run summary it leaves in the data directory.

#include "actors/runtime.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include <boost/json.hpp>

#include "actors/actors.hpp"
#include "actors/apply/envelope.hpp"
#include "actors/apply/schema_dump.hpp"
#include "actors/control/batch_scheduling.hpp"
#include "actors/control/change_streams.hpp"
#include "actors/control/coordinator.hpp"
#include "actors/control/failure_decisions.hpp"
#include "actors/control/progress.hpp"
#include "actors/control/realtime_board.hpp"
#include "actors/control/redis_setup.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/control/run_lease.hpp"
#include "actors/control/run_setup.hpp"
#include "actors/control/run_source.hpp"
#include "actors/control/split_plan.hpp"
#include "actors/control/stop_signals.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/log.hpp"
#include "actors/node/node_join.hpp"
#include "actors/node/node_stages.hpp"
#include "actors/sink/checkpoint_hashes.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/heartbeat.hpp"
#include "actors/source/incremental_snapshots.hpp"
#include "actors/source/source_session.hpp"

namespace trib {

namespace {

// -- the run summary ----------------------------------------------------------

// data/<id>/summary-<UTC time>.json: what the run did, for operators and
// scripts (the exit code alone does not say which tables were skipped).
// Returns "" once written, else why not.
std::string write_run_summary(const run_options& opts, const run_summary& s,
                              std::chrono::system_clock::time_point started) {
  try {
    auto now = std::chrono::system_clock::now();
    auto to_utc = [](std::chrono::system_clock::time_point t, const char* fmt) {
      std::time_t tt = std::chrono::system_clock::to_time_t(t);
      std::tm tm{};
      gmtime_r(&tt, &tm);
      char buf[40];
      std::strftime(buf, sizeof buf, fmt, &tm);
      return std::string(buf);
    };
    boost::json::object o;
    o["id"] = opts.id;
    o["group"] = opts.group;
    o["mode"] = opts.mode == run_mode::snapshot ? "snapshot"
                : opts.mode == run_mode::full ? "full" : "realtime";
    o["started"] = to_utc(started, "%Y-%m-%dT%H:%M:%SZ");
    o["finished"] = to_utc(now, "%Y-%m-%dT%H:%M:%SZ");
    o["seconds"] = std::chrono::duration<double>(now - started).count();
    o["exit_code"] = s.exit_code;
    if (!s.error.empty()) o["error"] = s.error;
    if (s.stopped_by != 0) o["stopped_by"] = stop_signal_name(s.stopped_by);
    boost::json::array tables, skipped;
    uint64_t rows = 0;
    for (const auto& t : s.tables) {
      boost::json::object e;
      e["table"] = to_string(t.table);
      e["stream"] = t.stream;
      // A table the run did not finish has no count of this run's rows.
      if (t.finished) e["rows"] = t.rows_written;
      e["skipped"] = t.skipped;
      e["finished"] = t.finished;
      if (!t.finished || t.skipped) e["reason"] = t.reason;
      if (t.skipped) {
        skipped.push_back(boost::json::object{{"table", to_string(t.table)}, {"reason", t.reason}});
      }
      rows += t.rows_written;
      tables.push_back(std::move(e));
    }
    o["rows"] = rows;
    auto dir = std::filesystem::path{opts.data_dir} / opts.id;
    o["tables"] = std::move(tables);
    o["skipped"] = std::move(skipped);
    if (s.undone_entries > 0) o["undone_entries"] = s.undone_entries;
    if (s.in_doubt_entries > 0) {
      o["in_doubt_entries"] = s.in_doubt_entries;
      o["in_doubt_log"] = in_doubt_log_path(dir.string());
    }
    std::filesystem::create_directories(dir);
    auto path = dir / ("summary-" + to_utc(now, "%Y%m%dT%H%M%SZ") + ".json");
    errno = 0;
    std::ofstream out(path);
    out << boost::json::serialize(o) << "\n";
    // A full disk shows only when the buffered bytes are written out.
    out.close();
    if (!out)
      throw std::runtime_error(path.string() + ": " +
                               (errno != 0 ? std::strerror(errno) : "unknown reason"));
    log::info("wrote the run summary to " + path.string());
    return "";
  } catch (const std::exception& e) {
    std::string why = std::string("cannot write the run summary ") + e.what();
    log::warn(why);
    return why;
  }
}

// A run whose logs or summary were not all written is not clean: a
// successful one then exits 1, with the reason.
void fail_unless_recorded(run_summary& s, const std::string& why) {
  if (why.empty() || s.exit_code != 0) return;
  s.exit_code = 1;
  s.error = why;
}

// The summary of `snapshot`: each table's outcome in the log, and the exit
// code (stopped: 128 + signal, --resume continues; failed; skipped: 3).
run_summary sum_up_snapshot(run_summary& s, const snapshot_result& result,
                            const std::vector<table_result>& vanished,
                            const stop_signals& signals, const run_options& opts) {
  bool skipped = std::any_of(s.tables.begin(), s.tables.end(),
                             [](const table_result& t) { return t.skipped; }) ||
                 !vanished.empty();
  s.tables.insert(s.tables.end(), vanished.begin(), vanished.end());
  for (const auto& tr : s.tables) {
    if (tr.skipped)
      log::warn("skipped " + to_string(tr.table) + ": " + tr.reason);
    else if (!tr.finished)
      log::info("leaves " + to_string(tr.table) + " unfinished in " + tr.stream +
                "; --resume continues after its checkpoint");
    else
      log::info("wrote " + std::to_string(tr.rows_written) + " rows of " +
                to_string(tr.table) + " to " + tr.stream);
  }
  if (result.stopped) {
    s.stopped_by = signals.signal();
    s.exit_code = exit_code_for_stop(s.stopped_by);
    s.error = std::string("stopped by ") + stop_signal_name(s.stopped_by) +
              " before the snapshot finished; what was read before it is written: "
              "run again with --resume to continue";
  } else if (result.aborted) {
    s.exit_code = exit_code_for(result.reason.code);
    s.error = "the snapshot stopped: " + result.reason.what;
  } else {
    s.exit_code = skipped ? 3 : 0;
  }
  log::info("finishes snapshot of replication " + opts.id);
  return s;
}

const char* mode_name(run_mode m) {
  return m == run_mode::snapshot ? "snapshot" : m == run_mode::full ? "full" : "realtime";
}

// Ends the coordinator when the run leaves the actor system's scope by any
// path (the system waits for every actor), after the stop callback that
// would send to it is gone.
struct coordinator_guard {
  stop_signals& signals;
  caf::scoped_actor& self;
  coordinator_actor coord;
  ~coordinator_guard() {
    signals.on_stop(nullptr);
    self->send_exit(coord, caf::exit_reason::user_shutdown);
  }
};

// The one run driver of every mode and source: prepares the run without
// actors (the lease, the catalog, the state in Redis, the source's slot or
// position, the schema dump), then drives the coordinator through the
// snapshot phase and the realtime phase, and turns its answers into the run
// summary. SIGINT/SIGTERM become one stop message to the coordinator,
// whichever phase runs.
run_summary run(const run_options& opts, bool& logs_open) {
  run_summary s;
  const bool snapshot_only = opts.mode == run_mode::snapshot;
  const bool full = opts.mode == run_mode::full;
  std::unique_ptr<run_source> source;
  if (!snapshot_only)
    source = opts.source.kind == source_kind::postgresql ? make_pg_run_source(opts)
                                                         : make_binlog_run_source(opts);
  stop_signals signals;
  auto dir = (std::filesystem::path{opts.data_dir} / opts.id).string();
  run_context ctx{opts};
  ctx.ckpt = checkpoint_key(opts.group, opts.id);
  ctx.schema_stream = schema_stream_name(opts.group, opts.id);
  const auto& ckpt = ctx.ckpt;
  auto source_policy = retry_policy_for(opts.source);
  if (source) source->check_config();
  redis_setup redis{opts.target};
  auto lease = hold_replication(redis, opts, ckpt);
  if (opts.overwrite) {
    if (snapshot_only)
      redis.run("checking the replication's slot record",
                [&](redis_client& c) { refuse_snapshot_over_a_slot(c, opts, ckpt); return 0; });
    std::filesystem::remove_all(dir);
  }
  log::open_log_files(dir);
  logs_open = true;
  log::info("starts " + std::string(mode_name(opts.mode)) + " replication " + opts.id +
            " (group " + opts.group + ") from " + to_string(opts.source.kind) + " " +
            opts.source.host);
  if (source) source->check_server();

  // The heartbeat table is written, not replicated; so are the watermark
  // and signal tables of incremental snapshots.
  auto without_heartbeat = [&opts](std::vector<table_schema> t) {
    const auto& hb = opts.extractor.realtime.heartbeat;
    t.erase(std::remove_if(t.begin(), t.end(),
                           [&](const table_schema& x) {
                             return is_heartbeat(opts.source.kind, hb, x.id) ||
                                    is_incremental_table(opts.source, opts.extractor, x.id);
                           }),
            t.end());
    return t;
  };
  ctx.list_tables = [&opts, source_policy, without_heartbeat] {
    return without_heartbeat(with_retries(source_policy, "listing the source's tables", [&] {
      return open_source(opts.source)->list_tables(opts.filter, opts.extractor);
    }));
  };
  with_retries(source_policy, "listing the source's tables", [&] {
    auto catalog = open_source(opts.source);
    ctx.facts = catalog->facts();
    ctx.tables = without_heartbeat(catalog->list_tables(opts.filter, opts.extractor));
    return 0;
  });
  const auto& tables = ctx.tables;
  if (tables.empty())
    throw error(failure_code::config,
                "no tables to replicate: " + describe_filter(opts.filter) +
                  " matches no table the source user can read");
  stream_layout layout;
  if (source) {
    layout = layout_for(opts, tables);
    source->check_tables(ctx);
  }

  snapshot_plan plan;
  std::vector<table_result> vanished;
  uint64_t max_entry = default_max_bulk_bytes;
  redis.run("preparing the target", [&](redis_client& c) {
    // Each step can be repeated safely after a lost connection.
    check_write_access(c, opts.target,
                       snapshot_only ? snapshot_stream_name(tables.front().id, opts.map)
                                     : layout.names.front(),
                       ckpt);
    if (opts.overwrite) overwrite_state(c, opts, tables, ckpt);
    max_entry = max_bulk_bytes(c);
    if (snapshot_only) {
      plan.start = resume_positions(c, opts, tables, ckpt);
      vanished = vanished_tables(c, opts, tables, ckpt);
      return 0;
    }
    ctx.checkpoints = read_checkpoint_fields(c, ckpt);
    ctx.state_in_redis = !ctx.checkpoints.empty();
    source->take_state(ctx.checkpoints);
    return 0;
  });

  // full: the snapshot, unless an earlier run finished it. What it read
  // from ends with the run that took it, so one that did not finish cannot
  // be continued.
  if (full) {
    bool all_done = true;
    for (const auto& t : tables)
      all_done =
        all_done && snapshot_finished(ctx.checkpoints, snapshot_stream_name(t.id, opts.map));
    bool unfinished = opts.resume && !all_done && !ctx.checkpoints.empty();
    if (unfinished && !source->continues_snapshots())
      throw error(failure_code::source_state,
                  "the snapshot of full replication '" + opts.id + "' did not finish, and " +
                    source->snapshot_gone() + ": run with --overwrite to start over");
    // A source that continues it does so incrementally, while changes stream.
    if (unfinished)
      log::info("continues the snapshot of full replication " + opts.id +
                " incrementally while changes stream, where no earlier run finished it");
    ctx.snapshot_needed = !all_done && !unfinished;
  }
  if (source) source->prepare(ctx, redis);

  // A table with a split-key is read in key ranges; in `full` the ranges
  // are open-ended, so bounds from the current data serve the exported
  // snapshot as well. A source without exported snapshots splits a table
  // in `full` only where each range can take the changes over on its own
  // (splits_in_full), and reads the others whole.
  const bool snapshot_phase = snapshot_only || ctx.snapshot_needed;
  if (snapshot_phase) {
    plan.tables = tables;
    if (!snapshot_only)
      for (auto& t : plan.tables)
        if (!t.split_key.empty() && !splits_in_full(opts.source.kind, t)) {
          log::info("reads " + to_string(t.id) + " whole: its split-key " + t.split_key +
                    " is not a column of the key that identifies its rows, so its ranges "
                    "could not take the changes over exactly");
          t.split_key.clear();
        }
    plan_split_ranges(opts, ckpt, plan, redis);
  }

  // The schema of the replicated tables goes first, so that consumers can
  // read it before any row (design section 5). Written once: a lost reply
  // may leave a second copy, which consumers treat as the same dump.
  auto dump = schema_dump_json(tables, ctx.facts.kind);
  redis.run("writing the schema dump", [&](redis_client& c) {
    command_or_throw(c, {"XADD", ctx.schema_stream, "*", "key", "schema", "value", dump});
    if (source) source->record_start(c, ctx);
    return 0;
  });
  redis.close();
  // The change reader's thread appends dumps on a connection of its own.
  auto dump_redis = std::make_shared<redis_setup>(opts.target);
  ctx.dump_schema = [dump_redis, stream = ctx.schema_stream,
                     kind = ctx.facts.kind](const std::vector<table_schema>& t) {
    auto text = schema_dump_json(t, kind);
    dump_redis->run("appending a schema dump", [&](redis_client& c) {
      return command_or_throw(c, {"XADD", stream, "*", "key", "schema", "value", text});
    });
  };

  // A snapshot runs under the batch policy; realtime keeps the normal one.
  std::optional<batch_scheduling> bulk;
  if (snapshot_only) bulk.emplace();
  caf::actor_system_config cfg;
  configure_actor_system(cfg);
  if (opts.cluster.enabled()) configure_node(cfg, opts.cluster.tls);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::shared_ptr<progress_board> progress;
  if (snapshot_phase) progress = snapshot_progress_board();
  auto settings = settings_for(opts, tables.size());
  settings.progress = progress;
  auto exported =
    source && ctx.snapshot_needed ? source->snapshot_readers(plan) : exported_snapshot{};
  auto make = default_factories(opts, ctx.facts, progress, exported, max_entry);
  auto stopped = std::make_shared<stopped_tables>();
  if (source) {
    make.changes =
      change_path_factories(opts, tables, layout, ctx.checkpoints, ctx.facts, max_entry, stopped);
    make.changes.reader = [&source, &ctx](caf::local_actor* a, change_dispatcher_actor d) {
      return source->spawn_reader(a, std::move(d), ctx);
    };
  }
  // `tributary coordinator`: the table work goes to the workers once they
  // joined; the change reader stays here.
  std::unique_ptr<node_cluster> cluster;
  if (opts.cluster.enabled()) {
    cluster = std::make_unique<node_cluster>(sys, opts, current_write_fence(), signals);
    auto where = plan_placement(cluster->workers(), tables, layout.stream_of_table,
                                layout.names.size());
    where.readers_here = static_cast<bool>(exported.open);
    make = place_on_workers(
      std::move(make), std::move(where), opts, ctx.facts, exported, max_entry,
      source ? change_applier_settings_for(opts, tables, layout, ctx.checkpoints, ctx.facts,
                                           max_entry)
             : std::vector<change_applier_settings>{});
  }
  auto coord = sys.spawn(coordinator, plan, settings, std::move(make));
  coordinator_guard guard{signals, self, coord};
  // SIGINT/SIGTERM: in the snapshot the readers stop and the phase ends
  // once what they sent has committed; in realtime the change reader
  // drains.
  signals.on_stop([coord] { caf::anon_send(coord, stop_atom::value); });

  if (snapshot_phase) {
    snapshot_result result;
    std::string failed;
    bool answered = false;
    self->request(coord, caf::infinite, run_atom::value)
      .receive(
        [&](snapshot_result& r) {
          result = std::move(r);
          answered = true;
        },
        [&](caf::error& e) { failed = sys.render(e); });
    if (!answered)
      throw error(failure_code::internal, "the snapshot stopped unexpectedly: " + failed);
    bool skipped = false;
    s.tables = table_results(result, tables, opts.map, skipped);
    if (snapshot_only) return sum_up_snapshot(s, result, vanished, signals, opts);
    if (result.stopped) {
      s.stopped_by = signals.signal();
      s.exit_code = exit_code_for_stop(s.stopped_by);
      s.error = std::string("stopped by ") + stop_signal_name(s.stopped_by) +
                " before the snapshot of full replication '" + opts.id + "' finished; " +
                (source->continues_snapshots()
                   ? std::string("run it again with --resume to read the rest incrementally "
                                 "while changes stream")
                   : source->snapshot_gone() + ", so run it again with --overwrite");
      log::warn("stops full replication " + opts.id + " during the snapshot; nothing streamed");
      return s;
    }
    if (result.aborted)
      throw error(result.reason.code, "the snapshot stopped: " + result.reason.what);
    auto from = source->hand_over(ctx);
    if (skipped)
      log::warn("finishes the snapshot with skipped tables; their changes are streamed anyway");
    log::info("finishes the snapshot; streams from " + from);
    if (opts.terminate_post_snapshot) {
      log::info("stops after the snapshot (--terminate-post-snapshot); 'full --resume' streams "
                "from " + from);
      s.exit_code = skipped ? 3 : 0;
      return s;
    }
  }

  std::string failed;
  uint64_t released = 0;
  install_realtime_board(make_realtime_board());
  self->request(coord, caf::infinite, stream_atom::value)
    .receive([&](uint64_t r) { released = r; }, [&](caf::error& e) { failed = sys.render(e); });
  install_realtime_board(nullptr);
  if (!failed.empty()) {
    s.exit_code = 1;
    s.error = "realtime replication stopped: " + failed;
    // Entries left in doubt before the run stopped are in the summary too.
    std::lock_guard<std::mutex> g{stopped->supervision.lock};
    s.undone_entries = stopped->supervision.undone;
    s.in_doubt_entries = stopped->supervision.in_doubt;
    return s;
  }
  sum_up_change_path(s, *stopped, tables, layout);
  log::info("finishes " + std::string(mode_name(opts.mode)) + " replication " + opts.id +
            source->describe_end(released));
  return s;
}

}  // namespace

int exit_code_for(failure_code c) {
  return c == failure_code::config || c == failure_code::state_exists ? 2 : 1;
}

run_summary run_replication(const run_options& opts) {
  run_summary s;
  bool logs_open = false;
  auto started = std::chrono::system_clock::now();
  // A run that got as far as its data directory leaves a summary.
  auto summarize = [&](run_summary& r) {
    if (!logs_open) return;
    fail_unless_recorded(r, log::write_failure());
    fail_unless_recorded(r, write_run_summary(opts, r, started));
  };
  try {
    auto r = run(opts, logs_open);
    summarize(r);
    // Said once the summary is written: a log or summary that could not
    // be written turns an exit code of 0 into 1.
    if (logs_open) log::info("exits with code " + std::to_string(r.exit_code));
    return r;
  } catch (const error& e) {
    s.exit_code = exit_code_for(e.code());
    s.error = e.what();
  } catch (const std::exception& e) {
    s.exit_code = 1;
    s.error = std::string{"unexpected failure: "} + e.what();
  } catch (...) {
    s.exit_code = 1;
    s.error = "unexpected failure";
  }
  // Failures before the log files exist are only the caller's to print;
  // later ones also belong in error.log.
  if (logs_open) log::error("stops: " + s.error);
  summarize(s);
  return s;
}

}  // namespace trib
