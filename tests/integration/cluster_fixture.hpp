#pragma once
// The realtime fixture (a database, slot and --id per test, the binary as a
// child process) with the Redis Cluster of `ops/servers.sh cluster-start`
// as the target: the target file says mode: CLUSTER, and r_ is a client of
// the cluster, so the stream checks of fixture.hpp read every node.

#include <set>

#include "actors/apply/envelope.hpp"
#include "actors/sink/redis_cluster.hpp"
#include "tests/integration/realtime_fixture.hpp"

namespace trib::test {

/// A client of the test cluster (commands routed by key).
inline std::unique_ptr<redis_client> cluster_redis() {
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = redis_cluster_port();
  cfg.cluster = true;
  // Any node may be the one a failover test killed.
  for (int i = 1; i < 6; ++i) cfg.cluster_seeds.push_back("127.0.0.1:" + std::to_string(cfg.port + i));
  return redis_client::connect(cfg);
}

/// Deletes the keys matching `pattern` on every master.
inline void delete_cluster_keys(redis_client& c, const std::string& pattern) {
  for (const auto& k : c.cluster()->scan(pattern)) c.command({"DEL", k});
}

class cluster_run : public realtime {
protected:
  void use_cluster(const std::string& name) {
    use("cl_" + name);
    r_.reset();
    try {
      r_ = cluster_redis();
    } catch (const std::exception& e) {
      FAIL() << "no redis cluster on port " << redis_cluster_port()
             << " (start it with: bash ops/servers.sh cluster-start): " << e.what();
    }
    clean_cluster();
    target("");
  }

  /// The target file: the cluster's first node, the second as a seed, and
  /// `extra` keys.
  void target(const std::string& extra) {
    write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                     std::to_string(redis_cluster_port()) +
                                     "\nmode: CLUSTER\ncluster-seeds: [127.0.0.1:" +
                                     std::to_string(redis_cluster_port() + 1) + "]\n" + extra);
  }

  void TearDown() override {
    if (r_) {
      try {
        clean_cluster();
      } catch (const std::exception&) {
        // A test that broke the cluster says so itself.
      }
    }
    r_.reset();
    realtime::TearDown();
  }

  void clean_cluster() {
    delete_cluster_keys(*r_, db_ + "_*");
    delete_cluster_keys(*r_, "replicate_io_*" + id_ + "*");
  }

  /// The master that owns `key`.
  cluster_node owner(const std::string& key) { return r_->cluster()->node_for_key(key); }

  /// The command line of a run, for run_tributary.
  std::string line(const std::string& mode, std::vector<std::string> extra = {}) {
    std::string out;
    for (const auto& a : args(mode, std::move(extra))) out += (out.empty() ? "" : " ") + a;
    return out;
  }

  /// Snapshot stream `s` holds ids 1..rows, each once.
  void expect_rows_once(const std::string& s, int rows) {
    auto entries = read_stream(*r_, s);
    std::set<int64_t> ids;
    for (const auto& e : entries)
      ids.insert(replay_payload(json::parse(e.key)).at("id").to_number<int64_t>());
    EXPECT_EQ(entries.size(), static_cast<size_t>(rows)) << s;
    EXPECT_EQ(ids.size(), static_cast<size_t>(rows)) << s;
    if (!ids.empty()) {
      EXPECT_EQ(*ids.begin(), 1) << s;
      EXPECT_EQ(*ids.rbegin(), rows) << s;
    }
  }

  /// Tables x and y (id, v) replayed from their snapshot and change
  /// streams equal the source, within `d`.
  bool wait_replayed_equal(std::chrono::milliseconds d) {
    sql db(db_);
    return wait_until([&] {
      auto sx = db.rows("SELECT id::text, v::text FROM x");
      auto sy = db.rows("SELECT id::text, v::text FROM y");
      std::sort(sx.begin(), sx.end());
      std::sort(sy.begin(), sy.end());
      replay_state st;
      for (const auto& t : {"x", "y"}) {
        for (const auto& e : read_stream(*r_, db_ + "_public_" + t)) replay_entry(st, e.key, e.value);
        for (const auto& e : read_stream(*r_, stream(t))) replay_entry(st, e.key, e.value);
      }
      return replay_rows(st.tables["x"], {"id", "v"}) == sx &&
             replay_rows(st.tables["y"], {"id", "v"}) == sy;
    }, d, 500ms);
  }
};

}  // namespace trib::test
