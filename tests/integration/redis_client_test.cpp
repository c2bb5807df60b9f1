// The Redis client against the real server of ops/servers.sh: atomic batch
// writes, what Redis really does when part of a transaction fails, ACL and
// password refusals, unreachable servers and connections lost mid-read.
// Every test works under its own random key prefix and deletes its keys.

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <random>

#include "actors/sink/redis_client.hpp"
#include "tests/integration/test_env.hpp"

using namespace trib;
using clock_type = std::chrono::steady_clock;

namespace {

redis_config local_redis() {
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = test::redis_port();
  return cfg;
}

std::string random_suffix() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

/// Splits "<ms>-<seq>" so that IDs compare as Redis orders them.
std::pair<unsigned long long, unsigned long long> id_parts(const std::string& id) {
  auto dash = id.find('-');
  return {std::stoull(id.substr(0, dash)), std::stoull(id.substr(dash + 1))};
}

write_batch make_batch(const std::string& stream, const std::string& checkpoint_key,
                       size_t n, size_t key_size, size_t value_size, size_t first = 0) {
  write_batch b;
  b.stream = stream;
  b.checkpoint_key = checkpoint_key;
  b.checkpoint_field = stream;
  b.checkpoint_value = "{\"row\":" + std::to_string(first + n) + "}";
  b.entries.reserve(n);
  for (size_t i = first; i < first + n; ++i) {
    std::string k = "{\"id\":" + std::to_string(i) + "}";
    std::string v = "{\"after\":{\"id\":" + std::to_string(i) + "}}";
    k.resize(std::max(k.size(), key_size), ' ');
    v.resize(std::max(v.size(), value_size), ' ');
    b.entries.push_back({std::move(k), std::move(v)});
  }
  return b;
}

class redis_client_test : public ::testing::Test {
protected:
  void SetUp() override {
    admin = redis_client::connect(local_redis());
    prefix = "trib_rc_" + random_suffix() + "_";
    acl_prefix = "acl_trib_rc_" + random_suffix() + "_";
  }

  void TearDown() override {
    // A fresh connection: a test may have broken `admin` on purpose.
    auto c = redis_client::connect(local_redis());
    for (const auto& p : {prefix, acl_prefix}) {
      std::string cursor = "0";
      do {
        auto r = c->command({"SCAN", cursor, "MATCH", p + "*", "COUNT", "1000"});
        ASSERT_EQ(r.type, redis_reply::kind::array);
        cursor = r.elements[0].str;
        for (const auto& key : r.elements[1].elements)
          c->command({"UNLINK", key.str});
      } while (cursor != "0");
    }
  }

  long long xlen(const std::string& stream) {
    return admin->command({"XLEN", stream}).integer;
  }

  std::unique_ptr<redis_client> admin;
  std::string prefix;
  std::string acl_prefix;
};

}  // namespace

TEST_F(redis_client_test, atomic_write_of_1000_entries_commits_entries_and_checkpoint) {
  auto b = make_batch(prefix + "orders", prefix + "checkpoint", 1000, 250, 600);
  auto ids = admin->write_atomically(b);
  ASSERT_EQ(ids.size(), 1000u);
  for (size_t i = 1; i < ids.size(); ++i)
    EXPECT_LT(id_parts(ids[i - 1]), id_parts(ids[i])) << i;
  EXPECT_EQ(xlen(b.stream), 1000);
  auto cp = admin->command({"HGET", b.checkpoint_key, b.checkpoint_field});
  EXPECT_EQ(cp.type, redis_reply::kind::string);
  EXPECT_EQ(cp.str, b.checkpoint_value);

  auto range = admin->command({"XRANGE", b.stream, "-", "+"});
  ASSERT_EQ(range.elements.size(), 1000u);
  for (size_t i = 0; i < range.elements.size(); ++i) {
    const auto& entry = range.elements[i];
    EXPECT_EQ(entry.elements[0].str, ids[i]);
    const auto& fields = entry.elements[1].elements;
    ASSERT_EQ(fields.size(), 4u) << "exactly the fields key and value";
    EXPECT_EQ(fields[0].str, "key");
    EXPECT_EQ(fields[1].str, b.entries[i].key);
    EXPECT_EQ(fields[2].str, "value");
    EXPECT_EQ(fields[3].str, b.entries[i].value);
  }

  // The next batch continues after the first, in order.
  auto next = make_batch(b.stream, b.checkpoint_key, 10, 250, 600, 1000);
  auto more = admin->write_atomically(next);
  ASSERT_EQ(more.size(), 10u);
  EXPECT_LT(id_parts(ids.back()), id_parts(more.front()));
  EXPECT_EQ(xlen(b.stream), 1010);
  EXPECT_EQ(admin->command({"HGET", b.checkpoint_key, b.checkpoint_field}).str,
            next.checkpoint_value);
}

