#pragma once
// MySQL 5.7/8's binary JSON (sql-common/json_binary.h), as a JSON column's
// value in a rows event, to the JSON text MySQL itself prints: `{"a": 1,
// "b": [true, null]}` with ", " and ": " separators, keys in stored order,
// doubles as the server prints them (with ".0" when integral), decimals bare,
// dates and times as strings. MariaDB logs JSON as text and never needs this.

#include <string>

namespace trib::binlog {

class cursor;

/// Decodes the whole of `in` (one value: type byte, then the value); an
/// empty value is JSON null. Throws bad_data on malformed input, including
/// nesting deeper than 150 levels.
std::string mysql_json_text(cursor& in);

}  // namespace trib::binlog
