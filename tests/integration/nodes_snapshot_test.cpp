// A coordinator and two workers as separate processes on loopback (design
// section 11): the workers join over mutual TLS, the coordinator places the
// tables on them by their sizes, and every table arrives complete, each
// row exactly once, as a single-node run writes it.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "actors/apply/envelope.hpp"
#include "tests/integration/fixture.hpp"
#include "tests/local_http.hpp"

using namespace trib;
using namespace trib::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

/// The tables of the test and their rows: sizes far apart, so that the
/// placement has something to spread; `big` is read in split-key ranges.
const std::map<std::string, int> table_rows{
  {"big", 6000}, {"mid", 2500}, {"small", 700}, {"tiny", 40}, {"empty", 0}};

class nodes_snapshot : public ::testing::Test {
protected:
  void SetUp() override {
    r_ = redis();
    delete_keys(*r_, "trib_nodes*");
    delete_keys(*r_, "replicate_io_*nodes*");
    dir_ = fresh_dir("trib_nodes");
    std::string certs = dir_ + "/certs";
    std::string cmd = "bash " + std::string(TRIB_SOURCE_DIR) + "/ops/node-certs.sh " + certs +
                      " coordinator w1 w2 > /dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    pg_fresh_database("trib_nodes");
    std::string sql;
    for (const auto& [name, rows] : table_rows)
      sql += "CREATE TABLE " + name + "(id int PRIMARY KEY, grp int, note text NOT NULL);"
             "INSERT INTO " + name + " SELECT i, i % 97, repeat('n', i % 50) || i "
             "FROM generate_series(1, " + std::to_string(rows) + ") AS g(i);"
             "ANALYZE " + name + ";";
    pg_exec("trib_nodes", sql);
  }

  std::vector<std::string> coordinator_args(const std::string& listen) {
    auto src = write_file(dir_ + "/pg.yaml", pg_source("trib_nodes"));
    auto dst = redis_conn(dir_);
    auto extractor = write_file(dir_ + "/extractor.yaml",
                                "snapshot:\n  threads: 4\n  fetch-size-rows: 300\n"
                                "  per-table-config:\n  - catalog: trib_nodes\n"
                                "    schema: public\n    tables:\n      big:\n"
                                "        split-key: id\n");
    auto applier = write_file(dir_ + "/applier.yaml", "snapshot:\n  batch-size-rows: 250\n");
    return {"coordinator", "snapshot", src, dst, "--extractor", extractor, "--applier", applier,
            "--id", "nodes", "--data-dir", dir_ + "/data", "--listen", listen,
            "--node-tls", dir_ + "/certs/coordinator", "--workers", "2"};
  }

  /// Every row of `table` exactly once, the last entry marked last.
  void expect_table_once(const std::string& table, int rows) {
    auto entries = read_stream(*r_, "trib_nodes_public_" + table);
    ASSERT_EQ(entries.size(), static_cast<size_t>(rows)) << table;
    std::set<int64_t> ids;
    size_t last_marks = 0;
    for (const auto& e : entries) {
      auto payload = json::parse(e.value).at("payload");
      ids.insert(payload.at("after").at("id").as_int64());
      if (payload.at("source").at("snapshot") == "last") ++last_marks;
    }
    EXPECT_EQ(ids.size(), static_cast<size_t>(rows)) << table << ": a row came twice";
    if (rows > 0) {
      EXPECT_EQ(*ids.begin(), 1) << table;
      EXPECT_EQ(*ids.rbegin(), rows) << table;
      EXPECT_EQ(last_marks, 1u) << table;
    }
    auto cp = r_->command({"HGET", checkpoint_key("default", "nodes"),
                           "trib_nodes_public_" + table});
    if (table != "big") {
      ASSERT_EQ(cp.type, redis_reply::kind::string) << table;
      EXPECT_TRUE(decode_snapshot_checkpoint(cp.str).done) << table;
    }
  }

