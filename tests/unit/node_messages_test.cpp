// What a coordinator sends its workers (messages/node.hpp) survives CAF's
// binary serialization whole, and a stage's settings survive becoming an
// order and settings again on the worker.

#include <gtest/gtest.h>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actors/actors.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/node/stage_orders.hpp"

namespace trib {
namespace {

class node_messages : public ::testing::Test {
protected:
  static caf::actor_system_config& config() {
    static caf::actor_system_config cfg;
    static bool registered = false;
    if (!registered) {
      register_message_types(cfg);
      registered = true;
    }
    return cfg;
  }

  node_messages() : sys(config()) {}

  /// Serializes `x` and reads it back into a default value; the renderings
  /// of both (every field, through inspect) must match.
  template <class T>
  void expect_round_trip(const T& x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    auto copy = x;
    auto err = sink(copy);
    ASSERT_FALSE(err) << sys.render(err);
    T y;
    caf::binary_deserializer source{sys, buf};
    err = source(y);
    ASSERT_FALSE(err) << sys.render(err);
    EXPECT_EQ(source.remaining(), 0u);
    EXPECT_EQ(caf::deep_to_string(y), caf::deep_to_string(x));
  }

  caf::actor_system sys;
};

table_schema sample_schema() {
  table_schema t;
  t.id = table_id{"tpch", "public", "orders"};
  column_info c;
  c.name = "o_orderkey";
  c.source_type = "BIGINT";
  c.kind = value_kind::int64;
  c.not_null = true;
  t.columns = {c};
  t.primary_key = {"o_orderkey"};
  t.split_key = "o_orderkey";
  t.estimated_rows = 1000000;
  return t;
}

node_setup sample_setup() {
  node_setup s;
  s.worker = 2;
  s.source.kind = source_kind::mariadb;
  s.source.host = "db.example";
  s.source.port = 3307;
  s.source.username = "repl";
  s.source.password = "secret";
  s.source.replication_slots = {{"slot_a", {"pgoutput"}}};
  s.source.slave_server_ids = {101, 102};
  s.source.ssl.enable = true;
  s.source.ssl.trust_store = store_config{"/etc/ca.pem", "", "", "PEM"};
  s.target.host = "redis.example";
  s.target.port = 6380;
  s.target.password = "pw";
  s.target.ssl.enable = true;
  s.target.ssl.key_store = store_config{"/etc/client.pem", "/etc/client.key", "kp", "PEM"};
  s.target.cluster = true;
  s.target.cluster_seeds = {"redis2.example:6380"};
  s.target.memory_threshold_percentage = 70;
  s.group = "g";
  s.id = "orders";
  s.lease_key = "replicate_io_lease_g_orders";
  s.lease_holder = "{\"host\":\"vm\"}";
  s.lease_valid_ms = 7000;
  return s;
}

TEST_F(node_messages, the_setup_crosses_with_every_connection_setting) {
  auto s = sample_setup();
  expect_round_trip(s);
  // The optional stores come back as they were, set or not.
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  ASSERT_FALSE(sink(s));
  node_setup back;
  caf::binary_deserializer source{sys, buf};
  ASSERT_FALSE(source(back));
  ASSERT_TRUE(back.source.ssl.trust_store.has_value());
  EXPECT_EQ(back.source.ssl.trust_store->path, "/etc/ca.pem");
  EXPECT_FALSE(back.source.ssl.key_store.has_value());
  ASSERT_TRUE(back.target.ssl.key_store.has_value());
  EXPECT_EQ(back.target.ssl.key_store->key_path, "/etc/client.key");
  EXPECT_FALSE(back.target.ssl.trust_store.has_value());
  EXPECT_EQ(back.source.slave_server_ids, (std::vector<int64_t>{101, 102}));
  EXPECT_EQ(back.target.cluster_seeds, s.target.cluster_seeds);
  expect_round_trip(node_hello{"worker-1", 4242});
  expect_round_trip(lease_tick{6500});
}

TEST_F(node_messages, stage_orders_cross_and_become_the_same_settings) {
  auto setup = sample_setup();

  redis_writer_settings ws;
  ws.trim.max_length = 1000;
  ws.trim.mode = trim_mode::acked;
  ws.max_consumer_lag = 50;
  auto wo = to_order(ws);
  expect_round_trip(wo);
  auto ws2 = from_order(wo);
  EXPECT_EQ(ws2.trim.max_length, 1000u);
  EXPECT_EQ(ws2.trim.mode, trim_mode::acked);
  EXPECT_EQ(ws2.max_consumer_lag, 50u);

  table_applier_settings as;
  as.applier.message.codes = op_codes::verbose;
  as.applier.snapshot.log_row_level_errors = true;
  as.map.delimiter = name_delimiter::dot;
  as.facts.kind = source_kind::mariadb;
  as.facts.version = "10.11.6-MariaDB";
  as.facts.server_id = 7;
  as.max_write_bytes = 1234;
  as.max_writes_in_flight = 3;
  as.max_entry_bytes = 99;
  auto ao = to_order(5, sample_schema(), as);
  expect_round_trip(ao);
  auto as2 = from_order(ao, setup);
  EXPECT_EQ(caf::deep_to_string(to_order(5, sample_schema(), as2)), caf::deep_to_string(ao));
  EXPECT_EQ(as2.group, "g");
  EXPECT_EQ(as2.id, "orders");

  snapshot_reader_settings rs;
  rs.fetch_size_rows = 300;
  rs.batch_size_rows = 250;
  rs.max_in_flight = 4;
  rs.max_in_flight_bytes = 1u << 20;
  rs.max_batch_bytes = 1u << 18;
  rs.range = 3;
  rs.ranges = 16;
  rs.conditions = "o_orderkey >= 10 AND o_orderkey < 20";
  rs.start.rows_done = 17;
  rs.start.last_key = {make_cell("19")};
  rs.exported_snapshot = "00000003-00000002-1";
  rs.exported_at.lsn = 0x1234;
  rs.one_snapshot = true;
  auto ro = to_order(5, sample_schema(), rs);
  expect_round_trip(ro);
  auto rs2 = from_order(ro, setup);
  EXPECT_EQ(caf::deep_to_string(to_order(5, sample_schema(), rs2)), caf::deep_to_string(ro));
  // The worker reads with the connection of its setup.
  EXPECT_EQ(rs2.source.host, "db.example");
  EXPECT_TRUE(static_cast<bool>(rs2.open));

  change_applier_settings cs;
  cs.stream = 2;
  cs.stream_name = "tpch_public_orders_cdc_logs";
  cs.checkpoint_field = "tpch_public_orders_cdc_logs";
  cs.tables = {sample_schema()};
  cs.carries = {0};
  cs.message.include_schema = false;
  cs.start.commit = 77;
  cs.start.index = 3;
  cs.start.snapshots["public.orders"].after = {"1024"};
  cs.max_write_bytes = 4096;
  cs.max_write_rows = 25;
  auto co = to_order(cs);
  expect_round_trip(co);
  auto cs2 = from_order(co, setup);
  EXPECT_EQ(caf::deep_to_string(to_order(cs2)), caf::deep_to_string(co));
  EXPECT_EQ(cs2.start.commit, 77u);
  EXPECT_EQ(cs2.start.index, 3u);
  // An incremental snapshot's progress travels with the checkpoint: the
  // applier on the worker writes it on in every checkpoint it commits.
  EXPECT_EQ(cs2.start, cs.start);
  EXPECT_EQ(cs2.max_write_rows, 25u);
  EXPECT_EQ(cs2.id, "orders");
}

}  // namespace
}  // namespace trib
