// run_replication: prepares a run without actors (state checks, the catalog,
// resume positions, the schema dump), then lets the coordinator run the
// snapshot on an actor system and turns its answer into the run summary.

#include "actors/runtime.hpp"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "actors/actors.hpp"
#include "actors/apply/envelope.hpp"
#include "actors/apply/schema_dump.hpp"
#include "actors/control/coordinator.hpp"
#include "actors/control/realtime.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/source_session.hpp"

namespace trib {

namespace {

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

// Runs a command whose error reply is a failure. The message names the key:
// Redis's NOPERM does not say which key the ACL refused.
redis_reply must(redis_client& c, const std::vector<std::string>& argv) {
  auto r = c.command(argv);
  if (r.type == redis_reply::kind::error) {
    std::string what = "redis refuses " + argv[0] + (argv.size() > 1 ? " " + argv[1] : "") +
                       ": " + r.str;
    if (r.str.rfind("NOPERM", 0) == 0)
      what += " (the target user needs read and write access to this replication's "
              "replicate_io_* keys and to the table streams)";
    throw error(classify_redis_error(r.str), what);
  }
  return r;
}

// Refuses to start over existing state without --resume or --overwrite.
void check_state(redis_client& c, const run_options& opts, const std::string& ckpt) {
  if (opts.resume || opts.overwrite) return;
  auto r = must(c, {"EXISTS", ckpt});
  if (r.integer > 0)
    throw error(failure_code::state_exists,
                "replication '" + opts.id + "' (group '" + opts.group +
                  "') has state in Redis (" + ckpt +
                  "): run with --resume to continue it or --overwrite to "
                  "delete it and start over");
}

// --overwrite: deletes this id's checkpoint, schema stream and target
// streams, so the run starts from nothing.
void overwrite(redis_client& c, const run_options& opts,
               const std::vector<table_schema>& tables, const std::string& ckpt) {
  std::vector<std::string> argv{"DEL", ckpt, schema_stream_name(opts.group, opts.id)};
  for (const auto& t : tables) argv.push_back(snapshot_stream_name(t.id, opts.map));
  auto r = must(c, argv);
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
    auto r = must(c, {"HGET", ckpt, stream});
    if (r.type != redis_reply::kind::string) continue;
    auto p = decode_snapshot_checkpoint(r.str);
    if (!p.done && p.rows_done > 0 && order_columns(tables[i]).empty()) {
      // Without key columns there is no "after this row": the stream's rows
      // are deleted with the checkpoint, and the table is read again whole,
      // so nothing appears twice.
      log::warn("restarts " + to_string(tables[i].id) +
                " from the beginning: a table without key columns cannot "
                "resume in the middle");
      must(c, {"DEL", stream});
      must(c, {"HDEL", ckpt, stream});
      continue;
    }
    start[i] = std::move(p);
  }
  return start;
}

// Runs `f` under `policy`: retryable failures (a lost connection, a busy
// server) are tried again after the policy's wait, others pass through.
template <class F>
auto retrying(const retry_policy& policy, const std::string& what, F f) {
  for (int failures = 0;;) {
    try {
      return f();
    } catch (const error& e) {
      auto d = policy.next(++failures, e.code());
      if (!d.retry) throw;
      log::warn("retries " + what + " in " + std::to_string(d.wait.count()) +
                " ms (attempt " + std::to_string(failures) + " of " +
                std::to_string(policy.max_retries) + ", " + to_string(e.code()) +
                "): " + e.what());
      std::this_thread::sleep_for(d.wait);
    }
  }
}

int exit_code_for(failure_code c) {
  return c == failure_code::config || c == failure_code::state_exists ? 2 : 1;
}

run_summary run(const run_options& opts, bool& logs_open) {
  run_summary s;
  if (opts.mode != run_mode::snapshot) return run_realtime(opts, logs_open);
  auto dir = (std::filesystem::path{opts.data_dir} / opts.id).string();
  auto ckpt = checkpoint_key(opts.group, opts.id);
  auto target_policy = retry_policy_for(opts.target);
  std::unique_ptr<redis_client> redis;
  // A fresh connection per attempt: after a failure the old one's state is
  // unknown.
  auto with_redis = [&](const std::string& what, auto f) {
    return retrying(target_policy, what, [&] {
      try {
        if (!redis) redis = redis_client::connect(opts.target);
        return f(*redis);
      } catch (...) {
        redis.reset();
        throw;
      }
    });
  };
  with_redis("checking the replication's state",
             [&](redis_client& c) { check_state(c, opts, ckpt); return 0; });
  if (opts.overwrite) std::filesystem::remove_all(dir);
  log::open_log_files(dir);
  logs_open = true;
  log::info("starts snapshot of replication " + opts.id + " (group " + opts.group +
            ") from " + to_string(opts.source.kind) + " " + opts.source.host);

  std::vector<table_schema> tables;
  source_facts facts;
  retrying(retry_policy_for(opts.source), "listing the source's tables", [&] {
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
  with_redis("preparing the target", [&](redis_client& c) {
    // Each step can be repeated safely after a lost connection.
    if (opts.overwrite) overwrite(c, opts, tables, ckpt);
    plan.start = resume_positions(c, opts, tables, ckpt);
    return 0;
  });
  // The schema of the replicated tables goes first, so that consumers can
  // read it before any row (design section 5). Written once: a lost reply
  // may leave a second copy, which consumers treat as the same dump.
  auto dump = schema_dump_json(tables, facts.kind);
  with_redis("writing the schema dump", [&](redis_client& c) {
    must(c, {"XADD", schema_stream_name(opts.group, opts.id), "*", "key",
             "schema", "value", dump});
    return 0;
  });
  redis.reset();
  plan.tables = tables;

  caf::actor_system_config cfg;
  register_message_types(cfg);
  // CAF starts 4 workers by default whatever the machine has; blocking work
  // runs in detached actors, so the scheduler only needs the cores.
  cfg.set("scheduler.max-threads",
          static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
  // Work stealing polls idle workers with short sleeps, which cost a
  // snapshot about a tenth of its CPU in wake-ups; the sharing policy's
  // workers wait on a condition variable. Few actors run on the scheduler
  // (the appliers and the coordinator), so one shared queue is enough.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  snapshot_result result;
  bool answered = false;
  std::string failed;
  {
    caf::actor_system sys{cfg};
    auto coord = sys.spawn(coordinator, plan, settings_for(opts, tables.size()),
                           default_factories(opts, facts));
    caf::scoped_actor self{sys};
    self->request(coord, caf::infinite, run_atom::value)
      .receive(
        [&](snapshot_result& r) {
          result = std::move(r);
          answered = true;
        },
        [&](caf::error& e) { failed = sys.render(e); });
    // Leaving the scope waits for every actor, detached ones included.
  }
  if (!answered) {
    s.exit_code = 1;
    s.error = "the snapshot stopped unexpectedly: " + failed;
    return s;
  }
  bool skipped = false;
  for (size_t i = 0; i < result.tables.size() && i < tables.size(); ++i) {
    const auto& d = result.tables[i];
    table_result tr;
    tr.table = tables[i].id;
    tr.stream = snapshot_stream_name(tables[i].id, opts.map);
    tr.rows_written = d.rows_written;
    tr.skipped = d.skipped;
    tr.reason = d.skipped ? std::string{to_string(d.reason.code)} + ": " + d.reason.what
                          : std::string{};
    skipped = skipped || d.skipped;
    if (d.skipped)
      log::warn("skipped " + to_string(tr.table) + ": " + tr.reason);
    else
      log::info("wrote " + std::to_string(tr.rows_written) + " rows of " +
                to_string(tr.table) + " to " + tr.stream);
    s.tables.push_back(std::move(tr));
  }
  if (result.aborted) {
    s.exit_code = exit_code_for(result.reason.code);
    s.error = "the snapshot stopped: " + result.reason.what;
  } else {
    s.exit_code = skipped ? 3 : 0;
  }
  log::info("finishes snapshot of replication " + opts.id + " with exit code " +
            std::to_string(s.exit_code));
  return s;
}

}  // namespace

run_summary run_replication(const run_options& opts) {
  run_summary s;
  bool logs_open = false;
  try {
    return run(opts, logs_open);
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
  return s;
}

}  // namespace trib
