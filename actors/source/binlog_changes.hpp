#pragma once
// Binlog events -> the change dispatcher's source-neutral transactions
// (messages/change.hpp). Pure and CAF-free: the binlog reader actor feeds it
// every event its binlog_client returns and sends the parts it produces.
//
// - A transaction is a GTID (or BEGIN) ... XID/COMMIT group. Its commit key
//   is the position of its first event (binlog::position_key of file and
//   offset): binlog order is commit order, so these keys order transactions
//   as their commits, and unlike the end they are known when the first
//   change is, so a large transaction can go out in parts. Its release
//   position is the end of its last event, packed the same way: a reader
//   restarted there reads the next transaction.
// - Every group goes out, changes or not (DDL, other tables, the
//   heartbeat), so that the release position moves past it.
// - A group that ends in ROLLBACK (non-transactional tables mixed into a
//   rolled-back transaction) keeps nothing of what was not yet handed on.
// - Rows of tables outside the run, of the heartbeat table, and, in `full`,
//   of transactions a table's snapshot already holds (snapshot_handoff) are
//   dropped; for a table read in split-key ranges each image is decided by
//   its key's range, and a key update between ranges keeps only its delete
//   or only its insert half when one range already holds the other. An UPDATE keeps its before and after images; the appliers turn
//   one that changes the key into delete, tombstone and insert.
// - Schemas: when TABLE_MAPs name their columns (binlog_row_metadata=FULL),
//   each TABLE_MAP whose columns differ from the table's schema gives the
//   schema of its time (binlog_schema.hpp); its rows and the later ones
//   convert with it, and take_schema_changes() reports it, so that rows
//   logged before several DDLs decode with the columns they were logged
//   with. Without names, a QUERY that is neither BEGIN, COMMIT nor ROLLBACK
//   (a DDL) in a database the run replicates is reported (take_ddl()),
//   after its group's part: the reader re-reads the table's columns from
//   information_schema (as they are now) and later TABLE_MAPs convert rows
//   with them.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/source/binlog_cells.hpp"
#include "actors/source/binlog_client.hpp"
#include "actors/source/binlog_decoder.hpp"
#include "actors/source/binlog_handoff.hpp"
#include "conf/config.hpp"
#include "messages/change.hpp"

namespace trib {

class binlog_changes {
public:
  /// `tables`: every table of the run, by plan index. `handoff`: the
  /// snapshot positions of `full` (empty otherwise). `checksum`: whether the
  /// dump's events end in a CRC32 (binlog_client::checksum()).
  binlog_changes(std::vector<table_schema> tables, source_kind kind,
                 heartbeat_config heartbeat, snapshot_handoff handoff, bool checksum);

  /// Decodes one event and appends what it yields to `feed`: changes to the
  /// current transaction's open part (a new part when the feed holds none of
  /// it), and `last` with the release position at the transaction's end.
  /// Returns the change_bytes added. Throws trib::error as the decoder and
  /// the row converter do (bad_data, source_state).
  uint64_t add(const binlog_event& e, change_feed& feed);

  /// Between a transaction's first and last event.
  bool in_txn() const { return open_; }

  /// The database of a DDL seen since the last call (its group has ended),
  /// once; nothing when none.
  std::optional<std::string> take_ddl();

  /// A TABLE_MAP whose columns differ from a table's schema: its rows and
  /// later ones use `schema`. `after_ddl` is false for the first TABLE_MAP
  /// of the table in this run before any DDL in its database (a run resumed before DDLs starts with the
  /// columns listed now; the schema of the position it reads from was
  /// dumped by the run that read it), true for a later one (a DDL changed
  /// the table: a schema dump entry is due).
  struct schema_update {
    uint32_t table = 0;
    table_schema schema;
    bool after_ddl = false;
  };
  /// The updates since the last call, in log order, once.
  std::vector<schema_update> take_schema_changes();
  /// Whether the last TABLE_MAP of a replicated table named its columns
  /// (then schemas come from TABLE_MAPs, not from information_schema).
  bool names_logged() const { return names_logged_; }
  /// The run's column filter per table (empty: every column), for the
  /// schemas of TABLE_MAPs; key columns are always kept.
  void set_column_filters(std::vector<std::vector<std::string>> keep) { keep_ = std::move(keep); }

  /// A table's columns changed: rows from now on use `schema`.
  void set_schema(uint32_t table, const table_schema& schema);
  const std::vector<table_schema>& tables() const { return tables_; }

  /// The binlog file and offset a release position packs (a file this
  /// object has seen); nothing for an unknown file.
  std::optional<binlog_start> position_of(uint64_t release) const;

  /// A fresh decoder and no open transaction, for a new connection that
  /// starts at a transaction boundary.
  void restart(bool checksum);

  /// Changes handed on since the start.
  uint64_t changes() const { return changes_; }

private:
  source_txn& part(change_feed& feed);
  void on_table_map(const binlog::table_map& map);
  uint64_t on_rows(const binlog::event& ev, const binlog::rows_event& rows, change_feed& feed);
  void end_group(uint64_t end_key, int64_t commit_ms, change_feed& feed);

  std::vector<table_schema> tables_;
  source_kind kind_;
  heartbeat_config heartbeat_;
  snapshot_handoff handoff_;
  binlog::decoder decoder_;
  /// binlog table id -> run table index and converter, for this group.
  struct mapped {
    uint32_t table = 0;
    std::unique_ptr<binlog::row_converter> converter;
  };
  std::map<uint64_t, mapped> maps_;
  /// File sequence number -> file name, for position_of.
  std::map<uint32_t, std::string> files_;
  bool open_ = false;
  /// The open group: commit key, id, first event's place, whether its rows
  /// are in a table's snapshot already is decided per table.
  uint64_t commit_ = 0;
  std::string gtid_;
  int64_t commit_ms_ = 0;
  std::string begin_file_;
  uint64_t begin_pos_ = 0;
  std::string query_;
  bool ddl_pending_ = false;
  std::string ddl_database_;
  std::optional<std::string> ddl_ready_;
  uint64_t changes_ = 0;
  std::vector<std::vector<std::string>> keep_;
  /// Per table: a TABLE_MAP of it was seen in this run.
  std::vector<bool> mapped_once_;
  /// Databases with a DDL read in this run.
  std::set<std::string> ddl_seen_;
  std::vector<schema_update> schema_updates_;
  bool names_logged_ = false;
};

}  // namespace trib
