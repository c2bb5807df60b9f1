#pragma once
// Positions: where a source is, and how far a stream has committed. A stream's
// checkpoint (design section 6) is a position encoded as JSON text in the
// replication's checkpoint hash, written in the same MULTI/EXEC as the entries
// it covers.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/row.hpp"
#include "messages/table.hpp"

namespace trib {

/// Where a source's change log stands. Only the fields of the source's kind
/// are set.
struct source_position {
  // PostgreSQL
  uint64_t lsn = 0;
  // MySQL / MariaDB
  std::string binlog_file;
  uint64_t binlog_pos = 0;
  std::string gtid;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, source_position& x) {
  return f(caf::meta::type_name("source_position"), x.lsn, x.binlog_file,
           x.binlog_pos, x.gtid);
}

/// "0/16B3748" for a PostgreSQL LSN.
std::string format_lsn(uint64_t lsn);

/// A position for messages: "mysql-bin.000042:1337" for a binlog
/// position, "GTID 0-1-42" for a GTID alone, else the LSN as format_lsn
/// writes it.
std::string to_string(const source_position& p);

/// A transaction's commit key (row_change::commit) for log lines: the LSN
/// for PostgreSQL; for a binlog the file's sequence number and the position
/// that the key packs as (sequence << 32) | position.
std::string format_commit(source_kind kind, uint64_t commit);

/// How far a table's snapshot has been written to its stream.
struct snapshot_position {
  /// Values of the order columns of the last row written; empty before the
  /// first batch.
  std::vector<cell> last_key;
  /// Rows written so far.
  uint64_t rows_done = 0;
  /// The whole table is in the stream.
  bool done = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_position& x) {
  return f(caf::meta::type_name("snapshot_position"), x.last_key, x.rows_done,
           x.done);
}

}  // namespace trib
