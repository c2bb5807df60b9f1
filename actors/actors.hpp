#pragma once
// Every actor interface of Tributary, in the order data flows:
//   snapshot_reader -> table_applier -> redis_writer, supervised by the
//   coordinator; in realtime a change reader (wal_reader) ->
//   change_dispatcher -> change_applier -> redis_writer.
// Only actor .cpp files include this header; the rest of the tree stays free
// of CAF. Messages are the plain values of messages/; the atoms below name
// the few requests that carry no value.

#include <caf/all.hpp>

#include "messages/batch.hpp"
#include "messages/change.hpp"
#include "messages/failure.hpp"
#include "messages/node.hpp"
#include "messages/position.hpp"
#include "messages/result.hpp"
#include "messages/row.hpp"
#include "messages/supervision.hpp"
#include "messages/table.hpp"

namespace trib {

// -- atoms (10 characters at most) --------------------------------------------

/// Starts a replication run.
using run_atom = caf::atom_constant<caf::atom("run")>;
/// Asks a reader to read its next chunk (self-sent, so that acknowledgements
/// are handled between reads).
using read_atom = caf::atom_constant<caf::atom("read")>;
/// Tells a writer to read the replies of the writes it has on the wire
/// (self-sent, delayed, with the write generation it was sent for).
using flush_atom = caf::atom_constant<caf::atom("flush")>;
/// Asks a run's stages to stop reading and let what is in flight commit
/// (SIGINT/SIGTERM).
using stop_atom = caf::atom_constant<caf::atom("stop")>;
/// A change reader lost its source and reads again from its release
/// position.
using reset_atom = caf::atom_constant<caf::atom("reset")>;
/// A change reader stops: everything handed on is to be written.
using drain_atom = caf::atom_constant<caf::atom("drain")>;
/// Time to hand on lingering change batches (self-sent, delayed).
using tick_atom = caf::atom_constant<caf::atom("tick")>;
/// Starts the realtime phase of a run (after the snapshot of `full`).
using stream_atom = caf::atom_constant<caf::atom("stream")>;
/// Writes a failed change batch again after the supervisor's wait (self-sent, delayed).
using retry_atom = caf::atom_constant<caf::atom("retry")>;

// -- actors -------------------------------------------------------------------

/// Reads one table's snapshot in key order and feeds its applier, keeping a
/// bounded number of batches unacknowledged (detached: source clients block).
using snapshot_reader_actor = caf::typed_actor<
  // Reads the next chunk from the source and sends what is ready.
  caf::reacts_to<read_atom>,
  // Stops reading; quits once the batches sent are acknowledged.
  caf::reacts_to<stop_atom>>;

/// Turns one table's rows into stream entries and writes them in order,
/// several writes at its writer at a time (pipelined), checkpoint included.
using table_applier_actor = caf::typed_actor<
  // Writes a batch of snapshot rows; answers once Redis committed it.
  caf::replies_to<row_batch>::with<batch_ack>>;

/// Owns one Redis connection and commits write batches atomically, retrying
/// without ever committing a batch twice (detached: the client blocks).
using redis_writer_actor = caf::typed_actor<
  // Commits entries and their checkpoint in one MULTI/EXEC.
  caf::replies_to<write_batch>::with<write_ack>,
  // Takes back the committed writes of a failed realtime batch.
  caf::replies_to<undo_request>::with<undo_result>,
  // Reads the replies still on the wire if no write came since (self-sent).
  caf::reacts_to<flush_atom, uint64_t>,
  // Reads again what writes wait for: Redis's memory, the lag of consumer
  // groups (self-sent, delayed).
  caf::reacts_to<tick_atom>,
  // The run stops: writes waiting for Redis memory are answered as not
  // written (failure_code::stopped) instead of waiting for memory to be freed.
  caf::reacts_to<stop_atom>>;

/// Realtime, what every change reader understands: how far its source may
/// be released (from the change dispatcher). change_dispatcher.hpp says how
/// a reader plugs in.
using change_reader_actor = caf::typed_actor<
  // Everything up to a release position is in Redis (or the run must end).
  caf::reacts_to<change_release>>;

/// Realtime, what the coordinator drives of every change reader: it runs
/// until stopped (a stop message, or the dispatcher's word) or failed.
using streaming_reader_actor = change_reader_actor::extend<
  // Streams until stopped or failed; answers the final release position
  // (the slot's confirmed LSN, the binlog's packed position) after draining.
  caf::replies_to<run_atom>::with<uint64_t>,
  // Sends what was read, drains the dispatcher and answers run_atom.
  caf::reacts_to<stop_atom>>;

/// Realtime: reads the PostgreSQL slot, decodes pgoutput into
/// source-neutral transactions for the change dispatcher, and confirms to
/// the slot what the dispatcher releases (detached: libpq blocks).
using wal_reader_actor = streaming_reader_actor::extend<
  // Polls the slot once more (self-sent, so that acknowledgements are
  // handled between polls).
  caf::reacts_to<read_atom>>;

/// Realtime: reads the MySQL/MariaDB binlog as a replica, decodes it into
/// source-neutral transactions for the change dispatcher, and keeps what the
/// dispatcher releases as its restart position (detached: the client blocks).
using binlog_reader_actor = streaming_reader_actor::extend<
  // Reads the binlog once more (self-sent, so that answers and releases are
  // handled between reads).
  caf::reacts_to<read_atom>>;

/// Realtime, shared by every source: takes the transactions a change reader
/// decoded, groups them into per-stream batches for the change appliers
/// (txn-size-rows, linger), bounds what is unwritten (flow control by
/// bytes), tracks which transactions every stream has, and tells the reader
/// how far its source may be released.
using change_dispatcher_actor = caf::typed_actor<
  // Takes decoded transactions; answers (the release position) once what
  // is unwritten is under the byte budget again.
  caf::replies_to<change_feed>::with<uint64_t>,
  // A table's columns changed between two feeds' changes.
  caf::reacts_to<schema_change>,
  // The reader lost its source: forgets what is open; answers the release
  // position once nothing handed on is unwritten.
  caf::replies_to<reset_atom>::with<uint64_t>,
  // The reader stops: hands on and writes everything; answers the final
  // release position, or why the run failed.
  caf::replies_to<drain_atom>::with<uint64_t>,
  // Hands on batches that lingered (self-sent, delayed).
  caf::reacts_to<tick_atom>>;

/// Realtime: owns one change stream (a table's, or the global one): turns
/// changes into entries, skips what its checkpoint covers, writes in order
/// with the checkpoint, one write in flight.
using supervisor_actor = caf::typed_actor<
  // A batch failed to be written: what its stream does next (retry, skip
  // the table, in doubt, stop the run). Logged, counted and recorded for
  // the exit summary by the supervisor.
  caf::replies_to<failure_report>::with<failure_verdict>>;

using change_applier_actor = caf::typed_actor<
  // Writes a batch of changes; answers once Redis committed it.
  caf::replies_to<change_batch>::with<change_ack>,
  // A table's columns changed: later changes use the new schema.
  caf::reacts_to<schema_change>,
  // Writes the failed batch again, after the supervisor's wait (self-sent).
  caf::reacts_to<retry_atom>>;

/// Plans and supervises one replication through its stage factories: the
/// snapshot phase (writers, appliers and a bounded number of readers; the
/// tables' outcomes), then the realtime phase (the change path and its
/// reader).
using coordinator_actor = caf::typed_actor<
  // Runs the snapshot; answers when every table is done or skipped.
  caf::replies_to<run_atom>::with<snapshot_result>,
  // Runs the realtime phase; answers the change reader's final release
  // position once it stopped and drained, or why it failed.
  caf::replies_to<stream_atom>::with<uint64_t>,
  // A table finished or was skipped (from its applier or its reader).
  caf::reacts_to<table_done>,
  // Stops the run: no new reader starts, the running ones stop reading, and
  // once their batches have committed the run is answered as stopped; in
  // realtime, the change reader drains. Sticky: a phase that starts later
  // stops at once.
  caf::reacts_to<stop_atom>>;

// -- nodes (design section 11) -----------------------------------------------

/// A worker node: spawns the stages the coordinator places on it, on its
/// own node, and answers their handles, which the coordinator then uses as
/// it uses local ones.
using worker_actor = caf::typed_actor<
  // Takes the connections and the lease it needs; answers once ready.
  caf::replies_to<node_setup>::with<caf::ok_atom>,
  // The coordinator's lease was renewed: writes may go on a while longer.
  caf::reacts_to<lease_tick>,
  // Spawns a Redis writer.
  caf::replies_to<writer_order>::with<redis_writer_actor>,
  // Spawns a table applier writing through the writer (an invalid handle:
  // through a writer of its own).
  caf::replies_to<table_applier_order, redis_writer_actor, coordinator_actor>::with<
    table_applier_actor>,
  // Spawns a snapshot reader feeding the applier.
  caf::replies_to<snapshot_reader_order, table_applier_actor, coordinator_actor>::with<
    snapshot_reader_actor>,
  // Spawns a change applier writing through the writer, asking the
  // supervisor about failures.
  caf::replies_to<change_applier_order, redis_writer_actor, supervisor_actor>::with<
    change_applier_actor>,
  // The run is over: ends what is left here, answers, and quits.
  caf::replies_to<stop_atom>::with<caf::ok_atom>>;

/// The coordinator's node, published for workers to join.
using node_registry_actor = caf::typed_actor<
  // A worker joins; answers its number (from 1).
  caf::replies_to<node_hello, worker_actor>::with<uint32_t>,
  // Tells the workers that the lease still holds (self-sent, delayed).
  caf::reacts_to<tick_atom>>;

// -- failures across actor boundaries -----------------------------------------

/// The error category of trib::failure inside caf::error.
constexpr caf::atom_value failure_category = caf::atom("trib");

/// Wraps a failure into a caf::error so that a handler can return it.
inline caf::error to_caf_error(const failure& f) {
  return caf::error{static_cast<uint8_t>(f.code), failure_category,
                    caf::make_message(f.what)};
}

/// Unwraps a failure from a caf::error; CAF's own errors (an actor that went
/// down, a broken request) become internal failures.
inline failure to_failure(const caf::error& e) {
  if (e.category() == failure_category) {
    failure f{static_cast<failure_code>(e.code()), ""};
    if (e.context().match_elements<std::string>())
      f.what = e.context().get_as<std::string>(0);
    return f;
  }
  return failure{failure_code::internal, caf::to_string(e)};
}

}  // namespace trib
