// The envelope builder against design section 4 and Arcion's sample
// documents: schema structure, Debezium's type mapping of every value kind,
// op codes, include-schema, the source blocks, and bad input.

#include <chrono>
#include <cstdio>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "actors/apply/envelope.hpp"
#include "actors/apply/json_text.hpp"
#include "messages/failure.hpp"

namespace json = boost::json;
using namespace trib;

namespace {

column_info col(std::string name, value_kind kind, bool not_null = false,
                std::string source_type = "") {
  column_info c;
  c.name = std::move(name);
  c.kind = kind;
  c.not_null = not_null;
  c.source_type = std::move(source_type);
  return c;
}

source_facts mysql_facts() {
  source_facts f;
  f.kind = source_kind::mysql;
  f.version = "5.7.24";
  f.server_id = 1;
  return f;
}

source_facts postgres_facts() {
  source_facts f;
  f.kind = source_kind::postgresql;
  f.version = "15.18";
  f.database = "shop";
  return f;
}

// The tpch region table of Arcion's sample.
table_schema region_table() {
  table_schema t;
  t.id = {"tpch_scale_0_01", "", "region"};
  t.columns = {col("r_regionkey", value_kind::int32, true, "INT"),
               col("r_name", value_kind::text, true, "CHAR(25)"),
               col("r_comment", value_kind::text, false, "VARCHAR(152)")};
  t.primary_key = {"r_regionkey"};
  return t;
}

row make_row(std::initializer_list<cell> cells) { return row{cells}; }

// A schema as text in its own key order, so comparisons check order too.
std::string canonical(const json::value& v) { return json::serialize(v); }
std::string canonical(const char* text) { return json::serialize(json::parse(text)); }

source_position binlog_at(std::string file, uint64_t pos) {
  source_position p;
  p.binlog_file = std::move(file);
  p.binlog_pos = pos;
  return p;
}

// One-column table "shop.public.t" with column "v"; returns after.v of the
// snapshot entry built from `text`.
json::value convert(column_info c, const cell& value,
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

json::value convert(value_kind kind, const std::string& text,
                    decimal_handling decimals = decimal_handling::string) {
  return convert(col("v", kind), make_cell(text), decimals);
}

// The field schema of column "v" in the value schema (after.fields[0]).
json::value schema_of(column_info c, decimal_handling decimals = decimal_handling::string) {
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
std::string twos_complement_to_decimal(std::string bytes) {
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

std::string decode_b64(const json::value& v) {
  std::string out;
  EXPECT_TRUE(base64_decode(std::string(v.as_string()), out));
  return out;
}

}  // namespace

TEST(envelope, region_key_reproduces_arcions_sample_structure) {
  envelope_builder b{region_table(), message_config{}, mysql_facts()};
  auto e = b.snapshot_entry(make_row({make_cell("1"), make_cell("AMERICA"),
                                      make_cell("Replication Works!")}),
                            binlog_at("log-bin.000004", 5748188), snapshot_mark::yes,
                            1670337378446);
  auto key = json::parse(e.key);
  EXPECT_EQ(canonical(key.at("schema")), canonical(R"({
    "type": "struct", "optional": false,
    "name": "REDIS_STREAM_Connector.tpch_scale_0_01.region.Key",
    "fields": [{"type": "int32", "optional": false, "field": "r_regionkey"}]})"));
  // Typed as the schema says: a number, not Arcion's string "1".
  EXPECT_EQ(canonical(key.at("payload")), canonical(R"({"r_regionkey": 1})"));
  EXPECT_EQ(key.as_object().size(), 2u);
}

TEST(envelope, region_value_reproduces_arcions_sample_structure) {
  envelope_builder b{region_table(), message_config{}, mysql_facts()};
  auto e = b.snapshot_entry(make_row({make_cell("1"), make_cell("AMERICA"), null_cell()}),
                            binlog_at("log-bin.000004", 5748188), snapshot_mark::yes,
                            1670337378446);
  auto value = json::parse(e.value);
  const char* row_fields = R"([
    {"type": "int32", "optional": false, "field": "r_regionkey"},
    {"type": "string", "optional": false, "field": "r_name"},
    {"type": "string", "optional": true, "field": "r_comment"}])";
  std::string expected = std::string(R"({
    "type": "struct", "optional": false,
    "name": "REDIS_STREAM_Connector.tpch_scale_0_01.region.Envelope",
    "fields": [
      {"type": "struct", "optional": true, "field": "before",
       "name": "REDIS_STREAM_Connector.tpch_scale_0_01.region.Value", "fields": )")
    + row_fields + R"(},
      {"type": "struct", "optional": true, "field": "after",
       "name": "REDIS_STREAM_Connector.tpch_scale_0_01.region.Value", "fields": )"
    + row_fields + R"(},
      {"type": "struct", "optional": false, "field": "source",
       "name": "REDIS_STREAM_Connector", "fields": [
        {"type": "string", "optional": false, "field": "version"},
        {"type": "string", "optional": false, "field": "connector"},
        {"type": "string", "optional": false, "field": "name"},
        {"type": "int64", "optional": false, "field": "ts_ms"},
        {"type": "string", "optional": true, "field": "snapshot"},
        {"type": "string", "optional": false, "field": "db"},
        {"type": "string", "optional": true, "field": "sequence"},
        {"type": "string", "optional": true, "field": "table"},
        {"type": "int64", "optional": false, "field": "server_id"},
        {"type": "string", "optional": true, "field": "gtid"},
        {"type": "string", "optional": false, "field": "file"},
        {"type": "int64", "optional": false, "field": "pos"},
        {"type": "int32", "optional": false, "field": "row"},
        {"type": "int64", "optional": true, "field": "thread"},
        {"type": "string", "optional": true, "field": "query"}]},
      {"type": "struct", "optional": true, "field": "transaction",
       "name": "event.block", "fields": [
        {"type": "string", "optional": false, "field": "id"},
        {"type": "int64", "optional": false, "field": "total_order"},
        {"type": "int64", "optional": false, "field": "data_collection_order"}]},
      {"type": "string", "optional": false, "field": "op"},
      {"type": "int64", "optional": true, "field": "ts_ms"}]})";
  EXPECT_EQ(canonical(value.at("schema")), canonical(expected.c_str()));
  EXPECT_EQ(canonical(value.at("payload")), canonical(R"({
    "before": null,
    "after": {"r_regionkey": 1, "r_name": "AMERICA", "r_comment": null},
    "source": {"version": "5.7.24", "connector": "MYSQL",
               "name": "REDIS_STREAM_Connector", "ts_ms": 1670337378446,
               "snapshot": "true", "db": "tpch_scale_0_01", "sequence": null,
               "table": "region", "server_id": 1, "gtid": null,
               "file": "log-bin.000004", "pos": 5748188, "row": 0,
               "thread": null, "query": null},
    "transaction": null, "op": "r", "ts_ms": 1670337378446})"));
}

