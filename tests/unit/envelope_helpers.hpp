#pragma once
// Helpers of the envelope builder's unit tests (envelope_test.cpp: message
// format; envelope_types_test.cpp: value conversion): sample tables and
// facts, one-column conversions, and an independent decoder for precise
// decimals.

#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "actors/apply/envelope.hpp"
#include "actors/apply/json_text.hpp"
#include "messages/failure.hpp"

namespace trib::test {

namespace json = boost::json;

inline column_info col(std::string name, value_kind kind, bool not_null = false,
                std::string source_type = "") {
  column_info c;
  c.name = std::move(name);
  c.kind = kind;
  c.not_null = not_null;
  c.source_type = std::move(source_type);
  return c;
}

inline source_facts mysql_facts() {
  source_facts f;
  f.kind = source_kind::mysql;
  f.version = "5.7.24";
  f.server_id = 1;
  return f;
}

inline source_facts postgres_facts() {
  source_facts f;
  f.kind = source_kind::postgresql;
  f.version = "15.18";
  f.database = "shop";
  return f;
}

// The tpch region table of Arcion's sample.
inline table_schema region_table() {
  table_schema t;
  t.id = {"tpch_scale_0_01", "", "region"};
  t.columns = {col("r_regionkey", value_kind::int32, true, "INT"),
               col("r_name", value_kind::text, true, "CHAR(25)"),
               col("r_comment", value_kind::text, false, "VARCHAR(152)")};
  t.primary_key = {"r_regionkey"};
  return t;
}

inline row make_row(std::initializer_list<cell> cells) { return row{cells}; }

// A schema as text in its own key order, so comparisons check order too.
inline std::string canonical(const json::value& v) { return json::serialize(v); }
inline std::string canonical(const char* text) { return json::serialize(json::parse(text)); }

inline source_position binlog_at(std::string file, uint64_t pos) {
  source_position p;
  p.binlog_file = std::move(file);
  p.binlog_pos = pos;
  return p;
}

// One-column table "shop.public.t" with column "v"; returns after.v of the
// snapshot entry built from `text`.
inline json::value convert(column_info c, const cell& value,
                    decimal_handling decimals = decimal_handling::string) {
  table_schema t;
  t.id = {"shop", "public", "t"};
  c.name = "v";
  t.columns = {c};
  message_config m;
  m.include_schema = false;
  m.decimals = decimals;
  envelope_builder b{t, m, postgres_facts()};
  auto e = b.snapshot_entry(row{{value}}, source_position{}, snapshot_mark::yes, 1);
  return json::parse(e.value).at("after").at("v");
}

inline json::value convert(value_kind kind, const std::string& text,
                    decimal_handling decimals = decimal_handling::string) {
  return convert(col("v", kind), make_cell(text), decimals);
}

// The field schema of column "v" in the value schema (after.fields[0]).
inline json::value schema_of(column_info c, decimal_handling decimals = decimal_handling::string) {
  table_schema t;
  t.id = {"shop", "public", "t"};
  c.name = "v";
  t.columns = {c};
  message_config m;
  m.decimals = decimals;
  envelope_builder b{t, m, postgres_facts()};
  auto e = b.snapshot_entry(row{{null_cell()}}, source_position{}, snapshot_mark::yes, 1);
  return json::parse(e.value).at("schema").at("fields").at(1).at("fields").at(0);
}

// Two's complement big-endian bytes as a decimal string, independently of
// the builder's conversion (schoolbook division by 10).
inline std::string twos_complement_to_decimal(std::string bytes) {
  bool negative = !bytes.empty() && (static_cast<unsigned char>(bytes[0]) & 0x80);
  if (negative) {
    for (auto& b : bytes) b = static_cast<char>(~b);
    for (auto it = bytes.rbegin(); it != bytes.rend(); ++it)
      if (++*reinterpret_cast<unsigned char*>(&*it) != 0) break;
  }
  std::string digits;
  std::vector<unsigned> n(bytes.begin(), bytes.end());
  for (auto& x : n) x &= 0xff;
  for (;;) {
    bool zero = true;
    unsigned rem = 0;
    for (auto& x : n) {
      unsigned cur = rem * 256 + x;
      x = cur / 10;
      rem = cur % 10;
      if (x != 0) zero = false;
    }
    digits.insert(digits.begin(), static_cast<char>('0' + rem));
    if (zero) break;
  }
  return (negative ? "-" : "") + digits;
}

inline std::string decode_b64(const json::value& v) {
  std::string out;
  EXPECT_TRUE(base64_decode(std::string(v.as_string()), out));
  return out;
}

}  // namespace trib::test
