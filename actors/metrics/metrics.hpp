#pragma once
// Prometheus metrics (design section 9), named tributary_*. Recording is
// cheap and always on; serve() exposes them for scraping when --metrics is
// given. Call at batch granularity, not per row. No CAF here.

#include <cstdint>
#include <string>

namespace trib::metrics {

/// Starts the pull exposer on "host:port"; throws trib::error{config} when the
/// address is malformed or cannot be bound.
void serve(const std::string& host_port);

/// Every series this process exports carries node="<name>", so that the
/// metrics of a coordinator and its workers stay apart in one Prometheus.
/// The name is the host name until this is called: the coordinator and the
/// workers set their certificate's common name or --node-name.
void set_node_name(const std::string& name);
/// The name in the `node` label now.
std::string node_name();

/// Rows committed to Redis; phase "snapshot" or "realtime", op "r", "c", ...
void add_rows_written(const std::string& table, const char* phase, const char* op,
                      uint64_t n);
/// A batch ended: result "committed", "retried", "failed".
void add_batch(const char* result);
/// A retry happened; reason is a failure_code name.
void add_retry(const char* reason);
void add_table_skipped(const std::string& table);
void add_indoubt_entries(uint64_t n);
/// Time a writer spent paused for Redis memory (memory-threshold-percentage).
void add_memory_paused(double seconds);
/// A writer starts (true) or ends (false) such a pause.
void set_memory_paused(bool paused);
/// Entries of `stream` not yet delivered to consumer group `group` (XINFO
/// GROUPS lag), as a writer with max-consumer-lag last read it.
void set_consumer_group_lag(const std::string& stream, const std::string& group, uint64_t lag);
/// Source commit to Redis acknowledgement, in seconds.
void observe_lag(double seconds);
/// Time one MULTI/EXEC took, in seconds.
void observe_redis_write(double seconds);
void set_snapshot_rows(const std::string& table, uint64_t done, uint64_t estimated);
/// The source position reached, as a number (PostgreSQL LSN, binlog offset).
void set_source_position(double position);
void set_nodes(int count);
/// Bytes of source log written and not yet confirmed by Tributary: a
/// PostgreSQL slot's lag, or MySQL/MariaDB binlog bytes behind.
void set_source_backlog_bytes(double bytes);
/// `stream`'s checkpoint committed now; the age is computed at each scrape.
void note_checkpoint(const std::string& stream);
/// Snapshot rows of `table` that could not be converted and were skipped.
void add_rows_skipped(const std::string& table, uint64_t n);

}  // namespace trib::metrics
