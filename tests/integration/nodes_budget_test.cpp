// Flow control across nodes: a snapshot reader on one node whose table
// applier lives on another (each its own actor system, CAF's middleman over
// mutual TLS) keeps no more batches and bytes unacknowledged than on one
// node. The applier on the far node holds every batch until the window is
// full, then answers the oldest: a reader that overran its budget would be
// caught with more outstanding than it may have.

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <mutex>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/actors.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/node/node_system.hpp"
#include "actors/source/snapshot_reader.hpp"
#include "tests/integration/fixture.hpp"

namespace trib {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int table_rows = 2000;

/// What the far applier saw, read by the test once the reader ended.
struct window_record {
  std::mutex lock;
  size_t batches = 0;
  uint64_t rows = 0;
  /// The most batches, and bytes of rows, unanswered when a batch arrived
  /// (bytes without that newest batch: one batch always may go).
  size_t most_batches = 0;
  size_t most_bytes_before_newest = 0;
  size_t most_bytes = 0;
  bool final_seen = false;
};

struct held_batch {
  uint32_t table = 0;
  uint64_t seq = 0;
  uint64_t rows = 0;
  size_t bytes = 0;
  caf::typed_response_promise<batch_ack> promise;
};

struct holding_applier_state {
  std::deque<held_batch> held;
  size_t bytes = 0;
  bool final_seen = false;
};

/// The far applier: the table applier's interface, plus its own tick.
using holding_applier_actor = table_applier_actor::extend<caf::reacts_to<tick_atom>>;

/// Holds batches while the reader's window has room; once it is full
/// (`max_batches`, `max_bytes`) answers the oldest, and all after the last
/// batch -- each answer on a tick of its own, so that batches a reader sent
/// without waiting for answers arrive first and are counted.
holding_applier_actor::behavior_type
holding_applier(holding_applier_actor::stateful_pointer<holding_applier_state> self,
                size_t max_batches, size_t max_bytes, std::shared_ptr<window_record> rec) {
  return {
    [=](row_batch& b) -> caf::result<batch_ack> {
      auto& st = self->state;
      size_t bytes = 0;
      for (const auto& r : b.rows) bytes += row_bytes(r);
      auto promise = self->make_response_promise<batch_ack>();
      st.held.push_back({b.table, b.seq, b.rows.size(), bytes, promise});
      st.bytes += bytes;
      st.final_seen = st.final_seen || b.position.done;
      {
        std::lock_guard<std::mutex> g{rec->lock};
        ++rec->batches;
        rec->rows += b.rows.size();
        rec->most_batches = std::max(rec->most_batches, st.held.size());
        rec->most_bytes_before_newest =
          std::max(rec->most_bytes_before_newest, st.bytes - bytes);
        rec->most_bytes = std::max(rec->most_bytes, st.bytes);
        rec->final_seen = st.final_seen;
      }
      if (st.final_seen || st.held.size() >= max_batches || st.bytes >= max_bytes)
        self->send(self, tick_atom::value);
      return promise;
    },
    [=](tick_atom) {
      auto& st = self->state;
      while (!st.held.empty()) {
        auto h = std::move(st.held.front());
        st.held.pop_front();
        st.bytes -= h.bytes;
        h.promise.deliver(batch_ack{h.table, h.seq, h.rows, {}});
        if (!st.final_seen) break;
      }
    },
  };
}

/// A coordinator that only takes what a reader may send it.
coordinator_actor::behavior_type quiet_coordinator(coordinator_actor::pointer) {
  return {
    [](run_atom) -> caf::result<snapshot_result> { return snapshot_result{}; },
    [](stream_atom) -> caf::result<uint64_t> { return uint64_t{0}; },
    [](table_done&) {},
    [](stop_atom) {},
  };
}

struct node {
  explicit node(const std::string& dir) : sys((setup(dir), cfg)) {}
  void setup(const std::string& dir) {
    configure_actor_system(cfg);
    configure_node(cfg, node_tls_files{dir + "/ca.pem", dir + "/node.pem", dir + "/node.key"});
  }
  caf::actor_system_config cfg;
  caf::actor_system sys;
};

class remote_budget : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    certs_ = test::fresh_dir("trib_nodes_budget");
    std::string cmd = "bash " + std::string(TRIB_SOURCE_DIR) + "/ops/node-certs.sh " + certs_ +
                      " reader applier > /dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    test::pg_fresh_database("trib_budget");
    test::pg_exec("trib_budget",
                  "CREATE TABLE wide(id int PRIMARY KEY, note text NOT NULL);"
                  "INSERT INTO wide SELECT i, repeat('w', 1000) FROM generate_series(1, " +
                    std::to_string(table_rows) + ") AS g(i); ANALYZE wide;");
  }

  /// Reads `wide` on one node into the holding applier on the other, with
  /// the reader's window `max_batches` and `max_bytes`; returns what the
  /// applier saw.
  std::shared_ptr<window_record> read_across(size_t max_batches, size_t max_bytes) {
    node far(certs_ + "/applier");
    node near(certs_ + "/reader");
    auto rec = std::make_shared<window_record>();
    auto applier = far.sys.spawn(holding_applier, max_batches, max_bytes, rec);
    auto port = caf::openssl::publish(applier, 0, "127.0.0.1");
    EXPECT_TRUE(port) << far.sys.render(port.error());
    if (!port) return rec;
    auto remote = caf::openssl::remote_actor<table_applier_actor>(near.sys, "127.0.0.1", *port);
    EXPECT_TRUE(remote) << near.sys.render(remote.error());
    if (!remote) return rec;

    source_config src;
    src.kind = source_kind::postgresql;
    src.host = "127.0.0.1";
    src.port = test::pg_port();
    src.database = "trib_budget";
    src.username = test::source_user();
    src.password = test::source_password();
    filter_config filter;
    filter.allow.push_back(filter_catalog{"trib_budget", "public", {"TABLE"}, {}});
    auto tables = open_source(src)->list_tables(filter, extractor_config{});
    EXPECT_EQ(tables.size(), 1u);
    if (tables.empty()) return rec;

    snapshot_reader_settings s;
    s.source = src;
    s.fetch_size_rows = 100;
    s.batch_size_rows = 20;
    s.max_batch_bytes = 1u << 20;
    s.max_in_flight = max_batches;
    s.max_in_flight_bytes = max_bytes;
    auto coordinator = near.sys.spawn(quiet_coordinator);
    caf::scoped_actor self{near.sys};
    auto reader = near.sys.spawn<caf::detached>(snapshot_reader, uint32_t{0}, tables[0], s,
                                                *remote, coordinator);
    self->monitor(reader);
    bool ended = false;
    // The reader quits once its last batch is answered.
    self->receive([&](caf::down_msg&) { ended = true; }, caf::after(120s) >> [] {});
    EXPECT_TRUE(ended) << "the reader did not finish within 120 s";
    self->send_exit(coordinator, caf::exit_reason::user_shutdown);
    self->send_exit(applier, caf::exit_reason::user_shutdown);
    return rec;
  }

  static inline std::string certs_;
};

TEST_F(remote_budget, the_byte_window_holds_across_nodes) {
  // 20 rows of about 1 KB a batch, 64 KB of window: bytes bind long before
  // the 8 batches do.
  auto rec = read_across(8, 64u << 10);
  std::lock_guard<std::mutex> g{rec->lock};
  EXPECT_TRUE(rec->final_seen);
  EXPECT_EQ(rec->rows, static_cast<uint64_t>(table_rows));
  EXPECT_LT(rec->most_bytes_before_newest, 64u << 10);
  EXPECT_GE(rec->most_bytes, 64u << 10) << "the window was never full";
  EXPECT_LT(rec->most_batches, 8u);
  EXPECT_GE(rec->most_batches, 3u);
}

TEST_F(remote_budget, the_batch_window_holds_across_nodes) {
  auto rec = read_across(3, 64u << 20);
  std::lock_guard<std::mutex> g{rec->lock};
  EXPECT_TRUE(rec->final_seen);
  EXPECT_EQ(rec->rows, static_cast<uint64_t>(table_rows));
  EXPECT_EQ(rec->most_batches, 3u);
  EXPECT_GT(rec->batches, 3u * 10);
}

}  // namespace
}  // namespace trib
