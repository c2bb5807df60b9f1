// The process_* metrics parse /proc/<pid>/stat and /proc/stat as proc(5)
// lays them out, including a command name with spaces and parentheses.

#include <gtest/gtest.h>

#include "actors/metrics/process_stats.hpp"

using namespace trib::metrics;

namespace {

// A line captured from /proc/self/stat of `cat` (comm changed to hold
// ") (" to prove the fields are found after the last ')').
const std::string stat_line =
  "14201 (ca) (t) R 14194 14194 996 0 -1 4194304 99 0 0 0 250 130 0 0 20 0 7 0 2803144 "
  "3133440 386 18446744073709551615 94274554638336 94274554658217 140732833066192 0 0 0 0 "
  "0 0 0 0 0 17 1 0 0 0 0 0\n";

}  // namespace

TEST(process_stats, reads_cpu_memory_threads_and_start_from_proc_stat) {
  auto s = parse_proc_stat(stat_line, 100, 4096, 1796284151.0);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.8);  // (250 + 130) ticks at 100/s
  EXPECT_DOUBLE_EQ(s->threads, 7);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 3133440);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 386.0 * 4096);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1796284151.0 + 28031.44);
}

TEST(process_stats, refuses_text_that_is_not_a_stat_line) {
  EXPECT_FALSE(parse_proc_stat("", 100, 4096, 0));
  EXPECT_FALSE(parse_proc_stat("1 (x) R 1 2 3", 100, 4096, 0));
  EXPECT_FALSE(parse_proc_stat(stat_line, 0, 4096, 0));
}

TEST(process_stats, finds_the_boot_time_in_proc_stat) {
  EXPECT_EQ(parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1796284151\nprocesses 9\n"), 1796284151.0);
  EXPECT_FALSE(parse_boot_time("cpu 1 2 3\n"));
}

TEST(process_stats, samples_this_process) {
  auto s = sample_this_process();
  EXPECT_GT(s.resident_bytes, 0);
  EXPECT_GE(s.threads, 1);
  EXPECT_GE(s.open_fds, 3);  // stdin, stdout, stderr at least
  EXPECT_GT(s.start_time_seconds, 1.0e9);
}
