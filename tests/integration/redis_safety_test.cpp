// What Tributary does when Redis itself misbehaves (issue "safety first",
// the Redis side): a Redis that lost acknowledged writes (killed and started
// again without persistence) stops the run instead of finishing with rows
// missing; two runs of one id cannot both write; a target user without
// MULTI/EXEC is refused before anything is written.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/integration/fixture.hpp"
#include "tests/integration/realtime_fixture.hpp"
#include "tests/integration/private_redis.hpp"

using namespace trib;
using namespace trib::test;

namespace {

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
  private_redis server({}, fresh_dir("trib_safety_lost_redis"));
  auto s = make_setup("lost", "trib_safety_lost", server.conn_yaml());
  const std::string stream = "trib_safety_lost_public_big";
  const std::string ckpt = "replicate_io_checkpoint_default_" + s.id;

  child_process run(s.args(), s.dir + "/run.log");
  // Once Redis has acknowledged a good part of the snapshot, it dies and
  // comes back empty, as a Redis without persistence does after a crash.
  auto r = server.connect();
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
  r = server.connect();
  auto done = r->command({"HGET", ckpt, stream});
  EXPECT_TRUE(done.type != redis_reply::kind::string ||
              done.str.find("\"done\":true") == std::string::npos)
    << done.str;
}

TEST_F(realtime, stops_when_redis_comes_back_without_its_acknowledged_changes) {
  use("redislost");
  sql db(db_);
  db.exec("CREATE TABLE t(id int PRIMARY KEY, v int)");
  private_redis server({}, dir_ + "/redis");
  write_file(dir_ + "/dst.yaml", server.conn_yaml());
  start("realtime");
  db.exec("INSERT INTO t SELECT g, g FROM generate_series(1, 300) g");
  auto end = db.rows("SELECT pg_current_wal_lsn()")[0][0];
  // The slot confirms a change only once Redis acknowledged it.
  ASSERT_TRUE(wait_until([&] {
    return db.rows("SELECT confirmed_flush_lsn >= '" + end +
                   "' FROM pg_replication_slots WHERE slot_name = '" + db_ + "'")[0][0] == "t";
  })) << read_text(dir_ + "/run.log");
  server.kill_now();
  server.start();
  db.exec("INSERT INTO t SELECT g, g FROM generate_series(301, 400) g");
  bool ended = wait_until([&] { return !child_->running(); });
  if (!ended) child_->signal(SIGTERM);
  EXPECT_TRUE(ended) << "the run went on after redis lost 300 acknowledged changes";
  EXPECT_EQ(child_->wait(), 1) << read_text(dir_ + "/run.log");
  auto log = read_text(dir_ + "/run.log");
  EXPECT_NE(log.find("redis lost writes it had acknowledged"), std::string::npos) << log;
  EXPECT_NE(log.find(stream("t")), std::string::npos) << log;
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

namespace {

// A lease of `id` held by a live run on another machine, renewed for `ttl_ms`.
void hold_lease_elsewhere(redis_client& r, const std::string& id, long long ttl_ms) {
  r.command({"SET", "replicate_io_lease_default_" + id,
             "{\"host\":\"other-host\",\"pid\":4242,\"since\":\"2026-01-01T00:00:00Z\","
             "\"token\":\"t-other\"}"});
  r.command({"SET", "replicate_io_lease_alive_default_" + id, "t-other", "PX",
             std::to_string(ttl_ms)});
}

void clean(redis_client& r, const setup& s, const std::string& stream) {
  r.command({"DEL", stream, "replicate_io_checkpoint_default_" + s.id,
             "replicate_io_replication_schema_default_" + s.id,
             "replicate_io_lease_default_" + s.id, "replicate_io_lease_alive_default_" + s.id});
}

}  // namespace

TEST(redis_lease, two_runs_of_one_id_started_together_write_every_row_once) {
  constexpr long long rows = 100000;
  make_table("trib_safety_twice", rows);
  auto r = redis();
  auto s = make_setup("twice", "trib_safety_twice",
                      "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " + std::to_string(redis_port()) + "\n");
  const std::string stream = "trib_safety_twice_public_big";
  clean(*r, s, stream);
  // --resume skips the "has state" check, so only the lease stands between
  // the two.
  child_process a(s.args("--resume"), s.dir + "/a.log");
  child_process b(s.args("--resume"), s.dir + "/b.log");
  int ca = a.wait(), cb = b.wait();
  auto la = read_text(s.dir + "/a.log"), lb = read_text(s.dir + "/b.log");
  EXPECT_TRUE((ca == 0 && cb == 2) || (ca == 2 && cb == 0)) << ca << " " << cb << "\n" << la << lb;
  const auto& refused = ca == 2 ? la : lb;
  EXPECT_NE(refused.find("replication '" + s.id + "'"), std::string::npos) << refused;
  EXPECT_NE(refused.find("replicate_io_lease_default_" + s.id), std::string::npos) << refused;
  EXPECT_NE(refused.find("pid "), std::string::npos) << refused;
  EXPECT_NE(refused.find("since "), std::string::npos) << refused;
  EXPECT_EQ(stream_length(*r, stream), rows);
  // The lease is given back at the end: the next run needs no wait.
  EXPECT_EQ(r->command({"EXISTS", "replicate_io_lease_default_" + s.id}).integer, 0);
  clean(*r, s, stream);
}

TEST(redis_lease, two_fresh_runs_of_one_id_started_together_write_every_row_once) {
  // A small table: the first run may end before the second takes the
  // lease, which must then find the first one's state.
  constexpr long long rows = 2000;
  make_table("trib_safety_fresh", rows);
  auto r = redis();
  auto s = make_setup("fresh", "trib_safety_fresh",
                      "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " + std::to_string(redis_port()) + "\n");
  const std::string stream = "trib_safety_fresh_public_big";
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    clean(*r, s, stream);
    child_process a(s.args(), s.dir + "/a.log");
    child_process b(s.args(), s.dir + "/b.log");
    int ca = a.wait(), cb = b.wait();
    EXPECT_TRUE((ca == 0 && cb == 2) || (ca == 2 && cb == 0))
      << ca << " " << cb << "\n" << read_text(s.dir + "/a.log") << read_text(s.dir + "/b.log");
    EXPECT_EQ(stream_length(*r, stream), rows);
  }
  clean(*r, s, stream);
}

