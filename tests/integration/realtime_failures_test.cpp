// Realtime write failures on real servers (design section 7): a table whose
// stream Redis refuses stops while the others go on, its change kept at the
// slot, and --resume after the fix continues it exactly there; each test
// checks that the other tables got every change exactly once.

#include <cstdlib>

#include "tests/integration/private_redis.hpp"
#include "tests/integration/realtime_fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

class realtime_failures : public realtime {
protected:
  std::string user() { return "trib_fail_" + name_; }
  std::string log() { return read_text(dir_ + "/run.log"); }
  std::string error_log() { return read_text(dir_ + "/data/" + id_ + "/error.log"); }

  /// The run writes as an ACL user of its own that may do everything.
  void as_target_user() {
    ASSERT_EQ(r_->command({"ACL", "SETUSER", user(), "reset", "on", ">pw", "~*", "&*", "+@all"}).str,
              "OK");
    write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                     std::to_string(redis_port()) + "\nusername: " + user() +
                                     "\npassword: pw\nmax-retries: 2\nretry-wait-duration-ms: 20\n");
  }
  /// The user may touch only the replication's own keys and `allowed`.
  void allow_only(const std::vector<std::string>& allowed) {
    std::vector<std::string> argv{"ACL", "SETUSER", user(), "resetkeys", "~replicate_io_*"};
    for (const auto& k : allowed) argv.push_back("~" + k);
    ASSERT_EQ(r_->command(argv).str, "OK");
  }
  void allow_all() {
    ASSERT_EQ(r_->command({"ACL", "SETUSER", user(), "resetkeys", "~*"}).str, "OK");
  }
  void TearDown() override {
    if (r_) r_->command({"ACL", "DELUSER", user()});
    realtime::TearDown();
  }
  /// XDEL taken away while an undo is needed (issue 12, point 3): a
  /// transaction of two rows of `a` whose first row commits and whose
  /// second is refused for good, whatever the writes it takes. The first
  /// row's entry, and only it, goes to the in-doubt log as a line redis-cli
  /// runs; `a` stops before the transaction, `ok` goes on exactly once; exit
  /// code 3, and the summary and error.log name it. After the user's cleanup
  /// (the log through redis-cli) and fix, --resume writes the transaction
  /// once.
  void undo_refused_xdel(const std::string& name, const std::string& applier_text) {
    use(name);
    applier(applier_text);
    as_target_user();
    sql db(db_);
    db.exec("CREATE TABLE a(id int PRIMARY KEY); CREATE TABLE ok(id int PRIMARY KEY)");
    start("realtime");
    db.exec("INSERT INTO a VALUES (1)");
    db.exec("INSERT INTO ok VALUES (1)");
    ASSERT_TRUE(wait_entries(stream("a"), 1)) << log();
    ASSERT_TRUE(wait_entries(stream("ok"), 1)) << log();
    auto first = read_stream(*r_, stream("a")).at(0).id;
    auto checkpoint_before = r_->command({"HGET", ckpt(), stream("a")}).str;
    // The deterministic fault: the stream's last ID one below the largest a
    // stream has, so it takes exactly one more entry and refuses the next
    // ("ERR The stream has exhausted the last possible ID"), a permanent
    // refusal, whatever the timing.
    const std::string last_but_one = "18446744073709551615-18446744073709551614";
    const std::string last = "18446744073709551615-18446744073709551615";
    ASSERT_EQ(r_->command({"XSETID", stream("a"), last_but_one}).str, "OK");
    ASSERT_EQ(r_->command({"ACL", "SETUSER", user(), "-xdel"}).str, "OK");
    auto refused = exec_xid(db, "INSERT INTO a VALUES (2), (3)");
    db.exec("INSERT INTO ok VALUES (2)");
    db.exec("INSERT INTO a VALUES (4)");
    db.exec("INSERT INTO ok VALUES (3)");
    ASSERT_TRUE(wait_entries(stream("ok"), 3)) << log();
    auto in_doubt_log = dir_ + "/data/" + id_ + "/bad_rows/replicate_io_indoubt_txn_log";
    ASSERT_TRUE(wait_until([&] {
      return error_log().find("stops " + db_ + ".public.a in " + stream("a")) != std::string::npos;
    }, 30s)) << log();
    // Exactly the entry of the transaction that is in the stream.
    auto entries = read_stream(*r_, stream("a"));
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[1].id, last);
    EXPECT_EQ(read_text(in_doubt_log), "XDEL " + stream("a") + " " + last + "\n");
    EXPECT_NE(error_log().find("in doubt"), std::string::npos) << error_log();
    EXPECT_NE(error_log().find("XDEL " + stream("a") + " " + last), std::string::npos)
      << error_log();
    // The checkpoint went back before the transaction.
    EXPECT_EQ(r_->command({"HGET", ckpt(), stream("a")}).str, checkpoint_before)
      << "the checkpoint is not the one before the failed transaction";
    EXPECT_EQ(stop(), 3) << log();
    auto summary = last_summary();
    EXPECT_EQ(summary.at("in_doubt_entries").to_number<int64_t>(), 1) << json::serialize(summary);
    EXPECT_EQ(summary.at("in_doubt_log").as_string(), in_doubt_log);
    ASSERT_EQ(summary.at("skipped").as_array().size(), 1u) << json::serialize(summary);
    EXPECT_NE(std::string(summary.at("skipped").as_array()[0].at("table").as_string()).find(".a"),
              std::string::npos);
    EXPECT_EQ(ids_in(stream("ok")), (std::vector<int64_t>{1, 2, 3}));
    EXPECT_TRUE(slot_keeps(refused)) << "the slot moved past the change it did not write";
    // The user's cleanup: the log pasted into the real redis-cli.
    auto cli = "redis-cli -h 127.0.0.1 -p " + std::to_string(redis_port()) + " < " +
               in_doubt_log + " > /dev/null";
    ASSERT_EQ(std::system(cli.c_str()), 0);
    EXPECT_EQ(ids_in(stream("a")), (std::vector<int64_t>{1}));
    // The fix: the stream's last ID back to its last entry, XDEL given back.
    ASSERT_EQ(r_->command({"XSETID", stream("a"), first}).str, "OK");
    ASSERT_EQ(r_->command({"ACL", "SETUSER", user(), "+xdel"}).str, "OK");
    std::filesystem::remove(in_doubt_log);
    start("realtime", {"--resume"});
    ASSERT_TRUE(wait_entries(stream("a"), 4)) << log();
    db.exec("INSERT INTO ok VALUES (4)");
    db.exec("INSERT INTO a VALUES (5)");
    ASSERT_TRUE(wait_entries(stream("ok"), 4)) << log();
    ASSERT_TRUE(wait_entries(stream("a"), 5)) << log();
    EXPECT_EQ(stop(), 0) << log();
    EXPECT_EQ(ids_in(stream("a")), (std::vector<int64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(ids_in(stream("ok")), (std::vector<int64_t>{1, 2, 3, 4}));
    EXPECT_FALSE(std::filesystem::exists(in_doubt_log));
  }
  std::vector<int64_t> ids_in(const std::string& s) {
    std::vector<int64_t> out;
    for (const auto& c : changes(s)) out.push_back(c.after.at("id").as_int64());
    return out;
  }
};

}  // namespace

