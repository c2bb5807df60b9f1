// Two nodes in one process, each its own actor system with CAF's middleman
// over its OpenSSL module and certificates from ops/node-certs.sh: every
// message kind that crosses a node goes to the other node and comes back
// unchanged. A node refuses certificates it cannot trust before it connects
// (check_node_tls).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/actors.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/node/node_system.hpp"
#include "actors/node/node_tls.hpp"
#include "messages/failure.hpp"

namespace trib {
namespace {

namespace fs = std::filesystem;

/// Makes the certificates once for the whole file: a CA with nodes `a`, `b`
/// and `old` (expired), and another CA with node `stranger`.
class node_certs : public ::testing::Environment {
public:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("trib-node-certs-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    std::string script = std::string(TRIB_SOURCE_DIR) + "/ops/node-certs.sh";
    auto run = [&](const std::string& env, const std::string& args) {
      std::string cmd = env + " bash " + script + " " + args + " > /dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    };
    run("", (dir / "ca").string() + " a b");
    run("EXPIRED=1", (dir / "ca").string() + " old");
    run("", (dir / "other").string() + " stranger");
  }
  void TearDown() override { fs::remove_all(dir); }
  static inline fs::path dir;
};

const auto* certs = ::testing::AddGlobalTestEnvironment(new node_certs);

std::string node_dir(const std::string& ca, const std::string& node) {
  return (node_certs::dir / ca / node).string();
}

/// A node's actor system with the certificates of DIR (unchecked, so that
/// a test can offer what check_node_tls would refuse).
struct node {
  explicit node(const std::string& dir) : sys((setup(dir), cfg)) {}
  void setup(const std::string& dir) {
    configure_actor_system(cfg);
    node_tls_files f;
    f.ca = dir + "/ca.pem";
    f.cert = dir + "/node.pem";
    f.key = dir + "/node.key";
    configure_node(cfg, f);
  }
  caf::actor_system_config cfg;
  caf::actor_system sys;
};

/// Answers every message with itself (an actor without a handler would
/// quit at once, hence the one for a message no test sends).
caf::behavior echo(caf::event_based_actor* self) {
  self->set_default_handler(caf::reflect);
  return {[](caf::ok_atom) {},
          // A failure comes back as handlers return one: inside a caf::error.
          [](failure& f) -> caf::error { return to_caf_error(f); }};
}

row sample_row() { return row{{make_cell("42"), null_cell(), make_cell(std::string("a\0b", 3))}}; }

source_position sample_position() {
  source_position p;
  p.lsn = 0x16B3748ull << 8;
  p.binlog_file = "mysql-bin.000042";
  p.binlog_pos = 1337;
  p.gtid = "0-1-35";
  return p;
}

table_schema sample_schema() {
  table_schema t;
  t.id = table_id{"shop", "public", "orders"};
  column_info c;
  c.name = "status";
  c.source_type = "ENUM('new','paid')";
  c.kind = value_kind::enumeration;
  c.not_null = true;
  c.allowed = {"new", "paid"};
  t.columns = {c};
  t.primary_key = {"status"};
  t.split_key = "id";
  t.estimated_rows = 1000000;
  return t;
}

row_change sample_change() {
  row_change c;
  c.table = 3;
  c.op = change_op::update;
  c.has_before = true;
  c.before = sample_row();
  c.has_after = true;
  c.after = row{{make_cell("43")}};
  c.source.position = sample_position();
  c.source.xid = 77;
  c.source.query = "UPDATE orders SET status = 'paid'";
  c.commit = 99;
  c.txn_id = "0-1-35";
  c.commit_ms = 1700000000000;
  return c;
}

failure sample_failure() { return failure{failure_code::wrong_type, "WRONGTYPE on orders"}; }

class node_exchange : public ::testing::Test {
protected:
  node_exchange() : server(node_dir("ca", "a")), client(node_dir("ca", "b")) {}

  void SetUp() override {
    auto h = server.sys.spawn(echo);
    auto port = caf::openssl::publish(h, 0, "127.0.0.1");
    ASSERT_TRUE(port) << server.sys.render(port.error());
    auto remote = caf::openssl::remote_actor(client.sys, "127.0.0.1", *port);
    ASSERT_TRUE(remote) << client.sys.render(remote.error());
    peer = *remote;
    published = h;
  }

  void TearDown() override {
    caf::anon_send_exit(published, caf::exit_reason::user_shutdown);
  }

  /// Sends `x` to the other node and returns what came back.
  template <class T>
  T round_trip(const T& x) {
    caf::scoped_actor self{client.sys};
    std::optional<T> back;
    self->request(peer, std::chrono::seconds(10), x)
      .receive([&](T& y) { back = std::move(y); },
               [&](caf::error& e) { ADD_FAILURE() << client.sys.render(e); });
    EXPECT_TRUE(back.has_value());
    return back ? *back : T{};
  }

  /// Every field survives: the rendering covers all of them (inspect).
  template <class T>
  void expect_round_trip(const T& x) {
    auto back = round_trip(x);
    EXPECT_EQ(caf::deep_to_string(back), caf::deep_to_string(x));
  }

