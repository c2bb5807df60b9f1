// Realtime and full replication from MariaDB survive what production throws
// at them: SIGKILL at random moments under a mixed workload (--resume:
// nothing lost, nothing twice), writes during the snapshot of `full`, and a
// MariaDB or Redis restart ridden through.

#include "tests/integration/binlog_realtime_fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

/// A binlog place of an entry's source block, ordered across files.
std::pair<long long, long long> place(const json::object& source) {
  std::string file(source.at("file").as_string());
  return {std::stoll(file.substr(file.rfind('.') + 1)), source.at("pos").to_number<long long>()};
}

/// The key a change entry is about: its after image's id, or its before
/// image's for a delete.
std::string change_key(const change& c) {
  const auto& image = c.op == "d" ? c.before : c.after;
  return json::serialize(image.at("id"));
}

/// No change in `cdc` that the snapshot entry of its key already holds:
/// every change of a key read by the snapshot lies at or after the position
/// of the snapshot (or range) that read it.
void expect_no_change_the_snapshot_holds(const std::vector<change>& snapshot,
                                         const std::vector<change>& cdc) {
  std::map<std::string, std::pair<long long, long long>> read_at;
  for (const auto& e : snapshot) read_at[change_key(e)] = place(e.source);
  size_t held = 0;
  for (const auto& c : cdc) {
    if (c.op == "tombstone") continue;
    auto it = read_at.find(change_key(c));
    if (it != read_at.end() && place(c.source) < it->second) ++held;
  }
  EXPECT_EQ(held, 0u) << "changes the snapshot already holds";
}

TEST_F(binlog_realtime, sigkill_at_random_moments_then_resume_loses_and_duplicates_nothing) {
  use("kill");
  applier("realtime:\n  txn-size-rows: 7\n");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT); CREATE TABLE " + db_ +
             ".y (id INT PRIMARY KEY, v INT)");
  start();
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("workload seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  workload w(db_, seed);
  std::atomic<bool> stop_writes{false};
  std::thread writer([&] { w.run(stop_writes); });
  auto written = [&] { return stream_length(*r_, stream("x")) + stream_length(*r_, stream("y")); };
  ASSERT_NO_FATAL_FAILURE(kill_and_resume(4, rng, written, child_,
                                          [&] { start({"--resume"}); }, dir_ + "/run.log"));
  stop_writes = true;
  writer.join();
  auto source_x = maria_rows("SELECT id, v FROM " + db_ + ".x");
  auto source_y = maria_rows("SELECT id, v FROM " + db_ + ".y");
  bool equal = wait_until([&] {
    auto st = replayed({stream("x"), stream("y")});
    return replay_rows(st.tables["x"], {"id", "v"}) == source_x &&
           replay_rows(st.tables["y"], {"id", "v"}) == source_y;
  }, 60s);
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  auto st = replayed({stream("x"), stream("y")});
  EXPECT_TRUE(equal);
  EXPECT_EQ(replay_rows(st.tables["x"], {"id", "v"}), source_x);
  EXPECT_EQ(replay_rows(st.tables["y"], {"id", "v"}), source_y);
  for (const auto& s : {stream("x"), stream("y")}) expect_each_change_once(changes(s), s);
  EXPECT_GT(w.rounds.load(), 0);
}

TEST_F(binlog_realtime, full_with_writes_during_the_snapshot_equals_the_source) {
  use("full");
  write_file(dir_ + "/extractor.yaml", "snapshot:\n  fetch-size-rows: 50\n");
  applier("snapshot:\n  batch-size-rows: 50\n");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT); CREATE TABLE " + db_ +
             ".y (id INT PRIMARY KEY, v INT); INSERT INTO " + db_ +
             ".x SELECT seq, seq FROM " + db_ + ".seq_1_to_20000; INSERT INTO " + db_ +
             ".y SELECT seq, seq FROM " + db_ + ".seq_1_to_20000");
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("workload seed " + std::to_string(seed));
  workload w(db_, seed);
  std::atomic<bool> stop_writes{false};
  std::thread writer([&] { w.run(stop_writes); });
  std::filesystem::remove(dir_ + "/run.log");
  child_ = std::make_unique<child_process>(
    std::vector<std::string>{"full", dir_ + "/src.yaml", dir_ + "/dst.yaml", "--filter",
                             dir_ + "/filter.yaml", "--extractor", dir_ + "/extractor.yaml",
                             "--applier", dir_ + "/applier.yaml", "--id", id_, "--data-dir",
                             dir_ + "/data"},
    dir_ + "/run.log");
  bool streaming = wait_until([&] {
    return !child_->running() ||
           read_text(dir_ + "/run.log").find("reads the binlog of") != std::string::npos;
  }, 120s);
  ASSERT_TRUE(streaming && child_->running()) << read_text(dir_ + "/run.log");
  // Writes went on during the whole snapshot and go on a little longer.
  auto rounds = w.rounds.load();
  ASSERT_TRUE(wait_until([&] { return w.rounds.load() >= rounds + 50; }));
  stop_writes = true;
  writer.join();
  auto source_x = maria_rows("SELECT id, v FROM " + db_ + ".x");
  auto source_y = maria_rows("SELECT id, v FROM " + db_ + ".y");
  auto all = [&] {
    return replayed({db_ + "_x", db_ + "_y", stream("x"), stream("y")});
  };
  bool equal = wait_until([&] {
    auto st = all();
    return replay_rows(st.tables["x"], {"id", "v"}) == source_x &&
           replay_rows(st.tables["y"], {"id", "v"}) == source_y;
  }, 60s);
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_TRUE(equal);
  auto st = all();
  EXPECT_EQ(replay_rows(st.tables["x"], {"id", "v"}), source_x);
  EXPECT_EQ(replay_rows(st.tables["y"], {"id", "v"}), source_y);
  EXPECT_GT(stream_length(*r_, stream("x")) + stream_length(*r_, stream("y")), 0);
  for (const char* t : {"x", "y"})
    expect_no_change_the_snapshot_holds(changes(db_ + "_" + t), changes(stream(t)));
}

