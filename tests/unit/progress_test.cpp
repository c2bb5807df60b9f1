#include <gtest/gtest.h>

#include "actors/control/progress.hpp"

using namespace trib;

TEST(progress, thousands_are_grouped) {
  EXPECT_EQ(group_thousands(0), "0");
  EXPECT_EQ(group_thousands(999), "999");
  EXPECT_EQ(group_thousands(1000), "1,000");
  EXPECT_EQ(group_thousands(1234567), "1,234,567");
}

TEST(progress, durations_read_naturally) {
  EXPECT_EQ(format_duration(1.4), "1s");
  EXPECT_EQ(format_duration(65), "1m05s");
  EXPECT_EQ(format_duration(7380), "2h03m");
  EXPECT_EQ(format_duration(-3), "0s");
}

TEST(progress, line_shows_done_estimate_rate_and_eta) {
  table_progress p;
  p.done = 25000;
  p.estimated = 100000;
  p.elapsed_s = 5;
  EXPECT_EQ(format_progress("tpch_orders", p),
            "tpch_orders: 25,000 of ~100,000 rows (25%), 5,000 rows/s, eta 15s");
}

TEST(progress, estimate_below_the_truth_never_shows_over_100_percent) {
  table_progress p;
  p.done = 150;
  p.estimated = 100;
  p.elapsed_s = 1;
  EXPECT_EQ(format_progress("t", p), "t: 150 of ~100 rows (99%), 150 rows/s");
}

TEST(progress, finished_table_shows_its_time) {
  table_progress p;
  p.done = 10;
  p.estimated = 0;
  p.elapsed_s = 2;
  p.finished = true;
  EXPECT_EQ(format_progress("t", p), "t: 10 rows, 5 rows/s, done in 2s");
}
