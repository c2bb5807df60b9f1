#pragma once
// What flows from readers to appliers to writers, and the acknowledgements
// that flow back. A reader keeps at most a few row_batches unacknowledged, so
// memory stays flat however large a table is.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/failure.hpp"
#include "messages/position.hpp"
#include "messages/row.hpp"
#include "messages/table.hpp"

namespace trib {

/// Snapshot rows of one table, read in order-column order.
struct row_batch {
  /// The table's index in the coordinator's plan.
  uint32_t table = 0;
  /// Sequence number within the table, from 0.
  uint64_t seq = 0;
  std::vector<row> rows;
  /// Where the table's snapshot stands once these rows are written.
  snapshot_position position;
  /// The position of the source log the snapshot is consistent with.
  source_position source;
  /// A table read in key ranges (extractor split-key): the range these rows
  /// belong to (1-based; 0 = the table is not split), and how many ranges
  /// are read in this run. Each range has its own reader, seq numbering and
  /// checkpoint field (`<stream>#<range>`); the table is done when every
  /// range read in this run is.
  uint32_t range = 0;
  uint32_t ranges = 1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, row_batch& x) {
  return f(caf::meta::type_name("row_batch"), x.table, x.seq, x.rows,
           x.position, x.source, x.range, x.ranges);
}

/// The applier has committed a batch (or given up on it).
struct batch_ack {
  uint32_t table = 0;
  uint64_t seq = 0;
  uint64_t rows_written = 0;
  /// The batch's rows, written and done with, handed back so that the reader
  /// refills them (their cells and text buffers) instead of allocating new
  /// rows and the applier freeing these: in a long snapshot the rows' memory
  /// is then allocated once. May be empty.
  std::vector<row> spare;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_ack& x) {
  return f(caf::meta::type_name("batch_ack"), x.table, x.seq, x.rows_written, x.spare);
}

/// One stream entry: the two fields Tributary writes.
struct stream_entry {
  std::string key;
  std::string value;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_entry& x) {
  return f(caf::meta::type_name("stream_entry"), x.key, x.value);
}

/// Entries for one stream plus the checkpoint they reach; a writer commits
/// them in one MULTI/EXEC with the HSET of the checkpoint.
struct write_batch {
  std::string stream;
  std::vector<stream_entry> entries;
  std::string checkpoint_key;
  std::string checkpoint_field;
  std::string checkpoint_value;
  /// Entries already encoded as RESP `XADD <stream> * key <k> value <v>`
  /// commands (xadd_encoder), written after `entries`: the snapshot's hot
  /// path builds each entry straight into the bytes that go to Redis, with
  /// no string per entry. `encoded_count` is how many commands they are.
  std::string encoded;
  uint64_t encoded_count = 0;
  /// The sender has the rows of its next write in hand and may send it
  /// before this one is acknowledged. The writer then leaves this write's
  /// replies unread until that next write is on the wire (pipelining), so
  /// Redis never waits for a round trip between two writes.
  bool more_follows = false;

  /// Entries in all: entries.size() + encoded_count.
  size_t size() const { return entries.size() + encoded_count; }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_batch& x) {
  return f(caf::meta::type_name("write_batch"), x.stream, x.entries,
           x.checkpoint_key, x.checkpoint_field, x.checkpoint_value, x.encoded,
           x.encoded_count, x.more_follows);
}

/// A write_batch is committed: how many entries Redis added, and the ID of
/// the last (empty when none was, or when the commit was found already done
/// after a lost connection).
struct write_ack {
  uint64_t entries = 0;
  std::string last_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_ack& x) {
  return f(caf::meta::type_name("write_ack"), x.entries, x.last_id);
}

/// Takes back the committed writes of a failed realtime batch (design
/// section 7): the checkpoint field is written back to what it held before
/// the batch (`had_checkpoint` false: the field is deleted), then each
/// write's entries -- the `counts[i]` entries up to and including
/// `last_ids[i]`, contiguous since a write is one MULTI/EXEC -- are deleted.
/// The writer also forgets that the field failed, so the batch can be
/// written again in order.
struct undo_request {
  std::string stream;
  std::vector<std::string> last_ids;
  std::vector<uint64_t> counts;
  std::string checkpoint_key;
  std::string checkpoint_field;
  std::string checkpoint_value;
  bool had_checkpoint = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, undo_request& x) {
  return f(caf::meta::type_name("undo_request"), x.stream, x.last_ids, x.counts,
           x.checkpoint_key, x.checkpoint_field, x.checkpoint_value, x.had_checkpoint);
}

/// What an undo did: entries deleted, and when something could not be
/// done, why and the IDs of the entries still in the stream (in doubt).
struct undo_result {
  uint64_t deleted = 0;
  bool failed = false;
  std::string error;
  std::vector<std::string> not_deleted;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, undo_result& x) {
  return f(caf::meta::type_name("undo_result"), x.deleted, x.failed, x.error, x.not_deleted);
}

/// A table has finished (or was skipped); sent to the coordinator.
struct table_done {
  uint32_t table = 0;
  uint64_t rows_written = 0;
  bool skipped = false;
  failure reason;  // set when skipped
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, table_done& x) {
  return f(caf::meta::type_name("table_done"), x.table, x.rows_written,
           x.skipped, x.reason);
}

}  // namespace trib
