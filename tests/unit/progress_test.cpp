#include <iostream>
#include <sstream>

#include <gtest/gtest.h>

#include "actors/control/progress.hpp"
#include "actors/control/realtime_board.hpp"
#include "actors/log.hpp"

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

TEST(progress, board_is_one_line_per_table_in_order) {
  table_progress orders;
  orders.done = 25000;
  orders.estimated = 100000;
  orders.elapsed_s = 5;
  table_progress region;
  region.done = 5;
  region.elapsed_s = 1;
  region.finished = true;
  EXPECT_EQ(format_board({{"tpch_orders", orders}, {"tpch_region", region}}),
            "tpch_orders: 25,000 of ~100,000 rows (25%), 5,000 rows/s, eta 15s\n"
            "tpch_region: 5 rows, 5 rows/s, done in 1s\n");
  EXPECT_EQ(format_board({}), "");
}

TEST(progress, a_log_line_clears_the_board_and_redraws_it_below) {
  std::string board = "a: 1 rows, 1 rows/s\nb: 2 rows, 2 rows/s\n";
  // Up over the board's two lines, clear to the end, the log line, the board.
  EXPECT_EQ(log::redraw(2, "info begins\n", board),
            "\x1b[2F\x1b[Jinfo begins\n" + board);
  // The first drawing has nothing to move over.
  EXPECT_EQ(log::redraw(0, "", board), board);
  // A board that shrank (a table dropped) leaves no stale line: all is cleared.
  EXPECT_EQ(log::redraw(3, "", "a\n"), "\x1b[3F\x1b[Ja\n");
  // Erasing the board.
  EXPECT_EQ(log::redraw(2, "", ""), "\x1b[2F\x1b[J");
  // A footer without its last newline still ends its line, so the next
  // redraw moves over whole lines.
  EXPECT_EQ(log::redraw(0, "", "a"), "a\n");
}

TEST(progress, log_lines_scroll_above_the_footer_on_stderr) {
  std::ostringstream captured;
  auto* old = std::cerr.rdbuf(captured.rdbuf());
  int board = 0;
  log::set_footer(&board, "t: 1 rows\n");
  log::info("starts snapshot of t");
  log::debug("not shown on the terminal");
  log::set_footer(&board, "t: 2 rows\n");
  log::release_footer(&board);
  log::info("after the run");
  std::cerr.rdbuf(old);
  std::string out = captured.str();
  std::string cleared = "\x1b[1F\x1b[J";
  // board, then [clear, log line, board], then [clear, new board], then a plain line.
  auto first = out.find("t: 1 rows\n" + cleared);
  ASSERT_EQ(first, 0u) << out;
  auto line = out.find(" info starts snapshot of t\nt: 1 rows\n" + cleared + "t: 2 rows\n");
  EXPECT_NE(line, std::string::npos) << out;
  EXPECT_EQ(out.find("not shown"), std::string::npos) << out;
  // Released: the last board stays, the next line goes below it untouched.
  auto after = out.rfind("t: 2 rows\n");
  EXPECT_NE(out.find(" info after the run\n", after), std::string::npos) << out;
  EXPECT_EQ(out.find(cleared, after), std::string::npos) << out;
}

TEST(progress, a_new_board_leaves_the_one_before_on_screen) {
  std::ostringstream captured;
  auto* old = std::cerr.rdbuf(captured.rdbuf());
  int snapshot = 0, realtime = 0;
  log::set_footer(&snapshot, "orders: done\n");
  log::set_footer(&realtime, "source at lsn 0/1\n");
  // The snapshot board's late release must not make the next redraw skip
  // moving over the realtime board.
  log::release_footer(&snapshot);
  log::info("reconnects");
  log::release_footer(&realtime);
  std::cerr.rdbuf(old);
  EXPECT_EQ(captured.str().substr(0, 31), "orders: done\nsource at lsn 0/1\n") << captured.str();
  EXPECT_NE(captured.str().find("source at lsn 0/1\n\x1b[1F\x1b[J"), std::string::npos)
    << captured.str();
}

TEST(realtime_progress, board_shows_rate_lag_and_position_per_interval) {
  realtime_counts c;
  EXPECT_EQ(c.take(1), "source at (not yet confirmed)\n");
  c.written("orders_cdc_logs", 1500, 0.0123);
  c.written("orders_cdc_logs", 900, 0.004);  // the newest write's lag counts
  c.written("region_cdc_logs", 3, -1);       // lag unknown
  c.position("lsn 0/16B3A28");
  EXPECT_EQ(c.take(2),
            "source at lsn 0/16B3A28\n"
            "orders_cdc_logs: 1,200 changes/s, lag 4 ms, 2,400 in all\n"
            "region_cdc_logs: 2 changes/s, 3 in all\n");
  // The next interval starts empty: a stream without writes is idle.
  c.written("region_cdc_logs", 10, 2.5);
  EXPECT_EQ(c.take(10),
            "source at lsn 0/16B3A28\n"
            "orders_cdc_logs: idle, 2,400 in all\n"
            "region_cdc_logs: 1 changes/s, lag 2.5 s, 13 in all\n");
}

TEST(realtime_progress, lag_reads_naturally) {
  EXPECT_EQ(format_lag(0.0004), "0 ms");
  EXPECT_EQ(format_lag(0.25), "250 ms");
  EXPECT_EQ(format_lag(1.25), "1.2 s");
  EXPECT_EQ(format_lag(125), "2m05s");
  EXPECT_EQ(format_lag(-1), "0 ms");
}
