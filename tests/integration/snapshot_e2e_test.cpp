// End to end: the tributary binary snapshots real PostgreSQL and MariaDB
// tables into the real Redis, and the streams hold exactly the rows, in the
// message format of the contract.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "tests/integration/fixture.hpp"

using namespace trib;
using namespace trib::test;
namespace json = boost::json;

namespace {

constexpr int rows = 2500;

std::string work_dir(const std::string& name) { return fresh_dir("trib_e2e_" + name); }

std::string applier(const std::string& dir) {
  return write_file(dir + "/applier.yaml",
                    "snapshot:\n  threads: 2\n  batch-size-rows: 300\n"
                    "  txn-size-rows: 1_000_000\n");
}

json::value payload_of(const std::string& doc) {
  auto v = json::parse(doc);
  return v.at("payload");
}

void expect_schema_and_payload(const std::string& doc) {
  auto v = json::parse(doc);
  ASSERT_TRUE(v.is_object());
  EXPECT_TRUE(v.as_object().contains("schema")) << doc.substr(0, 200);
  EXPECT_TRUE(v.as_object().contains("payload")) << doc.substr(0, 200);
}

class snapshot_e2e : public ::testing::Test {
protected:
  void SetUp() override {
    r_ = redis();
    delete_keys(*r_, "trib_e2e*");
    delete_keys(*r_, "replicate_io_*e2e*");
  }
  std::unique_ptr<redis_client> r_;
};

}  // namespace

