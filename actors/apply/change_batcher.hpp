#pragma once
// From decoded pgoutput messages to change batches, free of CAF (tested as
// plain code). Two parts: how a relation's tuples become rows of a table as
// the run knows it (column projection, unchanged TOASTed values), and how
// row changes are grouped into the batches of each stream (whole source
// transactions up to txn-size-rows changes per atomic write; a larger
// transaction is split, its parts numbered by the per-stream index that the
// stream checkpoint records).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "actors/source/pgoutput.hpp"
#include "messages/change.hpp"
#include "messages/table.hpp"

namespace trib {

/// What an unchanged TOASTed value becomes when no old image has it:
/// Debezium's placeholder, so consumers that know Debezium recognise it. A
/// value is never invented: columns whose type cannot hold a string
/// (numeric, arrays, bits, ...) get null instead, and the README says so.
constexpr const char* unavailable_value_marker = "__debezium_unavailable_value";

/// Whether a column of this kind carries the marker (else it gets null).
bool holds_marker(value_kind k);

/// For each column of a table, the relation column it comes from (-1 when
/// the relation lacks it, e.g. a change older than an ADD COLUMN).
std::vector<int> map_relation(const pg_relation& rel, const table_schema& t);

/// Whether the relation's columns are exactly the table's, by name and
/// order: when not, the table's schema may have changed (DDL) or the table
/// is read with a column filter, and the catalog is asked again.
bool same_columns(const pg_relation& rel, const table_schema& t);

/// The table's row from a tuple. An unchanged TOASTed value is taken from
/// `old` when that has it (REPLICA IDENTITY FULL), else it becomes the
/// marker (or null, see holds_marker); `unavailable` counts those.
row project(const pg_tuple& tuple, const std::vector<int>& columns,
            const table_schema& t, const pg_tuple* old = nullptr,
            size_t* unavailable = nullptr);

/// The old image of an update without one (REPLICA IDENTITY DEFAULT and the
/// key unchanged): the key columns of the new row, the rest null, as design
/// section 4 says `before` carries the key only.
row key_only(const row& after, const table_schema& t);

/// Groups a source's row changes into per-stream batches.
class change_batcher {
public:
  /// `stream_of_table[t]` is the stream of table t; batches hold at most
  /// `max_rows` changes (txn-size-rows).
  change_batcher(std::vector<uint32_t> stream_of_table, size_t streams, size_t max_rows);

  /// A transaction begins.
  void begin(uint64_t commit_lsn, uint32_t xid, int64_t commit_ms);
  /// Adds a change of the current transaction, numbering it (total_order,
  /// data_collection_order, per-stream index) and filling its transaction
  /// fields. Returns the stream's batch when it reached max_rows.
  std::optional<change_batch> add(row_change c);
  /// The transaction is complete (its batches may still be open).
  void commit();
  /// Every open batch, in stream order; they get sequence numbers here.
  std::vector<change_batch> flush();
  /// The open batch of one stream, if it has changes.
  std::optional<change_batch> flush_stream(uint32_t stream);
  /// Changes held in open batches.
  size_t buffered() const { return buffered_; }
  bool in_transaction() const { return in_txn_; }
  /// Forgets open batches and the current transaction (the source
  /// connection was lost; the slot sends them again).
  void reset();

private:
  change_batch take(uint32_t stream);

  std::vector<uint32_t> stream_of_table_;
  size_t max_rows_;
  std::vector<change_batch> open_;
  size_t buffered_ = 0;
  uint64_t next_seq_ = 0;
  bool in_txn_ = false;
  uint64_t commit_lsn_ = 0;
  uint32_t xid_ = 0;
  int64_t commit_ms_ = 0;
  int64_t total_ = 0;
  std::vector<int64_t> per_table_;
  std::vector<uint64_t> per_stream_;
};

}  // namespace trib
