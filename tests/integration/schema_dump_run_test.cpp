// The schema dump of a real run (design section 5): every run appends one
// entry with key "schema" to replicate_io_replication_schema_<group>_<id>, in
// the structure of Arcion's dump, and `tributary fetch-schemas` turns the
// newest one into YAML, restricted by a filter.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include "tests/integration/fixture.hpp"

using namespace trib;
using namespace trib::test;
namespace json = boost::json;

namespace {

const char* tag = "java.util.ArrayList";

std::string work_dir(const std::string& name) { return fresh_dir("trib_sd_" + name); }

// The list inside ["java.util.ArrayList", [...]], failing when untagged.
const json::array& untag(const json::value& v) {
  const auto& a = v.as_array();
  EXPECT_EQ(a.size(), 2u) << json::serialize(v);
  EXPECT_EQ(a.at(0), tag) << json::serialize(v);
  return a.at(1).as_array();
}

const json::object& find_named(const json::array& list, const std::string& name) {
  for (const auto& x : list)
    if (x.at("name") == name.c_str()) return x.as_object();
  throw std::runtime_error("no entry named " + name);
}

std::vector<std::string> key_columns(const json::value& key) {
  std::vector<std::string> out;
  for (const auto& c : untag(key.at("columns"))) out.emplace_back(c.as_string());
  return out;
}

// Every column carries exactly the seed's keys.
void expect_column_keys(const json::object& c) {
  std::set<std::string> keys;
  for (const auto& kv : c) keys.insert(std::string(kv.key()));
  std::set<std::string> want{"name", "type", "default", "notNull", "identity",
                             "generated", "selectSql", "cdcTransformFunction"};
  EXPECT_EQ(keys, want) << json::serialize(c);
  EXPECT_TRUE(c.at("selectSql").is_null());
  EXPECT_TRUE(c.at("cdcTransformFunction").is_null());
}

class schema_dump_run : public ::testing::Test {
protected:
  void SetUp() override {
    r_ = redis();
    clean();
  }
  void TearDown() override { clean(); }
  void clean() {
    delete_keys(*r_, "trib_sd_*");
    delete_keys(*r_, "replicate_io_*_sdgrp_*");
    delete_keys(*r_, "replicate_io_*_sd_*");
  }
  std::unique_ptr<redis_client> r_;
};

}  // namespace

TEST_F(schema_dump_run, postgresql_run_appends_the_seed_structure_and_fetch_schemas_writes_yaml) {
  pg_fresh_database("trib_sd_pg");
  pg_exec("trib_sd_pg",
          "CREATE TABLE orders(id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
          "code varchar(10) NOT NULL UNIQUE, qty int DEFAULT 7, total numeric(12,2), "
          "twice int GENERATED ALWAYS AS (qty * 2) STORED);"
          "INSERT INTO orders(code, qty, total) VALUES ('a', 1, 2.50), ('b', 2, 3.75);"
          "CREATE TABLE notes(a int, b text);"
          "INSERT INTO notes VALUES (1, 'x');");
  auto dir = work_dir("pg");
  auto src = write_file(dir + "/pg.yaml", "type: POSTGRESQL\nhost: 127.0.0.1\nport: " +
                                            std::to_string(pg_port()) +
                                            "\ndatabase: trib_sd_pg\nusername: tributary\n"
                                            "password: tributary\n");
  auto filter = write_file(dir + "/filter.yaml",
                           "allow:\n- catalog: trib_sd_pg\n  schema: public\n  types: [TABLE]\n");
  auto dst = redis_conn(dir);
  std::string common = src + " " + dst + " --filter " + filter +
                       " --id sd_pg --group sdgrp --data-dir " + dir + "/data";
  auto res = run_tributary("snapshot " + common);
  ASSERT_EQ(res.exit_code, 0) << res.output;

  const std::string stream = "replicate_io_replication_schema_sdgrp_sd_pg";
  auto entries = read_stream(*r_, stream);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].key, "schema");
  auto dump = json::parse(entries[0].value);
  EXPECT_EQ(dump.at("sourceType"), "POSTGRESQL");
  const auto& schemas = untag(dump.at("form").at("schemas"));
  ASSERT_EQ(schemas.size(), 1u);
  EXPECT_EQ(schemas[0].at("catalog"), "trib_sd_pg");
  EXPECT_EQ(schemas[0].at("schema"), "public");
  const auto& tables = untag(schemas[0].at("tables"));
  ASSERT_EQ(tables.size(), 2u);

  const auto& orders = find_named(tables, "orders");
  const auto& cols = untag(orders.at("columns"));
  ASSERT_EQ(cols.size(), 5u);
  for (const auto& c : cols) expect_column_keys(c.as_object());
  const auto& id = find_named(cols, "id");
  EXPECT_EQ(id.at("type"), "INTEGER");
  EXPECT_EQ(id.at("notNull"), true);
  EXPECT_EQ(id.at("identity"), true);
  EXPECT_EQ(id.at("generated"), false);
  const auto& code = find_named(cols, "code");
  EXPECT_EQ(code.at("type"), "CHARACTER VARYING(10)");
  EXPECT_EQ(code.at("notNull"), true);
  EXPECT_TRUE(code.at("default").is_null());
  const auto& qty = find_named(cols, "qty");
  EXPECT_EQ(qty.at("default"), "7");
  EXPECT_EQ(qty.at("notNull"), false);
  EXPECT_EQ(find_named(cols, "total").at("type"), "NUMERIC(12,2)");
  EXPECT_EQ(find_named(cols, "twice").at("generated"), true);
  EXPECT_EQ(key_columns(orders.at("primaryKey")), std::vector<std::string>{"id"});
  std::vector<std::vector<std::string>> uks;
  for (const auto& uk : untag(orders.at("uniqueKeys"))) uks.push_back(key_columns(uk));
  EXPECT_NE(std::find(uks.begin(), uks.end(), std::vector<std::string>{"code"}), uks.end());
  const auto& notes = find_named(tables, "notes");
  EXPECT_TRUE(notes.at("primaryKey").is_null());
  EXPECT_TRUE(untag(notes.at("uniqueKeys")).empty());

  // A resumed run appends a second dump; the newest is what fetch-schemas reads.
  res = run_tributary("snapshot " + common + " --resume");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  entries = read_stream(*r_, stream);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].key, "schema");

  auto out = dir + "/schemas.yaml";
  res = run_tributary("fetch-schemas " + dst + " --id sd_pg --group sdgrp --output-file " + out);
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto y = YAML::LoadFile(out);
  EXPECT_EQ(y["source-type"].as<std::string>(), "POSTGRESQL");
  std::set<std::string> names;
  for (const auto& t : y["tables"]) {
    names.insert(t["name"].as<std::string>());
    EXPECT_EQ(t["catalog"].as<std::string>(), "trib_sd_pg");
    EXPECT_EQ(t["schema"].as<std::string>(), "public");
    if (t["name"].as<std::string>() == "orders") {
      ASSERT_EQ(t["columns"].size(), 5u);
      EXPECT_EQ(t["columns"][1]["name"].as<std::string>(), "code");
      EXPECT_EQ(t["columns"][1]["type"].as<std::string>(), "CHARACTER VARYING(10)");
      EXPECT_TRUE(t["columns"][1]["not-null"].as<bool>());
      EXPECT_EQ(t["primary-key"][0].as<std::string>(), "id");
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"orders", "notes"}));

  // --filter keeps only the tables it allows.
  auto only_notes = write_file(dir + "/notes.yaml",
                               "allow:\n- catalog: trib_sd_pg\n  schema: public\n"
                               "  types: [TABLE]\n  allow:\n    notes:\n");
  auto out2 = dir + "/notes_schemas.yaml";
  res = run_tributary("fetch-schemas " + dst + " --id sd_pg --group sdgrp --filter " +
                      only_notes + " --output-file " + out2);
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto y2 = YAML::LoadFile(out2);
  ASSERT_EQ(y2["tables"].size(), 1u);
  EXPECT_EQ(y2["tables"][0]["name"].as<std::string>(), "notes");
}

