// The envelope builder's value conversion: Debezium's type mapping of every
// value kind (numbers at their limits, decimals in each handling mode, text,
// bytes, times, intervals, named strings, bits, arrays) and malformed values.
// The message format is in envelope_test.cpp.

#include <string>

#include "tests/unit/envelope_helpers.hpp"

using namespace trib;
using namespace trib::test;

TEST(envelope_types, null_cells_are_json_null) {
  for (auto kind : {value_kind::int32, value_kind::text, value_kind::date,
                    value_kind::decimal, value_kind::bytes, value_kind::array})
    EXPECT_TRUE(convert(col("v", kind), null_cell()).is_null()) << to_string(kind);
}

TEST(envelope_types, booleans_accept_every_source_spelling) {
  for (const char* t : {"t", "1", "true"}) EXPECT_EQ(convert(value_kind::boolean, t), true);
  for (const char* f : {"f", "0", "false"}) EXPECT_EQ(convert(value_kind::boolean, f), false);
  EXPECT_THROW(convert(value_kind::boolean, "yes"), trib::error);
  EXPECT_EQ(schema_of(col("v", value_kind::boolean)).at("type"), "boolean");
}

TEST(envelope_types, integers_are_numbers_at_the_limits_of_every_size) {
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

TEST(envelope_types, malformed_integer_is_bad_data_naming_table_and_column) {
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

TEST(envelope_types, floats_are_shortest_numbers_and_specials_are_strings) {
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

TEST(envelope_types, decimals_are_exact_strings_by_default) {
  const char* big = "-1234567890123456789012345678.0123456789";
  EXPECT_EQ(convert(value_kind::decimal, big), big);
  EXPECT_EQ(convert(value_kind::decimal, "0.00"), "0.00");
  EXPECT_EQ(convert(value_kind::decimal, "NaN"), "NaN");
  EXPECT_THROW(convert(value_kind::decimal, "1.2.3"), trib::error);
  EXPECT_THROW(convert(value_kind::decimal, "1e5"), trib::error);
  auto s = schema_of(col("v", value_kind::decimal));
  EXPECT_EQ(canonical(s), canonical(R"({"type":"string","optional":true,"field":"v"})"));
}

TEST(envelope_types, precise_decimals_are_scaled_twos_complement_bytes) {
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

TEST(envelope_types, unconstrained_precise_decimals_carry_their_own_scale) {
  column_info c = col("v", value_kind::decimal);
  auto v = convert(c, make_cell("-1.5"), decimal_handling::precise);
  EXPECT_EQ(v.at("scale"), 1);
  EXPECT_EQ(twos_complement_to_decimal(decode_b64(v.at("value"))), "-15");
  EXPECT_EQ(schema_of(c, decimal_handling::precise).at("name"),
            "io.debezium.data.VariableScaleDecimal");
}

TEST(envelope_types, double_decimals_are_numbers) {
  EXPECT_EQ(convert(value_kind::decimal, "-12.25", decimal_handling::dbl).as_double(), -12.25);
  EXPECT_EQ(schema_of(col("v", value_kind::decimal), decimal_handling::dbl).at("type"), "double");
}

TEST(envelope_types, text_keeps_every_character) {
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

TEST(envelope_types, bytes_are_base64_with_zeros_kept) {
  std::string raw{"a\0b\xff\0", 5};
  auto v = convert(value_kind::bytes, raw);
  EXPECT_EQ(v, "YQBi/wA=");
  EXPECT_EQ(decode_b64(v), raw);
  EXPECT_EQ(convert(value_kind::bytes, ""), "");
  EXPECT_EQ(schema_of(col("v", value_kind::bytes)).at("type"), "bytes");
}

TEST(envelope_types, dates_are_days_since_the_epoch) {
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

TEST(envelope_types, times_are_microseconds) {
  EXPECT_EQ(convert(value_kind::time, "00:00:00"), 0);
  EXPECT_EQ(convert(value_kind::time, "23:59:59.999999"), 86399999999LL);
  EXPECT_EQ(convert(value_kind::time, "12:00:00.5"), 43200500000LL);
  EXPECT_EQ(convert(value_kind::time, "-838:59:59"), -3020399000000LL);
  EXPECT_THROW(convert(value_kind::time, "12:60:00"), trib::error);
  EXPECT_EQ(schema_of(col("v", value_kind::time)).at("name"), "io.debezium.time.MicroTime");
}

TEST(envelope_types, timestamps_are_microseconds_since_the_epoch) {
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

TEST(envelope_types, zoned_timestamps_are_iso_8601_in_utc) {
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

TEST(envelope_types, intervals_are_micro_durations_with_average_months) {
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

TEST(envelope_types, json_uuid_enum_and_set_are_named_strings) {
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

TEST(envelope_types, bits_are_a_flag_or_little_endian_bytes) {
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

TEST(envelope_types, years_are_int32) {
  EXPECT_EQ(convert(value_kind::year, "2024"), 2024);
  EXPECT_EQ(schema_of(col("v", value_kind::year)).at("name"), "io.debezium.time.Year");
}

TEST(envelope_types, postgres_arrays_become_json_arrays) {
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
