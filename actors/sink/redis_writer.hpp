#pragma once
// A Redis writer: one connection; a write's replies are read once the
// next write comes (or a linger passed). Detached, because the client blocks. Include
// only from actor .cpp files (pulls in CAF).

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "actors/actors.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/sink/memory_gate.hpp"
#include "actors/sink/redis_cluster.hpp"
#include "actors/tuning.hpp"
#include "conf/config.hpp"

namespace trib {

class redis_client;
struct write_fence;

struct redis_writer_settings {
  /// How long a write sent with more_follows waits for that next write
  /// before its replies are read anyway (tuning.hpp).
  std::chrono::milliseconds linger = tuning::writer_linger;
  /// CLIENT SETNAME of the writer's connections (none when empty).
  std::string client_name = "tributary-writer";
  /// The run's lease: every write WATCHes it and none is sent while it is
  /// not known to be this run's. Empty: the lease this process holds, if
  /// any (current_write_fence()).
  std::shared_ptr<write_fence> fence;
  /// Applier stream-max-length and trim: how the streams written are kept
  /// short (after commits, see trim_after in writer_trim.cpp).
  stream_trim_config trim;
  /// Applier max-consumer-lag (0: off): writes to a stream whose slowest
  /// consumer group lags more than this wait (see writer_lag.cpp).
  uint64_t max_consumer_lag = 0;
};

struct redis_writer_state {
  static inline const char* name = "redis_writer";

  redis_config target;
  retry_policy policy;
  /// Connected lazily, dropped after a connection failure.
  std::unique_ptr<redis_client> client;
  /// The checkpoint value each field held before this writer's last commit
  /// to it (nullopt: the field did not exist), to restore after a partial
  /// failure.
  std::map<std::string, std::optional<std::string>> committed;
  /// The checkpoint hash of each of those fields: the replication's one,
  /// or in mode CLUSTER the hash of the field's stream; and that stream.
  std::map<std::string, std::string> checkpoint_keys;
  std::map<std::string, std::string> checkpoint_streams;
  /// Mode CLUSTER (see writer_route.cpp): the slot map (stale after a
  /// failure: learnt again before the next attempt), the node st.client is
  /// for, the streams whose lease copy that connection stamped, and the
  /// other nodes' connections with their memory gate and stamps.
  std::optional<slot_map> slots;
  bool slots_stale = false;
  cluster_node node;
  std::set<std::string> stamped;
  struct node_link {
    std::unique_ptr<redis_client> client;
    memory_gate memory;
    std::set<std::string> stamped;
  };
  std::map<cluster_node, node_link> parked;
  /// Checkpoint fields whose write failed for good. Later writes to them are
  /// refused: an applier may have sent its next write already (two in
  /// flight), and that one must not commit after its predecessor failed,
  /// or the checkpoint would move past rows that are not in the stream.
  std::set<std::string> failed_fields;
  /// Entries a failed write added that could not be deleted again, per
  /// checkpoint field (its checkpoint went back before them): the undo that
  /// follows the failure tries them again and reports those left in doubt.
  std::map<std::string, std::vector<std::string>> partial_in_doubt;
  redis_writer_settings settings;
  /// When to read Redis's memory before a write (memory-threshold-percentage).
  memory_gate memory;
  /// Writes wait for Redis's memory to fall (see redis_writer): since when,
  /// up to when the paused time is counted, and the stream that met it.
  bool paused = false;
  std::chrono::steady_clock::time_point paused_at;
  std::chrono::steady_clock::time_point paused_counted;
  std::string paused_stream;
  /// The run stops: a write that would wait for memory is answered as not
  /// written instead.
  bool stopping = false;
  /// Entries added to each stream since this writer last trimmed it.
  std::map<std::string, uint64_t> untrimmed;
  /// Entries added to each stream since its consumer groups' lag was read.
  std::map<std::string, uint64_t> lag_unread;
  /// A write that is on the wire, its replies not read yet.
  struct sent {
    write_batch batch;
    caf::typed_response_promise<write_ack> promise;
    std::chrono::steady_clock::time_point sent_at;
  };
  /// The write on the wire (one at a time: see redis_writer).
  std::optional<sent> on_wire;
  /// Writes that came while paused for memory, in order.
  std::deque<sent> waiting;
  /// Streams held for consumer lag, each with the writes to it that came
  /// since, in order.
  std::map<std::string, std::deque<sent>> held;
  /// A tick is scheduled (while paused for memory or holding a stream).
  bool tick_armed = false;
  /// Counts writes; a flush for an older count is stale.
  uint64_t generation = 0;
  /// A flush is scheduled (one at a time: a timer per write would wake the
  /// clock and this thread for every write of a snapshot).
  bool flush_armed = false;

