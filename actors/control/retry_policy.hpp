#pragma once
// The one retry policy of the project (design section 7): retryable failures
// (connection lost, server busy) are retried up to max-retries times with an
// exponential backoff that starts at retry-wait-duration-ms; permanent
// failures are never retried. Pure code: actors ask it and do the waiting.

#include <chrono>
#include <string>
#include <thread>

#include "actors/log.hpp"

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

/// Runs `f` under `policy` on the calling thread: retryable failures (a lost
/// connection, a busy server) are tried again after the policy's wait, others
/// pass through. For blocking setup steps outside actors; actors schedule
/// their retries instead of sleeping.
template <class F>
auto with_retries(const retry_policy& policy, const std::string& what, F f) {
  for (int failures = 0;;) {
    try {
      return f();
    } catch (const error& e) {
      auto d = policy.next(++failures, e.code());
      if (!d.retry) throw;
      log::warn("retries " + what + " in " + std::to_string(d.wait.count()) +
                " ms (attempt " + std::to_string(failures) + " of " +
                std::to_string(policy.max_retries) + ", " + to_string(e.code()) +
                "): " + e.what());
      std::this_thread::sleep_for(d.wait);
    }
  }
}

}  // namespace trib