TEST(envelope, verbose_op_codes_write_read) {
  message_config m;
  m.codes = op_codes::verbose;
  envelope_builder b{region_table(), m, mysql_facts()};
  auto e = b.snapshot_entry(make_row({make_cell("1"), make_cell("A"), null_cell()}),
                            binlog_at("f", 4), snapshot_mark::yes, 5);
  EXPECT_EQ(json::parse(e.value).at("payload").at("op"), "READ");
}

TEST(envelope, last_snapshot_row_is_marked_last) {
  envelope_builder b{region_table(), message_config{}, mysql_facts()};
  auto e = b.snapshot_entry(make_row({make_cell("1"), make_cell("A"), null_cell()}),
                            binlog_at("f", 4), snapshot_mark::last, 5);
  EXPECT_EQ(json::parse(e.value).at("payload").at("source").at("snapshot"), "last");
}

TEST(envelope, without_schema_key_and_value_are_bare_payloads) {
  message_config m;
  m.include_schema = false;
  envelope_builder b{region_table(), m, mysql_facts()};
  source_position pos = binlog_at("mysql-bin.000042", 1337);
  pos.gtid = "0-1-35";
  auto e = b.snapshot_entry(make_row({make_cell("7"), make_cell("ASIA"), make_cell("x")}),
                            pos, snapshot_mark::yes, 99);
  EXPECT_EQ(canonical(json::parse(e.key)), canonical(R"({"r_regionkey": 7})"));
  auto v = json::parse(e.value);
  EXPECT_FALSE(v.as_object().contains("schema"));
  EXPECT_FALSE(v.as_object().contains("payload"));
  EXPECT_EQ(canonical(v.at("after")), canonical(R"({"r_regionkey":7,"r_name":"ASIA","r_comment":"x"})"));
  EXPECT_EQ(v.at("source").at("gtid"), "0-1-35");
  EXPECT_EQ(v.at("source").at("file"), "mysql-bin.000042");
  EXPECT_EQ(v.at("source").at("pos"), 1337);
  EXPECT_EQ(b.key(make_row({make_cell("7"), make_cell("ASIA"), make_cell("x")})), e.key);
  // Several times fewer bytes than with the schema halves.
  envelope_builder full{region_table(), message_config{}, mysql_facts()};
  auto f = full.snapshot_entry(make_row({make_cell("7"), make_cell("ASIA"), make_cell("x")}),
                               pos, snapshot_mark::yes, 99);
  EXPECT_GT(f.value.size(), 3 * e.value.size());
}

TEST(envelope, table_without_key_columns_has_the_plain_key_default) {
  table_schema t = region_table();
  t.primary_key.clear();
  envelope_builder b{t, message_config{}, mysql_facts()};
  auto r = make_row({make_cell("1"), make_cell("A"), null_cell()});
  EXPECT_EQ(b.snapshot_entry(r, binlog_at("f", 4), snapshot_mark::yes, 5).key, "default");
  EXPECT_EQ(b.key(r), "default");
}

