#pragma once
// The constants that shape Tributary's throughput and memory, in one place.
// Each was measured with the scripts under ops/bench/ (docs/benchmarks.md);
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
/// The split-key ranges of a table read at once share one reader's window
/// (they feed the table's one applier, which writes no faster for more rows
/// waiting), each at least this much; its batches end at a quarter of it.
inline constexpr size_t snapshot_min_range_window_bytes = 512u << 10;
/// A reader fetches fetch-size-rows, but no more rows than fill one batch at
/// the table's average row size so far, and at least this many (also its
/// first fetch, which measures the rows): fetched rows wait in the reader,
/// outside its window.
inline constexpr size_t snapshot_min_fetch_rows = 100;
/// Batches a reader has sent to its applier and not yet seen committed.
inline constexpr size_t snapshot_reader_batches_in_flight = 4;

// -- realtime -----------------------------------------------------------------

/// A change reader (WAL, binlog) sends what it decoded to the dispatcher
/// once it holds this many bytes of changes (change_bytes) ...
inline constexpr size_t change_feed_bytes = 1u << 20;
/// ... or once the WAL reader's feed is this old: a feed carries many small
/// transactions, since each costs a message, an answer and a thread
/// wake-up, which under a steady load of small transactions was most of
/// the CPU (the binlog reader sends whenever the server has nothing more
/// read ahead).
inline constexpr std::chrono::milliseconds change_feed_linger{3};
/// Feeds a reader has sent and not yet seen answered: it reads its source
/// again only below that (the dispatcher's flow control).
inline constexpr size_t change_feeds_unanswered = 2;
/// Bytes of changes a realtime run holds unwritten at most, in open batches
/// and at the appliers: realtime memory whatever the burst. A batch is full
/// at a quarter of it, so that wide rows make smaller writes.
inline constexpr size_t realtime_memory_budget_bytes = 16u << 20;
/// Batches handed to the appliers and not yet written, at most, before
/// feeds wait (full batches still go out, up to twice that).
inline constexpr size_t realtime_batches_in_flight = 8;
/// How long an open batch may wait for more changes before an idle stream
/// gets it: without it a light load writes one transaction per write, and
/// the per-write cost (thread hops, a Redis round trip) is then most of the
/// CPU. Bounds the latency it adds, on top of change_feed_linger.
inline constexpr std::chrono::milliseconds realtime_linger{3};
/// A change applier's write ends at the first transaction boundary past
/// this many bytes of entries; it builds the next write ahead only while
/// the writes at its writer hold less.
inline constexpr size_t realtime_write_bytes = 4u << 20;
/// Writes a change applier keeps at its writer at once.
inline constexpr size_t realtime_writes_in_flight = 2;

// -- Redis --------------------------------------------------------------------

/// A write goes to the socket in pieces of about this size, so that the
/// encoding buffer stays small (and in cache) however large the write.
inline constexpr size_t redis_send_chunk_bytes = 256u << 10;
/// What one read from the Redis socket takes at most.
inline constexpr size_t redis_read_buffer_bytes = 64u << 10;

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

// -- nodes (design section 11) ----------------------------------------------

/// How long a coordinator waits for its --workers to join, and a worker for
/// its coordinator to accept it (TCP and the mutual TLS handshake), unless
/// --join-timeout says otherwise. A worker whose certificate the
/// coordinator refuses sees no answer at all (CAF's session just ends), so
/// this is also how long until it says so.
inline constexpr std::chrono::seconds node_join_timeout{60};
/// How often a worker tries to connect again while nothing listens at its
/// --join address yet (the coordinator may still be preparing its run).
inline constexpr std::chrono::milliseconds node_join_retry{250};
/// How long a worker may take to start a stage the coordinator places on it.
inline constexpr std::chrono::seconds node_spawn_timeout{30};
/// How often the coordinator tells its workers that its lease still holds,
/// and what it keeps back from the lease's remaining time for the message's
/// trip: a worker cut off from its coordinator stops writing once the last
/// tick runs out.
inline constexpr std::chrono::milliseconds node_lease_tick{1000};
inline constexpr std::chrono::milliseconds node_lease_margin{1000};

}  // namespace trib::tuning
