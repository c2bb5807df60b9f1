// run_binlog_realtime: `realtime` and `full` from MySQL/MariaDB. The binlog
// settings, the start position and the checkpoints are prepared without
// actors; the snapshot of `full` runs on the coordinator, each table (or
// split-key range) in a consistent snapshot of its own whose binlog position
// is recorded (docs/binlog.md); then the binlog reader, the change dispatcher, the
// change appliers and the Redis writers stream until a signal asks them to
// stop. Where a restarted run reads from (the dispatcher's release position)
// and the tables' snapshot positions are kept in the checkpoint hash, since a
// binlog has no slot to keep them.

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <tuple>
#include <vector>

#include "actors/actors.hpp"
#include "actors/apply/envelope.hpp"
#include "actors/apply/schema_dump.hpp"
#include "actors/control/realtime_board.hpp"
#include "actors/control/change_streams.hpp"
#include "actors/control/coordinator.hpp"
#include "actors/control/progress.hpp"
#include "actors/control/split_plan.hpp"
#include "actors/control/realtime.hpp"
#include "actors/control/redis_setup.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/control/run_lease.hpp"
#include "actors/control/stop_signals.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/binlog_reader.hpp"
#include "actors/source/binlog_settings.hpp"
#include "actors/source/heartbeat.hpp"
#include "actors/source/source_session.hpp"

