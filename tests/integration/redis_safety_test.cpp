// What Tributary does when Redis itself misbehaves (issue "safety first",
// the Redis side): a Redis that lost acknowledged writes (killed and started
// again without persistence) stops the run instead of finishing with rows
// missing; two runs of one id cannot both write; a target user without
// MULTI/EXEC is refused before anything is written.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/integration/fixture.hpp"
#include "tests/integration/scratch_redis.hpp"

using namespace trib;
using namespace trib::test;

namespace {

std::string pg_source(const std::string& db) {
  return "type: POSTGRESQL\nhost: 127.0.0.1\nport: " + std::to_string(pg_port()) +
         "\ndatabase: " + db + "\nusername: tributary\npassword: tributary\n";
}

// A PostgreSQL table `big` of `rows` rows in database `db`.
void make_table(const std::string& db, long long rows) {
  pg_fresh_database(db);
  pg_exec(db, "CREATE TABLE big(id bigint PRIMARY KEY, v int, note text);"
              "INSERT INTO big SELECT g, g % 1000, 'row ' || g FROM generate_series(1, " +
                std::to_string(rows) + ") g; ANALYZE big;");
}

// The files of one snapshot replication of `db` into the Redis of `dst_yaml`.
struct setup {
  std::string dir, src, dst, applier, filter, id;
  std::vector<std::string> args(const std::string& flag = "") const {
    std::vector<std::string> a{"snapshot", src, dst, "--applier", applier, "--filter", filter,
                               "--id", id, "--data-dir", dir + "/data"};
    if (!flag.empty()) a.push_back(flag);
    return a;
  }
  std::string line(const std::string& flag = "") const {
    std::string out;
    for (const auto& a : args(flag)) out += (out.empty() ? "" : " ") + a;
    return out;
  }
};

setup make_setup(const std::string& name, const std::string& db, const std::string& dst_yaml) {
  setup s;
  s.dir = fresh_dir("trib_safety_" + name);
  s.id = "safety_" + name;
  s.src = write_file(s.dir + "/src.yaml", pg_source(db));
  s.dst = write_file(s.dir + "/redis.yaml", dst_yaml);
  s.applier = write_file(s.dir + "/applier.yaml",
                         "snapshot:\n  threads: 1\n  batch-size-rows: 1000\n"
                         "message:\n  include-schema: false\n");
  s.filter = write_file(s.dir + "/filter.yaml",
                        "allow:\n- catalog: " + db + "\n  schema: public\n  types: [TABLE]\n");
  return s;
}

// The `rows` count of a snapshot checkpoint field, -1 when it is missing.
long long checkpoint_rows(redis_client& r, const std::string& key, const std::string& field) {
  auto v = r.command({"HGET", key, field});
  if (v.type != redis_reply::kind::string) return -1;
  auto at = v.str.find("\"rows\":");
  return at == std::string::npos ? -1 : std::stoll(v.str.substr(at + 7));
}

}  // namespace

TEST(redis_lost_data, a_snapshot_stops_when_redis_comes_back_without_its_acknowledged_writes) {
  constexpr long long rows = 400000;
  make_table("trib_safety_lost", rows);
  scratch_redis server(fresh_dir("trib_safety_lost_redis"));
  auto s = make_setup("lost", "trib_safety_lost", server.conn_yaml());
  const std::string stream = "trib_safety_lost_public_big";
  const std::string ckpt = "replicate_io_checkpoint_default_" + s.id;

  child_process run(s.args(), s.dir + "/run.log");
  // Once Redis has acknowledged a good part of the snapshot, it dies and
  // comes back empty, as a Redis without persistence does after a crash.
  auto r = server.client();
  bool reached = wait_until(
    [&] {
      if (!run.running()) return true;
      r->command({"CLIENT", "PAUSE", "5000", "WRITE"});
      bool there = checkpoint_rows(*r, ckpt, stream) >= 50000;
      if (there) server.kill_now();
      else r->command({"CLIENT", "UNPAUSE"});
      return there;
    },
    std::chrono::seconds(60), std::chrono::milliseconds(2));
  ASSERT_TRUE(reached) << read_text(s.dir + "/run.log");
  ASSERT_TRUE(run.running()) << "the snapshot ended before the kill: "
                             << read_text(s.dir + "/run.log");
  server.start();

  EXPECT_EQ(run.wait(), 1) << read_text(s.dir + "/run.log");
  auto log = read_text(s.dir + "/run.log");
  EXPECT_NE(log.find("redis lost writes it had acknowledged"), std::string::npos) << log;
  EXPECT_NE(log.find(stream), std::string::npos) << log;
  EXPECT_NE(log.find("--overwrite"), std::string::npos) << log;
  // Nothing claims the table complete.
  r = server.client();
  auto done = r->command({"HGET", ckpt, stream});
  EXPECT_TRUE(done.type != redis_reply::kind::string ||
              done.str.find("\"done\":true") == std::string::npos)
    << done.str;
}

TEST(redis_acl, a_user_without_multi_is_refused_before_anything_is_written) {
  make_table("trib_safety_acl", 20000);
  auto r = redis();
  const std::string user = "trib_safety_nomulti";
  auto set = r->command({"ACL", "SETUSER", user, "reset", "on", ">pw", "~*", "&*", "+@all",
                         "-multi", "-exec"});
  ASSERT_EQ(set.type, redis_reply::kind::status) << set.str;
  auto s = make_setup("acl", "trib_safety_acl",
                      "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " + std::to_string(redis_port()) +
                        "\nusername: " + user + "\npassword: pw\n");
  const std::string stream = "trib_safety_acl_public_big";
  const std::string ckpt = "replicate_io_checkpoint_default_" + s.id;
  r->command({"DEL", stream, ckpt, "replicate_io_replication_schema_default_" + s.id});

  auto res = run_tributary(s.line());
  EXPECT_EQ(res.exit_code, 2) << res.output;
  EXPECT_NE(res.output.find("'" + user + "' may not run MULTI"), std::string::npos) << res.output;
  EXPECT_EQ(stream_length(*r, stream), 0);
  EXPECT_EQ(r->command({"EXISTS", ckpt}).integer, 0);

  // Granted MULTI and EXEC, the same user copies the table once.
  r->command({"ACL", "SETUSER", user, "+multi", "+exec"});
  res = run_tributary(s.line("--resume"));
  EXPECT_EQ(res.exit_code, 0) << res.output;
  EXPECT_EQ(stream_length(*r, stream), 20000);
  r->command({"ACL", "DELUSER", user});
}
