// The Redis writer actor against the real Redis of ops/servers.sh: pre-encoded
// entries commit with their checkpoint, and after a write fails for good every
// later write to the same checkpoint field is refused, so that a queued
// successor never commits after its predecessor failed: it is not sent.

#include "actors/sink/redis_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "actors/control/failure_decisions.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/sink/redis_client.hpp"
#include "tests/integration/writer_env.hpp"

namespace trib {
namespace {

std::string random_suffix() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

class redis_writer_test : public ::testing::Test {
protected:
  redis_writer_test() : sys(test::quiet_actor_config()) {
  }

  void SetUp() override {
    admin = redis_client::connect(test::writer_redis());
    prefix = "trib_rw_" + random_suffix() + "_";
    writer = sys.spawn<caf::detached>(redis_writer, test::writer_redis(), redis_writer_settings{});
  }

  void TearDown() override {
    caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    auto c = redis_client::connect(test::writer_redis());
    std::string cursor = "0";
    do {
      auto r = c->command({"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
      cursor = r.elements[0].str;
      for (const auto& key : r.elements[1].elements) c->command({"UNLINK", key.str});
    } while (cursor != "0");
  }

  /// A write of `n` pre-encoded entries to `stream`, checkpoint `field` = `value`.
  write_batch batch(const std::string& stream, const std::string& field,
                    const std::string& value, size_t n) {
    write_batch b;
    b.stream = stream;
    b.checkpoint_key = prefix + "ck";
    b.checkpoint_field = field;
    b.checkpoint_value = value;
    xadd_encoder enc{stream};
    for (size_t i = 0; i < n; ++i)
      enc.append(b.encoded, "{\"id\":" + std::to_string(i) + "}", "{\"v\":" + std::to_string(i) + "}");
    b.encoded_count = n;
    return b;
  }

  /// Sends `b` and waits for the answer: the IDs, or the failure.
  std::variant<write_ack, failure> write(write_batch b) {
    caf::scoped_actor self{sys};
    std::variant<write_ack, failure> out;
    self->request(writer, std::chrono::seconds(30), std::move(b))
      .receive([&](write_ack& a) { out = std::move(a); },
               [&](caf::error& e) { out = to_failure(e); });
    return out;
  }

  /// Sends `a` and `b` back to back, without waiting between them, so that
  /// `b` reaches the writer while `a` is still on the wire; the answers of both.
  std::pair<std::variant<write_ack, failure>, std::variant<write_ack, failure>>
  write_both(write_batch a, write_batch b) {
    caf::scoped_actor self{sys};
    std::variant<write_ack, failure> first, second;
    auto on = [](std::variant<write_ack, failure>& out) {
      return std::make_pair([&out](write_ack& x) { out = std::move(x); },
                            [&out](caf::error& e) { out = to_failure(e); });
    };
    auto h1 = on(first);
    auto h2 = on(second);
    auto r1 = self->request(writer, std::chrono::seconds(30), std::move(a));
    auto r2 = self->request(writer, std::chrono::seconds(30), std::move(b));
    r1.receive(h1.first, h1.second);
    r2.receive(h2.first, h2.second);
    return {std::move(first), std::move(second)};
  }

  /// Sends every write back to back (all but the last promising a next
  /// one), then waits for every answer.
  std::vector<std::variant<write_ack, failure>> write_all(std::vector<write_batch> writes) {
    caf::scoped_actor self{sys};
    std::vector<std::variant<write_ack, failure>> out(writes.size());
    std::vector<caf::response_handle<caf::blocking_actor, caf::detail::type_list<write_ack>, true>> handles;
    for (size_t i = 0; i < writes.size(); ++i) {
      writes[i].more_follows = i + 1 < writes.size();
      handles.push_back(self->request(writer, std::chrono::seconds(30), std::move(writes[i])));
    }
    for (size_t i = 0; i < handles.size(); ++i)
      handles[i].receive([&](write_ack& a) { out[i] = std::move(a); },
                         [&](caf::error& e) { out[i] = to_failure(e); });
    return out;
  }

  /// Replaces the writer with one that waits `linger` for a promised next
  /// write and names its connection after this test's prefix.
  void respawn_writer(std::chrono::milliseconds linger) {
    caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    redis_writer_settings settings;
    settings.linger = linger;
    settings.client_name = prefix + "writer";
    writer = sys.spawn<caf::detached>(redis_writer, test::writer_redis(), settings);
  }

  /// Kills the connections named `name`; how many there were.
  int kill_clients_named(const std::string& name) {
    int killed = 0;
    auto list = admin->command({"CLIENT", "LIST"}).str;
    size_t at = 0;
    while (at < list.size()) {
      size_t end = list.find('\n', at);
      if (end == std::string::npos) end = list.size();
      std::string line = list.substr(at, end - at);
      at = end + 1;
      if (line.find(" name=" + name + " ") == std::string::npos) continue;
      auto id_at = line.find("id=") + 3;
      auto id = line.substr(id_at, line.find(' ', id_at) - id_at);
      killed += static_cast<int>(admin->command({"CLIENT", "KILL", "ID", id}).integer);
    }
    return killed;
  }

  caf::actor_system sys;
  redis_writer_actor writer;
  std::unique_ptr<redis_client> admin;
  std::string prefix;
};

TEST_F(redis_writer_test, commits_pre_encoded_entries_with_their_checkpoint) {
  auto r = write(batch(prefix + "s", prefix + "s", "{\"n\":3}", 3));
  ASSERT_TRUE(std::holds_alternative<write_ack>(r));
  EXPECT_EQ(std::get<write_ack>(r).entries, 3u);
  EXPECT_EQ(std::get<write_ack>(r).last_id,
            admin->command({"XREVRANGE", prefix + "s", "+", "-", "COUNT", "1"}).elements[0].elements[0].str);
  EXPECT_EQ(admin->command({"XLEN", prefix + "s"}).integer, 3);
  auto range = admin->command({"XRANGE", prefix + "s", "-", "+"});
  ASSERT_EQ(range.elements.size(), 3u);
  EXPECT_EQ(range.elements[2].elements[1].elements[1].str, "{\"id\":2}");
  EXPECT_EQ(range.elements[2].elements[1].elements[3].str, "{\"v\":2}");
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", prefix + "s"}).str, "{\"n\":3}");
}

TEST_F(redis_writer_test, after_a_failed_write_later_writes_to_its_field_are_refused) {
  // The stream key holds a string: every XADD to it fails with WRONGTYPE.
  admin->command({"SET", prefix + "str", "x"});
  std::string field = prefix + "t";
  auto first = write(batch(prefix + "str", field, "{\"n\":2}", 2));
  ASSERT_TRUE(std::holds_alternative<failure>(first));
  EXPECT_EQ(std::get<failure>(first).code, failure_code::wrong_type);
  // The failed write was undone: its checkpoint is not there.
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", field}).type, redis_reply::kind::nil);
  // The next write of the same field would succeed on its own (a fine
  // stream), but it follows a failed one: refused, nothing written.
  auto second = write(batch(prefix + "ok", field, "{\"n\":4}", 2));
  ASSERT_TRUE(std::holds_alternative<failure>(second));
  EXPECT_EQ(admin->command({"XLEN", prefix + "ok"}).integer, 0);
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", field}).type, redis_reply::kind::nil);
  // Other fields are not affected.
  auto other = write(batch(prefix + "ok", prefix + "ok", "{\"n\":1}", 1));
  ASSERT_TRUE(std::holds_alternative<write_ack>(other));
  EXPECT_EQ(admin->command({"XLEN", prefix + "ok"}).integer, 1);
}

TEST_F(redis_writer_test, pipelined_writes_to_two_fields_both_commit) {
  // The first write promises a next one; the writer waits for it (a long
  // linger, so the first's replies are read only when the second comes).
  respawn_writer(std::chrono::seconds(60));
  auto a = batch(prefix + "a", prefix + "a", "{\"n\":2}", 2);
  a.more_follows = true;
  auto [first, second] = write_both(std::move(a), batch(prefix + "b", prefix + "b", "{\"n\":3}", 3));
  ASSERT_TRUE(std::holds_alternative<write_ack>(first));
  ASSERT_TRUE(std::holds_alternative<write_ack>(second));
  EXPECT_EQ(std::get<write_ack>(first).entries, 2u);
  EXPECT_EQ(admin->command({"XLEN", prefix + "a"}).integer, 2);
  EXPECT_EQ(admin->command({"XLEN", prefix + "b"}).integer, 3);
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", prefix + "a"}).str, "{\"n\":2}");
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", prefix + "b"}).str, "{\"n\":3}");
}

TEST_F(redis_writer_test, the_queued_successor_of_a_failed_write_is_refused_unsent) {
  respawn_writer(std::chrono::seconds(60));
  admin->command({"SET", prefix + "str", "x"});
  std::string field = prefix + "t";
  // Checkpoint before the two writes: the field must end up holding it again.
  admin->command({"HSET", prefix + "ck", field, "{\"n\":0}"});
  auto bad = batch(prefix + "str", field, "{\"n\":2}", 2);
  bad.more_follows = true;
  // The successor goes to a fine stream, so Redis would commit it; it
  // reaches the writer before the writer reads that its predecessor failed.
  auto [first, second] = write_both(std::move(bad), batch(prefix + "ok", field, "{\"n\":4}", 2));
  ASSERT_TRUE(std::holds_alternative<failure>(first));
  EXPECT_EQ(std::get<failure>(first).code, failure_code::wrong_type);
  ASSERT_TRUE(std::holds_alternative<failure>(second));
  EXPECT_EQ(admin->command({"XLEN", prefix + "ok"}).integer, 0);
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", field}).str, "{\"n\":0}");
}

TEST_F(redis_writer_test, a_promised_write_that_never_comes_does_not_hold_the_answer) {
  respawn_writer(std::chrono::milliseconds(5));
  auto a = batch(prefix + "s", prefix + "s", "{\"n\":1}", 1);
  a.more_follows = true;
  auto r = write(std::move(a));
  ASSERT_TRUE(std::holds_alternative<write_ack>(r));
  EXPECT_EQ(admin->command({"XLEN", prefix + "s"}).integer, 1);
}

TEST_F(redis_writer_test, a_lost_connection_under_a_pipelined_write_loses_and_repeats_nothing) {
  respawn_writer(std::chrono::seconds(60));
  std::string field = prefix + "s";
  auto first = batch(prefix + "s", field, "{\"n\":3}", 3);
  first.more_follows = true;
  caf::scoped_actor self{sys};
  std::variant<write_ack, failure> a, b;
  auto r1 = self->request(writer, std::chrono::seconds(30), std::move(first));
  // The first write commits in Redis; its replies wait on the wire for the
  // promised next write.
  ASSERT_TRUE(test::wait_until(
    [&] { return admin->command({"XLEN", prefix + "s"}).integer == 3; },
    std::chrono::seconds(10), std::chrono::milliseconds(5)));
  ASSERT_EQ(kill_clients_named(prefix + "writer"), 1);
  // The next write finds the connection gone: the first is found committed
  // by its checkpoint, not written again; the second is written once.
  auto r2 = self->request(writer, std::chrono::seconds(30),
                          batch(prefix + "s", field, "{\"n\":5}", 2));
  r1.receive([&](write_ack& x) { a = std::move(x); }, [&](caf::error& e) { a = to_failure(e); });
  r2.receive([&](write_ack& x) { b = std::move(x); }, [&](caf::error& e) { b = to_failure(e); });
  ASSERT_TRUE(std::holds_alternative<write_ack>(a)) << std::get<failure>(a).what;
  ASSERT_TRUE(std::holds_alternative<write_ack>(b)) << std::get<failure>(b).what;
  EXPECT_EQ(admin->command({"XLEN", prefix + "s"}).integer, 5);
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", field}).str, "{\"n\":5}");
  // The writer is back on a named connection.
  EXPECT_NE(admin->command({"CLIENT", "LIST"}).str.find(" name=" + prefix + "writer "),
            std::string::npos);
}

TEST_F(redis_writer_test, a_failure_among_queued_writes_stops_only_its_own_chain) {
  // Five writes queued at once, two chains (checkpoint fields a and b).
  // The first of chain b fails in Redis; chain b's later write is refused;
  // chain a commits whole, in order.
  respawn_writer(std::chrono::seconds(60));
  admin->command({"SET", prefix + "str", "x"});
  std::string a = prefix + "a", b = prefix + "b";
  admin->command({"HSET", prefix + "ck", b, "{\"n\":0}"});
  std::vector<write_batch> writes;
  writes.push_back(batch(prefix + "sa", a, "{\"n\":2}", 2));
  writes.push_back(batch(prefix + "str", b, "{\"n\":3}", 3));
  writes.push_back(batch(prefix + "sa", a, "{\"n\":5}", 3));
  writes.push_back(batch(prefix + "sb", b, "{\"n\":7}", 4));
  writes.push_back(batch(prefix + "sa", a, "{\"n\":9}", 4));
  auto out = write_all(std::move(writes));
  for (size_t i : {0, 2, 4})
    ASSERT_TRUE(std::holds_alternative<write_ack>(out[i])) << "write " << i;
  EXPECT_EQ(std::get<write_ack>(out[4]).entries, 4u);
  ASSERT_TRUE(std::holds_alternative<failure>(out[1]));
  EXPECT_EQ(std::get<failure>(out[1]).code, failure_code::wrong_type);
  ASSERT_TRUE(std::holds_alternative<failure>(out[3]));
  EXPECT_EQ(admin->command({"XLEN", prefix + "sa"}).integer, 9);
  EXPECT_EQ(admin->command({"XLEN", prefix + "sb"}).integer, 0);
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", a}).str, "{\"n\":9}");
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", b}).str, "{\"n\":0}");
  // Chain a's entries are in send order.
  auto entries = admin->command({"XRANGE", prefix + "sa", "-", "+"});
  ASSERT_EQ(entries.elements.size(), 9u);
  std::vector<std::string> ids;
  for (const auto& e : entries.elements) ids.push_back(e.elements[1].elements[1].str);
  EXPECT_EQ(ids, (std::vector<std::string>{"{\"id\":0}", "{\"id\":1}", "{\"id\":0}",
                                           "{\"id\":1}", "{\"id\":2}", "{\"id\":0}",
                                           "{\"id\":1}", "{\"id\":2}", "{\"id\":3}"}));
}

TEST_F(redis_writer_test, a_lost_connection_under_queued_writes_loses_and_repeats_nothing) {
  respawn_writer(std::chrono::seconds(60));
  std::string field = prefix + "s";
  caf::scoped_actor self{sys};
  // Four writes committed in Redis, the last one's replies unread.
  std::vector<caf::response_handle<caf::blocking_actor, caf::detail::type_list<write_ack>, true>> handles;
  size_t total = 0;
  for (size_t i = 1; i <= 4; ++i) {
    auto w = batch(prefix + "s", field, "{\"n\":" + std::to_string(i) + "}", i);
    w.more_follows = true;
    total += i;
    handles.push_back(self->request(writer, std::chrono::seconds(30), std::move(w)));
  }
  ASSERT_TRUE(test::wait_until(
    [&] { return admin->command({"XLEN", prefix + "s"}).integer == static_cast<long long>(total); },
    std::chrono::seconds(10), std::chrono::milliseconds(5)));
  ASSERT_EQ(kill_clients_named(prefix + "writer"), 1);
  // The fifth finds the connection gone: the four are found committed by the
  // checkpoint (which holds the fourth's value), none is written again.
  handles.push_back(self->request(writer, std::chrono::seconds(30),
                                  batch(prefix + "s", field, "{\"n\":5}", 5)));
  total += 5;
  for (size_t i = 0; i < handles.size(); ++i) {
    std::optional<failure> f;
    handles[i].receive([](write_ack&) {}, [&](caf::error& e) { f = to_failure(e); });
    EXPECT_FALSE(f) << "write " << i << ": " << f->what;
  }
  EXPECT_EQ(admin->command({"XLEN", prefix + "s"}).integer, static_cast<long long>(total));
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", field}).str, "{\"n\":5}");
}

}  // namespace
}  // namespace trib

// -- undoing a failed realtime batch (design section 7) -----------------------

namespace trib {

class redis_writer_undo_test : public redis_writer_test {
protected:
  undo_result undo(undo_request u) {
    caf::scoped_actor self{sys};
    undo_result out;
    self->request(writer, std::chrono::seconds(30), std::move(u))
      .receive([&](undo_result& r) { out = std::move(r); },
               [&](caf::error& e) { out.failed = true; out.error = to_failure(e).what; });
    return out;
  }
  /// The IDs in `stream`, oldest first.
  std::vector<std::string> ids(const std::string& stream) {
    std::vector<std::string> out;
    for (const auto& e : admin->command({"XRANGE", stream, "-", "+"}).elements)
      out.push_back(e.elements[0].str);
    return out;
  }
  /// An undo of the writes acknowledged by `acks`, the checkpoint back to `before`.
  undo_request undo_of(const std::string& stream, const std::vector<write_ack>& acks,
                       const std::string& before) {
    undo_request u;
    u.stream = stream;
    for (const auto& a : acks) {
      u.last_ids.push_back(a.last_id);
      u.counts.push_back(a.entries);
    }
    u.checkpoint_key = prefix + "ck";
    u.checkpoint_field = stream;
    u.checkpoint_value = before;
    u.had_checkpoint = true;
    return u;
  }
};

TEST_F(redis_writer_undo_test, deletes_exactly_the_writes_of_the_batch_and_puts_the_checkpoint_back) {
  auto s = prefix + "s";
  ASSERT_TRUE(std::holds_alternative<write_ack>(write(batch(s, s, "v0", 1))));
  auto kept = ids(s);
  auto a1 = write(batch(s, s, "v1", 3));
  auto a2 = write(batch(s, s, "v2", 2));
  ASSERT_TRUE(std::holds_alternative<write_ack>(a1));
  ASSERT_TRUE(std::holds_alternative<write_ack>(a2));
  auto r = undo(undo_of(s, {std::get<write_ack>(a1), std::get<write_ack>(a2)}, "v0"));
  EXPECT_FALSE(r.failed) << r.error;
  EXPECT_EQ(r.deleted, 5u);
  EXPECT_EQ(ids(s), kept);
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", s}).str, "v0");
  // The batch is written again after the undo, in order.
  ASSERT_TRUE(std::holds_alternative<write_ack>(write(batch(s, s, "v1", 3))));
  EXPECT_EQ(admin->command({"XLEN", s}).integer, 4);
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", s}).str, "v1");
}

// XDEL taken away from the target user while an undo is needed: the undo
// names exactly the entries it left, the checkpoint is back before them, and
// the in-doubt log's lines, pasted into redis-cli, delete exactly those.
TEST_F(redis_writer_undo_test, refused_xdel_leaves_exactly_the_batchs_entries_for_the_in_doubt_log) {
  auto user = prefix + "u";
  ASSERT_EQ(admin->command({"ACL", "SETUSER", user, "reset", "on", ">pw", "~*", "&*", "+@all"}).str,
            "OK");
  auto cfg = test::writer_redis();
  cfg.username = user;
  cfg.password = "pw";
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  writer = sys.spawn<caf::detached>(redis_writer, cfg, redis_writer_settings{});
  auto s = prefix + "s";
  ASSERT_TRUE(std::holds_alternative<write_ack>(write(batch(s, s, "v0", 2))));
  auto kept = ids(s);
  auto a1 = write(batch(s, s, "v1", 2));
  auto a2 = write(batch(s, s, "v2", 3));
  ASSERT_TRUE(std::holds_alternative<write_ack>(a2));
  auto all = ids(s);
  std::vector<std::string> batch_ids(all.begin() + 2, all.end());
  ASSERT_EQ(batch_ids.size(), 5u);
  ASSERT_EQ(admin->command({"ACL", "SETUSER", user, "-xdel"}).str, "OK");
  auto r = undo(undo_of(s, {std::get<write_ack>(a1), std::get<write_ack>(a2)}, "v0"));
  EXPECT_TRUE(r.failed);
  EXPECT_NE(r.error.find("XDEL"), std::string::npos) << r.error;
  auto left = r.not_deleted;
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, batch_ids);
  EXPECT_EQ(admin->command({"HGET", prefix + "ck", s}).str, "v0");
  // Pasted into redis-cli as they are.
  auto file = ::testing::TempDir() + prefix + "indoubt";
  {
    std::ofstream out(file);
    for (const auto& l : in_doubt_lines(s, r.not_deleted, 2)) out << l << "\n";
  }
  auto cmd = "redis-cli -h 127.0.0.1 -p " + std::to_string(test::redis_port()) + " < " + file +
             " > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::filesystem::remove(file);
  EXPECT_EQ(ids(s), kept);
  admin->command({"ACL", "DELUSER", user});
}

}  // namespace trib
