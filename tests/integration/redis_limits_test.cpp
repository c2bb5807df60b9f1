// Redis's limits (issue 14, design section 11): a writer pauses while Redis
// is near its maxmemory instead of collecting OOM replies, and resumes when
// memory is freed, with the snapshot still delivered exactly once.

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <set>
#include <string>

#include "tests/integration/fixture.hpp"
#include "tests/integration/private_redis.hpp"

using namespace trib;
using namespace trib::test;

namespace {

// A PostgreSQL table `big` of `rows` rows of about 250 bytes in `db`.
void make_table(const std::string& db, long long rows) {
  pg_fresh_database(db);
  pg_exec(db, "CREATE TABLE big(id bigint PRIMARY KEY, note text);"
              "INSERT INTO big SELECT g, 'row ' || g || repeat('x', 200) FROM generate_series(1, " +
                std::to_string(rows) + ") g; ANALYZE big;");
}

// The files of one snapshot replication of `db` into the Redis of `dst_yaml`.
struct setup {
  std::string dir, src, dst, applier, filter, id;
  std::vector<std::string> args() const {
    return {"snapshot", src, dst, "--applier", applier, "--filter", filter,
            "--id", id, "--data-dir", dir + "/data"};
  }
};

setup make_setup(const std::string& name, const std::string& db, const std::string& dst_yaml,
                 const std::string& applier_extra = "") {
  setup s;
  s.dir = fresh_dir("trib_limits_" + name);
  s.id = "limits_" + name;
  s.src = write_file(s.dir + "/src.yaml", pg_source(db));
  s.dst = write_file(s.dir + "/redis.yaml", dst_yaml);
  s.applier = write_file(s.dir + "/applier.yaml",
                         "snapshot:\n  threads: 1\n  batch-size-rows: 1000\n"
                         "message:\n  include-schema: false\n" + applier_extra);
  s.filter = write_file(s.dir + "/filter.yaml",
                        "allow:\n- catalog: " + db + "\n  schema: public\n  types: [TABLE]\n");
  return s;
}

// A field of INFO's text ("" when absent).
std::string info_field(redis_client& r, const std::string& section, const std::string& name) {
  auto text = r.command({"INFO", section}).str;
  auto at = text.find("\n" + name + ":");
  if (at == std::string::npos) return "";
  at += name.size() + 2;
  return text.substr(at, text.find('\r', at) - at);
}

// Distinct keys of a stream's entries, and its entry count.
std::pair<size_t, size_t> keys_and_entries(redis_client& r, const std::string& stream) {
  std::set<std::string> keys;
  auto entries = read_stream(r, stream);
  for (const auto& e : entries) keys.insert(e.key);
  return {keys.size(), entries.size()};
}

}  // namespace

