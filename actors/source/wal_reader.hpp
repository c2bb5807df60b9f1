#pragma once
// The WAL reader: one per PostgreSQL replication, detached (libpq blocks).
// Include only from actor .cpp files (pulls in CAF).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/actors.hpp"
#include "actors/apply/change_batcher.hpp"
#include "actors/control/checkpoint_math.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/source/pg_replication.hpp"
#include "actors/source/pgoutput.hpp"
#include "conf/config.hpp"

namespace trib {

/// What a WAL reader needs.
struct wal_reader_settings {
  source_config source;
  filter_config filter;
  extractor_config extractor;
  std::string slot;
  std::string publication;
  /// START_REPLICATION position (0: the slot's confirmed position).
  uint64_t start_lsn = 0;
  /// Every table of the run, by plan index, and the stream of each.
  std::vector<table_schema> tables;
  std::vector<uint32_t> stream_of_table;
  /// Changes per atomic write at most (applier realtime.txn-size-rows).
  size_t txn_size_rows = 10000;
  /// Batches handed on but not yet written, at most (plus one per stream
  /// when a round ends): what bounds memory.
  size_t max_in_flight = 8;
  /// How long an open batch may wait for more changes before an idle
  /// stream gets it: without it, a light load writes one transaction per
  /// write, and the per-write cost (thread hops, a Redis round trip) is
  /// then most of the CPU. Bounds the latency it adds.
  std::chrono::milliseconds linger{5};
  /// Set by a signal handler: drain, confirm, answer, quit.
  const std::atomic<bool>* stop = nullptr;
  /// applier realtime.skip-tables-on-failures: whether a table whose change
  /// cannot be written may stop while the others go on (stop_rules.hpp).
  bool skip_tables_on_failures = true;
  /// Told (on the reader's thread) when a table stopped and the run goes on
  /// without it: its plan index and why.
  std::function<void(uint32_t, const std::string&)> table_stopped;
  /// Appends a schema dump of `tables` (a DDL changed one of them).
  std::function<void(const std::vector<table_schema>&)> dump_schema;
  /// Re-reads the catalog (a normal source connection).
  std::function<std::vector<table_schema>()> list_tables;
  /// Opens a replication connection (tests may put a double here).
  std::function<std::unique_ptr<pg_replication>()> connect;
};

struct wal_reader_state {
  static inline const char* name = "wal_reader";

  wal_reader_settings settings;
  retry_policy policy;
  std::vector<change_applier_actor> appliers;
  /// Open, not yet streaming: START_REPLICATION happens on run_atom (in
  /// full mode the runtime kept it idle while the snapshot adopted its
  /// exported snapshot).
  std::shared_ptr<pg_replication> rep;
  pgoutput_decoder decoder;
  std::unique_ptr<change_batcher> batcher;
  txn_tracker tracker;
  /// pgoutput relation id -> table index and column mapping.
  struct relation_entry {
    uint32_t table = 0;
    std::vector<int> columns;
  };
  std::unordered_map<uint32_t, relation_entry> relations;
  /// Transactions committed since the last flush (commit LSN, end LSN).
  std::vector<std::pair<uint64_t, uint64_t>> committed;
  /// The current transaction (from its Begin).
  pg_begin txn;
  size_t in_flight = 0;
  /// Batches handed on and not yet acknowledged, per stream.
  std::vector<size_t> stream_in_flight;
  /// Streams that may have an open batch (each listed once).
  std::vector<uint32_t> touched;
  std::vector<bool> is_touched;
  /// When each touched stream's open batch got its first change.
  std::vector<std::chrono::steady_clock::time_point> opened_at;
  /// Streams that stopped at a change they cannot write.
  std::vector<bool> stream_stopped;
  /// Set when such a stop ends the run: answered once drained.
  std::optional<failure> fatal;
  bool streaming = false;
  bool read_pending = false;
  bool stopping = false;
  /// The connection was lost: waiting for in-flight batches, then
  /// reconnecting.
  bool reconnecting = false;
  int failures = 0;
  uint64_t confirmed = 0;
  uint64_t changes_read = 0;
  size_t unavailable_values = 0;
  caf::typed_response_promise<uint64_t> promise;

  wal_reader_state();
  ~wal_reader_state();
};

/// On run_atom: starts replication from settings.start_lsn, then loops on
/// read_atom: polls the slot, decodes pgoutput, maps each change onto its
/// table (columns, unchanged TOASTed values) and groups changes into batches
/// per stream (change_batcher), handing a batch on when it is full, a
/// stream's open batch at a commit when that stream has no write in flight
/// and the batch is settings.linger old (batches grow while their stream is
/// busy: low latency when the load is light, large writes when it is
/// heavy), and every open batch when the source stays silent for
/// settings.linger. At most max_in_flight batches wait
/// for their applier; the reader polls again only below that. Each written
/// batch is counted against its transactions (txn_tracker), and the slot is
/// confirmed up to the end of the last transaction that every stream has.
/// A Relation message whose columns differ from the table's re-reads the
/// catalog; a changed table gets a schema dump and its applier the new
/// schema. A lost connection (retryable) waits for the batches in flight,
/// then reconnects under the source's retry policy and starts again from
/// the confirmed position (the appliers skip what their checkpoints cover).
/// When settings.stop is set: hands on what it has, waits until everything
/// is written, confirms, answers run_atom with the confirmed LSN and quits.
/// A stream that stops at a change it cannot write holds the slot before
/// that change's transaction for the rest of the run; its table stops (the
/// others go on) or the run drains and ends with the error, as
/// on_unwritable_change decides.
/// A permanent failure (dropped slot, failed write) answers with the error.
wal_reader_actor::behavior_type
wal_reader(wal_reader_actor::stateful_pointer<wal_reader_state> self,
           wal_reader_settings settings, std::shared_ptr<pg_replication> rep,
           std::vector<change_applier_actor> appliers);

}  // namespace trib
