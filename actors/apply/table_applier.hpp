#pragma once
// A table applier: one per table, owns the order and the checkpoint of the
// table's stream. Include only from actor .cpp files (pulls in CAF).

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "actors/actors.hpp"
#include "actors/sink/redis_client.hpp"
#include "messages/source_facts.hpp"
#include "conf/config.hpp"

namespace trib {

class envelope_builder;
class progress_board;
class xadd_encoder;

/// What an applier needs besides its table.
struct table_applier_settings {
  applier_config applier;
  map_config map;
  std::string group = "default";
  std::string id = "default";
  source_facts facts;
  /// A write to Redis carries entries of at most about this many bytes
  /// (key + value; at least one entry): it bounds the memory of built
  /// entries, whatever the message size, and a batch of the reader becomes
  /// as many writes as it needs.
  size_t max_write_bytes = 1u << 20;
  /// Writes at the writer at once. More than one lets the writer send the
  /// next write before Redis answered the previous (pipelining); order holds
  /// because one writer serves a table on one connection.
  size_t max_writes_in_flight = 1;
  /// The longest argument Redis accepts (its proto-max-bulk-len): a row
  /// whose entry is longer is skipped as bad data instead of written.
  uint64_t max_entry_bytes = default_max_bulk_bytes;
  /// Where rows done are shown (none: not shown).
  std::shared_ptr<progress_board> progress;
};

struct table_applier_state {
  static inline const char* name = "table_applier";

  /// A batch of the reader, waiting for (or in) its writes.
  struct incoming {
    row_batch batch;
    /// Rows turned into writes so far (the rows go back to the reader with
    /// the batch_ack).
    size_t next_row = 0;
    /// Its last write went out.
    bool issued = false;
    /// Entries committed so far.
    uint64_t written = 0;
    caf::typed_response_promise<batch_ack> promise;
  };

  /// A write at the writer; they are answered in order.
  struct in_write {
    uint64_t entries = 0;
    /// It is the last write of the front batch.
    bool ends_batch = false;
  };

  uint32_t table = 0;
  table_schema schema;
  table_applier_settings settings;
  std::unique_ptr<envelope_builder> builder;
  std::unique_ptr<xadd_encoder> xadd;
  /// The largest encoded entry so far, to reserve a write's bytes once.
  size_t largest_entry = 0;
  std::string stream;
  std::string checkpoint_key;
  redis_writer_actor writer;
  coordinator_actor coordinator;
  /// Batches in arrival order, until their last write is committed; the
  /// first `issued_batches` of them have all their writes out.
  std::deque<incoming> batches;
  size_t issued_batches = 0;
  std::deque<in_write> writes;
  /// Final batches (position.done) turned into writes, and committed: with
  /// split-key ranges the table ends when every range's final batch has.
  uint32_t finals_issued = 0;
  uint32_t finals_done = 0;
  /// Rows committed in this run.
  uint64_t rows_written = 0;
  /// Rows the envelope builder rejected (logged, not written).
  uint64_t bad_rows = 0;
  /// Set once a write failed for good; later batches are refused.
  bool failed = false;
  bool finished = false;
  failure reason;

  table_applier_state();
  ~table_applier_state();
};

/// Builds one stream entry per row (snapshot_entry; the table's final row is
/// marked "last", which the project uses as "last row of this table's
/// stream"), packs entries with the checkpoint they reach (field = the
/// stream name, or `<stream>#<range>` for a split-key range; value =
/// encode_snapshot_checkpoint(position)) into write_batches of at most
/// settings.max_write_bytes, and keeps at most max_writes_in_flight writes
/// at the writer, in order. Entries are built only when their write is due,
/// so memory holds the reader's rows (bounded by the reader's window) and
/// the entries of the writes in flight, not whole batches of entries. A
/// batch split over several writes checkpoints after each, at the key of
/// its last row, so a resumed run continues there. The reader's batch is
/// acknowledged only after its last write's acknowledgement. After the
/// final batch of every range (position.done) it reports table_done to the
/// coordinator.
///
/// A row the envelope builder rejects (bad_data) is not written: it is
/// counted, logged at debug level to trace.log with its contents when
/// snapshot.log-row-level-errors is set, and the table goes on; the count is
/// logged at warn level when the table finishes. A failed write (permanent,
/// or out of retries) skips the table: pending batches are answered with the
/// error and the coordinator gets table_done{skipped}.
table_applier_actor::behavior_type
table_applier(table_applier_actor::stateful_pointer<table_applier_state> self,
              uint32_t table, table_schema schema,
              table_applier_settings settings, redis_writer_actor writer,
              coordinator_actor coordinator);

}  // namespace trib
