// run_replication: prepares a run without actors (state checks, the catalog,
// resume positions, the schema dump), then lets the coordinator run the
// snapshot on an actor system and turns its answer into the run summary.

#include "actors/runtime.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include <boost/json.hpp>

#include "actors/actors.hpp"
#include "actors/apply/envelope.hpp"
#include "actors/apply/schema_dump.hpp"
#include "actors/control/coordinator.hpp"
#include "actors/control/realtime.hpp"
#include "actors/control/redis_setup.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/snapshot_reader.hpp"
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


// -- split-key ranges ---------------------------------------------------------
//
// A table with a split-key (extractor snapshot.per-table-config) on an
// integer column is read in `snapshot.threads` key ranges in parallel, every
// range into the table's one stream. Order in a stream matters to consumers
// per key only, and a key lives in one range, so interleaving ranges keeps
// every key's order. Each range checkpoints in its own field
// (`<stream>#<n>`) and resumes on its own; the bounds are stored before any
// row (field `<stream>#ranges`), so that a resumed run reads the very same
// ranges however the table or the thread count changed meanwhile.

bool is_integer_kind(value_kind k) {
  switch (k) {
    case value_kind::int8: case value_kind::int16: case value_kind::int32:
    case value_kind::int64: case value_kind::uint8: case value_kind::uint16:
    case value_kind::uint32: case value_kind::uint64: case value_kind::year:
      return true;
    default:
      return false;
  }
}

