// From pgoutput relations and tuples to table rows (projection, unchanged
// TOAST, key-only old images).

#include <gtest/gtest.h>

#include "actors/source/pg_relations.hpp"

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