namespace trib {

namespace {

/// "mysql-bin.000042:1337", or "gtid:0-1-35" before the first release.
std::string encode_position(const binlog_start& p) {
  if (!p.gtid.empty()) return "gtid:" + p.gtid;
  return p.file + ":" + std::to_string(p.pos);
}

binlog_start decode_position(const std::string& text) {
  binlog_start p;
  if (text.rfind("gtid:", 0) == 0) {
    p.gtid = text.substr(5);
    return p;
  }
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw error(failure_code::bad_data, "the stored binlog position '" + text + "' is malformed");
  p.file = text.substr(0, colon);
  try {
    p.pos = std::stoull(text.substr(colon + 1));
  } catch (const std::exception&) {
    throw error(failure_code::bad_data, "the stored binlog position '" + text + "' is malformed");
  }
  return p;
}

/// The checkpoint hash field with each table's snapshot position of `full`.
constexpr const char* binlog_handoff_field = "#binlog_handoff";

/// Where one snapshot reader of `full` read from: a whole table, or one
/// split-key range [lo, hi) of it (an unset bound is open).
struct snapshot_part {
  binlog_start at;
  std::string split_key;  // empty: the whole table
  std::optional<int64_t> lo, hi;
};
/// By catalog, table and range ("" for a whole table, else "lo..hi").
using snapshot_parts = std::map<std::tuple<std::string, std::string, std::string>, snapshot_part>;

std::string bound_text(const std::optional<int64_t>& b) { return b ? std::to_string(*b) : ""; }

std::string range_label(const snapshot_part& p) {
  return p.split_key.empty() ? "" : bound_text(p.lo) + ".." + bound_text(p.hi);
}

/// One "catalog TAB table TAB file:pos" line per table, with "TAB split-key
/// TAB lo TAB hi" added for a range (an open bound empty).
std::string encode_handoff(const snapshot_parts& m) {
  std::string out;
  for (const auto& [k, p] : m) {
    out += std::get<0>(k) + "\t" + std::get<1>(k) + "\t" + encode_position(p.at);
    if (!p.split_key.empty())
      out += "\t" + p.split_key + "\t" + bound_text(p.lo) + "\t" + bound_text(p.hi);
    out += "\n";
  }
  return out;
}

snapshot_parts decode_handoff(const std::string& text) {
  snapshot_parts out;
  std::istringstream in(text);
  std::string line;
  auto bad = [] { return error(failure_code::bad_data, "the stored snapshot positions are malformed"); };
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    size_t start = 0;
    for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
      f.push_back(line.substr(start, tab - start));
    f.push_back(line.substr(start));
    if (f.size() != 3 && f.size() != 6) throw bad();
    snapshot_part p;
    p.at = decode_position(f[2]);
    if (f.size() == 6) {
      p.split_key = f[3];
      try {
        if (!f[4].empty()) p.lo = std::stoll(f[4]);
        if (!f[5].empty()) p.hi = std::stoll(f[5]);
      } catch (const std::exception&) {
        throw bad();
      }
    }
    out[{f[0], f[1], range_label(p)}] = p;
  }
  return out;
}

/// Where each table's (or range's) snapshot began, as its reader's session
/// reports it, and the split-key ranges the plan reads.
struct snapshot_positions {
  std::mutex lock;
  snapshot_parts at;
  source_kind kind = source_kind::mariadb;
  std::map<std::pair<std::string, std::string>, std::vector<split_range>> ranges;
};

/// The binlog reader's handoff from the recorded snapshot positions, by the
/// run's table indexes.
snapshot_handoff handoff_of(const snapshot_parts& parts, const std::vector<table_schema>& tables) {
  snapshot_handoff h;
  for (const auto& [k, p] : parts)
    for (uint32_t i = 0; i < tables.size(); ++i) {
      if (tables[i].id.catalog != std::get<0>(k) || tables[i].id.table != std::get<1>(k)) continue;
      source_position sp;
      sp.binlog_file = p.at.file;
      sp.binlog_pos = p.at.pos;
      int column = p.split_key.empty() ? -1 : column_index(tables[i], p.split_key);
      if (p.split_key.empty()) {
        h.add(i, sp);
      } else if (column < 0) {
        throw error(failure_code::source_state,
                    "the split-key " + p.split_key + " of " + to_string(tables[i].id) +
                      ", whose ranges the snapshot read, is no longer a column of the table: "
                      "run full again with --overwrite");
      } else {
        h.add_range(i, static_cast<size_t>(column), p.lo, p.hi, sp);
      }
    }
  return h;
}

/// A source session that records the position of its consistent snapshot
/// for the table it then reads; everything else goes to the real session.
class recording_session : public source_session {
public:
  recording_session(std::unique_ptr<source_session> inner,
                    std::shared_ptr<snapshot_positions> record)
    : inner_(std::move(inner)), record_(std::move(record)) {}
  source_facts facts() override { return inner_->facts(); }
  std::vector<table_schema> list_tables(const filter_config& f,
                                        const extractor_config& ex) override {
    return inner_->list_tables(f, ex);
  }
  source_position begin_snapshot() override { return at_ = inner_->begin_snapshot(); }
  std::unique_ptr<table_reader> open_table(const table_schema& t,
                                           const std::vector<cell>& after_key,
                                           const std::string& conditions) override {
    snapshot_part p;
    p.at.file = at_.binlog_file;
    p.at.pos = at_.binlog_pos;
    {
      // A reader that began again before reading a row has a later snapshot.
      std::lock_guard<std::mutex> g{record_->lock};
      // A range's reader reads the range's condition (alone, or after the
      // filter's as "(filter) AND (range)", as the coordinator joins them).
      auto it = record_->ranges.find({t.id.catalog, t.id.table});
      if (it != record_->ranges.end())
        for (size_t r = 0; r < it->second.size(); ++r) {
          const auto& range = it->second[r];
          auto text = split_range_condition(record_->kind, t.split_key, range.lo, range.hi, r == 0);
          auto tail = "(" + text + ")";
          bool ends = conditions.size() >= tail.size() &&
                      conditions.compare(conditions.size() - tail.size(), tail.size(), tail) == 0;
          if (conditions == text || ends) {
            p.split_key = t.split_key;
            p.lo = range.lo;
            p.hi = range.hi;
            break;
          }
        }
      record_->at[{t.id.catalog, t.id.table, range_label(p)}] = p;
    }
    return inner_->open_table(t, after_key, conditions);
  }
  void end_snapshot() override { inner_->end_snapshot(); }

private:
  std::unique_ptr<source_session> inner_;
  std::shared_ptr<snapshot_positions> record_;
  source_position at_;
};

}  // namespace

