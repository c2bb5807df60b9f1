// `full` with a coordinator and two workers as processes on loopback
// (design section 11): the snapshot's tables and their change streams are
// written by the workers, the change reader stays with the coordinator and
// its dispatcher feeds the workers' change appliers. Consumers replaying
// snapshot and change streams get the source tables exactly, each change
// once.

#include <gtest/gtest.h>

#include "tests/integration/realtime_fixture.hpp"
#include "tests/local_http.hpp"

using namespace trib;
using namespace trib::test;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_F(realtime, full_on_two_workers_streams_every_change_once) {
  use("nodes");
  sql db(db_);
  db.exec("CREATE TABLE x(id int PRIMARY KEY, v int);"
          "CREATE TABLE y(id int PRIMARY KEY, v int);"
          "INSERT INTO x SELECT g, g FROM generate_series(1, 3000) g;"
          "INSERT INTO y SELECT g, g FROM generate_series(1, 400) g;"
          "ANALYZE x; ANALYZE y;");
  std::string certs = dir_ + "/certs";
  std::string make_certs = "bash " + std::string(TRIB_SOURCE_DIR) + "/ops/node-certs.sh " +
                           certs + " coordinator w1 w2 > /dev/null 2>&1";
  ASSERT_EQ(std::system(make_certs.c_str()), 0);
  std::string listen = "127.0.0.1:" + std::to_string(free_port());
  auto a = args("full", {"--listen", listen, "--node-tls", certs + "/coordinator", "--workers",
                         "2"});
  a.insert(a.begin(), "coordinator");
  child_ = std::make_unique<child_process>(a, dir_ + "/run.log");
  child_process w1({"worker", "--join", listen, "--node-tls", certs + "/w1"}, dir_ + "/w1.log");
  child_process w2({"worker", "--join", listen, "--node-tls", certs + "/w2"}, dir_ + "/w2.log");
  ASSERT_TRUE(wait_until([&] {
    return !child_->running() ||
           read_text(dir_ + "/run.log").find("starts replication from slot") != std::string::npos;
  }, 60s));
  ASSERT_TRUE(child_->running()) << read_text(dir_ + "/run.log");

  // Changes to both tables, in transactions of several statements.
  for (int t = 0; t < 20; ++t) {
    auto lo = std::to_string(t * 100 + 1), hi = std::to_string(t * 100 + 100);
    db.exec("BEGIN; UPDATE x SET v = -v WHERE id BETWEEN " + lo + " AND " + hi +
            "; INSERT INTO y SELECT g, g FROM generate_series(" + std::to_string(1000 + t * 10) +
            ", " + std::to_string(1009 + t * 10) + ") g; DELETE FROM y WHERE id = " +
            std::to_string(t + 1) + "; COMMIT;");
  }
  db.exec("INSERT INTO x VALUES (5000, 5000)");
  auto source_x = db.rows("SELECT id::text, v::text FROM x");
  auto source_y = db.rows("SELECT id::text, v::text FROM y");
  std::sort(source_x.begin(), source_x.end());
  std::sort(source_y.begin(), source_y.end());
  auto snapshot_stream = [&](const std::string& t) { return db_ + "_public_" + t; };
  auto replayed = [&] {
    replay_state st;
    for (const auto& t : {"x", "y"}) {
      for (const auto& e : read_stream(*r_, snapshot_stream(t))) replay_entry(st, e.key, e.value);
      for (const auto& e : read_stream(*r_, stream(t))) replay_entry(st, e.key, e.value);
    }
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
  for (const auto& t : {"x", "y"}) expect_each_change_once(changes(stream(t)), stream(t));
  EXPECT_EQ(stream_length(*r_, snapshot_stream("x")), 3000);
  EXPECT_EQ(stream_length(*r_, snapshot_stream("y")), 400);

  // The workers end with the run; each change stream was written by one
  // worker, the two tables' on different ones (placed by their rows).
  ASSERT_TRUE(wait_until([&] { return !w1.running() && !w2.running(); }, 30s));
  auto log1 = read_text(dir_ + "/w1.log");
  auto log2 = read_text(dir_ + "/w2.log");
  // 0, or 1 naming the coordinator gone: the known end-of-run race
  // (docs/nodes.md, Limits); the replay checks below show each change once.
  for (auto* w : {&w1, &w2}) {
    auto code = w->wait();
    const auto& log = w == &w1 ? log1 : log2;
    EXPECT_TRUE(code == 0 || (code == 1 && log.find("is gone") != std::string::npos))
      << code << "\n" << log;
  }
  for (const auto& t : {"x", "y"}) {
    auto line = "starts the change applier of " + stream(t) + "\n";
    EXPECT_EQ(count(log1, line) + count(log2, line), 1u) << t << "\n" << log1 << log2;
  }
  EXPECT_NE(count(log1, "change applier of " + stream("x") + "\n"),
            count(log1, "change applier of " + stream("y") + "\n"))
    << log1 << log2;
  // The change reader stayed with the coordinator.
  EXPECT_EQ(count(log1 + log2, "starts replication from slot"), 0u);
}
