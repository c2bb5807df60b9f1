#pragma once
// The chunk/window merge of incremental snapshots (DBLog; Debezium's
// incremental snapshots), free of CAF and of any source's code.
//
// A chunk of a table is read in key order between two watermarks that the
// run writes to a small table of the source: the low one before the read,
// the high one after. In the change log the watermarks' own changes mark a
// window. A change inside the window of a key the chunk holds may be older
// or newer than the row the chunk read, so the change stream wins: the
// chunk's row of that key is dropped. The rows no change touched are the
// row's state at the high watermark, so they go into the stream there, as
// snapshot rows (op r) of the high watermark's transaction. Changes before
// the window are older than the chunk's rows and after it newer, so the
// stream replays to the source's state, whatever the interleaving.

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "messages/change.hpp"
#include "messages/row.hpp"

namespace trib {

/// A row's key as one text: its key cells (null marked), joined. Two rows
/// have the same key exactly when their texts are equal.
std::string chunk_key_text(const row& r, const std::vector<size_t>& key_columns);

/// The merge of one chunk with the changes of its window.
class incremental_window {
public:
  /// A chunk of table `table` (plan index), whose rows are identified by
  /// `key_columns` (the columns of the table's key, in the rows' order).
  incremental_window(uint32_t table, std::vector<size_t> key_columns);

  /// The chunk's rows as read, in key order.
  void set_rows(std::vector<row> rows);

  /// A change read from the log between the low and the high watermark.
  /// Changes of other tables do not matter; a change of this table marks
  /// the key it had before and the key it has after (a key update moves a
  /// row out of one key and into another), a truncate every key.
  void note(const row_change& c);

  /// Whether the chunk's row with this key was touched inside the window.
  bool touched(const row& r) const;

  /// The chunk's rows that no change of the window touched, in key order,
  /// as snapshot rows of the high watermark's place in the log: op read,
  /// the row in `after`, `source.position` the high watermark's.
  std::vector<row_change> emit(const change_source& high) const;

  /// Rows read, keys touched so far.
  size_t rows() const { return rows_.size(); }
  size_t touched_keys() const { return truncated_ ? rows_.size() : touched_.size(); }

private:
  uint32_t table_;
  std::vector<size_t> key_columns_;
  std::vector<row> rows_;
  std::unordered_set<std::string> touched_;
  bool truncated_ = false;
};

}  // namespace trib
