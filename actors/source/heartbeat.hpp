#pragma once
// The heartbeat table (extractor realtime.heartbeat): a one-row table in the
// source that a realtime run updates every interval-ms, so that the source's
// change log moves on and the run's position with it while the replicated
// tables are quiet (a PostgreSQL slot is confirmed past the heartbeat's WAL,
// a binlog reader's restart position follows the heartbeat's transactions).
// Its changes are never written to a stream: the change readers recognise
// the table with is_heartbeat and drop them. Layout as Arcion's:
// `timestamp` BIGINT NOT NULL PRIMARY KEY, milliseconds since the epoch.
// No CAF: the change reader owns one and calls beat() on its own thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "conf/config.hpp"
#include "messages/table.hpp"

namespace trib {

/// The heartbeat table's id as the readers and the catalog name it
/// (MariaDB/MySQL: catalog = database, no schema; PostgreSQL: the
/// configured schema, `public` when none).
table_id heartbeat_table(source_kind kind, const heartbeat_config& cfg);

/// Whether `t` is the heartbeat table of an enabled heartbeat.
bool is_heartbeat(source_kind kind, const heartbeat_config& cfg, const table_id& t);

class heartbeat_writer {
public:
  /// Connects and creates the table when it does not exist. A user who may
  /// not create it gets a config error with the CREATE TABLE to run.
  heartbeat_writer(const source_config& source, const heartbeat_config& cfg);
  ~heartbeat_writer();
  heartbeat_writer(const heartbeat_writer&) = delete;
  heartbeat_writer& operator=(const heartbeat_writer&) = delete;

  /// Sets the table's one row to `now_ms` in a transaction of its own.
  /// Throws a classified trib::error; a lost connection is reopened at the
  /// next beat.
  void beat(int64_t now_ms);

  /// The statement that creates the table, for messages and DBAs.
  const std::string& create_statement() const { return create_; }

  struct connection;

private:
  void open();

  source_config source_;
  heartbeat_config cfg_;
  std::string table_;   // qualified and quoted
  std::string create_;
  std::unique_ptr<connection> conn_;
};

/// What a change reader calls on every round: writes the heartbeat when
/// interval-ms has passed since the last, opening the writer on first use.
/// Does nothing for a disabled heartbeat. A failed write is logged, not
/// thrown: the heartbeat only helps the position along.
class heartbeat_timer {
public:
  heartbeat_timer(source_config source, heartbeat_config cfg);
  ~heartbeat_timer();
  void tick();

private:
  source_config source_;
  heartbeat_config cfg_;
  std::unique_ptr<heartbeat_writer> writer_;
  std::chrono::steady_clock::time_point next_{};
};

}  // namespace trib
