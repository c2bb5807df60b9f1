// Realtime payloads equal snapshot payloads: the same values, read once by
// the snapshot (libpq text) and once from pgoutput, give the same JSON for
// every type the snapshot supports, and the same schema.

#include <gtest/gtest.h>

#include "tests/integration/realtime_fixture.hpp"

using namespace trib::test;

namespace {

// Every column but the key, so that rows with different ids compare.
json::object without_id(const json::value& v) {
  json::object o = v.as_object();
  o.erase("id");
  return o;
}

// The `after` field schema of a value document.
json::value after_schema(const std::string& value) {
  json::value doc = json::parse(value);
  for (const auto& f : doc.at("schema").at("fields").as_array())
    if (f.at("field") == "after") return f.at("fields");
  return nullptr;
}

constexpr const char* columns =
  "(id, i2, i4, i8, dec, num, f4, f8, txt, ch, vc, by, b, d, t, ts, tstz, iv, js, jsb, u, "
  "ints, texts, mood)";

// The same values twice: once before the run (snapshot), once after (pgoutput).
std::string values_row(int id) {
  return "(" + std::to_string(id) +
         ", -32768, 2147483647, -9223372036854775808, -12345678901234567890.0123456789, "
         "3.14159, 1.5, -1.0000000000000002, 'Grüße 😀 \"q\" \\', 'ab', '', "
         "'\\x00ff00'::bytea, true, '1969-12-31', '23:59:59.999999', "
         "'2024-02-29 12:34:56.123456', '1999-12-31 23:59:59.5+02', "
         "'1 year 2 mons 3 days 04:05:06.5', '{\"a\": [1, 2.5, null]}', "
         "'{\"b\": {\"c\": true}}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
         "'{1,NULL,-3}', '{\"x y\",\"\",NULL}', 'happy')";
}

std::string nulls_row(int id) {
  return "(" + std::to_string(id) +
         ", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
         "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)";
}

}  // namespace

TEST_F(realtime, change_payloads_equal_snapshot_payloads_for_every_type) {
  use("values");
  sql db(db_);
  db.exec("CREATE TYPE mood AS ENUM ('sad', 'happy');"
          "CREATE TABLE t(id int PRIMARY KEY, i2 smallint, i4 int, i8 bigint, "
          "dec numeric(38,10), num numeric, f4 real, f8 double precision, txt text, ch char(5), "
          "vc varchar(10), by bytea, b boolean, d date, t time, ts timestamp, tstz timestamptz, "
          "iv interval, js json, jsb jsonb, u uuid, ints int[], texts text[], mood mood)");
  db.exec(std::string("INSERT INTO t ") + columns + " VALUES " + values_row(1) + ", " +
          nulls_row(2));
  start("full");
  std::string snap = db_ + "_public_t";
  ASSERT_TRUE(wait_entries(snap, 2)) << read_text(dir_ + "/run.log");
  db.exec(std::string("INSERT INTO t ") + columns + " VALUES " + values_row(101) + ", " +
          nulls_row(102));
  ASSERT_TRUE(wait_entries(stream("t"), 2)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");

  auto snapshot_entries = read_stream(*r_, snap);
  auto change_entries = read_stream(*r_, stream("t"));
  ASSERT_EQ(snapshot_entries.size(), 2u);
  ASSERT_EQ(change_entries.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    auto s = decode(snapshot_entries[i]);
    auto c = decode(change_entries[i]);
    EXPECT_EQ(s.op, "r");
    EXPECT_EQ(c.op, "c");
    auto expected = without_id(s.after);
    auto actual = without_id(c.after);
    ASSERT_EQ(expected.size(), 23u);
    for (const auto& kv : expected) {
      ASSERT_TRUE(actual.contains(kv.key())) << kv.key();
      EXPECT_EQ(json::serialize(kv.value()), json::serialize(actual.at(kv.key())))
        << "column " << kv.key() << " (row " << i << ")";
    }
    EXPECT_EQ(actual.size(), expected.size());
    EXPECT_EQ(json::serialize(after_schema(snapshot_entries[i].value)),
              json::serialize(after_schema(change_entries[i].value)));
  }
  // The values are real values, not nulls or markers.
  auto row = without_id(decode(change_entries[0]).after);
  EXPECT_EQ(row.at("i8").to_number<int64_t>(), INT64_MIN);
  EXPECT_EQ(row.at("dec"), "-12345678901234567890.0123456789");
  EXPECT_EQ(row.at("mood"), "happy");
}
