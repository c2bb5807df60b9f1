// Run statistics: counting by phase and op, the Redis commands that add
// them up, the hash read back, and the table and JSON `tributary stats`
// prints.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "actors/control/run_stats.hpp"
#include "messages/failure.hpp"

using namespace trib;

namespace {

// 2026-12-03 15:40:00 UTC.
constexpr int64_t t0 = 1796312400000;

// What HGETALL would return after `cmds` ran on an empty hash.
std::vector<std::string> apply(const std::vector<std::vector<std::string>>& cmds) {
  std::map<std::string, long long> hash;
  for (const auto& c : cmds) {
    if (c[0] == "HINCRBY") hash[c[2]] += std::stoll(c[3]);
    else if (c[0] == "HSETNX") hash.emplace(c[2], std::stoll(c[3]));
    else if (c[0] == "HSET") hash[c[2]] = std::stoll(c[3]);
    else ADD_FAILURE() << "unexpected command " << c[0];
  }
  std::vector<std::string> flat;
  for (const auto& [k, v] : hash) {
    flat.push_back(k);
    flat.push_back(std::to_string(v));
  }
  return flat;
}

}  // namespace

TEST(run_stats, counts_snapshot_rows_and_changes_by_op) {
  stats_by_table s;
  count_rows(s, "public.orders", "snapshot", "r", 1000, -1, t0);
  count_rows(s, "public.orders", "realtime", "c", 5, 0.004, t0 + 2000);
  count_rows(s, "public.orders", "realtime", "u", 3, 0.250, t0 + 3000);
  count_rows(s, "public.orders", "realtime", "d", 2, -1, t0 + 4000);
  count_rows(s, "public.orders", "realtime", "t", 1, -1, t0 + 4500);
  const auto& t = s.at("public.orders");
  EXPECT_EQ(t.snapshot_rows, 1000u);
  EXPECT_EQ(t.inserts, 5u);
  EXPECT_EQ(t.updates, 3u);
  EXPECT_EQ(t.deletes, 2u);
  EXPECT_EQ(t.truncates, 1u);
  EXPECT_EQ(t.start_ms, t0);
  EXPECT_EQ(t.end_ms, t0 + 4500);
  EXPECT_EQ(t.lag_ms, 250);  // the newest known lag, not the largest
}

TEST(run_stats, merging_adds_counts_and_widens_the_times) {
  stats_by_table a, b;
  count_rows(a, "x", "realtime", "c", 2, 0.1, t0 + 1000);
  count_rows(b, "x", "realtime", "c", 3, -1, t0);
  count_rows(b, "x", "realtime", "c", 1, -1, t0 + 5000);
  count_rows(b, "y", "snapshot", "r", 7, -1, t0 + 9000);
  merge_stats(a, b);
  EXPECT_EQ(a.at("x").inserts, 6u);
  EXPECT_EQ(a.at("x").start_ms, t0);
  EXPECT_EQ(a.at("x").end_ms, t0 + 5000);
  EXPECT_EQ(a.at("x").lag_ms, 100);  // b knew no lag
  EXPECT_EQ(a.at("y").snapshot_rows, 7u);
}

TEST(run_stats, commands_add_counts_keep_the_first_start_and_read_back) {
  stats_by_table first, second;
  count_rows(first, "public.orders", "snapshot", "r", 1000, -1, t0);
  count_rows(second, "public.orders", "realtime", "c", 5, 0.004, t0 + 60000);
  auto cmds = stats_commands("replicate_io_stats_g_r", first);
  auto more = stats_commands("replicate_io_stats_g_r", second);
  cmds.insert(cmds.end(), more.begin(), more.end());
  for (const auto& c : cmds) EXPECT_EQ(c[1], "replicate_io_stats_g_r");
  auto back = parse_stats_hash(apply(cmds));
  ASSERT_EQ(back.size(), 1u);
  const auto& t = back.at("public.orders");
  EXPECT_EQ(t.snapshot_rows, 1000u);
  EXPECT_EQ(t.inserts, 5u);
  EXPECT_EQ(t.updates, 0u);
  EXPECT_EQ(t.start_ms, t0);
  EXPECT_EQ(t.end_ms, t0 + 60000);
  EXPECT_EQ(t.lag_ms, 4);
  // No command for a count that did not move.
  for (const auto& c : cmds) EXPECT_EQ(c[2].find(":updates"), std::string::npos);
}

TEST(run_stats, a_table_name_with_colons_reads_back) {
  stats_by_table s;
  count_rows(s, "db:a.t", "realtime", "d", 4, -1, t0);
  auto back = parse_stats_hash(apply(stats_commands("k", s)));
  ASSERT_EQ(back.count("db:a.t"), 1u);
  EXPECT_EQ(back.at("db:a.t").deletes, 4u);
}

TEST(run_stats, a_field_that_is_not_a_number_is_named) {
  try {
    parse_stats_hash({"public.orders:inserts", "12x"});
    FAIL() << "no error";
  } catch (const trib::error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data);
    EXPECT_NE(std::string(e.what()).find("public.orders:inserts holds '12x'"), std::string::npos)
      << e.what();
  }
}

TEST(run_stats, the_table_has_a_line_per_table_and_a_total) {
  stats_by_table s;
  count_rows(s, "public.orders", "snapshot", "r", 1000000, -1, t0);
  count_rows(s, "public.orders", "realtime", "c", 1234, 0.004, t0 + 65000);
  count_rows(s, "public.region", "snapshot", "r", 5, -1, t0 + 1000);
  EXPECT_EQ(format_stats_table(s),
            "table          snapshot rows  inserts  updates  deletes  truncates  "
            "start (UTC)          end (UTC)            elapsed  lag\n"
            "public.orders      1,000,000    1,234        0        0          0  "
            "2026-12-03 15:40:00  2026-12-03 15:41:05  1m05s    4 ms\n"
            "public.region              5        0        0        0          0  "
            "2026-12-03 15:40:01  2026-12-03 15:40:01  0s       -\n"
            "total              1,000,005    1,234        0        0          0  "
            "2026-12-03 15:40:00  2026-12-03 15:41:05  1m05s    4 ms\n");
}

TEST(run_stats, json_names_every_statistic) {
  stats_by_table s;
  count_rows(s, "public.orders", "snapshot", "r", 10, -1, t0);
  count_rows(s, "public.orders", "realtime", "u", 2, 1.5, t0 + 250);
  count_rows(s, "public.region", "snapshot", "r", 5, -1, t0);
  auto v = boost::json::parse(stats_json("replicate_io_stats_default_r", s)).as_object();
  EXPECT_EQ(v.at("key"), "replicate_io_stats_default_r");
  const auto& tables = v.at("tables").as_array();
  ASSERT_EQ(tables.size(), 2u);
  const auto& o = tables[0].as_object();
  EXPECT_EQ(o.at("table"), "public.orders");
  EXPECT_EQ(o.at("snapshot_rows").to_number<int64_t>(), 10);
  EXPECT_EQ(o.at("updates").to_number<int64_t>(), 2);
  EXPECT_EQ(o.at("inserts").to_number<int64_t>(), 0);
  EXPECT_EQ(o.at("start"), "2026-12-03T15:40:00.000Z");
  EXPECT_EQ(o.at("end"), "2026-12-03T15:40:00.250Z");
  EXPECT_EQ(o.at("elapsed_ms").to_number<int64_t>(), 250);
  EXPECT_EQ(o.at("lag_ms").to_number<int64_t>(), 1500);
  EXPECT_TRUE(tables[1].as_object().at("lag_ms").is_null());
}
