#pragma once
// Rows events: WRITE/UPDATE/DELETE, v1 (23-25), v2 (30-32) and MariaDB's
// compressed ones (166-171). Each row image is decoded with the TABLE_MAP of
// its table into one binlog::value per column; binlog_cells.hpp turns an
// image into the canonical cells of a table_schema.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/source/binlog_table_map.hpp"

namespace trib::binlog {

class cursor;

/// One column value of a row image, as far as it can be decoded without the
/// table's schema. Which member holds it depends on the column's real_type:
/// - integers (TINY..LONGLONG, INT24): `integer`, zero-extended raw bits;
///   signed or unsigned is the schema's (or the signedness metadata's) call;
/// - YEAR: `integer` (0, or years since 1900); ENUM: `integer`, the 1-based
///   index (0 = the '' error value); SET: `integer`, the bit mask;
/// - FLOAT/DOUBLE: `real`;
/// - NEWDECIMAL: `text`, canonical ("-12.50" at scale 2);
/// - DATE, TIME(2), DATETIME(2), TIMESTAMP(2): `text`, canonical with the
///   column's fraction digits (TIMESTAMP in UTC, without the "+00");
/// - strings, BLOB/TEXT, GEOMETRY: `text`, the bytes as stored (in the
///   column's charset; CHAR without its trailing pad);
/// - BIT: `text`, the stored big-endian bytes;
/// - JSON (MySQL's binary JSON): `text`, the JSON text.
struct value {
  /// False for a column the image does not include (binlog_row_image
  /// MINIMAL/NOBLOB); such a value is also null.
  bool present = true;
  bool null = true;
  uint64_t integer = 0;
  double real = 0;
  std::string text;
};

/// One row image: one value per table column, in table order.
struct row_image {
  std::vector<value> values;
};

enum class rows_kind : uint8_t { write, update, remove };

/// "insert", "update", "delete".
const char* to_string(rows_kind k);

/// A rows event with every row decoded.
struct rows_event {
  rows_kind kind = rows_kind::write;
  uint64_t table_id = 0;
  uint16_t flags = 0;
  /// Columns of the table when the event was written.
  size_t column_count = 0;
  /// write: the new rows; delete: the old rows; update: after[i] replaces
  /// before[i].
  std::vector<row_image> before;
  std::vector<row_image> after;

  /// STMT_END_F: the statement's last rows event.
  bool end_of_statement() const { return (flags & 1) != 0; }
  size_t row_count() const { return kind == rows_kind::write ? after.size() : before.size(); }
};

/// How a rows event is laid out.
struct rows_layout {
  rows_kind kind = rows_kind::write;
  /// v2 carries an extra-data block after the flags.
  bool v2 = false;
  /// MariaDB log_bin_compress: the rows part is zlib-compressed.
  bool compressed = false;
  size_t table_id_size = 6;
};

/// Parses a rows event body with its table's map. The table id is read
/// first and must be `map`'s (the caller looks the map up with
/// peek_rows_table_id).
rows_event parse_rows(cursor& in, const rows_layout& layout, const table_map& map);

/// The table id at the start of a rows event body.
uint64_t peek_rows_table_id(const char* body, size_t size, size_t table_id_size);

/// Decodes one column value at `in` (used by parse_rows; exposed for tests).
void decode_value(cursor& in, const column_def& col, value& out);

/// Whether `map` has TIME/DATETIME/TIMESTAMP columns in the pre-5.6 (and
/// MariaDB pre-10.1) format, and the advice for tables that do: MariaDB's
/// fractional variants of them log no metadata, so their size in a row
/// cannot be known from the binlog.
bool has_old_temporal(const table_map& map);
std::string old_temporal_advice(const table_map& map);

/// MariaDB's compressed payload (one header byte: algorithm and the size of
/// the length that follows, then zlib data) to the original bytes.
std::string uncompress_mariadb(cursor& in, const char* what);

}  // namespace trib::binlog