TEST(redis_memory, a_snapshot_pauses_near_maxmemory_and_completes_once_memory_is_freed) {
  constexpr long long rows = 50000;  // about 20 MB in the stream
  make_table("trib_limits_mem", rows);
  private_redis server({"--maxmemory", "64mb", "--maxmemory-policy", "noeviction"});
  auto& r = server.client();
  // Ballast up to 24 MB: the snapshot's 20 MB cross the 50% threshold (32
  // MB) part way, and stay far below maxmemory (no OOM possible yet).
  const std::string mb(1u << 20, 'b');
  int ballast = 0;
  while (std::stoull(info_field(r, "memory", "used_memory")) < (24ull << 20))
    ASSERT_EQ(r.command({"SET", "ballast_" + std::to_string(ballast++), mb}).str, "OK");
  auto s = make_setup("mem", "trib_limits_mem",
                      server.conn_yaml() + "memory-threshold-percentage: 50\n");
  const std::string stream = "trib_limits_mem_public_big";

  child_process run(s.args(), s.dir + "/run.log");
  ASSERT_TRUE(wait_until(
    [&] {
      return !run.running() ||
             read_text(s.dir + "/run.log").find("pauses writing to " + stream) !=
               std::string::npos;
    },
    std::chrono::seconds(120)))
    << read_text(s.dir + "/run.log");
  ASSERT_TRUE(run.running()) << "the snapshot ended without pausing: "
                             << read_text(s.dir + "/run.log");
  auto log = read_text(s.dir + "/run.log");
  EXPECT_NE(log.find("memory-threshold-percentage 50%"), std::string::npos) << log;
  // The writer paused right at the threshold, where Redis's own buffers can
  // tip used_memory either way; 8 MB more (still far below maxmemory) keep
  // it above.
  for (int i = 0; i < 8; ++i)
    ASSERT_EQ(r.command({"SET", "ballast_" + std::to_string(ballast++), mb}).str, "OK");
  // It stays paused: the writer reads INFO again and again (counted by
  // Redis, less this test's own INFO calls), and writes nothing meanwhile.
  auto info_calls = [&] {
    auto v = info_field(r, "commandstats", "cmdstat_info");
    return std::stoll(v.substr(6, v.find(',') - 6));  // "calls=N,..."
  };
  auto writer_reads = [&](long long n) {
    long long mine = 1, before = info_calls();
    return wait_until([&] { return info_calls() - before - ++mine >= n; },
                      std::chrono::seconds(30));
  };
  ASSERT_TRUE(writer_reads(2));
  auto in = stream_length(r, stream);
  EXPECT_GT(in, 0);
  EXPECT_LT(in, rows);
  ASSERT_TRUE(writer_reads(5));
  EXPECT_EQ(stream_length(r, stream), in) << "wrote while above the threshold";
  EXPECT_GT(std::stoull(info_field(r, "memory", "used_memory")), 32ull << 20);
  ASSERT_TRUE(run.running());

  for (int i = 0; i < ballast; ++i) r.command({"DEL", "ballast_" + std::to_string(i)});
  EXPECT_EQ(run.wait(), 0) << read_text(s.dir + "/run.log");
  log = read_text(s.dir + "/run.log");
  EXPECT_NE(log.find("resumes writing to " + stream), std::string::npos) << log;
  // Every row once, and no write was ever refused for memory.
  auto [keys, entries] = keys_and_entries(r, stream);
  EXPECT_EQ(keys, size_t(rows));
  EXPECT_EQ(entries, size_t(rows));
  EXPECT_EQ(info_field(r, "errorstats", "errorstat_OOM"), "") << "an OOM reply was met";
  EXPECT_EQ(log.find("OOM"), std::string::npos) << log;
}

// The applier's keys reach the writers of a snapshot run: the stream ends
// near stream-max-length with the table's last rows (tests/integration/
// stream_trim_test.cpp checks the trimming itself, with consumer groups).
TEST(redis_trim, a_snapshot_with_approximate_trimming_keeps_about_stream_max_length) {
  constexpr long long rows = 20000;
  make_table("trib_limits_trim", rows);
  private_redis server;
  auto s = make_setup("trim", "trib_limits_trim", server.conn_yaml(),
                      "stream-max-length: 1000\ntrim: APPROXIMATE\n");
  const std::string stream = "trib_limits_trim_public_big";
  child_process run(s.args(), s.dir + "/run.log");
  ASSERT_EQ(run.wait(), 0) << read_text(s.dir + "/run.log");
  auto& r = server.client();
  auto kept = stream_length(r, stream);
  // At least N; at most N, a tenth more, one write (512 KB, under 2,500 of
  // these rows) and one stream node (100 entries).
  EXPECT_GE(kept, 1000);
  EXPECT_LE(kept, 1000 + 100 + 2500 + 100);
  // Every row was written: the checkpoint counts them all.
  auto ckpt = r.command({"HGET", "replicate_io_checkpoint_default_" + s.id, stream}).str;
  EXPECT_NE(ckpt.find("\"rows\":" + std::to_string(rows)), std::string::npos) << ckpt;
}

