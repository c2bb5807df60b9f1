// Trimming's pure half: stream IDs, XINFO GROUPS and XPENDING replies as
// Redis 7.0 gives them, the point an ACKED trim may cut below, and when a
// writer trims.

#include <gtest/gtest.h>

#include "actors/sink/stream_trim.hpp"

using namespace trib;

namespace {

using kind = redis_reply::kind;

redis_reply str(const std::string& s) { return {kind::string, s, 0, {}}; }
redis_reply num(long long n) { return {kind::integer, "", n, {}}; }
redis_reply nil() { return {kind::nil, "", 0, {}}; }
redis_reply arr(std::vector<redis_reply> e) { return {kind::array, "", 0, std::move(e)}; }

// One group of XINFO GROUPS in Redis 7.0's shape.
redis_reply group(const std::string& name, long long pending, const std::string& last) {
  return arr({str("name"), str(name), str("consumers"), num(1), str("pending"), num(pending),
              str("last-delivered-id"), str(last), str("entries-read"), num(3), str("lag"),
              num(0)});
}

}  // namespace

TEST(stream_trim, ids_parse_order_and_step) {
  auto a = parse_stream_id("1700000000000-5");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ms, 1700000000000u);
  EXPECT_EQ(a->seq, 5u);
  EXPECT_EQ(parse_stream_id("7")->str(), "7-0");
  EXPECT_FALSE(parse_stream_id(""));
  EXPECT_FALSE(parse_stream_id("1-"));
  EXPECT_FALSE(parse_stream_id("x-1"));
  EXPECT_TRUE(stream_id({1, 9}) < stream_id({2, 0}));
  EXPECT_FALSE(stream_id({2, 0}) < stream_id({1, 9}));
  EXPECT_EQ(stream_id({1, 5}).next().str(), "1-6");
  EXPECT_EQ(stream_id({1, UINT64_MAX}).next().str(), "2-0");
}

TEST(stream_trim, xinfo_groups_and_xpending_replies_read_as_positions) {
  auto groups = parse_xinfo_groups(arr({group("fast", 0, "5-3"), group("slow", 2, "4-0")}));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].name, "fast");
  EXPECT_EQ(groups[0].last_delivered.str(), "5-3");
  EXPECT_EQ(groups[1].pending, 2u);
  EXPECT_TRUE(parse_xinfo_groups(arr({})).empty());
  EXPECT_THROW(parse_xinfo_groups(str("nope")), error);
  EXPECT_THROW(parse_xinfo_groups(arr({arr({str("name"), str("g")})})), error);

  EXPECT_FALSE(parse_xpending_oldest(arr({num(0), nil(), nil(), nil()})));
  auto oldest = parse_xpending_oldest(
    arr({num(2), str("3-1"), str("4-0"), arr({arr({str("c1"), str("2")})})}));
  ASSERT_TRUE(oldest);
  EXPECT_EQ(oldest->str(), "3-1");
  EXPECT_THROW(parse_xpending_oldest(num(3)), error);
}

TEST(stream_trim, acked_point_is_the_oldest_entry_some_group_still_needs) {
  // No group: no point, nothing is trimmed.
  EXPECT_FALSE(acked_trim_point({}));
  // All delivered and acknowledged: everything up to the last delivered.
  group_position fast{"fast", {10, 0}, 0, std::nullopt};
  EXPECT_EQ(acked_trim_point({fast})->str(), "10-1");
  // A group that lags keeps what it has not been delivered.
  group_position lagging{"lagging", {4, 2}, 0, std::nullopt};
  EXPECT_EQ(acked_trim_point({fast, lagging})->str(), "4-3");
  // One with unacknowledged entries keeps its oldest pending one.
  group_position unacked{"unacked", {9, 0}, 3, stream_id{2, 7}};
  EXPECT_EQ(acked_trim_point({fast, lagging, unacked})->str(), "2-7");
  // Pending entries whose oldest is unknown: no trim.
  group_position unknown{"unknown", {9, 0}, 3, std::nullopt};
  EXPECT_FALSE(acked_trim_point({fast, unknown}));
}

TEST(stream_trim, a_writer_trims_once_a_tenth_of_the_length_came) {
  stream_trim_config never;
  EXPECT_FALSE(trim_due(never, 1000000));
  stream_trim_config cfg{1000, trim_mode::approximate};
  EXPECT_FALSE(trim_due(cfg, 0));
  EXPECT_FALSE(trim_due(cfg, 99));
  EXPECT_TRUE(trim_due(cfg, 100));
  stream_trim_config tiny{5, trim_mode::acked};
  EXPECT_TRUE(trim_due(tiny, 1));
}