TEST(envelope, key_uses_not_null_unique_key_then_row_identifier_key) {
  table_schema t = region_table();
  t.primary_key.clear();
  t.unique_keys = {{"r_comment"}, {"r_name"}};  // r_comment may be null
  message_config m;
  m.include_schema = false;
  envelope_builder b{t, m, mysql_facts()};
  auto r = make_row({make_cell("3"), make_cell("EUROPE"), make_cell("c")});
  EXPECT_EQ(canonical(json::parse(b.key(r))), canonical(R"({"r_name":"EUROPE"})"));
  t.unique_keys.clear();
  t.row_identifier_key = {"r_comment", "r_regionkey"};
  envelope_builder b2{t, message_config{}, mysql_facts()};
  auto key = json::parse(b2.key(r));
  EXPECT_EQ(canonical(key.at("payload")), canonical(R"({"r_comment":"c","r_regionkey":3})"));
  // In a key every field is required, even a nullable column's.
  EXPECT_EQ(key.at("schema").at("fields").at(0).at("optional"), false);
}

TEST(envelope, postgres_source_block_has_schema_txid_and_lsn) {
  table_schema t;
  t.id = {"shop", "public", "orders"};
  t.columns = {col("id", value_kind::int64, true)};
  t.primary_key = {"id"};
  envelope_builder b{t, message_config{}, postgres_facts()};
  source_position pos;
  pos.lsn = 0x16B3748;
  auto v = json::parse(b.snapshot_entry(make_row({make_cell("42")}), pos,
                                        snapshot_mark::yes, 1700000000000)
                         .value);
  EXPECT_EQ(canonical(v.at("payload").at("source")), canonical(R"({
    "version": "15.18", "connector": "POSTGRESQL", "name": "REDIS_STREAM_Connector",
    "ts_ms": 1700000000000, "snapshot": "true", "db": "shop", "sequence": null,
    "schema": "public", "table": "orders", "txId": null, "lsn": 23803720})"));
  auto fields = v.at("schema").at("fields").at(2);
  EXPECT_EQ(canonical(fields.at("fields")), canonical(R"([
    {"type": "string", "optional": false, "field": "version"},
    {"type": "string", "optional": false, "field": "connector"},
    {"type": "string", "optional": false, "field": "name"},
    {"type": "int64", "optional": false, "field": "ts_ms"},
    {"type": "string", "optional": true, "field": "snapshot"},
    {"type": "string", "optional": false, "field": "db"},
    {"type": "string", "optional": true, "field": "sequence"},
    {"type": "string", "optional": false, "field": "schema"},
    {"type": "string", "optional": false, "field": "table"},
    {"type": "int64", "optional": true, "field": "txId"},
    {"type": "int64", "optional": true, "field": "lsn"}])"));
  EXPECT_EQ(v.at("schema").at("name"), "REDIS_STREAM_Connector.shop.public.orders.Envelope");
}

TEST(envelope, mariadb_source_names_its_connector_and_server_id) {
  source_facts f = mysql_facts();
  f.kind = source_kind::mariadb;
  f.version = "10.11.6-MariaDB";
  f.server_id = 7;
  message_config m;
  m.connector_name = "my_conn";
  m.include_schema = false;
  table_schema t = region_table();
  envelope_builder b{t, m, f};
  auto v = json::parse(b.snapshot_entry(make_row({make_cell("1"), make_cell("A"), null_cell()}),
                                        binlog_at("mariadb-bin.000001", 330),
                                        snapshot_mark::yes, 5)
                         .value);
  EXPECT_EQ(v.at("source").at("connector"), "MARIADB");
  EXPECT_EQ(v.at("source").at("name"), "my_conn");
  EXPECT_EQ(v.at("source").at("server_id"), 7);
  EXPECT_EQ(v.at("source").at("version"), "10.11.6-MariaDB");
  EXPECT_FALSE(v.at("source").as_object().contains("lsn"));
  message_config with_schema;
  with_schema.connector_name = "my_conn";
  envelope_builder b2{t, with_schema, f};
  auto key = json::parse(b2.key(make_row({make_cell("1"), make_cell("A"), null_cell()})));
  EXPECT_EQ(key.at("schema").at("name"), "my_conn.tpch_scale_0_01.region.Key");
}

TEST(envelope, null_cells_are_json_null) {
  for (auto kind : {value_kind::int32, value_kind::text, value_kind::date,
                    value_kind::decimal, value_kind::bytes, value_kind::array})
    EXPECT_TRUE(convert(col("v", kind), null_cell()).is_null()) << to_string(kind);
}

TEST(envelope, booleans_accept_every_source_spelling) {
  for (const char* t : {"t", "1", "true"}) EXPECT_EQ(convert(value_kind::boolean, t), true);
  for (const char* f : {"f", "0", "false"}) EXPECT_EQ(convert(value_kind::boolean, f), false);
  EXPECT_THROW(convert(value_kind::boolean, "yes"), trib::error);
  EXPECT_EQ(schema_of(col("v", value_kind::boolean)).at("type"), "boolean");
}

