// Runs that meet existing state (design sections 1 and 6): a second run
// without --resume or --overwrite refuses to start; --overwrite starts from
// nothing; --resume continues, also after kill -9 at any moment, and every
// row then appears exactly once. A table without key columns that was
// interrupted is read again whole after its stream and checkpoint are
// deleted (actors/runtime.cpp).

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include <boost/json.hpp>

#include "tests/integration/fixture.hpp"

using namespace trib;
using namespace trib::test;
namespace json = boost::json;

namespace {

std::string work_dir(const std::string& name) { return fresh_dir("trib_rs_" + name); }

// The files of one replication: source, target, applier, filter, data dir.
struct setup {
  std::string dir, src, dst, applier, filter, id;

  std::vector<std::string> args(const std::string& extra_flag = "") const {
    std::vector<std::string> a{"snapshot", src, dst, "--applier", applier, "--filter", filter,
                               "--id", id, "--data-dir", dir + "/data"};
    if (!extra_flag.empty()) a.push_back(extra_flag);
    return a;
  }
  std::string line(const std::string& extra_flag = "") const {
    std::string out;
    for (const auto& a : args(extra_flag)) out += (out.empty() ? "" : " ") + a;
    return out;
  }
};

// Payloads only (include-schema: false) keep 300,000 entries small; a
// small batch gives a kill many moments to land between commits.
// Names of the replications this test set up, so that it cleans only its
// own keys (tests of this file may run in parallel).
std::vector<std::string>& names_in_use() {
  static std::vector<std::string> names;
  return names;
}

void delete_keys_of(redis_client& r, const std::string& name) {
  delete_keys(r, "trib_rs_" + name + "*");
  delete_keys(r, "replicate_io_*_rs_" + name);
}

setup make_setup(const std::string& name, const std::string& source_yaml,
                 const std::string& filter_yaml) {
  names_in_use().push_back(name);
  delete_keys_of(*redis(), name);
  setup s;
  s.dir = work_dir(name);
  s.id = "rs_" + name;
  s.src = write_file(s.dir + "/src.yaml", source_yaml);
  s.dst = write_file(s.dir + "/redis.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                              std::to_string(redis_port()) + "\n");
  s.applier = write_file(s.dir + "/applier.yaml",
                         "snapshot:\n  threads: 2\n  batch-size-rows: 1000\n"
                         "message:\n  include-schema: false\n");
  s.filter = write_file(s.dir + "/filter.yaml", filter_yaml);
  return s;
}

// The payload of a key or value document, with or without its schema half.
json::value payload(const std::string& doc) {
  auto v = json::parse(doc);
  if (v.is_object() && v.as_object().contains("payload")) return v.at("payload");
  return v;
}

// How many different values of `column` (an integer 1..rows) the stream's
// entries carry in `after`, and whether any is outside 1..rows. Pages
// through the stream so 300,000 entries never sit in memory at once.
struct census {
  long long entries = 0;
  long long distinct = 0;
  long long out_of_range = 0;
};

census count_values(redis_client& r, const std::string& stream, const std::string& column,
                    long long rows, bool from_key) {
  census c;
  std::vector<bool> seen(static_cast<size_t>(rows) + 1, false);
  std::string from = "-";
  for (;;) {
    auto reply = r.command({"XRANGE", stream, from, "+", "COUNT", "20000"});
    if (reply.type != redis_reply::kind::array) throw std::runtime_error(reply.str);
    if (reply.elements.empty()) break;
    for (const auto& e : reply.elements) {
      ++c.entries;
      const auto& f = e.elements.at(1).elements;
      std::string key, value;
      for (size_t i = 0; i + 1 < f.size(); i += 2) {
        if (f[i].str == "key") key = f[i + 1].str;
        if (f[i].str == "value") value = f[i + 1].str;
      }
      auto doc = from_key ? payload(key) : payload(value).at("after");
      long long n = doc.at(column).to_number<long long>();
      if (n < 1 || n > rows) {
        ++c.out_of_range;
      } else if (!seen[static_cast<size_t>(n)]) {
        seen[static_cast<size_t>(n)] = true;
        ++c.distinct;
      }
    }
    from = "(" + reply.elements.back().elements.at(0).str;
  }
  return c;
}

// Starts a run and SIGKILLs it once `stream` holds at least `at` entries.
// Returns false when the run ended by itself before reaching that point.
bool kill_when(const setup& s, const std::string& flag, redis_client& r,
               const std::string& stream, long long at) {
  child_process p(s.args(flag), s.dir + "/run.log");
  bool ended = false;
  // Polls every 2 ms at most: the run must not race far past the point.
  bool reached = wait_until(
    [&] {
      // Writes are held while the length is read, so that a fast run cannot
      // race past the kill point between two polls (a small table is written
      // in well under a second); the kill then also lands while a MULTI/EXEC
      // is waiting, which is the hardest moment for the checkpoint.
      r.command({"CLIENT", "PAUSE", "5000", "WRITE"});
      bool there = stream_length(r, stream) >= at;
      if (there) p.kill_now();
      r.command({"CLIENT", "UNPAUSE"});
      ended = !there && !p.running();
      return there || ended;
    },
    std::chrono::seconds(30), std::chrono::milliseconds(2));
  if (ended) {
    ADD_FAILURE_AT(__FILE__, __LINE__)
      << "the run ended (exit " << p.wait() << ") before " << stream << " reached " << at
      << " entries: " << read_text(s.dir + "/run.log");
    return false;
  }
  if (!reached) {
    ADD_FAILURE() << stream << " did not reach " << at << " entries in 30 s: "
                  << read_text(s.dir + "/run.log");
    return false;
  }
  return true;
}

// Kills a snapshot of `rows` rows at 20 %, 45 % and 70 % of its stream (each
// time in the run resumed after the previous kill), then resumes until it
// finishes; every row must be there exactly once.
void kill_and_resume(const setup& s, redis_client& r, const std::string& stream,
                     long long rows) {
  std::string flag;  // the first run has no state yet
  for (int percent : {20, 45, 70}) {
    SCOPED_TRACE("kill at " + std::to_string(percent) + " %");
    ASSERT_TRUE(kill_when(s, flag, r, stream, rows * percent / 100));
    long long len = stream_length(r, stream);
    std::cout << "killed at " << len << " of " << rows << " entries\n";
    EXPECT_LT(len, rows) << "killed after the end";
    flag = "--resume";
  }
  auto res = run_tributary(s.line("--resume"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_EQ(stream_length(r, stream), rows);
  auto c = count_values(r, stream, "id", rows, true);
  EXPECT_EQ(c.entries, rows);
  EXPECT_EQ(c.distinct, rows);
  EXPECT_EQ(c.out_of_range, 0);
}

class snapshot_resume : public ::testing::Test {
protected:
  void SetUp() override { r_ = redis(); }
  void TearDown() override {
    for (const auto& name : names_in_use()) delete_keys_of(*r_, name);
    names_in_use().clear();
  }
  std::unique_ptr<redis_client> r_;
};

}  // namespace

TEST_F(snapshot_resume, second_run_needs_resume_or_overwrite_and_each_does_what_it_says) {
  pg_fresh_database("trib_rs_state");
  pg_exec("trib_rs_state",
          "CREATE TABLE t(id int PRIMARY KEY, v text);"
          "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g;");
  auto s = make_setup("state", pg_source("trib_rs_state"),
                      "allow:\n- catalog: trib_rs_state\n  schema: public\n  types: [TABLE]\n");
  const std::string stream = "trib_rs_state_public_t";

  // --resume on a first run, with no state at all, just runs (the systemd
  // units always pass --resume).
  auto res = run_tributary(s.line("--resume"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_EQ(stream_length(*r_, stream), 1000);

  // Again without a flag: refused, naming both ways out, nothing written.
  res = run_tributary(s.line());
  EXPECT_EQ(res.exit_code, 2) << res.output;
  EXPECT_NE(res.output.find("--resume"), std::string::npos) << res.output;
  EXPECT_NE(res.output.find("--overwrite"), std::string::npos) << res.output;
  EXPECT_EQ(stream_length(*r_, stream), 1000);

  // --resume on a finished run writes no row.
  res = run_tributary(s.line("--resume"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_EQ(stream_length(*r_, stream), 1000);

  // --overwrite deletes the streams, the checkpoint and data/<id>/, then
  // copies the table once.
  auto data = s.dir + "/data/" + s.id;
  ASSERT_TRUE(std::filesystem::exists(data + "/trace.log"));
  write_file(data + "/left_from_before.txt", "old run\n");
  pg_exec("trib_rs_state", "DELETE FROM t WHERE id > 900");
  res = run_tributary(s.line("--overwrite"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_FALSE(std::filesystem::exists(data + "/left_from_before.txt"));
  EXPECT_TRUE(std::filesystem::exists(data + "/trace.log"));
  EXPECT_EQ(stream_length(*r_, stream), 900);
  EXPECT_EQ(stream_length(*r_, "replicate_io_replication_schema_default_" + s.id), 1);
  auto c = count_values(*r_, stream, "id", 900, true);
  EXPECT_EQ(c.distinct, 900);
}

TEST_F(snapshot_resume, postgresql_killed_three_times_has_every_row_once) {
  constexpr long long rows = 300000;
  pg_fresh_database("trib_rs_pg");
  pg_exec("trib_rs_pg",
          "CREATE TABLE big(id bigint PRIMARY KEY, v int, note text);"
          "INSERT INTO big SELECT g, g % 1000, 'row ' || g FROM generate_series(1, " +
            std::to_string(rows) + ") g;"
            "ANALYZE big;");
  auto s = make_setup("pg", pg_source("trib_rs_pg"),
                      "allow:\n- catalog: trib_rs_pg\n  schema: public\n  types: [TABLE]\n");
  kill_and_resume(s, *r_, "trib_rs_pg_public_big", rows);
}

TEST_F(snapshot_resume, mariadb_killed_three_times_has_every_row_once) {
  constexpr long long rows = 300000;
  maria_exec("DROP DATABASE IF EXISTS trib_rs_maria; CREATE DATABASE trib_rs_maria;"
             "CREATE TABLE trib_rs_maria.big(id bigint PRIMARY KEY, v int, note varchar(20));"
             "INSERT INTO trib_rs_maria.big SELECT seq, seq % 1000, CONCAT('row ', seq) "
             "FROM trib_rs_maria.seq_1_to_" + std::to_string(rows) + ";");
  auto s = make_setup("maria", maria_source(), "allow:\n- catalog: trib_rs_maria\n  types: [TABLE]\n");
  kill_and_resume(s, *r_, "trib_rs_maria_big", rows);
}

TEST_F(snapshot_resume, keyless_table_killed_midway_is_read_again_whole) {
  constexpr long long rows = 100000;
  pg_fresh_database("trib_rs_nokey");
  pg_exec("trib_rs_nokey",
          "CREATE TABLE heap(n int, note text);"
          "INSERT INTO heap SELECT g, 'row ' || g FROM generate_series(1, " +
            std::to_string(rows) + ") g;");
  auto s = make_setup("nokey", pg_source("trib_rs_nokey"),
                      "allow:\n- catalog: trib_rs_nokey\n  schema: public\n  types: [TABLE]\n");
  const std::string stream = "trib_rs_nokey_public_heap";
  ASSERT_TRUE(kill_when(s, "", *r_, stream, rows * 40 / 100));
  EXPECT_LT(stream_length(*r_, stream), rows);
  auto res = run_tributary(s.line("--resume"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_EQ(stream_length(*r_, stream), rows);
  auto c = count_values(*r_, stream, "n", rows, false);
  EXPECT_EQ(c.entries, rows);
  EXPECT_EQ(c.distinct, rows);
  EXPECT_NE(read_text(s.dir + "/data/" + s.id + "/trace.log").find("from the beginning"),
            std::string::npos);
}
