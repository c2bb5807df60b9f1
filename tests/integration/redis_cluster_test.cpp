// cluster_client against the Redis Cluster of `ops/servers.sh cluster-start`
// (three masters, one replica each): slots learned from any seed, commands
// sent to the master that owns their key, MOVED after a slot moved to
// another master, ASK while a slot migrates. Every test works under its own
// random key prefix, puts moved slots back and deletes its keys.

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "actors/sink/redis_cluster.hpp"
#include "tests/integration/test_env.hpp"

using namespace trib;

namespace {

redis_config cluster_target() {
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = test::redis_cluster_port();
  cfg.cluster = true;
  return cfg;
}

std::string random_suffix() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

// A plain connection to one node, as an operator's redis-cli would open.
std::unique_ptr<redis_client> node(const cluster_node& n) {
  redis_config cfg;
  cfg.host = n.host;
  cfg.port = n.port;
  return redis_client::connect(cfg);
}

std::string node_id(const cluster_node& n) {
  return node(n)->command({"CLUSTER", "MYID"}).str;
}

class RedisCluster : public ::testing::Test {
protected:
  void SetUp() override {
    try {
      client = std::make_unique<cluster_client>(cluster_target());
    } catch (const std::exception& e) {
      FAIL() << "no redis cluster on port " << test::redis_cluster_port()
             << " (start it with: bash ops/servers.sh cluster-start): " << e.what();
    }
    ASSERT_EQ(client->slots().masters.size(), 3u);
    ASSERT_EQ(client->slots().uncovered(), 0u);
    prefix = "clt_" + random_suffix() + "_";
  }

  void TearDown() override {
    if (!client) return;
    // Keys first: a master gives away no slot that still holds keys.
    for (auto& [n, r] : client->on_every_master({"KEYS", prefix + "*"}))
      for (auto& k : r.elements) node(n)->command({"DEL", k.str});
    for (auto& [from, to, slot] : moved) give_slot(slot, to, from);
  }

  // Every master is told that `slot` now belongs to `to` (an empty slot
  // moves without MIGRATE).
  void give_slot(uint16_t slot, const cluster_node& from, const cluster_node& to) {
    auto id = node_id(to);
    for (const auto& n : {to, from}) {
      auto r = node(n)->command({"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", id});
      ASSERT_NE(r.type, redis_reply::kind::error) << r.str;
    }
    for (const auto& n : client->slots().masters)
      node(n)->command({"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", id});
    // The third master hears of it over the bus; wait until it says so.
    ASSERT_TRUE(test::wait_until([&] {
      for (const auto& n : client->slots().masters) {
        auto r = node(n)->command({"CLUSTER", "SLOTS"});
        auto m = parse_cluster_slots(r, n.host);
        if (!m.node_for(slot) || !(*m.node_for(slot) == to)) return false;
      }
      return true;
    }));
  }

  // A key of this test whose slot is owned by another master than `not_on`.
  std::string key_elsewhere(const cluster_node& not_on) {
    for (int i = 0;; ++i) {
      auto k = prefix + std::to_string(i);
      if (!(client->node_for_key(k) == not_on)) return k;
    }
  }

  std::unique_ptr<cluster_client> client;
  std::string prefix;
  std::vector<std::tuple<cluster_node, cluster_node, uint16_t>> moved;
};

}  // namespace

TEST_F(RedisCluster, EachKeyIsWrittenOnTheMasterThatOwnsItsSlot) {
  std::map<cluster_node, long long> ids;
  for (const auto& n : client->slots().masters)
    ids[n] = client->connection(n).command({"CLIENT", "ID"}).integer;
  std::map<cluster_node, int> per_node;
  for (int i = 0; i < 60; ++i) {
    auto k = prefix + std::to_string(i);
    auto r = client->command(k, {"SET", k, std::to_string(i)});
    ASSERT_EQ(r.type, redis_reply::kind::status) << r.str;
    auto owner = client->node_for_key(k);
    ++per_node[owner];
    // Asked directly, the owner has it; no other master does.
    EXPECT_EQ(node(owner)->command({"GET", k}).str, std::to_string(i));
    for (const auto& n : client->slots().masters) {
      if (n == owner) continue;
      EXPECT_EQ(node(n)->command({"GET", k}).type, redis_reply::kind::error) << n.name();
    }
  }
  // 60 random keys over three masters: each master got some.
  EXPECT_EQ(per_node.size(), 3u);
  // Over one connection each, opened once and reused: its CLIENT ID is
  // the one it had before the writes.
  for (const auto& [n, id] : ids)
    EXPECT_EQ(client->connection(n).command({"CLIENT", "ID"}).integer, id) << n.name();
}

TEST_F(RedisCluster, SlotsAreLearnedFromTheNextSeedWhenTheFirstIsDown) {
  auto cfg = cluster_target();
  // A port of the cluster's range nobody listens on (bus ports are +100).
  cfg.port = test::redis_cluster_port() + 50;
  cfg.cluster_seeds = {"127.0.0.1:" + std::to_string(test::redis_cluster_port() + 4)};
  cluster_client c(cfg);
  EXPECT_EQ(c.slots().masters.size(), 3u);
  EXPECT_EQ(c.slots().uncovered(), 0u);
}

TEST_F(RedisCluster, AServerWithoutClusterIsAConfigError) {
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = test::redis_port();
  cfg.cluster = true;
  try {
    cluster_client c(cfg);
    FAIL() << "a standalone redis was taken for a cluster";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::config);
    EXPECT_NE(std::string(e.what()).find("not a cluster node"), std::string::npos) << e.what();
  }
}

