// Whole runs against the Redis Cluster of `ops/servers.sh cluster-start`
// (three masters, one replica each; design section 11, mode: CLUSTER): a
// snapshot of tables whose streams land on every master, each stream's
// checkpoint in a hash of its own in the stream's slot; `full` with changes
// after the snapshot; `full --resume` after SIGKILL at random moments; and
// trimming, which runs on each stream's node.
// Every row and change is in its stream exactly once, read back through the
// cluster.

#include "tests/integration/cluster_fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

/// Random traffic on tables x and y (id int PRIMARY KEY, v int): inserts,
/// multi-row transactions over both, updates, key updates and deletes.
class workload {
public:
  workload(const std::string& db, unsigned seed) : db_(db), rng_(seed) {}

  void run(const std::atomic<bool>& stop) {
    sql c(db_);
    while (!stop) {
      int pick = static_cast<int>(rng_() % 8);
      if (pick < 3) {
        c.exec(insert());
      } else if (pick < 5) {
        std::string txn = "BEGIN;";
        int n = 3 + static_cast<int>(rng_() % 10);
        for (int i = 0; i < n; ++i) txn += (rng_() % 3 ? insert() : update()) + ";";
        c.exec(txn + "COMMIT");
      } else if (pick < 6) {
        c.exec(update());
      } else if (pick < 7) {
        c.exec("UPDATE " + table() + " SET id = " + std::to_string(next_id_++) +
               " WHERE id = " + some_id());
      } else {
        c.exec("DELETE FROM " + table() + " WHERE id = " + some_id());
      }
    }
  }

private:
  std::string table() { return rng_() % 2 ? "x" : "y"; }
  std::string insert() {
    return "INSERT INTO " + table() + " VALUES (" + std::to_string(next_id_++) + ", " +
           std::to_string(rng_() % 1000) + ")";
  }
  std::string some_id() { return std::to_string(1 + rng_() % static_cast<unsigned>(next_id_)); }
  std::string update() { return "UPDATE " + table() + " SET v = v + 1 WHERE id = " + some_id(); }

  std::string db_;
  std::mt19937 rng_;
  int next_id_ = 100000;
};

}  // namespace

TEST_F(cluster_run, snapshot_writes_each_stream_and_its_checkpoint_on_the_stream_s_node) {
  use_cluster("snap");
  sql db(db_);
  const int tables = 6, rows = 700;
  std::vector<std::string> streams;
  for (int t = 1; t <= tables; ++t) {
    auto name = "t" + std::to_string(t);
    db.exec("CREATE TABLE " + name + "(id int PRIMARY KEY, v text); INSERT INTO " + name +
            " SELECT g, 'row ' || g FROM generate_series(1, " + std::to_string(rows) + ") g");
    streams.push_back(db_ + "_public_" + name);
  }
  // The streams are spread over the masters, or the test shows nothing.
  std::set<std::string> nodes;
  for (const auto& s : streams) nodes.insert(owner(s).name());
  ASSERT_GE(nodes.size(), 2u);

  auto first = run_tributary(line("snapshot"));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  for (const auto& s : streams) {
    expect_rows_once(s, rows);
    // The checkpoint is the stream's own hash, in the stream's slot, and
    // says the table is done; the replication-wide hash has no field of it.
    auto hash = ckpt() + ":{" + s + "}";
    EXPECT_EQ(key_slot(hash), key_slot(s));
    auto cp = r_->command({"HGET", hash, s});
    ASSERT_EQ(cp.type, redis_reply::kind::string) << hash;
    EXPECT_TRUE(decode_snapshot_checkpoint(cp.str).done) << cp.str;
    EXPECT_EQ(r_->command({"HEXISTS", ckpt(), s}).integer, 0);
  }
  // The state is seen across the nodes: a run without flags is refused.
  auto again = run_tributary(line("snapshot"));
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("has state in Redis"), std::string::npos) << again.output;
  // --overwrite deletes the streams and hashes on every node and writes anew.
  auto over = run_tributary(line("snapshot", {"--overwrite"}));
  ASSERT_EQ(over.exit_code, 0) << over.output;
  for (const auto& s : streams) expect_rows_once(s, rows);
  // fetch-schemas reads the schema dump through the cluster.
  auto fetched = run_tributary("fetch-schemas " + dir_ + "/dst.yaml --id " + id_ +
                               " --output-file " + dir_ + "/schemas.yaml");
  ASSERT_EQ(fetched.exit_code, 0) << fetched.output;
  EXPECT_NE(read_text(dir_ + "/schemas.yaml").find("t6"), std::string::npos);
}

