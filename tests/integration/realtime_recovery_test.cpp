// Realtime replication survives what production throws at it: SIGKILL at
// random moments under a mixed workload (--resume: nothing lost, nothing
// twice), SIGTERM (drains, exit 0), a PostgreSQL restart, a dropped slot
// (clear error), and a 1,000,000-row transaction (flat memory).

#include "tests/integration/realtime_fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

/// Random source traffic on tables x and y (id int PRIMARY KEY, v int):
/// single inserts, multi-row transactions across both tables (larger than
/// txn-size-rows), updates, key updates, deletes, and rolled-back
/// transactions, until told to stop.
class workload {
public:
  workload(const std::string& db, unsigned seed) : db_(db), rng_(seed) {}

  void run(const std::atomic<bool>& stop) {
    sql c(db_);
    while (!stop) {
      ++rounds;
      int pick = static_cast<int>(rng_() % 10);
      if (pick < 3) {
        c.exec(insert());
      } else if (pick < 5) {
        std::string txn = "BEGIN;";
        int n = 5 + static_cast<int>(rng_() % 20);
        for (int i = 0; i < n; ++i) txn += (rng_() % 3 ? insert() : update()) + ";";
        c.exec(txn + "COMMIT");
      } else if (pick < 6) {
        c.exec(update());
      } else if (pick < 7) {
        c.exec(key_update());
      } else if (pick < 9) {
        c.exec(erase());
      } else {
        // Never committed: must never appear.
        c.exec("BEGIN; INSERT INTO x VALUES (" + std::to_string(-1 - static_cast<int>(rounds)) +
               ", 0); UPDATE y SET v = -1; ROLLBACK");
      }
    }
  }

  std::atomic<long> rounds{0};

private:
  std::string table() { return rng_() % 2 ? "x" : "y"; }
  std::string insert() {
    return "INSERT INTO " + table() + " VALUES (" + std::to_string(next_id_++) + ", " +
           std::to_string(rng_() % 1000) + ")";
  }
  std::string some_id() { return std::to_string(1 + rng_() % static_cast<unsigned>(next_id_)); }
  std::string update() {
    return "UPDATE " + table() + " SET v = v + 1 WHERE id = " + some_id();
  }
  std::string key_update() {
    return "UPDATE " + table() + " SET id = " + std::to_string(next_id_++) + " WHERE id = " + some_id();
  }
  std::string erase() { return "DELETE FROM " + table() + " WHERE id = " + some_id(); }

  std::string db_;
  std::mt19937 rng_;
  int next_id_ = 1;
};

}  // namespace

