#include "actors/source/binlog_handoff.hpp"

#include <cctype>

namespace trib {

namespace {

/// The file's base name and its numeric extension (0 when it has none).
std::pair<std::string, uint64_t> split_file(const std::string& file) {
  size_t dot = file.rfind('.');
  if (dot == std::string::npos || dot + 1 == file.size()) return {file, 0};
  uint64_t n = 0;
  for (size_t i = dot + 1; i < file.size(); ++i) {
    auto c = static_cast<unsigned char>(file[i]);
    if (!std::isdigit(c)) return {file, 0};
    n = n * 10 + (c - '0');
  }
  return {file.substr(0, dot), n};
}

}  // namespace

int compare_binlog_positions(const std::string& file_a, uint64_t pos_a, const std::string& file_b,
                             uint64_t pos_b) {
  if (file_a != file_b) {
    auto [base_a, n_a] = split_file(file_a);
    auto [base_b, n_b] = split_file(file_b);
    if (n_a != n_b) return n_a < n_b ? -1 : 1;
    // Same number, other base name: not one server's sequence; any fixed
    // order keeps the comparison consistent.
    int c = base_a.compare(base_b);
    if (c != 0) return c < 0 ? -1 : 1;
  }
  if (pos_a != pos_b) return pos_a < pos_b ? -1 : 1;
  return 0;
}

void snapshot_handoff::add(uint32_t table, const source_position& at) {
  auto [it, fresh] = tables_.emplace(table, at);
  if (!fresh && compare_binlog_positions(it->second.binlog_file, it->second.binlog_pos,
                                         at.binlog_file, at.binlog_pos) < 0)
    it->second = at;
}

std::optional<source_position> snapshot_handoff::start() const {
  std::optional<source_position> out;
  for (const auto& [t, at] : tables_)
    if (!out || compare_binlog_positions(at.binlog_file, at.binlog_pos, out->binlog_file,
                                         out->binlog_pos) < 0)
      out = at;
  return out;
}

bool snapshot_handoff::in_snapshot(uint32_t table, const std::string& file, uint64_t pos) const {
  auto it = tables_.find(table);
  if (it == tables_.end()) return false;
  // The snapshot position lies between transactions: one that begins
  // before it was committed, and logged, before the snapshot began.
  return compare_binlog_positions(file, pos, it->second.binlog_file, it->second.binlog_pos) < 0;
}

bool snapshot_handoff::passed(const std::string& file, uint64_t pos) const {
  for (const auto& [t, at] : tables_)
    if (compare_binlog_positions(file, pos, at.binlog_file, at.binlog_pos) < 0) return false;
  return true;
}

}  // namespace trib
