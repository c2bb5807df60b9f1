#pragma once
// The change dispatcher: everything of realtime replication after a source's
// log is decoded, the same for every source. Include only from actor .cpp
// files (pulls in CAF).
//
// How a change reader plugs in (the WAL reader is one; a binlog reader is
// another, and a new source needs only its reader and decoder):
//
// 1. The reader decodes its log into source-neutral values (messages/
//    change.hpp): per transaction a source_txn with its ordered commit key,
//    id and commit time, whose row_changes carry table, op, images and
//    `source` (the change's place in the reader's own words). It sends them
//    in log order, several transactions or parts of one per change_feed, as
//    a request: the answer (the release position) comes once what is
//    unwritten is under the byte budget again. A reader keeps at most a
//    couple of feeds unanswered and reads its source no further meanwhile:
//    that is the flow control, so it must not decode ahead of it.
//    A transaction may arrive in several parts; the part with `last` set
//    ends it and carries its release position. Transactions that touch no
//    replicated table should still be sent (with no change), so that the
//    release position moves past them.
// 2. A table's columns changed (DDL): the reader sends schema_change between
//    the feeds of the changes before and after it; the dispatcher hands on
//    the table's open batch first, then tells the table's applier.
// 3. The dispatcher sends the reader change_release (change_reader_actor)
//    whenever the release position moves: every transaction up to there is
//    in every stream it touched. The reader lets its source go up to there
//    (PostgreSQL: confirms the slot; a binlog reader keeps it as its
//    restart position), never further. When change_release says `idle` and
//    counts as many feeds as the reader has sent, nothing it sent is
//    unwritten, and it may release the source up to where it has read.
//    When change_release says `stop`, the run must end: the reader drains.
// 4. Lost source connection: the reader drops what it has not sent and asks
//    reset_atom; the dispatcher forgets open batches and transactions whose
//    end it has not seen, and answers (the release position) once nothing it
//    handed on is unwritten. The reader then reads again from that release
//    position; the transactions from there come again, in whole, and each
//    change applier skips what its stream checkpoint ({commit, index})
//    already covers, so nothing is written twice or lost. A restarted run
//    works the same way from the checkpoints in Redis.
// 5. Stop (SIGINT/SIGTERM, or `stop`): the reader sends what it has, then
//    drain_atom; the dispatcher hands on everything, waits until it is
//    written, and answers the final release position, or the failure that
//    ends the run (a failed write, a table that may not stop alone).

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "actors/control/change_batcher.hpp"
#include "actors/control/checkpoint_math.hpp"
#include "actors/tuning.hpp"

namespace trib {

/// Bytes of changes (change_bytes) a realtime run holds unwritten at most:
/// in open batches and in batches at the appliers. Entries are built only
/// for the write in flight of each stream, so this bounds realtime memory
/// whatever the burst.
constexpr uint64_t realtime_memory_budget_bytes = tuning::realtime_memory_budget_bytes;

/// What a change dispatcher needs besides its appliers.
struct change_dispatcher_settings {
  /// Every table of the run, by plan index, and the stream of each.
  std::vector<table_schema> tables;
  std::vector<uint32_t> stream_of_table;
  /// Each stream's name, for what the supervisor logs (optional).
  std::vector<std::string> stream_names;
  /// Changes per atomic write at most (applier realtime.txn-size-rows).
  size_t txn_size_rows = 10000;
  /// Batches handed on but not yet written, at most, before feeds wait
  /// (full batches still go out, up to twice that).
  size_t max_in_flight = tuning::realtime_batches_in_flight;
  /// Bytes unwritten at most before feeds wait; a batch is full at a
  /// quarter of it, so that wide rows make smaller writes.
  uint64_t max_unwritten_bytes = realtime_memory_budget_bytes;
  /// How long an open batch may wait for more changes before an idle
  /// stream gets it: without it, a light load writes one transaction per
  /// write, and the per-write cost (thread hops, a Redis round trip) is
  /// then most of the CPU. Bounds the latency it adds, on top of the
  /// reader's own gathering of a feed (the WAL reader's 3 ms).
  std::chrono::milliseconds linger = tuning::realtime_linger;
  /// Asked what a change that cannot be converted means (a stop the
  /// applier did not already have decided): the stream's tables stop, or
  /// the run ends.
  supervisor_actor supervisor;
  /// Told when a table stopped and the run goes on without it: its plan
  /// index and why.
  std::function<void(uint32_t, const std::string&)> table_stopped;
  /// The source's kind: how log lines write a commit key (format_commit).
  source_kind kind = source_kind::postgresql;
};

struct change_dispatcher_state {
  static inline const char* name = "change_dispatcher";