TEST_F(cluster_run, full_streams_the_snapshot_and_every_change_once) {
  use_cluster("full");
  sql db(db_);
  db.exec("CREATE TABLE x(id int PRIMARY KEY, v int); CREATE TABLE y(id int PRIMARY KEY, v int);"
          "INSERT INTO x SELECT g, g FROM generate_series(1, 300) g;"
          "INSERT INTO y SELECT g, g FROM generate_series(1, 300) g");
  start("full");
  db.exec("INSERT INTO x VALUES (1001, 1); UPDATE y SET v = v + 1 WHERE id <= 10;"
          "DELETE FROM x WHERE id BETWEEN 20 AND 29; UPDATE x SET id = 2001 WHERE id = 5");
  ASSERT_TRUE(wait_replayed_equal(60s)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  expect_rows_once(db_ + "_public_x", 300);
  expect_rows_once(db_ + "_public_y", 300);
  for (const auto& s : {stream("x"), stream("y")}) expect_each_change_once(changes(s), s);
  // 1 insert + 10 deletes (and tombstones) + a key update (delete,
  // tombstone, insert) on x; 10 updates on y.
  EXPECT_EQ(stream_length(*r_, stream("x")), 1 + 20 + 3);
  EXPECT_EQ(stream_length(*r_, stream("y")), 10);
}

TEST_F(cluster_run, full_resumed_after_sigkill_loses_and_duplicates_nothing) {
  use_cluster("kill");
  applier("realtime:\n  txn-size-rows: 7\n");
  sql db(db_);
  db.exec("CREATE TABLE x(id int PRIMARY KEY, v int); CREATE TABLE y(id int PRIMARY KEY, v int);"
          "INSERT INTO x SELECT g, g FROM generate_series(1, 2000) g;"
          "INSERT INTO y SELECT g, g FROM generate_series(1, 2000) g");
  start("full");
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("workload seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  workload w(db_, seed);
  std::atomic<bool> stop_writes{false};
  std::thread writer([&] { w.run(stop_writes); });
  auto written = [&] { return stream_length(*r_, stream("x")) + stream_length(*r_, stream("y")); };
  kill_and_resume(3, rng, written, child_, [&] { start("full", {"--resume"}); },
                  dir_ + "/run.log");
  stop_writes = true;
  writer.join();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(wait_replayed_equal(60s)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  expect_rows_once(db_ + "_public_x", 2000);
  expect_rows_once(db_ + "_public_y", 2000);
  for (const auto& s : {stream("x"), stream("y")}) expect_each_change_once(changes(s), s);
}

TEST_F(cluster_run, trimming_runs_on_each_stream_s_node) {
  use_cluster("trim");
  applier("snapshot:\n  threads: 2\n  batch-size-rows: 200\nmessage:\n  include-schema: false\n"
          "stream-max-length: 500\ntrim: APPROXIMATE\n");
  sql db(db_);
  std::set<std::string> nodes;
  std::vector<std::string> streams;
  for (int t = 1; t <= 4; ++t) {
    auto name = "t" + std::to_string(t);
    db.exec("CREATE TABLE " + name + "(id int PRIMARY KEY, v text); INSERT INTO " + name +
            " SELECT g, 'row ' || g FROM generate_series(1, 4000) g");
    streams.push_back(db_ + "_public_" + name);
    nodes.insert(owner(streams.back()).name());
  }
  ASSERT_GE(nodes.size(), 2u);
  auto run = run_tributary(line("snapshot"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const auto& s : streams) {
    // Trimmed on its node: at least the newest 500 entries, far fewer than
    // the 4000 written, the last of them the table's last row.
    auto len = stream_length(*r_, s);
    EXPECT_GE(len, 500) << s;
    EXPECT_LE(len, 1000) << s;
    auto last = r_->command({"XREVRANGE", s, "+", "-", "COUNT", "1"});
    ASSERT_EQ(last.elements.size(), 1u) << s;
    const auto& fields = last.elements[0].elements.at(1).elements;
    EXPECT_EQ(replay_payload(json::parse(fields.at(1).str)).at("id").to_number<int64_t>(), 4000) << s;
  }
}