TEST(envelope, integers_are_numbers_at_the_limits_of_every_size) {
  struct limits {
    value_kind kind;
    const char* min;
    const char* max;
    const char* too_big;
    const char* schema_type;
  };
  const limits all[] = {
    {value_kind::int8, "-128", "127", "128", "int16"},
    {value_kind::int16, "-32768", "32767", "32768", "int16"},
    {value_kind::int32, "-2147483648", "2147483647", "2147483648", "int32"},
    {value_kind::int64, "-9223372036854775808", "9223372036854775807",
     "9223372036854775808", "int64"},
    {value_kind::uint8, "0", "255", "256", "int16"},
    {value_kind::uint16, "0", "65535", "65536", "int32"},
    {value_kind::uint32, "0", "4294967295", "4294967296", "int64"},
    {value_kind::uint64, "0", "18446744073709551615", "18446744073709551616", "int64"},
  };
  for (const auto& l : all) {
    SCOPED_TRACE(to_string(l.kind));
    // The number's text in the JSON is the source's text exactly.
    EXPECT_EQ(json::serialize(convert(l.kind, l.min)), l.min);
    EXPECT_EQ(json::serialize(convert(l.kind, l.max)), l.max);
    EXPECT_TRUE(convert(l.kind, l.max).is_number());
    EXPECT_THROW(convert(l.kind, l.too_big), trib::error);
    EXPECT_EQ(schema_of(col("v", l.kind)).at("type"), l.schema_type);
  }
  // Text that JSON spells differently is printed again, never copied.
  EXPECT_EQ(json::serialize(convert(value_kind::int32, "007")), "7");
  EXPECT_EQ(json::serialize(convert(value_kind::int64, "-007")), "-7");
  EXPECT_EQ(json::serialize(convert(value_kind::int16, "-0")), "0");
  EXPECT_EQ(json::serialize(convert(value_kind::uint64, "00")), "0");
  EXPECT_EQ(json::serialize(convert(value_kind::int32, "0")), "0");
  EXPECT_THROW(convert(value_kind::int32, "-"), trib::error);
  EXPECT_THROW(convert(value_kind::uint8, "-1"), trib::error);
  EXPECT_THROW(convert(value_kind::int32, ""), trib::error);
  EXPECT_THROW(convert(value_kind::int32, "1.5"), trib::error);
}

TEST(envelope, malformed_integer_is_bad_data_naming_table_and_column) {
  table_schema t;
  t.id = {"shop", "public", "orders"};
  t.columns = {col("id", value_kind::int64, true), col("qty", value_kind::int32)};
  t.primary_key = {"id"};
  envelope_builder b{t, message_config{}, postgres_facts()};
  try {
    b.snapshot_entry(make_row({make_cell("1"), make_cell("12x")}), source_position{},
                     snapshot_mark::yes, 1);
    FAIL() << "no error";
  } catch (const trib::error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data);
    EXPECT_EQ(std::string(e.what()), "shop.public.orders.qty: cannot read '12x' as int32");
  }
  // A key column fails the same way through key().
  EXPECT_THROW(b.key(make_row({make_cell("one"), null_cell()})), trib::error);
}

TEST(envelope, floats_are_shortest_numbers_and_specials_are_strings) {
  // The text itself, since re-serializing would reformat the number.
  table_schema t;
  t.id = {"db", "", "t"};
  t.columns = {col("f", value_kind::float32), col("d", value_kind::float64)};
  message_config m;
  m.include_schema = false;
  envelope_builder b{t, m, mysql_facts()};
  auto e = b.snapshot_entry(make_row({make_cell("1.1"), make_cell("1e+20")}),
                            binlog_at("f", 4), snapshot_mark::yes, 1);
  EXPECT_NE(e.value.find(R"("after":{"f":1.1,"d":1e+20})"), std::string::npos)
    << e.value;
  EXPECT_EQ(convert(value_kind::float32, "1.1").as_double(), 1.1);
  EXPECT_EQ(convert(value_kind::float64, "-2.5e+300").as_double(), -2.5e300);
  EXPECT_EQ(convert(value_kind::float64, "0.1").as_double(), 0.1);
  EXPECT_EQ(convert(value_kind::float64, "NaN"), "NaN");
  EXPECT_EQ(convert(value_kind::float64, "Infinity"), "Infinity");
  EXPECT_EQ(convert(value_kind::float32, "-Infinity"), "-Infinity");
  EXPECT_THROW(convert(value_kind::float64, "1,5"), trib::error);
  EXPECT_EQ(schema_of(col("v", value_kind::float32)).at("type"), "float");
  EXPECT_EQ(schema_of(col("v", value_kind::float64)).at("type"), "double");
}

TEST(envelope, decimals_are_exact_strings_by_default) {
  const char* big = "-1234567890123456789012345678.0123456789";
  EXPECT_EQ(convert(value_kind::decimal, big), big);
  EXPECT_EQ(convert(value_kind::decimal, "0.00"), "0.00");
  EXPECT_EQ(convert(value_kind::decimal, "NaN"), "NaN");
  EXPECT_THROW(convert(value_kind::decimal, "1.2.3"), trib::error);
  EXPECT_THROW(convert(value_kind::decimal, "1e5"), trib::error);
  auto s = schema_of(col("v", value_kind::decimal));
  EXPECT_EQ(canonical(s), canonical(R"({"type":"string","optional":true,"field":"v"})"));
}

