#pragma once
// Groups source-neutral row changes into the change batches of each stream,
// free of CAF and of any source's code (tested as plain code): whole source
// transactions up to txn-size-rows changes per atomic write; a larger
// transaction is split, its parts numbered by the per-stream index that the
// stream checkpoint records. Numbers each change's place in its transaction
// (total_order, data_collection_order) the way Debezium does.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/change.hpp"
#include "messages/table.hpp"

namespace trib {

/// Whether an update moves its row to another key: it is then written as
/// two events, a delete of the old key and an insert of the new one.
bool key_moved(const std::vector<size_t>& key, const row_change& c);

/// Groups a source's row changes into per-stream batches.
class change_batcher {
public:
  /// `tables` are the run's tables by plan index, `stream_of_table[t]` the
  /// stream of table t; a batch is full at `max_rows` changes
  /// (txn-size-rows) or once its changes reach `max_bytes` (change_bytes).
  change_batcher(const std::vector<table_schema>& tables, std::vector<uint32_t> stream_of_table,
                 size_t streams, size_t max_rows, uint64_t max_bytes = UINT64_MAX);

  /// A transaction begins: its commit key, id and commit time go into
  /// every change added until commit().
  void begin(uint64_t commit, std::string txn_id, int64_t commit_ms);
  /// Adds a change of the current transaction, numbering it (total_order,
  /// data_collection_order: two places for a key update, whose delete and
  /// insert are two events; per-stream index) and filling its transaction
  /// fields. Returns the stream's batch when it reached max_rows.
  std::optional<change_batch> add(row_change c);
  /// The transaction is complete (its batches may still be open).
  void commit();
  /// Every open batch, in stream order; they get sequence numbers here.
  std::vector<change_batch> flush();
  /// The open batch of one stream, if it has changes.
  std::optional<change_batch> flush_stream(uint32_t stream);
  /// A table's key columns changed (DDL).
  void set_schema(uint32_t table, const table_schema& t);
  /// Changes held in open batches, and their change_bytes.
  size_t buffered() const { return buffered_; }
  uint64_t buffered_bytes() const { return buffered_bytes_; }
  bool in_transaction() const { return in_txn_; }
  /// The current transaction's commit key (meaningful in_transaction()).
  uint64_t current() const { return commit_; }
  /// Forgets open batches and the current transaction (the source
  /// connection was lost; the reader sends them again).
  void reset();

private:
  change_batch take(uint32_t stream);

  std::vector<uint32_t> stream_of_table_;
  std::vector<std::vector<size_t>> keys_;
  size_t max_rows_;
  uint64_t max_bytes_;
  std::vector<change_batch> open_;
  size_t buffered_ = 0;
  uint64_t buffered_bytes_ = 0;
  uint64_t next_seq_ = 0;
  bool in_txn_ = false;
  uint64_t commit_ = 0;
  std::string txn_id_;
  int64_t commit_ms_ = 0;
  int64_t total_ = 0;
  std::vector<int64_t> per_table_;
  std::vector<uint64_t> per_stream_;
};

}  // namespace trib
