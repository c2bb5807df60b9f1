// Trimming against the real Redis of ops/servers.sh, through the Redis
// writer actor: APPROXIMATE keeps a stream near stream-max-length; ACKED,
// with real consumer groups that lag, read, and acknowledge part of what
// they read, never takes an entry some group has not been delivered or has
// not acknowledged, yet does trim once every group is past it; a stream
// without groups is not trimmed in ACKED mode. And max-consumer-lag: writes
// to a stream whose consumer group stops reading wait until it reads again,
// while other streams are written on.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <vector>

#include "actors/control/type_ids.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/sink/redis_writer.hpp"
#include "tests/integration/writer_env.hpp"

namespace trib {
namespace {

class stream_trim_test : public ::testing::Test {
protected:
  stream_trim_test() : sys(test::quiet_actor_config()) {}

  void SetUp() override {
    admin = redis_client::connect(test::writer_redis());
    std::random_device rd;
    prefix = "trib_trim_" + std::to_string(rd()) + "_";
  }

  void TearDown() override {
    if (writer) caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    auto keys = admin->command({"KEYS", prefix + "*"});
    for (const auto& k : keys.elements) admin->command({"UNLINK", k.str});
  }

  void spawn_writer(uint64_t max_length, trim_mode mode) {
    redis_writer_settings settings;
    settings.trim = {max_length, mode};
    writer = sys.spawn<caf::detached>(redis_writer, test::writer_redis(), settings);
  }

  /// Writes `n` entries (keys numbered on from the last write) to `stream`
  /// and waits for the acknowledgement.
  void write(const std::string& stream, size_t n) {
    caf::scoped_actor self{sys};
    bool ok = false;
    self->request(writer, std::chrono::seconds(30), batch(stream, n))
      .receive([&](write_ack& a) { ok = a.entries == n; },
               [&](caf::error& e) { ADD_FAILURE() << to_failure(e).what; });
    ASSERT_TRUE(ok);
  }

  /// A write of `n` entries to `stream`, keys numbered on.
  write_batch batch(const std::string& stream, size_t n) {
    write_batch b;
    b.stream = stream;
    b.checkpoint_key = prefix + "ck";
    b.checkpoint_field = stream;
    xadd_encoder enc{stream};
    for (size_t i = 0; i < n; ++i) enc.append(b.encoded, std::to_string(next_key++), "v");
    b.encoded_count = n;
    b.checkpoint_value = std::to_string(next_key);
    return b;
  }

  /// The IDs in `stream`, oldest first.
  std::vector<std::string> ids(const std::string& stream) {
    std::vector<std::string> out;
    for (const auto& e : admin->command({"XRANGE", stream, "-", "+"}).elements)
      out.push_back(e.elements[0].str);
    return out;
  }

  /// XREADGROUP of up to `count` new entries for `group`: their IDs.
  std::vector<std::string> read(const std::string& stream, const std::string& group,
                                size_t count) {
    auto r = admin->command({"XREADGROUP", "GROUP", group, "c", "COUNT", std::to_string(count),
                             "STREAMS", stream, ">"});
    std::vector<std::string> out;
    if (r.type != redis_reply::kind::array) return out;
    for (const auto& e : r.elements.at(0).elements.at(1).elements)
      out.push_back(e.elements[0].str);
    return out;
  }

  void ack(const std::string& stream, const std::string& group,
           const std::vector<std::string>& which) {
    if (which.empty()) return;
    std::vector<std::string> argv{"XACK", stream, group};
    argv.insert(argv.end(), which.begin(), which.end());
    ASSERT_EQ(admin->command(argv).integer, static_cast<long long>(which.size()));
  }

