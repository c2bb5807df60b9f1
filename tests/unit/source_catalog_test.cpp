// The catalog rules both source sessions share (actors/source/session_common):
// which tables a filter lets through, which columns stay, extractor settings,
// and the text helpers. Pure functions, no server.

#include <gtest/gtest.h>

#include "actors/source/session_common.hpp"
#include "messages/failure.hpp"

namespace {

using namespace trib;
using namespace trib::source_detail;

column_info col(const std::string& name, bool not_null = false) {
  column_info c;
  c.name = name;
  c.not_null = not_null;
  return c;
}

table_schema table(const std::string& catalog, const std::string& schema,
                   const std::string& name, std::vector<column_info> cols) {
  table_schema t;
  t.id = table_id{catalog, schema, name};
  t.columns = std::move(cols);
  return t;
}

std::vector<std::string> names(const table_schema& t) {
  std::vector<std::string> out;
  for (const auto& c : t.columns) out.push_back(c.name);
  return out;
}

filter_config allow(const std::string& catalog, const std::string& schema,
                    std::map<std::string, filter_table> tables = {}) {
  filter_config f;
  filter_catalog fc;
  fc.catalog = catalog;
  fc.schema = schema;
  fc.tables = std::move(tables);
  f.allow.push_back(fc);
  return f;
}

TEST(source_catalog, no_filter_keeps_every_table_sorted_by_id) {
  std::vector<table_schema> all = {table("db", "s2", "a", {col("x")}),
                                   table("db", "s1", "b", {col("x")}),
                                   table("db", "s1", "a", {col("x")})};
  auto out = finish_listing(all, {}, {});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(to_string(out[0].id), "db.s1.a");
  EXPECT_EQ(to_string(out[1].id), "db.s1.b");
  EXPECT_EQ(to_string(out[2].id), "db.s2.a");
}

TEST(source_catalog, filter_matches_catalog_schema_and_table) {
  std::vector<table_schema> all = {table("db", "public", "a", {col("x")}),
                                   table("db", "public", "b", {col("x")}),
                                   table("db", "other", "a", {col("x")}),
                                   table("db2", "public", "a", {col("x")})};
  auto out = finish_listing(all, allow("db", "public", {{"a", {}}}), {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(to_string(out[0].id), "db.public.a");
  // An entry without tables allows the whole schema.
  EXPECT_EQ(finish_listing(all, allow("db", "public"), {}).size(), 2u);
  // An empty schema matches every schema.
  EXPECT_EQ(finish_listing(all, allow("db", ""), {}).size(), 3u);
}

TEST(source_catalog, tables_without_schema_ignore_the_filter_schema) {
  std::vector<table_schema> all = {table("tpch", "", "orders", {col("x")}),
                                   table("other", "", "orders", {col("x")})};
  auto out = finish_listing(all, allow("tpch", "ignored", {{"orders", {}}}), {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id.catalog, "tpch");
}

TEST(source_catalog, column_filter_keeps_order_columns_and_whole_unique_keys) {
  auto t = table("db", "s", "t", {col("id", true), col("a"), col("b"), col("c")});
  t.primary_key = {"id"};
  t.unique_keys = {{"a"}, {"b", "c"}};
  filter_table ft;
  ft.columns = {"b", "a"};
  auto out = finish_listing({t}, allow("db", "s", {{"t", ft}}), {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(names(out[0]), (std::vector<std::string>{"id", "a", "b"}));
  EXPECT_EQ(out[0].unique_keys, (std::vector<std::vector<std::string>>{{"a"}}));
}

TEST(source_catalog, column_filter_keeps_the_row_identifier_key) {
  auto t = table("db", "s", "t", {col("k"), col("a"), col("b")});
  extractor_config ex;
  extractor_catalog_config ec;
  ec.catalog = "db";
  ec.schema = "s";
  ec.tables["t"].row_identifier_key = {"k"};
  ec.tables["t"].split_key = "k";
  ex.snapshot.per_table_config.push_back(ec);
  filter_table ft;
  ft.columns = {"b"};
  auto out = finish_listing({t}, allow("db", "s", {{"t", ft}}), ex);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(names(out[0]), (std::vector<std::string>{"k", "b"}));
  EXPECT_EQ(out[0].row_identifier_key, std::vector<std::string>{"k"});
  EXPECT_EQ(out[0].split_key, "k");
}

TEST(source_catalog, a_missing_filter_column_is_a_config_error_naming_it) {
  auto t = table("db", "s", "t", {col("a")});
  filter_table ft;
  ft.columns = {"a", "ghost"};
  try {
    finish_listing({t}, allow("db", "s", {{"t", ft}}), {});
    FAIL() << "accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::config);
    EXPECT_NE(std::string(e.what()).find("ghost"), std::string::npos);
  }
}

TEST(source_catalog, a_missing_filter_table_is_skipped) {
  auto t = table("db", "s", "t", {col("a")});
  auto out = finish_listing({t}, allow("db", "s", {{"t", {}}, {"ghost", {}}}), {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id.table, "t");
}

TEST(source_catalog, a_row_identifier_key_naming_a_missing_column_is_a_config_error) {
  auto t = table("db", "", "t", {col("a")});
  extractor_config ex;
  extractor_catalog_config ec;
  ec.catalog = "db";
  ec.tables["t"].row_identifier_key = {"nope"};
  ex.snapshot.per_table_config.push_back(ec);
  EXPECT_THROW(finish_listing({t}, {}, ex), error);
}

TEST(source_catalog, filter_allows_reports_conditions) {
  filter_table ft;
  ft.conditions = "a > 1";
  table_filter out;
  EXPECT_TRUE(filter_allows(allow("db", "", {{"t", ft}}), table_id{"db", "", "t"}, &out));
  EXPECT_EQ(out.conditions, "a > 1");
  EXPECT_FALSE(filter_allows(allow("db", "", {{"t", ft}}), table_id{"db", "", "u"}));
}

TEST(source_catalog, upper_case_spares_quoted_parts) {
  EXPECT_EQ(upper_outside_quotes("enum('a','b''c')", '\''), "ENUM('a','b''c')");
  EXPECT_EQ(upper_outside_quotes("character varying(152)", '"'), "CHARACTER VARYING(152)");
  EXPECT_EQ(upper_outside_quotes("\"MixedCase\".mood", '"'), "\"MixedCase\".MOOD");
}

TEST(source_catalog, hex_of_raw_bytes) {
  EXPECT_EQ(to_hex(std::string("\0\xff\x10", 3)), "00ff10");
  EXPECT_EQ(to_hex(""), "");
}

TEST(source_catalog, default_ports_by_kind) {
  source_config cfg;
  cfg.kind = source_kind::postgresql;
  EXPECT_EQ(effective_port(cfg), 5432);
  cfg.kind = source_kind::mariadb;
  EXPECT_EQ(effective_port(cfg), 3306);
  cfg.port = 53306;
  EXPECT_EQ(effective_port(cfg), 53306);
}

}  // namespace
