#pragma once
// The realtime and full modes of run_replication (design sections 1 and 6),
// free of CAF in its interface: runtime.cpp hands a run over when its mode is
// not a plain snapshot.

#include <atomic>
#include <memory>
#include <string>

#include "actors/runtime.hpp"

namespace trib {

class redis_setup;
class run_lease;

/// Shared by both run drivers: refuses to start over existing state without
/// --resume or --overwrite (trib::error state_exists), takes the
/// replication's lease for as long as the returned value lives, and checks
/// the state again under it, since a run of this id that ended in between
/// left state behind.
std::unique_ptr<run_lease> hold_replication(redis_setup& redis, const run_options& opts,
                                            const std::string& ckpt);

/// Runs `realtime` or `full`: prepares the slot and publication, (full) runs
/// the snapshot on the slot's exported snapshot, then streams changes until
/// SIGINT/SIGTERM, after which it drains, confirms and answers exit code 0.
/// Sets `logs_open` once data/<id>/ logs exist. Throws trib::error for
/// failures the caller turns into exit codes.
run_summary run_realtime(const run_options& opts, bool& logs_open);

/// run_realtime for MySQL/MariaDB (binlog_realtime.cpp): checks the binlog
/// settings; `full` snapshots each table in a consistent snapshot of its own
/// and records its binlog position; then reads from where an earlier run
/// stopped (--resume), the earliest snapshot position, start-position, or
/// the binlog's end, and streams until SIGINT/SIGTERM.
run_summary run_binlog_realtime(const run_options& opts, bool& logs_open);

/// The checkpoint hash field that holds where a binlog run restarts
/// ("file:pos", or "gtid:..." before its first release).
constexpr const char* binlog_position_field = "#binlog_position";

/// Asks a running run_realtime to drain and stop, as SIGINT/SIGTERM do
/// (callable from a signal handler).
void request_realtime_stop();

}  // namespace trib
