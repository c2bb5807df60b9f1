// The pure parts of a run's lease: the holder's text and when another run
// may take the lease over.

#include <gtest/gtest.h>

#include "actors/control/run_lease.hpp"

using namespace trib;

TEST(run_lease, a_holder_round_trips_through_its_text) {
  lease_holder h{"node-1", 4242, "2026-12-03T08:00:00Z", "abc123"};
  auto back = decode_lease_holder(encode_lease_holder(h));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->host, "node-1");
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->since, "2026-12-03T08:00:00Z");
  EXPECT_EQ(back->token, "abc123");
}

TEST(run_lease, text_that_is_not_a_holder_decodes_to_nothing) {
  EXPECT_FALSE(decode_lease_holder("not json"));
  EXPECT_FALSE(decode_lease_holder("{\"host\":\"a\",\"since\":\"b\",\"token\":\"c\"}"));
  EXPECT_FALSE(decode_lease_holder("{\"host\":1,\"pid\":2,\"since\":\"b\",\"token\":\"c\"}"));
}

TEST(run_lease, a_live_holder_on_another_host_keeps_its_lease) {
  lease_holder h{"node-1", 4242, "since", "t"};
  EXPECT_FALSE(lease_takeover_allowed(h, true, "node-2", false));
  EXPECT_FALSE(lease_takeover_allowed(h, true, "node-2", true));
}

TEST(run_lease, an_expired_lease_is_taken_over_from_any_host) {
  lease_holder h{"node-1", 4242, "since", "t"};
  EXPECT_TRUE(lease_takeover_allowed(h, false, "node-2", false));
  EXPECT_TRUE(lease_takeover_allowed(h, false, "node-1", true));
}

TEST(run_lease, a_holder_whose_process_is_gone_on_this_host_is_taken_over_at_once) {
  lease_holder h{"node-1", 4242, "since", "t"};
  EXPECT_TRUE(lease_takeover_allowed(h, true, "node-1", false));
  EXPECT_FALSE(lease_takeover_allowed(h, true, "node-1", true));
}

TEST(run_lease, a_lease_copy_names_the_epoch_of_its_run) {
  EXPECT_EQ(lease_copy_epoch("17 {\"host\":\"h\"}"), 17);
  EXPECT_EQ(lease_copy_epoch("{\"host\":\"h\"}"), 0);
  EXPECT_EQ(lease_copy_epoch("17"), 0);
  EXPECT_EQ(lease_copy_epoch(""), 0);
}

TEST(run_lease, in_a_cluster_the_lease_keys_share_a_slot) {
  EXPECT_EQ(lease_alive_key("g", "id"), "replicate_io_lease_alive_g_id");
  auto alive = lease_alive_key("g", "id", true);
  EXPECT_EQ(alive, "replicate_io_lease_alive_g_id:{replicate_io_lease_g_id}");
  EXPECT_EQ(lease_epoch_key("g", "id"), "replicate_io_lease_epoch_g_id:{replicate_io_lease_g_id}");
}
