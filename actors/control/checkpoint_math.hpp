#pragma once
// Checkpoint arithmetic of realtime replication (design section 6), free of
// CAF. Each stream's checkpoint records the last change written to it as
// (commit LSN of its transaction, 1-based index of the change among the
// transaction's changes of that stream); the index matters only when a
// transaction larger than txn-size-rows is split across writes. The slot may
// release a transaction only once every stream it touched has it: the
// txn_tracker computes that position, which is the minimum over the streams
// of what they committed.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace trib {

/// Where a change stream stands: the last change written to it.
struct stream_checkpoint {
  /// Commit LSN of the change's transaction; 0 = nothing written yet.
  uint64_t lsn = 0;
  /// The change's 1-based place among its transaction's changes of the
  /// stream.
  uint64_t index = 0;
};

inline bool operator==(const stream_checkpoint& a, const stream_checkpoint& b) {
  return a.lsn == b.lsn && a.index == b.index;
}

/// `{"lsn":"0/16B3748","index":3}`: JSON text with the LSN in PostgreSQL's
/// notation, readable next to pg_replication_slots.
std::string encode_stream_checkpoint(const stream_checkpoint& c);

/// The inverse; throws trib::error{bad_data} on anything else (a snapshot
/// checkpoint, say, which has no "lsn").
stream_checkpoint decode_stream_checkpoint(const std::string& text);

/// Whether the change at (commit_lsn, index) is in the stream already: a
/// change of an earlier transaction, or of the same one up to the index.
/// This is the skip rule after a restart, when the slot sends again every
/// transaction it was not told is done.
inline bool covers(const stream_checkpoint& c, uint64_t commit_lsn, uint64_t index) {
  return commit_lsn < c.lsn || (commit_lsn == c.lsn && index <= c.index);
}

/// Whether a checkpoint field Redis holds now (`now`; nullopt: the field is
/// missing) is at or past the value Redis acknowledged for it before
/// (`acknowledged`). A checkpoint only moves forward, so a value behind, or
/// none at all, means Redis lost writes it had acknowledged (a restart
/// without persistence, say). Knows both checkpoint kinds: a snapshot's
/// (whole table or one split range: rows written, done) and a change
/// stream's ({lsn, index}). Returns nullopt when `now` is at or past,
/// otherwise what Redis holds now in words ("nothing", or its value).
/// Values of neither kind compare by equality only.
std::optional<std::string> checkpoint_behind(const std::string& acknowledged,
                                             const std::optional<std::string>& now);

/// The transactions a WAL reader has handed on, in commit order, and how
/// many of their batches are not written yet. Batches of a transaction may
/// go out before its commit arrives (a transaction larger than a write);
/// the transaction counts as done once it committed and all its batches are
/// written. The confirmable position is the end LSN of the last transaction
/// of the longest done prefix: everything before it is in Redis.
class txn_tracker {
public:
  /// A batch holding changes of the transaction that commits at
  /// `commit_lsn` went out.
  void add_part(uint64_t commit_lsn);
  /// The transaction's commit arrived (`end_lsn` = just past its commit
  /// record). A transaction with no replicated change has no part and is
  /// done at once.
  void commit(uint64_t commit_lsn, uint64_t end_lsn);
  /// One batch of the transaction is written. Unknown LSNs are ignored (a
  /// transaction forgotten by discard_open()).
  void ack(uint64_t commit_lsn);
  /// Drops transactions whose commit has not arrived: after a lost source
  /// connection they are sent again from the start.
  void discard_open();
  /// A stream stopped at a change of the transaction that commits at
  /// `commit_lsn`: from now on no transaction committing there or later is
  /// released (the lowest hold wins; done ones are still forgotten, so
  /// memory stays flat).
  void hold(uint64_t commit_lsn);
  /// The hold's commit LSN; 0 when nothing is held.
  uint64_t held() const { return hold_; }
  /// Releases the done prefix; returns the confirmable position (never
  /// smaller than before; 0 until a transaction is done; never at or past
  /// a held transaction).
  uint64_t advance();
  /// Transactions still tracked.
  size_t size() const { return txns_.size(); }

private:
  struct txn {
    uint64_t commit_lsn = 0;
    uint64_t end_lsn = 0;
    uint64_t outstanding = 0;
    bool committed = false;
  };
  txn& find_or_add(uint64_t commit_lsn);

  std::deque<txn> txns_;
  uint64_t confirmed_ = 0;
  uint64_t hold_ = 0;
};

}  // namespace trib