TEST(envelope, precise_decimals_are_scaled_twos_complement_bytes) {
  column_info c = col("v", value_kind::decimal);
  c.precision = 38;
  c.scale = 10;
  auto s = schema_of(c, decimal_handling::precise);
  EXPECT_EQ(canonical(s), canonical(R"({"type":"bytes","optional":true,
    "name":"org.apache.kafka.connect.data.Decimal","version":1,
    "parameters":{"scale":"10","connect.decimal.precision":"38"},"field":"v"})"));
  // -1 at scale 10 is -10000000000 = 0xFDABF41C00 in five bytes.
  EXPECT_EQ(convert(c, make_cell("-1"), decimal_handling::precise), "/av0HAA=");
  for (const char* text : {"-1234567890123456789012345678.0123456789",
                           "9999999999999999999999999999.9999999999", "0.5", "-0.0000000001",
                           "128", "-128"}) {
    auto bytes = decode_b64(convert(c, make_cell(text), decimal_handling::precise));
    std::string expected = text;
    expected.erase(std::remove(expected.begin(), expected.end(), '.'), expected.end());
    size_t frac = std::string(text).find('.') == std::string::npos
                    ? 0 : std::string(text).size() - std::string(text).find('.') - 1;
    expected.append(10 - frac, '0');
    // Strip leading zeros after the sign, as a decimal rendering has none.
    size_t sign = expected[0] == '-' ? 1 : 0;
    while (expected.size() > sign + 1 && expected[sign] == '0') expected.erase(sign, 1);
    EXPECT_EQ(twos_complement_to_decimal(bytes), expected) << text;
  }
  EXPECT_EQ(decode_b64(convert(c, make_cell("0"), decimal_handling::precise)),
            std::string(1, '\0'));
  // More fraction digits than the scale would lose data.
  EXPECT_THROW(convert(c, make_cell("0.00000000001"), decimal_handling::precise), trib::error);
  EXPECT_EQ(convert(c, make_cell("1.50000000000"), decimal_handling::precise),
            convert(c, make_cell("1.5"), decimal_handling::precise));
}

TEST(envelope, unconstrained_precise_decimals_carry_their_own_scale) {
  column_info c = col("v", value_kind::decimal);
  auto v = convert(c, make_cell("-1.5"), decimal_handling::precise);
  EXPECT_EQ(v.at("scale"), 1);
  EXPECT_EQ(twos_complement_to_decimal(decode_b64(v.at("value"))), "-15");
  EXPECT_EQ(schema_of(c, decimal_handling::precise).at("name"),
            "io.debezium.data.VariableScaleDecimal");
}

TEST(envelope, double_decimals_are_numbers) {
  EXPECT_EQ(convert(value_kind::decimal, "-12.25", decimal_handling::dbl).as_double(), -12.25);
  EXPECT_EQ(schema_of(col("v", value_kind::decimal), decimal_handling::dbl).at("type"), "double");
}

TEST(envelope, text_keeps_every_character) {
  EXPECT_EQ(convert(value_kind::text, ""), "");
  EXPECT_EQ(convert(value_kind::text, "\xF0\x9F\x98\x80 caf\xC3\xA9"), "\xF0\x9F\x98\x80 caf\xC3\xA9");
  std::string tricky = "quote \" backslash \\ newline \n tab \t nul";
  tricky.push_back('\0');
  tricky += "\x01 end";
  EXPECT_EQ(convert(value_kind::text, tricky).as_string(), tricky);
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 1000) big[i] = '"';
  EXPECT_EQ(convert(value_kind::text, big).as_string(), big);
}

TEST(envelope, bytes_are_base64_with_zeros_kept) {
  std::string raw{"a\0b\xff\0", 5};
  auto v = convert(value_kind::bytes, raw);
  EXPECT_EQ(v, "YQBi/wA=");
  EXPECT_EQ(decode_b64(v), raw);
  EXPECT_EQ(convert(value_kind::bytes, ""), "");
  EXPECT_EQ(schema_of(col("v", value_kind::bytes)).at("type"), "bytes");
}

TEST(envelope, dates_are_days_since_the_epoch) {
  EXPECT_EQ(convert(value_kind::date, "1970-01-01"), 0);
  EXPECT_EQ(convert(value_kind::date, "1969-12-31"), -1);
  EXPECT_EQ(convert(value_kind::date, "0001-01-01"), -719162);
  EXPECT_EQ(convert(value_kind::date, "2024-02-29"), 19782);
  EXPECT_EQ(convert(value_kind::date, "0001-12-31 BC"), -719163);
  EXPECT_THROW(convert(value_kind::date, "2023-02-29"), trib::error);
  EXPECT_THROW(convert(value_kind::date, "2023-1-01"), trib::error);
  // MariaDB's zero date: null when the column allows it, the epoch otherwise.
  EXPECT_TRUE(convert(value_kind::date, "0000-00-00").is_null());
  EXPECT_EQ(convert(col("v", value_kind::date, true), make_cell("0000-00-00")), 0);
  EXPECT_EQ(canonical(schema_of(col("v", value_kind::date, true))),
            canonical(R"({"type":"int32","optional":false,"name":"io.debezium.time.Date",
                          "version":1,"field":"v"})"));
}

TEST(envelope, times_are_microseconds) {
  EXPECT_EQ(convert(value_kind::time, "00:00:00"), 0);
  EXPECT_EQ(convert(value_kind::time, "23:59:59.999999"), 86399999999LL);
  EXPECT_EQ(convert(value_kind::time, "12:00:00.5"), 43200500000LL);
  EXPECT_EQ(convert(value_kind::time, "-838:59:59"), -3020399000000LL);
  EXPECT_THROW(convert(value_kind::time, "12:60:00"), trib::error);
  EXPECT_EQ(schema_of(col("v", value_kind::time)).at("name"), "io.debezium.time.MicroTime");
}

