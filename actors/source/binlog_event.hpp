#pragma once
// The binlog's event framing and its non-row events, as MariaDB 10.x and
// MySQL 5.7/8 write them (MariaDB sql/log_event.h; MySQL libbinlogevents).
// Plain structs, no CAF, no connector: decoded from raw event bytes by
// binlog::decoder (binlog_decoder.hpp), which also keeps the state the
// events depend on (post-header lengths, checksums, table maps).

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "actors/source/binlog_rows.hpp"
#include "actors/source/binlog_table_map.hpp"

namespace trib::binlog {

/// Event type codes (byte 4 of the common header).
enum class event_type : uint8_t {
  unknown = 0,
  start_v3 = 1,
  query = 2,
  stop = 3,
  rotate = 4,
  intvar = 5,
  rand = 13,
  user_var = 14,
  format_description = 15,
  xid = 16,
  table_map = 19,
  write_rows_v1 = 23,
  update_rows_v1 = 24,
  delete_rows_v1 = 25,
  incident = 26,
  heartbeat = 27,
  ignorable = 28,
  rows_query = 29,  // MySQL: the statement of the rows events that follow
  write_rows_v2 = 30,
  update_rows_v2 = 31,
  delete_rows_v2 = 32,
  mysql_gtid = 33,
  mysql_anonymous_gtid = 34,
  mysql_previous_gtids = 35,
  transaction_context = 36,
  view_change = 37,
  xa_prepare = 38,
  partial_update_rows = 39,
  transaction_payload = 40,
  heartbeat_v2 = 41,
  annotate_rows = 160,  // MariaDB from here on
  binlog_checkpoint = 161,
  mariadb_gtid = 162,
  mariadb_gtid_list = 163,
  start_encryption = 164,
  query_compressed = 165,
  write_rows_compressed_v1 = 166,
  update_rows_compressed_v1 = 167,
  delete_rows_compressed_v1 = 168,
  write_rows_compressed = 169,
  update_rows_compressed = 170,
  delete_rows_compressed = 171,
};

/// "QUERY", "TABLE_MAP", ... ("EVENT_<n>" for codes it does not know).
std::string to_string(event_type t);

/// The 19-byte header every event starts with.
struct event_header {
  /// Seconds since the epoch when the statement began (the commit, for XID).
  uint32_t timestamp = 0;
  event_type type = event_type::unknown;
  uint32_t server_id = 0;
  /// Length of the whole event, header and checksum included.
  uint32_t event_size = 0;
  /// Position just past this event in its binlog file; 0 for artificial
  /// events (the ROTATE and FORMAT_DESCRIPTION a dump starts with).
  uint32_t log_pos = 0;
  uint16_t flags = 0;

  /// Where the event starts in its file (0 when log_pos is 0).
  uint64_t start_pos() const { return log_pos >= event_size ? log_pos - event_size : 0; }
  /// LOG_EVENT_ARTIFICIAL_F: made up by the server for the dump, not in the file.
  bool artificial() const { return (flags & 0x20) != 0; }
};

/// How events after a FORMAT_DESCRIPTION end.
enum class checksum_alg : uint8_t { off = 0, crc32 = 1, undefined = 255 };

/// 15: describes the events that follow.
struct format_description_event {
  uint16_t binlog_version = 4;
  std::string server_version;
  uint32_t create_timestamp = 0;
  uint8_t header_length = 19;
  /// Post-header length of each event type, indexed by type code - 1.
  std::vector<uint8_t> post_header_lengths;
  checksum_alg checksum = checksum_alg::off;
  /// MariaDB writes "-MariaDB" into its version.
  bool mariadb() const { return server_version.find("MariaDB") != std::string::npos; }
};

/// 4: the next events come from `file`, starting at `position`.
struct rotate_event {
  uint64_t position = 4;
  std::string file;
};

/// 2 (and MariaDB's compressed 165): a statement: DDL, BEGIN, COMMIT, ...
struct query_event {
  uint32_t thread_id = 0;
  uint32_t exec_time = 0;
  uint16_t error_code = 0;
  /// The default database the statement ran in (may be empty).
  std::string database;
  std::string statement;

