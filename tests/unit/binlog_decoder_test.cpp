// The binlog decoder on events MariaDB 10.11 wrote (tests/data/binlog/,
// made by capture.sh there): framing, table maps, rows events of every type
// of the README's MariaDB table, transactions, a DDL. Expected values are the
// literals of capture.sh's SQL, spelled as the snapshot's text protocol
// spells them.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "actors/source/binlog_cells.hpp"
#include "actors/source/binlog_decoder.hpp"
#include "messages/failure.hpp"
#include "tests/unit/binlog_capture.hpp"

namespace trib::test {
namespace {

using namespace trib::binlog;

class captured_types : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    all_ = new std::vector<decoded>(decode_all("types", "mysql-bin.000006"));
  }
  static void TearDownTestSuite() { delete all_; }
  static std::vector<decoded>* all_;
};
std::vector<decoded>* captured_types::all_ = nullptr;

TEST_F(captured_types, frames_every_event_and_knows_the_format) {
  const auto& all = *all_;
  ASSERT_GT(all.size(), 20u);
  const auto* f = std::get_if<format_description_event>(&all[0].ev.body);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->mariadb());
  EXPECT_EQ(f->checksum, checksum_alg::crc32);
  EXPECT_EQ(f->binlog_version, 4);
  EXPECT_TRUE(std::holds_alternative<gtid_list_event>(all[1].ev.body));
  // The file ends by rotating to the next one.
  const auto* r = std::get_if<rotate_event>(&all.back().ev.body);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->file.rfind("mysql-bin.", 0), 0u) << r->file;
  EXPECT_GT(file_sequence(r->file), 1u);
  EXPECT_EQ(r->position, 4u);
  // Positions chain: each event starts where the previous one ended.
  uint64_t pos = 4;
  for (const auto& d : all) {
    EXPECT_EQ(d.ev.header.start_pos(), pos) << to_string(d.ev.header.type);
    pos = d.ev.header.log_pos;
  }
}