// NOPERM on one table's stream under EVENTUAL: that table stops before the
// refused change, the other goes on; exit code 3, named in error.log, the
// summary and the metrics; --resume after the fix writes the table's changes
// from there, once.
TEST_F(realtime_failures, noperm_on_one_stream_stops_that_table_and_resume_continues_it) {
  use("noperm");
  as_target_user();
  sql db(db_);
  db.exec("CREATE TABLE a(id int PRIMARY KEY); CREATE TABLE ok(id int PRIMARY KEY)");
  start("realtime");
  db.exec("INSERT INTO a VALUES (1)");
  db.exec("INSERT INTO ok VALUES (1)");
  ASSERT_TRUE(wait_entries(stream("a"), 1)) << log();
  ASSERT_TRUE(wait_entries(stream("ok"), 1)) << log();
  allow_only({stream("ok")});
  auto refused = exec_xid(db, "INSERT INTO a VALUES (2)");
  db.exec("INSERT INTO ok VALUES (2)");
  db.exec("INSERT INTO a VALUES (3)");
  db.exec("INSERT INTO ok VALUES (3)");
  ASSERT_TRUE(wait_entries(stream("ok"), 3)) << log();
  ASSERT_TRUE(wait_until([&] {
    return error_log().find("stops " + db_ + ".public.a in " + stream("a")) != std::string::npos;
  }, 30s)) << log();
  EXPECT_NE(error_log().find("NOPERM"), std::string::npos) << error_log();
  EXPECT_EQ(stop(), 3) << log();
  EXPECT_EQ(ids_in(stream("a")), (std::vector<int64_t>{1}));
  EXPECT_EQ(ids_in(stream("ok")), (std::vector<int64_t>{1, 2, 3}));
  auto summary = last_summary();
  ASSERT_EQ(summary.at("skipped").as_array().size(), 1u) << json::serialize(summary);
  EXPECT_NE(std::string(summary.at("skipped").as_array()[0].at("table").as_string()).find(".a"),
            std::string::npos);
  EXPECT_TRUE(slot_keeps(refused)) << "the slot moved past the change it did not write";
  allow_all();
  start("realtime", {"--resume"});
  db.exec("INSERT INTO ok VALUES (4)");
  ASSERT_TRUE(wait_entries(stream("ok"), 4)) << log();
  ASSERT_TRUE(wait_entries(stream("a"), 3)) << log();
  EXPECT_EQ(stop(), 0) << log();
  EXPECT_EQ(ids_in(stream("a")), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(ids_in(stream("ok")), (std::vector<int64_t>{1, 2, 3, 4}));
}

// Under GLOBAL the refused stream is every table's: they stop together one
// checkpoint before the change, the run ends by itself with exit code 3,
// and --resume writes everything from there once.
TEST_F(realtime_failures, noperm_on_the_global_stream_stops_every_table_and_resume_continues) {
  use("nopermglobal");
  applier("realtime:\n  replay-consistency: GLOBAL\n");
  as_target_user();
  sql db(db_);
  db.exec("CREATE TABLE a(id int PRIMARY KEY); CREATE TABLE ok(id int PRIMARY KEY)");
  start("realtime");
  auto global = "replicate_io_cdc_logs_default_" + id_;
  db.exec("INSERT INTO a VALUES (1)");
  ASSERT_TRUE(wait_entries(global, 1)) << log();
  // replicate_io_* stays allowed: the global stream is denied by name.
  ASSERT_EQ(r_->command({"ACL", "SETUSER", user(), "resetkeys", "~replicate_io_checkpoint_*",
                         "~replicate_io_lease*", "~replicate_io_replication_schema_*"})
              .str,
            "OK");
  auto refused = exec_xid(db, "INSERT INTO ok VALUES (1)");
  db.exec("INSERT INTO a VALUES (2)");
  ASSERT_TRUE(wait_until([&] { return !child_->running(); }, 60s)) << log();
  EXPECT_EQ(child_->wait(), 3) << log();
  EXPECT_EQ(stream_length(*r_, global), 1);
  EXPECT_EQ(last_summary().at("skipped").as_array().size(), 2u) << json::serialize(last_summary());
  EXPECT_TRUE(slot_keeps(refused)) << "the slot moved past the change it did not write";
  allow_all();
  start("realtime", {"--resume"});
  ASSERT_TRUE(wait_entries(global, 3)) << log();
  db.exec("INSERT INTO ok VALUES (2)");
  ASSERT_TRUE(wait_entries(global, 4)) << log();
  EXPECT_EQ(stop(), 0) << log();
  auto all = changes(global);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1].after.at("id").as_int64(), 1);  // ok 1
  EXPECT_EQ(all[2].after.at("id").as_int64(), 2);  // a 2
  EXPECT_EQ(all[3].after.at("id").as_int64(), 2);  // ok 2
}

