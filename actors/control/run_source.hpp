#pragma once
// What the run driver (runtime.cpp) needs from a source for `realtime` and
// `full` beyond what every source session offers: its settings checks, its
// own fields in the checkpoint hash, where changes are read from (a
// PostgreSQL slot, a binlog position), how the snapshot of `full` hands over
// to the changes, and the change reader. A new source adds a run_source and
// its change reader; the driver stays as it is. Include only from actor .cpp
// files (pulls in CAF).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "actors/control/coordinator.hpp"
#include "actors/runtime.hpp"
#include "messages/source_facts.hpp"

namespace trib {

class redis_client;
class redis_setup;

/// What the driver learned before the actors start, shared with the source.
struct run_context {
  explicit run_context(const run_options& o) : opts(o) {}
  const run_options& opts;
  /// The replication's checkpoint hash.
  std::string ckpt;
  std::string schema_stream;
  std::vector<table_schema> tables;
  source_facts facts;
  /// The streams' checkpoints (the source took its own fields out).
  std::map<std::string, std::string> checkpoints;
  /// The checkpoint hash existed before this run.
  bool state_in_redis = false;
  /// `full` whose snapshot is still to be read.
  bool snapshot_needed = false;
  /// Re-reads the catalog (a DDL changed a table), without the heartbeat
  /// table.
  std::function<std::vector<table_schema>()> list_tables;
  /// Appends a schema dump of the tables, on a Redis connection of its own
  /// (the change reader's thread calls it).
  std::function<void(const std::vector<table_schema>&)> dump_schema;
};

class run_source {
public:
  virtual ~run_source() = default;

  /// Refuses settings this source cannot run with, before anything is
  /// created (throws trib::error config).
  virtual void check_config() {}
  /// Checks the server's settings once the logs are open.
  virtual void check_server() {}
  /// Checks the tables before anything is created or deleted.
  virtual void check_tables(const run_context&) {}
  /// Takes the source's own fields (not streams' checkpoints) out of the
  /// checkpoint hash as read from Redis.
  virtual void take_state(std::map<std::string, std::string>& checkpoints) = 0;
  /// Whether an unfinished snapshot of `full` continues on --resume (as
  /// incremental snapshots while changes stream); otherwise --resume
  /// refuses it with snapshot_gone().
  virtual bool continues_snapshots() const { return false; }
  /// Why an unfinished snapshot of `full` cannot be continued, for
  /// messages ("the slot's exported snapshot it read from is gone").
  virtual std::string snapshot_gone() const = 0;
  /// Prepares where changes are read from (and, when the snapshot is
  /// needed, what it reads); may store state in Redis through `redis`.
  virtual void prepare(run_context& ctx, redis_setup& redis) = 0;
  /// `full`: how the snapshot readers read the tables and split-key ranges
  /// of `plan`.
  virtual exported_snapshot snapshot_readers(const snapshot_plan& plan) = 0;
  /// Stores what a crashed run resumes from, with the schema dump.
  virtual void record_start(redis_client&, const run_context&) {}
  /// `full`, once the snapshot finished: stores where the changes take over
  /// and returns it, in words, for the log.
  virtual std::string hand_over(const run_context& ctx) = 0;
  /// Spawns the change reader (on the coordinator's node: one per source).
  virtual streaming_reader_actor spawn_reader(caf::local_actor* self,
                                              change_dispatcher_actor dispatcher,
                                              const run_context& ctx) = 0;
  /// How the run ended, for its last log line ("; slot s confirmed at
  /// 0/1234"), from the reader's final release position.
  virtual std::string describe_end(uint64_t released) const = 0;
};

/// PostgreSQL: a logical replication slot and publication (pg_run_source.cpp).
std::unique_ptr<run_source> make_pg_run_source(const run_options& opts);
/// MySQL/MariaDB: the binlog as a replica (binlog_run_source.cpp).
std::unique_ptr<run_source> make_binlog_run_source(const run_options& opts);

}  // namespace trib
