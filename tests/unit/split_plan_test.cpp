// Split-key range arithmetic: the inner bounds of n ranges, and when a split
// table's snapshot counts as finished (every range's checkpoint done).

#include <gtest/gtest.h>

#include <limits>
#include <map>

#include "actors/apply/envelope.hpp"
#include "actors/control/split_plan.hpp"
#include "messages/failure.hpp"

using namespace trib;

namespace {

std::string position(bool done, uint64_t rows) {
  snapshot_position p;
  p.done = done;
  p.rows_done = rows;
  return encode_snapshot_checkpoint(p);
}

}  // namespace

TEST(split_bounds, divides_the_span_into_equal_ranges) {
  EXPECT_EQ(split_bounds(1, 100, 4), (std::vector<int64_t>{26, 51, 76}));
  EXPECT_EQ(split_bounds(0, 9, 2), (std::vector<int64_t>{5}));
  EXPECT_EQ(split_bounds(-10, 9, 4), (std::vector<int64_t>{-5, 0, 5}));
}

TEST(split_bounds, gives_fewer_ranges_than_asked_when_the_span_is_short) {
  EXPECT_EQ(split_bounds(5, 6, 8), (std::vector<int64_t>{6}));
  EXPECT_TRUE(split_bounds(7, 7, 4).empty());
  EXPECT_TRUE(split_bounds(1, 100, 1).empty());
}

TEST(split_bounds, spans_the_whole_int64_range_without_overflow) {
  auto lo = std::numeric_limits<int64_t>::min();
  auto hi = std::numeric_limits<int64_t>::max();
  auto b = split_bounds(lo, hi, 4);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_LT(lo, b[0]);
  EXPECT_LT(b[0], b[1]);
  EXPECT_LT(b[1], b[2]);
  EXPECT_LT(b[2], hi);
  EXPECT_EQ(b[1], 0);
}

TEST(snapshot_finished, an_unsplit_table_is_finished_when_its_own_field_is_done) {
  std::map<std::string, std::string> cp{{"s", position(false, 10)}};
  EXPECT_FALSE(snapshot_finished(cp, "s"));
  cp["s"] = position(true, 20);
  EXPECT_TRUE(snapshot_finished(cp, "s"));
  EXPECT_FALSE(snapshot_finished({}, "s"));
}

TEST(snapshot_finished, a_split_table_is_finished_when_every_range_is_done) {
  std::map<std::string, std::string> cp{
    {"s#ranges", R"({"split_key":"id","bounds":[100,200]})"},
    {"s#1", position(true, 99)},
    {"s#2", position(true, 100)},
  };
  EXPECT_FALSE(snapshot_finished(cp, "s")) << "range 3 has no checkpoint";
  cp["s#3"] = position(false, 5);
  EXPECT_FALSE(snapshot_finished(cp, "s")) << "range 3 is not done";
  cp["s#3"] = position(true, 7);
  EXPECT_TRUE(snapshot_finished(cp, "s"));
  // Another stream's ranges say nothing of this one.
  EXPECT_FALSE(snapshot_finished(cp, "t"));
}

TEST(snapshot_finished, a_malformed_stored_plan_is_bad_data) {
  std::map<std::string, std::string> cp{{"s#ranges", "{not json"}};
  try {
    snapshot_finished(cp, "s");
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data);
    EXPECT_NE(std::string(e.what()).find("split-key plan"), std::string::npos);
  }
}

TEST(split_bounds, rise_strictly_inside_the_span_for_any_range_count) {
  for (int64_t lo : {-1000, -7, -1, 0, 3}) {
    for (int64_t span : {1, 2, 3, 9, 10, 11, 999}) {
      for (size_t n = 1; n <= 12; ++n) {
        auto hi = lo + span;
        auto b = split_bounds(lo, hi, n);
        EXPECT_EQ(b.size() + 1, std::min<size_t>(n, static_cast<size_t>(span + 1)));
        for (size_t k = 0; k < b.size(); ++k) {
          EXPECT_GT(b[k], k == 0 ? lo : b[k - 1]) << lo << ".." << hi << " / " << n;
          EXPECT_LE(b[k], hi);
        }
      }
    }
  }
}

namespace trib {
namespace {

TEST(splits_in_full, only_where_readers_share_an_exported_snapshot) {
  EXPECT_TRUE(splits_in_full(source_kind::postgresql));
  // One consistent snapshot per table, whole: docs/binlog.md.
  EXPECT_FALSE(splits_in_full(source_kind::mariadb));
  EXPECT_FALSE(splits_in_full(source_kind::mysql));
}

TEST(splits_in_full, mariadb_splits_a_table_whose_split_key_identifies_its_rows) {
  table_schema t;
  t.id = table_id{"db", "", "t"};
  for (const char* name : {"id", "region", "v"}) {
    column_info c;
    c.name = name;
    c.kind = value_kind::int64;
    c.not_null = true;
    t.columns.push_back(c);
  }
  t.primary_key = {"region", "id"};
  t.split_key = "id";
  EXPECT_TRUE(splits_in_full(source_kind::mariadb, t));
  t.split_key = "region";
  EXPECT_TRUE(splits_in_full(source_kind::mysql, t));
  // A value column may move a row between ranges under the same key.
  t.split_key = "v";
  EXPECT_FALSE(splits_in_full(source_kind::mariadb, t));
  EXPECT_TRUE(splits_in_full(source_kind::postgresql, t));
  // Without a primary key, the first NOT NULL unique key identifies rows.
  t.primary_key.clear();
  t.unique_keys = {{"v"}};
  EXPECT_TRUE(splits_in_full(source_kind::mariadb, t));
}

}  // namespace
}  // namespace trib