TEST_F(schema_dump_run, mariadb_dump_has_no_schema_part_and_its_source_type) {
  maria_exec("DROP DATABASE IF EXISTS trib_sd_maria; CREATE DATABASE trib_sd_maria;"
             "CREATE TABLE trib_sd_maria.region(r_regionkey int PRIMARY KEY, "
             "r_name char(25) NOT NULL, r_comment varchar(152), "
             "n int AUTO_INCREMENT UNIQUE);"
             "INSERT INTO trib_sd_maria.region(r_regionkey, r_name) VALUES (1, 'x');");
  auto dir = work_dir("maria");
  auto src = write_file(dir + "/maria.yaml", "type: MARIADB\nhost: 127.0.0.1\nport: " +
                                               std::to_string(mariadb_port()) +
                                               "\nusername: tributary\npassword: tributary\n");
  auto filter = write_file(dir + "/filter.yaml", "allow:\n- catalog: trib_sd_maria\n  types: [TABLE]\n");
  auto res = run_tributary("snapshot " + src + " " + redis_conn(dir) + " --filter " + filter +
                           " --id sd_maria --data-dir " + dir + "/data");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto entries = read_stream(*r_, "replicate_io_replication_schema_default_sd_maria");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].key, "schema");
  auto dump = json::parse(entries[0].value);
  EXPECT_EQ(dump.at("sourceType"), "MARIADB");
  const auto& schemas = untag(dump.at("form").at("schemas"));
  ASSERT_EQ(schemas.size(), 1u);
  EXPECT_EQ(schemas[0].at("catalog"), "trib_sd_maria");
  EXPECT_TRUE(schemas[0].at("schema").is_null());
  const auto& region = find_named(untag(schemas[0].at("tables")), "region");
  const auto& cols = untag(region.at("columns"));
  for (const auto& c : cols) expect_column_keys(c.as_object());
  // The seed's own example: INT, CHAR(25), VARCHAR(152).
  EXPECT_EQ(find_named(cols, "r_regionkey").at("type"), "INT");
  EXPECT_EQ(find_named(cols, "r_name").at("type"), "CHAR(25)");
  EXPECT_EQ(find_named(cols, "r_name").at("notNull"), true);
  EXPECT_EQ(find_named(cols, "r_comment").at("type"), "VARCHAR(152)");
  EXPECT_EQ(find_named(cols, "n").at("identity"), true);
  EXPECT_EQ(key_columns(region.at("primaryKey")), std::vector<std::string>{"r_regionkey"});
  EXPECT_EQ(untag(dump.at("form").at("userRoles").at("users")).size(), 0u);
  EXPECT_EQ(dump.at("form").at("encrypted"), false);
}

TEST_F(schema_dump_run, fetch_schemas_of_an_unknown_id_is_a_usage_error) {
  auto dir = work_dir("unknown");
  auto out = dir + "/schemas.yaml";
  auto res = run_tributary("fetch-schemas " + redis_conn(dir) + " --id sd_never_ran --output-file " + out);
  EXPECT_EQ(res.exit_code, 2) << res.output;
  EXPECT_NE(res.output.find("replicate_io_replication_schema_default_sd_never_ran"),
            std::string::npos) << res.output;
  EXPECT_NE(res.output.find("sd_never_ran"), std::string::npos) << res.output;
  EXPECT_FALSE(std::filesystem::exists(out));
}
