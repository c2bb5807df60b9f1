#pragma once
// Decoder of PostgreSQL's pgoutput logical replication messages, protocol
// version 1 (PostgreSQL documentation, "Logical Replication Message
// Formats"). Plain values in, plain structs out: no CAF, no libpq, so it is
// tested on captured bytes. The WAL reader actor feeds it the payload of each
// XLogData message that pg_replication::poll returns.
//
// pgoutput describes a table once per session (and again after it changes)
// with a Relation message, and later rows refer to it by relation id only:
// the decoder keeps those descriptions, since a row's type oids decide how
// its text values become canonical cells.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "messages/row.hpp"
#include "messages/table.hpp"

namespace trib {

/// 'B': a transaction starts. Changes follow, then a pg_commit.
struct pg_begin {
  /// LSN of the transaction's commit record.
  uint64_t final_lsn = 0;
  /// Commit time, microseconds since 2000-01-01 00:00:00 UTC.
  int64_t commit_time = 0;
  uint32_t xid = 0;
};

/// 'C': the transaction that the last pg_begin opened is complete.
struct pg_commit {
  uint8_t flags = 0;
  /// LSN of the commit record (equals pg_begin::final_lsn).
  uint64_t commit_lsn = 0;
  /// LSN just past the commit record: the position to confirm once the
  /// transaction is safely written.
  uint64_t end_lsn = 0;
  int64_t commit_time = 0;
};

/// 'O': the transaction came from another node (replication origin).
struct pg_origin {
  uint64_t commit_lsn = 0;
  std::string name;
};

/// One column of a pg_relation.
struct pg_column {
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
  /// Part of the replica identity (the key an UPDATE/DELETE carries).
  bool key = false;
};

/// 'R': a table's description; replaces the previous one for its id (the
/// table's columns may have changed).
struct pg_relation {
  uint32_t id = 0;
  /// Schema name; pgoutput sends "" for pg_catalog.
  std::string schema;
  std::string name;
  /// REPLICA IDENTITY: 'd' default (primary key), 'n' nothing, 'f' full,
  /// 'i' index.
  char replica_identity = 'd';
  std::vector<pg_column> columns;
};

/// 'Y': a non-built-in type used by a later relation.
struct pg_type {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
};

/// A tuple of a change: one cell per relation column. pgoutput leaves out
/// TOASTed values that an UPDATE did not change; those cells are null in
/// `values` and flagged in `unchanged_toast`, so a null is never mistaken for
/// an unchanged value (nor an unchanged value invented).
struct pg_tuple {
  row values;
  /// Same length as values.cells; true where the value was not sent.
  std::vector<bool> unchanged_toast;

  bool has_unchanged_toast() const;
};

enum class pg_change_kind : uint8_t { insert, update, remove };

/// 'I', 'U', 'D': one row change of one relation.
struct pg_change {
  pg_change_kind kind = pg_change_kind::insert;
  uint32_t relation_id = 0;
  /// UPDATE/DELETE: the old row, when the server sent one: the key columns
  /// only (key_only, REPLICA IDENTITY DEFAULT/INDEX; the other cells are
  /// null) or the whole row (REPLICA IDENTITY FULL). An UPDATE that changed
  /// no key column under DEFAULT carries none.
  std::optional<pg_tuple> old_tuple;
  /// INSERT/UPDATE: the new row.
  std::optional<pg_tuple> new_tuple;
  bool key_only = false;
};

/// 'T': one TRUNCATE statement over one or more relations.
struct pg_truncate {
  std::vector<uint32_t> relation_ids;
  bool cascade = false;
  bool restart_identity = false;
};

/// 'M': a message from pg_logical_emit_message (sent only when asked for).
struct pg_logical_message {
  bool transactional = false;
  uint64_t lsn = 0;
  std::string prefix;
  std::string content;
};

/// Any decoded message.
using pg_message = std::variant<pg_begin, pg_commit, pg_origin, pg_relation, pg_type,
                                pg_change, pg_truncate, pg_logical_message>;

/// Decodes pgoutput messages one at a time, remembering relations.
class pgoutput_decoder {
public:
  /// Decodes one message (one XLogData payload). Relation messages update
  /// the cache; changes are converted with the cached relation's types.
  /// Malformed or truncated input throws trib::error{bad_data, "pgoutput:
  /// <what> at offset N"} and leaves the cache as it was.
  pg_message decode(const char* data, size_t size);
  pg_message decode(const std::string& bytes) { return decode(bytes.data(), bytes.size()); }

  /// The cached description of relation `id`, or nullptr.
  const pg_relation* relation(uint32_t id) const;

  /// Tells the decoder the value kind of a non-built-in type (a domain over
  /// bytea, say), which pgoutput reports only by oid.
  void set_type_kind(uint32_t type_oid, value_kind kind);

private:
  value_kind kind_of(uint32_t type_oid) const;

  std::unordered_map<uint32_t, pg_relation> relations_;
  std::unordered_map<uint32_t, value_kind> type_kinds_;
};

/// "insert", "update", "delete".
const char* to_string(pg_change_kind k);

}  // namespace trib