  std::unique_ptr<redis_client> r_;
  std::string dir_;
};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_F(nodes_snapshot, two_workers_write_every_table_once) {
  std::string listen = "127.0.0.1:" + std::to_string(free_port());
  child_process coordinator(coordinator_args(listen), dir_ + "/coordinator.log");
  child_process w1({"worker", "--join", listen, "--node-tls", dir_ + "/certs/w1"},
                   dir_ + "/w1.log");
  child_process w2({"worker", "--join", listen, "--node-tls", dir_ + "/certs/w2"},
                   dir_ + "/w2.log");
  ASSERT_TRUE(wait_until([&] { return !coordinator.running(); }, std::chrono::seconds(120)))
    << read_text(dir_ + "/coordinator.log");
  auto out = read_text(dir_ + "/coordinator.log");
  ASSERT_EQ(coordinator.wait(), 0) << out;
  // The workers end with the run, as told.
  ASSERT_TRUE(wait_until([&] { return !w1.running() && !w2.running(); }, std::chrono::seconds(30)));
  auto log1 = read_text(dir_ + "/w1.log");
  auto log2 = read_text(dir_ + "/w2.log");
  // A worker ends with 0 when the coordinator's end reaches it; when the
  // coordinator's process is gone first, it ends with 1 and says so (a known
  // race at the end of a run, docs/nodes.md). Either way it wrote its part
  // once, which the checks below show.
  for (auto* w : {&w1, &w2}) {
    auto code = w->wait();
    const auto& log = w == &w1 ? log1 : log2;
    EXPECT_TRUE(code == 0 || (code == 1 && log.find("is gone") != std::string::npos))
      << code << "\n" << log;
  }
  EXPECT_EQ(count(out, "worker 1 joined"), 1u) << out;
  EXPECT_EQ(count(out, "worker 2 joined"), 1u) << out;

  for (const auto& [table, rows] : table_rows) expect_table_once(table, rows);

  // Each table was applied on exactly one worker, both workers had work,
  // and the two largest tables went to different workers.
  for (const auto& [table, rows] : table_rows) {
    auto line = "starts the applier of trib_nodes.public." + table + "\n";
    EXPECT_EQ(count(log1, line) + count(log2, line), 1u) << table << "\n" << log1 << log2;
  }
  auto big_on_1 = count(log1, "applier of trib_nodes.public.big\n") == 1;
  auto mid_on_1 = count(log1, "applier of trib_nodes.public.mid\n") == 1;
  EXPECT_NE(big_on_1, mid_on_1) << log1 << log2;
  // The split table's ranges are read where its applier is.
  auto& big_log = big_on_1 ? log1 : log2;
  EXPECT_EQ(count(big_log, "starts reading trib_nodes.public.big in 4 ranges"), 1u) << big_log;
}

TEST_F(nodes_snapshot, a_coordinator_without_its_workers_gives_up_with_a_message) {
  std::string listen = "127.0.0.1:" + std::to_string(free_port());
  auto args = coordinator_args(listen);
  args.push_back("--join-timeout");
  args.push_back("2");
  child_process coordinator(args, dir_ + "/coordinator.log");
  child_process w1({"worker", "--join", listen, "--node-tls", dir_ + "/certs/w1"},
                   dir_ + "/w1.log");
  ASSERT_TRUE(wait_until([&] { return !coordinator.running(); }, std::chrono::seconds(60)));
  auto out = read_text(dir_ + "/coordinator.log");
  EXPECT_EQ(coordinator.wait(), 1) << out;
  EXPECT_NE(out.find("the workers did not join within 2 s"), std::string::npos) << out;
  EXPECT_NE(out.find("1 of 2 workers joined"), std::string::npos) << out;
  // Nothing was written.
  EXPECT_EQ(stream_length(*r_, "trib_nodes_public_big"), 0);
  // The worker that came is told nothing more and sees its coordinator go.
  ASSERT_TRUE(wait_until([&] { return !w1.running(); }, std::chrono::seconds(30)));
  EXPECT_EQ(w1.wait(), 1) << read_text(dir_ + "/w1.log");
}

TEST_F(nodes_snapshot, a_worker_with_nobody_to_join_gives_up_with_a_message) {
  std::string listen = "127.0.0.1:" + std::to_string(free_port());
  auto res = run_tributary("worker --join " + listen + " --node-tls " + dir_ +
                           "/certs/w1 --join-timeout 2");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_NE(res.output.find("cannot join the coordinator at " + listen), std::string::npos)
    << res.output;
}

