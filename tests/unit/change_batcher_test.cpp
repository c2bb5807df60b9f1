// From pgoutput tuples to table rows (projection, unchanged TOAST), and the
// grouping of changes into per-stream batches.

#include <gtest/gtest.h>

#include "actors/apply/change_batcher.hpp"

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

pg_relation relation(std::vector<std::string> names) {
  pg_relation r;
  r.id = 7;
  r.schema = "public";
  r.name = "t";
  for (auto& n : names) r.columns.push_back(pg_column{n, 25, -1, n == "id"});
  return r;
}

pg_tuple tuple(std::vector<cell> cells, std::vector<bool> toast = {}) {
  pg_tuple t;
  t.values.cells = std::move(cells);
  t.unchanged_toast = toast.empty() ? std::vector<bool>(t.values.cells.size(), false) : toast;
  return t;
}

row_change insert_of(uint32_t table_index) {
  row_change c;
  c.table = table_index;
  c.has_after = true;
  return c;
}

}  // namespace

TEST(change_mapping, projects_relation_columns_by_name) {
  auto t = table({{"id", value_kind::int32}, {"note", value_kind::text}});
  auto rel = relation({"note", "extra", "id"});
  auto cols = map_relation(rel, t);
  ASSERT_EQ(cols, (std::vector<int>{2, 0}));
  EXPECT_FALSE(same_columns(rel, t));
  auto r = project(tuple({make_cell("n"), make_cell("x"), make_cell("1")}), cols, t);
  EXPECT_EQ(r.cells[0].text, "1");
  EXPECT_EQ(r.cells[1].text, "n");
}

TEST(change_mapping, a_column_the_relation_lacks_is_null) {
  auto t = table({{"id", value_kind::int32}, {"added", value_kind::text}});
  auto cols = map_relation(relation({"id"}), t);
  auto r = project(tuple({make_cell("1")}), cols, t);
  EXPECT_FALSE(r.cells[0].null);
  EXPECT_TRUE(r.cells[1].null);
}

TEST(change_mapping, unchanged_toast_comes_from_a_full_old_image) {
  auto t = table({{"id", value_kind::int32}, {"doc", value_kind::text}});
  auto cols = map_relation(relation({"id", "doc"}), t);
  auto old = tuple({make_cell("1"), make_cell("long text")});
  size_t unavailable = 0;
  auto r = project(tuple({make_cell("1"), null_cell()}, {false, true}), cols, t, &old, &unavailable);
  EXPECT_EQ(r.cells[1].text, "long text");
  EXPECT_EQ(unavailable, 0u);
}

TEST(change_mapping, unchanged_toast_without_old_image_is_marked_not_invented) {
  auto t = table({{"id", value_kind::int32}, {"doc", value_kind::text},
                  {"amount", value_kind::decimal}});
  auto cols = map_relation(relation({"id", "doc", "amount"}), t);
  size_t unavailable = 0;
  auto r = project(tuple({make_cell("1"), null_cell(), null_cell()}, {false, true, true}), cols, t,
                   nullptr, &unavailable);
  EXPECT_EQ(r.cells[1].text, unavailable_value_marker);
  EXPECT_FALSE(r.cells[1].null);
  // A numeric column cannot carry the marker: null, never a made-up number.
  EXPECT_TRUE(r.cells[2].null);
  EXPECT_EQ(unavailable, 2u);
}

TEST(change_mapping, key_only_keeps_the_key_columns) {
  auto t = table({{"id", value_kind::int32}, {"v", value_kind::text}});
  row after{{make_cell("5"), make_cell("x")}};
  auto k = key_only(after, t);
  EXPECT_EQ(k.cells[0].text, "5");
  EXPECT_TRUE(k.cells[1].null);
}

TEST(change_batcher, numbers_changes_within_a_transaction_per_table_and_stream) {
  // Tables 0 and 1 share stream 0 (GLOBAL); table 2 has stream 1.
  change_batcher b({0, 0, 1}, 2, 100);
  b.begin(1000, 42, 1700000000000);
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
  EXPECT_EQ(s0[0].commit_lsn, 1000u);
  EXPECT_EQ(s0[0].xid, 42u);
  EXPECT_EQ(s0[0].commit_ms, 1700000000000);
  EXPECT_EQ(out[1].changes[0].index, 1u);
  EXPECT_EQ(out[1].changes[0].total_order, 3);
  EXPECT_EQ(out[0].transactions, (std::vector<uint64_t>{1000}));
  EXPECT_EQ(b.buffered(), 0u);
}

TEST(change_batcher, groups_whole_transactions_into_one_batch) {
  change_batcher b({0}, 1, 100);
  for (uint64_t lsn : {10, 20, 30}) {
    b.begin(lsn, static_cast<uint32_t>(lsn), 0);
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
  change_batcher b({0}, 1, 3);
  b.begin(77, 1, 0);
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
  change_batcher b({0}, 1, 100);
  b.begin(5, 1, 0);
  b.add(insert_of(0));
  b.reset();
  EXPECT_EQ(b.buffered(), 0u);
  EXPECT_FALSE(b.in_transaction());
  EXPECT_TRUE(b.flush().empty());
}
