// The worker's side of a multi-node run: the join (with a deadline, since a
// refused TLS handshake is never answered), the worker actor that spawns
// the stages the coordinator places here, and the lease its writers write
// under.

#include "actors/node/worker_node.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/actors.hpp"
#include "actors/control/run_lease.hpp"
#include "actors/control/stop_signals.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/log.hpp"
#include "actors/node/node_join.hpp"
#include "actors/node/node_system.hpp"
#include "actors/node/node_tls.hpp"
#include "actors/node/stage_orders.hpp"

namespace trib {

namespace {

struct worker_node_state {
  static inline const char* name = "worker_node";

  node_registry_actor registry;
  node_setup setup;
  bool ready = false;
  /// The coordinator's lease as this node knows it: valid while ticks come.
  std::shared_ptr<write_fence> fence;
  /// Every stage started here, ended with the worker.
  std::vector<caf::actor> stages;
};

using worker_ptr = worker_actor::stateful_pointer<worker_node_state>;

template <class Handle>
Handle track(worker_ptr self, Handle h) {
  self->state.stages.push_back(caf::actor_cast<caf::actor>(h));
  return h;
}

void end_stages(worker_ptr self, const caf::error& reason) {
  for (auto& s : self->state.stages) self->send_exit(s, reason);
  self->state.stages.clear();
}

caf::error not_set_up() {
  return to_caf_error(failure{failure_code::internal, "the worker has not been set up yet"});
}

redis_writer_actor spawn_writer(worker_ptr self, const writer_order& o) {
  auto s = from_order(o);
  s.fence = self->state.fence;
  return track(self, self->spawn<caf::detached>(redis_writer, self->state.setup.target, s));
}

worker_actor::behavior_type worker_node(worker_ptr self, node_registry_actor registry) {
  self->state.registry = registry;
  self->monitor(registry);
  // The coordinator is gone (killed, or cut off): nothing written here may
  // commit any more, since no one keeps the lease for this node's writes.
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source != self->state.registry.address()) return;
    if (self->state.fence) self->state.fence->lose("lost its coordinator");
    log::error("loses its coordinator (" + self->system().render(dm.reason) +
               "); stops its stages");
    end_stages(self, caf::exit_reason::remote_link_unreachable);
    self->quit(caf::exit_reason::remote_link_unreachable);
  });
  self->set_exit_handler([=](caf::exit_msg& m) {
    end_stages(self, m.reason);
    self->quit(m.reason);
  });
  return {
    [=](node_setup& s) -> caf::ok_atom {
      auto& st = self->state;
      st.setup = std::move(s);
      st.fence = std::make_shared<write_fence>();
      st.fence->key = st.setup.lease_key;
      st.fence->holder = st.setup.lease_holder;
      st.fence->valid_until =
        lease_clock_now() + std::chrono::nanoseconds(std::chrono::milliseconds(
                                                        st.setup.lease_valid_ms))
                              .count();
      st.ready = true;
      log::info("takes work for replication " + st.setup.id + " as worker " +
                std::to_string(st.setup.worker) + ": reads " + to_string(st.setup.source.kind) +
                " " + st.setup.source.host + ", writes redis " + st.setup.target.host + ":" +
                std::to_string(st.setup.target.port));
      return caf::ok_atom::value;
    },
    [=](lease_tick t) {
      auto& fence = self->state.fence;
      if (!fence) return;
      fence->valid_until = lease_clock_now() +
                           std::chrono::nanoseconds(std::chrono::milliseconds(t.valid_ms)).count();
    },
    [=](writer_order& o) -> caf::result<redis_writer_actor> {
      if (!self->state.ready) return not_set_up();
      return spawn_writer(self, o);
    },
    [=](table_applier_order& o, redis_writer_actor writer,
        coordinator_actor coordinator) -> caf::result<table_applier_actor> {
      auto& st = self->state;
      if (!st.ready) return not_set_up();
      // No writer of the coordinator's pool here: a writer of its own.
      if (!writer) writer = spawn_writer(self, writer_order{o.applier.trim, o.applier.max_consumer_lag});
      log::info("starts the applier of " + to_string(o.schema.id));
      auto schema = o.schema;
      return track(self, self->spawn(table_applier, o.table, std::move(schema),
                                     from_order(o, st.setup), std::move(writer),
                                     std::move(coordinator)));
    },
    [=](snapshot_reader_order& o, table_applier_actor applier,
        coordinator_actor coordinator) -> caf::result<snapshot_reader_actor> {
      auto& st = self->state;
      if (!st.ready) return not_set_up();
      // One line per table, as on a single node; each range's start is debug.
      if (o.range <= 1)
        log::info("starts reading " + to_string(o.schema.id) +
                  (o.ranges > 1 ? " in " + std::to_string(o.ranges) + " ranges" : std::string()));
      else
        log::debug("starts reading " + to_string(o.schema.id) + " range " +
                   std::to_string(o.range));
      auto schema = o.schema;
      return track(self, self->spawn<caf::detached>(snapshot_reader, o.table, std::move(schema),
                                                    from_order(o, st.setup),
                                                    std::move(applier), std::move(coordinator)));
    },
    [=](change_applier_order& o, redis_writer_actor writer,
        supervisor_actor supervisor) -> caf::result<change_applier_actor> {
      auto& st = self->state;
      if (!st.ready) return not_set_up();
      log::info("starts the change applier of " + o.stream_name);
      auto s = from_order(o, st.setup);
      s.supervisor = std::move(supervisor);
      if (!writer) writer = spawn_writer(self, writer_order{});
      return track(self, self->spawn(change_applier, std::move(s), std::move(writer)));
    },
    [=](stop_atom) -> caf::ok_atom {
      // The run is over: what is left here ends with it.
      log::info("ends: the coordinator finished the run");
      end_stages(self, caf::exit_reason::user_shutdown);
      self->quit();
      return caf::ok_atom::value;
    },
  };
}

