// Memory backpressure's pure half: INFO memory read from captured text, and
// when a writer reads Redis's memory again (often only near the threshold)
// and when it pauses.

#include <gtest/gtest.h>

#include "actors/sink/memory_gate.hpp"
#include "actors/tuning.hpp"

using namespace trib;
using clock_type = memory_gate::clock;

namespace {

// The head of INFO memory from Redis 7.0 (ops/servers.sh's server), with a
// maxmemory of 40 MB.
const std::string info_text =
  "# Memory\r\n"
  "used_memory:35651584\r\n"
  "used_memory_human:34.00M\r\n"
  "used_memory_rss:42000384\r\n"
  "used_memory_peak:36700160\r\n"
  "used_memory_peak_perc:97.14%\r\n"
  "used_memory_overhead:866272\r\n"
  "used_memory_dataset:34785312\r\n"
  "maxmemory:41943040\r\n"
  "maxmemory_human:40.00M\r\n"
  "maxmemory_policy:noeviction\r\n";

}  // namespace

TEST(memory_gate, reads_used_memory_and_maxmemory_and_not_their_look_alikes) {
  auto m = parse_info_memory(info_text);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->used, 35651584u);
  EXPECT_EQ(m->max, 41943040u);
}

TEST(memory_gate, info_without_the_fields_reads_as_nothing) {
  EXPECT_FALSE(parse_info_memory("# Memory\r\nused_memory_human:1M\r\nmaxmemory:0\r\n"));
  EXPECT_FALSE(parse_info_memory("used_memory:12x\r\nmaxmemory:0\r\n"));
  EXPECT_FALSE(parse_info_memory(""));
  auto m = parse_info_memory("used_memory:5\nmaxmemory:0");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->max, 0u);
}

TEST(memory_gate, off_never_asks_for_a_reading) {
  memory_gate g(0);
  EXPECT_FALSE(g.enabled());
  EXPECT_FALSE(g.due(1u << 30, clock_type::now()));
}

TEST(memory_gate, pauses_above_the_threshold_and_not_at_or_below_it) {
  memory_gate g(85);
  auto now = clock_type::now();
  EXPECT_EQ(g.threshold({0, 1000}), 850u);
  EXPECT_FALSE(g.over({850, 1000}, now));
  EXPECT_TRUE(g.over({851, 1000}, now));
  // While over, every write asks for a reading.
  EXPECT_TRUE(g.due(1, now));
  // No maxmemory: no limit to pause for.
  EXPECT_FALSE(g.over({uint64_t(1) << 40, 0}, now));
  // Large maxmemory: no overflow in the share.
  uint64_t big = uint64_t(1) << 62;
  EXPECT_EQ(memory_gate(50).threshold({0, big}), big / 2);
}

TEST(memory_gate, reads_often_only_near_the_threshold) {
  memory_gate g(50);
  auto now = clock_type::now();
  EXPECT_TRUE(g.due(100, now));  // the first write reads
  // 1000 bytes of room below the threshold: a reading after a quarter of it.
  ASSERT_FALSE(g.over({4000, 10000}, now));
  uint64_t share = 1000 / tuning::redis_memory_headroom_share;
  EXPECT_FALSE(g.due(share - 1, now));
  EXPECT_TRUE(g.due(1, now));
  // Far below: a reading only after much more has been written.
  ASSERT_FALSE(g.over({0, 10000}, now));
  EXPECT_FALSE(g.due(1000, now));
  EXPECT_FALSE(g.due(200, now));
}

TEST(memory_gate, reads_again_after_the_interval_however_little_was_written) {
  memory_gate g(85);
  auto now = clock_type::now();
  ASSERT_FALSE(g.over({0, 1u << 30}, now));
  EXPECT_FALSE(g.due(1, now + tuning::redis_memory_check_interval / 2));
  EXPECT_TRUE(g.due(1, now + tuning::redis_memory_check_interval));
}

TEST(memory_gate, a_write_counts_its_keys_and_values_and_its_encoded_bytes) {
  write_batch b;
  b.entries.push_back({"k1", "value"});
  b.encoded = std::string(100, 'x');
  EXPECT_EQ(write_bytes(b), 107u);
}
