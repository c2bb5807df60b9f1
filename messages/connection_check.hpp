#pragma once
// One line of `tributary test-connection`'s report: a right or setting the
// replication needs, whether it is there, and what it is or what to grant.
// A plain value: the checks of each source and of Redis build these from
// their servers' answers.

#include <string>
#include <vector>

namespace trib {

struct connection_check {
  /// What was checked ("REPLICATION attribute", "wal_level").
  std::string what;
  bool ok = false;
  /// What was found, or what is missing and how to grant or set it.
  std::string detail;
};

/// "ok       what: detail" or "MISSING  what: detail".
inline std::string to_string(const connection_check& c) {
  return std::string(c.ok ? "ok       " : "MISSING  ") + c.what + ": " + c.detail;
}

/// Whether every check passed (the exit code 0 of test-connection).
inline bool all_ok(const std::vector<connection_check>& checks) {
  for (const auto& c : checks)
    if (!c.ok) return false;
  return true;
}

}  // namespace trib