TEST_F(redis_client_test, pipeline_returns_error_replies_in_place) {
  auto replies = admin->pipeline({{"SET", prefix + "s", "x"},
                                  {"XLEN", prefix + "s"},
                                  {"GET", prefix + "s"},
                                  {"GET", prefix + "missing"}});
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0].type, redis_reply::kind::status);
  ASSERT_EQ(replies[1].type, redis_reply::kind::error);
  EXPECT_EQ(classify_redis_error(replies[1].str), failure_code::wrong_type);
  EXPECT_EQ(replies[2].str, "x");
  EXPECT_EQ(replies[3].type, redis_reply::kind::nil);
  EXPECT_TRUE(admin->usable());
}

TEST_F(redis_client_test, wrong_type_stream_fails_inside_exec_and_redis_keeps_the_hset) {
  auto b = make_batch(prefix + "not_a_stream", prefix + "checkpoint", 5, 10, 10);
  admin->command({"SET", b.stream, "plain string"});
  auto o = admin->try_write_atomically(b);
  ASSERT_TRUE(o.error.has_value());
  EXPECT_EQ(o.error->code, failure_code::wrong_type);
  EXPECT_TRUE(o.added_ids().empty());
  // What Redis actually does: WRONGTYPE happens inside EXEC, which does not
  // roll back, so the checkpoint HSET after the failed XADDs is applied.
  EXPECT_TRUE(o.checkpoint_written);
  EXPECT_EQ(admin->command({"HGET", b.checkpoint_key, b.checkpoint_field}).str,
            b.checkpoint_value);
  EXPECT_EQ(admin->command({"GET", b.stream}).str, "plain string");

  try {
    admin->write_atomically(b);
    FAIL() << "write to a string key succeeded";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::wrong_type);
  }
  // EXEC ran, so the connection is still in step.
  EXPECT_TRUE(admin->usable());
  EXPECT_EQ(admin->command({"PING"}).str, "PONG");
}

TEST_F(redis_client_test, failed_checkpoint_reports_the_entries_to_undo) {
  auto b = make_batch(prefix + "orders", prefix + "bad_checkpoint", 3, 10, 10);
  admin->command({"SET", b.checkpoint_key, "not a hash"});
  auto o = admin->try_write_atomically(b);
  ASSERT_TRUE(o.error.has_value());
  EXPECT_EQ(o.error->code, failure_code::wrong_type);
  EXPECT_FALSE(o.checkpoint_written);
  auto added = o.added_ids();
  ASSERT_EQ(added.size(), 3u);
  EXPECT_EQ(xlen(b.stream), 3);
  // The undo a realtime writer performs: delete exactly the reported IDs.
  std::vector<std::string> xdel{"XDEL", b.stream};
  xdel.insert(xdel.end(), added.begin(), added.end());
  EXPECT_EQ(admin->command(xdel).integer, 3);
  EXPECT_EQ(xlen(b.stream), 0);
}

