#include "actors/source/binlog_handoff.hpp"

#include <cerrno>
#include <cstdlib>

#include "actors/source/binlog_decoder.hpp"
#include "messages/failure.hpp"

namespace trib {

void snapshot_handoff::add(uint32_t table, const source_position& at) {
  uint64_t key = binlog::position_key(at.binlog_file, at.binlog_pos);
  auto [it, fresh] = tables_.emplace(table, std::make_pair(at, key));
  if (!fresh && it->second.second < key) it->second = {at, key};
}

void snapshot_handoff::add_range(uint32_t table, size_t column, std::optional<int64_t> lo,
                                 std::optional<int64_t> hi, const source_position& at) {
  range_at r;
  r.column = column;
  r.lo = lo;
  r.hi = hi;
  r.at = at;
  r.key = binlog::position_key(at.binlog_file, at.binlog_pos);
  for (auto& old : ranges_[table])
    if (old.lo == lo && old.hi == hi) {
      if (old.key < r.key) old = r;
      return;
    }
  ranges_[table].push_back(r);
}

std::optional<source_position> snapshot_handoff::start() const {
  std::optional<source_position> first;
  uint64_t first_key = 0;
  auto consider = [&](const source_position& at, uint64_t key) {
    if (!first || key < first_key) {
      first = at;
      first_key = key;
    }
  };
  for (const auto& [t, at] : tables_) consider(at.first, at.second);
  for (const auto& [t, list] : ranges_)
    for (const auto& r : list) consider(r.at, r.key);
  return first;
}

bool snapshot_handoff::in_snapshot(uint32_t table, const row& image, const std::string& file,
                                   uint64_t pos) const {
  auto it = ranges_.find(table);
  if (it == ranges_.end()) return in_snapshot(table, file, pos);
  uint64_t key = binlog::position_key(file, pos);
  const auto& list = it->second;
  if (list.empty() || list.front().column >= image.cells.size())
    throw error(failure_code::internal, "a change image lacks the split-key column");
  const cell& c = image.cells[list.front().column];
  std::optional<int64_t> v;
  if (!c.null) {
    errno = 0;
    char* end = nullptr;
    long long n = std::strtoll(c.text.c_str(), &end, 10);
    if (c.text.empty() || errno != 0 || *end != '\0')
      throw error(failure_code::bad_data,
                  "split-key value '" + c.text + "' of a change is no 64-bit integer");
    v = n;
  }
  for (const auto& r : list) {
    bool inside = v ? (!r.lo || *v >= *r.lo) && (!r.hi || *v < *r.hi) : !r.lo;
    if (inside) return key < r.key;
  }
  // Ranges cover every value; a value outside them was in no range's rows.
  return false;
}

bool snapshot_handoff::in_snapshot(uint32_t table, const std::string& file, uint64_t pos) const {
  auto it = tables_.find(table);
  if (it == tables_.end()) return false;
  // The snapshot position lies between transactions: one that begins
  // before it was committed, and logged, before the snapshot began.
  return binlog::position_key(file, pos) < it->second.second;
}

bool snapshot_handoff::passed(const std::string& file, uint64_t pos) const {
  uint64_t key = binlog::position_key(file, pos);
  for (const auto& [t, at] : tables_)
    if (key < at.second) return false;
  for (const auto& [t, list] : ranges_)
    for (const auto& r : list)
      if (key < r.key) return false;
  return true;
}

}  // namespace trib
