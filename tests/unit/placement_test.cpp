// Where a multi-node run puts each table: whole tables, largest first, to
// the worker with the fewest rows so far.

#include <gtest/gtest.h>

#include <algorithm>

#include "actors/node/placement.hpp"

namespace trib {
namespace {

TEST(placement, one_worker_takes_every_table) {
  EXPECT_EQ(place_tables({5, 0, 100}, 1), (std::vector<size_t>{0, 0, 0}));
  EXPECT_EQ(place_tables({5, 0, 100}, 0), (std::vector<size_t>{0, 0, 0}));
  EXPECT_TRUE(place_tables({}, 3).empty());
}

TEST(placement, the_largest_tables_go_to_different_workers) {
  // orders (1M) and lineitem (900k) on two workers: one each, the small
  // tables to whichever has fewer rows.
  std::vector<uint64_t> rows{1000, 1000000, 20, 900000, 5000};
  auto p = place_tables(rows, 2);
  EXPECT_NE(p[1], p[3]);
  auto load = rows_per_worker(rows, p, 2);
  EXPECT_EQ(load[p[1]], 1000000u);
  EXPECT_EQ(load[p[3]], 900000u + 5000 + 1000 + 20);
}

TEST(placement, equal_tables_spread_evenly_and_repeatably) {
  std::vector<uint64_t> rows(9, 300);
  auto p = place_tables(rows, 3);
  EXPECT_EQ(p, place_tables(rows, 3));
  for (size_t w = 0; w < 3; ++w) EXPECT_EQ(std::count(p.begin(), p.end(), w), 3) << w;
  // Ties go to the lower worker, in plan order.
  EXPECT_EQ(p[0], 0u);
  EXPECT_EQ(p[1], 1u);
  EXPECT_EQ(p[2], 2u);
}

TEST(placement, empty_tables_count_as_one_row_and_spread_too) {
  auto p = place_tables({0, 0, 0, 0}, 2);
  EXPECT_EQ(std::count(p.begin(), p.end(), 0u), 2);
  EXPECT_EQ(std::count(p.begin(), p.end(), 1u), 2);
}

TEST(placement, no_worker_holds_more_than_the_rest_need) {
  // Greedy largest-first: the busiest worker holds at most its fair share
  // plus the largest table placed after the shares filled.
  std::vector<uint64_t> rows{700, 650, 600, 300, 250, 200, 120, 90, 60, 30};
  for (size_t workers : {2u, 3u, 4u}) {
    auto p = place_tables(rows, workers);
    auto load = rows_per_worker(rows, p, workers);
    uint64_t total = 0;
    for (auto r : rows) total += r;
    auto busiest = *std::max_element(load.begin(), load.end());
    EXPECT_LE(busiest, total / workers + 700) << workers;
    for (auto w : p) EXPECT_LT(w, workers);
  }
}

TEST(placement, more_workers_than_tables_leave_some_idle) {
  auto p = place_tables({10, 20}, 5);
  EXPECT_NE(p[0], p[1]);
  auto load = rows_per_worker({10, 20}, p, 5);
  EXPECT_EQ(std::count(load.begin(), load.end(), 0u), 3);
}

TEST(replacement, a_lost_workers_tables_go_to_the_live_ones_and_the_rest_stay) {
  // Worker 1 (of 0..2) is lost with tables 1 (500) and 4 (300); 0 keeps
  // 600, 2 keeps 101 (an empty table counts as 1 row): the larger lost
  // table goes to 2, then 300 to 0 (600 against 601).
  std::vector<uint64_t> rows{600, 500, 100, 0, 300};
  std::vector<size_t> before{0, 1, 2, 2, 1};
  auto after = replace_tables(rows, before, {true, false, true});
  EXPECT_EQ(after[0], 0u);
  EXPECT_EQ(after[2], 2u);
  EXPECT_EQ(after[3], 2u);
  EXPECT_EQ(after[1], 2u);
  EXPECT_EQ(after[4], 0u);
  for (auto w : after) EXPECT_NE(w, 1u);
}

TEST(replacement, nothing_moves_while_every_worker_lives) {
  std::vector<uint64_t> rows{10, 20, 30};
  std::vector<size_t> before{1, 0, 1};
  EXPECT_EQ(replace_tables(rows, before, {true, true}), before);
}

TEST(replacement, with_no_live_worker_the_placement_stays) {
  std::vector<size_t> before{0, 1};
  EXPECT_EQ(replace_tables({5, 5}, before, {false, false}), before);
}

TEST(replacement, a_second_loss_moves_the_moved_tables_again) {
  std::vector<uint64_t> rows{100, 100, 100};
  auto once = replace_tables(rows, {0, 1, 2}, {true, true, false});
  EXPECT_EQ(once, (std::vector<size_t>{0, 1, 0}));
  auto twice = replace_tables(rows, once, {false, true, false});
  EXPECT_EQ(twice, (std::vector<size_t>{1, 1, 1}));
}

}  // namespace
}  // namespace trib
