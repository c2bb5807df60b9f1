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

// ALTER COLUMN ... TYPE, also a modifier change alone, mid-realtime: a schema
// dump entry between, the row before keeps its old types, the row after has
// the new ones exactly as a snapshot of the altered table writes them.
TEST_F(realtime, a_type_change_appends_a_schema_dump_and_later_values_use_the_new_type) {
  use("types");
  sql db(db_);
  db.exec("CREATE TABLE t(id int PRIMARY KEY, n int, s text, amount numeric(10,2), "
          "vc varchar(10))");
  start("realtime");
  auto schema = "replicate_io_replication_schema_default_" + id_;
  ASSERT_EQ(stream_length(*r_, schema), 1);
  db.exec("INSERT INTO t VALUES (1, 7, '42', 12.34, 'short')");
  ASSERT_TRUE(wait_entries(stream("t"), 1)) << read_text(dir_ + "/run.log");
  db.exec("ALTER TABLE t ALTER COLUMN n TYPE bigint, ALTER COLUMN s TYPE int USING s::int, "
          "ALTER COLUMN amount TYPE numeric(12,4), ALTER COLUMN vc TYPE varchar(40)");
  db.exec("INSERT INTO t VALUES (2, 9000000000, 43, 12345678.1234, 'longer than ten chars')");
  ASSERT_TRUE(wait_entries(stream("t"), 2)) << read_text(dir_ + "/run.log");
  ASSERT_TRUE(wait_entries(schema, 2)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_NE(read_text(dir_ + "/run.log").find("amount NUMERIC(10,2) -> NUMERIC(12,4)"),
            std::string::npos)
    << read_text(dir_ + "/run.log");

  // The dump between names the new types; the one before the old.
  auto dumps = read_stream(*r_, schema);
  ASSERT_EQ(dumps.size(), 2u);
  EXPECT_NE(dumps[0].value.find("NUMERIC(10,2)"), std::string::npos) << dumps[0].value;
  EXPECT_EQ(dumps[0].value.find("NUMERIC(12,4)"), std::string::npos) << dumps[0].value;
  EXPECT_NE(dumps[1].value.find("NUMERIC(12,4)"), std::string::npos) << dumps[1].value;
  EXPECT_NE(dumps[1].value.find("BIGINT"), std::string::npos) << dumps[1].value;
  EXPECT_NE(dumps[1].value.find("CHARACTER VARYING(40)"), std::string::npos) << dumps[1].value;
  auto changes_t = read_stream(*r_, stream("t"));
  ASSERT_EQ(changes_t.size(), 2u);
  // The dump entry lies between the two changes.
  auto ms = [](const std::string& id) { return std::stoull(id.substr(0, id.find('-'))); };
  EXPECT_LE(ms(changes_t[0].id), ms(dumps[1].id));
  EXPECT_LE(ms(dumps[1].id), ms(changes_t[1].id));

  auto before = decode(changes_t[0]);
  EXPECT_EQ(before.after.at("s"), "42");  // text then
  EXPECT_EQ(before.after.at("amount"), "12.34");
  auto after = decode(changes_t[1]);
  EXPECT_EQ(after.after.at("s"), 43);  // int now
  EXPECT_EQ(after.after.at("n").to_number<int64_t>(), 9000000000);
  EXPECT_EQ(after.after.at("amount"), "12345678.1234");

  // A snapshot of the altered table writes row 2 the same way.
  std::string snap_id = "rt_types_snapshot";
  auto res = run_tributary("snapshot " + dir_ + "/src.yaml " + dir_ + "/dst.yaml --id " +
                           snap_id + " --data-dir " + dir_ + "/snapdata");
  delete_keys(*r_, "replicate_io_*_" + snap_id);
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto snapshot_entries = read_stream(*r_, db_ + "_public_t");
  ASSERT_EQ(snapshot_entries.size(), 2u);
  const entry* row2 = nullptr;
  for (const auto& e : snapshot_entries)
    if (decode(e).after.at("id") == 2) row2 = &e;
  ASSERT_NE(row2, nullptr);
  EXPECT_EQ(json::serialize(decode(*row2).after), json::serialize(after.after));
  EXPECT_EQ(json::serialize(after_schema(row2->value)),
            json::serialize(after_schema(changes_t[1].value)));
  // And not the way the table was before the change.
  EXPECT_NE(json::serialize(after_schema(changes_t[0].value)),
            json::serialize(after_schema(changes_t[1].value)));
}
