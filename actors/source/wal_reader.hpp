#pragma once
// The WAL reader: one per PostgreSQL replication, detached (libpq blocks).
// A change reader (change_dispatcher.hpp says how readers plug in).
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
#include "actors/control/retry_policy.hpp"
#include "actors/source/heartbeat.hpp"
#include "actors/source/incremental_snapshots.hpp"
#include "actors/source/source_backlog.hpp"
#include "actors/source/pg_replication.hpp"
#include "actors/source/pgoutput.hpp"
#include "actors/source/pg_relations.hpp"
#include "actors/tuning.hpp"
#include "conf/config.hpp"

namespace trib {

class progress_board;

/// What a WAL reader needs.
struct wal_reader_settings {
  source_config source;
  filter_config filter;
  extractor_config extractor;
  std::string slot;
  std::string publication;
  /// START_REPLICATION position (0: the slot's confirmed position).
  uint64_t start_lsn = 0;
  /// Every table of the run, by plan index.
  std::vector<table_schema> tables;
  /// A feed goes to the dispatcher once it holds this many bytes of changes
  /// (change_bytes), or once it is feed_linger old. The dispatcher's linger
  /// comes on top for a stream that is busy; the feed's keeps the number of
  /// feeds (and thread wake-ups) per second low under a steady load.
  uint64_t max_feed_bytes = tuning::change_feed_bytes;
  std::chrono::milliseconds feed_linger = tuning::change_feed_linger;
  /// Feeds sent and not yet answered, at most: the reader polls the slot
  /// again only below that (the dispatcher's flow control).
  size_t max_unanswered = tuning::change_feeds_unanswered;
  /// Appends a schema dump of `tables` (a DDL changed one of them).
  std::function<void(const std::vector<table_schema>&)> dump_schema;
  /// Re-reads the catalog (a normal source connection).
  std::function<std::vector<table_schema>()> list_tables;
  /// Opens a replication connection (tests may put a double here).
  std::function<std::unique_ptr<pg_replication>()> connect;
  /// Incremental snapshots (docs/incremental-snapshots.md): the tables to
  /// snapshot from the start, by plan index, each going on after its key
  /// cells (empty: from its first row). With these or a signal table the
  /// reader writes watermarks to the table watermark_table() names, in the
  /// row of `replication` (group/id), and reads chunks of chunk_rows rows.
  struct incremental_start {
    uint32_t table = 0;
    std::vector<std::string> after;
  };
  std::vector<incremental_start> incremental;
  std::string replication;
  size_t chunk_rows = 5000;
  /// Makes the chunk source (tests may put a double here); default: PostgreSQL's.
  std::function<std::unique_ptr<chunk_source>()> chunk_source_factory;
};

struct wal_reader_state {
  static inline const char* name = "wal_reader";

  wal_reader_settings settings;
  retry_policy policy;
  change_dispatcher_actor dispatcher;
  /// Writes the heartbeat table (extractor realtime.heartbeat).
  std::unique_ptr<heartbeat_timer> heartbeat;
  /// Incremental snapshots, when any can happen (a table to snapshot, or a
  /// signal table); the relations of the watermark and the signal table,
  /// and the columns the reader takes from their rows.
  std::unique_ptr<incremental_snapshots> snapshots;
  /// Their progress, as log lines (the realtime board has the terminal).
  std::shared_ptr<progress_board> progress;
  uint32_t watermark_relation = 0;
  int mark_column = -1;
  uint32_t signal_relation = 0;
  int signal_id_column = -1;
  int signal_type_column = -1;
  int signal_data_column = -1;
  /// Measures the source's backlog for tributary_source_backlog_bytes.
  std::unique_ptr<backlog_timer> backlog;
  /// Open, not yet streaming: START_REPLICATION happens on run_atom (in
  /// full mode the runtime kept it idle while the snapshot adopted its
  /// exported snapshot).
  std::shared_ptr<pg_replication> rep;
  pgoutput_decoder decoder;
  /// pgoutput relation id -> table index and column mapping.
  struct relation_entry {
    uint32_t table = 0;
    std::vector<int> columns;
  };
  std::unordered_map<uint32_t, relation_entry> relations;
  /// The current transaction (from its Begin), until its Commit.
  pg_begin txn;
  bool in_txn = false;
  /// Decoded, not yet sent to the dispatcher.
  change_feed feed;
  uint64_t feed_bytes = 0;
  std::chrono::steady_clock::time_point feed_opened;
  size_t unanswered = 0;
  uint64_t feeds_sent = 0;
  /// The dispatcher's latest word.
  change_release last_release;
  /// The dispatcher asked to end the run.
  bool stop_asked = false;
  bool streaming = false;
  bool read_pending = false;
  /// The tick that measures the backlog while feeds wait (stalled_reader.hpp).
  bool tick_out = false;
  std::chrono::steady_clock::time_point tick_due;
  bool stopping = false;
  /// The connection was lost: waiting for the dispatcher's reset, then
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
/// table (columns, unchanged TOASTed values) and sends the transactions to
/// the dispatcher as change feeds (commit key: the commit LSN; release: the
/// commit's end LSN), keeping at most max_unanswered feeds unanswered. It
/// confirms to the slot what the dispatcher releases (change_release), and
/// the server's keepalive position once nothing sent is unwritten. A
/// Relation message whose columns differ from the table's re-reads the
/// catalog; a changed table gets a schema dump and the dispatcher a
/// schema_change. A lost connection (retryable) asks the dispatcher to reset,
/// then reconnects under the source's retry policy from the released
/// position (the appliers skip what their checkpoints cover). On stop_atom
/// (from the coordinator), or when the dispatcher says stop: sends what it
/// has, drains the dispatcher, confirms, answers run_atom with the confirmed
/// LSN (or the dispatcher's failure) and quits. A permanent failure (dropped
/// slot) answers with the error.
wal_reader_actor::behavior_type
wal_reader(wal_reader_actor::stateful_pointer<wal_reader_state> self,
           wal_reader_settings settings, std::shared_ptr<pg_replication> rep,
           change_dispatcher_actor dispatcher);

}  // namespace trib
