#pragma once
// Blocking Redis work outside the actors (state checks, --overwrite, resume
// positions, schema dumps): one connection, retried under the target's retry
// policy with a fresh connection per attempt, since after a failure the old
// one's state is unknown.

#include <memory>
#include <string>

#include "actors/control/retry_policy.hpp"
#include "actors/sink/redis_client.hpp"
#include "conf/config.hpp"

namespace trib {

class redis_setup {
public:
  explicit redis_setup(const redis_config& cfg) : cfg_(cfg), policy_(retry_policy_for(cfg)) {
  }

  /// Runs `f(redis_client&)`, connecting first when needed; `what` names the
  /// step in retry log lines.
  template <class F>
  auto run(const std::string& what, F f) {
    return with_retries(policy_, what, [&] {
      try {
        if (!client_) client_ = redis_client::connect(cfg_);
        return f(*client_);
      } catch (...) {
        client_.reset();
        throw;
      }
    });
  }

  /// Closes the connection (the actors open their own).
  void close() { client_.reset(); }

private:
  redis_config cfg_;
  retry_policy policy_;
  std::unique_ptr<redis_client> client_;
};

}  // namespace trib