  caf::actor_system sys;
  redis_writer_actor writer;
  std::unique_ptr<redis_client> admin;
  std::string prefix;
  uint64_t next_key = 0;
};

TEST_F(stream_trim_test, approximate_keeps_about_max_length_and_the_newest_entries) {
  spawn_writer(100, trim_mode::approximate);
  const std::string s = prefix + "approx";
  for (int i = 0; i < 20; ++i) write(s, 50);
  auto kept = ids(s);
  // MAXLEN ~ 100 keeps at least 100; trims come every tenth of the length,
  // and whole nodes (at most 100 entries) go at once.
  EXPECT_GE(kept.size(), 100u);
  EXPECT_LE(kept.size(), 100u + 10 + 50 + 100);
  auto last = admin->command({"XREVRANGE", s, "+", "-", "COUNT", "1"});
  EXPECT_EQ(last.elements.at(0).elements.at(1).elements.at(1).str, std::to_string(next_key - 1));
}

TEST_F(stream_trim_test, acked_trims_nothing_of_a_stream_without_consumer_groups) {
  spawn_writer(10, trim_mode::acked);
  const std::string s = prefix + "nogroups";
  for (int i = 0; i < 10; ++i) write(s, 50);
  EXPECT_EQ(admin->command({"XLEN", s}).integer, 500);
}

TEST_F(stream_trim_test, acked_never_takes_an_unread_or_unacknowledged_entry) {
  spawn_writer(100, trim_mode::acked);
  const std::string s = prefix + "acked";
  for (const char* g : {"fast", "half", "slow"})
    ASSERT_EQ(admin->command({"XGROUP", "CREATE", s, g, "0", "MKSTREAM"}).str, "OK");
  // Per group, every ID written and not acknowledged by it.
  std::map<std::string, std::set<std::string>> unacked;
  std::set<std::string> seen;
  auto written = [&] {
    for (const auto& id : ids(s))
      if (seen.insert(id).second)
        for (const char* g : {"fast", "half", "slow"}) unacked[g].insert(id);
  };
  // Everything some group still needs is in the stream.
  auto check = [&](int round) {
    auto in = ids(s);
    std::set<std::string> present(in.begin(), in.end());
    for (const auto& [g, needs] : unacked)
      for (const auto& id : needs)
        ASSERT_TRUE(present.count(id)) << "round " << round << ": " << id
                                       << " was trimmed while group " << g << " needs it";
  };
  std::vector<std::string> half_pending;
  for (int round = 0; round < 10; ++round) {
    write(s, 50);
    written();
    check(round);
    // fast reads and acknowledges everything.
    auto f = read(s, "fast", 1000);
    ack(s, "fast", f);
    for (const auto& id : f) unacked["fast"].erase(id);
    // half reads 40 of every 50 and leaves the last 10 it read unacknowledged.
    auto h = read(s, "half", 40);
    half_pending.insert(half_pending.end(), h.begin(), h.end());
    std::vector<std::string> done(half_pending.begin(), half_pending.end() - 10);
    ack(s, "half", done);
    for (const auto& id : done) unacked["half"].erase(id);
    half_pending.erase(half_pending.begin(), half_pending.end() - 10);
    // slow reads nothing for six rounds, then catches up.
    if (round >= 6) {
      auto sl = read(s, "slow", 100000);
      ack(s, "slow", sl);
      for (const auto& id : sl) unacked["slow"].erase(id);
    }
    if (round == 5)
      EXPECT_EQ(admin->command({"XLEN", s}).integer, 300) << "trimmed what slow has not read";
  }
  write(s, 50);
  written();
  check(10);
  // Once every group is past them, entries do go.
  EXPECT_LT(admin->command({"XLEN", s}).integer, static_cast<long long>(seen.size()));
}

TEST_F(stream_trim_test, writes_wait_while_the_slowest_consumer_group_lags_more_than_the_bound) {
  redis_writer_settings settings;
  settings.max_consumer_lag = 100;
  writer = sys.spawn<caf::detached>(redis_writer, test::writer_redis(), settings);
  const std::string s = prefix + "lagging", other = prefix + "free";
  // "reader" keeps up; "stalled" reads nothing for now.
  for (const char* g : {"reader", "stalled"})
    ASSERT_EQ(admin->command({"XGROUP", "CREATE", s, g, "$", "MKSTREAM"}).str, "OK");
  for (int i = 0; i < 3; ++i) {
    write(s, 50);
    read(s, "reader", 1000);
  }
  // 150 entries, stalled lags 150 > 100: the next write to s waits.
  auto xinfo_calls = [&] {
    auto text = admin->command({"INFO", "commandstats"}).str;
    auto at = text.find("cmdstat_xinfo|groups:calls=");
    if (at == std::string::npos) at = text.find("cmdstat_xinfo:calls=");
    if (at == std::string::npos) return 0LL;
    return std::stoll(text.substr(text.find('=', at) + 1));
  };
  caf::scoped_actor self{sys};
  auto held = self->request(writer, caf::infinite, batch(s, 50));
  // Other streams are written on meanwhile.
  write(other, 50);
  EXPECT_EQ(admin->command({"XLEN", other}).integer, 50);
  // The writer reads the lag again and again, and s does not grow.
  auto before = xinfo_calls();
  ASSERT_TRUE(test::wait_until([&] { return xinfo_calls() >= before + 3; }));
  EXPECT_EQ(admin->command({"XLEN", s}).integer, 150) << "written while a group lagged";
  // The stalled group reads again: the write goes through.
  EXPECT_EQ(read(s, "stalled", 1000).size(), 150u);
  bool ok = false;
  held.receive([&](write_ack& a) { ok = a.entries == 50; },
               [&](caf::error& e) { ADD_FAILURE() << to_failure(e).what; });
  EXPECT_TRUE(ok);
  EXPECT_EQ(admin->command({"XLEN", s}).integer, 200);
  // Every entry once, in order.
  auto all = admin->command({"XRANGE", s, "-", "+"});
  ASSERT_EQ(all.elements.size(), 200u);
  for (size_t i = 1; i < all.elements.size(); ++i)
    EXPECT_EQ(std::stoull(all.elements[i].elements[1].elements[1].str),
              std::stoull(all.elements[i - 1].elements[1].elements[1].str) + 1);
}

}  // namespace
}  // namespace trib
