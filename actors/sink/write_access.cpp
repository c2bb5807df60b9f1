// Whether the target user may run what a write needs, checked without
// writing anything (declared in redis_client.hpp).

#include "actors/sink/redis_client.hpp"
#include "actors/sink/redis_cluster.hpp"

namespace trib {

std::optional<std::string> refused_write_command(redis_client& c, const std::string& stream,
                                                 const std::string& checkpoint_key,
                                                 const std::string& watch_key) {
  // A key the user may not touch is not a refused command: a table whose
  // stream is out of its reach is skipped when it is written, like any
  // other permanent failure of one table.
  auto refused = [](const std::string& command, const redis_reply& r) -> std::optional<std::string> {
    // Nor is a key of another node of a cluster (the probe's transaction
    // runs on one node).
    if (r.type != redis_reply::kind::error ||
        r.str.find("access one of the keys") != std::string::npos ||
        r.str.rfind("MOVED ", 0) == 0 || r.str.rfind("ASK ", 0) == 0 ||
        r.str.rfind("CROSSSLOT", 0) == 0)
      return std::nullopt;
    return command + " (" + r.str + ")";
  };
  // MULTI on its own: were it refused, the commands after it would run.
  if (auto no = refused("MULTI", c.command({"MULTI"}))) return no;
  if (auto no = refused("EXEC", c.command({"EXEC"}))) return no;
  if (!watch_key.empty()) {
    if (auto no = refused("WATCH", c.command({"WATCH", watch_key}))) return no;
    c.command({"UNWATCH"});
  }
  if (stream.empty()) return std::nullopt;
  // In a cluster the probe runs on the stream's node (WATCH pins it there)
  // with the stream's own checkpoint hash; DISCARD ends both.
  std::string hash = checkpoint_key;
  if (c.cluster()) {
    if (!checkpoint_key.empty()) hash = stream_scoped_key(checkpoint_key, stream);
    if (auto no = refused("WATCH", c.command({"WATCH", stream}))) return no;
  }
  if (auto no = refused("MULTI", c.command({"MULTI"}))) return no;
  std::vector<std::vector<std::string>> probe{
    {"XADD", stream, "*", "key", "probe", "value", "probe"},
    {"XDEL", stream, "0-1"},
    {"HSET", hash, stream, "probe"},
    {"HGET", hash, stream},
    {"DISCARD"}};
  auto replies = c.pipeline(probe);
  for (size_t i = 0; i + 1 < probe.size(); ++i)
    if (auto no = refused(probe[i][0], replies[i])) return no;
  if (replies.back().type == redis_reply::kind::error)
    throw error(failure_code::internal, "redis refused DISCARD: " + replies.back().str);
  return std::nullopt;
}

void check_write_access(redis_client& c, const redis_config& cfg, const std::string& stream,
                        const std::string& checkpoint_key, const std::string& watch_key) {
  auto no = refused_write_command(c, stream, checkpoint_key, watch_key);
  if (!no) return;
  std::string user = cfg.username.empty() ? std::string("default") : cfg.username;
  throw error(failure_code::config,
              "the redis user '" + user + "' may not run " + *no +
                ", which every write needs (MULTI; XADD ...; HSET <checkpoint>; EXEC, "
                "undone with XDEL): nothing was written. Grant it, for example with "
                "ACL SETUSER " + user + " +multi +exec +xadd +xdel +hset +hget +watch");
}

}  // namespace trib