  node server;
  node client;
  caf::actor published;
  caf::actor peer;
};

TEST_F(node_exchange, snapshot_messages_cross_unchanged) {
  row_batch b;
  b.table = 2;
  b.seq = 17;
  b.rows = {sample_row(), sample_row()};
  b.position.last_key = {make_cell("42")};
  b.position.rows_done = 123456789012ull;
  b.source = sample_position();
  b.range = 3;
  b.ranges = 16;
  expect_round_trip(b);
  expect_round_trip(batch_ack{2, 17, 2, {sample_row()}});
  write_batch w;
  w.stream = "shop_public_orders";
  w.entries = {stream_entry{"{\"id\":1}", "{\"op\":\"r\"}"}};
  w.checkpoint_key = "replicate_io_checkpoint_g_i";
  w.checkpoint_field = "shop_public_orders";
  w.checkpoint_value = "{\"rows\":1}";
  w.encoded = "*3\r\n$4\r\nXADD\r\n";
  w.encoded_count = 1;
  w.more_follows = true;
  expect_round_trip(w);
  expect_round_trip(write_ack{2, "1700000000000-0"});
  expect_round_trip(table_done{7, 999, true, sample_failure()});
  snapshot_result r;
  r.tables = {table_done{0, 10, false, {}}, table_done{1, 0, true, sample_failure()}};
  r.aborted = true;
  r.reason = sample_failure();
  r.stopped = true;
  expect_round_trip(r);
}

TEST_F(node_exchange, realtime_messages_cross_unchanged) {
  change_batch b;
  b.stream = 1;
  b.seq = 5;
  b.changes = {sample_change()};
  b.transactions = {99, 100};
  b.bytes = 4096;
  expect_round_trip(b);
  change_ack a;
  a.stream = 1;
  a.seq = 5;
  a.entries = 1;
  a.stopped_commit = 99;
  a.stopped_table = 3;
  a.stop_reason = "bad data";
  expect_round_trip(a);
  expect_round_trip(schema_change{3, sample_schema()});
  source_txn t;
  t.commit = 99;
  t.id = "0-1-35";
  t.commit_ms = 1700000000000;
  t.changes = {sample_change()};
  t.last = true;
  t.release = 100;
  expect_round_trip(change_feed{{t}});
  change_release rel;
  rel.position = 100;
  rel.feeds = 4;
  rel.idle = true;
  rel.stop = true;
  expect_round_trip(rel);
}

TEST_F(node_exchange, atoms_and_failures_cross) {
  caf::scoped_actor self{client.sys};
  for (caf::atom_value atom : std::vector<caf::atom_value>{run_atom::value, stop_atom::value,
                                                           stream_atom::value}) {
    bool back = false;
    self->request(peer, std::chrono::seconds(10), atom)
      .receive([&](caf::atom_value a) { back = a == atom; },
               [&](caf::error& e) { ADD_FAILURE() << client.sys.render(e); });
    EXPECT_TRUE(back) << caf::to_string(atom);
  }
  // A failure crosses inside a caf::error, as handlers return it.
  caf::error back;
  self->request(peer, std::chrono::seconds(10), sample_failure())
    .receive([&](caf::atom_value) { ADD_FAILURE() << "an atom came back"; },
             [&](caf::error& e) { back = std::move(e); });
  auto f = to_failure(back);
  EXPECT_EQ(f.code, failure_code::wrong_type);
  EXPECT_EQ(f.what, "WRONGTYPE on orders");
}

// -- refusals --------------------------------------------------------------------

// check_node_tls refuses before CAF sees the files, with the reason.
TEST(node_tls, names_what_is_wrong_with_the_directory) {
  auto refusal = [](const std::string& dir) {
    try {
      check_node_tls(dir);
    } catch (const error& e) {
      EXPECT_EQ(e.code(), failure_code::config);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(refusal(node_dir("ca", "a")), "accepted");
  EXPECT_NE(refusal(node_dir("ca", "old")).find("node.pem is not valid now"), std::string::npos);
  // A node of one CA with the other CA's file.
  auto mixed = node_certs::dir / "mixed";
  fs::create_directories(mixed);
  fs::copy_file(node_certs::dir / "other" / "ca.pem", mixed / "ca.pem");
  fs::copy_file(node_certs::dir / "ca" / "a" / "node.pem", mixed / "node.pem");
  fs::copy_file(node_certs::dir / "ca" / "a" / "node.key", mixed / "node.key");
  EXPECT_NE(refusal(mixed.string()).find("node.pem is not signed by"), std::string::npos);
  // Another node's key.
  fs::copy_file(node_certs::dir / "ca" / "b" / "node.key", mixed / "node.key",
                fs::copy_options::overwrite_existing);
  fs::copy_file(node_certs::dir / "ca" / "ca.pem", mixed / "ca.pem",
                fs::copy_options::overwrite_existing);
  EXPECT_NE(refusal(mixed.string()).find("node.key is not the key of"), std::string::npos);
  // No certificate at all: never anonymous.
  fs::remove(mixed / "node.pem");
  EXPECT_NE(refusal(mixed.string()).find("node.pem is missing"), std::string::npos);
  EXPECT_NE(refusal("").find("a directory with ca.pem"), std::string::npos);
}

TEST(node_address, parses_host_and_port_and_names_the_option) {
  auto a = parse_node_address("10.0.0.5:58001", "--join");
  EXPECT_EQ(a.host, "10.0.0.5");
  EXPECT_EQ(a.port, 58001);
  for (auto bad : {"10.0.0.5", ":58001", "host:", "host:0", "host:70000", "host:58x"}) {
    try {
      parse_node_address(bad, "--listen");
      ADD_FAILURE() << bad;
    } catch (const error& e) {
      EXPECT_NE(std::string(e.what()).find("--listen"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace trib
