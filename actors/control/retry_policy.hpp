#pragma once
// The one retry policy of the project (design section 7): retryable failures
// (connection lost, server busy) are retried up to max-retries times with an
// exponential backoff that starts at retry-wait-duration-ms; permanent
// failures are never retried. Pure code: actors ask it and do the waiting.

#include <chrono>

#include "conf/config.hpp"
#include "messages/failure.hpp"

namespace trib {

/// What to do after a failure.
struct retry_decision {
  /// Whether another attempt may help.
  bool retry = false;
  /// How long to wait before it.
  std::chrono::milliseconds wait{0};
};

/// Exponential backoff: base, 2 base, 4 base, ... capped at max_wait.
struct retry_policy {
  /// Attempts after the first failure; 0 means never retry.
  int max_retries = 10;
  /// Wait before the first retry.
  std::chrono::milliseconds base_wait{1000};
  /// No wait is longer than this, however many failures came before.
  std::chrono::milliseconds max_wait{30000};

  /// Decides after `failures` consecutive failures (1 after the first one),
  /// the last of which had `code`.
  retry_decision next(int failures, failure_code code) const;
};

/// The policy a target connection file configures.
retry_policy retry_policy_for(const redis_config& cfg);
/// The policy a source connection file configures.
retry_policy retry_policy_for(const source_config& cfg);

}  // namespace trib