  redis_writer_state();
  ~redis_writer_state();
};

/// Commits each write_batch with redis_client::write_atomically. Retryable
/// failures are retried under the target's retry policy on a fresh
/// connection; before re-sending, the writer reads the batch's checkpoint
/// field: when it already holds the batch's checkpoint value the earlier
/// attempt committed (the reply was lost with the connection), so the batch
/// is acknowledged without writing it again -- that is what keeps snapshot
/// delivery exactly-once. Such an acknowledgement carries no entry IDs.
/// A failure inside EXEC that left part of a batch applied (Redis runs the
/// other commands of a transaction when one fails) is undone -- XDEL of the
/// added entries, the previous checkpoint value written back -- so that every
/// batch is all or nothing. Permanent failures come back as errors (see
/// to_failure()), and every later write to the same checkpoint field is
/// refused, so that a stream never holds a batch whose predecessor failed.
///
/// Each write's MULTI is sent on its own and its +OK awaited before the
/// entries follow: were MULTI refused (an ACL changed mid-run), they would
/// run outside a transaction. So one write at a time is on the wire; a write
/// marked more_follows leaves its replies unread until the next write comes
/// (or settings.linger passes), and they are read before that one is sent.
/// A write that fails for good makes the writes after it to the same
/// checkpoint field fail unsent; one whose connection was lost is checked
/// against its checkpoint before it is sent again.
///
/// Before a write, when memory_gate says a reading is due, the writer reads
/// INFO memory; while used_memory is above memory-threshold-percentage of
/// maxmemory it sends nothing: writes wait in order, and a delayed tick
/// reads again every tuning::redis_memory_poll_interval (logged once per
/// pause, the time counted in tributary_redis_memory_paused_seconds_total).
/// The pause is a timer, not a wait on the writer's thread, so a stop gets
/// through: on stop_atom the waiting writes are answered failure_code::stopped
/// (not written; their checkpoint did not move, --resume writes them), and so
/// is any write that would pause after it. A retry of a write already let
/// through is not held again (an OOM it meets is retried under the policy).
///
/// With settings.max_consumer_lag, after commits (once a tenth of the bound
/// was added) the writer reads XINFO GROUPS of the stream (every group's lag
/// becomes a metric); while the slowest group lags more than the bound the
/// stream is held: later writes to it wait, in order, and the same tick
/// reads the lag again; other streams' writes go on. A stop answers held
/// writes failure_code::stopped as well.
///
/// In mode CLUSTER (writer_route.cpp) each write goes to the master that
/// owns its stream, on one connection per master; the checkpoint key of a
/// batch becomes its stream's own hash (`<key>:{<stream>}`), and the lease
/// the writes WATCH is the stream's copy of it, stamped before the first
/// write to the stream on a connection. Any failure makes the slot map be
/// learnt again before the retry (a failover, a resharding). With
/// wait-replicas, a write whose WAIT falls short is not acknowledged: it is
/// retried, and the retry finds it committed and WAITs again.
///
/// With settings.trim, a stream is trimmed after a commit once a tenth of
/// stream-max-length was added since its last trim: APPROXIMATE by XTRIM
/// MAXLEN ~ N, ACKED (only when the stream is longer than N) by XTRIM MINID ~
/// the oldest entry some consumer group has not been delivered or has not
/// acknowledged -- never when the stream has no group. A trim is not part
/// of the write's transaction (trimming is not what exactly-once is about);
/// one that fails is logged and tried again after a later write.
redis_writer_actor::behavior_type
redis_writer(redis_writer_actor::stateful_pointer<redis_writer_state> self,
             redis_config target, redis_writer_settings settings);

}  // namespace trib
