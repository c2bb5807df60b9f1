#pragma once
// A blocking client for PostgreSQL's logical replication protocol over libpq
// (streaming replication protocol, replication=database). No CAF: the WAL
// reader actor (detached, since every call here may block) owns one and feeds
// the payloads it returns to a pgoutput_decoder.
//
// Order of use: ensure_publication, ensure_slot (a new slot exports a
// snapshot that lives until the next command on this connection, so read
// the snapshot on another connection before calling start), start, then
// poll/confirm until done. Failures throw trib::error: connection (lost or
// refused), auth, config (slot of another plugin or database, bad names),
// source_state (dropped slot, server refusal).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "messages/table.hpp"

struct pg_conn;

namespace trib {

/// What IDENTIFY_SYSTEM reports.
struct pg_system_identity {
  std::string system_id;
  uint32_t timeline = 0;
  /// Current WAL flush position.
  uint64_t xlogpos = 0;
  std::string database;
};

/// A replication slot ready to stream from.
struct pg_slot {
  std::string name;
  /// The slot was created by this call (else it existed).
  bool created = false;
  /// Created: the consistent point, where the exported snapshot ends and the
  /// stream begins. Existing: the slot's confirmed_flush_lsn.
  uint64_t lsn = 0;
  /// Created: the exported snapshot's name, for SET TRANSACTION SNAPSHOT on
  /// another connection; valid until this connection's next command.
  std::string snapshot_name;
};

/// A replication slot as pg_replication_slots shows it.
struct pg_slot_info {
  std::string name;
  /// Output plugin (empty for a physical slot).
  std::string plugin;
  /// "logical" or "physical".
  std::string type;
  /// The database a logical slot decodes (empty for a physical slot).
  std::string database;
  uint64_t confirmed = 0;
};

/// A table's replica identity (pg_class.relreplident) and whether the index
/// it relies on exists.
struct pg_replica_identity {
  table_id table;
  /// 'd' default (the primary key), 'n' nothing, 'f' full, 'i' an index.
  char identity = 'd';
  /// 'd': the table has a primary key; 'i': the chosen index still exists.
  bool has_key = false;
};

/// Empty when PostgreSQL can publish the table's UPDATEs and DELETEs;
/// otherwise why it cannot and what the user may run about it. Adding such a
/// table to a publication that publishes updates and deletes makes the
/// source refuse every UPDATE and DELETE of it, so it is refused before
/// anything is created.
std::string replica_identity_problem(const pg_replica_identity& t, const std::string& publication);

/// The replica identity of each of `tables`, read on a normal connection.
std::vector<pg_replica_identity> read_replica_identities(const source_config& cfg,
                                                         const std::vector<table_id>& tables);

/// Throws trib::error{config} naming every table of `tables` whose updates
/// PostgreSQL could not publish (replica_identity_problem).
void check_replica_identities(const source_config& cfg, const std::vector<table_schema>& tables,
                              const std::string& publication);

/// One XLogData message: a pgoutput message and where it sits in the WAL.
struct pg_xlog_data {
  /// WAL position of the data's start (0 for some messages, e.g. Relation).
  uint64_t wal_start = 0;
  /// The server's current end of WAL when it sent this.
  uint64_t wal_end = 0;
  /// Server send time, microseconds since 2000-01-01 UTC.
  int64_t send_time = 0;
  /// The pgoutput message.
  std::string payload;
};

class pg_replication {
public:
  /// Connects with replication=database and the canonical text settings
  /// (pg_text.hpp), then runs IDENTIFY_SYSTEM. `extra_options` adds
  /// `-c name=value` settings for the walsender (wal_sender_timeout, say).
  explicit pg_replication(const source_config& cfg, const std::string& extra_options = "");
  ~pg_replication();
  pg_replication(const pg_replication&) = delete;
  pg_replication& operator=(const pg_replication&) = delete;

  const pg_system_identity& identity() const { return identity_; }

  /// Creates publication `name` FOR TABLE `tables` when it does not exist
  /// (FOR ALL TABLES when `tables` is empty, which needs a superuser), and
  /// adds the tables it lacks when it does. Call before ensure_slot: pgoutput
  /// reads the publication as of each change's WAL position, so it must
  /// predate the slot's consistent point.
  void ensure_publication(const std::string& name, const std::vector<table_id>& tables);

  /// Returns slot `name`, creating it (pgoutput, exported snapshot) when it
  /// does not exist. An existing slot of another plugin or database is a
  /// config error.
  pg_slot ensure_slot(const std::string& name);

  /// The confirmed position of logical slot `name`, or nothing when no such
  /// slot exists (a --resume whose slot was dropped cannot continue).
  std::optional<uint64_t> find_slot(const std::string& name);

  /// Slot `name` as pg_replication_slots shows it, or nothing.
  std::optional<pg_slot_info> describe_slot(const std::string& name);

  /// Drops slot `name` if it exists (a fresh `full` run needs a new slot to
  /// export its snapshot). A slot in use by another connection is
  /// source_state.
  void drop_slot(const std::string& name);

  /// START_REPLICATION SLOT `slot` LOGICAL `start_lsn` with pgoutput protocol
  /// version 1 and `publication`. The server streams from the later of
  /// start_lsn and the slot's confirmed position; start_lsn counts as
  /// confirmed. A missing slot is source_state.
  void start(const std::string& slot, const std::string& publication, uint64_t start_lsn);

  /// The next XLogData message, or nothing when `timeout` passes first.
  /// Answers keepalives that ask for a reply, and sends a standby status
  /// update when the confirmed position moved or 10 s passed since the last.
  std::optional<pg_xlog_data> poll(std::chrono::milliseconds timeout);

  /// Everything before `lsn` is safely written downstream: the server may
  /// release it. Sent with the next status update (at the next poll); a
  /// smaller lsn than before is ignored.
  void confirm(uint64_t lsn);

  uint64_t confirmed() const { return confirmed_; }

  /// The WAL end of the server's latest keepalive: everything before it was
  /// decoded and sent. A client with nothing unwritten may confirm it, so an
  /// idle slot (or one whose WAL touches none of the published tables) does
  /// not retain WAL forever.
  uint64_t keepalive_lsn() const { return keepalive_lsn_; }

private:
  void send_status(bool reply_requested);
  pg_conn* sql_connection();

  source_config cfg_;
  std::string options_;
  std::string where_;
  pg_conn* repl_ = nullptr;
  /// A normal connection for catalog statements, opened when needed and
  /// closed at start().
  pg_conn* sql_ = nullptr;
  pg_system_identity identity_;
  std::string slot_;
  bool streaming_ = false;
  uint64_t confirmed_ = 0;
  uint64_t keepalive_lsn_ = 0;
  uint64_t sent_ = 0;
  std::chrono::steady_clock::time_point last_status_;
};

}  // namespace trib
