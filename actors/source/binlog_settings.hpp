#pragma once
// Whether a MySQL/MariaDB server can serve row-based change capture: the
// binlog settings and the privileges realtime and full need, checked before a
// run writes anything, with one message naming each problem and its fix.
// The judgement is a pure function; reading the server is separate.

#include <string>
#include <vector>

#include "conf/config.hpp"

namespace trib {

/// What a server must offer for row-based change capture, read by
/// read_binlog_settings and judged by binlog_settings_problems.
struct binlog_settings {
  /// VERSION(): "10.11.6-MariaDB", "8.0.36".
  std::string version;
  /// The account as GRANT spells it: 'tributary'@'%'.
  std::string account;
  /// @@log_bin, @@binlog_format, @@binlog_row_image; @@binlog_row_metadata
  /// is empty when the server has no such variable (before MariaDB 10.5 or
  /// MySQL 8.0.1).
  bool log_bin = false;
  std::string binlog_format;
  std::string binlog_row_image;
  std::string binlog_row_metadata;
  /// Global privileges (on *.*) of the connected user and of its session's
  /// role (MariaDB: the default role), upper case, as SHOW GRANTS lists them
  /// ("ALL PRIVILEGES", "REPLICATION SLAVE", ...).
  std::vector<std::string> privileges;
};

/// The global privileges granted on *.* by the GRANT lines of SHOW GRANTS,
/// to the user or to its active role (the grant of a role itself and
/// object-level grants do not count), upper case.
std::vector<std::string> global_privileges(const std::vector<std::string>& grant_lines);

/// Every reason `s` cannot serve the binlog reader, each with the setting or
/// statement that fixes it; empty when it can. `full`: the run also takes a
/// snapshot, which on MySQL (no lock-free snapshot position) needs RELOAD.
std::vector<std::string> binlog_settings_problems(const binlog_settings& s, bool full);

/// Reads the binlog settings and the user's privileges on a connection of
/// its own; throws a classified trib::error.
binlog_settings read_binlog_settings(const source_config& cfg);

/// Throws failure_code::config listing every problem of the server at `cfg`
/// (binlog_settings_problems), so realtime and full stop before anything is
/// written. Without binlog_row_metadata=FULL it only logs that column names
/// and keys come from information_schema.
void check_binlog_settings(const source_config& cfg, bool full);

}  // namespace trib
