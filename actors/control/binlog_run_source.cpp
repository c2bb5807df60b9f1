// MySQL/MariaDB's part of `realtime` and `full`: the binlog settings and the
// start position, prepared without actors; the snapshot of `full` reads each
// table (or split-key range) in a consistent snapshot of its own whose binlog
// position is recorded
// (docs/binlog.md), and the binlog reader streams from the earliest of them.
// Where a restarted run reads from (the dispatcher's release position) and
// the tables' snapshot positions are kept in the checkpoint hash, since a
// binlog has no slot to keep them.

#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <tuple>
#include <vector>

#include "actors/control/redis_setup.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/control/run_source.hpp"
#include "actors/control/split_plan.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/binlog_reader.hpp"
#include "actors/source/binlog_settings.hpp"
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

/// The checkpoint hash field that holds where a binlog run restarts
/// ("file:pos", or "gtid:..." before its first release).
constexpr const char* binlog_position_field = "#binlog_position";

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

class binlog_run_source : public run_source {
public:
  explicit binlog_run_source(const run_options& opts)
    : opts_(opts), policy_(retry_policy_for(opts.source)) {}

  // Configuration first: nothing is created or written for a run that
  // cannot read the binlog.
  void check_config() override {
    binlog_server_id(opts_.source);
    if (!opts_.extractor.realtime.start_position.lsn.empty())
      throw error(failure_code::config,
                  "realtime.start-position.lsn is PostgreSQL's; give {log, position} or {gtid}");
    configured_ = binlog_start_from(opts_.extractor.realtime.start_position, opts_.source.kind);
  }

  void check_server() override {
    with_retries(policy_, "checking the binlog settings", [&] {
      check_binlog_settings(opts_.source, opts_.mode == run_mode::full);
      return 0;
    });
  }

  // The restart position and the snapshot positions are not streams'
  // checkpoints.
  void take_state(std::map<std::string, std::string>& checkpoints) override {
    stored_.reset();
    stored_handoff_.clear();
    if (auto it = checkpoints.find(binlog_position_field); it != checkpoints.end()) {
      stored_ = decode_position(it->second);
      checkpoints.erase(it);
    }
    if (auto it = checkpoints.find(binlog_handoff_field); it != checkpoints.end()) {
      stored_handoff_ = decode_handoff(it->second);
      checkpoints.erase(it);
    }
  }

  std::string snapshot_gone() const override {
    return "the consistent snapshots it read from are gone";
  }

  // Where to read from: where an earlier run stopped, else (full) the
  // earliest table snapshot (set once the snapshot is done), else
  // start-position, else the binlog's end now.
  void prepare(run_context& ctx, redis_setup&) override {
    if (ctx.snapshot_needed) return;
    if (stored_) {
      start_ = *stored_;
      log::info("resumes the binlog at " + to_string(start_));
    } else if (configured_) {
      start_ = *configured_;
    } else {
      with_retries(policy_, "reading the binlog position", [&] {
        auto session = open_source(opts_.source);
        auto at = session->begin_snapshot();
        session->end_snapshot();
        if (at.binlog_file.empty())
          throw error(failure_code::config, "the source reports no binlog position: is log_bin on?");
        start_.file = at.binlog_file;
        start_.pos = at.binlog_pos;
        return 0;
      });
    }
  }

  // Each reader reads in a consistent snapshot of its own, whose binlog
  // position its session records.
  exported_snapshot snapshot_readers(const snapshot_plan& plan) override {
    record_->kind = opts_.source.kind;
    for (size_t i = 0; i < plan.ranges.size(); ++i)
      if (!plan.ranges[i].empty())
        record_->ranges[{plan.tables[i].id.catalog, plan.tables[i].id.table}] = plan.ranges[i];
    exported_snapshot own;
    own.one_snapshot = true;
    auto record = record_;
    own.open = [record](const source_config& cfg) -> std::unique_ptr<source_session> {
      return std::make_unique<recording_session>(open_source(cfg), record);
    };
    return own;
  }

  // From here a crashed run resumes at this position, not at a later end.
  void record_start(redis_client& c, const run_context& ctx) override {
    if (!stored_ && !ctx.snapshot_needed)
      command_or_throw(c, {"HSET", ctx.ckpt, binlog_position_field, encode_position(start_)});
  }

  std::string hand_over(const run_context& ctx) override {
    {
      std::lock_guard<std::mutex> g{record_->lock};
      stored_handoff_ = record_->at;
    }
    if (stored_handoff_.empty())
      throw error(failure_code::internal, "the snapshot recorded no binlog position");
    auto h = handoff_of(stored_handoff_, ctx.tables);
    start_.file = h.start()->binlog_file;
    start_.pos = h.start()->binlog_pos;
    redis_setup after{opts_.target};
    after.run("storing the snapshot positions", [&](redis_client& c) {
      command_or_throw(c, {"HSET", ctx.ckpt, binlog_handoff_field,
                           encode_handoff(stored_handoff_), binlog_position_field,
                           encode_position(start_)});
      return 0;
    });
    return to_string(start_);
  }

  streaming_reader_actor spawn_reader(caf::local_actor* self, change_dispatcher_actor dispatcher,
                                      const run_context& ctx) override {
    auto handoff = handoff_of(stored_handoff_, ctx.tables);
    binlog_reader_settings bs;
    bs.source = opts_.source;
    bs.extractor = opts_.extractor;
    bs.start = start_;
    bs.tables = ctx.tables;
    bs.filter = opts_.filter;
    bs.handoff = handoff;
    bs.list_tables = ctx.list_tables;
    bs.dump_schema = ctx.dump_schema;
    // The reader's thread writes to Redis on a connection of its own.
    auto own_redis = std::make_shared<redis_setup>(opts_.target);
    auto ckpt = ctx.ckpt;
    bs.store_release = [own_redis, ckpt](const binlog_start& at) {
      auto text = encode_position(at);
      own_redis->run("storing the binlog position", [&](redis_client& c) {
        return command_or_throw(c, {"HSET", ckpt, binlog_position_field, text});
      });
    };
    return self->spawn<caf::detached>(binlog_reader, bs, std::move(dispatcher));
  }

  std::string describe_end(uint64_t) const override { return ""; }

private:
  const run_options& opts_;
  retry_policy policy_;
  std::optional<binlog_start> configured_;
  std::optional<binlog_start> stored_;
  snapshot_parts stored_handoff_;
  binlog_start start_;
  std::shared_ptr<snapshot_positions> record_ = std::make_shared<snapshot_positions>();
};

}  // namespace

std::unique_ptr<run_source> make_binlog_run_source(const run_options& opts) {
  return std::make_unique<binlog_run_source>(opts);
}

}  // namespace trib
