#include "actors/control/retry_policy.hpp"

#include <algorithm>

namespace trib {

retry_decision retry_policy::next(int failures, failure_code code) const {
  retry_decision d;
  if (!is_retryable(code) || failures < 1 || failures > max_retries) return d;
  d.retry = true;
  // Doubling stops once past the cap, so large failure counts cannot
  // overflow the multiplication.
  auto wait = std::max(base_wait, std::chrono::milliseconds{0});
  for (int i = 1; i < failures && wait < max_wait; ++i) wait *= 2;
  d.wait = std::min(wait, max_wait);
  return d;
}

retry_policy retry_policy_for(const redis_config& cfg) {
  retry_policy p;
  p.max_retries = std::max(cfg.max_retries, 0);
  p.base_wait = std::chrono::milliseconds{std::max(cfg.retry_wait_duration_ms, 0)};
  return p;
}

retry_policy retry_policy_for(const source_config& cfg) {
  retry_policy p;
  p.max_retries = std::max(cfg.max_retries, 0);
  p.base_wait = std::chrono::milliseconds{std::max(cfg.retry_wait_duration_ms, 0)};
  return p;
}

}  // namespace trib
