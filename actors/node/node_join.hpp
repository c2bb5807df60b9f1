#pragma once
// How a coordinator and its workers find each other (design section 11):
// the coordinator publishes a registry that workers join, waits for them,
// hands each its setup and keeps telling them that its lease holds; a
// worker connects with a deadline. Include only from actor .cpp files
// (pulls in CAF).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "actors/node/node_system.hpp"
#include "actors/runtime.hpp"

namespace trib {

class stop_signals;
struct write_fence;

/// What one attempt to join gave.
struct join_attempt {
  /// Valid once joined.
  node_registry_actor registry;
  /// Why not.
  std::string why;
  /// Nothing accepted the connection (yet): worth trying again while the
  /// coordinator may still be starting.
  bool nobody_listens = false;
};

/// Connects to the registry a coordinator published at `at`, through CAF's
/// OpenSSL middleman, giving up after `timeout`: a coordinator that refuses
/// this node's certificate never answers (the handshake just ends), so the
/// deadline is what turns that into a message.
join_attempt join_coordinator(caf::actor_system& sys, const node_address& at,
                              std::chrono::milliseconds timeout);

/// The coordinator's workers for one run.
class node_cluster {
public:
  /// Publishes the registry at cluster.listen and waits until
  /// cluster.workers workers joined (each join logged), then sends each its
  /// setup (the connections of `run`, the lease `fence` guards). Throws
  /// trib::error: config when it cannot listen, connection when the
  /// workers do not come within cluster.join_timeout, stopped on
  /// SIGINT/SIGTERM meanwhile.
  node_cluster(caf::actor_system& sys, const run_options& run,
               std::shared_ptr<write_fence> fence, const stop_signals& signals);
  /// Tells every worker that the run is over and waits (briefly) for each
  /// to say it ended its stages.
  ~node_cluster();
  node_cluster(const node_cluster&) = delete;
  node_cluster& operator=(const node_cluster&) = delete;

  const std::vector<worker_actor>& workers() const { return workers_; }

private:
  caf::actor_system& sys_;
  node_registry_actor registry_;
  std::vector<worker_actor> workers_;
};

}  // namespace trib
