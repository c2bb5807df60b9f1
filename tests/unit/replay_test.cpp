// The replay helper of the tests: a consumer's view of a stream.

#include <gtest/gtest.h>

#include "tests/replay.hpp"

using namespace trib::test;

namespace {

std::string change(const std::string& op, const std::string& after, const std::string& table = "t") {
  return "{\"before\":null,\"after\":" + after + ",\"source\":{\"table\":\"" + table +
         "\"},\"op\":\"" + op + "\"}";
}

}  // namespace

TEST(replay, inserts_updates_and_deletes_leave_the_final_rows) {
  replay_state st;
  replay_entry(st, "{\"id\":1}", change("r", "{\"id\":1,\"v\":\"a\"}"));
  replay_entry(st, "{\"id\":2}", change("c", "{\"id\":2,\"v\":\"b\"}"));
  replay_entry(st, "{\"id\":1}", change("u", "{\"id\":1,\"v\":\"A\"}"));
  replay_entry(st, "{\"id\":2}", change("d", "null"));
  replay_entry(st, "{\"id\":2}", "default");
  auto rows = replay_rows(st.tables["t"], {"id", "v"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", "A"}));
  EXPECT_EQ(st.tombstones, 1u);
  EXPECT_EQ(st.applied, 4u);
}

TEST(replay, reads_documents_with_their_schema_half_and_verbose_ops) {
  replay_state st;
  replay_entry(st, "{\"schema\":{},\"payload\":{\"id\":3}}",
               "{\"schema\":{},\"payload\":" + change("INSERT", "{\"id\":3,\"v\":null}") + "}");
  auto rows = replay_rows(st.tables["t"], {"id", "v"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"3", "<null>"}));
}

TEST(replay, truncate_clears_only_its_table) {
  replay_state st;
  replay_entry(st, "{\"id\":1}", change("c", "{\"id\":1}", "a"));
  replay_entry(st, "{\"id\":1}", change("c", "{\"id\":1}", "b"));
  replay_entry(st, "default", change("t", "null", "a"));
  EXPECT_TRUE(st.tables["a"].empty());
  EXPECT_EQ(st.tables["b"].size(), 1u);
}

TEST(replay, refuses_an_unknown_op) {
  replay_state st;
  EXPECT_THROW(replay_entry(st, "{\"id\":1}", change("x", "{\"id\":1}")), std::runtime_error);
}