// A target user who may not run INFO: one warning, and the snapshot is
// written without the pause.
TEST(redis_memory, a_user_without_info_writes_on_with_a_warning) {
  constexpr long long rows = 5000;
  make_table("trib_limits_noinfo", rows);
  private_redis server({"--maxmemory", "64mb"});
  auto& r = server.client();
  ASSERT_EQ(r.command({"ACL", "SETUSER", "noinfo", "reset", "on", ">pw", "~*", "&*", "+@all",
                       "-info"})
              .str,
            "OK");
  auto s = make_setup("noinfo", "trib_limits_noinfo",
                      server.conn_yaml() + "username: noinfo\npassword: pw\n");
  child_process run(s.args(), s.dir + "/run.log");
  ASSERT_EQ(run.wait(), 0) << read_text(s.dir + "/run.log");
  auto log = read_text(s.dir + "/run.log");
  auto warning = log.find("redis refuses INFO memory to the target user");
  EXPECT_NE(warning, std::string::npos) << log;
  EXPECT_EQ(log.find("redis refuses INFO memory", warning + 1), std::string::npos)
    << "warned more than once: " << log;
  EXPECT_EQ(stream_length(r, "trib_limits_noinfo_public_big"), rows);
}

// A stop (SIGTERM) while the writer is paused for memory: the pause is a
// timer, not a wait on the writer's thread, so the stop gets through at
// once instead of waiting for someone to free memory. The writes that
// waited are not written, the run says it was stopped (143), and --resume
// writes the rest of the table once memory is free.
TEST(redis_memory, a_stop_while_paused_for_memory_exits_at_once_and_resume_writes_the_rest) {
  constexpr long long rows = 50000;
  make_table("trib_limits_stop", rows);
  private_redis server({"--maxmemory", "64mb", "--maxmemory-policy", "noeviction"});
  auto& r = server.client();
  const std::string mb(1u << 20, 'b');
  int ballast = 0;
  while (std::stoull(info_field(r, "memory", "used_memory")) < (24ull << 20))
    ASSERT_EQ(r.command({"SET", "ballast_" + std::to_string(ballast++), mb}).str, "OK");
  auto s = make_setup("stop", "trib_limits_stop",
                      server.conn_yaml() + "memory-threshold-percentage: 50\n");
  const std::string stream = "trib_limits_stop_public_big";
  auto log_file = s.dir + "/run.log";
  {
    child_process run(s.args(), log_file);
    ASSERT_TRUE(wait_until(
      [&] {
        return !run.running() ||
               read_text(log_file).find("pauses writing to " + stream) != std::string::npos;
      },
      std::chrono::seconds(120)))
      << read_text(log_file);
    ASSERT_TRUE(run.running()) << "the snapshot ended without pausing: " << read_text(log_file);
    // Well above the threshold, so that nothing but the stop can end the
    // pause.
    for (int i = 0; i < 8; ++i)
      ASSERT_EQ(r.command({"SET", "ballast_" + std::to_string(ballast++), mb}).str, "OK");
    run.signal(SIGTERM);
    ASSERT_TRUE(wait_until([&] { return !run.running(); }, std::chrono::seconds(30)))
      << "still running 30 s after SIGTERM while paused: " << read_text(log_file);
    EXPECT_EQ(run.wait(), 143) << read_text(log_file);
  }
  auto log = read_text(log_file);
  EXPECT_NE(log.find("stops writing to " + stream), std::string::npos) << log;
  EXPECT_NE(log.find("--resume"), std::string::npos) << log;
  auto [keys_before, entries_before] = keys_and_entries(r, stream);
  EXPECT_EQ(keys_before, entries_before);
  EXPECT_LT(entries_before, size_t(rows));

  for (int i = 0; i < ballast; ++i) r.command({"DEL", "ballast_" + std::to_string(i)});
  auto args = s.args();
  args.push_back("--resume");
  child_process resume(args, s.dir + "/resume.log");
  EXPECT_EQ(resume.wait(), 0) << read_text(s.dir + "/resume.log");
  auto [keys, entries] = keys_and_entries(r, stream);
  EXPECT_EQ(keys, size_t(rows));
  EXPECT_EQ(entries, size_t(rows));
  EXPECT_EQ(info_field(r, "errorstats", "errorstat_OOM"), "") << "an OOM reply was met";
}
