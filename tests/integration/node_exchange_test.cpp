// Two nodes in one process, each its own actor system with CAF's middleman
// over its OpenSSL module and certificates from ops/node-certs.sh: every
// message kind that crosses a node goes to the other node and comes back
// unchanged. A node refuses certificates it cannot trust before it connects
// (check_node_tls), and over the wire both ends say why a handshake failed.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/actors.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/node/node_refusals.hpp"
#include "actors/node/node_system.hpp"
#include "actors/node/node_tls.hpp"
#include "messages/failure.hpp"
#include "node_fixture.hpp"
#include "test_env.hpp"

namespace trib {
namespace {

using test::node;
using test::node_certs;
using test::node_dir;
using test::echo;
namespace fs = std::filesystem;

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
    published = h;
    auto port = publish_node(server.sys, h, node_address{"127.0.0.1", 0});
    peer = connect_node(client.sys, node_address{"127.0.0.1", port}, "--join");
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

/// A node `a` of the test CA listens; a peer with the certificates of
/// `client_dir` connects. Both systems are in this process, so the
/// refusals seen by both ends are in one list.
struct wire_refusal {
  std::string client_error;             // what connect_node threw
  failure_code client_code = failure_code::internal;
  std::vector<node_refusal> server_saw;  // the listening node's refusals
};

wire_refusal refuse_over_the_wire(const std::string& server_dir, const std::string& client_dir) {
  node server{server_dir};
  node client{client_dir};
  auto h = server.sys.spawn(echo);
  auto port = publish_node(server.sys, h, node_address{"127.0.0.1", 0});
  auto since = next_node_refusal();
  wire_refusal out;
  try {
    connect_node(client.sys, node_address{"127.0.0.1", port}, "--join");
    ADD_FAILURE() << client_dir << " was let in";
  } catch (const error& e) {
    out.client_error = e.what();
    out.client_code = e.code();
  }
  // The listening end sees the handshake fail when the client's alert or
  // close arrives, which may be just after the client gave up.
  test::wait_until(
    [&] {
      out.server_saw.clear();
      for (auto& r : node_refusals_since(since))
        if (r.peer_port != port) out.server_saw.push_back(r);
      return !out.server_saw.empty();
    },
    std::chrono::seconds(10));
  caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  return out;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(node_refusal, an_expired_certificate_is_refused_on_both_sides) {
  auto r = refuse_over_the_wire(node_dir("ca", "a"), node_dir("ca", "old"));
  EXPECT_EQ(r.client_code, failure_code::auth) << r.client_error;
  EXPECT_TRUE(has(r.client_error, "--join 127.0.0.1:")) << r.client_error;
  EXPECT_TRUE(has(r.client_error, "the node there refused this node: it finds this node's "
                                  "certificate expired")) << r.client_error;
  ASSERT_EQ(r.server_saw.size(), 1u);
  EXPECT_TRUE(r.server_saw[0].we_refused);
  EXPECT_EQ(r.server_saw[0].reason,
            "its certificate (CN=old) is not valid now (certificate has expired)");
  EXPECT_TRUE(has(r.server_saw[0].peer, "127.0.0.1:")) << r.server_saw[0].peer;
}

TEST(node_refusal, a_node_of_another_ca_is_refused_on_both_sides) {
  // The stranger trusts its own CA, so it is the first to refuse: the
  // listening node's certificate is not signed by it.
  auto r = refuse_over_the_wire(node_dir("ca", "a"), node_dir("other", "stranger"));
  EXPECT_EQ(r.client_code, failure_code::auth) << r.client_error;
  EXPECT_TRUE(has(r.client_error, "this node refused the node there: its certificate (CN=a) "
                                  "is not signed by this node's CA")) << r.client_error;
  ASSERT_EQ(r.server_saw.size(), 1u);
  EXPECT_FALSE(r.server_saw[0].we_refused);
  EXPECT_EQ(r.server_saw[0].reason, "it does not trust this node's CA (unknown CA)");
  EXPECT_TRUE(has(r.server_saw[0].peer, "127.0.0.1:")) << r.server_saw[0].peer;
  // And the other way round: a stranger listens.
  r = refuse_over_the_wire(node_dir("other", "stranger"), node_dir("ca", "b"));
  EXPECT_EQ(r.client_code, failure_code::auth) << r.client_error;
  EXPECT_TRUE(has(r.client_error, "its certificate (CN=stranger) is not signed by this "
                                  "node's CA")) << r.client_error;
  ASSERT_EQ(r.server_saw.size(), 1u);
  EXPECT_FALSE(r.server_saw[0].we_refused);
}

TEST(node_refusal, a_peer_without_a_certificate_is_refused) {
  auto r = refuse_over_the_wire(node_dir("ca", "a"), "");
  // The anonymous peer is not Tributary: it has no watch and learns only
  // that the handshake broke off, but it does learn it.
  EXPECT_FALSE(r.client_error.empty());
  ASSERT_EQ(r.server_saw.size(), 1u);
  EXPECT_TRUE(r.server_saw[0].we_refused);
  EXPECT_TRUE(has(r.server_saw[0].reason, "it presented no certificate")) << r.server_saw[0].reason;
}

TEST(node_refusal, a_listener_that_never_answers_times_out) {
  // A socket that takes TCP connections (the kernel's backlog) and never
  // speaks: what a port of something else or a half-dead node looks like.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  node client{node_dir("ca", "b")};
  try {
    connect_node(client.sys, node_address{"127.0.0.1", ntohs(a.sin_port)}, "--join",
                 std::chrono::seconds(1));
    ADD_FAILURE() << "connected to a silent socket";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::connection);
    EXPECT_TRUE(has(e.what(), "no answer within 1 s")) << e.what();
  }
  ::close(fd);
}

TEST(node_refusal, nothing_is_reported_for_nodes_that_trust_each_other) {
  node server{node_dir("ca", "a")};
  node client{node_dir("ca", "b")};
  auto h = server.sys.spawn(echo);
  auto port = publish_node(server.sys, h, node_address{"127.0.0.1", 0});
  auto since = next_node_refusal();
  auto peer = connect_node(client.sys, node_address{"127.0.0.1", port}, "--join");
  EXPECT_TRUE(peer);
  EXPECT_TRUE(watch_node_handshakes());
  EXPECT_TRUE(node_refusals_since(since).empty());
  // Nor when they part.
  caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(peer, caf::exit_reason::user_shutdown);
}

TEST(node_refusal, nothing_is_reported_when_trusted_nodes_part) {
  auto since = next_node_refusal();
  {
    node server{node_dir("ca", "a")};
    auto h = server.sys.spawn(echo);
    auto port = publish_node(server.sys, h, node_address{"127.0.0.1", 0});
    {
      node client{node_dir("ca", "b")};
      auto peer = connect_node(client.sys, node_address{"127.0.0.1", port}, "--join");
      caf::scoped_actor self{client.sys};
      self->request(peer, std::chrono::seconds(10), caf::ok_atom::value).receive([] {}, [](caf::error&) {});
    }
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  }
  EXPECT_TRUE(node_refusals_since(since).empty()) << node_refusals_since(since).front().reason;
}

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
  // The certificate names the node (the metrics' node label).
  EXPECT_EQ(node_name_of(check_node_tls(node_dir("ca", "b"))), "b");
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
