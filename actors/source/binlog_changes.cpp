#include "actors/source/binlog_changes.hpp"

#include <algorithm>

#include "actors/source/binlog_schema.hpp"
#include "actors/source/heartbeat.hpp"
#include "messages/failure.hpp"

namespace trib {

binlog_changes::binlog_changes(std::vector<table_schema> tables, source_kind kind,
                               heartbeat_config heartbeat, snapshot_handoff handoff,
                               bool checksum)
  : tables_(std::move(tables)), kind_(kind), heartbeat_(std::move(heartbeat)),
    handoff_(std::move(handoff)), mapped_once_(tables_.size(), false) {
  restart(checksum);
}

void binlog_changes::restart(bool checksum) {
  decoder_ = binlog::decoder{};
  decoder_.set_checksum(checksum ? binlog::checksum_alg::crc32 : binlog::checksum_alg::off);
  open_ = false;
  maps_.clear();
  ddl_pending_ = false;
}

std::optional<std::string> binlog_changes::take_ddl() {
  auto out = std::move(ddl_ready_);
  ddl_ready_.reset();
  return out;
}

std::vector<binlog_changes::schema_update> binlog_changes::take_schema_changes() {
  auto out = std::move(schema_updates_);
  schema_updates_.clear();
  return out;
}

void binlog_changes::set_schema(uint32_t table, const table_schema& schema) {
  if (table >= tables_.size()) return;
  tables_[table] = schema;
  // A map built with the old schema would convert the wrong columns.
  for (auto it = maps_.begin(); it != maps_.end();)
    it = it->second.table == table ? maps_.erase(it) : std::next(it);
}

std::optional<binlog_start> binlog_changes::position_of(uint64_t release) const {
  auto it = files_.find(static_cast<uint32_t>(release >> 32));
  if (it == files_.end()) return std::nullopt;
  binlog_start s;
  s.file = it->second;
  s.pos = release & 0xffffffffu;
  return s;
}

source_txn& binlog_changes::part(change_feed& feed) {
  auto& txns = feed.txns;
  if (txns.empty() || txns.back().commit != commit_ || txns.back().last) {
    // The first part, or one that continues a transaction whose earlier
    // changes went in an earlier feed.
    source_txn t;
    t.commit = commit_;
    t.id = gtid_;
    t.commit_ms = commit_ms_;
    txns.push_back(std::move(t));
  }
  return txns.back();
}

void binlog_changes::on_table_map(const binlog::table_map& map) {
  maps_.erase(map.table_id);
  table_id id{map.database, "", map.table};
  if (is_heartbeat(kind_, heartbeat_, id)) return;
  for (size_t i = 0; i < tables_.size(); ++i) {
    if (!(tables_[i].id == id)) continue;
    names_logged_ = map.has_names;
    if (map.has_names) {
      static const std::vector<std::string> every;
      const auto& keep = i < keep_.size() ? keep_[i] : every;
      if (auto s = binlog::schema_at(tables_[i], map, keep)) {
        tables_[i] = *s;
        bool after_ddl = mapped_once_[i] || ddl_seen_.count(tables_[i].id.catalog) > 0;
        schema_updates_.push_back({static_cast<uint32_t>(i), std::move(*s), after_ddl});
      }
    }
    mapped_once_[i] = true;
    mapped m;
    m.table = static_cast<uint32_t>(i);
    m.converter = std::make_unique<binlog::row_converter>(tables_[i], map);
    maps_.emplace(map.table_id, std::move(m));
    return;
  }
}

uint64_t binlog_changes::on_rows(const binlog::event& ev, const binlog::rows_event& rows,
                                 change_feed& feed) {
  auto it = maps_.find(rows.table_id);
  if (it == maps_.end() || !open_) return 0;  // a table this run does not replicate
  uint32_t t = it->second.table;
  bool by_range = handoff_.by_range(t);
  if (!by_range && handoff_.in_snapshot(t, begin_file_, begin_pos_)) return 0;
  const auto& conv = *it->second.converter;
  uint64_t bytes = 0;
  size_t n = rows.row_count();
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    row_change c;
    c.table = t;
    switch (rows.kind) {
      case binlog::rows_kind::write:
        c.op = change_op::insert;
        c.has_after = true;
        conv.convert(rows.after[i], c.after);
        break;
      case binlog::rows_kind::update:
        c.op = change_op::update;
        c.has_before = c.has_after = true;
        conv.convert(rows.before[i], c.before);
        conv.convert(rows.after[i], c.after);
        break;
      case binlog::rows_kind::remove:
        c.op = change_op::erase;
        c.has_before = true;
        conv.convert(rows.before[i], c.before);
        break;
    }
    if (by_range) {
      // A table read in split-key ranges: each image belongs to the range
      // of its key. An update whose key moved between two ranges keeps the
      // half the snapshot lacks: the delete of the old key, or the insert
      // of the new.
      bool before_in = c.has_before && handoff_.in_snapshot(t, c.before, begin_file_, begin_pos_);
      bool after_in = c.has_after && handoff_.in_snapshot(t, c.after, begin_file_, begin_pos_);
      if ((!c.has_before || before_in) && (!c.has_after || after_in)) continue;
      if (c.op == change_op::update && before_in) {
        c.op = change_op::insert;
        c.has_before = false;
        c.before = row{};
      } else if (c.op == change_op::update && after_in) {
        c.op = change_op::erase;
        c.has_after = false;
        c.after = row{};
      }
    }
    auto& txn = part(feed);
    c.source.position.binlog_file = decoder_.file();
    c.source.position.binlog_pos = ev.header.start_pos();
    c.source.position.gtid = gtid_;
    c.source.row = static_cast<int32_t>(i);
    c.source.query = query_;
    bytes += change_bytes(c);
    txn.changes.push_back(std::move(c));
    ++kept;
  }
  changes_ += kept;
  return bytes;
}