TEST(envelope, timestamps_are_microseconds_since_the_epoch) {
  EXPECT_EQ(convert(value_kind::timestamp, "1970-01-01 00:00:00.000001"), 1);
  EXPECT_EQ(convert(value_kind::timestamp, "1969-12-31 23:59:59.999999"), -1);
  EXPECT_EQ(convert(value_kind::timestamp, "2024-01-02 03:04:05.123456"), 1704164645123456LL);
  EXPECT_EQ(convert(value_kind::timestamp, "2024-01-02T03:04:05.123456"), 1704164645123456LL);
  EXPECT_EQ(convert(value_kind::timestamp, "0001-01-01 00:00:00"), -719162LL * 86400000000LL);
  EXPECT_THROW(convert(value_kind::timestamp, "2024-01-02"), trib::error);
  EXPECT_TRUE(convert(value_kind::timestamp, "0000-00-00 00:00:00").is_null());
  EXPECT_EQ(schema_of(col("v", value_kind::timestamp)).at("name"),
            "io.debezium.time.MicroTimestamp");
}

TEST(envelope, zoned_timestamps_are_iso_8601_in_utc) {
  EXPECT_EQ(convert(value_kind::timestamptz, "2024-01-02 03:04:05.123456+00"),
            "2024-01-02T03:04:05.123456Z");
  EXPECT_EQ(convert(value_kind::timestamptz, "2024-01-02 05:04:05.5+02"),
            "2024-01-02T03:04:05.5Z");
  EXPECT_EQ(convert(value_kind::timestamptz, "2024-01-01 23:30:00-05:30"),
            "2024-01-02T05:00:00Z");
  EXPECT_EQ(convert(value_kind::timestamptz, "1969-12-31 23:59:59.999999+00"),
            "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(convert(value_kind::timestamptz, "0001-01-01 00:00:00+00"), "0001-01-01T00:00:00Z");
  EXPECT_THROW(convert(value_kind::timestamptz, "2024-01-02 03:04:05"), trib::error);
  EXPECT_EQ(schema_of(col("v", value_kind::timestamptz)).at("type"), "string");
  EXPECT_EQ(schema_of(col("v", value_kind::timestamptz)).at("name"),
            "io.debezium.time.ZonedTimestamp");
}

TEST(envelope, intervals_are_micro_durations_with_average_months) {
  // 14 months of 30.4375 days, 3 days, 4h 5m 6.5s.
  int64_t expected = 14 * 2629800000000LL + 3 * 86400000000LL + 14706500000LL;
  EXPECT_EQ(convert(value_kind::interval, "P1Y2M3DT4H5M6.5S"), expected);
  EXPECT_EQ(convert(value_kind::interval, "1 year 2 mons 3 days 04:05:06.5"), expected);
  EXPECT_EQ(convert(value_kind::interval, "P-1Y-2M-3DT-4H-5M-6.5S"), -expected);
  EXPECT_EQ(convert(value_kind::interval, "-1 years -2 mons -3 days -04:05:06.5"), -expected);
  EXPECT_EQ(convert(value_kind::interval, "PT0S"), 0);
  EXPECT_EQ(convert(value_kind::interval, "00:00:00"), 0);
  EXPECT_THROW(convert(value_kind::interval, "P1X"), trib::error);
  EXPECT_EQ(schema_of(col("v", value_kind::interval)).at("name"),
            "io.debezium.time.MicroDuration");
}

TEST(envelope, json_uuid_enum_and_set_are_named_strings) {
  EXPECT_EQ(convert(value_kind::json, R"({"a": [1, "b"]})"), R"({"a": [1, "b"]})");
  EXPECT_EQ(schema_of(col("v", value_kind::json)).at("name"), "io.debezium.data.Json");
  const char* uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
  EXPECT_EQ(convert(value_kind::uuid, uuid), uuid);
  EXPECT_EQ(schema_of(col("v", value_kind::uuid)).at("name"), "io.debezium.data.Uuid");
  column_info e = col("v", value_kind::enumeration);
  e.allowed = {"small", "large"};
  EXPECT_EQ(convert(e, make_cell("large")), "large");
  EXPECT_EQ(canonical(schema_of(e)), canonical(R"({"type":"string","optional":true,
    "name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"small,large"},
    "field":"v"})"));
  column_info s = col("v", value_kind::set);
  s.allowed = {"a", "b", "c"};
  EXPECT_EQ(convert(s, make_cell("a,c")), "a,c");
  EXPECT_EQ(schema_of(s).at("name"), "io.debezium.data.EnumSet");
}

TEST(envelope, bits_are_a_flag_or_little_endian_bytes) {
  column_info one = col("v", value_kind::bits);
  one.precision = 1;
  EXPECT_EQ(convert(one, make_cell("1")), true);
  EXPECT_EQ(convert(one, make_cell("0")), false);
  EXPECT_EQ(schema_of(one).at("type"), "boolean");
  column_info ten = col("v", value_kind::bits);
  ten.precision = 10;
  // 0b1000000001 = 0x0201, low byte first.
  EXPECT_EQ(decode_b64(convert(ten, make_cell("1000000001"))), std::string("\x01\x02", 2));
  EXPECT_EQ(canonical(schema_of(ten)), canonical(R"({"type":"bytes","optional":true,
    "name":"io.debezium.data.Bits","version":1,"parameters":{"length":"10"},"field":"v"})"));
  EXPECT_THROW(convert(ten, make_cell("10201")), trib::error);
}

TEST(envelope, years_are_int32) {
  EXPECT_EQ(convert(value_kind::year, "2024"), 2024);
  EXPECT_EQ(schema_of(col("v", value_kind::year)).at("name"), "io.debezium.time.Year");
}

TEST(envelope, postgres_arrays_become_json_arrays) {
  column_info ints = col("v", value_kind::array);
  ints.element_kind = value_kind::int32;
  EXPECT_EQ(canonical(convert(ints, make_cell("{1,2,NULL,-3}"))), "[1,2,null,-3]");
  EXPECT_EQ(canonical(convert(ints, make_cell("{}"))), "[]");
  EXPECT_EQ(canonical(convert(ints, make_cell("{{1,2},{3,4}}"))), "[[1,2],[3,4]]");
  EXPECT_EQ(canonical(convert(ints, make_cell("[0:1]={5,6}"))), "[5,6]");
  EXPECT_THROW(convert(ints, make_cell("{1,x}")), trib::error);
  EXPECT_THROW(convert(ints, make_cell("{1,2")), trib::error);
  EXPECT_EQ(canonical(schema_of(ints)), canonical(R"({"type":"array",
    "items":{"type":"int32","optional":true},"optional":true,"field":"v"})"));
  column_info texts = col("v", value_kind::array);
  texts.element_kind = value_kind::text;
  auto v = convert(texts, make_cell(R"({"a b","x\"y\\z",NULL,"NULL",plain,""})"));
  EXPECT_EQ(canonical(v), canonical(R"(["a b","x\"y\\z",null,"NULL","plain",""])"));
  column_info dates = col("v", value_kind::array);
  dates.element_kind = value_kind::date;
  EXPECT_EQ(canonical(convert(dates, make_cell("{1969-12-31,1970-01-02}"))), "[-1,1]");
  column_info blobs = col("v", value_kind::array);
  blobs.element_kind = value_kind::bytes;
  EXPECT_EQ(canonical(convert(blobs, make_cell(R"({"\\x00ff"})"))), R"(["AP8="])");
}

TEST(envelope, row_with_wrong_width_is_bad_data) {
  envelope_builder b{region_table(), message_config{}, mysql_facts()};
  try {
    b.snapshot_entry(make_row({make_cell("1")}), binlog_at("f", 4), snapshot_mark::yes, 1);
    FAIL() << "no error";
  } catch (const trib::error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data);
  }
}

