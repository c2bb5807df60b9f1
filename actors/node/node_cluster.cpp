// The coordinator's side of joining (node_join.hpp): the registry workers
// join, the wait for them, their setup, the lease ticks; and the worker's
// connect with a deadline.

#include <set>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/control/run_lease.hpp"
#include "actors/control/stop_signals.hpp"
#include "actors/log.hpp"
#include "actors/node/node_join.hpp"
#include "actors/node/node_refusals.hpp"
#include "actors/tuning.hpp"

namespace trib {

join_attempt join_coordinator(caf::actor_system& sys, const node_address& at,
                              std::chrono::milliseconds timeout) {
  // openssl::remote_actor waits for the middleman without a deadline; the
  // same request with one.
  caf::scoped_actor self{sys};
  join_attempt out;
  auto since = next_node_refusal();
  self
    ->request(sys.openssl_manager().actor_handle(), timeout, caf::connect_atom::value, at.host,
              at.port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
        if (!ptr)
          out.why = "nothing is published there";
        else if (!sys.assignable<node_registry_actor>(ifs))
          out.why = "what listens there is not a Tributary coordinator of this version";
        else
          out.registry = caf::actor_cast<node_registry_actor>(std::move(ptr));
      },
      [&](caf::error& e) {
        // CAF says only that the handshake ended; the handshake watch
        // (node_refusals.hpp) saw which end refused which certificate.
        auto refused = node_refusals_since(since, at.port);
        if (!refused.empty()) {
          auto& r = refused.back();
          out.why = (r.we_refused ? "this node refused the coordinator: "
                                  : "the coordinator refused this node: ") +
                    r.reason;
        } else if (e == caf::sec::request_timeout || e == caf::sec::connection_timeout) {
          // Either deadline: the join timeout, or the middleman's own
          // silence limit on a connection that never spoke.
          out.timed_out = true;
          out.why = "something accepted the connection but completed no TLS handshake";
        } else if (e == caf::sec::disconnect_during_handshake) {
          out.why = "the coordinator ended the TLS handshake: one end refused the other's "
                    "certificate (both need certificates signed by the same ca.pem, valid now)";
        } else {
          out.nobody_listens = e == caf::sec::cannot_connect_to_node;
          out.why = sys.render(e);
        }
      });
  return out;
}

namespace {

struct registry_state {
  static inline const char* name = "node_registry";
  /// Told of every join: (number, worker).
  caf::actor listener;
  std::shared_ptr<write_fence> fence;
  std::vector<worker_actor> workers;
  bool ticking = false;
};

using registry_ptr = node_registry_actor::stateful_pointer<registry_state>;

/// What the coordinator's lease still guarantees, less the trip's margin.
int64_t lease_left_ms(const write_fence* fence) {
  if (!fence) return 0;
  if (fence->lost) return 0;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::nanoseconds(fence->valid_until.load() - lease_clock_now()))
                .count() -
              tuning::node_lease_margin.count();
  return std::max<int64_t>(left, 0);
}

node_registry_actor::behavior_type node_registry(registry_ptr self, caf::actor listener,
                                                 std::shared_ptr<write_fence> fence) {
  self->state.listener = std::move(listener);
  self->state.fence = std::move(fence);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& ws = self->state.workers;
    for (size_t i = 0; i < ws.size(); ++i)
      if (ws[i] && ws[i].address() == dm.source) {
        // A worker ends normally once told the run is over.
        if (!dm.reason || dm.reason == caf::exit_reason::normal)
          log::debug("worker " + std::to_string(i + 1) + " ended");
        else
          log::warn("loses worker " + std::to_string(i + 1) + " (" +
                    self->system().render(dm.reason) + ")");
        ws[i] = nullptr;
      }
  });
  return {
    [=](node_hello& hello, worker_actor w) -> uint32_t {
      auto& st = self->state;
      st.workers.push_back(w);
      auto n = static_cast<uint32_t>(st.workers.size());
      self->monitor(w);
      log::info("worker " + std::to_string(n) + " joined from " + hello.host + " (pid " +
                std::to_string(hello.pid) + ")");
      caf::anon_send(st.listener, n, w);
      if (!st.ticking) {
        st.ticking = true;
        self->send(self, tick_atom::value);
      }
      return n;
    },
    [=](tick_atom) {
      auto& st = self->state;
      lease_tick t{lease_left_ms(st.fence.get())};
      for (auto& w : st.workers)
        if (w) self->send(w, t);
      self->delayed_send(self, tuning::node_lease_tick, tick_atom::value);
    },
  };
}

}  // namespace

