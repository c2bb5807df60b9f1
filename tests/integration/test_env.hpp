#pragma once
// Where the servers that ops/servers.sh starts listen. ops/env.sh exports the
// same values; the defaults here match it so a test binary also runs by hand.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

namespace trib::test {

inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

inline int pg_port() { return std::stoi(env_or("TRIB_PG_PORT", "55432")); }
inline int mariadb_port() { return std::stoi(env_or("TRIB_MARIADB_PORT", "53306")); }
inline int redis_port() { return std::stoi(env_or("TRIB_REDIS_PORT", "56379")); }
inline int redis_tls_port() { return std::stoi(env_or("TRIB_REDIS_TLS_PORT", "56380")); }
/// The first node of `ops/servers.sh cluster-start`'s Redis Cluster (six
/// nodes on it and the five ports after it), as ops/env.sh derives it.
inline int redis_cluster_port() {
  return std::stoi(env_or("TRIB_REDIS_CLUSTER_PORT", std::to_string(redis_port() + 600).c_str()));
}
/// A cluster node's TLS port (ops/servers.sh: the node's port + 200).
inline int redis_cluster_tls_port(int node_port) { return node_port + 200; }
inline std::string run_dir() { return env_or("TRIB_RUN_DIR", "/tmp/tributary-run"); }
/// CA, server and client certificates for Redis TLS (ca.crt, client.crt, ...).
inline std::string tls_dir() { return env_or("TRIB_TLS_DIR", (run_dir() + "/tls").c_str()); }

/// Source credentials: a role/user `tributary` with password `tributary`.
inline const char* source_user() { return "tributary"; }
inline const char* source_password() { return "tributary"; }
/// Redis ACL user limited to keys starting with "acl_".
inline const char* redis_acl_user() { return "repl"; }
inline const char* redis_acl_password() { return "replpw"; }

/// Polls `cond` until it holds or `deadline` passes; no fixed sleeps.
/// `longest_pause` caps the backoff between polls, for conditions that may
/// hold only briefly.
inline bool wait_until(const std::function<bool()>& cond,
                       std::chrono::milliseconds deadline = std::chrono::seconds(30),
                       std::chrono::milliseconds longest_pause = std::chrono::milliseconds(50)) {
  auto until = std::chrono::steady_clock::now() + deadline;
  auto pause = std::chrono::milliseconds(1);
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(pause);  // backoff between polls
    pause = std::min(pause * 2, longest_pause);
  }
  return cond();
}

}  // namespace trib::test
