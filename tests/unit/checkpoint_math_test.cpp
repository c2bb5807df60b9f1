// The checkpoint arithmetic of realtime replication: stream checkpoints as
// text, the skip rule after a restart, and the slot position that every
// stream has committed.

#include <gtest/gtest.h>

#include "actors/control/checkpoint_math.hpp"
#include "messages/failure.hpp"

using namespace trib;

TEST(stream_checkpoint, round_trips_through_its_text) {
  stream_checkpoint c{0x16B3748ULL | (0x2AULL << 32), 17};
  auto text = encode_stream_checkpoint(c);
  EXPECT_EQ(text, "{\"commit\":180412430152,\"index\":17}");
  EXPECT_EQ(decode_stream_checkpoint(text), c);
  // The whole range of a commit key survives the text.
  stream_checkpoint top{UINT64_MAX, 1};
  EXPECT_EQ(decode_stream_checkpoint(encode_stream_checkpoint(top)), top);
}

TEST(stream_checkpoint, reads_the_lsn_form_of_earlier_versions_so_they_resume) {
  // Replications written before the commit key stored the commit LSN in
  // PostgreSQL's notation; it is the same key.
  auto old = decode_stream_checkpoint("{\"lsn\":\"2A/16B3748\",\"index\":17}");
  EXPECT_EQ(old, (stream_checkpoint{0x16B3748ULL | (0x2AULL << 32), 17}));
  EXPECT_TRUE(covers(old, 0x16B3748ULL | (0x2AULL << 32), 17));
  EXPECT_FALSE(covers(old, 0x16B3748ULL | (0x2AULL << 32), 18));
  // And an old checkpoint orders against a new one of the same stream.
  EXPECT_FALSE(checkpoint_behind("{\"lsn\":\"0/3E8\",\"index\":3}",
                                 encode_stream_checkpoint({1000, 3})));
  EXPECT_TRUE(checkpoint_behind("{\"lsn\":\"0/3E8\",\"index\":3}",
                                encode_stream_checkpoint({1000, 2})));
}

TEST(stream_checkpoint, refuses_a_snapshot_checkpoint_and_garbage) {
  EXPECT_THROW(decode_stream_checkpoint("{\"last_key\":[],\"rows_done\":3,\"done\":true}"), error);
  EXPECT_THROW(decode_stream_checkpoint("not json"), error);
  EXPECT_THROW(decode_stream_checkpoint("{\"lsn\":\"0/10\",\"index\":-1}"), error);
  EXPECT_THROW(decode_stream_checkpoint("{\"commit\":-5,\"index\":1}"), error);
  EXPECT_THROW(decode_stream_checkpoint("{\"commit\":\"12\",\"index\":1}"), error);
}

TEST(stream_checkpoint, covers_earlier_transactions_and_the_same_one_up_to_its_index) {
  stream_checkpoint c{1000, 3};
  EXPECT_TRUE(covers(c, 999, 50));
  EXPECT_TRUE(covers(c, 1000, 1));
  EXPECT_TRUE(covers(c, 1000, 3));
  EXPECT_FALSE(covers(c, 1000, 4));
  EXPECT_FALSE(covers(c, 1001, 1));
}

TEST(stream_checkpoint, an_empty_checkpoint_covers_nothing) {
  stream_checkpoint none;
  EXPECT_FALSE(covers(none, 1, 1));
}

