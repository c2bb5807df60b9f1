// The Redis writer in mode CLUSTER: which node a stream's writes go to. The
// writer keeps one connection per node (st.client is the one in use, the
// others wait in st.parked with their memory gate and stamped lease
// copies), learns the slot map from the cluster, and learns it again after
// any failure (a failover, a MOVED after a resharding) before the next
// attempt. The write itself is the same MULTI/EXEC as on one server: a
// stream, its checkpoint hash and its lease copy share the stream's slot.

#include "actors/sink/writer_steps.hpp"

#include <algorithm>

#include "actors/control/run_lease.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"

namespace trib {

namespace {

// The slot map, asked of the masters known, then of the seeds, each on a
// connection of its own (the writer's may have replies unread).
void learn_slots(redis_writer_state& st) {
  std::vector<cluster_node> ask;
  if (st.slots) ask = st.slots->masters;
  std::vector<cluster_node> seeds{{st.target.host, st.target.port}};
  for (const auto& s : st.target.cluster_seeds) seeds.push_back(parse_node_address(s));
  for (const auto& s : seeds)
    if (std::find(ask.begin(), ask.end(), s) == ask.end()) ask.push_back(s);
  std::string problems;
  for (const auto& n : ask) {
    try {
      auto c = redis_client::connect(node_config(st.target, n));
      auto r = c->command({"CLUSTER", "SLOTS"});
      if (r.type == redis_reply::kind::error) {
        problems += "; " + n.name() + ": " + r.str;
        continue;
      }
      auto m = parse_cluster_slots(r, n.host);
      if (m.masters.empty() || m.uncovered() == cluster_slots) {
        problems += "; " + n.name() + " knows no slots";
        continue;
      }
      st.slots = std::move(m);
      st.slots_stale = false;
      return;
    } catch (const error& e) {
      if (e.code() == failure_code::auth || e.code() == failure_code::config) throw;
      problems += "; " + std::string(e.what());
    }
  }
  throw error(failure_code::connection,
              "cannot learn the slots of the redis cluster from any of its nodes" + problems);
}

}  // namespace

void route(redis_writer_state& st, const std::string& stream) {
  if (!st.target.cluster) return;
  if (!st.slots || st.slots_stale) learn_slots(st);
  auto slot = key_slot(stream);
  const cluster_node* owner = st.slots->node_for(slot);
  if (!owner) {
    learn_slots(st);
    owner = st.slots->node_for(slot);
  }
  if (!owner)
    throw error(failure_code::server_busy, "no node of the redis cluster serves slot " +
                                             std::to_string(slot) + " of " + stream);
  auto to = *owner;
  if (st.node == to) return;
  // The write on the wire went to the node in use: its replies first.
  settle(st);
  if (st.node == to) return;
  if (!st.node.host.empty()) {
    auto& p = st.parked[st.node];
    p.client = std::move(st.client);
    p.memory = std::move(st.memory);
    p.stamped = std::move(st.stamped);
  }
  st.client.reset();
  st.stamped.clear();
  if (auto it = st.parked.find(to); it != st.parked.end()) {
    st.client = std::move(it->second.client);
    st.memory = std::move(it->second.memory);
    st.stamped = std::move(it->second.stamped);
    st.parked.erase(it);
  } else {
    st.memory = memory_gate(st.target.memory_threshold_percentage);
  }
  st.node = to;
}

void stamp_lease(redis_writer_state& st, const std::string& stream) {
  const auto& fence = st.settings.fence;
  if (!fence || !fence->per_stream || st.stamped.count(stream) > 0) return;
  check_fence(st);
  stamp_lease_copy(*st.client, *fence, stream);
  st.stamped.insert(stream);
}

bool on_this_node(const redis_writer_state& st, const std::string& stream) {
  if (!st.target.cluster) return true;
  if (!st.slots) return false;
  const auto* n = st.slots->node_for(key_slot(stream));
  return n && *n == st.node;
}

}  // namespace trib