TEST_F(snapshot_e2e, postgresql_tables_arrive_whole_typed_and_keyed) {
  pg_fresh_database("trib_e2e");
  pg_exec("trib_e2e",
          "CREATE TABLE items(id int PRIMARY KEY, name varchar(20) NOT NULL, "
          "price numeric(10,2), qty smallint, big bigint, ratio double precision, "
          "flag boolean, born date, at timestamp, note text);"
          "INSERT INTO items SELECT g, 'item ' || g, g * 1.25, (g % 100)::smallint, "
          "g::bigint * 1000000000, g / 8.0, g % 2 = 0, date '1969-12-31' + g, "
          "timestamp '2024-01-01 00:00:00.000001' + g * interval '1 second', "
          "CASE WHEN g % 10 = 0 THEN NULL ELSE 'note ' || g END "
          "FROM generate_series(1, " + std::to_string(rows) + ") g;"
          "CREATE TABLE nokey(a int, b text);"
          "INSERT INTO nokey VALUES (1, 'x'), (1, 'x'), (2, NULL);"
          "CREATE TABLE ukey(code text NOT NULL UNIQUE, v int);"
          "INSERT INTO ukey VALUES ('a', 1), ('b', 2);");
  auto dir = work_dir("pg");
  auto src = write_file(dir + "/pg.yaml",
                        "type: POSTGRESQL\nhost: 127.0.0.1\nport: " +
                          std::to_string(pg_port()) +
                          "\ndatabase: trib_e2e\nusername: tributary\npassword: ${TRIB_E2E_PW}\n");
  auto filter = write_file(dir + "/filter.yaml",
                           "allow:\n- catalog: trib_e2e\n  schema: public\n  types: [TABLE]\n"
                           "  allow:\n    items:\n    nokey:\n    ukey:\n");
  setenv("TRIB_E2E_PW", source_password(), 1);
  auto res = run_tributary("snapshot " + src + " " + redis_conn(dir) + " --applier " +
                           applier(dir) + " --filter " + filter +
                           " --id e2e_pg --data-dir " + dir + "/data");
  ASSERT_EQ(res.exit_code, 0) << res.output;

  auto items = read_stream(*r_, "trib_e2e_public_items");
  ASSERT_EQ(items.size(), static_cast<size_t>(rows));
  std::set<int64_t> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    auto key = payload_of(items[i].key);
    auto value = payload_of(items[i].value);
    int64_t id = key.at("id").as_int64();
    EXPECT_TRUE(seen.insert(id).second) << "duplicate id " << id;
    const auto& after = value.at("after");
    EXPECT_EQ(after.at("id").as_int64(), id);
    EXPECT_TRUE(value.at("before").is_null());
    EXPECT_EQ(value.at("op"), "r");
    if (id == 4) {
      expect_schema_and_payload(items[i].value);
      EXPECT_EQ(after.at("name"), "item 4");
      EXPECT_EQ(after.at("price"), "5.00");
      EXPECT_EQ(after.at("qty").as_int64(), 4);
      EXPECT_EQ(after.at("big").as_int64(), 4000000000LL);
      EXPECT_DOUBLE_EQ(after.at("ratio").to_number<double>(), 0.5);
      EXPECT_EQ(after.at("flag"), true);
      EXPECT_EQ(after.at("born").as_int64(), 3);  // 1970-01-04
      EXPECT_EQ(after.at("at").as_int64(), 1704067204000001LL);
      EXPECT_EQ(after.at("note"), "note 4");
      const auto& source = value.at("source");
      EXPECT_EQ(source.at("connector"), "POSTGRESQL");
      EXPECT_EQ(source.at("db"), "trib_e2e");
      EXPECT_EQ(source.at("schema"), "public");
      EXPECT_EQ(source.at("table"), "items");
      EXPECT_EQ(source.at("snapshot"), "true");
    }
    if (id == 10) {
      EXPECT_TRUE(after.at("note").is_null());
    }
  }
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), rows);
  EXPECT_EQ(payload_of(items.back().value).at("source").at("snapshot"), "last");

  auto nokey = read_stream(*r_, "trib_e2e_public_nokey");
  ASSERT_EQ(nokey.size(), 3u);
  for (const auto& e : nokey) EXPECT_EQ(e.key, "default");

  auto ukey = read_stream(*r_, "trib_e2e_public_ukey");
  ASSERT_EQ(ukey.size(), 2u);
  EXPECT_EQ(payload_of(ukey[0].key).at("code"), "a");

  auto ckpt = r_->command({"HGET", "replicate_io_checkpoint_default_e2e_pg",
                           "trib_e2e_public_items"});
  EXPECT_EQ(ckpt.type, redis_reply::kind::string) << ckpt.str;
  EXPECT_TRUE(std::filesystem::exists(dir + "/data/e2e_pg/trace.log"));

  // The run summary: the mode, every table with its rows, the exit code.
  auto summaries = run_summaries(dir + "/data/e2e_pg");
  ASSERT_EQ(summaries.size(), 1u);
  auto summary = boost::json::parse(summaries[0]).as_object();
  EXPECT_EQ(summary.at("mode"), "snapshot");
  EXPECT_EQ(summary.at("exit_code").as_int64(), 0);
  EXPECT_EQ(summary.at("rows").to_number<int64_t>(), rows + 3 + 2);
  std::map<std::string, int64_t> table_rows;
  for (const auto& t : summary.at("tables").as_array())
    table_rows[std::string(t.at("stream").as_string())] = t.at("rows").to_number<int64_t>();
  EXPECT_EQ(table_rows, (std::map<std::string, int64_t>{{"trib_e2e_public_items", rows},
                                                        {"trib_e2e_public_nokey", 3},
                                                        {"trib_e2e_public_ukey", 2}}));
  EXPECT_TRUE(summary.at("skipped").as_array().empty());
}

