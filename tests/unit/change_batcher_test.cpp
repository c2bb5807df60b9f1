// The grouping of source-neutral changes into per-stream batches, and
// their numbering within a transaction.

#include <gtest/gtest.h>

#include "actors/control/change_batcher.hpp"

using namespace trib;

namespace {

table_schema table(std::vector<std::pair<std::string, value_kind>> cols,
                   std::vector<std::string> pk = {"id"}) {
  table_schema t;
  t.id = table_id{"db", "public", "t"};
  for (auto& [name, kind] : cols) {
    column_info c;
    c.name = name;
    c.kind = kind;
    t.columns.push_back(c);
  }
  t.primary_key = std::move(pk);
  return t;
}

row_change insert_of(uint32_t table_index) {
  row_change c;
  c.table = table_index;
  c.has_after = true;
  return c;
}

}  // namespace

TEST(change_batcher, numbers_changes_within_a_transaction_per_table_and_stream) {
  // Tables 0 and 1 share stream 0 (GLOBAL); table 2 has stream 1.
  auto t = table({{"id", value_kind::int32}});
  change_batcher b({t, t, t}, {0, 0, 1}, 2, 100);
  b.begin(1000, "42", 1700000000000);
  EXPECT_FALSE(b.add(insert_of(0)));
  EXPECT_FALSE(b.add(insert_of(1)));
  EXPECT_FALSE(b.add(insert_of(2)));
  EXPECT_FALSE(b.add(insert_of(0)));
  b.commit();
  auto out = b.flush();
  ASSERT_EQ(out.size(), 2u);
  const auto& s0 = out[0].changes;
  ASSERT_EQ(s0.size(), 3u);
  EXPECT_EQ(s0[0].total_order, 1);
  EXPECT_EQ(s0[1].total_order, 2);
  EXPECT_EQ(s0[2].total_order, 4);
  EXPECT_EQ(s0[2].data_collection_order, 2);
  EXPECT_EQ(s0[2].index, 3u);
  EXPECT_EQ(s0[0].commit, 1000u);
  EXPECT_EQ(s0[0].txn_id, "42");
  EXPECT_EQ(s0[0].commit_ms, 1700000000000);
  EXPECT_EQ(out[1].changes[0].index, 1u);
  EXPECT_EQ(out[1].changes[0].total_order, 3);
  EXPECT_EQ(out[0].transactions, (std::vector<uint64_t>{1000}));
  EXPECT_EQ(b.buffered(), 0u);
}

TEST(change_batcher, groups_whole_transactions_into_one_batch) {
  change_batcher b({table({{"id", value_kind::int32}})}, {0}, 1, 100);
  for (uint64_t commit : {10, 20, 30}) {
    b.begin(commit, std::to_string(commit), 0);
    b.add(insert_of(0));
    b.commit();
  }
  auto out = b.flush();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].changes.size(), 3u);
  EXPECT_EQ(out[0].transactions, (std::vector<uint64_t>{10, 20, 30}));
  for (const auto& c : out[0].changes) EXPECT_EQ(c.index, 1u);
}

TEST(change_batcher, splits_a_large_transaction_at_txn_size_rows) {
  change_batcher b({table({{"id", value_kind::int32}})}, {0}, 1, 3);
  b.begin(77, "1", 0);
  std::vector<change_batch> full;
  for (int i = 0; i < 7; ++i)
    if (auto x = b.add(insert_of(0))) full.push_back(std::move(*x));
  b.commit();
  ASSERT_EQ(full.size(), 2u);
  EXPECT_EQ(full[0].changes.back().index, 3u);
  EXPECT_EQ(full[1].changes.front().index, 4u);
  EXPECT_EQ(full[1].seq, full[0].seq + 1);
  auto rest = b.flush();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].changes.size(), 1u);
  EXPECT_EQ(rest[0].changes[0].index, 7u);
  EXPECT_EQ(rest[0].transactions, (std::vector<uint64_t>{77}));
}

TEST(change_batcher, reset_forgets_open_batches) {
  change_batcher b({table({{"id", value_kind::int32}})}, {0}, 1, 100);
  b.begin(5, "1", 0);
  b.add(insert_of(0));
  b.reset();
  EXPECT_EQ(b.buffered(), 0u);
  EXPECT_FALSE(b.in_transaction());
  EXPECT_TRUE(b.flush().empty());
}

TEST(change_batcher, a_key_update_takes_two_places_in_its_transaction) {
  // Debezium writes a key update as a delete and an insert, each an event
  // with its own total_order and data_collection_order.
  auto t = table({{"id", value_kind::int32}, {"v", value_kind::text}});
  change_batcher b({t, t}, {0, 0}, 1, 100);
  b.begin(9, "9", 0);
  auto update = [](uint32_t table, const char* old_id, const char* new_id) {
    row_change c;
    c.table = table;
    c.op = change_op::update;
    c.has_before = c.has_after = true;
    c.before.cells = {make_cell(old_id), make_cell("a")};
    c.after.cells = {make_cell(new_id), make_cell("b")};
    return c;
  };
  b.add(update(0, "1", "1"));  // same key: one event
  b.add(update(0, "1", "2"));  // key update: places 2 and 3
  b.add(update(1, "5", "6"));  // key update of another table: 4 and 5
  b.add(insert_of(0));         // then 6
  b.commit();
  auto out = b.flush();
  ASSERT_EQ(out.size(), 1u);
  const auto& c = out[0].changes;
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].total_order, 1);
  EXPECT_EQ(c[1].total_order, 2);
  EXPECT_EQ(c[1].data_collection_order, 2);
  EXPECT_EQ(c[2].total_order, 4);
  EXPECT_EQ(c[2].data_collection_order, 1);
  EXPECT_EQ(c[3].total_order, 6);
  EXPECT_EQ(c[3].data_collection_order, 4);
  // The stream checkpoint counts changes, not events.
  EXPECT_EQ(c[3].index, 4u);
}

TEST(change_batcher, a_batch_is_full_at_its_byte_limit) {
  auto t = table({{"id", value_kind::int32}, {"doc", value_kind::text}});
  row_change wide = insert_of(0);
  wide.after.cells = {make_cell("1"), make_cell(std::string(1000, 'x'))};
  auto limit = 3 * change_bytes(wide);
  change_batcher b({t}, {0}, 1, 100, limit);
  b.begin(1, "1", 0);
  std::vector<change_batch> full;
  for (int i = 0; i < 7; ++i)
    if (auto x = b.add(wide)) full.push_back(std::move(*x));
  ASSERT_EQ(full.size(), 2u);
  EXPECT_EQ(full[0].changes.size(), 3u);
  EXPECT_EQ(full[0].bytes, limit);
  EXPECT_EQ(b.buffered(), 1u);
  EXPECT_EQ(b.buffered_bytes(), change_bytes(wide));
}
