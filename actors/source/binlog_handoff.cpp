#include "actors/source/binlog_handoff.hpp"

#include "actors/source/binlog_decoder.hpp"

namespace trib {

void snapshot_handoff::add(uint32_t table, const source_position& at) {
  uint64_t key = binlog::position_key(at.binlog_file, at.binlog_pos);
  auto [it, fresh] = tables_.emplace(table, std::make_pair(at, key));
  if (!fresh && it->second.second < key) it->second = {at, key};
}

std::optional<source_position> snapshot_handoff::start() const {
  const std::pair<source_position, uint64_t>* first = nullptr;
  for (const auto& [t, at] : tables_)
    if (!first || at.second < first->second) first = &at;
  if (!first) return std::nullopt;
  return first->first;
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
  return true;
}

}  // namespace trib