TEST(redis_lease, a_lease_held_on_another_host_refuses_runs_and_overwrite_until_it_expires) {
  make_table("trib_safety_held", 1000);
  auto r = redis();
  auto s = make_setup("held", "trib_safety_held",
                      "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " + std::to_string(redis_port()) + "\n");
  const std::string stream = "trib_safety_held_public_big";
  clean(*r, s, stream);
  auto res = run_tributary(s.line());
  ASSERT_EQ(res.exit_code, 0) << res.output;

  hold_lease_elsewhere(*r, s.id, 60000);
  for (const char* flag : {"--resume", "--overwrite"}) {
    res = run_tributary(s.line(flag));
    EXPECT_EQ(res.exit_code, 2) << flag << ": " << res.output;
    EXPECT_NE(res.output.find("held by host other-host, pid 4242, since 2026-01-01T00:00:00Z"),
              std::string::npos)
      << res.output;
    EXPECT_EQ(stream_length(*r, stream), 1000) << flag;
  }
  // The other run stopped renewing: its lease expired, and the next run
  // takes it over.
  r->command({"DEL", "replicate_io_lease_alive_default_" + s.id});
  res = run_tributary(s.line("--overwrite"));
  EXPECT_EQ(res.exit_code, 0) << res.output;
  EXPECT_NE(res.output.find("takes over the lease"), std::string::npos) << res.output;
  EXPECT_EQ(stream_length(*r, stream), 1000);
  clean(*r, s, stream);
}

