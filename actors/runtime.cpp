// run_replication: prepares a run without actors (state checks, the catalog,
// resume positions, the schema dump), then lets the coordinator run the
// snapshot on an actor system and turns its answer into the run summary.

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
#include "actors/control/coordinator.hpp"
#include "actors/control/failure_decisions.hpp"
#include "actors/control/realtime.hpp"
#include "actors/control/redis_setup.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/control/run_lease.hpp"
#include "actors/control/slot_ownership.hpp"
#include "actors/control/split_plan.hpp"
#include "actors/control/stop_signals.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/snapshot_reader.hpp"
#include "actors/source/source_session.hpp"

namespace trib {

namespace {

// Refuses to start over existing state without --resume or --overwrite.
void check_state(redis_client& c, const run_options& opts, const std::string& ckpt) {
  if (opts.resume || opts.overwrite) return;
  auto r = command_or_throw(c, {"EXISTS", ckpt});
  if (r.integer > 0)
    throw error(failure_code::state_exists,
                "replication '" + opts.id + "' (group '" + opts.group +
                  "') has state in Redis (" + ckpt +
                  "): run with --resume to continue it or --overwrite to "
                  "delete it and start over");
}

// `snapshot --overwrite` of a replication that `full` or `realtime` runs
// (its checkpoint records the slot it created): the streams would be
// rewritten from a new snapshot while the slot stays where it is, so a
// later `realtime --resume` would stream changes that do not follow that
// snapshot (some twice, or some never), and the deleted record would no
// longer prove the slot Tributary's own. Refused; `full --overwrite`
// starts such a replication over with a fresh slot.
void refuse_snapshot_over_a_slot(redis_client& c, const run_options& opts,
                                 const std::string& ckpt) {
  auto r = command_or_throw(c, {"HGET", ckpt, slot_record_field});
  if (r.type != redis_reply::kind::string) return;
  auto rec = decode_slot_record(r.str);
  throw error(failure_code::state_exists,
              "replication '" + opts.id + "' (group '" + opts.group +
                "') streams changes from replication slot '" + (rec ? rec->slot : r.str) +
                "' (recorded in " + ckpt + " as " + slot_record_field +
                "): 'snapshot --overwrite' would rewrite its streams without that slot, whose "
                "changes would then no longer follow them. Run 'full --overwrite' to start it "
                "over with a fresh slot, or use another --id");
}

// "catalog.schema" entries of a filter, for the message when nothing matches.
std::string describe_filter(const filter_config& f) {
  if (!f.given()) return "no filter (every table the user can read)";
  std::string out = "the filter (";
  for (size_t i = 0; i < f.allow.size(); ++i) {
    const auto& c = f.allow[i];
    if (i > 0) out += ", ";
    std::string where = c.catalog;
    if (!c.schema.empty()) where += (where.empty() ? "" : ".") + c.schema;
    out += where.empty() ? "any catalog" : where;
    if (!c.tables.empty()) {
      out += " tables";
      for (const auto& [name, tf] : c.tables) out += " " + name;
    }
  }
  return out + ")";
}


// --overwrite: deletes this id's checkpoint, schema stream and target
// streams, so the run starts from nothing.
void overwrite(redis_client& c, const run_options& opts,
               const std::vector<table_schema>& tables, const std::string& ckpt) {
  std::vector<std::string> argv{"DEL", ckpt, schema_stream_name(opts.group, opts.id)};
  for (const auto& t : tables) argv.push_back(snapshot_stream_name(t.id, opts.map));
  auto r = command_or_throw(c, argv);
  log::info("overwrites replication " + opts.id + ": deleted " +
            std::to_string(r.integer) + " keys");
}

// --resume: where each table's snapshot stands according to its checkpoint.
std::vector<snapshot_position> resume_positions(redis_client& c,
                                                const run_options& opts,
                                                const std::vector<table_schema>& tables,
                                                const std::string& ckpt) {
  std::vector<snapshot_position> start(tables.size());
  if (!opts.resume) return start;
  for (size_t i = 0; i < tables.size(); ++i) {
    auto stream = snapshot_stream_name(tables[i].id, opts.map);
    auto r = command_or_throw(c, {"HGET", ckpt, stream});
    if (r.type != redis_reply::kind::string) continue;
    auto p = decode_snapshot_checkpoint(r.str);
    if (!p.done && p.rows_done > 0 && order_columns(tables[i]).empty()) {
      // Without key columns there is no "after this row": the stream's rows
      // are deleted with the checkpoint, and the table is read again whole,
      // so nothing appears twice.
      log::warn("restarts " + to_string(tables[i].id) +
                " from the beginning: a table without key columns cannot "
                "resume in the middle");
      command_or_throw(c, {"DEL", stream});
      command_or_throw(c, {"HDEL", ckpt, stream});
      continue;
    }
    start[i] = std::move(p);
  }
  return start;
}

// --resume: the tables of the previous run (its newest schema dump) whose
// snapshot is unfinished but which the source no longer lists (dropped, or
// no longer allowed by the filter). Their streams hold part of a table that
// this run cannot finish: each becomes a skipped table of the summary.
std::vector<table_result> vanished_tables(redis_client& c, const run_options& opts,
                                          const std::vector<table_schema>& tables,
                                          const std::string& ckpt) {
  std::vector<table_result> out;
  if (!opts.resume) return out;
  auto last = command_or_throw(
    c, {"XREVRANGE", schema_stream_name(opts.group, opts.id), "+", "-", "COUNT", "1"});
  if (last.type != redis_reply::kind::array || last.elements.empty()) return out;
  const auto& fields = last.elements[0].elements.at(1).elements;
  std::vector<table_schema> before;
  try {
    for (size_t i = 0; i + 1 < fields.size(); i += 2)
      if (fields[i].str == "value") before = parse_schema_dump(fields[i + 1].str);
  } catch (const std::exception& e) {
    log::warn("cannot read the schema dump of replication " + opts.id +
              ", so tables dropped since its last run are not checked: " + e.what());
    return out;
  }
  std::map<std::string, std::string> checkpoint;
  auto all = command_or_throw(c, {"HGETALL", ckpt});
  for (size_t i = 0; i + 1 < all.elements.size(); i += 2)
    checkpoint[all.elements[i].str] = all.elements[i + 1].str;
  for (const auto& t : before) {
    bool listed = std::any_of(tables.begin(), tables.end(),
                              [&](const table_schema& now) { return now.id == t.id; });
    auto stream = snapshot_stream_name(t.id, opts.map);
    bool started = checkpoint.count(stream) > 0 || checkpoint.count(stream + "#ranges") > 0;
    if (listed || !started || snapshot_finished(checkpoint, stream)) continue;
    table_result tr;
    tr.table = t.id;
    tr.stream = stream;
    tr.skipped = true;
    tr.reason = std::string(to_string(failure_code::source_state)) +
                ": the source no longer has this table (dropped, or no longer allowed by "
                "the filter), so its snapshot cannot finish; " + stream + " holds " +
                std::to_string(command_or_throw(c, {"XLEN", stream}).integer) +
                " entries of it";
    out.push_back(std::move(tr));
  }
  return out;
}

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

int exit_code_for(failure_code c) {
  return c == failure_code::config || c == failure_code::state_exists ? 2 : 1;
}

run_summary run(const run_options& opts, bool& logs_open) {
  run_summary s;
  if (opts.mode != run_mode::snapshot) return run_realtime(opts, logs_open);
  stop_signals signals;
  auto dir = (std::filesystem::path{opts.data_dir} / opts.id).string();
  auto ckpt = checkpoint_key(opts.group, opts.id);
  redis_setup redis{opts.target};
  auto lease = hold_replication(redis, opts, ckpt);
  if (opts.overwrite) {
    redis.run("checking the replication's slot record",
              [&](redis_client& c) { refuse_snapshot_over_a_slot(c, opts, ckpt); return 0; });
    std::filesystem::remove_all(dir);
  }
  log::open_log_files(dir);
  logs_open = true;
  log::info("starts snapshot of replication " + opts.id + " (group " + opts.group +
            ") from " + to_string(opts.source.kind) + " " + opts.source.host);

  std::vector<table_schema> tables;
  source_facts facts;
  with_retries(retry_policy_for(opts.source), "listing the source's tables", [&] {
    auto catalog = open_source(opts.source);
    facts = catalog->facts();
    tables = catalog->list_tables(opts.filter, opts.extractor);
    return 0;
  });
  if (tables.empty())
    throw error(failure_code::config,
                "no tables to replicate: " + describe_filter(opts.filter) +
                  " matches no table the source user can read");
  snapshot_plan plan;
  std::vector<table_result> vanished;
  uint64_t max_entry = default_max_bulk_bytes;
  redis.run("preparing the target", [&](redis_client& c) {
    // Each step can be repeated safely after a lost connection.
    check_write_access(c, opts.target, snapshot_stream_name(tables.front().id, opts.map), ckpt);
    if (opts.overwrite) overwrite(c, opts, tables, ckpt);
    plan.start = resume_positions(c, opts, tables, ckpt);
    vanished = vanished_tables(c, opts, tables, ckpt);
    max_entry = max_bulk_bytes(c);
    return 0;
  });
  plan.tables = tables;
  plan_split_ranges(opts, ckpt, plan, redis);
  // The schema of the replicated tables goes first, so that consumers can
  // read it before any row (design section 5). Written once: a lost reply
  // may leave a second copy, which consumers treat as the same dump.
  auto dump = schema_dump_json(tables, facts.kind);
  redis.run("writing the schema dump", [&](redis_client& c) {
    command_or_throw(c, {"XADD", schema_stream_name(opts.group, opts.id), "*", "key",
             "schema", "value", dump});
    return 0;
  });
  redis.close();

  batch_scheduling bulk;
  caf::actor_system_config cfg;
  configure_actor_system(cfg);
  snapshot_result result;
  bool answered = false;
  std::string failed;
  {
    caf::actor_system sys{cfg};
    auto progress = snapshot_progress_board();
    auto settings = settings_for(opts, tables.size());
    settings.progress = progress;
    auto coord = sys.spawn(coordinator, plan, settings,
                           default_factories(opts, facts, progress, {}, max_entry));
    caf::scoped_actor self{sys};
    // SIGINT/SIGTERM become a stop message: the readers stop, and the run
    // ends once what they sent has committed.
    signals.on_stop([coord] { caf::anon_send(coord, stop_atom::value); });
    self->request(coord, caf::infinite, run_atom::value)
      .receive(
        [&](snapshot_result& r) {
          result = std::move(r);
          answered = true;
        },
        [&](caf::error& e) { failed = sys.render(e); });
    signals.on_stop(nullptr);
    // Leaving the scope waits for every actor, detached ones included.
  }
  if (!answered) {
    s.exit_code = 1;
    s.error = "the snapshot stopped unexpectedly: " + failed;
    return s;
  }
  bool skipped = false;
  s.tables = table_results(result, tables, opts.map, skipped);
  skipped = skipped || !vanished.empty();
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

}  // namespace

std::unique_ptr<run_lease> hold_replication(redis_setup& redis, const run_options& opts,
                                            const std::string& ckpt) {
  // The first check comes before the lease: a run refused for existing
  // state is told so even when another run holds the lease.
  redis.run("checking the replication's state",
            [&](redis_client& c) { check_state(c, opts, ckpt); return 0; });
  auto lease = std::make_unique<run_lease>(opts.target, opts.group, opts.id);
  redis.run("checking the replication's state",
            [&](redis_client& c) { check_state(c, opts, ckpt); return 0; });
  return lease;
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
