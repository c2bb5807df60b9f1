// The handoff from the per-table snapshots of a MariaDB `full` run to the
// binlog: which changes each table's snapshot already holds.

#include <gtest/gtest.h>

#include "actors/source/binlog_handoff.hpp"
#include "messages/failure.hpp"

namespace trib {
namespace {

source_position at(const std::string& file, uint64_t pos) {
  source_position p;
  p.binlog_file = file;
  p.binlog_pos = pos;
  return p;
}

TEST(snapshot_handoff, orders_positions_by_file_number_then_offset) {
  snapshot_handoff h;
  h.add(0, at("mysql-bin.000010", 4));
  EXPECT_TRUE(h.in_snapshot(0, "mysql-bin.000009", 900));
  EXPECT_FALSE(h.in_snapshot(0, "mysql-bin.000010", 4));
  // Past six digits the extension grows a digit; numbers still order.
  snapshot_handoff wide;
  wide.add(0, at("b.1000000", 4));
  EXPECT_TRUE(wide.in_snapshot(0, "b.999999", 7000));
}

TEST(snapshot_handoff, starts_at_the_earliest_table_position) {
  snapshot_handoff h;
  EXPECT_FALSE(h.start());
  h.add(0, at("mysql-bin.000003", 500));
  h.add(1, at("mysql-bin.000002", 9000));
  h.add(2, at("mysql-bin.000003", 100));
  ASSERT_TRUE(h.start());
  EXPECT_EQ(h.start()->binlog_file, "mysql-bin.000002");
  EXPECT_EQ(h.start()->binlog_pos, 9000u);
}

TEST(snapshot_handoff, drops_a_tables_changes_logged_before_its_own_snapshot_only) {
  snapshot_handoff h;
  h.add(0, at("mysql-bin.000002", 1000));
  h.add(1, at("mysql-bin.000002", 3000));
  // A transaction at 2000 is in table 1's snapshot, not in table 0's.
  EXPECT_FALSE(h.in_snapshot(0, "mysql-bin.000002", 2000));
  EXPECT_TRUE(h.in_snapshot(1, "mysql-bin.000002", 2000));
  // One that begins exactly at a position came after that snapshot.
  EXPECT_FALSE(h.in_snapshot(1, "mysql-bin.000002", 3000));
  EXPECT_TRUE(h.in_snapshot(0, "mysql-bin.000002", 999));
  // A table outside the snapshot keeps everything.
  EXPECT_FALSE(h.in_snapshot(7, "mysql-bin.000001", 4));
}

TEST(snapshot_handoff, is_passed_once_beyond_every_table_position) {
  snapshot_handoff h;
  h.add(0, at("mysql-bin.000002", 1000));
  h.add(1, at("mysql-bin.000002", 3000));
  EXPECT_FALSE(h.passed("mysql-bin.000002", 2000));
  EXPECT_TRUE(h.passed("mysql-bin.000002", 3000));
  EXPECT_TRUE(h.passed("mysql-bin.000003", 4));
}

TEST(snapshot_handoff, a_table_whose_reader_began_again_keeps_the_later_position) {
  snapshot_handoff h;
  h.add(0, at("mysql-bin.000002", 1000));
  h.add(0, at("mysql-bin.000002", 1500));
  h.add(0, at("mysql-bin.000001", 8000));
  EXPECT_TRUE(h.in_snapshot(0, "mysql-bin.000002", 1200));
  EXPECT_EQ(h.start()->binlog_pos, 1500u);
}

row key_row(const char* id) {
  row r;
  cell c;
  c.null = id == nullptr;
  if (id) c.text = id;
  r.cells.push_back(c);
  return r;
}

TEST(snapshot_handoff, a_split_table_decides_each_image_by_the_range_of_its_key) {
  snapshot_handoff h;
  // Ranges of column 0: (-inf, 100) read at 000002:500, [100, 200) at
  // 000002:900, [200, +inf) at 000003:50.
  h.add_range(7, 0, std::nullopt, 100, at("mysql-bin.000002", 500));
  h.add_range(7, 0, 100, 200, at("mysql-bin.000002", 900));
  h.add_range(7, 0, 200, std::nullopt, at("mysql-bin.000003", 50));
  EXPECT_TRUE(h.by_range(7));
  EXPECT_FALSE(h.by_range(8));
  ASSERT_TRUE(h.start());
  EXPECT_EQ(h.start()->binlog_pos, 500u);
  // A transaction at 000002:700: after the first range's snapshot, before
  // the other two.
  EXPECT_FALSE(h.in_snapshot(7, key_row("5"), "mysql-bin.000002", 700));
  EXPECT_FALSE(h.in_snapshot(7, key_row("-9000000000"), "mysql-bin.000002", 700));
  EXPECT_TRUE(h.in_snapshot(7, key_row("100"), "mysql-bin.000002", 700));
  EXPECT_TRUE(h.in_snapshot(7, key_row("199"), "mysql-bin.000002", 700));
  EXPECT_TRUE(h.in_snapshot(7, key_row("9223372036854775807"), "mysql-bin.000002", 700));
  // The first range also holds NULL split-keys.
  EXPECT_FALSE(h.in_snapshot(7, key_row(nullptr), "mysql-bin.000002", 700));
  EXPECT_TRUE(h.in_snapshot(7, key_row(nullptr), "mysql-bin.000002", 400));
  // Past every range's position, everything is kept.
  EXPECT_FALSE(h.in_snapshot(7, key_row("250"), "mysql-bin.000003", 50));
  EXPECT_FALSE(h.passed("mysql-bin.000002", 950));
  EXPECT_TRUE(h.passed("mysql-bin.000003", 50));
  // A range given again keeps the later position (a reader that began again).
  h.add_range(7, 0, std::nullopt, 100, at("mysql-bin.000002", 800));
  EXPECT_TRUE(h.in_snapshot(7, key_row("5"), "mysql-bin.000002", 700));
  EXPECT_THROW(h.in_snapshot(7, key_row("12x"), "mysql-bin.000002", 700), error);
}

TEST(snapshot_handoff, a_whole_table_ignores_the_image) {
  snapshot_handoff h;
  h.add(1, at("mysql-bin.000002", 500));
  EXPECT_TRUE(h.in_snapshot(1, key_row("5"), "mysql-bin.000002", 400));
  EXPECT_FALSE(h.in_snapshot(1, key_row("5"), "mysql-bin.000002", 500));
  EXPECT_FALSE(h.in_snapshot(2, key_row("5"), "mysql-bin.000002", 400));
}

}  // namespace
}  // namespace trib
