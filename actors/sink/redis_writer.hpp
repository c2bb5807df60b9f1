#pragma once
// A Redis writer: one connection, one batch at a time. Detached, because the
// client blocks. Include only from actor .cpp files (pulls in CAF).

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "actors/actors.hpp"
#include "actors/control/retry_policy.hpp"
#include "conf/config.hpp"

namespace trib {

class redis_client;

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
  /// Checkpoint fields whose write failed for good. Later writes to them are
  /// refused: an applier may have sent its next write already (two in
  /// flight), and that one must not commit after its predecessor failed,
  /// or the checkpoint would move past rows that are not in the stream.
  std::set<std::string> failed_fields;

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
redis_writer_actor::behavior_type
redis_writer(redis_writer_actor::stateful_pointer<redis_writer_state> self,
             redis_config target);

}  // namespace trib