void binlog_changes::end_group(uint64_t end_key, int64_t commit_ms, change_feed& feed) {
  commit_ms_ = commit_ms;
  auto& txn = part(feed);
  txn.last = true;
  txn.release = end_key;
  txn.commit_ms = commit_ms;
  open_ = false;
  maps_.clear();
  if (ddl_pending_) {
    ddl_ready_ = ddl_database_;
    ddl_pending_ = false;
  }
}

uint64_t binlog_changes::add(const binlog_event& e, change_feed& feed) {
  auto ev = decoder_.decode(e.data);
  const auto& file = decoder_.file();
  if (!file.empty() && (files_.empty() || files_.rbegin()->second != file)) {
    try {
      files_[binlog::file_sequence(file)] = file;
    } catch (const error&) {
      // A name without a number cannot be a release position's file.
    }
  }
  bool opened_now = false;
  if (!open_ && (std::holds_alternative<binlog::gtid_event>(ev.body) ||
                 std::holds_alternative<binlog::mysql_gtid_event>(ev.body) ||
                 (std::holds_alternative<binlog::query_event>(ev.body) &&
                  std::get<binlog::query_event>(ev.body).is_begin()))) {
    const auto& trx = decoder_.transaction();
    open_ = opened_now = true;
    begin_file_ = trx.file;
    begin_pos_ = trx.begin_pos;
    commit_ = binlog::position_key(begin_file_, begin_pos_);
    gtid_ = trx.gtid;
    commit_ms_ = static_cast<int64_t>(ev.header.timestamp) * 1000;
    query_.clear();
    maps_.clear();
  }
  uint64_t bytes = 0;
  if (auto* a = std::get_if<binlog::annotate_rows_event>(&ev.body)) {
    query_ = a->statement;
  } else if (auto* m = std::get_if<binlog::table_map>(&ev.body)) {
    on_table_map(*m);
  } else if (auto* r = std::get_if<binlog::rows_event>(&ev.body)) {
    bytes = on_rows(ev, *r, feed);
  } else if (auto* q = std::get_if<binlog::query_event>(&ev.body)) {
    if (q->is_rollback()) {
      // Nothing of a rolled-back group that is still here goes out.
      for (auto& t : feed.txns)
        if (t.commit == commit_ && !t.last) t.changes.clear();
    } else if (!q->is_begin() && !q->is_commit()) {
      // A statement in a replicated database may have changed a table.
      for (const auto& t : tables_)
        if (t.id.catalog == q->database ||
            q->statement.find(t.id.catalog) != std::string::npos) {
          ddl_pending_ = true;
          ddl_database_ = t.id.catalog;
          ddl_seen_.insert(t.id.catalog);
          break;
        }
    }
  }
  // A standalone statement (a DDL) is a group of its own: the decoder
  // opens and ends it in one event.
  if (!open_ && !opened_now && std::holds_alternative<binlog::query_event>(ev.body) &&
      decoder_.transaction().committed && decoder_.transaction().end_pos == ev.header.log_pos) {
    const auto& trx = decoder_.transaction();
    begin_file_ = trx.file;
    begin_pos_ = trx.begin_pos;
    commit_ = binlog::position_key(begin_file_, begin_pos_);
    gtid_ = trx.gtid;
    open_ = true;
  }
  if (open_ && decoder_.transaction().committed) {
    const auto& trx = decoder_.transaction();
    end_group(binlog::position_key(decoder_.file(), trx.end_pos), trx.commit_ts_ms, feed);
  }
  return bytes;
}

}  // namespace trib
