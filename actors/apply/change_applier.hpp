#pragma once
// A change applier: one per change stream (a table's stream under EVENTUAL
// or with split-stream false, the global stream under GLOBAL). Owns the
// stream's order and checkpoint. Include only from actor .cpp files (pulls
// in CAF).

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/apply/envelope.hpp"
#include "actors/control/checkpoint_math.hpp"
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
  message_config message;
  source_facts facts;
  /// What the stream already holds (from its checkpoint in Redis).
  stream_checkpoint start;
  /// The longest argument Redis accepts (its proto-max-bulk-len): a change
  /// with a longer entry is left out as bad data.
  uint64_t max_entry_bytes = default_max_bulk_bytes;
};

struct change_applier_state {
  static inline const char* name = "change_applier";

  struct pending {
    write_batch write;
    change_ack ack;
    /// Commit time of the last transaction, for the lag metric.
    int64_t commit_ms = 0;
    /// Rows per (table, op code), for the metrics once committed.
    struct count {
      std::string table;
      const char* op;
      uint64_t rows;
    };
    std::vector<count> counted;
    caf::typed_response_promise<change_ack> promise;
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
  /// The checkpoint of the newest write queued: changes it covers are not
  /// written again (a restart, or a reconnected slot, sends them again).
  stream_checkpoint queued;
  std::deque<pending> queue;
  bool writing = false;
  uint64_t entries_written = 0;
  /// The first change the envelope builder rejected: its commit key, table
  /// and why (stopped_commit 0: none). The stream stops there.
  uint64_t stopped_commit = 0;
  uint32_t stopped_table = 0;
  std::string stop_reason;
  bool failed = false;
  failure reason;

  change_applier_state();
  ~change_applier_state();
};

/// Builds entries for each change not covered by the stream's checkpoint:
/// insert -> c; update -> u, or, when it moves the row to another key, d of
/// the old key, its tombstone, c of the new; delete -> d and its tombstone;
/// truncate -> t. Packs a batch's entries with the checkpoint of its last
/// change into one write_batch and keeps one write at the writer, so the
/// stream stays in commit order; acknowledges a batch after the writer did
/// (or at once when the checkpoint covered all of it). A change the
/// envelope builder rejects stops the stream: the changes before it are
/// written, it and every later change are not, and every acknowledgement
/// from then on says where the stream stopped (change_ack::stopped_commit),
/// so that the dispatcher never releases that change at the source. A failed
/// write answers it and every later batch with the failure: the reader then
/// stops the run, and --resume continues from the checkpoint.
change_applier_actor::behavior_type
change_applier(change_applier_actor::stateful_pointer<change_applier_state> self,
               change_applier_settings settings, redis_writer_actor writer);

}  // namespace trib