std::string this_host() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

int run_worker(const worker_options& opts) {
  auto files = check_node_tls(opts.node_tls);
  auto addr = parse_node_address(opts.join, "--join");
  caf::actor_system_config cfg;
  configure_actor_system(cfg);
  configure_node(cfg, files);
  caf::actor_system sys{cfg};
  log::info("joins the coordinator at " + opts.join);
  // A worker may start before its coordinator listens: a refused
  // connection is tried again until the join timeout.
  auto deadline = std::chrono::steady_clock::now() + opts.join_timeout;
  join_attempt joined;
  bool waiting = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    joined = join_coordinator(sys, addr, std::max(left, std::chrono::milliseconds(1)));
    if (joined.registry || !joined.nobody_listens ||
        std::chrono::steady_clock::now() + tuning::node_join_retry >= deadline)
      break;
    if (!waiting) log::info("waits for the coordinator at " + opts.join + " to listen");
    waiting = true;
    std::this_thread::sleep_for(tuning::node_join_retry);
  }
  auto registry = joined.registry;
  std::string why = joined.why;
  if (joined.timed_out) {
    log::error("cannot join the coordinator at " + opts.join + ": no answer within " +
               std::to_string(opts.join_timeout.count()) + " s (--join-timeout): " + why);
    // CAF's OpenSSL session waits for the handshake inside its multiplexer
    // thread, so the actor system could not shut down: end here. Nothing
    // was started or written yet.
    std::fflush(nullptr);
    std::_Exit(1);
  }
  if (!registry) {
    log::error("cannot join the coordinator at " + opts.join + ": " + why);
    return 1;
  }
  caf::scoped_actor self{sys};
  auto worker = sys.spawn(worker_node, registry);
  self->monitor(worker);
  uint32_t number = 0;
  self->request(registry, opts.join_timeout, node_hello{this_host(), static_cast<int64_t>(getpid())},
                worker)
    .receive([&](uint32_t n) { number = n; },
             [&](caf::error& e) { why = sys.render(e); });
  if (number == 0) {
    log::error("cannot join the coordinator at " + opts.join + ": it did not take this worker (" +
               why + ")");
    self->send_exit(worker, caf::exit_reason::user_shutdown);
    return 1;
  }
  log::info("joined the coordinator at " + opts.join + " as worker " + std::to_string(number));
  stop_signals signals;
  signals.on_stop([worker] { caf::anon_send_exit(worker, caf::exit_reason::user_shutdown); });
  caf::error reason;
  self->receive([&](caf::down_msg& dm) { reason = dm.reason; });
  signals.on_stop(nullptr);
  // However the worker ended, its stages are done or fenced, and nothing of
  // a worker outlives its process. Detached stages whose handles crossed to
  // the coordinator may never be released, so the actor system's shutdown
  // could wait for them forever: every path ends the process here.
  auto end = [](int code) {
    std::fflush(nullptr);
    std::_Exit(code);
  };
  if (!reason || reason == caf::exit_reason::normal) end(0);
  if (signals.requested()) {
    log::warn("stops on " + std::string(stop_signal_name(signals.signal())) +
              "; the coordinator finds this worker's tables unfinished");
    end(exit_code_for_stop(signals.signal()));
  }
  log::error("stops: the coordinator at " + opts.join + " is gone (" + sys.render(reason) + ")");
  // Its writers can commit nothing more: the fence is lost.
  end(1);
  return 1;
}

}  // namespace trib