TEST_F(captured_types, keeps_table_maps_with_full_metadata) {
  auto ev = rows_of(*all_, "strs");
  ASSERT_FALSE(ev.empty());
  const table_map& m = ev[0]->map;
  EXPECT_EQ(m.database, "binlog_capture");
  ASSERT_EQ(m.columns.size(), 19u);
  EXPECT_TRUE(m.has_names);
  EXPECT_EQ(m.columns[1].name, "c");
  EXPECT_EQ(m.columns[1].type, column_type::string);
  EXPECT_EQ(m.columns[1].real_type, column_type::string);
  EXPECT_EQ(m.columns[1].max_length, 20u);    // CHAR(5) in utf8mb4
  EXPECT_EQ(m.columns[3].max_length, 1200u);  // VARCHAR(300): a 2-byte length
  EXPECT_EQ(m.columns[13].real_type, column_type::enum_);
  EXPECT_EQ(m.columns[13].labels, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(m.columns[14].real_type, column_type::set);
  EXPECT_EQ(m.columns[14].labels, (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(m.columns[17].bits, 64);
  EXPECT_EQ(m.columns[18].geometry_type, 1u);  // POINT
  EXPECT_EQ(m.columns[4].collation, 8u);       // latin1_swedish_ci
  EXPECT_EQ(m.columns[5].collation, binary_collation);
  EXPECT_EQ(m.primary_key, (std::vector<uint32_t>{0}));
  EXPECT_FALSE(m.columns[0].nullable);
  EXPECT_TRUE(m.columns[1].nullable);

  const table_map& ints = rows_of(*all_, "ints")[0]->map;
  ASSERT_TRUE(ints.has_signedness);
  EXPECT_EQ(ints.columns[1].unsigned_flag, 0);
  EXPECT_EQ(ints.columns[2].unsigned_flag, 1);
  EXPECT_EQ(ints.columns[10].unsigned_flag, 1);
  const table_map& nums = rows_of(*all_, "nums")[0]->map;
  EXPECT_EQ(nums.columns[1].precision, 38);
  EXPECT_EQ(nums.columns[1].scale, 10);
  const table_map& times = rows_of(*all_, "times")[0]->map;
  EXPECT_EQ(times.columns[3].real_type, column_type::time2);
  EXPECT_EQ(times.columns[3].fsp, 3);
  EXPECT_EQ(times.columns[8].real_type, column_type::timestamp2);
}

table_schema ints_schema() {
  return schema(
    "ints",
    {col("id", value_kind::int32), col("ti", value_kind::int8), col("tu", value_kind::uint8),
     col("si", value_kind::int16), col("su", value_kind::uint16), col("mi", value_kind::int32),
     col("mu", value_kind::uint32), col("i", value_kind::int32), col("iu", value_kind::uint32),
     col("bi", value_kind::int64), col("bu", value_kind::uint64)});
}

TEST_F(captured_types, decodes_signed_and_unsigned_integers_at_their_limits) {
  auto ev = rows_of(*all_, "ints");
  ASSERT_GE(ev.size(), 1u);
  const auto& w = rows(ev[0]);
  EXPECT_EQ(w.kind, rows_kind::write);
  ASSERT_EQ(w.after.size(), 4u);  // one multi-row INSERT, one event
  row_converter conv(ints_schema(), ev[0]->map);
  EXPECT_ROW(conv.convert(w.after[0]),
             cells({"1", "-128", "255", "-32768", "65535", "-8388608", "16777215", "-2147483648",
                    "4294967295", "-9223372036854775808", "18446744073709551615"}));
  EXPECT_ROW(conv.convert(w.after[1]), cells({"2", "127", "0", "32767", "0", "8388607", "0",
                                              "2147483647", "0", "9223372036854775807", "0"}));
  EXPECT_ROW(conv.convert(w.after[2]),
             cells({"3", "\\N", "\\N", "\\N", "\\N", "\\N", "\\N", "\\N", "\\N", "\\N", "\\N"}));
  EXPECT_ROW(conv.convert(w.after[3]),
             cells({"4", "-1", "1", "-1", "1", "-1", "1", "-1", "1", "-1", "1"}));
}

TEST_F(captured_types, decodes_decimals_and_floats_as_the_server_prints_them) {
  auto ev = rows_of(*all_, "nums");
  ASSERT_EQ(ev.size(), 1u);
  row_converter conv(
    schema("nums", {col("id", value_kind::int32), col("d38", value_kind::decimal, 38, 10),
                    col("d52", value_kind::decimal, 5, 2), col("d10", value_kind::decimal, 10, 0),
                    col("d65", value_kind::decimal, 65, 30), col("f", value_kind::float32),
                    col("db", value_kind::float64)}),
    ev[0]->map);
  const auto& w = rows(ev[0]);
  ASSERT_EQ(w.after.size(), 4u);
  EXPECT_ROW(conv.convert(w.after[0]),
             cells({"1", "-1234567890123456789012345678.0123456789", "123.45", "1234567890",
                    "12345678901234567890123456789012345.123456789012345678901234567890", "1.5",
                    "-1.0000000000000002"}));
  EXPECT_ROW(conv.convert(w.after[1]),
             cells({"2", "-0.0000000001", "-0.05", "-9", "-0.000000000000000000000000000001", "0.1",
                    "1e300"}));
  EXPECT_ROW(conv.convert(w.after[2]),
             cells({"3", "0.0000000000", "0.00", "0", "0.000000000000000000000000000000",
                    "-0.000000000325", "5e-324"}));
  EXPECT_ROW(conv.convert(w.after[3]),
             cells({"4", "9999999999999999999999999999.9999999999", "-999.99", "-9999999999",
                    "1.000000000000000000000000000000", "3.4e38", "1.2345678901234568e17"}));
}

TEST_F(captured_types, decodes_dates_times_and_fractions) {
  auto ev = rows_of(*all_, "times");
  ASSERT_EQ(ev.size(), 1u);
  row_converter conv(
    schema("times",
           {col("id", value_kind::int32), col("dt", value_kind::date), col("t0", value_kind::time),
            col("t3", value_kind::time, 3), col("t6", value_kind::time, 6),
            col("dtm", value_kind::timestamp), col("dtm2", value_kind::timestamp, 2),
            col("dtm6", value_kind::timestamp, 6), col("ts", value_kind::timestamptz),
            col("ts6", value_kind::timestamptz, 6), col("y", value_kind::year)}),
    ev[0]->map);
  const auto& w = rows(ev[0]);
  ASSERT_EQ(w.after.size(), 4u);
  EXPECT_ROW(conv.convert(w.after[0]),
             cells({"1", "1000-01-01", "-838:59:59", "-00:00:00.001", "838:59:59.999999",
                    "1000-01-01 00:00:00", "1969-12-31 23:59:59.99", "1969-12-31 23:59:59.999999",
                    "1970-01-01 00:00:01+00", "2038-01-19 03:14:07.999999+00", "1901"}));
  EXPECT_ROW(conv.convert(w.after[1]),
             cells({"2", "9999-12-31", "00:00:00", "12:34:56.789", "-01:02:03.000004",
                    "9999-12-31 23:59:59", "2024-02-29 12:00:00.50", "2024-02-29 12:00:00.000001",
                    "2024-01-02 03:04:05+00", "2001-09-09 01:46:40.500000+00", "2155"}));
  EXPECT_ROW(conv.convert(w.after[2]),
             cells({"3", "0000-00-00", "\\N", "\\N", "\\N", "0000-00-00 00:00:00", "\\N", "\\N",
                    "\\N", "\\N", "0000"}));
  EXPECT_ROW(conv.convert(w.after[3]),
             cells({"4", "\\N", "-00:00:01", "00:00:00.500", "-838:59:59.000000", "\\N", "\\N",
                    "\\N", "\\N", "\\N", "\\N"}));
}

table_schema strs_schema() {
  return schema(
    "strs",
    {col("id", value_kind::int32), col("c", value_kind::text), col("vc", value_kind::text),
     col("vl", value_kind::text), col("la", value_kind::text), col("bn", value_kind::bytes),
     col("vb", value_kind::bytes), col("tt", value_kind::text), col("tx", value_kind::text),
     col("mt", value_kind::text), col("bl", value_kind::bytes), col("lb", value_kind::bytes),
     col("j", value_kind::json), col("e", value_kind::enumeration, 0, 0, {"a", "b", "c"}),
     col("s", value_kind::set, 0, 0, {"x", "y", "z"}), col("b1", value_kind::bits, 1),
     col("b10", value_kind::bits, 10), col("b64", value_kind::bits, 64),
     col("g", value_kind::bytes)});
}

std::string ae300() {
  std::string s;
  for (int i = 0; i < 300; ++i) s += "ä";
  return s;
}

TEST_F(captured_types, decodes_strings_in_their_charsets_blobs_json_enum_set_bit_geometry) {
  auto ev = rows_of(*all_, "strs");
  ASSERT_GE(ev.size(), 1u);
  row_converter conv(strs_schema(), ev[0]->map);
  const auto& w = rows(ev[0]);
  ASSERT_EQ(w.after.size(), 3u);
  using namespace std::string_literals;
  std::string point = "\0\0\0\0\x01\x01\0\0\0"s + "\0\0\0\0\0\0\xf0\x3f"s + "\0\0\0\0\0\0\0\x40"s;
  EXPECT_ROW(conv.convert(w.after[0]),
             cells({"1", "ab", "Grüße, 世界 😀", ae300(), "café", "\0\x01\0\0"s, "\0\xff\0"s, "tiny",
                    "text", "medium", "\x01\x02", "\xff", "{\"k\": [1, 2]}", "b", "x,z", "1",
                    "1000000001", std::string(64, '1'), point}));
  EXPECT_ROW(conv.convert(w.after[1]),
             cells({"2", "", "", "", "", "\0\0\0\0"s, "", "", "", "", "", "", "[]", "a", "", "0",
                    "0000000000", std::string(64, '0'), "\\N"}));
  row nulls = conv.convert(w.after[2]);
  EXPECT_EQ(nulls.cells[0], make_cell("3"));
  for (size_t i = 1; i < nulls.cells.size(); ++i) EXPECT_TRUE(nulls.cells[i].null) << i;
}

TEST_F(captured_types, decodes_a_transaction_of_updates_a_key_update_and_deletes) {
  auto ev = rows_of(*all_, "ints");
  ASSERT_EQ(ev.size(), 4u);  // the insert, two updates, one delete
  row_converter conv(ints_schema(), ev[1]->map);
  const auto& u = rows(ev[1]);
  EXPECT_EQ(u.kind, rows_kind::update);
  ASSERT_EQ(u.before.size(), 1u);
  ASSERT_EQ(u.after.size(), 1u);
  EXPECT_ROW(conv.convert(u.before[0]),
             cells({"4", "-1", "1", "-1", "1", "-1", "1", "-1", "1", "-1", "1"}));
  EXPECT_ROW(conv.convert(u.after[0]),
             cells({"4", "5", "1", "-1", "1", "-1", "1", "-1", "1", "-1", "1"}));
  const auto& k = rows(ev[2]);
  EXPECT_EQ(conv.convert(k.before[0]).cells[0], make_cell("4"));
  EXPECT_EQ(conv.convert(k.after[0]).cells[0], make_cell("40"));
  const auto& d = rows(ev[3]);
  EXPECT_EQ(d.kind, rows_kind::remove);
  ASSERT_EQ(d.before.size(), 2u);  // one statement, every row
  EXPECT_TRUE(d.after.empty());
  EXPECT_ROW(conv.convert(d.before[0]), cells({"2", "127", "0", "32767", "0", "8388607", "0",
                                               "2147483647", "0", "9223372036854775807", "0"}));
  EXPECT_EQ(conv.convert(d.before[1]).cells[0], make_cell("3"));
  EXPECT_TRUE(d.end_of_statement());

  // All three statements are one transaction: one GTID, committed by one XID.
  EXPECT_EQ(ev[1]->trx.gtid, ev[3]->trx.gtid);
  EXPECT_FALSE(ev[3]->trx.committed);
  const decoded* xid = nullptr;
  for (auto& x : *all_)
    if (&x > ev[3] && !xid && std::holds_alternative<xid_event>(x.ev.body)) xid = &x;
  ASSERT_NE(xid, nullptr);
  EXPECT_TRUE(xid->trx.committed);
  EXPECT_EQ(xid->trx.gtid, ev[3]->trx.gtid);
  EXPECT_EQ(xid->trx.end_pos, xid->ev.header.log_pos);
  EXPECT_EQ(xid->trx.commit_key(), (uint64_t{6} << 32) | xid->trx.begin_pos);
  EXPECT_EQ(xid->trx.release_key(), (uint64_t{6} << 32) | xid->ev.header.log_pos);
  EXPECT_EQ(xid->trx.file, "mysql-bin.000006");
  EXPECT_EQ(xid->trx.server_id, 1u);
  EXPECT_LT(xid->trx.begin_pos, ev[1]->ev.header.start_pos());
}

TEST_F(captured_types, a_rolled_back_transaction_leaves_nothing_and_a_ddl_is_a_query) {
  for (const auto& d : *all_) {
    if (auto* r = std::get_if<rows_event>(&d.ev.body)) {
      for (const auto& img : r->after)
        for (const auto& v : img.values) EXPECT_NE(v.text, "rolled");
    }
  }
  const query_event* alter = nullptr;
  const decoded* alter_event = nullptr;
  for (const auto& d : *all_)
    if (auto* q = std::get_if<query_event>(&d.ev.body))
      if (q->statement.rfind("ALTER TABLE", 0) == 0) alter = q, alter_event = &d;
  ASSERT_NE(alter, nullptr);
  EXPECT_EQ(alter->statement, "ALTER TABLE nokey ADD COLUMN c DATE NULL");
  EXPECT_EQ(alter->database, "binlog_capture");
  // A DDL is a group of its own: committed by its one QUERY event.
  EXPECT_TRUE(alter_event->trx.committed);
  EXPECT_EQ(alter_event->trx.end_pos, alter_event->ev.header.log_pos);

  // Rows before the DDL have two columns, rows after it three.
  auto ev = rows_of(*all_, "nokey");
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0]->map.columns.size(), 2u);
  EXPECT_EQ(ev[1]->map.columns.size(), 3u);
  row_converter before(schema("nokey", {col("a", value_kind::int32), col("b", value_kind::text)}),
                       ev[0]->map);
  const auto& w = rows(ev[0]);
  ASSERT_EQ(w.after.size(), 3u);
  EXPECT_ROW(before.convert(w.after[0]), cells({"1", "one"}));
  EXPECT_ROW(before.convert(w.after[2]), cells({"2", "\\N"}));
  row_converter after(schema("nokey", {col("a", value_kind::int32), col("b", value_kind::text),
                                       col("c", value_kind::date)}),
                      ev[1]->map);
  EXPECT_ROW(after.convert(rows(ev[1]).after[0]), cells({"3", "three", "2024-05-06"}));
  const auto& del = rows(ev[2]);
  ASSERT_EQ(del.before.size(), 2u);
  EXPECT_ROW(after.convert(del.before[1]), cells({"1", "one", "\\N"}));
}

TEST_F(captured_types, a_schema_of_another_time_is_a_clear_error) {
  auto ev = rows_of(*all_, "nokey");
  auto s = schema(
    "nokey", {col("a", value_kind::int32), col("b", value_kind::text), col("c", value_kind::date)});
  try {
    row_converter conv(s, ev[0]->map);  // the map from before the ALTER
    FAIL() << "matches a column the map does not have";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data);
    EXPECT_EQ(std::string(e.what()), "binlog: TABLE_MAP of binlog_capture.nokey has no column c");
  }
  auto wrong = schema("nokey", {col("a", value_kind::date)});
  try {
    row_converter conv(wrong, ev[0]->map);
    FAIL() << "turns an INT into a date";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("column a of binlog_capture.nokey"), std::string::npos)
      << e.what();
  }
}

TEST(binlog_decoder, forgets_table_maps_when_their_transaction_ends) {
  auto events = binlog_events("types");
  decoder d;
  d.set_file("mysql-bin.000001");
  uint64_t id = 0;
  for (const auto& bytes : events) {
    auto ev = d.decode(bytes);
    if (auto* m = std::get_if<table_map>(&ev.body)) id = m->table_id;
    if (std::holds_alternative<rows_event>(ev.body)) {
      EXPECT_NE(d.table(id), nullptr);
    }
    if (std::holds_alternative<xid_event>(ev.body)) {
      EXPECT_EQ(d.table(id), nullptr);
    }
  }
}

}  // namespace
}  // namespace trib::test
