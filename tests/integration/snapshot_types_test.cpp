// Every common column type of PostgreSQL and MariaDB, through the real
// binary: for each column the value schema's field (Kafka Connect type and
// logical name) and the exact payload value of every edge value (NULL, empty,
// unicode, integer limits, wide and negative decimals, dates before 1970,
// microseconds, bytes with zeros, a 1 MB text). Expected values are computed
// here by independent arithmetic (a year-by-year day count, a local base64
// encoder), never by the production code.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include <boost/json.hpp>

#include "tests/integration/fixture.hpp"

using namespace trib;
using namespace trib::test;
namespace json = boost::json;

namespace {

// ---- expected values, computed independently -----------------------------

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Days from 1970-01-01 to y-m-d, counting whole years and months one by one.
int64_t days(int64_t y, int m, int d) {
  static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t n = 0;
  if (y >= 1970)
    for (int64_t k = 1970; k < y; ++k) n += leap(k) ? 366 : 365;
  else
    for (int64_t k = y; k < 1970; ++k) n -= leap(k) ? 366 : 365;
  for (int k = 1; k < m; ++k) n += month_days[k - 1] + (k == 2 && leap(y) ? 1 : 0);
  return n + d - 1;
}

constexpr int64_t usec = 1000000;

int64_t micros(int64_t y, int m, int d, int64_t h, int64_t mi, int64_t s, int64_t us) {
  return days(y, m, d) * 86400 * usec + ((h * 60 + mi) * 60 + s) * usec + us;
}

std::string base64(const std::string& bytes) {
  static const char* abc =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                 static_cast<unsigned char>(bytes[i + 1]) << 8 |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int k = 3; k >= 0; --k) out += abc[(v >> (6 * k)) & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += rest == 2 ? abc[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string raw(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// ---- one column under test -------------------------------------------------

struct column_case {
  std::string name;
  std::string sql_type;
  std::string schema_type;  // Kafka Connect type of the field
  std::string logical;      // its "name", empty when it has none
  std::vector<std::string> literals;  // SQL literal of row 1, 2, ...
  std::vector<json::value> expected;  // payload value of row 1, 2, ...
};

json::value jv(const char* text) { return json::parse(text); }
json::value js(const std::string& s) { return json::value(json::string(s)); }

std::string work_dir(const std::string& name) { return fresh_dir("trib_ty_" + name); }

// Rows 1..n carry the cases' literals (NULL where a case has fewer), row
// n+1 is NULL in every column.
size_t row_count(const std::vector<column_case>& cases) {
  size_t n = 0;
  for (const auto& c : cases) n = std::max(n, c.literals.size());
  return n;
}

std::string create_and_insert(const std::string& table, const std::vector<column_case>& cases,
                              const std::string& suffix) {
  std::string sql = "CREATE TABLE " + table + "(id int PRIMARY KEY";
  for (const auto& c : cases) sql += ", " + c.name + " " + c.sql_type;
  sql += ")" + suffix + ";";
  size_t n = row_count(cases);
  for (size_t r = 0; r <= n; ++r) {
    sql += "INSERT INTO " + table + " VALUES (" + std::to_string(r + 1);
    for (const auto& c : cases) sql += ", " + (r < c.literals.size() ? c.literals[r] : "NULL");
    sql += ");";
  }
  return sql;
}

// The field schemas of the "after" struct of a value document, by name.
std::map<std::string, json::object> after_fields(const json::value& doc) {
  std::map<std::string, json::object> out;
  for (const auto& f : doc.at("schema").at("fields").as_array()) {
    if (f.at("field") != "after") continue;
    for (const auto& c : f.at("fields").as_array())
      out[std::string(c.at("field").as_string())] = c.as_object();
  }
  return out;
}

// Checks every column's field schema and every row's payload.
void check_stream(redis_client& r, const std::string& stream,
                  const std::vector<column_case>& cases) {
  auto entries = read_stream(r, stream);
  size_t n = row_count(cases);
  ASSERT_EQ(entries.size(), n + 1) << stream;
  std::map<int64_t, json::value> rows;
  for (const auto& e : entries) {
    auto doc = json::parse(e.value);
    auto after = doc.at("payload").at("after");
    rows[after.at("id").as_int64()] = after;
  }
  auto fields = after_fields(json::parse(entries[0].value));
  for (const auto& c : cases) {
    SCOPED_TRACE(stream + "." + c.name + " " + c.sql_type);
    ASSERT_TRUE(fields.count(c.name));
    const auto& f = fields[c.name];
    EXPECT_EQ(f.at("type"), c.schema_type.c_str());
    if (c.logical.empty())
      EXPECT_FALSE(f.contains("name")) << json::serialize(f);
    else
      EXPECT_EQ(f.contains("name") ? f.at("name") : json::value(), c.logical.c_str());
    EXPECT_EQ(f.at("optional"), true);
    for (size_t i = 0; i <= n; ++i) {
      const auto& row = rows.at(static_cast<int64_t>(i + 1));
      json::value want = i < c.expected.size() ? c.expected[i] : json::value(nullptr);
      const auto& got = row.at(c.name);
      if (want.is_double()) {
        ASSERT_TRUE(got.is_number()) << "row " << i + 1 << ": " << json::serialize(got);
        EXPECT_EQ(got.to_number<double>(), want.as_double()) << "row " << i + 1;
      } else {
        EXPECT_EQ(got, want) << "row " << i + 1 << ": got " << json::serialize(got)
                             << ", want " << json::serialize(want);
      }
    }
  }
}

// A 1 MB text of two-byte and four-byte characters mixed with ASCII.
std::string big_unit() { return "ab\xC3\xA9\xF0\x9F\x98\x80"; }  // "abé😀", 8 bytes
constexpr int big_repeats = 131072;                             // 8 * 131072 = 1 MiB

class snapshot_types : public ::testing::Test {
protected:
  void SetUp() override {
    r_ = redis();
    clean();
  }
  void TearDown() override { clean(); }
  void clean() {
    delete_keys(*r_, "trib_ty_*");
    delete_keys(*r_, "replicate_io_*_ty_*");
  }
  std::unique_ptr<redis_client> r_;
};

}  // namespace

TEST_F(snapshot_types, postgresql_types_have_their_schema_and_exact_values) {
  const std::string emoji = "Gr\xC3\xBC\xC3\x9F" "e, \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80";
  std::vector<column_case> cases = {
    {"c_i2", "smallint", "int16", "", {"-32768", "32767", "0"}, {jv("-32768"), jv("32767"), jv("0")}},
    {"c_i4", "integer", "int32", "", {"-2147483648", "2147483647"},
     {jv("-2147483648"), jv("2147483647")}},
    {"c_i8", "bigint", "int64", "", {"-9223372036854775808", "9223372036854775807"},
     {json::value(INT64_MIN), json::value(INT64_MAX)}},
    {"c_n38", "numeric(38,10)", "string", "",
     {"-1234567890123456789012345678.0123456789", "0.5", "-0.0000000001"},
     {js("-1234567890123456789012345678.0123456789"), js("0.5000000000"), js("-0.0000000001")}},
    {"c_num", "numeric", "string", "", {"3.14159", "-42", "0"}, {js("3.14159"), js("-42"), js("0")}},
    {"c_real", "real", "float", "", {"1.5", "-2.25"}, {json::value(1.5), json::value(-2.25)}},
    {"c_dbl", "double precision", "double", "", {"-1.0000000000000002", "1e300"},
     {json::value(-1.0000000000000002), json::value(1e300)}},
    {"c_text", "text", "string", "", {"'plain'", "''", "'" + emoji + "'"}, {js("plain"), js(""), js(emoji)}},
    {"c_char", "char(5)", "string", "", {"'ab'", "'abcde'"}, {js("ab   "), js("abcde")}},
    {"c_vc", "varchar(20)", "string", "", {"'\xC3\xBC\xF0\x9F\x98\x80'", "''"},
     {js("\xC3\xBC\xF0\x9F\x98\x80"), js("")}},
    {"c_bytea", "bytea", "bytes", "", {"'\\x00010200ff'", "'\\x'", "'\\x000000'"},
     {js(base64(raw({0, 1, 2, 0, 255}))), js(""), js(base64(raw({0, 0, 0})))}},
    {"c_bool", "boolean", "boolean", "", {"true", "false"}, {jv("true"), jv("false")}},
    {"c_date", "date", "int32", "io.debezium.time.Date",
     {"'1969-12-31'", "'0001-01-01'", "'2024-02-29'"},
     {json::value(days(1969, 12, 31)), json::value(days(1, 1, 1)), json::value(days(2024, 2, 29))}},
    {"c_time", "time", "int64", "io.debezium.time.MicroTime", {"'23:59:59.999999'", "'00:00:00'"},
     {json::value(((23 * 60 + 59) * 60 + 59) * usec + 999999), jv("0")}},
    {"c_ts", "timestamp", "int64", "io.debezium.time.MicroTimestamp",
     {"'1969-12-31 23:59:59.999999'", "'2024-01-02 03:04:05.123456'", "'0001-01-01 00:00:00'"},
     {json::value(micros(1969, 12, 31, 23, 59, 59, 999999)),
      json::value(micros(2024, 1, 2, 3, 4, 5, 123456)), json::value(micros(1, 1, 1, 0, 0, 0, 0))}},
    {"c_tstz", "timestamptz", "string", "io.debezium.time.ZonedTimestamp",
     {"'2024-01-02 03:04:05.123456+02'", "'1969-12-31 23:59:59.5-01:30'"},
     {js("2024-01-02T01:04:05.123456Z"), js("1970-01-01T01:29:59.5Z")}},
    {"c_iv", "interval", "int64", "io.debezium.time.MicroDuration",
     {"'1 day 02:03:04.5'", "'1 mon'", "'-1 year -2 days'"},
     // a month is 30.4375 days in Debezium's MicroDuration
     {json::value(86400 * usec + (2 * 3600 + 3 * 60 + 4) * usec + 500000),
      json::value(int64_t{30 * 86400 + 86400 * 4375 / 10000} * usec),
      json::value(-(12 * int64_t{30 * 86400 + 86400 * 4375 / 10000} + 2 * 86400) * usec)}},
    {"c_json", "json", "string", "io.debezium.data.Json", {"'{\"a\": [1, 2]}'"}, {js("{\"a\": [1, 2]}")}},
    // jsonb keeps its own normalised text: keys sorted, one space after ':'.
    {"c_jsonb", "jsonb", "string", "io.debezium.data.Json", {"'{\"b\":1,\"a\":\"x\"}'"},
     {js("{\"a\": \"x\", \"b\": 1}")}},
    {"c_uuid", "uuid", "string", "io.debezium.data.Uuid", {"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"},
     {js("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")}},
    {"c_iarr", "int[]", "array", "", {"'{1,NULL,3}'", "'{}'"}, {jv("[1,null,3]"), jv("[]")}},
    {"c_tarr", "text[]", "array", "", {"'{\"a b\",\"c,d\",\"\"}'"}, {jv("[\"a b\",\"c,d\",\"\"]")}},
    {"c_enum", "mood", "string", "io.debezium.data.Enum", {"'happy'", "'sad'"}, {js("happy"), js("sad")}},
  };
  pg_fresh_database("trib_ty_pg");
  pg_exec("trib_ty_pg",
          "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');" +
            create_and_insert("types", cases, "") +
            "CREATE TABLE big(id int PRIMARY KEY, body text);"
            "INSERT INTO big VALUES (1, repeat('" + big_unit() + "', " +
            std::to_string(big_repeats) + "));");
  auto dir = work_dir("pg");
  auto src = write_file(dir + "/pg.yaml", "type: POSTGRESQL\nhost: 127.0.0.1\nport: " +
                                            std::to_string(pg_port()) +
                                            "\ndatabase: trib_ty_pg\nusername: tributary\n"
                                            "password: tributary\n");
  auto filter = write_file(dir + "/filter.yaml",
                           "allow:\n- catalog: trib_ty_pg\n  schema: public\n  types: [TABLE]\n");
  auto res = run_tributary("snapshot " + src + " " + redis_conn(dir) + " --filter " + filter +
                           " --id ty_pg --data-dir " + dir + "/data");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  check_stream(*r_, "trib_ty_pg_public_types", cases);

  // Array items and enum parameters.
  auto first = json::parse(read_stream(*r_, "trib_ty_pg_public_types").at(0).value);
  auto fields = after_fields(first);
  EXPECT_EQ(fields["c_iarr"].at("items").at("type"), "int32");
  EXPECT_EQ(fields["c_tarr"].at("items").at("type"), "string");
  EXPECT_EQ(fields["c_enum"].at("parameters").at("allowed"), "sad,ok,happy");

  auto big = read_stream(*r_, "trib_ty_pg_public_big");
  ASSERT_EQ(big.size(), 1u);
  auto body = json::parse(big[0].value).at("payload").at("after").at("body");
  ASSERT_TRUE(body.is_string());
  EXPECT_EQ(body.as_string().size(), big_unit().size() * big_repeats);
  std::string want;
  for (int i = 0; i < big_repeats; ++i) want += big_unit();
  EXPECT_TRUE(body.as_string() == want);
}

TEST_F(snapshot_types, mariadb_types_have_their_schema_and_exact_values) {
  const std::string emoji = "Gr\xC3\xBC\xC3\x9F" "e, \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80";
  std::vector<column_case> cases = {
    {"c_ti", "tinyint", "int16", "", {"-128", "127"}, {jv("-128"), jv("127")}},
    {"c_tiu", "tinyint unsigned", "int16", "", {"0", "255"}, {jv("0"), jv("255")}},
    {"c_si", "smallint", "int16", "", {"-32768", "32767"}, {jv("-32768"), jv("32767")}},
    {"c_siu", "smallint unsigned", "int32", "", {"65535"}, {jv("65535")}},
    {"c_mi", "mediumint", "int32", "", {"-8388608", "8388607"}, {jv("-8388608"), jv("8388607")}},
    {"c_miu", "mediumint unsigned", "int64", "", {"16777215"}, {jv("16777215")}},
    {"c_i", "int", "int32", "", {"-2147483648", "2147483647"}, {jv("-2147483648"), jv("2147483647")}},
    {"c_iu", "int unsigned", "int64", "", {"4294967295", "0"}, {jv("4294967295"), jv("0")}},
    {"c_bi", "bigint", "int64", "", {"-9223372036854775808", "9223372036854775807"},
     {json::value(INT64_MIN), json::value(INT64_MAX)}},
    {"c_biu", "bigint unsigned", "int64", "", {"18446744073709551615"}, {json::value(UINT64_MAX)}},
    {"c_dec", "decimal(38,10)", "string", "",
     {"-1234567890123456789012345678.0123456789", "0.5", "-0.0000000001"},
     {js("-1234567890123456789012345678.0123456789"), js("0.5000000000"), js("-0.0000000001")}},
    {"c_dec0", "decimal(10,0)", "string", "", {"-42"}, {js("-42")}},
    {"c_fl", "float", "float", "", {"1.5", "-2.25"}, {json::value(1.5), json::value(-2.25)}},
    {"c_db", "double", "double", "", {"-1.0000000000000002", "1e300"},
     {json::value(-1.0000000000000002), json::value(1e300)}},
    // CHAR drops trailing spaces when read (no PAD_CHAR_TO_FULL_LENGTH).
    {"c_ch", "char(5)", "string", "", {"'ab'", "''"}, {js("ab"), js("")}},
    {"c_vc", "varchar(50)", "string", "", {"'" + emoji + "'", "''"}, {js(emoji), js("")}},
    {"c_tx", "text", "string", "", {"'plain'"}, {js("plain")}},
    {"c_bn", "binary(4)", "bytes", "", {"x'0001'"}, {js(base64(raw({0, 1, 0, 0})))}},
    {"c_vb", "varbinary(10)", "bytes", "", {"x'00ff00'", "x''"}, {js(base64(raw({0, 255, 0}))), js("")}},
    {"c_bl", "blob", "bytes", "", {"x'000000'"}, {js(base64(raw({0, 0, 0})))}},
    {"c_dt", "date", "int32", "io.debezium.time.Date", {"'1000-01-01'", "'1969-12-31'", "'9999-12-31'"},
     {json::value(days(1000, 1, 1)), json::value(days(1969, 12, 31)), json::value(days(9999, 12, 31))}},
    // TIME is a duration in MariaDB: negative and above 24 hours.
    {"c_tm", "time(6)", "int64", "io.debezium.time.MicroTime",
     {"'-838:59:59.000000'", "'12:34:56.789012'"},
     {json::value(-((838 * 60 + 59) * 60 + 59) * usec),
      json::value(((12 * 60 + 34) * 60 + 56) * usec + 789012)}},
    {"c_dtm", "datetime(6)", "int64", "io.debezium.time.MicroTimestamp",
     {"'1969-12-31 23:59:59.999999'", "'1000-01-01 00:00:00'"},
     {json::value(micros(1969, 12, 31, 23, 59, 59, 999999)), json::value(micros(1000, 1, 1, 0, 0, 0, 0))}},
    {"c_tsp", "timestamp(6) NULL", "string", "io.debezium.time.ZonedTimestamp",
     {"'1970-01-01 00:00:01.000001'", "'2038-01-19 03:14:07.999999'"},
     {js("1970-01-01T00:00:01.000001Z"), js("2038-01-19T03:14:07.999999Z")}},
    {"c_yr", "year", "int32", "io.debezium.time.Year", {"1901", "2155"}, {jv("1901"), jv("2155")}},
    {"c_b1", "bit(1)", "boolean", "", {"b'1'", "b'0'"}, {jv("true"), jv("false")}},
    // Bits are little-endian bytes: 0b10_0000_0001 is 0x01 0x02.
    {"c_b10", "bit(10)", "bytes", "io.debezium.data.Bits", {"b'1000000001'", "b'0000000011'"},
     {js(base64(raw({0x01, 0x02}))), js(base64(raw({0x03, 0x00})))}},
    {"c_en", "enum('a','b','c')", "string", "io.debezium.data.Enum", {"'b'"}, {js("b")}},
    {"c_set", "set('x','y','z')", "string", "io.debezium.data.EnumSet", {"'x,z'", "''"},
     {js("x,z"), js("")}},
    {"c_js", "json", "string", "io.debezium.data.Json", {"'{\"k\": [1, 2]}'"}, {js("{\"k\": [1, 2]}")}},
  };
  maria_exec("DROP DATABASE IF EXISTS trib_ty_maria; CREATE DATABASE trib_ty_maria;"
             "SET time_zone = '+00:00';"
             "USE trib_ty_maria;" +
             create_and_insert("types", cases, " CHARACTER SET utf8mb4") +
             "CREATE TABLE big(id int PRIMARY KEY, body longtext) CHARACTER SET utf8mb4;"
             "INSERT INTO big VALUES (1, REPEAT('" + big_unit() + "', " +
             std::to_string(big_repeats) + "));");
  auto dir = work_dir("maria");
  auto src = write_file(dir + "/maria.yaml", "type: MARIADB\nhost: 127.0.0.1\nport: " +
                                               std::to_string(mariadb_port()) +
                                               "\nusername: tributary\npassword: tributary\n"
                                               "slave-server-ids: [101]\n");
  auto filter = write_file(dir + "/filter.yaml",
                           "allow:\n- catalog: trib_ty_maria\n  types: [TABLE]\n");
  auto res = run_tributary("snapshot " + src + " " + redis_conn(dir) + " --filter " + filter +
                           " --id ty_maria --data-dir " + dir + "/data");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  check_stream(*r_, "trib_ty_maria_types", cases);

  auto first = json::parse(read_stream(*r_, "trib_ty_maria_types").at(0).value);
  auto fields = after_fields(first);
  EXPECT_EQ(fields["c_en"].at("parameters").at("allowed"), "a,b,c");
  EXPECT_EQ(fields["c_set"].at("parameters").at("allowed"), "x,y,z");
  EXPECT_EQ(fields["c_b10"].at("parameters").at("length"), "10");

  auto big = read_stream(*r_, "trib_ty_maria_big");
  ASSERT_EQ(big.size(), 1u);
  auto body = json::parse(big[0].value).at("payload").at("after").at("body");
  ASSERT_TRUE(body.is_string());
  std::string want;
  for (int i = 0; i < big_repeats; ++i) want += big_unit();
  EXPECT_EQ(body.as_string().size(), want.size());
  EXPECT_TRUE(body.as_string() == want);
}