std::optional<int64_t> parse_int64(const std::string& text) {
  int64_t v = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

// `n` ranges over [lo, hi]: the n - 1 inner bounds.
std::vector<int64_t> split_bounds(int64_t lo, int64_t hi, size_t n) {
  std::vector<int64_t> bounds;
  long double width = static_cast<long double>(hi) - static_cast<long double>(lo) + 1;
  if (n > width) n = static_cast<size_t>(width);
  for (size_t k = 1; k < n; ++k)
    bounds.push_back(lo + static_cast<int64_t>(width * k / n));
  return bounds;
}

std::string encode_range_plan(const std::string& column, const std::vector<int64_t>& bounds) {
  boost::json::object o;
  o["split_key"] = column;
  boost::json::array a;
  for (auto b : bounds) a.push_back(b);
  o["bounds"] = std::move(a);
  return boost::json::serialize(o);
}

std::vector<int64_t> decode_range_plan(const std::string& text) {
  std::vector<int64_t> bounds;
  try {
    auto v = boost::json::parse(text);
    for (const auto& b : v.at("bounds").as_array()) bounds.push_back(b.to_number<int64_t>());
  } catch (const std::exception& e) {
    throw error(failure_code::bad_data, "malformed split-key plan in the checkpoint: " + text);
  }
  return bounds;
}

std::string range_plan_field(const std::string& stream) { return stream + "#ranges"; }

// Which tables get split, with their bounds: from the checkpoint when a
// resumed run stored them, else from the source's MIN/MAX (stored here,
// before any row is written).
void plan_split_ranges(const run_options& opts, const std::string& ckpt,
                       snapshot_plan& plan, redis_setup& redis) {
  const auto& tables = plan.tables;
  plan.ranges.assign(tables.size(), {});
  size_t threads = static_cast<size_t>(std::max(opts.extractor.snapshot.threads, 1));
  std::vector<size_t> candidates;
  for (size_t i = 0; i < tables.size(); ++i) {
    const auto& t = tables[i];
    if (t.split_key.empty()) continue;
    int col = column_index(t, t.split_key);
    if (col < 0 || !is_integer_kind(t.columns[static_cast<size_t>(col)].kind)) {
      log::warn("reads " + to_string(t.id) + " whole: its split-key " + t.split_key +
                " is not an integer column");
      continue;
    }
    candidates.push_back(i);
  }
  if (candidates.empty()) return;
  // Stored plans (resumed runs) and stream checkpoints of unsplit reads.
  std::vector<std::optional<std::vector<int64_t>>> stored(tables.size());
  std::vector<bool> read_whole_before(tables.size(), false);
  redis.run("reading split-key plans", [&](redis_client& c) {
    for (auto i : candidates) {
      auto stream = snapshot_stream_name(tables[i].id, opts.map);
      auto r = c.command({"HGET", ckpt, range_plan_field(stream)});
      if (r.type == redis_reply::kind::error) throw error(classify_redis_error(r.str), r.str);
      if (r.type == redis_reply::kind::string) stored[i] = decode_range_plan(r.str);
      auto whole = c.command({"HEXISTS", ckpt, stream});
      read_whole_before[i] = whole.integer > 0;
    }
  });
  std::vector<std::optional<std::vector<int64_t>>> fresh(tables.size());
  bool need_source = false;
  for (auto i : candidates)
    need_source = need_source || (!stored[i] && !read_whole_before[i] && threads > 1);
  if (need_source) {
    with_retries(retry_policy_for(opts.source), "finding split-key ranges", [&] {
      auto src = open_source(opts.source);
      for (auto i : candidates) {
        if (stored[i] || read_whole_before[i] || fresh[i]) continue;
        const auto& t = tables[i];
        auto mm = src->integer_range(t, t.split_key, filter_conditions(opts.filter, t.id));
        std::optional<int64_t> lo, hi;
        if (mm) {
          lo = parse_int64(mm->first);
          hi = parse_int64(mm->second);
        }
        fresh[i] = lo && hi && *hi > *lo ? split_bounds(*lo, *hi, threads)
                                         : std::vector<int64_t>{};
      }
      return 0;
    });
  }
  redis.run("storing split-key plans", [&](redis_client& c) {
    for (auto i : candidates) {
      const auto& t = tables[i];
      auto stream = snapshot_stream_name(t.id, opts.map);
      if (read_whole_before[i] && !stored[i]) {
        log::info("reads " + to_string(t.id) + " whole: an earlier run began it unsplit");
        continue;
      }
      std::vector<int64_t> bounds;
      if (stored[i]) {
        bounds = *stored[i];
      } else if (fresh[i] && !fresh[i]->empty()) {
        bounds = *fresh[i];
        // Idempotent: a retry after a lost reply writes the same value.
        auto r = c.command({"HSET", ckpt, range_plan_field(stream),
                            encode_range_plan(t.split_key, bounds)});
        if (r.type == redis_reply::kind::error) throw error(classify_redis_error(r.str), r.str);
      } else {
        continue;  // one thread, an empty table or a single key value
      }
      std::vector<split_range> ranges(bounds.size() + 1);
      for (size_t r = 0; r < ranges.size(); ++r) {
        if (r > 0) ranges[r].lo = bounds[r - 1];
        if (r < bounds.size()) ranges[r].hi = bounds[r];
        if (!opts.resume) continue;
        auto cp = c.command({"HGET", ckpt, stream + "#" + std::to_string(r + 1)});
        if (cp.type == redis_reply::kind::string)
          ranges[r].start = decode_snapshot_checkpoint(cp.str);
      }
      log::info("splits " + to_string(t.id) + " into " + std::to_string(ranges.size()) +
                " ranges of " + t.split_key);
      plan.ranges[i] = std::move(ranges);
    }
  });
}

// -- the run summary ----------------------------------------------------------

// data/<id>/summary-<UTC time>.json: what the run did, for operators and
// scripts (the exit code alone does not say which tables were skipped).
void write_run_summary(const run_options& opts, const run_summary& s,
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
    boost::json::array tables, skipped;
    uint64_t rows = 0;
    for (const auto& t : s.tables) {
      boost::json::object e;
      e["table"] = to_string(t.table);
      e["stream"] = t.stream;
      e["rows"] = t.rows_written;
      e["skipped"] = t.skipped;
      if (t.skipped) {
        e["reason"] = t.reason;
        skipped.push_back(boost::json::object{{"table", to_string(t.table)}, {"reason", t.reason}});
      }
      rows += t.rows_written;
      tables.push_back(std::move(e));
    }
    o["rows"] = rows;
    o["tables"] = std::move(tables);
    o["skipped"] = std::move(skipped);
    auto dir = std::filesystem::path{opts.data_dir} / opts.id;
    std::filesystem::create_directories(dir);
    auto path = dir / ("summary-" + to_utc(now, "%Y%m%dT%H%M%SZ") + ".json");
    std::ofstream out(path);
    out << boost::json::serialize(o) << "\n";
    if (!out) throw std::runtime_error("cannot write " + path.string());
    log::info("wrote the run summary to " + path.string());
  } catch (const std::exception& e) {
    log::warn(std::string("cannot write the run summary: ") + e.what());
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
  redis_setup redis{opts.target};
  redis.run("checking the replication's state",
             [&](redis_client& c) { check_state(c, opts, ckpt); return 0; });
  if (opts.overwrite) std::filesystem::remove_all(dir);
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
  redis.run("preparing the target", [&](redis_client& c) {
    // Each step can be repeated safely after a lost connection.
    if (opts.overwrite) overwrite(c, opts, tables, ckpt);
    plan.start = resume_positions(c, opts, tables, ckpt);
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

  caf::actor_system_config cfg;
  configure_actor_system(cfg);
  snapshot_result result;
  bool answered = false;
  std::string failed;
  {
    caf::actor_system sys{cfg};
    // Progress per table: redrawn in place on a terminal, else a log line
    // per table at most every 10 s.
    bool terminal = ::isatty(2) == 1;
    auto progress = std::make_shared<progress_board>(
      terminal, terminal ? std::chrono::milliseconds(500) : std::chrono::milliseconds(10000));
    auto settings = settings_for(opts, tables.size());
    settings.progress = progress;
    auto coord = sys.spawn(coordinator, plan, settings, default_factories(opts, facts, progress));
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
  s.tables = table_results(result, tables, opts.map, skipped);
  for (const auto& tr : s.tables) {
    if (tr.skipped)
      log::warn("skipped " + to_string(tr.table) + ": " + tr.reason);
    else
      log::info("wrote " + std::to_string(tr.rows_written) + " rows of " +
                to_string(tr.table) + " to " + tr.stream);
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
  auto started = std::chrono::system_clock::now();
  // A snapshot that got as far as its data directory leaves a summary.
  auto summarize = [&](const run_summary& r) {
    if (logs_open && opts.mode == run_mode::snapshot) write_run_summary(opts, r, started);
  };
  try {
    auto r = run(opts, logs_open);
    summarize(r);
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
