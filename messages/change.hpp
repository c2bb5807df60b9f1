#pragma once
// Realtime values: row changes decoded from the source's change log, grouped
// into change batches for one stream, and the acknowledgements that release
// the source (design sections 4 and 6). The WAL reader keeps a bounded number
// of batches unacknowledged, so memory stays flat however large a source
// transaction is.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/row.hpp"
#include "messages/table.hpp"

namespace trib {

/// The operation of a row change, as the envelope's change_op numbers it:
/// 0 insert, 1 update, 2 delete, 3 truncate.
enum class row_op : uint8_t { insert, update, erase, truncate };

/// One change of one row (or one truncate of one table), with the
/// transaction it belongs to.
struct row_change {
  /// The table's index in the run's plan.
  uint32_t table = 0;
  row_op op = row_op::insert;
  /// The old image (update, delete): the key columns only or the whole row,
  /// as the table's REPLICA IDENTITY gives it.
  bool has_before = false;
  row before;
  /// The new image (insert, update).
  bool has_after = false;
  row after;
  /// WAL position of the change itself (source.lsn).
  uint64_t lsn = 0;
  /// The transaction: commit LSN, id, commit time (source.ts_ms).
  uint64_t commit_lsn = 0;
  uint32_t xid = 0;
  int64_t commit_ms = 0;
  /// 1-based place among the transaction's changes (transaction.total_order)
  /// and among its changes of this table (data_collection_order).
  int64_t total_order = 1;
  int64_t data_collection_order = 1;
  /// 1-based place among the transaction's changes of the target stream:
  /// with commit_lsn, the position a stream checkpoint records.
  uint64_t index = 1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, row_change& x) {
  return f(caf::meta::type_name("row_change"), x.table, x.op, x.has_before,
           x.before, x.has_after, x.after, x.lsn, x.commit_lsn, x.xid,
           x.commit_ms, x.total_order, x.data_collection_order, x.index);
}

/// Consecutive changes of one stream, in commit order, written in one atomic
/// write. May hold several whole transactions, or part of a large one.
struct change_batch {
  /// The stream's index in the run.
  uint32_t stream = 0;
  /// Sequence number from the reader, per run.
  uint64_t seq = 0;
  std::vector<row_change> changes;
  /// Commit LSNs of the transactions the batch holds changes of, in order:
  /// the reader releases a transaction once every batch of it is written.
  std::vector<uint64_t> transactions;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change_batch& x) {
  return f(caf::meta::type_name("change_batch"), x.stream, x.seq, x.changes,
           x.transactions);
}

/// A change batch is in Redis (or was covered by the stream's checkpoint).
struct change_ack {
  uint32_t stream = 0;
  uint64_t seq = 0;
  /// Entries written (0 when the checkpoint covered every change).
  uint64_t entries = 0;
  /// Set once the stream stopped at a change it cannot write (bad data):
  /// that change's commit LSN, its table and why. The stream writes nothing
  /// from there on, and the slot must not be confirmed past that
  /// transaction, so that --resume writes it once the cause is fixed.
  uint64_t stopped_lsn = 0;
  uint32_t stopped_table = 0;
  std::string stop_reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change_ack& x) {
  return f(caf::meta::type_name("change_ack"), x.stream, x.seq, x.entries, x.stopped_lsn,
           x.stopped_table, x.stop_reason);
}

/// A table's columns changed (DDL): later changes of the table use `schema`.
struct schema_change {
  uint32_t table = 0;
  table_schema schema;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, schema_change& x) {
  return f(caf::meta::type_name("schema_change"), x.table, x.schema);
}

}  // namespace trib
