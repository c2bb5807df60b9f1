#pragma once
// Split-key ranges of a snapshot (design section 6, extractor
// snapshot.per-table-config): a table with a split-key on an integer column
// is read in `snapshot.threads` key ranges in parallel, every range into the
// table's one stream. Order in a stream matters to consumers per key only,
// and a key lives in one range, so interleaving ranges keeps every key's
// order. Each range checkpoints in its own field (`<stream>#<n>`) and
// resumes on its own; the bounds are stored before any row (field
// `<stream>#ranges`), so that a resumed run reads the very same ranges
// however the table or the thread count changed meanwhile.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/runtime.hpp"

namespace trib {

class redis_setup;
struct snapshot_plan;

/// `n` ranges over [lo, hi]: the n - 1 inner bounds (fewer when the span
/// holds fewer than n values).
std::vector<int64_t> split_bounds(int64_t lo, int64_t hi, size_t n);

/// Fills `plan.ranges` (one entry per `plan.tables`): the bounds stored in
/// checkpoint `ckpt` by an earlier run, else new ones from the source's
/// MIN/MAX of the split-key, stored before any row is written. A table an
/// earlier run began unsplit stays unsplit. With `opts.resume`, each range
/// starts from its own checkpoint.
void plan_split_ranges(const run_options& opts, const std::string& ckpt, snapshot_plan& plan,
                       redis_setup& redis);

/// Whether every reader of `full` adopts one exported snapshot, so that any
/// split-key table is read in ranges (PostgreSQL). MySQL/MariaDB cannot
/// share a snapshot: see the overload below.
bool splits_in_full(source_kind kind);

/// Whether `full` reads table `t` in its split-key ranges: on PostgreSQL
/// always; on MySQL/MariaDB, where each range's reader takes a consistent
/// snapshot and binlog position of its own, when the split-key is one of
/// the columns that identify a row in messages (key_columns): then a
/// change's before and after images each fall in one range, and the binlog
/// reader takes over each range exactly at its position (docs/binlog.md).
bool splits_in_full(source_kind kind, const table_schema& t);

/// Whether the snapshot of `stream` finished, given every field of the
/// replication's checkpoint: its own field is done, or it was split and
/// every range's field is done. Throws trib::error (bad_data) on a
/// malformed stored plan.
bool snapshot_finished(const std::map<std::string, std::string>& checkpoint,
                       const std::string& stream);

}  // namespace trib
