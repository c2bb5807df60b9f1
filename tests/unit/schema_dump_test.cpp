#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include "actors/apply/schema_dump.hpp"
#include "messages/failure.hpp"

using namespace trib;
namespace json = boost::json;

namespace {

column_info col(std::string name, std::string type, bool not_null) {
  column_info c;
  c.name = std::move(name);
  c.source_type = std::move(type);
  c.not_null = not_null;
  return c;
}

// The region table of the seed document's sample dump.
table_schema region() {
  table_schema t;
  t.id = table_id{"tpch_scale_0_01", "", "region"};
  t.columns = {col("r_regionkey", "INT", true), col("r_name", "CHAR(25)", true),
               col("r_comment", "VARCHAR(152)", false)};
  t.primary_key = {"r_regionkey"};
  return t;
}

}  // namespace

TEST(schema_dump, has_the_structure_of_the_seed_sample) {
  auto v = json::parse(schema_dump_json({region()}, source_kind::mysql));
  EXPECT_EQ(v.at("sourceType"), "MYSQL");
  const auto& form = v.at("form");
  EXPECT_EQ(form.at("encrypted"), false);
  const auto& schemas = form.at("schemas").as_array();
  ASSERT_EQ(schemas.size(), 2u);
  EXPECT_EQ(schemas[0], "java.util.ArrayList");
  const auto& s = schemas[1].as_array().at(0);
  EXPECT_EQ(s.at("catalog"), "tpch_scale_0_01");
  EXPECT_TRUE(s.at("schema").is_null());
  const auto& t = s.at("tables").as_array().at(1).as_array().at(0);
  EXPECT_EQ(t.at("name"), "region");
  EXPECT_EQ(t.at("sharded"), false);
  EXPECT_EQ(t.at("objectType"), "TABLE");
  const auto& c = t.at("columns").as_array().at(1).as_array().at(1);
  EXPECT_EQ(c.at("name"), "r_name");
  EXPECT_EQ(c.at("type"), "CHAR(25)");
  EXPECT_TRUE(c.at("default").is_null());
  EXPECT_EQ(c.at("notNull"), true);
  for (const char* k : {"identity", "generated"}) EXPECT_EQ(c.at(k), false);
  for (const char* k : {"selectSql", "cdcTransformFunction"}) EXPECT_TRUE(c.at(k).is_null());
  EXPECT_EQ(t.at("primaryKey").at("columns").as_array().at(1).as_array().at(0),
            "r_regionkey");
  EXPECT_EQ(t.at("uniqueKeys").as_array().at(0), "java.util.ArrayList");
  EXPECT_EQ(form.at("userRoles").at("users").as_array().at(0), "java.util.ArrayList");
}

TEST(schema_dump, groups_tables_by_catalog_and_schema) {
  auto a = region();
  a.id = {"shop", "public", "orders"};
  auto b = region();
  b.id = {"shop", "sales", "orders"};
  auto c = region();
  c.id = {"shop", "public", "lines"};
  auto v = json::parse(schema_dump_json({a, b, c}, source_kind::postgresql));
  const auto& schemas = v.at("form").at("schemas").as_array().at(1).as_array();
  ASSERT_EQ(schemas.size(), 2u);
  EXPECT_EQ(schemas[0].at("schema"), "public");
  EXPECT_EQ(schemas[0].at("tables").as_array().at(1).as_array().size(), 2u);
  EXPECT_EQ(schemas[1].at("schema"), "sales");
}

TEST(schema_dump, reads_back_what_it_wrote) {
  auto t = region();
  t.unique_keys = {{"r_name"}};
  t.columns[2].has_default = true;
  t.columns[2].default_value = "'none'";
  source_kind kind{};
  auto back = parse_schema_dump(schema_dump_json({t}, source_kind::mariadb), &kind);
  EXPECT_EQ(kind, source_kind::mariadb);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, t.id);
  ASSERT_EQ(back[0].columns.size(), 3u);
  EXPECT_EQ(back[0].columns[2].default_value, "'none'");
  EXPECT_TRUE(back[0].columns[0].not_null);
  EXPECT_EQ(back[0].primary_key, t.primary_key);
  EXPECT_EQ(back[0].unique_keys, t.unique_keys);
}

TEST(schema_dump, malformed_dump_is_named) {
  try {
    parse_schema_dump("{\"form\": 3, \"sourceType\": \"MYSQL\"}");
    FAIL() << "expected an error";
  } catch (const trib::error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data);
    EXPECT_NE(std::string(e.what()).find("no form object"), std::string::npos);
  }
}

TEST(schema_dump, schemas_yaml_keeps_only_what_the_filter_allows) {
  auto a = region();
  auto b = region();
  b.id.table = "nation";
  filter_config f;
  filter_catalog fc;
  fc.catalog = "tpch_scale_0_01";
  fc.tables["nation"] = {};
  f.allow.push_back(fc);
  auto doc = YAML::Load(schemas_yaml({a, b}, source_kind::mysql, f));
  ASSERT_EQ(doc["tables"].size(), 1u);
  EXPECT_EQ(doc["tables"][0]["name"].as<std::string>(), "nation");
  EXPECT_EQ(doc["tables"][0]["columns"][1]["type"].as<std::string>(), "CHAR(25)");
  EXPECT_EQ(doc["tables"][0]["primary-key"][0].as<std::string>(), "r_regionkey");
  auto all = YAML::Load(schemas_yaml({a, b}, source_kind::mysql, {}));
  EXPECT_EQ(all["tables"].size(), 2u);
}