// Under EVENTUAL with batch-size-rows 1 the transaction is one batch of two
// writes: the first commits, the second is refused, and the batch's undo
// cannot delete the first write's entry.
TEST_F(realtime_failures, an_undo_refused_xdel_leaves_the_in_doubt_log_and_resume_continues) {
  undo_refused_xdel("indoubt", "realtime:\n  batch-size-rows: 1\n");
}

// In one write (the default batch-size-rows): Redis runs the rest of a
// transaction when one command fails, so the first row's entry is in; the
// writer's own undo of that partial write cannot delete it either.
TEST_F(realtime_failures, an_undo_refused_xdel_inside_one_write_leaves_the_in_doubt_log) {
  undo_refused_xdel("indoubtone", "");
}

// A stream key that holds another type (WRONGTYPE): permanent, not retried;
// the table stops, the other goes on; once the key is gone --resume writes
// the table from where it stopped.
TEST_F(realtime_failures, a_stream_key_of_another_type_stops_its_table) {
  use("wrongtype");
  sql db(db_);
  db.exec("CREATE TABLE a(id int PRIMARY KEY); CREATE TABLE ok(id int PRIMARY KEY)");
  start("realtime");
  r_->command({"SET", stream("a"), "not a stream"});
  auto refused = exec_xid(db, "INSERT INTO a VALUES (1)");
  db.exec("INSERT INTO ok VALUES (1)");
  db.exec("INSERT INTO a VALUES (2)");
  db.exec("INSERT INTO ok VALUES (2)");
  ASSERT_TRUE(wait_entries(stream("ok"), 2)) << log();
  ASSERT_TRUE(wait_until([&] {
    return error_log().find("stops " + db_ + ".public.a in " + stream("a")) != std::string::npos;
  }, 30s)) << log();
  EXPECT_NE(error_log().find("WRONGTYPE"), std::string::npos) << error_log();
  EXPECT_EQ(stop(), 3) << log();
  EXPECT_TRUE(slot_keeps(refused)) << "the slot moved past the change it did not write";
  r_->command({"DEL", stream("a")});
  start("realtime", {"--resume"});
  ASSERT_TRUE(wait_entries(stream("a"), 2)) << log();
  db.exec("INSERT INTO ok VALUES (3)");
  ASSERT_TRUE(wait_entries(stream("ok"), 3)) << log();
  EXPECT_EQ(stop(), 0) << log();
  EXPECT_EQ(ids_in(stream("a")), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ids_in(stream("ok")), (std::vector<int64_t>{1, 2, 3}));
}