run_summary run_binlog_realtime(const run_options& opts, bool& logs_open) {
  run_summary s;
  bool full = opts.mode == run_mode::full;
  const char* mode = full ? "full" : "realtime";
  stop_signals signals;
  auto dir = (std::filesystem::path{opts.data_dir} / opts.id).string();
  auto ckpt = checkpoint_key(opts.group, opts.id);
  auto source_policy = retry_policy_for(opts.source);
  // Configuration first: nothing is created or written for a run that
  // cannot read the binlog.
  binlog_server_id(opts.source);
  std::optional<binlog_start> configured;
  if (!opts.extractor.realtime.start_position.lsn.empty())
    throw error(failure_code::config,
                "realtime.start-position.lsn is PostgreSQL's; give {log, position} or {gtid}");
  configured = binlog_start_from(opts.extractor.realtime.start_position, opts.source.kind);
  redis_setup redis{opts.target};
  auto lease = hold_replication(redis, opts, ckpt);
  if (opts.overwrite) std::filesystem::remove_all(dir);
  log::open_log_files(dir);
  logs_open = true;
  log::info("starts " + std::string(mode) + " replication " + opts.id + " (group " + opts.group + ") from " +
            to_string(opts.source.kind) + " " + opts.source.host);
  with_retries(source_policy, "checking the binlog settings", [&] {
    check_binlog_settings(opts.source, full);
    return 0;
  });

  const auto& hb = opts.extractor.realtime.heartbeat;
  std::vector<table_schema> tables;
  source_facts facts;
  auto list_tables = [&opts, source_policy, hb] {
    auto t = with_retries(source_policy, "listing the source's tables", [&] {
      return open_source(opts.source)->list_tables(opts.filter, opts.extractor);
    });
    t.erase(std::remove_if(t.begin(), t.end(),
                           [&](const table_schema& x) {
                             return is_heartbeat(opts.source.kind, hb, x.id);
                           }),
            t.end());
    return t;
  };
  with_retries(source_policy, "reading the source's facts", [&] {
    facts = open_source(opts.source)->facts();
    return 0;
  });
  tables = list_tables();
  if (tables.empty())
    throw error(failure_code::config,
                "no tables to replicate: the filter matches no table the source user can read");
  auto layout = layout_for(opts, tables);

  std::map<std::string, std::string> checkpoints;
  std::optional<binlog_start> stored;
  snapshot_parts stored_handoff;
  uint64_t max_entry = default_max_bulk_bytes;
  redis.run("preparing the target", [&](redis_client& c) {
    check_write_access(c, opts.target, layout.names.front(), ckpt);
    if (opts.overwrite) {
      std::vector<std::string> argv{"DEL", ckpt, schema_stream_name(opts.group, opts.id),
                                    global_cdc_stream_name(opts.group, opts.id)};
      for (const auto& t : tables) {
        argv.push_back(snapshot_stream_name(t.id, opts.map));
        argv.push_back(cdc_stream_name(t.id, opts.map));
      }
      auto r = command_or_throw(c, argv);
      log::info("overwrites replication " + opts.id + ": deleted " + std::to_string(r.integer) +
                " keys");
    }
    max_entry = max_bulk_bytes(c);
    checkpoints.clear();
    stored.reset();
    auto r = command_or_throw(c, {"HGETALL", ckpt});
    for (size_t i = 0; i + 1 < r.elements.size(); i += 2)
      checkpoints[r.elements[i].str] = r.elements[i + 1].str;
    // The restart position is not a stream's checkpoint.
    if (auto it = checkpoints.find(binlog_position_field); it != checkpoints.end()) {
      stored = decode_position(it->second);
      checkpoints.erase(it);
    }
    if (auto it = checkpoints.find(binlog_handoff_field); it != checkpoints.end()) {
      stored_handoff = decode_handoff(it->second);
      checkpoints.erase(it);
    }
    return 0;
  });

  // full: the snapshot, unless an earlier run finished it. Its consistent
  // snapshots end with the run that took them, so one that did not finish
  // cannot be continued.
  bool snapshot_needed = false;
  if (full) {
    bool all_done = true;
    for (const auto& t : tables)
      all_done = all_done && snapshot_finished(checkpoints, snapshot_stream_name(t.id, opts.map));
    if (opts.resume && !all_done && !checkpoints.empty())
      throw error(failure_code::source_state,
                  "the snapshot of full replication '" + opts.id +
                    "' did not finish, and the consistent snapshots it read from are gone: "
                    "run with --overwrite to start over");
    snapshot_needed = !all_done;
  }

  // Where to read from: where an earlier run stopped, else (full) the
  // earliest table snapshot, else start-position, else the binlog's end now.
  binlog_start start;
  if (snapshot_needed) {
    // Set once the snapshot is done.
  } else if (stored) {
    start = *stored;
    log::info("resumes the binlog at " + to_string(start));
  } else if (configured) {
    start = *configured;
  } else {
    with_retries(source_policy, "reading the binlog position", [&] {
      auto session = open_source(opts.source);
      auto at = session->begin_snapshot();
      session->end_snapshot();
      if (at.binlog_file.empty())
        throw error(failure_code::config, "the source reports no binlog position: is log_bin on?");
      start.file = at.binlog_file;
      start.pos = at.binlog_pos;
      return 0;
    });
  }
  // full: a table whose split-key identifies its rows is read in ranges,
  // each in a consistent snapshot of its own (docs/binlog.md); another
  // split-key table is read whole.
  snapshot_plan plan;
  if (snapshot_needed) {
    plan.tables = tables;
    for (auto& t : plan.tables)
      if (!t.split_key.empty() && !splits_in_full(opts.source.kind, t)) {
        log::info("reads " + to_string(t.id) + " whole: its split-key " + t.split_key +
                  " is not a column of the key that identifies its rows, so its ranges "
                  "could not take the binlog over exactly");
        t.split_key.clear();
      }
    plan_split_ranges(opts, ckpt, plan, redis);
  }

  auto dump = schema_dump_json(tables, facts.kind);
  auto schema_stream = schema_stream_name(opts.group, opts.id);
  redis.run("writing the schema dump and the start position", [&](redis_client& c) {
    command_or_throw(c, {"XADD", schema_stream, "*", "key", "schema", "value", dump});
    // From here a crashed run resumes at this position, not at a later end.
    if (!stored && !snapshot_needed)
      command_or_throw(c, {"HSET", ckpt, binlog_position_field, encode_position(start)});
    return 0;
  });
  redis.close();

  caf::actor_system_config cfg;
  caf::actor_system sys{configure_actor_system(cfg)};
  caf::scoped_actor self{sys};
  if (snapshot_needed) {
    auto record = std::make_shared<snapshot_positions>();
    record->kind = opts.source.kind;
    for (size_t i = 0; i < plan.ranges.size(); ++i)
      if (!plan.ranges[i].empty())
        record->ranges[{plan.tables[i].id.catalog, plan.tables[i].id.table}] = plan.ranges[i];
    auto progress = snapshot_progress_board();
    auto settings = settings_for(opts, tables.size());
    settings.progress = progress;
    exported_snapshot own;
    own.one_snapshot = true;
    own.open = [record](const source_config& cfg) -> std::unique_ptr<source_session> {
      return std::make_unique<recording_session>(open_source(cfg), record);
    };
    auto coord = sys.spawn(coordinator, plan, settings,
                           default_factories(opts, facts, progress, own, max_entry));
    snapshot_result result;
    std::string failed;
    bool answered = false;
    signals.on_stop([coord] { caf::anon_send(coord, stop_atom::value); });
    self->request(coord, caf::infinite, run_atom::value)
      .receive(
        [&](snapshot_result& r) {
          result = std::move(r);
          answered = true;
        },
        [&](caf::error& e) { failed = sys.render(e); });
    signals.on_stop(nullptr);
    if (!answered) throw error(failure_code::internal, "the snapshot stopped unexpectedly: " + failed);
    bool skipped = false;
    s.tables = table_results(result, tables, opts.map, skipped);
    if (result.stopped) {
      s.stopped_by = signals.signal();
      s.exit_code = exit_code_for_stop(s.stopped_by);
      s.error = std::string("stopped by ") + stop_signal_name(s.stopped_by) +
                " before the snapshot of full replication '" + opts.id +
                "' finished; its consistent snapshots are gone, so run it again with --overwrite";
      log::warn("stops full replication " + opts.id + " during the snapshot; nothing streamed");
      return s;
    }
    if (result.aborted)
      throw error(result.reason.code, "the snapshot stopped: " + result.reason.what);
    {
      std::lock_guard<std::mutex> g{record->lock};
      stored_handoff = record->at;
    }
    if (stored_handoff.empty())
      throw error(failure_code::internal, "the snapshot recorded no binlog position");
    auto h = handoff_of(stored_handoff, tables);
    start.file = h.start()->binlog_file;
    start.pos = h.start()->binlog_pos;
    redis_setup after{opts.target};
    after.run("storing the snapshot positions", [&](redis_client& c) {
      command_or_throw(c, {"HSET", ckpt, binlog_handoff_field, encode_handoff(stored_handoff),
                           binlog_position_field, encode_position(start)});
      return 0;
    });
    if (skipped)
      log::warn("finishes the snapshot with skipped tables; their changes are streamed anyway");
    log::info("finishes the snapshot; streams from " + to_string(start));
    if (opts.terminate_post_snapshot) {
      log::info("stops after the snapshot (--terminate-post-snapshot); 'full --resume' streams "
                "from " + to_string(start));
      s.exit_code = skipped ? 3 : 0;
      return s;
    }
  }
  auto handoff = handoff_of(stored_handoff, tables);

  auto path = spawn_change_path(sys, opts, tables, layout, checkpoints, facts, max_entry);
  binlog_reader_settings bs;
  bs.source = opts.source;
  bs.extractor = opts.extractor;
  bs.start = start;
  bs.tables = tables;
  bs.filter = opts.filter;
  bs.handoff = handoff;
  bs.stop = &signals.flag();
  bs.list_tables = list_tables;
  auto kind = facts.kind;
  // The reader's thread writes to Redis on a connection of its own.
  auto own_redis = std::make_shared<redis_setup>(opts.target);
  bs.dump_schema = [own_redis, schema_stream, kind](const std::vector<table_schema>& t) {
    auto text = schema_dump_json(t, kind);
    own_redis->run("appending a schema dump", [&](redis_client& c) {
      return command_or_throw(c, {"XADD", schema_stream, "*", "key", "schema", "value", text});
    });
  };
  bs.store_release = [own_redis, ckpt](const binlog_start& at) {
    auto text = encode_position(at);
    own_redis->run("storing the binlog position", [&](redis_client& c) {
      return command_or_throw(c, {"HSET", ckpt, binlog_position_field, text});
    });
  };
  auto reader = sys.spawn<caf::detached>(binlog_reader, bs, path.dispatcher);
  std::string failed;
  install_realtime_board(make_realtime_board());
  self->request(reader, caf::infinite, run_atom::value)
    .receive([&](uint64_t) {}, [&](caf::error& e) { failed = sys.render(e); });
  install_realtime_board(nullptr);
  stop_change_path(self, path);
  if (!failed.empty()) {
    s.exit_code = 1;
    s.error = "realtime replication stopped: " + failed;
    return s;
  }
  sum_up_change_path(s, path, tables, layout);
  log::info("finishes " + std::string(mode) + " replication " + opts.id);
  return s;
}

}  // namespace trib
