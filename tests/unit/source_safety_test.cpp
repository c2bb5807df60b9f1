// The rules that keep a PostgreSQL source and its changes safe: which slot
// a full run may drop, which tables may join a publication, what an
// unwritable change stops, and that the slot never moves past it.

#include <gtest/gtest.h>

#include "actors/control/checkpoint_math.hpp"
#include "actors/control/slot_ownership.hpp"
#include "actors/source/pg_replication.hpp"

using namespace trib;

namespace {

pg_slot_info slot(const std::string& plugin, const std::string& database) {
  pg_slot_info s;
  s.name = "s1";
  s.type = "logical";
  s.plugin = plugin;
  s.database = database;
  return s;
}

const slot_record ours{"s1", "shop", "pub1", "7311"};

pg_replica_identity identity(char kind, bool has_key) {
  return pg_replica_identity{table_id{"", "public", "nopk"}, kind, has_key};
}

}  // namespace

TEST(slot_ownership, the_record_round_trips_through_its_text) {
  auto back = decode_slot_record(encode_slot_record(ours));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->slot, "s1");
  EXPECT_EQ(back->database, "shop");
  EXPECT_EQ(back->publication, "pub1");
  EXPECT_EQ(back->system_id, "7311");
  EXPECT_FALSE(decode_slot_record("not json"));
  EXPECT_FALSE(decode_slot_record("{\"slot\":\"s1\"}"));
}

TEST(slot_ownership, drops_only_the_pgoutput_slot_its_record_names) {
  EXPECT_EQ(slot_drop_refusal(slot("pgoutput", "shop"), ours, ours), "");
}

TEST(slot_ownership, refuses_a_slot_of_another_plugin_naming_plugin_and_database) {
  auto why = slot_drop_refusal(slot("test_decoding", "shop"), ours, ours);
  EXPECT_NE(why.find("'s1'"), std::string::npos) << why;
  EXPECT_NE(why.find("plugin test_decoding"), std::string::npos) << why;
  EXPECT_NE(why.find("database shop"), std::string::npos) << why;
}

TEST(slot_ownership, refuses_a_slot_of_another_database) {
  auto why = slot_drop_refusal(slot("pgoutput", "other"), ours, ours);
  EXPECT_NE(why.find("database other"), std::string::npos) << why;
}

TEST(slot_ownership, refuses_a_physical_slot) {
  pg_slot_info s;
  s.name = "s1";
  s.type = "physical";
  EXPECT_NE(slot_drop_refusal(s, ours, ours), "");
}

TEST(slot_ownership, refuses_a_pgoutput_slot_without_a_matching_record) {
  EXPECT_NE(slot_drop_refusal(slot("pgoutput", "shop"), std::nullopt, ours), "");
  auto other_server = ours;
  other_server.system_id = "9999";
  EXPECT_NE(slot_drop_refusal(slot("pgoutput", "shop"), other_server, ours), "");
  auto other_slot = ours;
  other_slot.slot = "s2";
  EXPECT_NE(slot_drop_refusal(slot("pgoutput", "shop"), other_slot, ours), "");
  auto other_publication = ours;
  other_publication.publication = "pub2";
  auto why = slot_drop_refusal(slot("pgoutput", "shop"), other_publication, ours);
  EXPECT_NE(why.find("pub2"), std::string::npos) << why;
}

TEST(replica_identity, a_primary_key_full_or_an_existing_index_is_fine) {
  EXPECT_EQ(replica_identity_problem(identity('d', true), "p"), "");
  EXPECT_EQ(replica_identity_problem(identity('f', false), "p"), "");
  EXPECT_EQ(replica_identity_problem(identity('i', true), "p"), "");
}

TEST(replica_identity, no_key_nothing_or_a_lost_index_shows_the_alter_table_to_run) {
  for (auto id : {identity('d', false), identity('n', false), identity('i', false)}) {
    auto why = replica_identity_problem(id, "p");
    EXPECT_NE(why.find("public.nopk"), std::string::npos) << why;
    EXPECT_NE(why.find("ALTER TABLE \"public\".\"nopk\" REPLICA IDENTITY FULL;"),
              std::string::npos)
      << why;
    EXPECT_NE(why.find("filter"), std::string::npos) << why;
  }
  EXPECT_NE(replica_identity_problem(identity('n', false), "p").find("NOTHING"),
            std::string::npos);
}

TEST(txn_tracker, never_releases_a_held_transaction_or_any_later_one) {
  txn_tracker t;
  t.add_part(100);
  t.commit(100, 110);
  t.add_part(200);
  t.commit(200, 210);
  t.add_part(300);
  t.commit(300, 310);
  t.hold(200);
  t.ack(100);
  t.ack(200);
  t.ack(300);
  EXPECT_EQ(t.advance(), 110u);
  // Done transactions after the hold are forgotten, not confirmed.
  EXPECT_EQ(t.size(), 0u);
  t.commit(400, 410);
  EXPECT_EQ(t.advance(), 110u);
  // A later hold does not lift an earlier one.
  t.hold(500);
  EXPECT_EQ(t.held(), 200u);
}
