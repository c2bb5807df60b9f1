#pragma once
// Tributary's own binlog decoder: raw event bytes in, typed events out. Pure
// and CAF-free; the binlog reader actor owns one per connection.
//
// How the reader uses it
// ----------------------
// 1. Feed every event the dump delivers, in order, to decoder::decode():
//    the bytes from the 19-byte common header to the end of the event,
//    checksum included (MARIADB_RPL_EVENT::raw_data from mariadb_rpl_fetch
//    without its first byte, the protocol's OK byte; binlog_values_test
//    does exactly this). The decoder learns from the FORMAT_DESCRIPTION the post-header
//    lengths and whether events end in a CRC32, verifies and strips the
//    checksum of every later event, follows ROTATE into the next file, keeps
//    each TABLE_MAP until its transaction ends, and decodes rows events
//    with their table's map. A dump starts with an
//    artificial ROTATE (and FORMAT_DESCRIPTION) before the first real
//    event; set_checksum() tells the decoder whether that ROTATE carries a
//    checksum (it does when the session set @master_binlog_checksum), else
//    it guesses from the bytes.
// 2. Switch on the event body (std::visit or std::get_if on event::body):
//    - gtid_event / mysql_gtid_event: a transaction (or DDL) begins;
//    - query_event: BEGIN; COMMIT/ROLLBACK of a non-transactional engine; a
//      DDL (statement text, default database): the reader re-reads the
//      table's schema and appends a schema dump entry;
//    - table_map: the table of the rows events that follow (the decoder
//      keeps it until the transaction ends; table() looks it up again);
//      build the table's row_converter now: it rejects a map the rows could
//      not be decoded into the schema from, before the rows arrive;
//    - rows_event: every row of one WRITE/UPDATE/DELETE event, decoded with
//      that map (row_image per row; update: before[i] -> after[i]);
//    - xid_event: the transaction commits (so does a COMMIT query, and a
//      DDL's QUERY outside BEGIN: transaction().committed says when);
//    - rotate_event, heartbeat_event, format_description_event and the rest:
//      position bookkeeping only.
// 3. Turn each row image into the run's row with a row_converter
//    (binlog_cells.hpp) built from the table's table_schema (as the snapshot
//    lists it) and the current table_map: the cells equal the snapshot's for
//    the same values. Rebuild the converter when a new TABLE_MAP of the
//    table arrives (after a DDL its columns differ).
// 4. Position facts for the envelope's `source` block: server_id (the rows
//    event's header), gtid (transaction().gtid), file (file()), pos (the
//    rows event's header.start_pos()), row (the row's index in its event),
//    ts_ms (transaction().commit_ts_ms once the XID is decoded, or the rows
//    event's header.timestamp * 1000 before). transaction().commit_key() is
//    the ordered commit key for checkpoints: binlog file sequence number
//    << 32 | the position of the transaction's first event (GTID, else
//    BEGIN); transaction().release_key() packs its end the same way.
// 5. To resume by GTID, keep the position in binlog_gtid.hpp's types:
//    mariadb_gtid_position::apply() each committed gtid_event (its text()
//    is what @slave_connect_state takes); mysql_gtid_set::add() each
//    committed mysql_gtid_event (mysql_dump_gtid_command() asks a MySQL
//    server for everything after it).
//
// Errors: malformed, truncated or checksum-failing input throws
// trib::error{bad_data, "binlog: <what> at offset N (...)"}; events
// Tributary cannot read by design (MySQL's TRANSACTION_PAYLOAD,
// PARTIAL_UPDATE_ROWS) throw trib::error{source_state} with the server
// setting to change. A throw leaves the decoder's state as it was before
// the event.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "actors/source/binlog_event.hpp"

namespace trib::binlog {

/// The transaction the decoder is inside (or has just committed).
struct transaction_facts {
  /// "0-1-35" (MariaDB), "uuid:gno" (MySQL), "" for an anonymous one.
  std::string gtid;
  /// The server that wrote the transaction (its GTID event's header).
  uint32_t server_id = 0;
  /// The binlog file and position where the transaction's first event
  /// (GTID, else BEGIN) starts: where a resumed dump replays it from.
  std::string file;
  uint64_t begin_pos = 0;
  /// Set by the event that ends it (XID, COMMIT, or a standalone group's
  /// one QUERY): its end position and its timestamp in milliseconds.
  bool committed = false;
  uint64_t end_pos = 0;
  int64_t commit_ts_ms = 0;

  /// The transaction's ordered commit key: position_key(file, begin_pos).
  /// Binlog order is commit order, so keys of first events order
  /// transactions as their commits, and this one is known at the first
  /// event, before the end (a large transaction goes out in parts).
  uint64_t commit_key() const;
  /// Where a reader restarts after the transaction (valid once committed):
  /// position_key(file, end_pos).
  uint64_t release_key() const;
};

/// The number of a binlog file name ("mysql-bin.000042" -> 42); throws
/// bad_data for a name without a numeric extension.
uint32_t file_sequence(const std::string& file);

/// A binlog position packed into one ordered number: file_sequence(file)
/// << 32 | pos. Later positions have larger keys, across files too (a
/// ROTATE goes to a file with a larger number; max_binlog_size is at most
/// 1 GiB, so an offset fits 32 bits). A transaction's commit key packs its
/// first event's position, its release position its end.
uint64_t position_key(const std::string& file, uint64_t pos);

/// The events of a whole binlog file (magic "\xfebin" then events), as
/// (offset, size) pairs; throws bad_data for a bad magic or a truncated
/// event. For tests and tools that read binlog files directly.
std::vector<std::pair<size_t, size_t>> split_binlog_file(const std::string& bytes);

class decoder {
public:
  /// Decodes one event (see the header comment).
  event decode(const char* data, size_t size);
  event decode(const std::string& bytes) { return decode(bytes.data(), bytes.size()); }

  /// Whether events carry a CRC32, before a FORMAT_DESCRIPTION says so
  /// (the default, undefined, guesses from the bytes).
  void set_checksum(checksum_alg alg) { checksum_ = alg; }
  checksum_alg checksum() const { return checksum_; }

  /// The binlog file of the events being decoded (from the last ROTATE);
  /// set_file() sets it for a reader that starts without one.
  const std::string& file() const { return file_; }
  void set_file(std::string file) { file_ = std::move(file); }

  /// The map of `table_id`, or nullptr. Maps live until the end of their
  /// transaction (XID, COMMIT, or a DDL's QUERY): every statement logs its
  /// maps again. Copy a map to keep it longer.
  const table_map* table(uint64_t table_id) const;

  /// The last FORMAT_DESCRIPTION (nullptr before one).
  const format_description_event* format() const { return has_format_ ? &format_ : nullptr; }

  /// The current (or just committed) transaction.
  const transaction_facts& transaction() const { return trx_; }

private:
  event_body decode_body(const event_header& h, const char* body, size_t size);
  size_t post_header_length(event_type t, size_t fallback) const;
  void track(const event& ev);

  checksum_alg checksum_ = checksum_alg::undefined;
  bool has_format_ = false;
  format_description_event format_;
  std::string file_;
  std::map<uint64_t, table_map> tables_;
  transaction_facts trx_;
  /// Between a BEGIN and its COMMIT/XID.
  bool in_explicit_ = false;
  /// A transaction has begun and not yet committed.
  bool trx_open_ = false;
};

}  // namespace trib::binlog
