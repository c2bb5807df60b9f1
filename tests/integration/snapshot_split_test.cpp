// Split-key snapshots through the binary: a table whose extractor config
// names a split-key is read in four key ranges in parallel into its one
// stream. Every row arrives exactly once (NULL split-keys included), each
// range checkpoints apart, one entry -- the stream's last -- is marked
// "last", and a resumed run of a finished table writes nothing again.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "actors/apply/envelope.hpp"
#include "tests/integration/fixture.hpp"

using namespace trib;
using namespace trib::test;
namespace json = boost::json;

namespace {

constexpr int rows = 3000;

std::string work_dir(const std::string& name) { return fresh_dir("trib_split_" + name); }

class snapshot_split : public ::testing::Test {
protected:
  void SetUp() override {
    r_ = redis();
    delete_keys(*r_, "trib_split*");
    delete_keys(*r_, "replicate_io_*split*");
  }

  /// Runs a snapshot of `catalog`.`table` (schema `schema` unless empty) with
  /// split-key `key` read by four threads.
  run_result snapshot(const std::string& dir, const std::string& src, const std::string& catalog,
                      const std::string& schema, const std::string& key,
                      const std::string& extra = "") {
    auto dst = write_file(dir + "/redis.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                                 std::to_string(redis_port()) + "\n");
    std::string where = "  - catalog: " + catalog + "\n" +
                        (schema.empty() ? "" : "    schema: " + schema + "\n");
    auto extractor = write_file(dir + "/extractor.yaml",
                                "snapshot:\n  threads: 4\n  fetch-size-rows: 100\n"
                                "  per-table-config:\n" + where +
                                "    tables:\n      items:\n        split-key: " + key + "\n");
    auto applier = write_file(dir + "/applier.yaml", "snapshot:\n  batch-size-rows: 200\n");
    std::string allow = "allow:\n- catalog: " + catalog + "\n" +
                        (schema.empty() ? "" : "  schema: " + schema + "\n") +
                        "  types: [TABLE]\n";
    auto filter = write_file(dir + "/filter.yaml", allow);
    return run_tributary("snapshot " + src + " " + dst + " --extractor " + extractor +
                         " --applier " + applier + " --filter " + filter + " --id split_" +
                         dir.substr(dir.rfind('_') + 1) + " --data-dir " + dir + "/data " + extra);
  }

  /// Every id of the stream, the number of entries, and the marks.
  void expect_every_row_once(const std::string& stream, const std::string& id) {
    auto entries = read_stream(*r_, stream);
    ASSERT_EQ(entries.size(), static_cast<size_t>(rows));
    std::map<int64_t, int> seen;
    size_t last_marks = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      auto payload = json::parse(entries[i].value).at("payload");
      ++seen[payload.at("after").at("id").as_int64()];
      if (payload.at("source").at("snapshot") == "last") {
        ++last_marks;
        EXPECT_EQ(i + 1, entries.size()) << "the last mark is not on the stream's last entry";
      }
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(rows));
    for (const auto& [key, count] : seen) EXPECT_EQ(count, 1) << "id " << key;
    EXPECT_EQ(last_marks, 1u);
    // Four ranges, each checkpointed apart and done, and the stored plan.
    auto ckpt = checkpoint_key("default", id);
    for (int r = 1; r <= 4; ++r) {
      auto cp = r_->command({"HGET", ckpt, stream + "#" + std::to_string(r)});
      ASSERT_EQ(cp.type, redis_reply::kind::string) << "range " << r;
      EXPECT_TRUE(decode_snapshot_checkpoint(cp.str).done) << "range " << r;
    }
    EXPECT_EQ(r_->command({"HGET", ckpt, stream + "#5"}).type, redis_reply::kind::nil);
    auto plan = r_->command({"HGET", ckpt, stream + "#ranges"});
    ASSERT_EQ(plan.type, redis_reply::kind::string);
    EXPECT_EQ(json::parse(plan.str).at("bounds").as_array().size(), 3u);
  }

  std::unique_ptr<redis_client> r_;
};

}  // namespace

TEST_F(snapshot_split, mariadb_table_read_in_four_ranges_gives_every_row_once) {
  // The split-key is not the primary key, is skewed and has NULLs: ranges
  // are by value, and the NULL rows belong to the first range.
  maria_exec("DROP DATABASE IF EXISTS trib_split; CREATE DATABASE trib_split;"
             "CREATE TABLE trib_split.items(id int PRIMARY KEY, grp int NULL, "
             "name varchar(20) NOT NULL);"
             "INSERT INTO trib_split.items SELECT seq, IF(seq % 7 = 0, NULL, "
             "(seq * seq) % 1000), CONCAT('item ', seq) FROM trib_split.seq_1_to_" +
             std::to_string(rows) + ";");
  auto dir = work_dir("maria");
  auto src = write_file(dir + "/maria.yaml",
                        "type: MARIADB\nhost: 127.0.0.1\nport: " + std::to_string(mariadb_port()) +
                          "\nusername: tributary\npassword: tributary\n"
                          "slave-server-ids: [102]\n");
  auto res = snapshot(dir, src, "trib_split", "", "grp");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  expect_every_row_once("trib_split_items", "split_maria");
  // A resumed run finds every range done and writes nothing again.
  auto again = snapshot(dir, src, "trib_split", "", "grp", "--resume");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(stream_length(*r_, "trib_split_items"), rows);
}

TEST_F(snapshot_split, postgresql_table_read_in_four_ranges_gives_every_row_once) {
  pg_fresh_database("trib_split");
  pg_exec("trib_split",
          "CREATE TABLE items(id int PRIMARY KEY, grp bigint, name text NOT NULL);"
          "INSERT INTO items SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE (i * i) % 1000 END, "
          "'item ' || i FROM generate_series(1, " + std::to_string(rows) + ") AS g(i);"
          "ANALYZE items;");
  auto dir = work_dir("pg");
  auto src = write_file(dir + "/pg.yaml",
                        "type: POSTGRESQL\nhost: 127.0.0.1\nport: " + std::to_string(pg_port()) +
                          "\ndatabase: trib_split\nusername: tributary\npassword: tributary\n");
  auto res = snapshot(dir, src, "trib_split", "public", "grp");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  expect_every_row_once("trib_split_public_items", "split_pg");
  // One line for the table, not one per range (issue 15, point 4): each
  // range's session start is debug, kept in trace.log only.
  auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(res.output, "starts snapshot of trib_split.public.items"), 1u) << res.output;
  EXPECT_EQ(count(res.output, "begins the snapshot"), 0u) << res.output;
  EXPECT_GE(count(read_text(dir + "/data/split_pg/trace.log"), "begins the snapshot"), 4u);
}
