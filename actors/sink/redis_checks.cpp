#include "actors/sink/redis_checks.hpp"

#include <cctype>

namespace trib {

std::vector<redis_command_use> redis_command_uses(const redis_key_plan& plan) {
  std::vector<redis_command_use> out{{"MULTI", {}}, {"EXEC", {}}, {"INFO", {}}};
  for (const char* c : {"HSET", "HGET", "HGETALL", "HDEL"})
    out.push_back({c, {plan.checkpoint}});
  for (const char* c : {"GET", "SET", "DEL", "WATCH"}) out.push_back({c, plan.lease_keys});
  std::vector<std::string> streams{plan.schema_stream};
  streams.insert(streams.end(), plan.table_streams.begin(), plan.table_streams.end());
  out.push_back({"XADD", streams});
  out.push_back({"XREVRANGE", streams});
  for (const char* c : {"XDEL", "XTRIM", "XLEN"}) out.push_back({c, plan.table_streams});
  // A command without keys to check it on (no table known) is left out.
  std::vector<redis_command_use> kept;
  for (auto& u : out)
    if (u.command == "MULTI" || u.command == "EXEC" || u.command == "INFO" || !u.keys.empty())
      kept.push_back(std::move(u));
  return kept;
}

std::vector<std::string> redis_probe_argv(const std::string& command, const std::string& key) {
  if (command == "MULTI" || command == "EXEC") return {command};
  if (command == "INFO") return {"INFO", "memory"};
  if (command == "SET") return {"SET", key, "probe", "PX", "1"};
  if (command == "HSET") return {"HSET", key, "#probe", "probe"};
  if (command == "HGET" || command == "HDEL") return {command, key, "#probe"};
  if (command == "XADD") return {"XADD", key, "*", "key", "probe", "value", "probe"};
  if (command == "XDEL") return {"XDEL", key, "0-1"};
  // MINID 0-0 trims nothing, should it ever run.
  if (command == "XTRIM") return {"XTRIM", key, "MINID", "0-0"};
  if (command == "XREVRANGE") return {"XREVRANGE", key, "+", "-", "COUNT", "1"};
  return {command, key};  // GET, DEL, WATCH, HGETALL, XLEN
}

std::optional<std::string> dryrun_refusal(const redis_reply& r) {
  if (r.type == redis_reply::kind::status && r.str == "OK") return std::nullopt;
  return r.str.empty() ? std::string("refused") : r.str;
}

std::optional<std::string> queued_refusal(const redis_reply& r) {
  if (r.type == redis_reply::kind::error && r.str.rfind("NOPERM", 0) == 0) return r.str;
  return std::nullopt;
}

connection_check redis_command_check(const redis_command_use& use,
                                     const std::vector<std::optional<std::string>>& refusals,
                                     const std::string& user) {
  connection_check c{use.command, true, ""};
  std::vector<std::string> denied_keys;
  std::string reason;
  bool command_denied = false;
  for (size_t i = 0; i < refusals.size(); ++i) {
    if (!refusals[i]) continue;
    c.ok = false;
    reason = *refusals[i];
    // Redis says "... to run the 'xadd' command" or "... to access ... key".
    if (reason.find("command") != std::string::npos) command_denied = true;
    else if (i < use.keys.size()) denied_keys.push_back(use.keys[i]);
  }
  if (c.ok) {
    c.detail = use.keys.empty() ? "allowed"
                                : "allowed on " + std::to_string(use.keys.size()) +
                                    (use.keys.size() == 1 ? " key (" + use.keys[0] + ")"
                                                          : " keys");
    return c;
  }
  std::string lower;
  for (char ch : use.command) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (command_denied) {
    c.detail = "user " + user + " may not run it (" + reason + "); grant with ACL SETUSER " +
               user + " +" + lower;
    return c;
  }
  std::string keys, patterns;
  for (size_t i = 0; i < denied_keys.size() && i < 5; ++i) {
    keys += (i ? ", " : "") + denied_keys[i];
    patterns += " ~" + denied_keys[i];
  }
  if (denied_keys.size() > 5) keys += " and " + std::to_string(denied_keys.size() - 5) + " more";
  c.detail = "user " + user + " may not use it on " + keys + " (" + reason +
             "); grant the keys with ACL SETUSER " + user + patterns + " (or a pattern)";
  return c;
}

namespace {

// ACL DRYRUN exists from Redis 7.0 and needs the right to run it (an admin
// command): either missing, the probes go through MULTI instead.
bool dryrun_works(redis_client& c, const std::string& user) {
  auto r = c.command({"ACL", "DRYRUN", user, "PING"});
  return r.type != redis_reply::kind::error;
}

}  // namespace

std::vector<connection_check> check_redis(const redis_config& cfg, const redis_key_plan& plan) {
  auto client = redis_client::connect(cfg);
  auto& c = *client;
  std::string user = cfg.username.empty() ? std::string("default") : cfg.username;
  std::vector<connection_check> out;
  auto info = c.command({"INFO", "server"});
  std::string version = "?";
  if (auto pos = info.str.find("redis_version:"); pos != std::string::npos)
    version = info.str.substr(pos + 14, info.str.find('\r', pos) - pos - 14);
  out.push_back({"connection", true,
                 "redis " + version + " at " + cfg.host + ":" + std::to_string(cfg.port) +
                   " as " + user + (cfg.ssl.enable ? " (tls)" : "")});

  auto uses = redis_command_uses(plan);
  if (dryrun_works(c, user)) {
    out.push_back({"rights checked with", true, "ACL DRYRUN " + user});
    for (const auto& u : uses) {
      std::vector<std::optional<std::string>> refusals;
      std::vector<std::string> keys = u.keys.empty() ? std::vector<std::string>{""} : u.keys;
      for (const auto& k : keys) {
        std::vector<std::string> argv{"ACL", "DRYRUN", user};
        auto probe = redis_probe_argv(u.command, k);
        argv.insert(argv.end(), probe.begin(), probe.end());
        refusals.push_back(dryrun_refusal(c.command(argv)));
      }
      out.push_back(redis_command_check(u, refusals, user));
    }
    return out;
  }
  out.push_back({"rights checked with", true,
                 "each command queued in MULTI and discarded (" + user +
                   " may not run ACL DRYRUN, or this Redis has none); nothing is written"});
  // MULTI first, alone: were it refused, every command after it would run.
  auto multi = c.command({"MULTI"});
  if (auto no = queued_refusal(multi)) {
    out.push_back(redis_command_check(uses[0], {no}, user));
    out.push_back({"other commands", false, "not checked: they are checked inside MULTI"});
    return out;
  }
  out.push_back(redis_command_check(uses[0], {std::nullopt}, user));
  c.command({"DISCARD"});
  for (size_t i = 1; i < uses.size(); ++i) {
    const auto& u = uses[i];
    std::vector<std::optional<std::string>> refusals;
    if (u.command == "EXEC" || u.command == "INFO" || u.command == "WATCH") {
      // Harmless to run: EXEC of an empty transaction, INFO, WATCH (undone).
      std::vector<std::string> keys = u.keys.empty() ? std::vector<std::string>{""} : u.keys;
      for (const auto& k : keys) {
        if (u.command == "EXEC") c.command({"MULTI"});
        auto r = c.command(redis_probe_argv(u.command, k));
        refusals.push_back(queued_refusal(r));
        if (u.command == "WATCH") c.command({"UNWATCH"});
        // A refused EXEC leaves the empty transaction open.
        if (u.command == "EXEC" && refusals.back()) c.command({"DISCARD"});
      }
    } else {
      std::vector<std::vector<std::string>> batch{{"MULTI"}};
      for (const auto& k : u.keys) batch.push_back(redis_probe_argv(u.command, k));
      batch.push_back({"DISCARD"});
      auto replies = c.pipeline(batch);
      if (replies.back().type == redis_reply::kind::error)
        throw error(failure_code::internal, "redis refused DISCARD: " + replies.back().str);
      for (size_t k = 1; k + 1 < replies.size(); ++k) refusals.push_back(queued_refusal(replies[k]));
    }
    out.push_back(redis_command_check(u, refusals, user));
  }
  return out;
}

}  // namespace trib
