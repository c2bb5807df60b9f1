// The Redis writer actor against the real Redis of ops/servers.sh: pre-encoded
// entries commit with their checkpoint, and after a write fails for good every
// later write to the same checkpoint field is refused, so that a pipelined
// successor never commits after its predecessor failed.

#include "actors/sink/redis_writer.hpp"

#include <gtest/gtest.h>

#include <random>

#include "actors/control/type_ids.hpp"
#include "actors/sink/redis_client.hpp"
#include "tests/integration/test_env.hpp"

namespace trib {
namespace {

redis_config local_redis() {
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = test::redis_port();
  // Permanent failures are not retried; keep retryable ones short.
  cfg.max_retries = 1;
  cfg.retry_wait_duration_ms = 10;
  return cfg;
}

std::string random_suffix() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

class redis_writer_test : public ::testing::Test {
protected:
  redis_writer_test() : sys(make_cfg()) {
  }

  static caf::actor_system_config& make_cfg() {
    static caf::actor_system_config cfg;
    static bool once = [] {
      register_message_types(cfg);
      cfg.set("logger.file-verbosity", caf::atom("quiet"));
      cfg.set("logger.console-verbosity", caf::atom("quiet"));
      return true;
    }();
    (void)once;
    return cfg;
  }

  void SetUp() override {
    admin = redis_client::connect(local_redis());
    prefix = "trib_rw_" + random_suffix() + "_";
    writer = sys.spawn<caf::detached>(redis_writer, local_redis());
  }

  void TearDown() override {
    caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    auto c = redis_client::connect(local_redis());
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

  caf::actor_system sys;
  redis_writer_actor writer;
  std::unique_ptr<redis_client> admin;
  std::string prefix;
};

TEST_F(redis_writer_test, commits_pre_encoded_entries_with_their_checkpoint) {
  auto r = write(batch(prefix + "s", prefix + "s", "{\"n\":3}", 3));
  ASSERT_TRUE(std::holds_alternative<write_ack>(r));
  EXPECT_EQ(std::get<write_ack>(r).ids.size(), 3u);
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

}  // namespace
}  // namespace trib
