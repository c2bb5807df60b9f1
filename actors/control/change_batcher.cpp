#include "actors/control/change_batcher.hpp"

#include <algorithm>

namespace trib {

bool key_moved(const std::vector<size_t>& key, const row_change& c) {
  if (c.op != change_op::update || !c.has_before || !c.has_after) return false;
  for (size_t i : key)
    if (i < c.before.cells.size() && i < c.after.cells.size() &&
        !(c.before.cells[i] == c.after.cells[i]))
      return true;
  return false;
}

change_batcher::change_batcher(const std::vector<table_schema>& tables,
                               std::vector<uint32_t> stream_of_table, size_t streams,
                               size_t max_rows, uint64_t max_bytes)
  : stream_of_table_(std::move(stream_of_table)),
    max_rows_(std::max<size_t>(max_rows, 1)),
    max_bytes_(std::max<uint64_t>(max_bytes, 1)),
    open_(streams),
    per_table_(stream_of_table_.size(), 0),
    per_stream_(streams, 0) {
  for (const auto& t : tables) keys_.push_back(key_columns(t));
  keys_.resize(stream_of_table_.size());
  for (size_t s = 0; s < open_.size(); ++s) open_[s].stream = static_cast<uint32_t>(s);
}

void change_batcher::set_schema(uint32_t table, const table_schema& t) {
  if (table < keys_.size()) keys_[table] = key_columns(t);
}

void change_batcher::begin(uint64_t commit, std::string txn_id, int64_t commit_ms) {
  in_txn_ = true;
  commit_ = commit;
  txn_id_ = std::move(txn_id);
  commit_ms_ = commit_ms;
  total_ = 0;
  std::fill(per_table_.begin(), per_table_.end(), 0);
  std::fill(per_stream_.begin(), per_stream_.end(), 0);
}

std::optional<change_batch> change_batcher::add(row_change c) {
  if (c.table >= stream_of_table_.size()) return std::nullopt;
  auto s = stream_of_table_[c.table];
  c.commit = commit_;
  c.txn_id = txn_id_;
  c.commit_ms = commit_ms_;
  c.total_order = ++total_;
  c.data_collection_order = ++per_table_[c.table];
  // The insert half of a key update is an event of its own: the next place.
  if (key_moved(keys_[c.table], c)) {
    ++total_;
    ++per_table_[c.table];
  }
  c.index = ++per_stream_[s];
  auto& b = open_[s];
  if (b.transactions.empty() || b.transactions.back() != commit_) b.transactions.push_back(commit_);
  auto bytes = change_bytes(c);
  b.bytes += bytes;
  buffered_bytes_ += bytes;
  b.changes.push_back(std::move(c));
  ++buffered_;
  if (b.changes.size() >= max_rows_ || b.bytes >= max_bytes_) return take(s);
  return std::nullopt;
}

void change_batcher::commit() { in_txn_ = false; }

change_batch change_batcher::take(uint32_t stream) {
  change_batch out;
  out.stream = stream;
  std::swap(out.changes, open_[stream].changes);
  std::swap(out.transactions, open_[stream].transactions);
  out.bytes = open_[stream].bytes;
  open_[stream].bytes = 0;
  out.seq = next_seq_++;
  buffered_ -= out.changes.size();
  buffered_bytes_ -= out.bytes;
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
    b.bytes = 0;
  }
  buffered_ = 0;
  buffered_bytes_ = 0;
  in_txn_ = false;
}

}  // namespace trib
