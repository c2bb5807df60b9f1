#pragma once
// TABLE_MAP events: the table a rows event's id stands for, with each
// column's binlog type, its metadata (lengths, precision, fraction digits)
// and, when the server logs them (binlog_row_metadata=MINIMAL/FULL,
// MariaDB 10.5+ and MySQL 8), the optional metadata: signedness, charsets,
// names, ENUM/SET labels, geometry types and the primary key.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trib::binlog {

class cursor;

/// Column types as the binlog writes them (the server's enum_field_types).
enum class column_type : uint8_t {
  decimal = 0,  // pre-5.0 DECIMAL, never written by current servers
  tiny = 1,
  short_int = 2,
  long_int = 3,
  float_ = 4,
  double_ = 5,
  null = 6,
  timestamp = 7,  // pre-5.6 TIMESTAMP: seconds, little-endian
  longlong = 8,
  int24 = 9,
  date = 10,
  time = 11,      // pre-5.6 TIME: HHMMSS
  datetime = 12,  // pre-5.6 DATETIME: YYYYMMDDhhmmss
  year = 13,
  newdate = 14,
  varchar = 15,
  bit = 16,
  timestamp2 = 17,
  datetime2 = 18,
  time2 = 19,
  json = 245,  // MySQL's binary JSON (MariaDB logs JSON as LONGTEXT)
  newdecimal = 246,
  enum_ = 247,  // only as the real type inside STRING's metadata
  set = 248,    // likewise
  tiny_blob = 249,
  medium_blob = 250,
  long_blob = 251,
  blob = 252,
  var_string = 253,
  string = 254,
  geometry = 255,
};

/// "LONG", "NEWDECIMAL", ... for messages.
std::string to_string(column_type t);

/// The collation id of the binary charset (BINARY, VARBINARY, BLOB).
constexpr uint32_t binary_collation = 63;

/// One column of a TABLE_MAP.
struct column_def {
  /// The type as logged; CHAR, ENUM and SET all log STRING.
  column_type type = column_type::null;
  /// `type`, with STRING resolved to ENUM or SET from the metadata.
  column_type real_type = column_type::null;
  /// Raw metadata value (0-2 bytes, as mysqlbinlog prints "meta=").
  uint16_t meta = 0;
  /// CHAR/VARCHAR: maximum length in bytes.
  uint32_t max_length = 0;
  /// BLOB/TEXT/GEOMETRY/JSON: bytes of the length prefix (1-4);
  /// ENUM/SET/FLOAT/DOUBLE: bytes of the value.
  uint8_t pack_length = 0;
  /// NEWDECIMAL.
  uint8_t precision = 0;
  uint8_t scale = 0;
  /// TIME2/DATETIME2/TIMESTAMP2: fraction digits 0-6.
  uint8_t fsp = 0;
  /// BIT: the n of BIT(n).
  uint16_t bits = 0;
  bool nullable = true;

  // Optional metadata; unset when the server did not log it.
  /// Numeric columns: -1 unknown, 0 signed, 1 unsigned.
  int8_t unsigned_flag = -1;
  /// Character columns (and ENUM/SET): collation id, 0 when unknown.
  uint32_t collation = 0;
  std::string name;
  /// ENUM and SET labels, in their order.
  std::vector<std::string> labels;
  /// GEOMETRY: the subtype (0 geometry, 1 point, ...).
  uint32_t geometry_type = 0;

  bool is_numeric() const;
  /// Text or binary string (CHAR, VARCHAR, BLOB/TEXT): the columns the
  /// charset metadata lists. ENUM and SET have charsets of their own list.
  bool is_character() const;
  bool is_enum_or_set() const {
    return real_type == column_type::enum_ || real_type == column_type::set;
  }
};

/// 19: the table behind a table id, for the rows events that follow.
struct table_map {
  uint64_t table_id = 0;
  uint16_t flags = 0;
  std::string database;
  std::string table;
  std::vector<column_def> columns;
  /// Primary key column indexes in key order (SIMPLE_PRIMARY_KEY or
  /// PRIMARY_KEY_WITH_PREFIX); empty when not logged or none.
  std::vector<uint32_t> primary_key;
  /// Index prefix length per primary_key entry (0 = the whole column).
  std::vector<uint32_t> primary_key_prefix;
  /// Which optional metadata the server logged.
  bool has_names = false;
  bool has_signedness = false;
  bool has_charsets = false;
  bool has_labels = false;
  bool has_primary_key = false;
};

/// Parses a TABLE_MAP body (after the 19-byte header, without checksum).
/// `table_id_size` is 6 (post-header length 8) or 4 (length 6).
table_map parse_table_map(cursor& in, size_t table_id_size);

}  // namespace trib::binlog
