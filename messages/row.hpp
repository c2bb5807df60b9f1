#pragma once
// Rows travel as canonical text cells: both sources can produce them cheaply
// (libpq text format, the MariaDB text protocol, the binlog decoder), and the
// envelope builder turns them into typed JSON by the column's value_kind.
//
// Canonical text per kind: integers and decimals in plain decimal notation;
// floats as the source prints them ("Infinity", "NaN" allowed); booleans
// "t"/"f"; bytes are the raw bytes (not hex); date "YYYY-MM-DD"; time
// "HH:MM:SS[.ffffff]"; timestamp "YYYY-MM-DD HH:MM:SS[.ffffff]";
// timestamptz the same, in UTC, followed by "+00"; json as text; enum as its
// label; set as comma-separated labels; bits as a string of '0'/'1'.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace trib {

/// One column value of one row.
struct cell {
  bool null = true;
  std::string text;
};

inline cell make_cell(std::string text) { return cell{false, std::move(text)}; }
inline cell null_cell() { return cell{}; }

inline bool operator==(const cell& a, const cell& b) {
  return a.null == b.null && (a.null || a.text == b.text);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cell& x) {
  return f(caf::meta::type_name("cell"), x.null, x.text);
}

/// All column values of a row, in the table's column order.
struct row {
  std::vector<cell> cells;
};

inline bool operator==(const row& a, const row& b) { return a.cells == b.cells; }

/// The memory a row takes, about: its cells' text and bookkeeping. The unit
/// of the readers' byte windows (snapshot and realtime flow control).
size_t row_bytes(const row& r);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, row& x) {
  return f(caf::meta::type_name("row"), x.cells);
}

}  // namespace trib