TEST_F(realtime, sigkill_at_random_moments_then_resume_loses_and_duplicates_nothing) {
  use("kill");
  applier("realtime:\n  txn-size-rows: 7\n");
  sql db(db_);
  db.exec("CREATE TABLE x(id int PRIMARY KEY, v int); CREATE TABLE y(id int PRIMARY KEY, v int)");
  start("realtime");
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("workload seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  workload w(db_, seed);
  std::atomic<bool> stop_writes{false};
  std::thread writer([&] { w.run(stop_writes); });
  auto written = [&] { return stream_length(*r_, stream("x")) + stream_length(*r_, stream("y")); };
  ASSERT_NO_FATAL_FAILURE(kill_and_resume(4, rng, written, child_,
                                          [&] { start("realtime", {"--resume"}); },
                                          dir_ + "/run.log"));
  stop_writes = true;
  writer.join();
  auto source_x = db.rows("SELECT id::text, v::text FROM x");
  auto source_y = db.rows("SELECT id::text, v::text FROM y");
  std::sort(source_x.begin(), source_x.end());
  std::sort(source_y.begin(), source_y.end());
  auto replayed = [&] {
    replay_state st;
    for (const auto& s : {stream("x"), stream("y")})
      for (const auto& e : read_stream(*r_, s)) replay_entry(st, e.key, e.value);
    return st;
  };
  bool equal = wait_until([&] {
    auto st = replayed();
    return replay_rows(st.tables["x"], {"id", "v"}) == source_x &&
           replay_rows(st.tables["y"], {"id", "v"}) == source_y;
  }, 60s);
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  auto st = replayed();
  EXPECT_TRUE(equal);
  EXPECT_EQ(replay_rows(st.tables["x"], {"id", "v"}), source_x);
  EXPECT_EQ(replay_rows(st.tables["y"], {"id", "v"}), source_y);
  // Exactly once: no change appears twice in its stream.
  for (const auto& s : {stream("x"), stream("y")}) expect_each_change_once(changes(s), s);
  EXPECT_GT(w.rounds.load(), 0);
}

TEST_F(realtime, sigterm_drains_confirms_and_exits_zero) {
  use("term");
  applier("realtime:\n  txn-size-rows: 64\n");
  sql db(db_);
  db.exec("CREATE TABLE x(id int PRIMARY KEY, v int)");
  start("realtime");
  for (int t = 0; t < 30; ++t)
    db.exec("INSERT INTO x SELECT g, g FROM generate_series(" + std::to_string(t * 100 + 1) + ", " +
            std::to_string(t * 100 + 100) + ") g");
  // Asked to stop in the middle of the traffic: what it read it writes,
  // confirms, and exits 0.
  ASSERT_TRUE(wait_entries(stream("x"), 1));
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_NE(read_text(dir_ + "/run.log").find("drains realtime replication"), std::string::npos);
  auto drained = stream_length(*r_, stream("x"));
  // A resumed run writes the rest, and nothing again.
  start("realtime", {"--resume"});
  db.exec("INSERT INTO x VALUES (3001, 0)");
  ASSERT_TRUE(wait_entries(stream("x"), 3001)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0);
  EXPECT_EQ(stream_length(*r_, stream("x")), 3001) << drained << " before the resume";
  std::set<std::string> keys;
  for (const auto& e : read_stream(*r_, stream("x"))) keys.insert(key_payload(e.key));
  EXPECT_EQ(keys.size(), 3001u);
}

TEST_F(realtime, survives_a_postgresql_restart_mid_stream) {
  use("pgrestart");
  write_source(200, 30);
  sql db(db_);
  db.exec("CREATE TABLE x(id int PRIMARY KEY, v int)");
  start("realtime");
  db.exec("INSERT INTO x SELECT g, g FROM generate_series(1, 100) g");
  ASSERT_TRUE(wait_entries(stream("x"), 100));
  std::string pg_ctl = env_or("TRIB_PG_BIN", "/usr/lib/postgresql/15/bin") + "/pg_ctl";
  std::string data = run_dir() + "/pg/data";
  // pg_ctl restart keeps the server's command-line options; fast mode and
  // a wait keep the outage to about a second for every other test.
  ASSERT_EQ(std::system(("runuser -u postgres -- " + pg_ctl + " -D " + data + " -l " + run_dir() +
                         "/pg/postgresql.log -m fast -w restart > /dev/null 2>&1").c_str()),
            0);
  sql after(db_);
  after.exec("INSERT INTO x SELECT g, g FROM generate_series(101, 200) g");
  ASSERT_TRUE(wait_entries(stream("x"), 200, 60s)) << read_text(dir_ + "/run.log");
  EXPECT_TRUE(child_->running());
  EXPECT_EQ(stop(), 0);
  EXPECT_EQ(stream_length(*r_, stream("x")), 200);
  EXPECT_NE(read_text(dir_ + "/run.log").find("reconnects to the slot"), std::string::npos);
}

TEST_F(realtime, a_dropped_slot_ends_the_run_with_a_clear_error) {
  use("dropped");
  sql db(db_);
  db.exec("CREATE TABLE x(id int PRIMARY KEY, v int)");
  start("realtime");
  db.exec("INSERT INTO x VALUES (0, 0)");
  ASSERT_TRUE(wait_entries(stream("x"), 1));
  EXPECT_EQ(stop(), 0);
  drop_slot();
  // --resume needs the slot: the changes since the checkpoint are gone.
  auto r = run_tributary([&] {
    std::string a;
    for (const auto& x : args("realtime", {"--resume"})) a += x + " ";
    return a;
  }());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no longer exists"), std::string::npos) << r.output;
  // Without --resume the state in Redis makes the user choose.
  db.exec("INSERT INTO x VALUES (1, 1)");
  start("realtime", {"--overwrite"});
  db.exec("INSERT INTO x VALUES (2, 2)");
  ASSERT_TRUE(wait_entries(stream("x"), 1)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(changes(stream("x")).front().after.at("id"), 2);
  // Dropped while streaming: the run ends with exit 1 and says why.
  sql("postgres").exec("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" +
                       db_ + "'");
  wait_until([&] {
    try {
      pg_exec("postgres", "SELECT pg_drop_replication_slot('" + db_ + "')");
      return true;
    } catch (const std::exception&) {
      return !child_->running();
    }
  });
  EXPECT_EQ(child_->wait(), 1) << read_text(dir_ + "/run.log");
  EXPECT_NE(read_text(dir_ + "/run.log").find("does not exist"), std::string::npos)
    << read_text(dir_ + "/run.log");
}

TEST_F(realtime, a_million_row_transaction_passes_with_flat_memory) {
  use("bigtxn");
  applier("realtime:\n  txn-size-rows: 10000\nmessage:\n  include-schema: false\n");
  sql db(db_);
  db.exec("CREATE TABLE x(id int PRIMARY KEY, v int)");
  start("realtime");
  db.exec("INSERT INTO x SELECT g, g FROM generate_series(1, 1000000) g");
  ASSERT_TRUE(wait_entries(stream("x"), 1000000, 300s)) << read_text(dir_ + "/run.log");
  // Peak resident memory while the transaction went through.
  auto status = read_text("/proc/" + std::to_string(child_->pid()) + "/status");
  auto at = status.find("VmHWM:");
  ASSERT_NE(at, std::string::npos);
  long kb = std::stol(status.substr(at + 6));
  EXPECT_EQ(stop(), 0);
  EXPECT_EQ(stream_length(*r_, stream("x")), 1000000);
  // 1,000,000 rows held at once would take several hundred MB.
  EXPECT_LT(kb, 200 * 1024) << "peak RSS " << kb << " kB";
  RecordProperty("peak_rss_kb", std::to_string(kb));
}
