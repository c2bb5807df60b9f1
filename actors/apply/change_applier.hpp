#pragma once
// A change applier: one per change stream (a table's stream under EVENTUAL
// or with split-stream false, the global stream under GLOBAL). Owns the
// stream's order and checkpoint. Include only from actor .cpp files (pulls
// in CAF).

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/apply/envelope.hpp"
#include "actors/control/checkpoint_math.hpp"
#include "actors/tuning.hpp"
#include "messages/source_facts.hpp"
#include "conf/config.hpp"

namespace trib {

class xadd_encoder;

/// What an applier needs besides its writer.
struct change_applier_settings {
  /// The stream's index in the run, its name, and the checkpoint hash field
  /// that records it (the stream name, or "<stream>:realtime" when snapshot
  /// rows share the stream and its plain field holds the snapshot's
  /// checkpoint).
  uint32_t stream = 0;
  std::string stream_name;
  std::string checkpoint_field;
  std::string group = "default";
  std::string id = "default";
  /// Every table of the run, by plan index (a change names its table).
  std::vector<table_schema> tables;
  /// The plan indexes of the tables whose changes this stream carries (one
  /// under EVENTUAL, every one under GLOBAL): the tables a failure stops.
  std::vector<uint32_t> carries;
  message_config message;
  source_facts facts;
  /// What the stream already holds (from its checkpoint in Redis).
  stream_checkpoint start;
  /// The longest argument Redis accepts (its proto-max-bulk-len): a change
  /// with a longer entry is left out as bad data.
  uint64_t max_entry_bytes = default_max_bulk_bytes;
  /// A write ends at the first transaction boundary of its batch past this
  /// many bytes of entries (a transaction's changes in one batch stay in one
  /// write), and a next write is built ahead only while the writes at the
  /// writer hold less: entries exist only for the writes in flight, so a
  /// burst costs the memory of its rows, not of their messages.
  size_t max_write_bytes = tuning::realtime_write_bytes;
  /// Changes a write holds at most (applier realtime.batch-size-rows),
  /// cut inside a transaction if need be: the batch (txn-size-rows) stays
  /// the unit that is undone and retried whole, a write is only its step.
  size_t max_write_rows = SIZE_MAX;
  /// Writes at the writer at once, at most.
  size_t max_writes_in_flight = tuning::realtime_writes_in_flight;
  /// Asked what a failed write means (retry, skip, in doubt, stop). None:
  /// a failed write stops the stream's applier with the failure.
  supervisor_actor supervisor;
};

struct change_applier_state {
  static inline const char* name = "change_applier";

  /// A batch of the dispatcher waiting for (or in) its writes, or a schema
  /// change that waits for the batches before it to be built.
  struct incoming {
    change_batch batch;
    /// Changes turned into writes so far.
    size_t next = 0;
    /// Its last write went out.
    bool issued = false;
    /// Entries committed so far.
    uint64_t written = 0;
    caf::typed_response_promise<change_ack> promise;
    bool is_schema = false;
    schema_change schema;
    /// The stream's checkpoint before its first write, and each committed
    /// write's last entry ID and entry count: what an undo takes back.
    bool started = false;
    stream_checkpoint start;
    std::vector<std::string> last_ids;
    std::vector<uint64_t> counts;
    /// Consecutive failed attempts at it.
    int failures = 0;
  };

  /// A write at the writer; they are answered in order.
  struct in_write {
    uint64_t seq = 0;
    uint64_t entries = 0;
    size_t bytes = 0;
    bool ends_batch = false;
    /// Commit time of its last transaction, for the lag metric.
    int64_t commit_ms = 0;
    /// Rows per (table, op code), for the metrics once committed.
    struct count {
      std::string table;
      const char* op;
      uint64_t rows;
    };
    std::vector<count> counted;
  };

  change_applier_settings settings;
  /// Built on a table's first change; rebuilt when its schema changes.
  std::vector<std::unique_ptr<envelope_builder>> builders;
  redis_writer_actor writer;
  /// Encodes the stream's XADDs; made on the first batch.
  std::unique_ptr<xadd_encoder> xadd;
  /// One entry and one origin reused for every change encoded (their
  /// strings stay warm).
  stream_entry scratch;
  change_origin origin;
  /// The checkpoint of the newest write built: changes it covers are not
  /// written again (a restart, or a reconnected source, sends them again).
  stream_checkpoint queued;
  std::deque<incoming> batches;
  /// Batches at the front of `batches` whose last write went out.
  size_t issued = 0;
  std::deque<in_write> writes;
  size_t bytes_at_writer = 0;
  /// Encoded bytes per change of the latest write: the next write's bytes
  /// are reserved from it.
  size_t bytes_per_change = 0;
  uint64_t entries_written = 0;
  /// The first change the envelope builder rejected: its commit key, table
  /// and why (stopped_commit 0: none). The stream stops there.
  uint64_t stopped_commit = 0;
  uint32_t stopped_table = 0;
  std::string stop_reason;
  /// The stop is the supervisor's answer (see change_ack::stop_decided).
  bool stop_decided = false;
  bool failed = false;
  failure reason;
  /// A write failed: the writes still in flight are answered (refused),
  /// then the batch's committed writes are undone and the supervisor asked.
  /// Nothing is built meanwhile.
  bool recovering = false;
  std::optional<failure> write_failure;
  /// How often the writer tried the failed write (attempts_of).
  int write_attempts = 0;

  change_applier_state();
  ~change_applier_state();
};

/// Builds entries for each change not covered by the stream's checkpoint:
/// insert -> c; update -> u, or, when it moves the row to another key, d of
/// the old key, its tombstone, c of the new; delete -> d and its tombstone;
/// truncate -> t. Turns batches into writes in arrival order, each with the
/// checkpoint of its last change, built only when the writer has room
/// (max_writes_in_flight, max_write_bytes), so the stream stays in commit
/// order and only the writes in flight hold entries; acknowledges a batch
/// once its last write is committed (or at once when the checkpoint covered
/// all of it). A change the envelope builder rejects stops the stream: the
/// changes before it are written, it and every later change are not, and
/// every acknowledgement from then on says where the stream stopped
/// (change_ack::stopped_commit), so that the dispatcher never releases that
/// change at the source. A failed write (after the writer's own retries of
/// a lost connection) goes to the supervisor: the committed writes of its
/// batch are undone first (entries deleted, checkpoint written back), then
/// the supervisor answers; on retry the whole batch is written again after
/// the wait, in order; on skip or in doubt the stream stops before the
/// batch (as above, stop_decided set); on stop every batch is answered with
/// the failure and the run stops (--resume continues from the checkpoint).
/// Without a supervisor a failed write stops at once that way. A schema
/// change applies to the changes of batches that arrive after it.
change_applier_actor::behavior_type
change_applier(change_applier_actor::stateful_pointer<change_applier_state> self,
               change_applier_settings settings, redis_writer_actor writer);

}  // namespace trib