TEST(envelope, builder_moves) {
  envelope_builder a{region_table(), message_config{}, mysql_facts()};
  envelope_builder b{std::move(a)};
  EXPECT_EQ(json::parse(b.key(make_row({make_cell("5"), make_cell("A"), null_cell()})))
              .at("payload").at("r_regionkey"),
            5);
}

// Rate of snapshot entries for an 8-column row, schemas included. Printed,
// not asserted: the machine is shared. The entries are checked so the loop
// cannot be optimised away.
TEST(envelope, snapshot_entry_rate_for_an_eight_column_row) {
  table_schema t;
  t.id = {"tpch", "", "orders"};
  t.columns = {col("o_orderkey", value_kind::int64, true),
               col("o_custkey", value_kind::int32, true),
               col("o_orderstatus", value_kind::text, true),
               col("o_totalprice", value_kind::decimal, true),
               col("o_orderdate", value_kind::date, true),
               col("o_orderpriority", value_kind::text, true),
               col("o_shippriority", value_kind::int32, true),
               col("o_comment", value_kind::text)};
  t.primary_key = {"o_orderkey"};
  envelope_builder b{t, message_config{}, mysql_facts()};
  row r = make_row({make_cell("600000"), make_cell("36901"), make_cell("O"),
                    make_cell("173665.47"), make_cell("1996-01-02"),
                    make_cell("5-LOW"), make_cell("0"),
                    make_cell("nstructions sleep furiously among the final deposits")});
  source_position pos = binlog_at("mysql-bin.000042", 1337);
  constexpr int n = 200000;
  size_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto e = b.snapshot_entry(r, pos, snapshot_mark::yes, 1700000000000 + i);
    bytes += e.key.size() + e.value.size();
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("[ rate     ] %d entries in %.3f s: %.0f entries/s, %.0f bytes each\n", n,
              took.count(), n / took.count(), static_cast<double>(bytes) / n);
  auto last = json::parse(b.snapshot_entry(r, pos, snapshot_mark::yes, 7).value);
  EXPECT_EQ(last.at("payload").at("after").at("o_totalprice"), "173665.47");
  EXPECT_EQ(last.at("payload").at("after").at("o_orderdate"), 9497);
  EXPECT_GT(bytes, static_cast<size_t>(n) * 1000);
}