TEST_F(nodes_snapshot, a_worker_the_coordinator_refuses_says_so) {
  // A certificate of another CA: the coordinator's TLS ends the handshake.
  std::string cmd = "bash " + std::string(TRIB_SOURCE_DIR) + "/ops/node-certs.sh " + dir_ +
                    "/other stranger > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::string listen = "127.0.0.1:" + std::to_string(free_port());
  auto args = coordinator_args(listen);
  args.push_back("--join-timeout");
  args.push_back("30");
  child_process coordinator(args, dir_ + "/coordinator.log");
  ASSERT_TRUE(wait_until([&] {
    return read_text(dir_ + "/coordinator.log").find("listens for workers") != std::string::npos;
  }, std::chrono::seconds(30))) << read_text(dir_ + "/coordinator.log");
  auto res = run_tributary("worker --join " + listen + " --node-tls " + dir_ +
                           "/other/stranger --join-timeout 20");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  // Certificates of two CAs: each end refuses the other's, and the worker
  // names the refusal it saw first.
  auto said = res.output.find("cannot join the coordinator at " + listen + ": ");
  ASSERT_NE(said, std::string::npos) << res.output;
  auto why = res.output.substr(said);
  EXPECT_TRUE(why.find("this node refused the coordinator: its certificate (CN=coordinator) "
                       "is not signed by this node's CA") != std::string::npos ||
              why.find("the coordinator refused this node") != std::string::npos)
    << res.output;
  // Ctrl-C while the coordinator waits: how many came, exit 1.
  coordinator.signal(SIGINT);
  EXPECT_EQ(coordinator.wait(), 1);
  auto out = read_text(dir_ + "/coordinator.log");
  EXPECT_NE(out.find("stopped by SIGINT while waiting for workers: 0 of 2 workers joined"),
            std::string::npos)
    << out;
}

TEST_F(nodes_snapshot, a_worker_whose_handshake_is_never_answered_gives_up_in_time) {
  // Something accepts TCP there but never speaks TLS (CAF's connect would
  // wait for it forever): the join timeout ends the wait.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::string listen = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  auto started = std::chrono::steady_clock::now();
  auto res = run_tributary("worker --join " + listen + " --node-tls " + dir_ +
                           "/certs/w1 --join-timeout 2");
  auto took = std::chrono::steady_clock::now() - started;
  ::close(fd);
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_NE(res.output.find("cannot join the coordinator at " + listen + ": no answer within 2 s "
                            "(--join-timeout): something accepted the connection but "
                            "completed no TLS handshake"),
            std::string::npos)
    << res.output;
  EXPECT_LT(took, std::chrono::seconds(30)) << "the worker did not give up in time";
}

TEST_F(nodes_snapshot, a_worker_whose_coordinator_dies_stops_and_resume_finishes_exactly_once) {
  pg_exec("trib_nodes",
          "CREATE TABLE huge(id int PRIMARY KEY, grp int, note text NOT NULL);"
          "INSERT INTO huge SELECT i, i % 97, repeat('h', 200) || i "
          "FROM generate_series(1, 200000) AS g(i); ANALYZE huge;");
  std::string listen = "127.0.0.1:" + std::to_string(free_port());
  auto args = coordinator_args(listen);
  args.back() = "1";  // --workers 1
  child_process coordinator(args, dir_ + "/coordinator.log");
  child_process w1({"worker", "--join", listen, "--node-tls", dir_ + "/certs/w1"},
                   dir_ + "/w1.log");
  ASSERT_TRUE(wait_until([&] {
    return stream_length(*r_, "trib_nodes_public_huge") >= 2000 || !coordinator.running();
  }, std::chrono::seconds(120))) << read_text(dir_ + "/coordinator.log");
  ASSERT_TRUE(coordinator.running()) << read_text(dir_ + "/coordinator.log");
  coordinator.kill_now();
  // The worker notices, stops its stages and exits 1.
  ASSERT_TRUE(wait_until([&] { return !w1.running(); }, std::chrono::seconds(30)))
    << "the worker still runs without its coordinator";
  auto log = read_text(dir_ + "/w1.log");
  EXPECT_EQ(w1.wait(), 1) << log;
  EXPECT_NE(log.find("loses its coordinator"), std::string::npos) << log;
  auto written = stream_length(*r_, "trib_nodes_public_huge");
  EXPECT_LT(written, 200000) << "the snapshot was not cut short";

  // A coordinator started again with --resume continues, on a new worker,
  // from the checkpoints: every row once.
  std::string again = "127.0.0.1:" + std::to_string(free_port());
  auto resume = coordinator_args(again);
  resume.back() = "1";
  resume.push_back("--resume");
  child_process coordinator2(resume, dir_ + "/coordinator2.log");
  child_process w2({"worker", "--join", again, "--node-tls", dir_ + "/certs/w2"},
                   dir_ + "/w2.log");
  ASSERT_TRUE(wait_until([&] { return !coordinator2.running(); }, std::chrono::seconds(180)));
  ASSERT_EQ(coordinator2.wait(), 0) << read_text(dir_ + "/coordinator2.log");
  ASSERT_TRUE(wait_until([&] { return !w2.running(); }, std::chrono::seconds(30)));
  EXPECT_EQ(w2.wait(), 0) << read_text(dir_ + "/w2.log");
  expect_table_once("huge", 200000);
  for (const auto& [table, rows] : table_rows) expect_table_once(table, rows);
}
