#pragma once
// The constants that shape Tributary's throughput and memory, in one place.
// Each was measured with the scripts under ops/bench/ (README, Benchmarks);
// change them here and measure again. `tributary --print-tuning` prints them,
// and the benchmarks read them from there instead of copying them.
// Plain constants: no CAF, cheap to include anywhere.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace trib::tuning {

// -- snapshot ---------------------------------------------------------------

/// A snapshot write to Redis (one MULTI/EXEC) carries entries of about this
/// many bytes (key + value; at least one entry). About 512 KB keeps Redis
/// busy without long replies to wait for; 1 MiB writes measured no faster.
inline constexpr size_t snapshot_write_bytes = 512u << 10;
/// Writes an applier keeps at its writer at once: the writer always has the
/// next one at hand when Redis answers (one is on the wire at a time, since
/// its MULTI is answered before its entries go out), and the entries built
/// at once stay near 6 x 512 KB = 3 MB per table.
inline constexpr size_t snapshot_writes_in_flight = 6;
/// Memory for rows read but not yet committed, across all tables read at
/// once; each reader's window is its share ...
inline constexpr size_t snapshot_memory_budget_bytes = 64u << 20;
/// ... but at least this much, so that many threads still read in batches.
inline constexpr size_t snapshot_min_reader_window_bytes = 4u << 20;
/// A reader's batch ends at a quarter of its window, but not below this.
inline constexpr size_t snapshot_min_batch_bytes = 1u << 20;
/// Batches a reader has sent to its applier and not yet seen committed.
inline constexpr size_t snapshot_reader_batches_in_flight = 4;

// -- Redis --------------------------------------------------------------------

/// How long a write sent with "more follows" waits for that next write
/// before its replies are read anyway (a sender that stopped short).
inline constexpr std::chrono::milliseconds writer_linger{20};
/// How long a read from Redis may block before the connection counts as
/// lost (a write of 512 KB is answered in milliseconds; this is for a
/// Redis that hangs, not a slow one).
inline constexpr int redis_read_timeout_ms = 30000;
/// How long connecting to Redis (TCP handshake) may take.
inline constexpr int redis_connect_timeout_ms = 5000;
/// Memory backpressure (memory-threshold-percentage): a writer reads INFO
/// memory again once it has written this share (1/N) of the room left below
/// the threshold -- so near it, it reads often, and far below, rarely --
/// and at least this often, since other writers and clients fill Redis too.
inline constexpr uint64_t redis_memory_headroom_share = 4;
inline constexpr std::chrono::milliseconds redis_memory_check_interval{1000};
/// While paused above the threshold, how often a writer reads it again.
inline constexpr std::chrono::milliseconds redis_memory_poll_interval{100};

}  // namespace trib::tuning