TEST(redis_lease, a_run_that_stalled_past_its_lease_commits_nothing_after_a_takeover) {
  constexpr long long rows = 400000;
  make_table("trib_safety_fenced", rows);
  // A Redis of its own: another test's CLIENT PAUSE on the shared one would
  // hold this run's writes in Redis past the lease's margin.
  private_redis server({}, fresh_dir("trib_safety_fenced_redis"));
  auto r = server.connect();
  auto s = make_setup("fenced", "trib_safety_fenced", server.conn_yaml());
  const std::string stream = "trib_safety_fenced_public_big";
  const std::string ckpt = "replicate_io_checkpoint_default_" + s.id;
  const std::string alive = "replicate_io_lease_alive_default_" + s.id;
  clean(*r, s, stream);
  child_process run(s.args(), s.dir + "/run.log");
  ASSERT_TRUE(wait_until([&] { return !run.running() || stream_length(*r, stream) >= 20000; },
                         std::chrono::seconds(60), std::chrono::milliseconds(2)));
  // The run stalls (SIGSTOP) until its lease expires, another run takes
  // the lease over, then the stalled run goes on.
  run.signal(SIGSTOP);
  ASSERT_TRUE(wait_until([&] { return r->command({"EXISTS", alive}).integer == 0; },
                         std::chrono::seconds(30), std::chrono::milliseconds(200)))
    << "the lease did not expire";
  hold_lease_elsewhere(*r, s.id, 60000);
  long long at_takeover = stream_length(*r, stream);
  EXPECT_LT(at_takeover, rows);
  run.signal(SIGCONT);
  EXPECT_EQ(run.wait(), 1) << read_text(s.dir + "/run.log");
  auto log = read_text(s.dir + "/run.log");
  EXPECT_NE(log.find("lost its lease replicate_io_lease_default_" + s.id +
                     " to host other-host, pid 4242"),
            std::string::npos)
    << log;
  // Not one entry was committed after the takeover, and the checkpoint
  // agrees with the stream.
  EXPECT_EQ(stream_length(*r, stream), at_takeover);
  EXPECT_EQ(checkpoint_rows(*r, ckpt, stream), at_takeover);
  clean(*r, s, stream);
}

TEST(redis_acl, multi_revoked_mid_run_leaves_no_entry_outside_a_transaction) {
  constexpr long long rows = 400000;
  make_table("trib_safety_revoke", rows);
  auto r = redis();
  const std::string user = "trib_safety_revoke";
  auto set = r->command({"ACL", "SETUSER", user, "reset", "on", ">pw", "~*", "&*", "+@all"});
  ASSERT_EQ(set.type, redis_reply::kind::status) << set.str;
  auto s = make_setup("revoke", "trib_safety_revoke",
                      "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " + std::to_string(redis_port()) +
                        "\nusername: " + user + "\npassword: pw\n");
  const std::string stream = "trib_safety_revoke_public_big";
  const std::string ckpt = "replicate_io_checkpoint_default_" + s.id;
  clean(*r, s, stream);
  child_process run(s.args(), s.dir + "/run.log");
  ASSERT_TRUE(wait_until([&] { return !run.running() || stream_length(*r, stream) >= 20000; },
                         std::chrono::seconds(60), std::chrono::milliseconds(2)));
  // The user loses MULTI mid-run. Were a write's XADDs sent behind a
  // MULTI not yet answered, they would run on their own, ahead of the
  // checkpoint. Sampled atomically until the run ends: at no moment does
  // the stream hold an entry its checkpoint does not cover.
  r->command({"ACL", "SETUSER", user, "-multi"});
  long long samples = 0, ahead = 0;
  ASSERT_TRUE(wait_until(
    [&] {
      auto tx = r->pipeline({{"MULTI"}, {"XLEN", stream}, {"HGET", ckpt, stream}, {"EXEC"}});
      const auto& got = tx.back().elements;
      if (got.size() == 2) {
        auto at = got[1].type == redis_reply::kind::string ? got[1].str.find("\"rows\":")
                                                           : std::string::npos;
        long long covered = at == std::string::npos ? 0 : std::stoll(got[1].str.substr(at + 7));
        ++samples;
        if (got[0].integer > covered) ++ahead;
      }
      return !run.running();
    },
    std::chrono::seconds(60), std::chrono::milliseconds(1)));
  int code = run.wait();
  auto log = read_text(s.dir + "/run.log");
  EXPECT_GT(samples, 0);
  EXPECT_EQ(ahead, 0) << "entries beyond the checkpoint in " << ahead << " of " << samples
                      << " samples";
  // The run stops at the refusal: nothing was sent behind it, so nothing
  // had to be taken back.
  EXPECT_NE(code, 0) << log;
  EXPECT_NE(log.find("refused MULTI"), std::string::npos) << log;
  EXPECT_EQ(log.find("undoes a partial write"), std::string::npos) << log;
  long long len = stream_length(*r, stream);
  EXPECT_LT(len, rows);
  EXPECT_EQ(len, std::max(0LL, checkpoint_rows(*r, ckpt, stream))) << log;

  r->command({"ACL", "SETUSER", user, "+multi"});
  auto res = run_tributary(s.line("--resume"));
  EXPECT_EQ(res.exit_code, 0) << res.output;
  EXPECT_EQ(stream_length(*r, stream), rows);
  r->command({"ACL", "DELUSER", user});
  clean(*r, s, stream);
}