// Redis at maxmemory mid-realtime (noeviction, and no pause before it:
// memory-threshold-percentage 0): every write meets OOM, which is retried;
// once memory is freed both tables get every change exactly once, in order.
TEST_F(realtime_failures, redis_at_maxmemory_is_ridden_through_without_loss_or_doubles) {
  use("oom");
  auto server = std::make_unique<private_redis>(
    std::vector<std::string>{"--maxmemory-policy", "noeviction"});
  r_ = server->connect();
  write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                   std::to_string(server->port()) +
                                   "\nmax-retries: 30\nretry-wait-duration-ms: 50\n"
                                   "memory-threshold-percentage: 0\n");
  sql db(db_);
  db.exec("CREATE TABLE a(id int PRIMARY KEY); CREATE TABLE ok(id int PRIMARY KEY)");
  start("realtime");
  db.exec("INSERT INTO a VALUES (1)");
  ASSERT_TRUE(wait_entries(stream("a"), 1)) << log();
  // 8 MB of ballast, then a maxmemory under what is used.
  r_->command({"SET", "ballast", std::string(8u << 20, 'x')});
  ASSERT_EQ(r_->command({"CONFIG", "SET", "maxmemory", "4mb"}).str, "OK");
  db.exec("INSERT INTO a VALUES (2)");
  db.exec("INSERT INTO ok VALUES (1)");
  db.exec("BEGIN; INSERT INTO a VALUES (3); INSERT INTO ok VALUES (2); COMMIT");
  ASSERT_TRUE(wait_until([&] { return error_log().find("OOM") != std::string::npos; }, 30s))
    << log();
  EXPECT_EQ(stream_length(*r_, stream("a")), 1);
  r_->command({"DEL", "ballast"});
  ASSERT_TRUE(wait_entries(stream("a"), 3)) << log();
  ASSERT_TRUE(wait_entries(stream("ok"), 2)) << log();
  EXPECT_EQ(stop(), 0) << log();
  EXPECT_EQ(ids_in(stream("a")), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(ids_in(stream("ok")), (std::vector<int64_t>{1, 2}));
  clean_redis();
  r_.reset();
}

// One max-retries (issue 12, one retry policy): Redis at maxmemory refuses
// every write (OOM, retryable). The writer's own retries and the
// supervisor's batch retries count together, so the write is tried
// max-retries + 1 times in all -- Redis counts the refused XADDs -- before
// the table stops; the only table stopped, the run ends by itself, exit 3.
TEST_F(realtime_failures, a_retryable_failure_is_tried_max_retries_plus_one_times) {
  use("retrycount");
  private_redis server({"--maxmemory-policy", "noeviction"});
  r_ = server.connect();
  write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                   std::to_string(server.port()) +
                                   "\nmax-retries: 3\nretry-wait-duration-ms: 20\n"
                                   "memory-threshold-percentage: 0\n");
  sql db(db_);
  db.exec("CREATE TABLE a(id int PRIMARY KEY)");
  start("realtime");
  db.exec("INSERT INTO a VALUES (1)");
  ASSERT_TRUE(wait_entries(stream("a"), 1)) << log();
  ASSERT_EQ(r_->command({"CONFIG", "RESETSTAT"}).str, "OK");
  r_->command({"SET", "ballast", std::string(8u << 20, 'x')});
  ASSERT_EQ(r_->command({"CONFIG", "SET", "maxmemory", "4mb"}).str, "OK");
  auto refused = exec_xid(db, "INSERT INTO a VALUES (2)");
  ASSERT_TRUE(wait_until([&] { return !child_->running(); }, 60s)) << log();
  EXPECT_EQ(child_->wait(), 3) << log();
  // The XADDs Redis refused: one per attempt (each attempt is MULTI, XADD,
  // HSET, EXEC, all refused but MULTI).
  auto stats = r_->command({"INFO", "commandstats"}).str;
  ASSERT_NE(stats.find("cmdstat_xadd:"), std::string::npos) << stats;
  auto line = stats.substr(stats.find("cmdstat_xadd:"));
  line = line.substr(0, line.find('\r'));
  EXPECT_NE(line.find(",rejected_calls=4,"), std::string::npos) << line << "\n" << log();
  EXPECT_NE(line.find("cmdstat_xadd:calls=0,"), std::string::npos) << line;
  EXPECT_EQ(stream_length(*r_, stream("a")), 1);
  EXPECT_TRUE(slot_keeps(refused)) << "the slot moved past the change it did not write";
  r_->command({"DEL", "ballast"});
  clean_redis();
  r_.reset();
}