// y is read in two ranges of its key, each in a consistent snapshot of its
// own: with two threads, x and y's first range start at once and the second
// range once one of them is done, at a later binlog position. Meanwhile a
// writer updates rows of both ranges and moves keys between them. With the
// per-half rule switched off, the check that no change repeats what the
// snapshot holds failed (3 changes).
TEST_F(binlog_realtime, full_with_split_key_ranges_and_writes_during_the_snapshot_equals_the_source) {
  use("fullsplit");
  write_file(dir_ + "/extractor.yaml",
             "snapshot:\n  threads: 2\n  fetch-size-rows: 50\n  per-table-config:\n"
             "  - catalog: " + db_ + "\n    tables:\n      y:\n        split-key: id\n");
  applier("snapshot:\n  batch-size-rows: 50\n");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT); CREATE TABLE " + db_ +
             ".y (id INT PRIMARY KEY, v INT); INSERT INTO " + db_ +
             ".x SELECT seq, seq FROM " + db_ + ".seq_1_to_20000; INSERT INTO " + db_ +
             ".y SELECT seq, seq FROM " + db_ + ".seq_1_to_20000");
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("writer seed " + std::to_string(seed));
  std::atomic<bool> stop_writes{false};
  std::atomic<long> rounds{0};
  std::thread writer([&] {
    std::mt19937 rng(seed);
    int fresh = 100000;
    auto any = [&] { return std::to_string(1 + rng() % 20000); };
    while (!stop_writes) {
      ++rounds;
      std::string y = db_ + ".y";
      std::string sql;
      switch (rng() % 6) {
        case 0: sql = "UPDATE " + y + " SET v = v + 1 WHERE id = " + any(); break;
        // A key moves to the last range, or to below the first.
        case 1: sql = "UPDATE " + y + " SET id = " + std::to_string(++fresh) + " WHERE id = " + any(); break;
        case 2: sql = "UPDATE " + y + " SET id = " + std::to_string(-++fresh) + " WHERE id = " + any(); break;
        case 3: sql = "DELETE FROM " + y + " WHERE id = " + any(); break;
        case 4: sql = "INSERT INTO " + y + " VALUES (" + std::to_string(++fresh) + ", 1)"; break;
        default:
          sql = "BEGIN; UPDATE " + y + " SET v = v + 1 WHERE id = " + any() + "; UPDATE " + y +
                " SET id = " + std::to_string(++fresh) + " WHERE id = " + any() +
                "; UPDATE " + db_ + ".x SET v = v + 1 WHERE id = " + any() + "; COMMIT";
      }
      try {
        maria_exec(sql);
      } catch (const std::exception&) {
        // A moved or deleted id: nothing is logged.
      }
    }
  });
  std::filesystem::remove(dir_ + "/run.log");
  child_ = std::make_unique<child_process>(
    std::vector<std::string>{"full", dir_ + "/src.yaml", dir_ + "/dst.yaml", "--filter",
                             dir_ + "/filter.yaml", "--extractor", dir_ + "/extractor.yaml",
                             "--applier", dir_ + "/applier.yaml", "--id", id_, "--data-dir",
                             dir_ + "/data"},
    dir_ + "/run.log");
  bool streaming = wait_until([&] {
    return !child_->running() ||
           read_text(dir_ + "/run.log").find("reads the binlog of") != std::string::npos;
  }, 120s);
  ASSERT_TRUE(streaming && child_->running()) << read_text(dir_ + "/run.log");
  auto before = rounds.load();
  ASSERT_TRUE(wait_until([&] { return rounds.load() >= before + 50; }));
  stop_writes = true;
  writer.join();
  auto source_x = maria_rows("SELECT id, v FROM " + db_ + ".x");
  auto source_y = maria_rows("SELECT id, v FROM " + db_ + ".y");
  auto all = [&] { return replayed({db_ + "_x", db_ + "_y", stream("x"), stream("y")}); };
  bool equal = wait_until([&] {
    auto st = all();
    return replay_rows(st.tables["x"], {"id", "v"}) == source_x &&
           replay_rows(st.tables["y"], {"id", "v"}) == source_y;
  }, 60s);
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_TRUE(equal);
  auto st = all();
  EXPECT_EQ(replay_rows(st.tables["x"], {"id", "v"}), source_x);
  EXPECT_EQ(replay_rows(st.tables["y"], {"id", "v"}), source_y);
  for (const char* t : {"x", "y"})
    expect_no_change_the_snapshot_holds(changes(db_ + "_" + t), changes(stream(t)));
  // The ranges usually begin at different positions (the second once x or
  // the first is read), but nothing forces a commit in between: the per-half
  // rule itself is pinned by binlog_changes_live's split-range test.
  auto log = read_text(dir_ + "/run.log");
  EXPECT_NE(log.find("splits " + db_ + ".y into 2 ranges of id"), std::string::npos) << log;
  // A resumed run reads the ranges' positions back and streams on.
  std::string ckpt = "replicate_io_checkpoint_default_" + id_;
  auto stored = command_or_throw(*r_, {"HGET", ckpt, "#binlog_handoff"});
  ASSERT_EQ(stored.type, redis_reply::kind::string);
  EXPECT_NE(stored.str.find("\ty\t"), std::string::npos) << stored.str;
  EXPECT_NE(stored.str.find("\tid\t"), std::string::npos) << stored.str;
  std::filesystem::remove(dir_ + "/run.log");
  child_ = std::make_unique<child_process>(
    std::vector<std::string>{"full", dir_ + "/src.yaml", dir_ + "/dst.yaml", "--filter",
                             dir_ + "/filter.yaml", "--extractor", dir_ + "/extractor.yaml",
                             "--applier", dir_ + "/applier.yaml", "--id", id_, "--data-dir",
                             dir_ + "/data", "--resume"},
    dir_ + "/run.log");
  ASSERT_TRUE(wait_until([&] {
    return !child_->running() ||
           read_text(dir_ + "/run.log").find("reads the binlog of") != std::string::npos;
  })) << read_text(dir_ + "/run.log");
  auto length = stream_length(*r_, stream("y"));
  maria_exec("INSERT INTO " + db_ + ".y VALUES (-1, -1)");
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("y")) > length; }))
    << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  st = all();
  EXPECT_EQ(replay_rows(st.tables["y"], {"id", "v"}),
            maria_rows("SELECT id, v FROM " + db_ + ".y"));
}

