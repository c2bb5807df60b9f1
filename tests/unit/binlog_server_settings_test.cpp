// The binlog decoder on binlog files MariaDB 10.11 wrote under other server
// settings (tests/data/binlog/, made by capture.sh there): no column
// metadata, compressed events, minimal row images, the pre-10.1 temporal
// formats. Expected values are the literals of capture.sh's SQL.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "actors/source/binlog_cells.hpp"
#include "actors/source/binlog_decoder.hpp"
#include "messages/failure.hpp"
#include "tests/unit/binlog_capture.hpp"

namespace trib::test {
namespace {

using namespace trib::binlog;

TEST(binlog_without_metadata, matches_columns_by_position_and_takes_the_schema_s_view) {
  auto all = decode_all("no_metadata", "mysql-bin.000008");
  auto ev = rows_of(all, "plain");
  ASSERT_EQ(ev.size(), 1u);
  const table_map& m = ev[0]->map;
  EXPECT_FALSE(m.has_names);
  EXPECT_FALSE(m.has_signedness);
  EXPECT_FALSE(m.has_charsets);
  auto s = schema(
    "plain", {col("id", value_kind::uint32), col("name", value_kind::text),
              col("e", value_kind::enumeration, 0, 0, {"p", "q"}), col("la", value_kind::text)});
  row_converter conv(s, m);
  const auto& w = rows(ev[0]);
  ASSERT_EQ(w.after.size(), 2u);
  EXPECT_ROW(conv.convert(w.after[0]), cells({"4294967295", "Grüße", "q", "abc"}));
  EXPECT_ROW(conv.convert(w.after[1]), cells({"7", "\\N", "\\N", "\\N"}));

  // A subset of the columns matches through the table's full column list.
  auto subset = schema("plain", {col("la", value_kind::text), col("id", value_kind::uint32)});
  std::vector<std::string> names = {"id", "name", "e", "la"};
  row_converter by_list(subset, m, &names);
  EXPECT_ROW(by_list.convert(w.after[0]), cells({"abc", "4294967295"}));
  try {
    row_converter blind(subset, m);
    FAIL() << "guesses columns without names";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("has no column names"), std::string::npos) << e.what();
  }
}

TEST(binlog_compressed, decodes_mariadb_compressed_queries_and_rows) {
  auto all = decode_all("compressed", "mysql-bin.000010");
  std::map<event_type, int> seen;
  for (const auto& d : all) seen[d.ev.header.type]++;
  EXPECT_GT(seen[event_type::query_compressed], 0);
  EXPECT_EQ(seen[event_type::write_rows_compressed_v1], 1);
  EXPECT_EQ(seen[event_type::update_rows_compressed_v1], 1);
  EXPECT_EQ(seen[event_type::delete_rows_compressed_v1], 1);
  bool create_seen = false;
  for (const auto& d : all)
    if (auto* q = std::get_if<query_event>(&d.ev.body))
      create_seen |= q->statement == "CREATE TABLE packed (id INT PRIMARY KEY, body TEXT)";
  EXPECT_TRUE(create_seen);
  auto ev = rows_of(all, "packed");
  ASSERT_EQ(ev.size(), 3u);
  row_converter conv(
    schema("packed", {col("id", value_kind::int32), col("body", value_kind::text)}), ev[0]->map);
  std::string abc;
  for (int i = 0; i < 100; ++i) abc += "abc";
  ASSERT_EQ(rows(ev[0]).after.size(), 2u);
  EXPECT_ROW(conv.convert(rows(ev[0]).after[0]), cells({"1", abc}));
  EXPECT_ROW(conv.convert(rows(ev[0]).after[1]), cells({"2", "short"}));
  EXPECT_ROW(conv.convert(rows(ev[1]).after[0]), cells({"1", "changed"}));
  EXPECT_ROW(conv.convert(rows(ev[2]).before[0]), cells({"2", "short"}));
}

TEST(binlog_minimal_image, keeps_each_image_s_own_present_columns) {
  auto all = decode_all("minimal_image", "mysql-bin.000024");
  auto ev = rows_of(all, "slim");
  ASSERT_EQ(ev.size(), 3u);
  auto s = schema("slim", {col("id", value_kind::int32), col("a", value_kind::text),
                           col("b", value_kind::int32)});
  row_converter conv(s, ev[0]->map);
  EXPECT_ROW(conv.convert(rows(ev[0]).after[0]), cells({"1", "one", "10"}));
  // The update's before image holds the key only, its after image the
  // changed column only.
  const auto& u = rows(ev[1]);
  ASSERT_EQ(u.before.size(), 1u);
  EXPECT_TRUE(u.before[0].values[0].present);
  EXPECT_FALSE(u.before[0].values[1].present);
  EXPECT_FALSE(u.before[0].values[2].present);
  EXPECT_FALSE(u.after[0].values[0].present);
  EXPECT_TRUE(u.after[0].values[2].present);
  EXPECT_EQ(u.after[0].values[2].integer, 11u);
  EXPECT_EQ(u.before[0].values[0].integer, 1u);
  try {
    conv.convert(u.after[0]);
    FAIL() << "makes a row of a partial image";
  } catch (const error& e) {
    EXPECT_EQ(std::string(e.what()),
              "binlog: column id of binlog_capture.slim is not in the row image: set "
              "binlog_row_image=FULL on the source");
  }
  EXPECT_FALSE(rows(ev[2]).before[0].values[1].present);
}

TEST(binlog_old_temporal, decodes_pre_10_1_times_and_names_the_fractional_ones) {
  auto events = binlog_events("old_temporal");
  decoder d;
  d.set_file("mysql-bin.000036");
  std::vector<row> got;
  bool refused = false;
  auto oldtime =
    schema("oldtime", {col("id", value_kind::int32), col("t", value_kind::time),
                       col("dtm", value_kind::timestamp), col("ts", value_kind::timestamptz)});
  auto oldfrac = schema("oldfrac", {col("id", value_kind::int32), col("t3", value_kind::time, 3)});
  oldfrac.columns[1].source_type = "TIME(3)";
  for (const auto& bytes : events) {
    event ev;
    try {
      ev = d.decode(bytes);
    } catch (const error& e) {
      // The rows of the fractional table cannot be cut apart...
      EXPECT_NE(std::string(e.what()).find("ALTER TABLE binlog_capture.oldfrac FORCE"),
                std::string::npos)
        << e.what();
      refused = true;
      continue;
    }
    if (auto* m = std::get_if<table_map>(&ev.body)) {
      if (m->table != "oldfrac") continue;
      // ...and the converter, built at its TABLE_MAP, says so first.
      try {
        row_converter conv(oldfrac, *m);
        ADD_FAILURE() << "accepts TIME(3) in the old format";
      } catch (const error& e) {
        EXPECT_NE(std::string(e.what()).find("column t3 of binlog_capture.oldfrac (TIME(3)"),
                  std::string::npos)
          << e.what();
      }
    }
    if (auto* r = std::get_if<rows_event>(&ev.body)) {
      row_converter conv(oldtime, *d.table(r->table_id));
      for (const auto& img : r->after) got.push_back(conv.convert(img));
    }
  }
  EXPECT_TRUE(refused);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_ROW(got[0], cells({"1", "-838:59:59", "1000-01-01 00:00:00", "1970-01-01 00:00:01+00"}));
  EXPECT_ROW(got[1], cells({"2", "12:00:01", "2024-02-29 12:00:00", "2024-01-02 03:04:05+00"}));
  EXPECT_ROW(got[2], cells({"3", "-00:00:01", "9999-12-31 23:59:59", "\\N"}));
}

}  // namespace
}  // namespace trib::test
