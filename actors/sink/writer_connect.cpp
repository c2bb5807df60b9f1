// The Redis writer's connection: opening one (named, the lease watched, the
// user's rights and what Redis acknowledged checked again) and the lease
// check before every write. The rest of the writer is redis_writer.cpp.

#include "actors/sink/writer_steps.hpp"

#include <optional>
#include <string>
#include <vector>

#include "actors/control/checkpoint_math.hpp"
#include "actors/control/run_lease.hpp"
#include "actors/sink/redis_client.hpp"

namespace trib {

namespace {

// After a reconnect: every checkpoint field Redis acknowledged to this
// writer must still hold that value or a later one. A field behind it, or
// gone, means Redis lost acknowledged writes (it restarted without
// persistence, say); writing on would leave a gap in the stream under a
// checkpoint that claims it complete, so the run stops instead.
void check_acknowledged(redis_writer_state& st) {
  std::vector<std::string> fields;
  std::vector<std::vector<std::string>> reads;
  // In a cluster, a node answers for the streams it serves (after a
  // failover: what its replica had); the lease itself lives on one node,
  // and each write checks the stream's copy of it instead.
  for (const auto& [field, value] : st.committed)
    if (value && on_this_node(st, st.checkpoint_streams[field])) {
      fields.push_back(field);
      reads.push_back({"HGET", st.checkpoint_keys[field], field});
    }
  const auto& fence = st.settings.fence;
  bool lease_here = fence && !fence->per_stream;
  if (lease_here) reads.push_back({"GET", fence->key});
  if (reads.empty()) return;
  auto replies = st.client->pipeline(reads);
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto& r = replies[i];
    if (r.type == redis_reply::kind::error)
      throw error(classify_redis_error(r.str),
                  "redis refuses HGET " + st.checkpoint_keys[fields[i]] + ": " + r.str);
    std::optional<std::string> now;
    if (r.type == redis_reply::kind::string) now = r.str;
    const auto& acknowledged = *st.committed[fields[i]];
    if (auto held = checkpoint_behind(acknowledged, now))
      throw error(failure_code::target_lost,
                  "redis lost writes it had acknowledged: the checkpoint of " + fields[i] +
                    " in " + st.checkpoint_keys[fields[i]] + " was acknowledged at " +
                    acknowledged +
                    " and redis now holds " + *held +
                    " (redis restarted without persistence, a replica that lacked them took "
                    "over -- see wait-replicas --, or the key was changed); stops "
                    "rather than leave a gap in the stream. Run with --overwrite to rewrite "
                    "the replication");
  }
  if (lease_here) {
    const auto& r = replies.back();
    if (r.type == redis_reply::kind::error)
      throw error(classify_redis_error(r.str), "redis refuses GET " + fence->key + ": " + r.str);
    if (r.type != redis_reply::kind::string || r.str != fence->holder) {
      fence->lose(r.type != redis_reply::kind::string
                    ? "redis lost writes it had acknowledged: the lease " + fence->key +
                        " is gone (redis restarted without persistence, or the key was "
                        "deleted); stops writing"
                    : "the lease " + fence->key + " is held by another run (" + r.str +
                        "); stops writing");
      throw error(failure_code::target_lost, fence->reason());
    }
  }
}

}  // namespace

// Refuses to send while the lease is lost, or not known to be this run's:
// the renewal thread has not renewed it in time (retried: a renewal may
// come).
void check_fence(const redis_writer_state& st) {
  const auto& fence = st.settings.fence;
  if (!fence) return;
  if (fence->lost) throw error(failure_code::target_lost, fence->reason());
  if (lease_clock_now() > fence->valid_until)
    throw error(failure_code::connection,
                "the lease " + fence->key + " was not renewed in time; waits for a renewal "
                "before writing");
}

// Connects and names the connection, so that CLIENT LIST shows what it is.
// A user whose ACL forbids CLIENT SETNAME still writes: the name is a help
// to operators, nothing depends on it. A reconnect first checks that Redis
// still holds what it acknowledged.
void connect(redis_writer_state& st) {
  st.stamped.clear();
  st.client = redis_client::connect(st.target.cluster ? node_config(st.target, st.node) : st.target);
  if (!st.settings.client_name.empty())
    st.client->command({"CLIENT", "SETNAME", st.settings.client_name});
  if (const auto& fence = st.settings.fence) {
    st.client->watch_in_writes(fence->key, fence->per_stream ? fence->copy_holder : fence->holder,
                               [&st] { check_fence(st); });
    st.client->watch_per_stream(fence->per_stream);
  }
  if (st.target.wait_replicas > 0)
    st.client->wait_in_writes(st.target.wait_replicas, st.target.wait_timeout_ms);
  try {
    // The run checked the user's rights before it started; a new connection
    // checks again, so that a right taken away since is named up front.
    if (auto no = refused_write_command(*st.client, "", ""))
      throw error(failure_code::auth, "redis refuses " + *no + " to user '" +
                                        (st.target.username.empty() ? std::string("default")
                                                                    : st.target.username) +
                                        "', which every write needs: nothing was written");
    check_acknowledged(st);
  } catch (...) {
    st.client.reset();
    throw;
  }
}

}  // namespace trib
