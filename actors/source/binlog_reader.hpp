#pragma once
// The binlog reader: one per MySQL/MariaDB replication, detached (the
// connector blocks). A change reader (change_dispatcher.hpp says how readers
// plug in): it only decodes (binlog_client, binlog_changes); the dispatcher
// does the rest. Include only from actor .cpp files (pulls in CAF).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/source/binlog_changes.hpp"
#include "actors/source/binlog_client.hpp"
#include "actors/source/heartbeat.hpp"
#include "actors/source/source_backlog.hpp"
#include "actors/tuning.hpp"
#include "conf/config.hpp"

namespace trib {

/// What a binlog reader needs.
struct binlog_reader_settings {
  source_config source;
  extractor_config extractor;
  /// Where to start: the released position of an earlier run, the
  /// snapshot's earliest table position, start-position, or the binlog's
  /// end when the run began. Always a transaction boundary.
  binlog_start start;
  /// Every table of the run, by plan index.
  std::vector<table_schema> tables;
  /// The run's filter: its column lists restrict the schemas that
  /// TABLE_MAPs give after a DDL as the listing restricts `tables`.
  filter_config filter;
  /// full: each table's snapshot position (changes it holds are dropped).
  snapshot_handoff handoff;
  /// A feed goes to the dispatcher once it holds this many bytes of changes,
  /// and whenever the server has nothing more read ahead.
  uint64_t max_feed_bytes = tuning::change_feed_bytes;
  /// Feeds sent and not yet answered, at most: the reader reads the binlog
  /// again only below that (the dispatcher's flow control).
  size_t max_unanswered = tuning::change_feeds_unanswered;
  /// Appends a schema dump of `tables` (a DDL changed one of them).
  std::function<void(const std::vector<table_schema>&)> dump_schema;
  /// Re-reads the catalog (a normal source connection).
  std::function<std::vector<table_schema>()> list_tables;
  /// Stores the release position (where a restarted run reads from); called
  /// at most once a second and when the reader stops. Failures are logged.
  std::function<void(const binlog_start&)> store_release;
  /// Client tunables (tests shorten the heartbeat).
  binlog_client_options client;
};

struct binlog_reader_state {
  static inline const char* name = "binlog_reader";

  binlog_reader_settings settings;
  retry_policy policy;
  change_dispatcher_actor dispatcher;
  std::unique_ptr<binlog_client> client;
  std::unique_ptr<binlog_changes> changes;
  std::unique_ptr<heartbeat_timer> heartbeat;
  /// Measures the source's backlog for tributary_source_backlog_bytes.
  std::unique_ptr<backlog_timer> backlog;
  /// Decoded, not yet sent to the dispatcher.
  change_feed feed;
  uint64_t feed_bytes = 0;
  size_t unanswered = 0;
  uint64_t feeds_sent = 0;
  /// The dispatcher's latest release position, and the position it packs.
  uint64_t released = 0;
  binlog_start restart_at;
  /// What store_release last stored, and when.
  uint64_t stored = 0;
  std::chrono::steady_clock::time_point stored_at;
  bool stop_asked = false;
  bool read_pending = false;
  /// The tick that measures the backlog while feeds wait (stalled_reader.hpp).
  bool tick_out = false;
  std::chrono::steady_clock::time_point tick_due;
  bool stopping = false;
  bool reconnecting = false;
  int failures = 0;
  caf::typed_response_promise<uint64_t> promise;

  binlog_reader_state();
  ~binlog_reader_state();
};

/// On run_atom: opens the binlog at settings.start, then loops on read_atom:
/// reads events while the server has them, decodes them into transactions
/// (binlog_changes) and sends them to the dispatcher as change feeds,
/// keeping at most max_unanswered unanswered. Writes the heartbeat table
/// every interval-ms when enabled. A DDL in a replicated database re-reads
/// the catalog; a changed table gets a schema dump and the dispatcher a
/// schema_change. A lost connection (retryable) asks the dispatcher to
/// reset, then reopens the binlog under the source's retry policy at the
/// released position (the appliers skip what their checkpoints cover). On
/// stop_atom (from the coordinator), or when the dispatcher says stop: sends
/// what it has, drains the dispatcher, stores the release position, answers
/// run_atom with it (or the dispatcher's failure) and quits. A permanent
/// failure (purged binlog, bad data) answers with the error.
binlog_reader_actor::behavior_type
binlog_reader(binlog_reader_actor::stateful_pointer<binlog_reader_state> self,
              binlog_reader_settings settings, change_dispatcher_actor dispatcher);

}  // namespace trib
