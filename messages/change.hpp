#pragma once
// Realtime values, the same for every source (design sections 4 and 6): row
// changes as a change reader decodes them from its source's log, the
// transactions it hands to the change dispatcher, the per-stream change
// batches the dispatcher hands to the change appliers, and the
// acknowledgements and releases that flow back. Nothing here needs a
// source's code to read: a change carries an ordered commit key that
// checkpoints and the transaction tracker use for any source, and its
// `source` block's facts in the source's own words (change_source).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/position.hpp"
#include "messages/row.hpp"
#include "messages/table.hpp"

namespace trib {

/// The operation of a row change, in the envelope's order of op codes:
/// insert "c", update "u", delete "d", truncate "t"; read "r" is a row of an
/// incremental snapshot, emitted into the change path at its chunk's high
/// watermark (actors/control/incremental_window.hpp).
enum class change_op : uint8_t { insert, update, erase, truncate, read };

/// Where one change sits in its source's log, in the source's own words:
/// what the envelope's `source` block says about it. A reader fills the
/// fields of its kind and leaves the others at their defaults.
struct change_source {
  /// The change's own place: PostgreSQL `lsn` (source.lsn); MySQL/MariaDB
  /// binlog file and position of its rows event and the transaction's GTID
  /// (source.file, source.pos, source.gtid).
  source_position position;
  /// PostgreSQL transaction id (source.txId); negative: unknown (null).
  int64_t xid = -1;
  /// MySQL/MariaDB: the row's 0-based index in its rows event (source.row),
  /// the session thread (negative: null) and the SQL text (empty: null).
  int32_t row = 0;
  int64_t thread = -1;
  std::string query;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change_source& x) {
  return f(caf::meta::type_name("change_source"), x.position, x.xid, x.row, x.thread, x.query);
}

/// One change of one row (or one truncate of one table), with the
/// transaction it belongs to.
struct row_change {
  /// The table's index in the run's plan.
  uint32_t table = 0;
  change_op op = change_op::insert;
  /// The old image (update, delete): the key columns only or the whole row,
  /// as the source logs it.
  bool has_before = false;
  row before;
  /// The new image (insert, update).
  bool has_after = false;
  row after;
  /// The change's place in the log (set by the reader).
  change_source source;
  /// The transaction (set by the dispatcher from its source_txn): the
  /// ordered commit key, the id (transaction.id) and the commit time
  /// (source.ts_ms).
  uint64_t commit = 0;
  std::string txn_id;
  int64_t commit_ms = 0;
  /// Set by the dispatcher: the change's 1-based place among the events of
  /// its transaction (transaction.total_order) and among those of its table
  /// (data_collection_order). A key update is two events, a delete and an
  /// insert, numbered n and n + 1 (as Debezium numbers them): these are the
  /// delete's numbers.
  int64_t total_order = 1;
  int64_t data_collection_order = 1;
  /// Set by the dispatcher: the 1-based place among the transaction's
  /// changes of the target stream; with `commit`, the position a stream
  /// checkpoint records.
  uint64_t index = 1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, row_change& x) {
  return f(caf::meta::type_name("row_change"), x.table, x.op, x.has_before, x.before,
           x.has_after, x.after, x.source, x.commit, x.txn_id, x.commit_ms, x.total_order,
           x.data_collection_order, x.index);
}

/// Bytes a change holds in memory, about: what the dispatcher's flow
/// control counts.
uint64_t change_bytes(const row_change& c);

/// One source transaction, or a part of one, as a change reader decoded
/// it. A reader sends a transaction's changes in log order, in as many parts
/// as it likes (a part may have no change); the part with `last` set ends
/// the transaction.
struct source_txn {
  /// The ordered commit key: ordered like the transactions' commits across
  /// the whole change log, the same in every part, unique per transaction.
  /// Known from the transaction's first part on, so a large transaction
  /// can go out in parts. PostgreSQL: the commit LSN (pgoutput's Begin
  /// carries it). A binlog: (file sequence number << 32) | position of the
  /// transaction's first event (its GTID or BEGIN), since binlog order is
  /// commit order; its end is only the release position.
  uint64_t commit = 0;
  /// transaction.id (the PostgreSQL xid as text, the GTID) and the commit
  /// time (source.ts_ms, milliseconds since the epoch).
  std::string id;
  int64_t commit_ms = 0;
  /// Changes with table, op, images and `source` set; the dispatcher fills
  /// in the transaction fields and the numbering.
  std::vector<row_change> changes;
  /// This part ends the transaction.
  bool last = false;
  /// With `last`: the release position, where the reader may let the
  /// source go once this transaction and every earlier one are in Redis
  /// (PostgreSQL: the commit record's end LSN; a binlog: where to restart
  /// reading after it). Opaque to the dispatcher, which only hands it back
  /// (change_release); must grow with `commit`.
  uint64_t release = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, source_txn& x) {
  return f(caf::meta::type_name("source_txn"), x.commit, x.id, x.commit_ms, x.changes, x.last,
           x.release);
}

/// What a reader decoded since its last feed: transactions or parts of
/// them, in log order.
struct change_feed {
  std::vector<source_txn> txns;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change_feed& x) {
  return f(caf::meta::type_name("change_feed"), x.txns);
}

/// From the dispatcher to its reader: how far the source may be released.
struct change_release {
  /// The release position of the last transaction that, with every one
  /// before it, is in Redis (0: none yet). Never goes back.
  uint64_t position = 0;
  /// Feeds the dispatcher has taken so far, and whether everything they
  /// held is written (nothing open, nothing in flight, nothing held back):
  /// a reader that has sent no more feeds than that may release the
  /// source up to where it has read, transactions of no replicated table
  /// included (PostgreSQL: the keepalive's WAL end).
  uint64_t feeds = 0;
  bool idle = false;
  /// The run must end (a stream stopped at a change it cannot write and
  /// the table may not stop alone, or a write failed): the reader stops
  /// reading and drains (drain_atom), whose answer says why.
  bool stop = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change_release& x) {
  return f(caf::meta::type_name("change_release"), x.position, x.feeds, x.idle, x.stop);
}

/// Consecutive changes of one stream, in commit order, written in one atomic
/// write. May hold several whole transactions, or part of a large one.
struct change_batch {
  /// The stream's index in the run.
  uint32_t stream = 0;
  /// Sequence number from the dispatcher, per run.
  uint64_t seq = 0;
  std::vector<row_change> changes;
  /// Commit keys of the transactions the batch holds changes of, in order:
  /// a transaction is released once every batch of it is written.
  std::vector<uint64_t> transactions;
  /// change_bytes of the changes, summed.
  uint64_t bytes = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change_batch& x) {
  return f(caf::meta::type_name("change_batch"), x.stream, x.seq, x.changes, x.transactions,
           x.bytes);
}

/// A change batch is in Redis (or was covered by the stream's checkpoint).
struct change_ack {
  uint32_t stream = 0;
  uint64_t seq = 0;
  /// Entries written (0 when the checkpoint covered every change).
  uint64_t entries = 0;
  /// Set once the stream stopped at a change it cannot write (bad data):
  /// that change's commit key (0: not stopped), its table and why. The
  /// stream writes nothing from there on, and the source must not be
  /// released past that transaction, so that --resume writes it once the
  /// cause is fixed.
  uint64_t stopped_commit = 0;
  uint32_t stopped_table = 0;
  std::string stop_reason;
  /// The stop was the supervisor's answer to a failed write (the table is
  /// skipped, or its entries are in doubt): the dispatcher does not ask
  /// again. Otherwise (a change that cannot be converted) it asks.
  bool stop_decided = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change_ack& x) {
  return f(caf::meta::type_name("change_ack"), x.stream, x.seq, x.entries, x.stopped_commit,
           x.stopped_table, x.stop_reason, x.stop_decided);
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