TEST(txn_tracker, confirms_a_transaction_once_every_part_is_written) {
  txn_tracker t;
  t.add_part(100);
  t.add_part(100);  // two streams
  t.commit(100, 108);
  EXPECT_EQ(t.advance(), 0u);
  t.ack(100);
  EXPECT_EQ(t.advance(), 0u);
  t.ack(100);
  EXPECT_EQ(t.advance(), 108u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(txn_tracker, a_later_transaction_written_first_waits_for_the_earlier_one) {
  txn_tracker t;
  // Stream 1's batch (only the later transaction) goes out before stream
  // 0's (both): the tracker keeps commit order anyway.
  t.add_part(200);
  t.add_part(100);
  t.add_part(200);
  t.commit(100, 108);
  t.commit(200, 208);
  t.ack(200);
  t.ack(200);
  EXPECT_EQ(t.advance(), 0u);
  t.ack(100);
  EXPECT_EQ(t.advance(), 208u);
}

TEST(txn_tracker, an_uncommitted_transaction_is_never_confirmed) {
  txn_tracker t;
  t.add_part(300);
  t.ack(300);
  EXPECT_EQ(t.advance(), 0u);
  t.commit(300, 316);
  EXPECT_EQ(t.advance(), 316u);
}

TEST(txn_tracker, a_transaction_without_replicated_changes_is_done_at_once) {
  txn_tracker t;
  t.commit(50, 60);
  EXPECT_EQ(t.advance(), 60u);
}

TEST(txn_tracker, discard_open_forgets_what_the_slot_sends_again) {
  txn_tracker t;
  t.add_part(100);
  t.commit(100, 108);
  t.add_part(200);  // a large transaction cut off by a lost connection
  t.discard_open();
  EXPECT_EQ(t.size(), 1u);
  t.ack(200);  // a late acknowledgement of the forgotten one is ignored
  t.ack(100);
  EXPECT_EQ(t.advance(), 108u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(txn_tracker, the_confirmed_position_never_goes_back) {
  txn_tracker t;
  t.commit(100, 108);
  EXPECT_EQ(t.advance(), 108u);
  t.commit(90, 95);  // cannot happen in order; must not move back
  EXPECT_EQ(t.advance(), 108u);
}

// After a reconnect the writer compares what Redis holds with what it had
// acknowledged: a checkpoint only moves forward.
TEST(checkpoint_behind, accepts_the_same_or_a_later_change_stream_checkpoint) {
  auto ack = encode_stream_checkpoint({1000, 3});
  EXPECT_FALSE(checkpoint_behind(ack, ack));
  EXPECT_FALSE(checkpoint_behind(ack, encode_stream_checkpoint({1000, 4})));
  EXPECT_FALSE(checkpoint_behind(ack, encode_stream_checkpoint({2000, 1})));
}

TEST(checkpoint_behind, reports_a_missing_or_earlier_change_stream_checkpoint) {
  auto ack = encode_stream_checkpoint({1000, 3});
  EXPECT_EQ(checkpoint_behind(ack, std::nullopt), "nothing");
  auto earlier = encode_stream_checkpoint({1000, 2});
  EXPECT_EQ(checkpoint_behind(ack, earlier), earlier);
  EXPECT_EQ(checkpoint_behind(ack, encode_stream_checkpoint({999, 9})),
            encode_stream_checkpoint({999, 9}));
}

TEST(checkpoint_behind, orders_snapshot_and_range_checkpoints_by_rows_and_done) {
  auto at = [](uint64_t rows, bool done) {
    return "{\"phase\":\"snapshot\",\"rows\":" + std::to_string(rows) +
           ",\"done\":" + (done ? "true" : "false") + ",\"last_key\":[\"" +
           std::to_string(rows) + "\"]}";
  };
  EXPECT_FALSE(checkpoint_behind(at(5000, false), at(5000, false)));
  EXPECT_FALSE(checkpoint_behind(at(5000, false), at(10000, false)));
  EXPECT_FALSE(checkpoint_behind(at(5000, false), at(7000, true)));
  EXPECT_EQ(checkpoint_behind(at(5000, false), at(3000, false)), at(3000, false));
  EXPECT_EQ(checkpoint_behind(at(7000, true), at(7000, false)), at(7000, false));
  EXPECT_EQ(checkpoint_behind(at(5000, false), std::nullopt), "nothing");
}

TEST(checkpoint_behind, a_value_of_another_kind_is_not_past_a_checkpoint) {
  auto ack = encode_stream_checkpoint({1000, 3});
  EXPECT_EQ(checkpoint_behind(ack, "garbage"), "garbage");
  // A field of no known kind is compared by equality only.
  EXPECT_FALSE(checkpoint_behind("opaque-1", "opaque-2"));
}
