// The pure half of Redis Cluster routing: CRC16 and key slots against the
// vectors of the Redis Cluster specification (each also asked of Debian's
// redis-server 7.0 with CLUSTER KEYSLOT), the slot map from a CLUSTER SLOTS
// reply captured from ops/servers.sh's cluster, and MOVED/ASK replies.

#include <gtest/gtest.h>

#include "actors/sink/redis_cluster.hpp"

using namespace trib;

namespace {

redis_reply parse(const std::string& bytes) {
  reply_reader r;
  r.feed(bytes.data(), bytes.size());
  auto reply = r.next();
  EXPECT_TRUE(reply.has_value());
  return reply ? *reply : redis_reply{};
}

// CLUSTER SLOTS from redis-server 7.0.15 (three masters on 57019-57021).
const std::string captured_slots =
  "*3\r\n*3\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:57019\r\n$40\r\n"
  "bd1e1eb06898c6d332647516033c84e5f1e1efed\r\n*0\r\n*3\r\n:5461\r\n:10922\r\n*4\r\n"
  "$9\r\n127.0.0.1\r\n:57020\r\n$40\r\n40f7cb250866a15aca0baccb2da7c1d273e3e560\r\n*0\r\n"
  "*3\r\n:10923\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:57021\r\n$40\r\n"
  "4146f5401fe14d4ba6054b346a62a1a4e679addf\r\n*0\r\n";

}  // namespace

TEST(ClusterSlots, Crc16IsXmodemWithTheSpecificationsCheckValue) {
  // "The CRC16 of 123456789 is 0x31C3" (Redis Cluster specification).
  EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3);
  EXPECT_EQ(crc16_xmodem(""), 0);
}

TEST(ClusterSlots, KeySlotsMatchRedis) {
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot("somekey"), 11058);
  EXPECT_EQ(key_slot("hello"), 866);
  EXPECT_EQ(key_slot("123456789"), 12739);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(ClusterSlots, OnlyTheFirstNonEmptyHashTagIsHashed) {
  EXPECT_EQ(key_slot("{user1000}.following"), 3443);
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  // "{}" is no tag: the whole key is hashed.
  EXPECT_EQ(key_slot("foo{}{bar}"), 8363);
  EXPECT_NE(key_slot("foo{}{bar}"), key_slot("bar"));
  // The tag ends at the first '}': "{bar".
  EXPECT_EQ(key_slot("foo{{bar}}zap"), 4015);
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
  // Only the first tag counts.
  EXPECT_EQ(key_slot("foo{bar}{zap}"), 5061);
  // An unclosed '{' is no tag either.
  EXPECT_EQ(key_slot("{bar"), 4015);
}

TEST(ClusterSlots, AStreamAndItsCheckpointHashShareASlot) {
  for (std::string stream : {"pg.public.orders", "tpch_lineitem", "a", "x:y"})
    EXPECT_EQ(key_slot("replicate_io_checkpoint_g_1:" + hash_tag(stream)),
              key_slot(hash_tag(stream)))
      << stream;
  // A stream name is hashed whole, so the tag must hash like the stream.
  EXPECT_EQ(key_slot(hash_tag("pg.public.orders")), key_slot("pg.public.orders"));
}

TEST(ClusterSlots, SlotMapFromCapturedClusterSlots) {
  auto m = parse_cluster_slots(parse(captured_slots), "127.0.0.1");
  ASSERT_EQ(m.masters.size(), 3u);
  EXPECT_EQ(m.uncovered(), 0u);
  EXPECT_EQ(m.node_for(0)->port, 57019);
  EXPECT_EQ(m.node_for(5460)->port, 57019);
  EXPECT_EQ(m.node_for(5461)->port, 57020);
  EXPECT_EQ(m.node_for(10922)->port, 57020);
  EXPECT_EQ(m.node_for(10923)->port, 57021);
  EXPECT_EQ(m.node_for(16383)->port, 57021);
  EXPECT_EQ(m.node_for(key_slot("foo"))->name(), "127.0.0.1:57021");
}

TEST(ClusterSlots, SlotMapWithReplicasGapsAndUnknownHosts) {
  // Replicas after the master are not routed to; a master that does not
  // know its address announces "" and takes the address asked.
  redis_reply r;
  r.type = redis_reply::kind::array;
  auto range = [](long long a, long long b, std::string host, long long port) {
    redis_reply node;
    node.type = redis_reply::kind::array;
    node.elements.resize(2);
    node.elements[0].type = redis_reply::kind::string;
    node.elements[0].str = std::move(host);
    node.elements[1].type = redis_reply::kind::integer;
    node.elements[1].integer = port;
    redis_reply x;
    x.type = redis_reply::kind::array;
    x.elements.resize(2);
    x.elements[0].type = x.elements[1].type = redis_reply::kind::integer;
    x.elements[0].integer = a;
    x.elements[1].integer = b;
    x.elements.push_back(node);
    node.elements[1].integer = port + 3;
    x.elements.push_back(node);  // the replica
    return x;
  };
  r.elements.push_back(range(0, 99, "", 7000));
  r.elements.push_back(range(200, 16383, "10.0.0.2", 7001));
  auto m = parse_cluster_slots(r, "seed.example");
  ASSERT_EQ(m.masters.size(), 2u);
  EXPECT_EQ(m.node_for(50)->name(), "seed.example:7000");
  EXPECT_EQ(m.node_for(150), nullptr);
  EXPECT_EQ(m.uncovered(), 100u);
  EXPECT_EQ(m.node_for(200)->name(), "10.0.0.2:7001");
  m.assign(150, {"10.0.0.2", 7001});
  EXPECT_EQ(m.masters.size(), 2u);
  EXPECT_EQ(m.node_for(150)->name(), "10.0.0.2:7001");
  m.assign(151, {"10.0.0.3", 7002});
  EXPECT_EQ(m.masters.size(), 3u);
  EXPECT_EQ(m.node_for(151)->name(), "10.0.0.3:7002");
}

