#pragma once
// Checkpoint arithmetic of realtime replication (design section 6), free of
// CAF and of any source's code. Each stream's checkpoint records the last
// change written to it as (ordered commit key of its transaction, 1-based
// index of the change among the transaction's changes of that stream); the
// index matters only when a transaction larger than txn-size-rows is split
// across writes. The source may release a transaction only once every
// stream it touched has it: the txn_tracker computes that position, which is
// the minimum over the streams of what they committed.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace trib {

/// How far an incremental snapshot of one table has written its rows into
/// a change stream (docs/incremental-snapshots.md). It commits with the
/// rows, in the stream's checkpoint, so a resumed run reads on after it.
struct snapshot_progress {
  /// The key cells (text) of the last row the snapshot is past: chunks go
  /// on after it. Empty: none yet.
  std::vector<std::string> after;
  /// Every chunk is written.
  bool done = false;
};

inline bool operator==(const snapshot_progress& a, const snapshot_progress& b) {
  return a.after == b.after && a.done == b.done;
}

/// Where a change stream stands: the last change written to it.
struct stream_checkpoint {
  /// Commit key of the change's transaction (row_change::commit); 0 =
  /// nothing written yet.
  uint64_t commit = 0;
  /// The change's 1-based place among its transaction's changes of the
  /// stream.
  uint64_t index = 0;
  /// Incremental snapshots of the stream's tables, by table name
  /// (to_string of its table_id). Empty for most streams.
  std::map<std::string, snapshot_progress> snapshots;
};

inline bool operator==(const stream_checkpoint& a, const stream_checkpoint& b) {
  return a.commit == b.commit && a.index == b.index && a.snapshots == b.snapshots;
}

/// `{"commit":23944008,"index":3}`: JSON text, the commit key as a number
/// (PostgreSQL: the commit LSN as an integer); with incremental snapshots,
/// `"snapshots":{"public.orders":{"after":["1024"],"done":false}}` too.
std::string encode_stream_checkpoint(const stream_checkpoint& c);

/// The inverse; also reads the form of earlier versions,
/// `{"lsn":"0/16B3748","index":3}` (a PostgreSQL commit LSN, which is the
/// same commit key), so that their replications resume. Throws
/// trib::error{bad_data} on anything else (a snapshot checkpoint, say).
stream_checkpoint decode_stream_checkpoint(const std::string& text);

/// Whether the change at (commit, index) is in the stream already: a change
/// of an earlier transaction, or of the same one up to the index. This is
/// the skip rule after a restart or a reconnect, when the source sends again
/// every transaction it was not told is done.
inline bool covers(const stream_checkpoint& c, uint64_t commit, uint64_t index) {
  return commit < c.commit || (commit == c.commit && index <= c.index);
}

/// Whether a checkpoint field Redis holds now (`now`; nullopt: the field is
/// missing) is at or past the value Redis acknowledged for it before
/// (`acknowledged`). A checkpoint only moves forward, so a value behind, or
/// none at all, means Redis lost writes it had acknowledged (a restart
/// without persistence, say). Knows both checkpoint kinds: a snapshot's
/// (whole table or one split range: rows written, done) and a change
/// stream's ({commit, index}). Returns nullopt when `now` is at or past,
/// otherwise what Redis holds now in words ("nothing", or its value).
/// Values of neither kind compare by equality only.
std::optional<std::string> checkpoint_behind(const std::string& acknowledged,
                                             const std::optional<std::string>& now);

/// The transactions the change dispatcher has handed on, by commit key, and
/// how many of their batches are not written yet. Batches of a transaction
/// may go out before its end arrives (a transaction larger than a write);
/// the transaction counts as done once it ended and all its batches are
/// written. The releasable position is the release position of the last
/// transaction of the longest done prefix: everything before it is in
/// Redis.
class txn_tracker {
public:
  /// A batch holding changes of the transaction with commit key `commit`
  /// went out.
  void add_part(uint64_t commit);
  /// The transaction ended (`release`: its release position, source_txn).
  /// A transaction with no replicated change has no part and is done at
  /// once.
  void commit(uint64_t commit, uint64_t release);
  /// One batch of the transaction is written. Unknown keys are ignored (a
  /// transaction forgotten by discard_open()).
  void ack(uint64_t commit);
  /// Drops transactions that have not ended: after a lost source
  /// connection they are sent again from the start.
  void discard_open();
  /// A stream stopped at a change of the transaction with commit key
  /// `commit`: from now on no transaction committing there or later is
  /// released (the lowest hold wins; done ones are still forgotten, so
  /// memory stays flat).
  void hold(uint64_t commit);
  /// The hold's commit key; 0 when nothing is held.
  uint64_t held() const { return hold_; }
  /// Releases the done prefix; returns the releasable position (never
  /// smaller than before; 0 until a transaction is done; never at or past
  /// a held transaction).
  uint64_t advance();
  /// Transactions still tracked.
  size_t size() const { return txns_.size(); }

private:
  struct txn {
    uint64_t commit = 0;
    uint64_t release = 0;
    uint64_t outstanding = 0;
    bool committed = false;
  };
  txn& find_or_add(uint64_t commit);

  std::deque<txn> txns_;
  uint64_t confirmed_ = 0;
  uint64_t hold_ = 0;
};

}  // namespace trib
