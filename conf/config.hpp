#pragma once
// Plain structs for every configuration file, with the documented defaults.
// conf/loader.hpp fills them from YAML after validating; nothing here connects.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/table.hpp"

namespace trib {

/// Key or trust store of an `ssl` block.
struct store_config {
  /// PKCS12: the archive. PEM trust store: the CA certificate(s). PEM key
  /// store: the client certificate (chain), optionally followed by its key.
  std::string path;
  /// PEM key store only: the private key file. Equals `path` when one file
  /// holds both; the YAML may give `path: [CERT_FILE, KEY_FILE]` instead.
  std::string key_path;
  std::string password;
  /// "PKCS12" or "PEM" (JKS is refused with a conversion hint).
  std::string store_type = "PKCS12";
};

struct ssl_config {
  bool enable = false;
  std::optional<store_config> trust_store;
  std::optional<store_config> key_store;
};

/// Target connection file (`type: REDIS_STREAM`).
struct redis_config {
  std::string host = "localhost";
  int port = 6379;
  std::string username;
  std::string password;
  int max_connections = 30;
  int max_retries = 10;
  int retry_wait_duration_ms = 1000;
  ssl_config ssl;
  /// Writers pause while Redis's used_memory is above this share (percent)
  /// of its maxmemory; 0: never (docs/redis-limits.md).
  int memory_threshold_percentage = 85;
  /// `mode: CLUSTER` (design section 11): host:port and cluster_seeds are
  /// nodes of a Redis Cluster; commands go to the node that owns their key
  /// (redis_cluster.hpp), and each stream's checkpoint is a hash of its own
  /// (docs/redis-limits.md).
  bool cluster = false;
  /// More cluster nodes to learn the slots from, each "host:port".
  std::vector<std::string> cluster_seeds;
  /// After each write, WAIT for this many replicas to hold it, at most
  /// wait_timeout_ms; fewer is a failed write (retried). 0: no WAIT.
  int wait_replicas = 0;
  int wait_timeout_ms = 1000;
};

/// Source connection file (`type: POSTGRESQL | MYSQL | MARIADB`).
struct source_config {
  source_kind kind = source_kind::postgresql;
  std::string host = "localhost";
  int port = 0;  // 5432 or 3306 when not given
  std::string database;  // PostgreSQL only (required there)
  std::string username;
  std::string password;
  int max_connections = 30;
  int max_retries = 10;
  int retry_wait_duration_ms = 1000;
  /// PostgreSQL: slot name -> output plugins (only "pgoutput" is supported).
  std::map<std::string, std::vector<std::string>> replication_slots;
  std::string publication;  // PostgreSQL, optional
  /// MySQL / MariaDB.
  std::vector<int64_t> slave_server_ids;
  ssl_config ssl;
};

/// Per-table extractor settings.
struct extractor_table_config {
  std::string split_key;
  std::vector<std::string> row_identifier_key;
};

struct extractor_catalog_config {
  std::string catalog;
  std::string schema;
  std::map<std::string, extractor_table_config> tables;
};

struct start_position_config {
  std::string log;
  uint64_t position = 0;
  std::string gtid;
  std::string lsn;
  bool given() const { return !log.empty() || !gtid.empty() || !lsn.empty(); }
};

struct heartbeat_config {
  bool enable = false;
  std::string catalog;
  std::string schema;
  std::string table_name = "replicate_io_cdc_heartbeat";
  int interval_ms = 10000;
};

/// Extractor `realtime.signal-table`: a source table whose inserted rows,
/// shaped as Debezium's signals (`id`, `type`, `data`), ask a running
/// replication for an incremental snapshot (docs/incremental-snapshots.md).
struct signal_table_config {
  std::string catalog;
  std::string schema;
  std::string table_name;
  bool given() const { return !table_name.empty(); }
};

/// Extractor file (`--extractor`).
struct extractor_config {
  struct snapshot_part {
    int threads = 16;
    int fetch_size_rows = 5000;
    std::vector<extractor_catalog_config> per_table_config;
  } snapshot;
  struct realtime_part {
    int threads = 1;
    int fetch_size_rows = 5000;
    start_position_config start_position;
    heartbeat_config heartbeat;
    signal_table_config signal_table;
  } realtime;
};

enum class replay_consistency { eventual, global };
enum class op_codes { debezium, verbose };
enum class decimal_handling { string, precise, dbl };
enum class name_delimiter { underscore, dot };
enum class convert_case { keep, lower, upper };
/// Applier `trim` (docs/redis-limits.md).
enum class trim_mode { never, approximate, acked };

/// Applier `stream-max-length` and `trim`: how a table stream is kept short.
struct stream_trim_config {
  /// 0: no length given (then trim must be NEVER).
  uint64_t max_length = 0;
  trim_mode mode = trim_mode::never;
};

struct message_config {
  op_codes codes = op_codes::debezium;
  bool include_schema = true;
  decimal_handling decimals = decimal_handling::string;
  std::string connector_name = "REDIS_STREAM_Connector";
};

/// Applier file (`--applier`).
struct applier_config {
  struct snapshot_part {
    int threads = 16;
    int batch_size_rows = 5000;
    int txn_size_rows = 1000000;
    bool log_row_level_errors = false;
    bool skip_tables_on_failures = true;
  } snapshot;
  struct realtime_part {
    int threads = 8;
    replay_consistency consistency = replay_consistency::eventual;
    int txn_size_rows = 10000;
    int batch_size_rows = 1000;
    bool skip_tables_on_failures = true;
  } realtime;
  bool split_stream = true;
  message_config message;
  stream_trim_config trim;
  /// Applier max-consumer-lag: while the slowest consumer group of a
  /// table's stream lags more than this many entries (XINFO GROUPS lag),
  /// writes to it wait, and so its reading; 0: off.
  uint64_t max_consumer_lag = 0;
};

/// One table of a filter: allowed columns (empty = all) and a row condition.
struct filter_table {
  std::vector<std::string> columns;
  std::string conditions;
};

struct filter_catalog {
  std::string catalog;
  std::string schema;
  std::vector<std::string> types{"TABLE"};
  /// Table name -> its filter; empty map = every table of the catalog/schema.
  std::map<std::string, filter_table> tables;
};

/// Filter file (`--filter`); no filter file = every table the user can read.
struct filter_config {
  std::vector<filter_catalog> allow;
  bool given() const { return !allow.empty(); }
};

/// Map file (`--map`).
struct map_config {
  name_delimiter delimiter = name_delimiter::underscore;
  convert_case name_case = convert_case::keep;
};

}  // namespace trib
