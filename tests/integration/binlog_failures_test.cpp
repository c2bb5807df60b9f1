// The realtime failure rules from MySQL/MariaDB: the binlog reader feeds the
// same dispatcher, appliers and supervisor as the WAL reader, so a stream
// Redis refuses stops its table while the others go on, the binlog position
// is kept before the refused change, and --resume continues it exactly.

#include "tests/integration/binlog_realtime_fixture.hpp"

using namespace trib;
using namespace trib::test;
using namespace std::chrono_literals;

namespace {

class binlog_failures : public binlog_realtime {
protected:
  std::string user() { return "trib_bfail_" + db_; }
  std::string log() { return read_text(dir_ + "/run.log"); }
  void TearDown() override {
    if (r_) r_->command({"ACL", "DELUSER", user()});
    binlog_realtime::TearDown();
  }
  std::vector<int64_t> ids_in(const std::string& s) {
    std::vector<int64_t> out;
    for (const auto& c : changes(s)) out.push_back(c.after.at("id").as_int64());
    return out;
  }
};

}  // namespace

TEST_F(binlog_failures, noperm_on_one_stream_stops_that_table_and_resume_continues_it) {
  use("noperm");
  ASSERT_EQ(r_->command({"ACL", "SETUSER", user(), "reset", "on", ">pw", "~*", "&*", "+@all"}).str,
            "OK");
  write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                   std::to_string(redis_port()) + "\nusername: " + user() +
                                   "\npassword: pw\nmax-retries: 2\nretry-wait-duration-ms: 20\n");
  maria_exec("CREATE TABLE " + db_ + ".a (id INT PRIMARY KEY); CREATE TABLE " + db_ +
             ".ok (id INT PRIMARY KEY)");
  start();
  maria_exec("INSERT INTO " + db_ + ".a VALUES (1); INSERT INTO " + db_ + ".ok VALUES (1)");
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("a")) >= 1; })) << log();
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("ok")) >= 1; })) << log();
  ASSERT_EQ(r_->command({"ACL", "SETUSER", user(), "resetkeys", "~replicate_io_*",
                         "~" + stream("ok")})
              .str,
            "OK");
  maria_exec("INSERT INTO " + db_ + ".a VALUES (2); INSERT INTO " + db_ + ".ok VALUES (2); " +
             "INSERT INTO " + db_ + ".a VALUES (3); INSERT INTO " + db_ + ".ok VALUES (3)");
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("ok")) >= 3; })) << log();
  auto error_log = dir_ + "/data/" + id_ + "/error.log";
  ASSERT_TRUE(wait_until([&] {
    return read_text(error_log).find("in " + stream("a") + " at") != std::string::npos;
  }, 30s)) << log();
  EXPECT_EQ(stop(), 3) << log();
  EXPECT_EQ(ids_in(stream("a")), (std::vector<int64_t>{1}));
  EXPECT_EQ(ids_in(stream("ok")), (std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(r_->command({"ACL", "SETUSER", user(), "resetkeys", "~*"}).str, "OK");
  start({"--resume"});
  maria_exec("INSERT INTO " + db_ + ".ok VALUES (4)");
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("ok")) >= 4; })) << log();
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("a")) >= 3; })) << log();
  EXPECT_EQ(stop(), 0) << log();
  EXPECT_EQ(ids_in(stream("a")), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(ids_in(stream("ok")), (std::vector<int64_t>{1, 2, 3, 4}));
}