TEST_F(binlog_realtime, rides_through_a_redis_restart) {
  // An append-only Redis keeps what it acknowledged across kill -9.
  private_redis target({"--appendonly", "yes", "--appendfsync", "always"});
  use("redisrestart");
  write_file(dir_ + "/dst.yaml", target.conn_yaml());
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT)");
  start();
  auto own = target.connect();
  maria_exec("INSERT INTO " + db_ + ".x VALUES (1, 1), (2, 2)");
  ASSERT_TRUE(wait_until([&] { return stream_length(*own, stream("x")) >= 2; }))
    << read_text(dir_ + "/run.log");
  target.kill_now();
  maria_exec("INSERT INTO " + db_ + ".x VALUES (3, 3); UPDATE " + db_ + ".x SET v = 9");
  target.start();
  own = target.connect();
  ASSERT_TRUE(wait_until([&] { return stream_length(*own, stream("x")) >= 6; }, 60s))
    << read_text(dir_ + "/run.log");
  ASSERT_TRUE(child_->running()) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stream_length(*own, stream("x")), 6);
  replay_state st;
  for (const auto& e : read_stream(*own, stream("x"))) replay_entry(st, e.key, e.value);
  EXPECT_EQ(replay_rows(st.tables["x"], {"id", "v"}),
            maria_rows("SELECT id, v FROM " + db_ + ".x"));
}

TEST_F(binlog_realtime, rides_through_a_mariadb_restart) {
  private_mariadb server;
  use("restart", server.port());
  server.admin("CREATE DATABASE " + db_ + "; CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT)");
  start();
  server.admin("INSERT INTO " + db_ + ".x VALUES (1, 1), (2, 2)");
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("x")) >= 2; }))
    << read_text(dir_ + "/run.log");
  server.stop();
  server.start();
  server.admin("INSERT INTO " + db_ + ".x VALUES (3, 3); UPDATE " + db_ + ".x SET v = 9");
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("x")) >= 6; }, 60s))
    << read_text(dir_ + "/run.log");
  ASSERT_TRUE(child_->running());
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stream_length(*r_, stream("x")), 6);
  EXPECT_NE(read_text(dir_ + "/run.log").find("reconnects to the binlog"), std::string::npos);
  auto st = replayed({stream("x")});
  EXPECT_EQ(replay_rows(st.tables["x"], {"id", "v"}),
            maria_rows("SELECT id, v FROM " + db_ + ".x", server.port()));
}

}  // namespace