node_cluster::node_cluster(caf::actor_system& sys, const run_options& run,
                           std::shared_ptr<write_fence> fence, const stop_signals& signals)
  : sys_(sys) {
  const auto& c = run.cluster;
  auto at = parse_node_address(c.listen, "--listen");
  caf::scoped_actor self{sys};
  registry_ = sys.spawn(node_registry, caf::actor_cast<caf::actor>(self), fence);
  auto port = caf::openssl::publish(registry_, at.port, at.host.c_str(), true);
  if (!port) {
    self->send_exit(registry_, caf::exit_reason::user_shutdown);
    throw error(failure_code::config,
                "--listen " + c.listen + ": cannot listen there (" + sys.render(port.error()) + ")");
  }
  log::info("listens for workers on " + c.listen + " (mutual TLS); waits up to " +
            std::to_string(c.join_timeout.count()) + " s for " + std::to_string(c.workers) +
            " worker" + (c.workers == 1 ? "" : "s"));
  auto deadline = std::chrono::steady_clock::now() + c.join_timeout;
  auto give_up = [&](failure_code code, const std::string& why) {
    self->send_exit(registry_, caf::exit_reason::user_shutdown);
    throw error(code, why + ": " + std::to_string(workers_.size()) + " of " +
                        std::to_string(c.workers) + " workers joined");
  };
  while (workers_.size() < c.workers) {
    if (signals.requested())
      give_up(failure_code::stopped, std::string("stopped by ") +
                                       stop_signal_name(signals.signal()) +
                                       " while waiting for workers");
    if (std::chrono::steady_clock::now() >= deadline)
      give_up(failure_code::connection,
              "the workers did not join within " + std::to_string(c.join_timeout.count()) +
                " s (--join-timeout): start 'tributary worker --join " + c.listen +
                " --node-tls DIR' on each worker node, with a certificate signed by the "
                "same ca.pem");
    self->receive([&](uint32_t, worker_actor& w) { workers_.push_back(std::move(w)); },
                  caf::after(std::chrono::milliseconds(200)) >> [] {});
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    node_setup s;
    s.worker = static_cast<uint32_t>(i + 1);
    s.source = run.source;
    s.target = run.target;
    s.group = run.group;
    s.id = run.id;
    if (fence) {
      s.lease_key = fence->key;
      s.lease_holder = fence->holder;
      s.lease_valid_ms = lease_left_ms(fence.get());
    }
    std::string failed;
    bool ok = false;
    self->request(workers_[i], tuning::node_spawn_timeout, std::move(s))
      .receive([&](caf::ok_atom) { ok = true; }, [&](caf::error& e) { failed = sys.render(e); });
    if (!ok)
      give_up(failure_code::connection,
              "worker " + std::to_string(i + 1) + " did not take its setup (" + failed + ")");
  }
}

node_cluster::~node_cluster() {
  caf::scoped_actor self{sys_};
  for (size_t i = 0; i < workers_.size(); ++i) {
    // A worker that is gone already has nothing to end.
    self->request(workers_[i], std::chrono::seconds(5), stop_atom::value)
      .receive([](caf::ok_atom) {},
               [&](caf::error& e) {
                 log::debug("worker " + std::to_string(i + 1) + " did not confirm the end (" +
                            sys_.render(e) + ")");
               });
  }
  self->send_exit(registry_, caf::exit_reason::user_shutdown);
}

}  // namespace trib
