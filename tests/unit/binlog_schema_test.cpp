// The schema of a TABLE_MAP's time (binlog_schema.hpp): when a logged table
// agrees with the run's schema, what a changed one becomes, and the
// spelling of columns described from the map alone.

#include <gtest/gtest.h>

#include "actors/source/binlog_schema.hpp"

namespace trib::binlog {
namespace {

column_def logged(const std::string& name, column_type t, uint32_t collation = 0) {
  column_def d;
  d.name = name;
  d.type = d.real_type = t;
  d.collation = collation;
  if (t == column_type::long_int || t == column_type::longlong) d.unsigned_flag = 0;
  return d;
}

column_info listed(const std::string& name, value_kind k, const std::string& type) {
  column_info c;
  c.name = name;
  c.kind = k;
  c.source_type = type;
  return c;
}

table_map map_of(std::vector<column_def> cols, std::vector<uint32_t> pk = {0}) {
  table_map m;
  m.database = "db";
  m.table = "t";
  m.columns = std::move(cols);
  m.has_names = true;
  m.has_primary_key = true;
  m.primary_key = std::move(pk);
  return m;
}

table_schema listing() {
  table_schema t;
  t.id = table_id{"db", "", "t"};
  t.columns = {listed("id", value_kind::int32, "INT"),
               listed("a", value_kind::text, "VARCHAR(10)")};
  t.columns[1].has_default = true;
  t.columns[1].default_value = "'x'";
  t.primary_key = {"id"};
  t.estimated_rows = 7;
  return t;
}

constexpr uint32_t utf8mb4 = 45;

TEST(binlog_schema, a_map_that_agrees_with_the_schema_changes_nothing) {
  auto m = map_of({logged("id", column_type::long_int), logged("a", column_type::varchar, utf8mb4)});
  EXPECT_FALSE(schema_at(listing(), m, {}).has_value());
}

TEST(binlog_schema, an_added_column_is_described_from_the_map_and_the_others_kept) {
  auto c = logged("c", column_type::newdecimal);
  c.precision = 10;
  c.scale = 2;
  c.nullable = false;
  auto m = map_of({logged("id", column_type::long_int), logged("a", column_type::varchar, utf8mb4),
                   c});
  auto s = schema_at(listing(), m, {});
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->columns.size(), 3u);
  EXPECT_EQ(s->columns[1].default_value, "'x'");  // the listed column, whole
  EXPECT_EQ(s->columns[2].name, "c");
  EXPECT_EQ(s->columns[2].kind, value_kind::decimal);
  EXPECT_EQ(s->columns[2].source_type, "DECIMAL(10,2)");
  EXPECT_TRUE(s->columns[2].not_null);
  EXPECT_EQ(s->primary_key, std::vector<std::string>{"id"});
  EXPECT_EQ(s->estimated_rows, 7u);
}

TEST(binlog_schema, a_dropped_column_leaves_and_a_changed_type_is_described_anew) {
  auto m = map_of({logged("id", column_type::longlong)});
  auto s = schema_at(listing(), m, {});
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->columns.size(), 1u);
  EXPECT_EQ(s->columns[0].kind, value_kind::int64);
  EXPECT_EQ(s->columns[0].source_type, "BIGINT");
}

TEST(binlog_schema, a_newer_listing_describes_columns_the_current_schema_lacks) {
  table_schema newest = listing();
  newest.columns.push_back(listed("b", value_kind::int16, "SMALLINT UNSIGNED"));
  newest.columns.back().kind = value_kind::uint16;
  auto b = logged("b", column_type::short_int);
  b.unsigned_flag = 1;
  auto m = map_of({logged("id", column_type::long_int), logged("a", column_type::varchar, utf8mb4),
                   b});
  auto s = schema_at(listing(), m, {}, &newest);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->columns[2].source_type, "SMALLINT UNSIGNED");
  // A listed column the map contradicts (signedness) is not used.
  b.unsigned_flag = 0;
  m.columns[2] = b;
  s = schema_at(listing(), m, {}, &newest);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->columns[2].kind, value_kind::int16);
  EXPECT_EQ(s->columns[2].source_type, "SMALLINT");
}