TEST_F(RedisCluster, MovedIsFollowedAndTheSlotMapLearnedAgain) {
  auto k = prefix + "moving";
  auto from = client->node_for_key(k);
  auto to = client->node_for_key(key_elsewhere(from));
  auto slot = key_slot(k);
  // The client still holds the map from before the move.
  give_slot(slot, from, to);
  moved.emplace_back(from, to, slot);
  auto r = client->command(k, {"SET", k, "after"});
  ASSERT_EQ(r.type, redis_reply::kind::status) << r.str;
  EXPECT_EQ(client->node_for_key(k), to);
  EXPECT_EQ(node(to)->command({"GET", k}).str, "after");
}

TEST_F(RedisCluster, AskIsFollowedWithAskingWhileASlotMigrates) {
  auto k = prefix + "migrating";
  auto from = client->node_for_key(k);
  auto to = client->node_for_key(key_elsewhere(from));
  auto slot = std::to_string(key_slot(k));
  auto src = node(from);
  auto dst = node(to);
  ASSERT_EQ(dst->command({"CLUSTER", "SETSLOT", slot, "IMPORTING", node_id(from)}).type,
            redis_reply::kind::status);
  ASSERT_EQ(src->command({"CLUSTER", "SETSLOT", slot, "MIGRATING", node_id(to)}).type,
            redis_reply::kind::status);
  // The key is not on the source: it answers ASK, and the key is made on
  // the destination, which still does not own the slot.
  auto r = client->command(k, {"SET", k, "asked"});
  EXPECT_EQ(r.type, redis_reply::kind::status) << r.str;
  EXPECT_EQ(client->node_for_key(k), from);
  auto on_dst = dst->pipeline({{"ASKING"}, {"GET", k}});
  EXPECT_EQ(on_dst[1].str, "asked");
  dst->pipeline({{"ASKING"}, {"DEL", k}});
  src->command({"CLUSTER", "SETSLOT", slot, "STABLE"});
  dst->command({"CLUSTER", "SETSLOT", slot, "STABLE"});
}

// A redis_client of mode CLUSTER (the setup code's view of the cluster):
// single commands by key, a MULTI without WATCH on its first key's node,
// a DEL of keys on several masters split.
TEST_F(RedisCluster, AClientOfTheClusterRoutesCommandsAndTransactions) {
  auto c = redis_client::connect(cluster_target());
  ASSERT_NE(c->cluster(), nullptr);
  std::string a = prefix + "a", b;
  for (int i = 0; b.empty(); ++i) {
    auto k = prefix + "b" + std::to_string(i);
    if (!(client->node_for_key(k) == client->node_for_key(a))) b = k;
  }
  EXPECT_EQ(c->command({"SET", a, "1"}).str, "OK");
  EXPECT_EQ(c->command({"SET", b, "2"}).str, "OK");
  EXPECT_EQ(c->command({"GET", b}).str, "2");
  for (const auto& k : {a, b}) {
    EXPECT_EQ(c->command({"MULTI"}).str, "OK");
    EXPECT_EQ(c->command({"INCR", k}).str, "QUEUED");
    EXPECT_EQ(c->command({"INCR", k}).str, "QUEUED");
    auto r = c->command({"EXEC"});
    ASSERT_EQ(r.type, redis_reply::kind::array) << r.str;
    EXPECT_EQ(r.elements.back().integer, k == a ? 3 : 4);
  }
  // WATCH pins the transaction to its key's node as well.
  EXPECT_EQ(c->command({"WATCH", b}).str, "OK");
  EXPECT_EQ(c->command({"MULTI"}).str, "OK");
  c->command({"GET", b});
  auto watched = c->command({"EXEC"});
  ASSERT_EQ(watched.type, redis_reply::kind::array);
  EXPECT_EQ(watched.elements[0].str, "4");
  EXPECT_EQ(c->command({"EXISTS", a, b, prefix + "none"}).integer, 2);
  EXPECT_EQ(c->command({"DEL", a, b, prefix + "none"}).integer, 2);
  EXPECT_EQ(c->command({"EXISTS", a, b}).integer, 0);
}

// The target's user and password hold on every node: the ACL user of
// ops/servers.sh (keys acl_* only) writes its keys on each master, is
// refused others, and a wrong password is refused at the first node.
TEST_F(RedisCluster, AnAclUserIsTheSameUserOnEveryNode) {
  auto cfg = cluster_target();
  cfg.username = test::redis_acl_user();
  cfg.password = test::redis_acl_password();
  auto c = redis_client::connect(cfg);
  std::set<std::string> nodes;
  std::vector<std::string> keys;
  for (int i = 0; nodes.size() < 3 && i < 1000; ++i) {
    auto k = "acl_" + prefix + std::to_string(i);
    if (nodes.insert(client->node_for_key(k).name()).second) keys.push_back(k);
  }
  ASSERT_EQ(nodes.size(), 3u);
  for (const auto& k : keys) EXPECT_EQ(c->command({"SET", k, "v"}).str, "OK") << k;
  auto refused = c->command({"SET", prefix + "not_acl", "v"});
  EXPECT_EQ(refused.type, redis_reply::kind::error);
  EXPECT_EQ(refused.str.rfind("NOPERM", 0), 0u) << refused.str;
  for (const auto& k : keys) c->command({"DEL", k});
  cfg.password = "wrong";
  try {
    redis_client::connect(cfg);
    ADD_FAILURE() << "a wrong password was accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::auth) << e.what();
  }
}
