#include "actors/apply/change_batcher.hpp"

#include <algorithm>

namespace trib {

bool holds_marker(value_kind k) {
  switch (k) {
    case value_kind::text:
    case value_kind::json:
    case value_kind::bytes:
    case value_kind::enumeration:
      return true;
    default:
      return false;
  }
}

std::vector<int> map_relation(const pg_relation& rel, const table_schema& t) {
  std::vector<int> out(t.columns.size(), -1);
  for (size_t i = 0; i < t.columns.size(); ++i)
    for (size_t j = 0; j < rel.columns.size(); ++j)
      if (rel.columns[j].name == t.columns[i].name) {
        out[i] = static_cast<int>(j);
        break;
      }
  return out;
}

bool same_columns(const pg_relation& rel, const table_schema& t) {
  if (rel.columns.size() != t.columns.size()) return false;
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (rel.columns[i].name != t.columns[i].name) return false;
  return true;
}

row project(const pg_tuple& tuple, const std::vector<int>& columns, const table_schema& t,
            const pg_tuple* old, size_t* unavailable) {
  row out;
  out.cells.resize(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    int j = columns[i];
    if (j < 0 || static_cast<size_t>(j) >= tuple.values.cells.size()) continue;
    bool unchanged = static_cast<size_t>(j) < tuple.unchanged_toast.size() &&
                     tuple.unchanged_toast[static_cast<size_t>(j)];
    if (!unchanged) {
      out.cells[i] = tuple.values.cells[static_cast<size_t>(j)];
      continue;
    }
    // The server left the value out because the update did not touch it;
    // a full old image has it.
    if (old && static_cast<size_t>(j) < old->values.cells.size() &&
        !(static_cast<size_t>(j) < old->unchanged_toast.size() &&
          old->unchanged_toast[static_cast<size_t>(j)])) {
      out.cells[i] = old->values.cells[static_cast<size_t>(j)];
      continue;
    }
    if (unavailable) ++*unavailable;
    if (holds_marker(t.columns[i].kind)) out.cells[i] = make_cell(unavailable_value_marker);
  }
  return out;
}

row key_only(const row& after, const table_schema& t) {
  row out;
  out.cells.resize(after.cells.size());
  for (size_t i : key_columns(t))
    if (i < after.cells.size()) out.cells[i] = after.cells[i];
  return out;
}

change_batcher::change_batcher(std::vector<uint32_t> stream_of_table, size_t streams,
                               size_t max_rows)
  : stream_of_table_(std::move(stream_of_table)),
    max_rows_(std::max<size_t>(max_rows, 1)),
    open_(streams),
    per_table_(stream_of_table_.size(), 0),
    per_stream_(streams, 0) {
  for (size_t s = 0; s < open_.size(); ++s) open_[s].stream = static_cast<uint32_t>(s);
}

void change_batcher::begin(uint64_t commit_lsn, uint32_t xid, int64_t commit_ms) {
  in_txn_ = true;
  commit_lsn_ = commit_lsn;
  xid_ = xid;
  commit_ms_ = commit_ms;
  total_ = 0;
  std::fill(per_table_.begin(), per_table_.end(), 0);
  std::fill(per_stream_.begin(), per_stream_.end(), 0);
}

std::optional<change_batch> change_batcher::add(row_change c) {
  if (c.table >= stream_of_table_.size()) return std::nullopt;
  auto s = stream_of_table_[c.table];
  c.commit_lsn = commit_lsn_;
  c.xid = xid_;
  c.commit_ms = commit_ms_;
  c.total_order = ++total_;
  c.data_collection_order = ++per_table_[c.table];
  c.index = ++per_stream_[s];
  auto& b = open_[s];
  if (b.transactions.empty() || b.transactions.back() != commit_lsn_)
    b.transactions.push_back(commit_lsn_);
  b.changes.push_back(std::move(c));
  ++buffered_;
  if (b.changes.size() >= max_rows_) return take(s);
  return std::nullopt;
}

void change_batcher::commit() { in_txn_ = false; }

change_batch change_batcher::take(uint32_t stream) {
  change_batch out;
  out.stream = stream;
  std::swap(out.changes, open_[stream].changes);
  std::swap(out.transactions, open_[stream].transactions);
  out.seq = next_seq_++;
  buffered_ -= out.changes.size();
  return out;
}

std::vector<change_batch> change_batcher::flush() {
  std::vector<change_batch> out;
  for (size_t s = 0; s < open_.size(); ++s)
    if (!open_[s].changes.empty()) out.push_back(take(static_cast<uint32_t>(s)));
  return out;
}

std::optional<change_batch> change_batcher::flush_stream(uint32_t stream) {
  if (stream >= open_.size() || open_[stream].changes.empty()) return std::nullopt;
  return take(stream);
}

void change_batcher::reset() {
  for (auto& b : open_) {
    b.changes.clear();
    b.transactions.clear();
  }
  buffered_ = 0;
  in_txn_ = false;
}

}  // namespace trib
