#pragma once
// The Kafka Connect schema of one column and the conversion of its canonical
// text cells (messages/row.hpp) into typed JSON payload values, following
// Debezium's default type mapping (design section 4). Pure code.
//
// Mapping (kind -> schema type [logical name]):
//   boolean -> boolean; int8, int16, uint8 -> int16; int32, uint16 -> int32;
//   int64, uint32, uint64 -> int64 (a BIGINT UNSIGNED above 2^63-1 is still
//   written as its exact JSON number, where Debezium would wrap it negative);
//   float32 -> float; float64 -> double (NaN and infinities become the strings
//   "NaN", "Infinity", "-Infinity");
//   decimal -> string (STRING, exact text) | double (DOUBLE) | bytes
//     [org.apache.kafka.connect.data.Decimal] with the scale as parameter and
//     the unscaled value as base64 big-endian two's complement (PRECISE), or
//     struct [io.debezium.data.VariableScaleDecimal] {scale, value} when the
//     column has no declared precision;
//   text -> string; bytes -> bytes (base64);
//   date -> int32 [io.debezium.time.Date] days since 1970-01-01;
//   time -> int64 [io.debezium.time.MicroTime] microseconds (MariaDB TIME may
//     be negative or above 24 h: it is a duration there);
//   timestamp -> int64 [io.debezium.time.MicroTimestamp] microseconds since
//     the epoch, no zone;
//   timestamptz -> string [io.debezium.time.ZonedTimestamp] ISO-8601 in UTC,
//     fraction without trailing zeros ("2024-01-02T03:04:05.123456Z");
//   interval -> int64 [io.debezium.time.MicroDuration], a month counted as
//     30.4375 days (365.25 / 12, Debezium's average);
//   json -> string [io.debezium.data.Json]; uuid -> string
//     [io.debezium.data.Uuid]; enumeration -> string [io.debezium.data.Enum];
//   set -> string [io.debezium.data.EnumSet] (both with parameter "allowed");
//   bits -> boolean for BIT(1), else bytes [io.debezium.data.Bits] with
//     parameter "length", little-endian as Debezium writes them;
//   year -> int32 [io.debezium.time.Year];
//   array -> array of the element schema; the PostgreSQL array literal
//     becomes a JSON array (nested literals become nested JSON arrays).
// MariaDB's zero dates ("0000-00-00") become null in a nullable column and
// the epoch otherwise (Debezium's rule). PostgreSQL's 'infinity' dates and
// timestamps become the largest/smallest value of the schema type (the
// strings "infinity"/"-infinity" for timestamptz).

#include <string>

#include <boost/json/object.hpp>

#include "actors/apply/json_text.hpp"
#include "conf/config.hpp"
#include "messages/row.hpp"
#include "messages/table.hpp"

namespace trib {

/// Converts the cells of one column; built once per table and column.
class column_codec {
public:
  /// `table` names the table in error messages.
  column_codec(const table_id& table, const column_info& col,
               decimal_handling decimals);

  /// The column's schema as a struct field: type, optional, logical name and
  /// parameters when it has them, and "field".
  boost::json::object field_schema() const;

  /// Appends the payload value of `c`; null cells become null. Throws
  /// trib::error{bad_data, "<table>.<column>: cannot read '<text>' as
  /// <kind>"} when the text is not what the kind's canonical form says.
  void write(json_writer& w, const cell& c) const;

  const column_info& column() const { return col_; }

private:
  std::string where_;  // "<table>.<column>" for error messages
  column_info col_;
  decimal_handling decimals_;
};

}  // namespace trib
