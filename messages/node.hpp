#pragma once
// What a coordinator and its workers tell each other (design section 11):
// the join, the configuration a worker needs (it reads no files of its own),
// and one order per kind of stage the coordinator places on a worker. The
// configuration structs of conf/ get their inspect() here, so that they
// cross as typed values, never as text to parse again.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "conf/config.hpp"
#include "messages/position.hpp"
#include "messages/source_facts.hpp"
#include "messages/table.hpp"

namespace trib {

// -- configuration values -------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, store_config& x) {
  return f(caf::meta::type_name("store_config"), x.path, x.key_path, x.password,
           x.store_type);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ssl_config& x) {
  // std::optional has no inspect in CAF 0.17: each store crosses as a flag
  // and a value, put back together once loaded.
  bool has_trust = x.trust_store.has_value();
  bool has_key = x.key_store.has_value();
  store_config trust = has_trust ? *x.trust_store : store_config{};
  store_config key = has_key ? *x.key_store : store_config{};
  auto put_back = caf::meta::load_callback([&]() -> caf::error {
    x.trust_store = has_trust ? std::optional<store_config>(trust) : std::nullopt;
    x.key_store = has_key ? std::optional<store_config>(key) : std::nullopt;
    return caf::none;
  });
  return f(caf::meta::type_name("ssl_config"), x.enable, has_trust, trust, has_key, key,
           put_back);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, redis_config& x) {
  return f(caf::meta::type_name("redis_config"), x.host, x.port, x.username, x.password,
           x.max_connections, x.max_retries, x.retry_wait_duration_ms, x.ssl,
           x.memory_threshold_percentage, x.cluster, x.cluster_seeds);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, source_config& x) {
  return f(caf::meta::type_name("source_config"), x.kind, x.host, x.port, x.database,
           x.username, x.password, x.max_connections, x.max_retries,
           x.retry_wait_duration_ms, x.replication_slots, x.publication,
           x.slave_server_ids, x.ssl);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message_config& x) {
  return f(caf::meta::type_name("message_config"), x.codes, x.include_schema, x.decimals,
           x.connector_name);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_trim_config& x) {
  return f(caf::meta::type_name("stream_trim_config"), x.max_length, x.mode);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, applier_config& x) {
  auto& s = x.snapshot;
  auto& r = x.realtime;
  return f(caf::meta::type_name("applier_config"), s.threads, s.batch_size_rows,
           s.txn_size_rows, s.log_row_level_errors, s.skip_tables_on_failures, r.threads,
           r.consistency, r.txn_size_rows, r.batch_size_rows, r.skip_tables_on_failures,
           x.split_stream, x.message, x.trim, x.max_consumer_lag);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, map_config& x) {
  return f(caf::meta::type_name("map_config"), x.delimiter, x.name_case);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, source_facts& x) {
  return f(caf::meta::type_name("source_facts"), x.kind, x.version, x.database, x.server_id);
}

// -- joining ----------------------------------------------------------------------

/// A worker introduces itself to the coordinator it joined.
struct node_hello {
  std::string host;
  int64_t pid = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_hello& x) {
  return f(caf::meta::type_name("node_hello"), x.host, x.pid);
}

/// What a worker needs before it takes stages: the connections, the
/// replication's names, and the lease its writers must find the
/// coordinator holding (every write WATCHes it, as on the coordinator's
/// own node).
struct node_setup {
  /// The worker's number (from 1), for its log lines.
  uint32_t worker = 0;
  source_config source;
  redis_config target;
  std::string group;
  std::string id;
  /// The lease key and the value the coordinator's run keeps in it.
  std::string lease_key;
  std::string lease_holder;
  /// How long from now the lease is certainly the coordinator's
  /// (milliseconds); renewed by lease_tick.
  int64_t lease_valid_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_setup& x) {
  return f(caf::meta::type_name("node_setup"), x.worker, x.source, x.target, x.group, x.id,
           x.lease_key, x.lease_holder, x.lease_valid_ms);
}

/// The coordinator renewed its lease: the worker's writers may write for
/// this many milliseconds more. A worker cut off from its coordinator gets
/// no more ticks, so its writers stop once the last one runs out.
struct lease_tick {
  int64_t valid_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_tick& x) {
  return f(caf::meta::type_name("lease_tick"), x.valid_ms);
}

// -- stage orders --------------------------------------------------------------------

/// Spawn a Redis writer (applier trim and max-consumer-lag).
struct writer_order {
  stream_trim_config trim;
  uint64_t max_consumer_lag = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, writer_order& x) {
  return f(caf::meta::type_name("writer_order"), x.trim, x.max_consumer_lag);
}

/// Spawn the table applier of a snapshot table.
struct table_applier_order {
  uint32_t table = 0;
  table_schema schema;
  applier_config applier;
  map_config map;
  source_facts facts;
  uint64_t max_write_bytes = 0;
  uint64_t max_writes_in_flight = 0;
  uint64_t max_entry_bytes = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, table_applier_order& x) {
  return f(caf::meta::type_name("table_applier_order"), x.table, x.schema, x.applier, x.map,
           x.facts, x.max_write_bytes, x.max_writes_in_flight, x.max_entry_bytes);
}

/// Spawn a snapshot reader of a whole table or of one split-key range, with
/// the settings the coordinator worked out for it (its window of the memory
/// budget, its row condition).
struct snapshot_reader_order {
  uint32_t table = 0;
  table_schema schema;
  uint64_t fetch_size_rows = 0;
  uint64_t batch_size_rows = 0;
  uint64_t max_in_flight = 0;
  uint64_t max_in_flight_bytes = 0;
  uint64_t max_batch_bytes = 0;
  uint32_t range = 0;
  uint32_t ranges = 1;
  std::string conditions;
  snapshot_position start;
  std::string exported_snapshot;
  source_position exported_at;
  bool one_snapshot = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_reader_order& x) {
  return f(caf::meta::type_name("snapshot_reader_order"), x.table, x.schema,
           x.fetch_size_rows, x.batch_size_rows, x.max_in_flight, x.max_in_flight_bytes,
           x.max_batch_bytes, x.range, x.ranges, x.conditions, x.start, x.exported_snapshot,
           x.exported_at, x.one_snapshot);
}

/// Spawn the change applier of one change stream.
struct change_applier_order {
  uint32_t stream = 0;
  std::string stream_name;
  std::string checkpoint_field;
  std::vector<table_schema> tables;
  std::vector<uint32_t> carries;
  message_config message;
  source_facts facts;
  /// The stream's checkpoint as Redis holds it (encode_stream_checkpoint:
  /// commit, index and any incremental snapshot's progress); empty when the
  /// stream has none.
  std::string start_checkpoint;
  uint64_t max_entry_bytes = 0;
  uint64_t max_write_bytes = 0;
  uint64_t max_writes_in_flight = 0;
  /// realtime.batch-size-rows: the most changes one write holds.
  uint64_t max_write_rows = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change_applier_order& x) {
  return f(caf::meta::type_name("change_applier_order"), x.stream, x.stream_name,
           x.checkpoint_field, x.tables, x.carries, x.message, x.facts, x.start_checkpoint,
           x.max_entry_bytes, x.max_write_bytes, x.max_writes_in_flight,
           x.max_write_rows);
}

}  // namespace trib
