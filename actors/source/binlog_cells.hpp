#pragma once
// Row images (binlog_rows.hpp) -> rows of a table_schema, cell for cell the
// same as the MariaDB/MySQL snapshot session produces for the same values
// (mariadb_readers.cpp reads them through the text protocol in utf8mb4 with
// time_zone '+00:00'; mariadb_text.hpp holds the spelling both share).

#include <string>
#include <vector>

#include "actors/source/binlog_rows.hpp"
#include "actors/source/binlog_table_map.hpp"
#include "messages/row.hpp"
#include "messages/table.hpp"

namespace trib::binlog {

/// Converts the images of one table (one TABLE_MAP) into rows of the run's
/// schema for that table. Build one per TABLE_MAP and reuse it for every
/// row; after a DDL the next TABLE_MAP needs a new one.
class row_converter {
public:
  /// Matches each schema column (the snapshot may read a subset, in any
  /// order) to a binlog column: by name when the map has names
  /// (binlog_row_metadata=FULL); else by position in `all_columns` (every
  /// column of the table, in table order, as information_schema lists them)
  /// when given; else by position when the counts agree. Throws
  /// trib::error{bad_data} naming the table and column when a column is
  /// missing or its binlog type cannot hold the schema column's kind (the
  /// schema is of another time than the map), or the kind is one the binlog
  /// decoder does not convert (MariaDB UUID, INET4/INET6).
  row_converter(const table_schema& schema, const table_map& map,
                const std::vector<std::string>* all_columns = nullptr);

  /// The image as a row in the schema's column order. Throws
  /// trib::error{bad_data} for a column the image leaves out
  /// (binlog_row_image=MINIMAL/NOBLOB), an ENUM/SET value without a label,
  /// or text in a charset it cannot convert.
  row convert(const row_image& image) const;
  /// The same into `out` (its cells are reused).
  void convert(const row_image& image, row& out) const;

private:
  struct column_plan {
    size_t map_index = 0;
    size_t schema_index = 0;
    /// ENUM/SET labels from the schema (else from the map).
    bool schema_labels = true;
  };
  void convert_cell(const column_plan& p, const value& v, cell& out) const;

  std::string table_;
  std::vector<column_plan> plan_;
  table_schema schema_;
  table_map map_;
};

/// Whether a binlog column (its real type) can hold values of `kind`.
bool fits(value_kind kind, const column_def& d);

/// Text bytes in the charset of collation id `collation` to UTF-8 (what the
/// snapshot's utf8mb4 connection receives). UTF-8 charsets, ascii, binary
/// and an unknown collation (0) pass unchanged; latin1 (MariaDB's cp1252),
/// ucs2, utf16, utf16le and utf32 are converted; others throw bad_data.
std::string text_to_utf8(uint32_t collation, const std::string& bytes);

}  // namespace trib::binlog