TEST_F(snapshot_e2e, mariadb_tables_arrive_whole_typed_and_keyed) {
  maria_exec("DROP DATABASE IF EXISTS trib_e2e; CREATE DATABASE trib_e2e;"
             "CREATE TABLE trib_e2e.items(id int PRIMARY KEY, name varchar(20) NOT NULL, "
             "price decimal(10,2), qty smallint, big bigint, ratio double, flag boolean, "
             "born date, at datetime(6), note text) CHARACTER SET utf8mb4;"
             "INSERT INTO trib_e2e.items SELECT seq, CONCAT('item ', seq), seq * 1.25, "
             "seq % 100, seq * 1000000000, seq / 8.0, seq % 2 = 0, "
             "DATE_ADD('1969-12-31', INTERVAL seq DAY), "
             "DATE_ADD('2024-01-01 00:00:00.000001', INTERVAL seq SECOND), "
             "IF(seq % 10 = 0, NULL, CONCAT('note ', seq)) FROM trib_e2e.seq_1_to_" +
             std::to_string(rows) + ";");
  auto dir = work_dir("maria");
  auto src = write_file(dir + "/maria.yaml",
                        "type: MARIADB\nhost: 127.0.0.1\nport: " +
                          std::to_string(mariadb_port()) +
                          "\nusername: tributary\npassword: tributary\n"
                          "slave-server-ids: [101]\n");
  auto filter = write_file(dir + "/filter.yaml",
                           "allow:\n- catalog: trib_e2e\n  types: [TABLE]\n");
  auto res = run_tributary("snapshot " + src + " " + redis_conn(dir) + " --applier " +
                           applier(dir) + " --filter " + filter +
                           " --id e2e_maria --data-dir " + dir + "/data");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto items = read_stream(*r_, "trib_e2e_items");
  ASSERT_EQ(items.size(), static_cast<size_t>(rows));
  std::set<int64_t> seen;
  for (const auto& e : items) {
    auto value = payload_of(e.value);
    const auto& after = value.at("after");
    int64_t id = after.at("id").as_int64();
    seen.insert(id);
    if (id == 4) {
      EXPECT_EQ(after.at("price"), "5.00");
      EXPECT_EQ(after.at("flag").as_int64(), 1);  // BOOLEAN is TINYINT(1) in MariaDB
      EXPECT_EQ(after.at("born").as_int64(), 3);
      EXPECT_EQ(after.at("at").as_int64(), 1704067204000001LL);
      const auto& source = value.at("source");
      EXPECT_EQ(source.at("db"), "trib_e2e");
      EXPECT_EQ(source.at("table"), "items");
      EXPECT_EQ(source.at("server_id").as_int64(), 1);
      EXPECT_FALSE(source.at("file").as_string().empty());
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(rows));
}

TEST_F(snapshot_e2e, misspelt_key_is_a_configuration_error_with_its_place) {
  auto dir = work_dir("badconf");
  auto src = write_file(dir + "/pg.yaml",
                        "type: POSTGRESQL\nhost: 127.0.0.1\nport: 55432\n"
                        "database: trib_e2e\nusrname: tributary\n");
  auto res = run_tributary("snapshot " + src + " " + redis_conn(dir));
  EXPECT_EQ(res.exit_code, 2) << res.output;
  EXPECT_NE(res.output.find(src + ":5:1"), std::string::npos) << res.output;
  EXPECT_NE(res.output.find("username"), std::string::npos) << res.output;
}

TEST_F(snapshot_e2e, unreachable_source_fails_with_one_clear_message) {
  auto dir = work_dir("unreachable");
  auto src = write_file(dir + "/pg.yaml",
                        "type: POSTGRESQL\nhost: 127.0.0.1\nport: 1\ndatabase: x\n"
                        "username: u\npassword: p\nmax-retries: 1\n"
                        "retry-wait-duration-ms: 10\n");
  auto res = run_tributary("snapshot " + src + " " + redis_conn(dir) + " --data-dir " +
                           dir + "/data");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_NE(res.output.find("127.0.0.1:1"), std::string::npos) << res.output;
}

TEST_F(snapshot_e2e, a_coordinator_without_its_mode_is_a_usage_error) {
  // The multi-node commands exist (tests/integration/nodes_*_test.cpp); a
  // coordinator still needs the mode it runs before its files.
  auto res = run_tributary("coordinator a b");
  EXPECT_EQ(res.exit_code, 2) << res.output;
  EXPECT_NE(res.output.find("coordinator takes a mode first (snapshot, realtime or full), got 'a'"),
            std::string::npos)
    << res.output;
}
