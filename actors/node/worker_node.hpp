#pragma once
// `tributary worker --join HOST:PORT --node-tls DIR` (design section 11):
// joins a coordinator over CAF's middleman with mutual TLS and starts the
// stages it places here until the coordinator ends the run. Free of CAF.

#include <chrono>
#include <string>

#include "actors/tuning.hpp"

namespace trib {

struct worker_options {
  /// The coordinator's --listen address, HOST:PORT.
  std::string join;
  /// --node-tls DIR (checked by check_node_tls before CAF sees it).
  std::string node_tls;
  /// How long joining may take (TCP, TLS handshake, the coordinator's
  /// answer) before the worker gives up.
  std::chrono::seconds join_timeout = tuning::node_join_timeout;
};

/// Joins the coordinator and serves it. Returns 0 once the coordinator
/// ended the run, 1 when the join fails or times out or the coordinator is
/// lost (the worker's writers stop then: they write only while the
/// coordinator's lease is known to hold). Throws trib::error (config) for
/// a bad --join or --node-tls.
int run_worker(const worker_options& opts);

}  // namespace trib
