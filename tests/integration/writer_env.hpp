#pragma once
// What the integration tests of the Redis writer actor share: the local
// Redis of ops/servers.sh with short retries (permanent failures are not
// retried; retryable ones stay short), and one quiet actor system
// configuration with the project's message types.

#include <caf/all.hpp>

#include "actors/control/type_ids.hpp"
#include "conf/config.hpp"
#include "tests/integration/test_env.hpp"

namespace trib::test {

inline redis_config writer_redis() {
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = redis_port();
  cfg.max_retries = 1;
  cfg.retry_wait_duration_ms = 10;
  return cfg;
}

/// One configuration for every actor system of a test binary (CAF keeps a
/// reference to it).
inline caf::actor_system_config& quiet_actor_config() {
  static caf::actor_system_config cfg;
  static bool once = [] {
    register_message_types(cfg);
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    return true;
  }();
  (void)once;
  return cfg;
}

}  // namespace trib::test