TEST_F(redis_client_test, acl_user_outside_its_keys_is_refused_with_nothing_written) {
  redis_config cfg = local_redis();
  cfg.username = test::redis_acl_user();
  cfg.password = test::redis_acl_password();
  auto repl = redis_client::connect(cfg);

  auto allowed = make_batch(acl_prefix + "orders", acl_prefix + "checkpoint", 3, 10, 10);
  EXPECT_EQ(repl->write_atomically(allowed).size(), 3u);

  // Stream outside acl_*, checkpoint inside: the XADDs are refused at queue
  // time, EXEC answers EXECABORT, and the NOPERM is what gets reported.
  auto refused = make_batch(prefix + "orders", acl_prefix + "checkpoint", 3, 10, 10);
  refused.checkpoint_value = "must not appear";
  try {
    repl->write_atomically(refused);
    FAIL() << "write outside acl_* succeeded";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::auth);
    EXPECT_NE(std::string(e.what()).find("NOPERM"), std::string::npos) << e.what();
  }
  EXPECT_EQ(xlen(refused.stream), 0);
  EXPECT_EQ(admin->command({"HGET", refused.checkpoint_key, refused.checkpoint_field}).type,
            redis_reply::kind::nil);
  EXPECT_EQ(admin->command({"HGET", allowed.checkpoint_key, allowed.checkpoint_field}).str,
            allowed.checkpoint_value);
  EXPECT_TRUE(repl->usable());
}

TEST_F(redis_client_test, wrong_password_fails_connect_with_auth) {
  redis_config cfg = local_redis();
  cfg.username = test::redis_acl_user();
  cfg.password = "not-the-password";
  try {
    redis_client::connect(cfg);
    FAIL() << "connected with a wrong password";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::auth);
    EXPECT_NE(std::string(e.what()).find("WRONGPASS"), std::string::npos) << e.what();
  }
}

TEST_F(redis_client_test, tls_to_a_plain_port_is_one_clear_connection_error) {
  redis_config cfg = local_redis();
  cfg.ssl.enable = true;
  try {
    redis_client::connect(cfg);
    FAIL() << "TLS handshake with a plain-text server succeeded";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::connection);
    EXPECT_NE(std::string(e.what()).find("tls handshake"), std::string::npos) << e.what();
  }
}

TEST(redis_client_connect, unreachable_port_is_a_connection_error) {
  // A port that was free a moment ago: bind to port 0, note it, close.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(s);

  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = port;
  auto start = clock_type::now();
  try {
    redis_client::connect(cfg, 1000, 1000);
    FAIL() << "connected to a closed port";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::connection);
    EXPECT_NE(std::string(e.what()).find("cannot connect to redis at 127.0.0.1:" +
                                         std::to_string(port)),
              std::string::npos)
      << e.what();
  }
  EXPECT_LT(clock_type::now() - start, std::chrono::milliseconds(1500));
}

TEST(redis_client_connect, connect_gives_up_within_its_timeout) {
  // A loopback listener that never accepts, with backlog 0: once its queue
  // is full the kernel drops further SYNs, so a connect hangs in the
  // handshake. (Addresses outside the machine are no use here: the sandbox's
  // network answers every SYN.)
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s, 0), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  std::vector<std::unique_ptr<transport>> queued;
  bool timed_out = false;
  for (int i = 0; i < 8 && !timed_out; ++i) {
    auto start = clock_type::now();
    try {
      queued.push_back(connect_tcp("127.0.0.1", ntohs(a.sin_port), 300));
    } catch (const error& e) {
      timed_out = true;
      auto took = clock_type::now() - start;
      EXPECT_EQ(e.code(), failure_code::connection);
      EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
      EXPECT_GE(took, std::chrono::milliseconds(250));
      EXPECT_LT(took, std::chrono::milliseconds(1500));
    }
  }
  EXPECT_TRUE(timed_out) << "every connect to a full listener succeeded";
  ::close(s);
}