  bool is_begin() const { return statement == "BEGIN"; }
  /// COMMIT ends a transaction of a non-XA engine (MyISAM, Aria).
  bool is_commit() const { return statement == "COMMIT"; }
  bool is_rollback() const { return statement == "ROLLBACK"; }
};

/// 16: an InnoDB transaction commits.
struct xid_event {
  uint64_t xid = 0;
};

/// 162: a MariaDB GTID starts an event group (transaction or DDL).
struct gtid_event {
  uint64_t seq_no = 0;
  uint32_t domain_id = 0;
  /// From the event header: the server that first wrote the group.
  uint32_t server_id = 0;
  uint8_t flags = 0;
  /// FL_GROUP_COMMIT_ID: groups that committed together share it.
  uint64_t commit_id = 0;

  static constexpr uint8_t fl_standalone = 1, fl_group_commit_id = 2, fl_transactional = 4,
                           fl_allow_parallel = 8, fl_waited = 16, fl_ddl = 32,
                           fl_prepared_xa = 64, fl_completed_xa = 128;
  /// A group without BEGIN/COMMIT (a DDL): the group ends with its one
  /// QUERY event, not with an XID.
  bool standalone() const { return (flags & fl_standalone) != 0; }
  bool ddl() const { return (flags & fl_ddl) != 0; }
  /// "domain-server-seq", as @@gtid_binlog_pos spells it.
  std::string text() const;
};

/// 163: the GTID state at the start of a binlog file (or what was purged).
struct gtid_list_event {
  std::vector<gtid_event> gtids;
  /// "0-1-35,1-2-7".
  std::string text() const;
};

/// 161: the oldest binlog file crash recovery may need.
struct binlog_checkpoint_event {
  std::string file;
};

/// 160 (MariaDB ANNOTATE_ROWS) and 29 (MySQL ROWS_QUERY): the statement of
/// the rows events that follow.
struct annotate_rows_event {
  std::string statement;
};

/// 27 (and MySQL's 41): the primary is alive; the dump is at `file`, and
/// the header's log_pos is the position the replica has reached.
struct heartbeat_event {
  std::string file;
  uint64_t position = 0;
};

/// 33 and 34: a MySQL transaction's GTID (anonymous when GTID mode is off).
struct mysql_gtid_event {
  bool anonymous = false;
  uint8_t flags = 0;
  /// Source UUID, "3e11fa47-71ca-11e1-9e33-c80aa9429562".
  std::string uuid;
  int64_t gno = 0;
  /// Logical clock (0 when the event is too short to carry it).
  int64_t last_committed = 0;
  int64_t sequence_number = 0;
  /// Microseconds since the epoch; 0 when absent.
  uint64_t immediate_commit_us = 0;
  uint64_t original_commit_us = 0;
  /// Bytes of the whole transaction; 0 when absent.
  uint64_t transaction_length = 0;
  /// "uuid:gno" ("" when anonymous).
  std::string text() const;
};

/// 35: the GTID set executed before this binlog file (MySQL).
struct previous_gtids_event {
  /// "uuid:1-5:7-9,uuid2:1-3", as @@gtid_executed spells it.
  std::string gtid_set;
};

/// 3: the server stopped; the next file follows after a restart.
struct stop_event {};

/// Any other event (INTVAR, RAND, USER_VAR of statement-based logging,
/// INCIDENT, XA_PREPARE, ...): its type only; the reader decides.
struct other_event {
  event_type type = event_type::unknown;
  std::string body;
};

/// A decoded event body.
using event_body =
  std::variant<format_description_event, rotate_event, query_event, xid_event, gtid_event,
               gtid_list_event, binlog_checkpoint_event, annotate_rows_event, heartbeat_event,
               mysql_gtid_event, previous_gtids_event, table_map, rows_event, stop_event,
               other_event>;

/// One decoded event.
struct event {
  event_header header;
  event_body body;
};

/// Reads the 19-byte common header; throws bad_data when the bytes are too
/// short or disagree with its event_size.
event_header read_header(const char* data, size_t size);

/// CRC-32 (ISO-HDLC, as zlib computes it) of `size` bytes.
uint32_t crc32_of(const char* data, size_t size);

}  // namespace trib::binlog
