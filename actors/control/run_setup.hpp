#pragma once
// The replication's state in Redis before a run's actors start, the same for
// every mode and source: refusals, --overwrite, --resume positions, tables
// that vanished since the last run, the lease. Free of CAF.

#include <memory>
#include <string>
#include <vector>

#include "actors/runtime.hpp"
#include "messages/position.hpp"

namespace trib {

class redis_client;
class redis_setup;
class run_lease;

/// Refuses to start over existing state without --resume or --overwrite
/// (trib::error state_exists), takes the replication's lease for as long as
/// the returned value lives, and checks the state again under it, since a
/// run of this id that ended in between left state behind.
std::unique_ptr<run_lease> hold_replication(redis_setup& redis, const run_options& opts,
                                            const std::string& ckpt);

/// `snapshot --overwrite` of a replication whose checkpoint records the
/// slot it created: refused (state_exists), since the rewritten streams
/// would no longer follow the slot's changes; `full --overwrite` starts it
/// over with a fresh slot.
void refuse_snapshot_over_a_slot(redis_client& c, const run_options& opts,
                                 const std::string& ckpt);

/// "the filter (db.public tables a b)", for the message when nothing matches.
std::string describe_filter(const filter_config& f);

/// --overwrite: deletes this id's checkpoint, schema stream and every
/// stream of `tables` (snapshot, change and global streams), so the run
/// starts from nothing; a recorded replication slot's record is kept (the
/// slot survives, and the run may have to drop it).
void overwrite_state(redis_client& c, const run_options& opts,
                     const std::vector<table_schema>& tables, const std::string& ckpt);

/// `snapshot --resume`: where each table's snapshot stands according to its
/// checkpoint (a table without key columns restarts whole).
std::vector<snapshot_position> resume_positions(redis_client& c, const run_options& opts,
                                                const std::vector<table_schema>& tables,
                                                const std::string& ckpt);

/// `snapshot --resume`: the tables of the previous run (its newest schema
/// dump) whose snapshot is unfinished but which the source no longer lists,
/// each as a skipped table of the summary.
std::vector<table_result> vanished_tables(redis_client& c, const run_options& opts,
                                          const std::vector<table_schema>& tables,
                                          const std::string& ckpt);

}  // namespace trib
