// Memory backpressure per node of the test cluster (issue 14, point 4;
// memory-threshold-percentage): one master is over the threshold during a
// snapshot (its maxmemory set low, a ballast key in one of its slots), so
// the writer of the table whose stream it owns pauses while the tables on
// the other masters are written on; freeing the ballast lets the paused
// table complete, every row once, and that master never answered OOM. The
// master's maxmemory and the ballast are put back whatever the outcome.

#include "tests/integration/cluster_fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

std::unique_ptr<redis_client> node(const cluster_node& n) {
  redis_config cfg;
  cfg.host = n.host;
  cfg.port = n.port;
  return redis_client::connect(cfg);
}

// A field of INFO <section> ("" when absent).
std::string info_field(redis_client& c, const std::string& section, const std::string& field) {
  auto text = c.command({"INFO", section}).str;
  auto at = text.find("\n" + field + ":");
  if (at == std::string::npos) return "";
  at += field.size() + 2;
  return text.substr(at, text.find_first_of("\r\n", at) - at);
}

uint64_t used_memory(redis_client& c) { return std::stoull(info_field(c, "memory", "used_memory")); }

}  // namespace

class cluster_memory : public cluster_run {
protected:
  void TearDown() override {
    if (full_) {
      try {
        auto c = node(*full_);
        if (!ballast_.empty()) c->command({"DEL", ballast_});
        auto r = c->command({"CONFIG", "SET", "maxmemory", maxmemory_before_});
        EXPECT_EQ(r.str, "OK") << r.str;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "could not put back maxmemory of " << full_->name() << ": " << e.what();
      }
    }
    cluster_run::TearDown();
  }

  std::optional<cluster_node> full_;
  std::string maxmemory_before_ = "0", ballast_;
};

TEST_F(cluster_memory, a_master_over_the_threshold_pauses_its_writer_and_the_others_go_on) {
  use_cluster("mem");
  // One table per writer: three of each.
  applier("snapshot:\n  threads: 3\n  batch-size-rows: 200\n");
  // Three tables: the first on master A, the other two on other masters.
  auto snap = [&](const std::string& t) { return db_ + "_public_" + t; };
  std::vector<std::string> tables{"m0"};
  auto a = owner(snap("m0"));
  for (int i = 1; tables.size() < 3 && i < 100; ++i) {
    auto t = "m" + std::to_string(i);
    if (!(owner(snap(t)) == a)) tables.push_back(t);
  }
  ASSERT_EQ(tables.size(), 3u);
  const int rows = 3000;
  sql db(db_);
  for (const auto& t : tables)
    db.exec("CREATE TABLE " + t + "(id int PRIMARY KEY, v text); INSERT INTO " + t +
            " SELECT g, 'row ' || g FROM generate_series(1, " + std::to_string(rows) + ") g");

  // A is over 50% of its maxmemory and well below maxmemory itself: 32 MB
  // of ballast in the paused stream's slot, maxmemory 48 MB above what A
  // used before.
  auto ca = node(a);
  auto before = ca->command({"CONFIG", "GET", "maxmemory"});
  ASSERT_EQ(before.elements.size(), 2u);
  maxmemory_before_ = before.elements[1].str;
  full_ = a;
  auto base = used_memory(*ca);
  ASSERT_LT(base, 16ull << 20) << "master " << a.name() << " holds data of another test";
  ASSERT_EQ(ca->command({"CONFIG", "SET", "maxmemory", std::to_string(base + (48ull << 20))}).str,
            "OK");
  auto oom_before = info_field(*ca, "errorstats", "errorstat_OOM");
  ballast_ = db_ + "_ballast" + hash_tag(snap(tables[0]));
  ASSERT_EQ(key_slot(ballast_), key_slot(snap(tables[0])));
  ASSERT_EQ(ca->command({"SETRANGE", ballast_, std::to_string((32 << 20) - 1), "b"}).type,
            redis_reply::kind::integer);

  target("memory-threshold-percentage: 50\n");
  child_process run(args("snapshot"), dir_ + "/run.log");
  auto log = [&] { return read_text(dir_ + "/run.log"); };
  ASSERT_TRUE(wait_until([&] {
    return !run.running() || log().find("pauses writing to " + snap(tables[0])) != std::string::npos;
  }, 60s)) << log();
  ASSERT_TRUE(run.running()) << "the snapshot ended without pausing: " << log();
  // The tables of the other masters are written whole meanwhile.
  ASSERT_TRUE(wait_until([&] {
    return stream_length(*r_, snap(tables[1])) == rows && stream_length(*r_, snap(tables[2])) == rows;
  }, 60s)) << log();
  // The paused table's stream is still as it was when its writer paused:
  // A is read again and again (INFO, counted by A), and nothing is added.
  auto in = stream_length(*r_, snap(tables[0]));
  EXPECT_LT(in, rows);
  auto info_calls = [&] {
    auto v = info_field(*ca, "commandstats", "cmdstat_info");
    return std::stoll(v.substr(6, v.find(',') - 6));  // "calls=N,..."
  };
  auto start = info_calls();
  // Each of this test's own INFO calls counts one.
  long long mine = 0;
  ASSERT_TRUE(wait_until([&] { return info_calls() - start - ++mine >= 4; }, 30s)) << log();
  EXPECT_EQ(stream_length(*r_, snap(tables[0])), in) << "wrote to a master above the threshold";
  EXPECT_EQ(log().find("pauses writing to " + snap(tables[1])), std::string::npos) << log();
  EXPECT_EQ(log().find("pauses writing to " + snap(tables[2])), std::string::npos) << log();
  ASSERT_TRUE(run.running()) << log();

  // Memory freed on A: the paused table completes, once, without OOM.
  ASSERT_EQ(ca->command({"DEL", ballast_}).integer, 1);
  ballast_.clear();
  EXPECT_EQ(run.wait(), 0) << log();
  EXPECT_NE(log().find("resumes writing to " + snap(tables[0])), std::string::npos) << log();
  for (const auto& t : tables) expect_rows_once(snap(t), rows);
  EXPECT_EQ(info_field(*ca, "errorstats", "errorstat_OOM"), oom_before) << "A answered OOM";
  EXPECT_EQ(log().find("OOM"), std::string::npos) << log();
}
