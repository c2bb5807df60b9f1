#pragma once
// Run statistics (issue 15, point 3), as Arcion's
// replicate_io_replication_statistics_history: per table, the rows a
// replication wrote by phase and op, when it first and last wrote, and the
// lag of its newest realtime write. They add up over the runs of an id
// (--resume continues them, --overwrite starts them over) in the Redis hash
// replicate_io_stats_<group>_<id> and in data/<id>/stats.json;
// `tributary stats` prints them. This header holds the pure parts (counting,
// the Redis commands, parsing and formatting) and the hook the appliers
// call; run_stats_recorder.hpp sends them. No CAF here.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace trib {

/// One table's statistics.
struct table_stats {
  uint64_t snapshot_rows = 0;
  uint64_t inserts = 0;
  uint64_t updates = 0;
  uint64_t deletes = 0;
  uint64_t truncates = 0;
  /// First and last write, milliseconds since the epoch (0: none yet).
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  /// Source commit to Redis acknowledgement of the newest realtime write
  /// (-1: no realtime write with a known commit time).
  int64_t lag_ms = -1;
};

/// By table name ("public.orders", "shop.orders").
using stats_by_table = std::map<std::string, table_stats>;

/// `replicate_io_stats_<group>_<id>`.
std::string stats_key(const std::string& group, const std::string& id);

/// Counts `rows` written at `now_ms`: phase "snapshot", or "realtime" with op
/// "c", "u", "d" or "t"; `lag_s` < 0 when unknown.
void count_rows(stats_by_table& s, const std::string& table, const std::string& phase,
                const std::string& op, uint64_t rows, double lag_s, int64_t now_ms);

/// Adds `later` (counted after `into`) to `into`.
void merge_stats(stats_by_table& into, const stats_by_table& later);

/// The commands that add `delta` to the hash `key`: HINCRBY per count,
/// HSETNX of the start, HSET of the end and the lag. Fields are
/// `<table>:<name>` (name: snapshot_rows, inserts, updates, deletes,
/// truncates, start_ms, end_ms, lag_ms).
std::vector<std::vector<std::string>> stats_commands(const std::string& key,
                                                     const stats_by_table& delta);

/// The hash as HGETALL returns it (field, value, field, value, ...). Throws
/// trib::error{bad_data} naming the field that is not a number.
stats_by_table parse_stats_hash(const std::vector<std::string>& flat);

/// A table with one line per table and a total line, for people.
std::string format_stats_table(const stats_by_table& s);

/// The statistics as a JSON object: {"key", "tables": [{"table",
/// "snapshot_rows", "inserts", "updates", "deletes", "truncates", "start",
/// "end", "elapsed_ms", "lag_ms"}]} (times in UTC, ISO 8601; absent ones
/// null).
std::string stats_json(const std::string& key, const stats_by_table& s);

class run_stats_recorder;
/// Installs the recorder the hook feeds (nullptr: none).
void install_run_stats(std::shared_ptr<run_stats_recorder> recorder);
/// The appliers call this once Redis acknowledged a write (nothing happens
/// while no recorder is installed).
void note_rows_written(const std::string& table, const char* phase, const char* op,
                       uint64_t rows, double lag_s);

}  // namespace trib
