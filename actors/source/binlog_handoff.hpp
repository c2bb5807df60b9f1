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
//
// A table read in split-key ranges (the split-key one of the columns that
// identify a row) has a position per range: a change's before image is in
// the snapshot when the range of its split-key value has a position after
// the change's transaction, its after image likewise; an update that keeps
// its key keeps its range. Pure code, tested directly.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "messages/position.hpp"
#include "messages/row.hpp"

namespace trib {

class snapshot_handoff {
public:
  /// Table `table`'s snapshot holds the transactions logged before `at`
  /// (binlog_file/binlog_pos set). A table given twice keeps the later
  /// position, which is the one its rows were read at (a reader that began
  /// again before reading a row).
  void add(uint32_t table, const source_position& at);
  /// Table `table`'s split-key range [lo, hi) (an unset bound is open; the
  /// range without `lo` also holds rows whose split-key is NULL) of the
  /// split-key in schema column `column` holds the transactions logged
  /// before `at`.
  void add_range(uint32_t table, size_t column, std::optional<int64_t> lo,
                 std::optional<int64_t> hi, const source_position& at);

  /// Where the binlog reader starts: the earliest table position; nothing
  /// when no table was added.
  std::optional<source_position> start() const;

  /// Whether the changes to `table` of the transaction whose first event
  /// (its GTID or BEGIN) is at {file, pos} are already in the table's
  /// snapshot, so the reader drops them. A table without a snapshot position
  /// (not part of the snapshot) keeps every change.
  bool in_snapshot(uint32_t table, const std::string& file, uint64_t pos) const;
  /// The same for one image of a change (its row in the run's schema): for
  /// a table read in ranges, the range of the image's split-key value
  /// decides. Throws bad_data for a split-key value that is no integer.
  bool in_snapshot(uint32_t table, const row& image, const std::string& file,
                   uint64_t pos) const;

  /// Whether `table` was read in split-key ranges (changes are then
  /// decided per image).
  bool by_range(uint32_t table) const { return ranges_.count(table) > 0; }
  /// Whether every change at or after {file, pos} is kept: the reader is
  /// past every table's position and stops asking.
  bool passed(const std::string& file, uint64_t pos) const;

private:
  /// Per table: its position, and that position as binlog::position_key packs
  /// it (file sequence number << 32 | offset), which orders positions.
  std::map<uint32_t, std::pair<source_position, uint64_t>> tables_;
  struct range_at {
    size_t column = 0;
    std::optional<int64_t> lo, hi;
    source_position at;
    uint64_t key = 0;
  };
  std::map<uint32_t, std::vector<range_at>> ranges_;
};

}  // namespace trib