TEST(ClusterSlots, OtherShapesOfClusterSlotsAreRefused) {
  EXPECT_THROW(parse_cluster_slots(parse("+OK\r\n"), "h"), error);
  EXPECT_THROW(parse_cluster_slots(parse("*1\r\n*2\r\n:0\r\n:5\r\n"), "h"), error);
  EXPECT_THROW(
    parse_cluster_slots(parse("*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n"), "h"),
    error);
  EXPECT_THROW(
    parse_cluster_slots(parse("*1\r\n*3\r\n:9\r\n:3\r\n*2\r\n$1\r\nh\r\n:1\r\n"), "h"), error);
  EXPECT_EQ(parse_cluster_slots(parse("*0\r\n"), "h").masters.size(), 0u);
}

TEST(ClusterSlots, MovedAndAskReplies) {
  auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381", "seed");
  ASSERT_TRUE(moved);
  EXPECT_FALSE(moved->ask);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->to.name(), "127.0.0.1:6381");
  auto ask = parse_redirect("ASK 3999 10.0.0.5:7002", "seed");
  ASSERT_TRUE(ask);
  EXPECT_TRUE(ask->ask);
  EXPECT_EQ(ask->to.name(), "10.0.0.5:7002");
  // A node that does not know its own address: the one asked.
  auto bare = parse_redirect("MOVED 12 :7003", "seed");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->to.name(), "seed:7003");
  // IPv6 addresses keep their colons: the port is after the last one.
  auto v6 = parse_redirect("MOVED 1 ::1:7004", "seed");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to.host, "::1");
  EXPECT_EQ(v6->to.port, 7004);
  for (std::string other : {"ERR unknown command", "MOVED", "MOVED x 1.2.3.4:5",
                            "MOVED 16384 h:1", "ASK 1 h", "ASK 1 h:0", "MOVEDX 1 h:2"})
    EXPECT_FALSE(parse_redirect(other, "seed")) << other;
}

TEST(ClusterSlots, SeedAddresses) {
  EXPECT_EQ(parse_node_address("redis-1:7000").name(), "redis-1:7000");
  EXPECT_THROW(parse_node_address("redis-1"), std::invalid_argument);
  EXPECT_THROW(parse_node_address(":7000"), std::invalid_argument);
  EXPECT_THROW(parse_node_address("h:70000"), std::invalid_argument);
  EXPECT_THROW(parse_node_address("h:7x"), std::invalid_argument);
}

TEST(ClusterSlots, NodeConfigKeepsUserPasswordAndTls) {
  redis_config cfg;
  cfg.host = "seed";
  cfg.port = 1;
  cfg.username = "repl";
  cfg.password = "pw";
  cfg.ssl.enable = true;
  cfg.cluster = true;
  auto c = node_config(cfg, {"10.0.0.9", 7009});
  EXPECT_EQ(c.host, "10.0.0.9");
  EXPECT_EQ(c.port, 7009);
  EXPECT_EQ(c.username, "repl");
  EXPECT_EQ(c.password, "pw");
  EXPECT_TRUE(c.ssl.enable);
}

TEST(ClusterSlots, ANodeConfigIsOneServer) {
  redis_config cfg;
  cfg.cluster = true;
  cfg.cluster_seeds = {"h:2"};
  auto c = node_config(cfg, {"h", 1});
  EXPECT_FALSE(c.cluster);
  EXPECT_TRUE(c.cluster_seeds.empty());
}

TEST(ClusterSlots, StreamScopedKeysShareTheStreamsSlot) {
  for (std::string stream : {"shop_public_orders", "shop_public_orders_cdc_logs", "a{b}c",
                             "replicate_io_cdc_logs_default_id", "{tag}rest"}) {
    auto key = stream_scoped_key("replicate_io_checkpoint_default_id", stream);
    EXPECT_EQ(key_slot(key), key_slot(stream)) << key;
  }
  EXPECT_EQ(stream_scoped_key("ck", "shop_public_orders"), "ck:{shop_public_orders}");
  // A stream with a hash tag of its own lends the tag.
  EXPECT_EQ(stream_scoped_key("ck", "a{b}c"), "ck:{b}");
  // A '}' outside a tag cannot be carried into one.
  EXPECT_THROW(stream_scoped_key("ck", "odd}name"), error);
  EXPECT_THROW(stream_scoped_key("ck", "x{}"), error);
}

TEST(ClusterSlots, CommandKeysForRouting) {
  using v = std::vector<std::string>;
  EXPECT_EQ(command_key(v{"HGET", "ck", "f"}), "ck");
  EXPECT_EQ(command_key(v{"xinfo", "GROUPS", "s"}), "s");
  EXPECT_EQ(command_key(v{"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"}), "s");
  EXPECT_EQ(command_key(v{"EVAL", "return 1", "1", "k"}), "k");
  for (auto keyless : {v{"PING"}, v{"info", "memory"}, v{"CLUSTER", "SLOTS"}, v{"MULTI"},
                       v{"WAIT", "1", "100"}, v{"SCAN", "0"}, v{"EVAL", "return 1", "0"}})
    EXPECT_FALSE(command_key(keyless)) << keyless[0];
}
