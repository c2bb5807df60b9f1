#pragma once
// The handoff from the snapshot of `full` to the binlog on MySQL/MariaDB,
// without a lock. MariaDB cannot share one snapshot between connections, so
// every table's reader takes its own START TRANSACTION WITH CONSISTENT
// SNAPSHOT and gets its own binlog position (binlog_snapshot_file/position):
// that table's rows hold exactly the transactions logged before it. The
// binlog reader starts at the earliest of those positions and drops, table by
// table, the changes of transactions that begin before the table's own
// position; binlog order is commit order, so what remains is exactly what the
// table's snapshot lacks. Why not one position for all: docs/binlog.md.
// Pure code, tested directly.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "messages/position.hpp"

namespace trib {

class snapshot_handoff {
public:
  /// Table `table`'s snapshot holds the transactions logged before `at`
  /// (binlog_file/binlog_pos set). A table given twice keeps the later
  /// position, which is the one its rows were read at (a reader that began
  /// again before reading a row).
  void add(uint32_t table, const source_position& at);

  /// Where the binlog reader starts: the earliest table position; nothing
  /// when no table was added.
  std::optional<source_position> start() const;

  /// Whether the changes to `table` of the transaction whose first event
  /// (its GTID or BEGIN) is at {file, pos} are already in the table's
  /// snapshot, so the reader drops them. A table without a snapshot position
  /// (not part of the snapshot) keeps every change.
  bool in_snapshot(uint32_t table, const std::string& file, uint64_t pos) const;

  /// Whether every change at or after {file, pos} is kept: the reader is
  /// past every table's position and stops asking.
  bool passed(const std::string& file, uint64_t pos) const;

private:
  /// Per table: its position, and that position as binlog::position_key packs
  /// it (file sequence number << 32 | offset), which orders positions.
  std::map<uint32_t, std::pair<source_position, uint64_t>> tables_;
};

}  // namespace trib
