// Nodes on separate addresses: a node in a network namespace of this test's
// own (netns.hpp) joins one in the root namespace over a veth link, with
// mutual TLS; when the link goes down, both ends notice within seconds (the
// middleman's heartbeats, configure_node) although no FIN or RST arrives.

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <memory>

#include "actors/actors.hpp"
#include "actors/node/node_refusals.hpp"
#include "netns.hpp"
#include "node_fixture.hpp"
#include "test_env.hpp"

namespace trib {
namespace {

using namespace std::chrono_literals;
using test::netns_lab;
using test::node;
using test::node_dir;

// The child's exit codes.
constexpr int joined_and_lost = 0;    // exchanged, then saw the other end go
constexpr int bad_exchange = 2;       // a batch came back different
constexpr int never_lost = 3;         // still connected long after the cut
constexpr int no_port = 4;            // the parent never said where to join

row_batch sample_batch() {
  row_batch b;
  b.table = 2;
  b.seq = 17;
  b.rows = {row{{make_cell("42"), null_cell()}}};
  b.position.rows_done = 1;
  return b;
}

/// The node in the namespace: joins `gateway:port` (read from `from`),
/// sends a batch and compares what comes back, introduces itself, then
/// waits for the other end to go away.
int joining_node(const std::string& gateway, int from) {
  uint16_t port = 0;
  if (::read(from, &port, sizeof port) != sizeof port) return no_port;
  node self_node{node_dir("ca", "b")};
  auto peer = connect_node(self_node.sys, node_address{gateway, port}, "--join");
  caf::scoped_actor self{self_node.sys};
  bool same = false;
  self->request(peer, std::chrono::seconds(10), sample_batch())
    .receive([&](row_batch& back) {
               same = caf::deep_to_string(back) == caf::deep_to_string(sample_batch());
             },
             [&](caf::error&) {});
  if (!same) return bad_exchange;
  self->monitor(peer);
  self->send(peer, caf::ok_atom::value);
  int rc = never_lost;
  self->receive([&](caf::down_msg&) { rc = joined_and_lost; },
                caf::after(std::chrono::seconds(60)) >> [] {});
  return rc;
}

/// The listening node's actor: echoes, and keeps the node that says ok
/// monitored; `seen` becomes 1 when it joined and 2 when it was lost.
caf::behavior watching_echo(caf::event_based_actor* self, std::shared_ptr<std::atomic<int>> seen) {
  self->set_default_handler(caf::reflect);
  self->set_down_handler([seen](caf::down_msg&) { *seen = 2; });
  return {[self, seen](caf::ok_atom) {
    self->monitor(caf::actor_cast<caf::actor>(self->current_sender()));
    *seen = 1;
  }};
}

TEST(node_netns, a_node_behind_a_link_joins_and_both_ends_notice_the_cut) {
  if (!netns_lab::allowed()) GTEST_SKIP() << "network namespaces need root";
  netns_lab lab{1};
  int to_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  // Fork before this process starts an actor system (threads).
  auto child = lab.spawn_in(0, [&] {
    ::close(to_child[1]);
    return joining_node(lab[0].gateway, to_child[0]);
  });
  ::close(to_child[0]);
  struct reap {
    pid_t pid;
    ~reap() {
      if (netns_lab::wait_child(pid, 0ms) < 0) {
        ::kill(pid, SIGKILL);
        netns_lab::wait_child(pid, 10s);
      }
    }
  } reaper{child};

  node listening{node_dir("ca", "a")};
  auto seen = std::make_shared<std::atomic<int>>(0);
  auto h = listening.sys.spawn(watching_echo, seen);
  // The root namespace's end of the link: reachable from the namespace only.
  auto port = publish_node(listening.sys, h, node_address{lab[0].gateway, 0});
  ASSERT_EQ(::write(to_child[1], &port, sizeof port), static_cast<ssize_t>(sizeof port));
  ::close(to_child[1]);
  ASSERT_TRUE(test::wait_until([&] { return seen->load() >= 1; }, 30s))
    << "the node in " << lab[0].ns << " did not join (exit "
    << netns_lab::wait_child(child, 0ms) << ")";

  // Cut: no FIN, no RST, just silence.
  auto since = next_node_refusal();
  lab.cut(0);
  EXPECT_TRUE(test::wait_until([&] { return seen->load() == 2; }, 30s))
    << "the listening node did not notice the cut";
  EXPECT_EQ(netns_lab::wait_child(child, 30s), joined_and_lost)
    << "the node behind the link did not notice the cut";
  // Losing a link is not a refused certificate.
  EXPECT_TRUE(node_refusals_since(since).empty());
  caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
}

TEST(node_netns, a_node_cut_off_before_it_joins_gets_an_answer_not_a_hang) {
  if (!netns_lab::allowed()) GTEST_SKIP() << "network namespaces need root";
  netns_lab lab{1};
  int to_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  // From the namespace, in a child forked before this process has threads:
  // the connect has a deadline.
  auto child = lab.spawn_in(0, [&] {
    ::close(to_child[1]);
    uint16_t port = 0;
    if (::read(to_child[0], &port, sizeof port) != sizeof port) return no_port;
    node joining{node_dir("ca", "b")};
    try {
      connect_node(joining.sys, node_address{lab[0].gateway, port}, "--join", 2s);
    } catch (const error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      std::fflush(nullptr);
      // Not through the actor system's destructor: CAF 0.17's middleman
      // connects with a blocking connect(), which waits for the kernel's
      // SYN retries (about two minutes) on a dead link.
      ::_exit(e.code() == failure_code::connection ? 0 : 5);
    }
    return 6;
  });
  ::close(to_child[0]);
  node listening{node_dir("ca", "a")};
  auto h = listening.sys.spawn(test::echo);
  auto port = publish_node(listening.sys, h, node_address{lab[0].gateway, 0});
  lab.cut(0);
  ASSERT_EQ(::write(to_child[1], &port, sizeof port), static_cast<ssize_t>(sizeof port));
  ::close(to_child[1]);
  EXPECT_EQ(netns_lab::wait_child(child, 60s), 0);
  caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
}

}  // namespace
}  // namespace trib
