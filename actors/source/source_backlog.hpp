#pragma once
// The source's unreplicated backlog (issue 15, point 2): bytes of change log
// the source holds past what Tributary confirmed. PostgreSQL: the WAL the
// slot keeps, pg_current_wal_lsn() minus its restart_lsn. MySQL/MariaDB: the
// binlog bytes after the released position, from SHOW BINARY LOGS. A change
// reader calls the timer on its rounds; it queries over a connection of its
// own at most every interval. No CAF here.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conf/config.hpp"

namespace trib {

/// Binlog bytes after `file`:`pos`, given SHOW BINARY LOGS's rows (name,
/// size) in server order: the rest of `file` and every later file. nullopt
/// when `file` is not listed (purged, or another server's).
std::optional<uint64_t> binlog_bytes_behind(
  const std::vector<std::pair<std::string, uint64_t>>& logs, const std::string& file, uint64_t pos);

class backlog_timer {
public:
  backlog_timer(source_config source, std::chrono::milliseconds interval);
  ~backlog_timer();
  backlog_timer(const backlog_timer&) = delete;
  backlog_timer& operator=(const backlog_timer&) = delete;

  /// The slot's lag in bytes when the interval has passed, else nullopt.
  std::optional<uint64_t> slot_lag(const std::string& slot);
  /// The binlog bytes after `file`:`pos` when the interval has passed, else
  /// nullopt.
  std::optional<uint64_t> binlog_behind(const std::string& file, uint64_t pos);

  struct connection;

private:
  bool due();
  /// Logs a failed query once as a warning (then at debug) and drops the
  /// connection, which the next query reopens.
  void failed(const std::exception& e);

  source_config source_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point next_{};
  std::unique_ptr<connection> conn_;
  bool warned_ = false;
};

}  // namespace trib
