// How Tributary reaches the test cluster of `ops/servers.sh cluster-start`,
// as on a single server (issue 14, point 1): over TLS (every node also
// serves TLS on its port + 200, with tls-cluster yes, so CLUSTER SLOTS and
// MOVED name the TLS ports to a TLS client), and as an ACL user whose key
// patterns allow the replication's own keys and nothing else, set on every
// node. Each is a `full` run: the snapshot of two tables, then changes,
// every row and change in its stream exactly once. Users made here are
// removed again, so later tests find the cluster as it was.

#include "tests/integration/cluster_fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

// A plain connection to one node as its default user (an operator's).
std::unique_ptr<redis_client> node(int port) {
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = port;
  return redis_client::connect(cfg);
}

std::vector<int> node_ports() {
  std::vector<int> out;
  for (int i = 0; i < 6; ++i) out.push_back(redis_cluster_port() + i);
  return out;
}

std::string ssl_block() {
  return "ssl:\n  enable: true\n  trust-store:\n    path: " + tls_dir() +
         "/ca.crt\n    ssl-store-type: PEM\n  key-store:\n    path: [" + tls_dir() +
         "/client.crt, " + tls_dir() + "/client.key]\n    ssl-store-type: PEM\n";
}

}  // namespace

class cluster_access : public cluster_run {
protected:
  void TearDown() override {
    for (const auto& u : users_)
      for (int port : node_ports()) {
        try {
          node(port)->command({"ACL", "DELUSER", u});
        } catch (const std::exception& e) {
          ADD_FAILURE() << "ACL DELUSER " << u << " on port " << port << ": " << e.what();
        }
      }
    cluster_run::TearDown();
  }

  /// The same ACL user on every node, replicas included (one may take over).
  void acl_user(const std::string& name, const std::vector<std::string>& rules) {
    users_.push_back(name);
    for (int port : node_ports()) {
      std::vector<std::string> argv{"ACL", "SETUSER", name, "reset", "on", ">" + name + "pw"};
      argv.insert(argv.end(), rules.begin(), rules.end());
      auto r = node(port)->command(argv);
      ASSERT_EQ(r.str, "OK") << "port " << port << ": " << r.str;
    }
  }

  /// `full` on tables x and y (300 rows each), whose four streams are on
  /// all three masters (the names of both tests' databases hash so); then
  /// changes; every row and change once.
  void full_run_once() {
    sql db(db_);
    db.exec("CREATE TABLE x(id int PRIMARY KEY, v int); CREATE TABLE y(id int PRIMARY KEY, v int);"
            "INSERT INTO x SELECT g, g FROM generate_series(1, 300) g;"
            "INSERT INTO y SELECT g, g FROM generate_series(1, 300) g");
    std::set<std::string> nodes;
    for (const auto& s : {db_ + "_public_x", db_ + "_public_y", stream("x"), stream("y")})
      nodes.insert(owner(s).name());
    ASSERT_EQ(nodes.size(), 3u);
    start("full");
    ASSERT_FALSE(HasFatalFailure());
    db.exec("INSERT INTO x VALUES (1001, 1); UPDATE y SET v = v + 1 WHERE id <= 10;"
            "DELETE FROM x WHERE id BETWEEN 20 AND 29; UPDATE x SET id = 2001 WHERE id = 5");
    ASSERT_TRUE(wait_replayed_equal(60s)) << read_text(dir_ + "/run.log");
    EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
    expect_rows_once(db_ + "_public_x", 300);
    expect_rows_once(db_ + "_public_y", 300);
    for (const auto& s : {stream("x"), stream("y")}) expect_each_change_once(changes(s), s);
    // 1 insert, 10 deletes with their tombstones, a key update (delete,
    // tombstone, insert) on x; 10 updates on y.
    EXPECT_EQ(stream_length(*r_, stream("x")), 1 + 20 + 3);
    EXPECT_EQ(stream_length(*r_, stream("y")), 10);
  }

  std::vector<std::string> users_;
};

TEST_F(cluster_access, full_over_tls_follows_the_tls_ports_the_cluster_names) {
  use_cluster("tls");
  // Only TLS ports in the target: a node the slot map named by its plain
  // port would refuse the TLS handshake and the run would fail.
  int first = redis_cluster_port();
  write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                   std::to_string(redis_cluster_tls_port(first)) +
                                   "\nmode: CLUSTER\ncluster-seeds: [127.0.0.1:" +
                                   std::to_string(redis_cluster_tls_port(first + 1)) + "]\n" +
                                   ssl_block());
  full_run_once();
  ASSERT_FALSE(HasFatalFailure());
  // The TLS ports are the ones CLUSTER SLOTS gives a TLS client.
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = redis_cluster_tls_port(first);
  cfg.cluster = true;
  cfg.ssl.enable = true;
  cfg.ssl.trust_store = store_config{};
  cfg.ssl.trust_store->path = tls_dir() + "/ca.crt";
  cfg.ssl.trust_store->store_type = "PEM";
  cfg.ssl.key_store = store_config{};
  cfg.ssl.key_store->path = tls_dir() + "/client.crt";
  cfg.ssl.key_store->key_path = tls_dir() + "/client.key";
  cfg.ssl.key_store->store_type = "PEM";
  cluster_client tls(cfg);
  ASSERT_EQ(tls.slots().masters.size(), 3u);
  for (const auto& m : tls.slots().masters) EXPECT_GE(m.port, redis_cluster_tls_port(first)) << m.name();
  // A target without ssl on those ports is refused, not half connected.
  write_file(dir_ + "/plain.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                     std::to_string(redis_cluster_tls_port(first)) +
                                     "\nmode: CLUSTER\nmax-retries: 1\nretry-wait-duration-ms: 10\n");
  auto plain = run_tributary("fetch-schemas " + dir_ + "/plain.yaml --id " + id_ +
                             " --output-file " + dir_ + "/schemas.yaml");
  EXPECT_NE(plain.exit_code, 0) << plain.output;
}

TEST_F(cluster_access, full_as_an_acl_user_limited_to_the_replication_s_keys) {
  use_cluster("acl");
  const std::string user = "trib_cl_acl";
  // The streams (named after the database), and Tributary's own keys of
  // this replication: checkpoint, lease, renewal, epoch, statistics, schema
  // dump (replicate_io_<what>_default_<id>) and their per-stream copies
  // (...:{stream}). Every command but the administrator's, plus CLUSTER
  // SLOTS for the slot map.
  acl_user(user, {"~" + db_ + "_*", "~replicate_io_*_default_" + id_,
                  "~replicate_io_*_default_" + id_ + ":*", "&*", "+@all", "-@admin",
                  "+cluster|slots"});
  ASSERT_FALSE(HasFatalFailure());
  target("username: " + user + "\npassword: " + user + "pw\n");
  full_run_once();
  ASSERT_FALSE(HasFatalFailure());
  // The rules did bind the run: this user may touch no other key, on any
  // master.
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = redis_cluster_port();
  cfg.cluster = true;
  cfg.username = user;
  cfg.password = user + "pw";
  auto c = redis_client::connect(cfg);
  for (const auto& k : {std::string("replicate_io_checkpoint_default_other"), "other_" + db_}) {
    auto r = c->command({"SET", k, "1"});
    EXPECT_EQ(r.str.rfind("NOPERM", 0), 0u) << k << ": " << r.str;
  }
  EXPECT_GE(r_->cluster()->scan("replicate_io_*_default_" + id_ + "*").size(), 3u);
}