TEST(redis_client_connect, silent_server_is_a_connection_error_after_the_read_timeout) {
  // Listening but never answering: the kernel completes the handshake, the
  // PING of connect() then waits for a reply that does not come.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = ntohs(a.sin_port);
  auto start = clock_type::now();
  try {
    redis_client::connect(cfg, 1000, 300);
    FAIL() << "a silent server answered";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::connection);
    EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
  }
  auto took = clock_type::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  ::close(s);
}

TEST_F(redis_client_test, connection_killed_mid_read_is_a_connection_error) {
  auto victim = redis_client::connect(local_redis());
  auto id = victim->command({"CLIENT", "ID"}).integer;
  std::string list = prefix + "never_filled";
  // The victim blocks reading BLPOP's reply; another client kills it.
  auto blocked = std::async(std::launch::async, [&] {
    try {
      victim->command({"BLPOP", list, "20"});
      return failure_code::internal;
    } catch (const error& e) {
      return e.code();
    }
  });
  ASSERT_TRUE(test::wait_until([&] {
    auto info = admin->command({"CLIENT", "LIST", "ID", std::to_string(id)}).str;
    return info.find("cmd=blpop") != std::string::npos;
  }));
  EXPECT_EQ(admin->command({"CLIENT", "KILL", "ID", std::to_string(id)}).integer, 1);
  ASSERT_EQ(blocked.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(blocked.get(), failure_code::connection);
  EXPECT_FALSE(victim->usable());
  try {
    victim->command({"PING"});
    FAIL() << "a dropped connection still answered";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::connection);
  }
}

TEST_F(redis_client_test, batches_of_5000_entries_keep_their_order_and_count) {
  // Also prints the rate, as a first sign of the write path's speed
  // (250 B key + 600 B value; Redis alone does about 175k entries/s here).
  const size_t batches = 20, per_batch = 5000;
  std::string stream = prefix + "bulk";
  std::vector<write_batch> work;
  for (size_t i = 0; i < batches; ++i)
    work.push_back(make_batch(stream, prefix + "checkpoint", per_batch, 250, 600, i * per_batch));
  std::string last_id;
  auto start = clock_type::now();
  for (const auto& b : work) {
    auto ids = admin->write_atomically(b);
    ASSERT_EQ(ids.size(), per_batch);
    if (!last_id.empty()) {
      EXPECT_LT(id_parts(last_id), id_parts(ids.front()));
    }
    last_id = ids.back();
  }
  double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("wrote %zu entries in %.3f s: %.0f entries/s\n", batches * per_batch, secs,
              batches * per_batch / secs);
  EXPECT_EQ(xlen(stream), static_cast<long long>(batches * per_batch));
  EXPECT_EQ(admin->command({"HGET", prefix + "checkpoint", stream}).str,
            work.back().checkpoint_value);
}

// -- the lease around a write --------------------------------------------------

TEST_F(redis_client_test, a_lease_taken_over_right_before_the_watch_fences_the_write) {
  // The takeover lands after the run's check of its lease and before its
  // WATCH reaches Redis, as when the process is stopped (SIGSTOP) in
  // between: WATCH alone would not see a change made before it.
  std::string lease = prefix + "lease";
  admin->command({"SET", lease, "mine"});
  auto writer = redis_client::connect(local_redis());
  auto other = redis_client::connect(local_redis());
  writer->watch_in_writes(lease, "mine", [&] { other->command({"SET", lease, "theirs"}); });
  auto b = make_batch(prefix + "orders", prefix + "checkpoint", 3, 10, 10);
  try {
    writer->write_atomically(b);
    FAIL() << "a write under another run's lease succeeded";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::target_lost);
    EXPECT_NE(std::string(e.what()).find("theirs"), std::string::npos) << e.what();
  }
  EXPECT_EQ(xlen(b.stream), 0);
  EXPECT_EQ(admin->command({"EXISTS", b.checkpoint_key}).integer, 0);
}
