// Trimming's pure half: stream IDs, XINFO GROUPS and XPENDING replies as
// Redis 7.0 gives them, the point an ACKED trim may cut below, and when a
// writer trims; and the consumer lag bound's: groups' lag, the slowest
// group, when a writer reads the lag.

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
  group_position fast{"fast", {10, 0}, 0, std::nullopt, std::nullopt};
  EXPECT_EQ(acked_trim_point({fast})->str(), "10-1");
  // A group that lags keeps what it has not been delivered.
  group_position lagging{"lagging", {4, 2}, 0, std::nullopt, std::nullopt};
  EXPECT_EQ(acked_trim_point({fast, lagging})->str(), "4-3");
  // One with unacknowledged entries keeps its oldest pending one.
  group_position unacked{"unacked", {9, 0}, 3, stream_id{2, 7}, std::nullopt};
  EXPECT_EQ(acked_trim_point({fast, lagging, unacked})->str(), "2-7");
  // Pending entries whose oldest is unknown: no trim.
  group_position unknown{"unknown", {9, 0}, 3, std::nullopt, std::nullopt};
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

namespace {

// A group with a given lag (nil: Redis cannot tell).
redis_reply group_with_lag(const std::string& name, redis_reply lag) {
  return arr({str("name"), str(name), str("consumers"), num(1), str("pending"), num(0),
              str("last-delivered-id"), str("1-0"), str("entries-read"), num(3), str("lag"),
              std::move(lag)});
}

}  // namespace

TEST(consumer_lag, xinfo_groups_gives_each_groups_lag_or_none_when_redis_cannot_tell) {
  auto groups = parse_xinfo_groups(arr({group_with_lag("a", num(12)),
                                        group_with_lag("b", nil()),
                                        group_with_lag("c", num(40)),
                                        group_with_lag("d", num(0))}));
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0].lag, std::optional<uint64_t>(12));
  EXPECT_FALSE(groups[1].lag);
  EXPECT_EQ(groups[3].lag, std::optional<uint64_t>(0));
  auto slowest = slowest_group(groups);
  ASSERT_TRUE(slowest);
  EXPECT_EQ(slowest->name, "c");
  EXPECT_EQ(*slowest->lag, 40u);
  // No group, or none whose lag is known: nobody to wait for.
  EXPECT_FALSE(slowest_group({}));
  EXPECT_FALSE(slowest_group(parse_xinfo_groups(arr({group_with_lag("b", nil())}))));
  // A Redis without the field (before 7.0): no lag known.
  EXPECT_FALSE(parse_xinfo_groups(arr({arr({str("name"), str("old"), str("last-delivered-id"),
                                            str("1-0")})}))[0]
                 .lag);
}

TEST(consumer_lag, the_lag_is_read_once_a_tenth_of_the_bound_was_added) {
  EXPECT_FALSE(lag_check_due(0, 1000000));  // off
  EXPECT_FALSE(lag_check_due(1000, 0));
  EXPECT_FALSE(lag_check_due(1000, 99));
  EXPECT_TRUE(lag_check_due(1000, 100));
  EXPECT_TRUE(lag_check_due(1000, 5000));
  // A bound under ten: after every write.
  EXPECT_TRUE(lag_check_due(5, 1));
}
