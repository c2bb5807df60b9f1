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

namespace {

// A table whose columns know their PostgreSQL type numbers, as the catalog
// lists them: (name, SQL spelling, type oid, type modifier).
struct typed {
  std::string name, type;
  uint32_t oid;
  int32_t mod;
};

table_schema typed_table(const std::vector<typed>& cols) {
  table_schema t;
  t.id = table_id{"db", "public", "t"};
  for (const auto& c : cols) {
    column_info i;
    i.name = c.name;
    i.source_type = c.type;
    i.type_oid = c.oid;
    i.type_modifier = c.mod;
    t.columns.push_back(i);
  }
  return t;
}

pg_relation typed_relation(const std::vector<typed>& cols) {
  pg_relation r;
  r.id = 7;
  r.schema = "public";
  r.name = "t";
  for (const auto& c : cols) r.columns.push_back(pg_column{c.name, c.oid, c.mod, c.name == "id"});
  return r;
}

// numeric(10,2) and numeric(12,4): ((precision << 16) | scale) + 4.
constexpr int32_t numeric_10_2 = ((10 << 16) | 2) + 4;
constexpr int32_t numeric_12_4 = ((12 << 16) | 4) + 4;

}  // namespace

TEST(column_types, the_same_names_and_types_need_no_catalog_query) {
  std::vector<typed> cols{{"id", "INTEGER", 23, -1}, {"amount", "NUMERIC(10,2)", 1700, numeric_10_2}};
  EXPECT_TRUE(same_columns(typed_relation(cols), typed_table(cols)));
}

TEST(column_types, a_type_change_alone_is_noticed) {
  auto t = typed_table({{"id", "INTEGER", 23, -1}, {"n", "INTEGER", 23, -1}});
  // ALTER COLUMN n TYPE bigint: same names, another oid.
  EXPECT_FALSE(same_columns(typed_relation({{"id", "INTEGER", 23, -1}, {"n", "BIGINT", 20, -1}}), t));
  // ALTER COLUMN n TYPE text.
  EXPECT_FALSE(same_columns(typed_relation({{"id", "INTEGER", 23, -1}, {"n", "TEXT", 25, -1}}), t));
}

TEST(column_types, a_type_modifier_change_is_noticed) {
  auto t = typed_table({{"id", "INTEGER", 23, -1},
                        {"amount", "NUMERIC(10,2)", 1700, numeric_10_2},
                        {"vc", "CHARACTER VARYING(10)", 1043, 10 + 4}});
  EXPECT_FALSE(same_columns(typed_relation({{"id", "INTEGER", 23, -1},
                                            {"amount", "NUMERIC(12,4)", 1700, numeric_12_4},
                                            {"vc", "CHARACTER VARYING(10)", 1043, 10 + 4}}),
                            t));
  EXPECT_FALSE(same_columns(typed_relation({{"id", "INTEGER", 23, -1},
                                            {"amount", "NUMERIC(10,2)", 1700, numeric_10_2},
                                            {"vc", "CHARACTER VARYING(40)", 1043, 40 + 4}}),
                            t));
}

TEST(column_types, a_table_listed_without_type_numbers_is_compared_by_name) {
  auto t = typed_table({{"id", "INTEGER", 0, -1}});
  EXPECT_TRUE(same_columns(typed_relation({{"id", "BIGINT", 20, -1}}), t));
}

TEST(column_types, a_fresh_listing_with_another_type_is_a_change_and_says_which) {
  auto before = typed_table({{"id", "INTEGER", 23, -1},
                             {"amount", "NUMERIC(10,2)", 1700, numeric_10_2},
                             {"gone", "TEXT", 25, -1}});
  auto now = typed_table({{"id", "BIGINT", 20, -1},
                          {"amount", "NUMERIC(12,4)", 1700, numeric_12_4},
                          {"note", "TEXT", 25, -1}});
  EXPECT_TRUE(columns_changed(before, now));
  EXPECT_EQ(describe_column_changes(before, now),
            "id INTEGER -> BIGINT, amount NUMERIC(10,2) -> NUMERIC(12,4), adds note, drops gone");
}

TEST(column_types, a_listing_that_differs_only_in_type_numbers_is_a_change) {
  // A type dropped and made again under the same name has another oid.
  auto before = typed_table({{"id", "INTEGER", 23, -1}, {"m", "MOOD", 16400, -1}});
  auto now = typed_table({{"id", "INTEGER", 23, -1}, {"m", "MOOD", 16500, -1}});
  EXPECT_TRUE(columns_changed(before, now));
  EXPECT_FALSE(columns_changed(before, before));
  // Unknown numbers (0) on one side: the spelling decides.
  auto unknown = typed_table({{"id", "INTEGER", 0, -1}, {"m", "MOOD", 0, -1}});
  EXPECT_FALSE(columns_changed(unknown, now));
}
