#pragma once
// A table applier: one per table, owns the order and the checkpoint of the
// table's stream. Include only from actor .cpp files (pulls in CAF).

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "actors/actors.hpp"
#include "actors/source/source_session.hpp"
#include "conf/config.hpp"

namespace trib {

class envelope_builder;

/// What an applier needs besides its table.
struct table_applier_settings {
  applier_config applier;
  map_config map;
  std::string group = "default";
  std::string id = "default";
  source_facts facts;
};

struct table_applier_state {
  static inline const char* name = "table_applier";

  /// A batch turned into a write, waiting for (or in) its turn.
  struct pending {
    write_batch write;
    batch_ack ack;
    bool final = false;
    caf::typed_response_promise<batch_ack> promise;
  };

  uint32_t table = 0;
  table_schema schema;
  table_applier_settings settings;
  std::unique_ptr<envelope_builder> builder;
  std::string stream;
  redis_writer_actor writer;
  coordinator_actor coordinator;
  /// Writes in order; only the front one is at the writer.
  std::deque<pending> queue;
  bool writing = false;
  /// Rows committed in this run.
  uint64_t rows_written = 0;
  /// Rows the envelope builder rejected (logged, not written).
  uint64_t bad_rows = 0;
  /// Set once a write failed for good; later batches are refused.
  bool failed = false;
  failure reason;

  table_applier_state();
  ~table_applier_state();
};

/// Builds one stream entry per row (snapshot_entry; the table's final row is
/// marked "last", which the project uses as "last row of this table's
/// stream"), packs a batch's entries with the checkpoint they reach (field =
/// the stream name, value = encode_snapshot_checkpoint(position)) into one
/// write_batch, and keeps exactly one write at the writer so the stream
/// stays in order, building the next batches meanwhile. The reader's batch
/// is acknowledged only after the writer's acknowledgement. After the final
/// batch (position.done) it reports table_done to the coordinator.
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
