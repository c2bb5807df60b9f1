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

}  // namespace
}  // namespace trib