TEST(binlog_schema, the_column_filter_keeps_its_columns_and_the_key) {
  table_schema t = listing();
  t.columns.pop_back();  // the filter allows "b" only; "id" is the key
  t.columns.push_back(listed("b", value_kind::int32, "INT"));
  auto m = map_of({logged("id", column_type::long_int), logged("a", column_type::varchar, utf8mb4),
                   logged("b", column_type::long_int)});
  EXPECT_FALSE(schema_at(t, m, {"b"}).has_value());
  // "b" becomes BIGINT: the filtered schema follows, "a" stays out.
  m.columns[2] = logged("b", column_type::longlong);
  auto s = schema_at(t, m, {"b"});
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->columns.size(), 2u);
  EXPECT_EQ(s->columns[0].name, "id");
  EXPECT_EQ(s->columns[1].kind, value_kind::int64);
}

TEST(binlog_schema, type_changes_that_keep_the_binlog_type_are_seen) {
  auto cur = listing();
  cur.columns.push_back(listed("d", value_kind::decimal, "DECIMAL(8,2)"));
  cur.columns.back().precision = 8;
  cur.columns.back().scale = 2;
  cur.columns.push_back(listed("ts", value_kind::timestamp, "DATETIME"));
  auto d = logged("d", column_type::newdecimal);
  d.precision = 8;
  d.scale = 2;
  auto ts = logged("ts", column_type::datetime2);
  auto m = map_of({logged("id", column_type::long_int), logged("a", column_type::varchar, utf8mb4),
                   d, ts});
  EXPECT_FALSE(schema_at(cur, m, {}).has_value());
  m.columns[2].scale = 4;  // DECIMAL(8,4)
  auto s = schema_at(cur, m, {});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->columns[2].source_type, "DECIMAL(8,4)");
  m.columns[2].scale = 2;
  m.columns[3].fsp = 3;  // DATETIME(3)
  s = schema_at(cur, m, {});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->columns[3].source_type, "DATETIME(3)");
  EXPECT_EQ(s->columns[3].precision, 3);
  // VARCHAR to TEXT: the same values, another type.
  m.columns[3].fsp = 0;
  auto text = logged("a", column_type::blob, utf8mb4);
  text.pack_length = 2;
  m.columns[1] = text;
  s = schema_at(cur, m, {});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->columns[1].source_type, "TEXT");
}

TEST(binlog_schema, logged_columns_are_spelled_as_the_listing_spells_them) {
  auto vc = logged("v", column_type::varchar, utf8mb4);
  vc.max_length = 80;
  EXPECT_EQ(describe_logged(vc).source_type, "VARCHAR(20)");
  auto vb = logged("v", column_type::varchar, binary_collation);
  vb.max_length = 8;
  EXPECT_EQ(describe_logged(vb).source_type, "VARBINARY(8)");
  EXPECT_EQ(describe_logged(vb).kind, value_kind::bytes);
  auto e = logged("e", column_type::string);
  e.real_type = column_type::enum_;
  e.labels = {"sad", "it's"};
  auto ec = describe_logged(e);
  EXPECT_EQ(ec.source_type, "ENUM('sad','it''s')");
  EXPECT_EQ(ec.allowed, e.labels);
  auto u = logged("u", column_type::longlong);
  u.unsigned_flag = 1;
  EXPECT_EQ(describe_logged(u).kind, value_kind::uint64);
  EXPECT_EQ(describe_logged(u).source_type, "BIGINT UNSIGNED");
  auto lb = logged("b", column_type::blob, binary_collation);
  lb.pack_length = 4;
  EXPECT_EQ(describe_logged(lb).source_type, "LONGBLOB");
  auto ts = logged("t", column_type::timestamp2);
  ts.fsp = 2;
  EXPECT_EQ(describe_logged(ts).kind, value_kind::timestamptz);
  EXPECT_EQ(describe_logged(ts).source_type, "TIMESTAMP(2)");
}

TEST(binlog_schema, mariadb_json_listed_as_json_matches_its_longtext) {
  auto cur = listing();
  cur.columns.push_back(listed("js", value_kind::json, "JSON"));
  auto js = logged("js", column_type::blob, utf8mb4);
  js.pack_length = 4;
  auto m = map_of({logged("id", column_type::long_int), logged("a", column_type::varchar, utf8mb4),
                   js});
  EXPECT_FALSE(schema_at(cur, m, {}).has_value());
}

}  // namespace
}  // namespace trib::binlog