TEST(envelope, change_entries_carry_op_source_and_transaction) {
  message_config m;
  m.include_schema = false;
  envelope_builder b{region_table(), m, mysql_facts()};
  row old_row = make_row({make_cell("1"), make_cell("AMERICA"), make_cell("TestReplication")});
  row new_row = make_row({make_cell("1"), make_cell("AMERICA"), make_cell("Replication Works!")});
  change_origin o;
  o.source.position = binlog_at("log-bin.000004", 5748188);
  o.commit_ms = 1670357178000;
  o.txn_id = "0-1-35";
  o.total_order = 2;
  o.data_collection_order = 1;
  o.source.row = 1;
  o.source.thread = 1533;
  o.source.query = "UPDATE region SET r_comment='Replication Works!' WHERE r_regionkey=1";
  auto e = b.change_entry(change_op::update, &old_row, &new_row, o, 1670337378446);
  EXPECT_EQ(canonical(json::parse(e.key)), canonical(R"({"r_regionkey":1})"));
  EXPECT_EQ(canonical(json::parse(e.value)), canonical(R"({
    "before": {"r_regionkey": 1, "r_name": "AMERICA", "r_comment": "TestReplication"},
    "after": {"r_regionkey": 1, "r_name": "AMERICA", "r_comment": "Replication Works!"},
    "source": {"version": "5.7.24", "connector": "MYSQL", "name": "REDIS_STREAM_Connector",
               "ts_ms": 1670357178000, "snapshot": "false", "db": "tpch_scale_0_01",
               "sequence": null, "table": "region", "server_id": 1, "gtid": null,
               "file": "log-bin.000004", "pos": 5748188, "row": 1, "thread": 1533,
               "query": "UPDATE region SET r_comment='Replication Works!' WHERE r_regionkey=1"},
    "transaction": {"id": "0-1-35", "total_order": 2, "data_collection_order": 1},
    "op": "u", "ts_ms": 1670337378446})"));
  EXPECT_FALSE(b.key_changed(old_row, new_row));
  row moved = make_row({make_cell("2"), make_cell("AMERICA"), null_cell()});
  EXPECT_TRUE(b.key_changed(old_row, moved));
}

TEST(envelope, every_op_has_its_debezium_and_verbose_code) {
  row r = make_row({make_cell("9"), make_cell("X"), null_cell()});
  change_origin o;
  o.source.position = binlog_at("f", 4);
  struct expect_op {
    change_op op;
    const row* before;
    const row* after;
    const char* debezium;
    const char* verbose;
  };
  const expect_op ops[] = {{change_op::insert, nullptr, &r, "c", "INSERT"},
                           {change_op::update, &r, &r, "u", "UPDATE"},
                           {change_op::erase, &r, nullptr, "d", "DELETE"},
                           {change_op::truncate, nullptr, nullptr, "t", "TRUNCATE"}};
  for (auto codes : {op_codes::debezium, op_codes::verbose}) {
    message_config m;
    m.codes = codes;
    envelope_builder b{region_table(), m, mysql_facts()};
    for (const auto& x : ops) {
      auto v = json::parse(b.change_entry(x.op, x.before, x.after, o, 1).value);
      EXPECT_EQ(v.at("payload").at("op"), codes == op_codes::verbose ? x.verbose : x.debezium);
      EXPECT_EQ(v.at("payload").at("before").is_null(), x.before == nullptr);
      EXPECT_EQ(v.at("payload").at("after").is_null(), x.after == nullptr);
    }
  }
}

TEST(envelope, delete_key_comes_from_before_and_tombstone_value_is_default) {
  envelope_builder b{region_table(), message_config{}, mysql_facts()};
  row r = make_row({make_cell("4"), make_cell("EUROPE"), null_cell()});
  change_origin o;
  auto d = b.change_entry(change_op::erase, &r, nullptr, o, 1);
  auto t = b.tombstone(r);
  EXPECT_EQ(t.key, d.key);
  EXPECT_EQ(json::parse(t.key).at("payload").at("r_regionkey"), 4);
  EXPECT_EQ(t.value, "default");
  EXPECT_EQ(b.change_entry(change_op::truncate, nullptr, nullptr, o, 1).key, "default");
}

TEST(envelope, postgres_change_source_has_txid_and_lsn) {
  table_schema t;
  t.id = {"shop", "public", "orders"};
  t.columns = {col("id", value_kind::int64, true), col("note", value_kind::text)};
  t.primary_key = {"id"};
  message_config m;
  m.include_schema = false;
  envelope_builder b{t, m, postgres_facts()};
  row r = make_row({make_cell("42"), make_cell("hi")});
  change_origin o;
  o.source.position.lsn = 0x16B3748;
  o.commit_ms = 1700000000123;
  o.source.xid = 771;
  o.txn_id = "771";
  auto v = json::parse(b.change_entry(change_op::insert, nullptr, &r, o, 1700000000200).value);
  EXPECT_EQ(canonical(v.at("source")), canonical(R"({
    "version": "15.18", "connector": "POSTGRESQL", "name": "REDIS_STREAM_Connector",
    "ts_ms": 1700000000123, "snapshot": "false", "db": "shop", "sequence": null,
    "schema": "public", "table": "orders", "txId": 771, "lsn": 23803720})"));
  EXPECT_EQ(v.at("transaction").at("id"), "771");
  EXPECT_EQ(v.at("op"), "c");
}