  change_dispatcher_settings settings;
  std::vector<change_applier_actor> appliers;
  /// The reader of the latest feed: told what is released.
  change_reader_actor reader;
  std::unique_ptr<change_batcher> batcher;
  txn_tracker tracker;
  /// Transactions ended since the last flush (commit key, release).
  std::vector<std::pair<uint64_t, uint64_t>> ended;
  size_t in_flight = 0;
  /// change_bytes of the batches handed on and not yet acknowledged.
  uint64_t in_flight_bytes = 0;
  /// Batches handed on and not yet acknowledged, per stream.
  std::vector<size_t> stream_in_flight;
  /// Streams that may have an open batch (each listed once).
  std::vector<uint32_t> touched;
  std::vector<bool> is_touched;
  /// When each touched stream's open batch got its first change.
  std::vector<std::chrono::steady_clock::time_point> opened_at;
  /// Streams that stopped at a change they cannot write.
  std::vector<bool> stream_stopped;
  /// Every stream stopped: the reader is told to stop, and the drain answers
  /// the release position (the stopped tables make the exit code 3).
  bool all_stopped = false;
  /// Set when a failure ends the run: the reader is told to stop, and the
  /// drain answers with it.
  std::optional<failure> fatal;
  bool stop_told = false;
  /// What the reader was last told.
  uint64_t released = 0;
  bool told_idle = false;
  uint64_t feeds = 0;
  std::chrono::steady_clock::time_point last_feed;
  /// Feeds taken while over the budget: answered once under it.
  std::deque<caf::typed_response_promise<uint64_t>> waiting;
  /// A reset or a drain waiting for the batches in flight.
  std::optional<caf::typed_response_promise<uint64_t>> reset;
  std::optional<caf::typed_response_promise<uint64_t>> drain;
  bool tick_pending = false;

  change_dispatcher_state();
  ~change_dispatcher_state();
};

/// Groups each feed's changes into per-stream batches (change_batcher),
/// handing a batch on when it is full (txn-size-rows, or a quarter of the
/// byte budget), a stream's open batch at a transaction's end when that
/// stream has no write in flight and the batch is settings.linger old
/// (batches grow while their stream is busy: low latency when the load is
/// light, large writes when it is heavy), and every open batch once no feed
/// came for settings.linger. Answers a feed at once while the batches
/// unwritten are under settings.max_unwritten_bytes and max_in_flight,
/// later otherwise. Each written batch is counted against its transactions
/// (txn_tracker), and the reader is told the release position of the last
/// transaction that every stream has. A stream that stops at a change it
/// cannot write holds the source before that change's transaction for the
/// rest of the run; the tables of its stream stop (the others go on), or
/// the run drains and ends with the error, as the supervisor decides (the
/// applier asked it already when a write failed; the dispatcher asks for a
/// change that cannot be converted). Once every stream has stopped the run
/// drains and ends. The protocol with the reader is described at the top of
/// this header.
change_dispatcher_actor::behavior_type
change_dispatcher(change_dispatcher_actor::stateful_pointer<change_dispatcher_state> self,
                  change_dispatcher_settings settings,
                  std::vector<change_applier_actor> appliers);

}  // namespace trib
