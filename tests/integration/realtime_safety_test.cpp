// Realtime and full runs never harm the source or lose a change: a slot
// that is not Tributary's own is never dropped, a table PostgreSQL could
// not publish updates of is refused before anything is created, and a
// change that cannot be converted stops its table without being released at
// the slot, so that --resume writes it exactly once.

#include "actors/metrics/metrics.hpp"
#include "tests/integration/realtime_fixture.hpp"
#include "tests/local_http.hpp"

using namespace trib;
using namespace trib::test;

namespace {

class realtime_safety : public realtime {
protected:
  /// Runs the binary to its end (60 s at most) and returns its exit code.
  int run_to_end(const std::string& mode, std::vector<std::string> extra = {}) {
    std::filesystem::remove(dir_ + "/run.log");
    child_ = std::make_unique<child_process>(args(mode, std::move(extra)), dir_ + "/run.log");
    bool ended = wait_until([&] { return !child_->running(); }, 60s);
    EXPECT_TRUE(ended) << "still running: " << read_text(dir_ + "/run.log");
    if (!ended) child_->kill_now();
    return child_->wait();
  }

  std::string log() { return read_text(dir_ + "/run.log"); }

  /// plugin|database of the slot named after the test's database, or "".
  std::string slot_owner() {
    auto r = sql("postgres").rows("SELECT plugin || '|' || database FROM pg_replication_slots "
                                  "WHERE slot_name = '" + db_ + "'");
    return r.empty() ? "" : r[0][0];
  }
};

}  // namespace

// -- slots that are not Tributary's ------------------------------------------

TEST_F(realtime_safety, full_refuses_to_drop_a_slot_of_another_plugin_and_so_do_realtime_and_resume) {
  use("foreignplugin");
  sql db(db_);
  db.exec("CREATE TABLE t(id int PRIMARY KEY, v int)");
  db.exec("SELECT pg_create_logical_replication_slot('" + db_ + "', 'test_decoding')");
  for (auto [mode, extra] : {std::pair<std::string, std::vector<std::string>>{"full", {}},
                             {"full", {"--resume"}},
                             {"realtime", {}}}) {
    SCOPED_TRACE(mode + (extra.empty() ? "" : " " + extra[0]));
    EXPECT_EQ(run_to_end(mode, extra), 2) << log();
    EXPECT_NE(log().find("'" + db_ + "'"), std::string::npos) << log();
    EXPECT_NE(log().find("test_decoding"), std::string::npos) << log();
    EXPECT_NE(log().find(db_), std::string::npos) << log();
    EXPECT_EQ(slot_owner(), "test_decoding|" + db_);
  }
  EXPECT_EQ(log().find("drops replication slot"), std::string::npos) << log();
}

TEST_F(realtime_safety, full_refuses_to_drop_a_pgoutput_slot_of_another_database) {
  use("foreigndb");
  sql db(db_);
  db.exec("CREATE TABLE t(id int PRIMARY KEY, v int)");
  sql("postgres").exec("SELECT pg_create_logical_replication_slot('" + db_ + "', 'pgoutput')");
  EXPECT_EQ(run_to_end("full"), 2) << log();
  EXPECT_NE(log().find("database postgres"), std::string::npos) << log();
  EXPECT_EQ(slot_owner(), "pgoutput|postgres");
  EXPECT_EQ(run_to_end("realtime", {"--resume"}), 2) << log();
  EXPECT_EQ(slot_owner(), "pgoutput|postgres");
}

TEST_F(realtime_safety, full_drops_only_the_slot_it_created_itself) {
  use("ownslot");
  sql db(db_);
  db.exec("CREATE TABLE t(id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1)");
  // A pgoutput slot in the right database that someone else made.
  db.exec("SELECT pg_create_logical_replication_slot('" + db_ + "', 'pgoutput')");
  EXPECT_EQ(run_to_end("full"), 2) << log();
  EXPECT_NE(log().find("was not created by this replication"), std::string::npos) << log();
  EXPECT_EQ(slot_owner(), "pgoutput|" + db_);
  drop_slot();
  // Its own slot: recorded next to the checkpoint, and dropped by
  // --overwrite to export a fresh snapshot.
  start("full");
  EXPECT_EQ(stop(), 0) << log();
  auto record = r_->command({"HGET", ckpt(), "#replication_slot"});
  ASSERT_EQ(record.type, redis_reply::kind::string);
  EXPECT_NE(record.str.find("\"slot\":\"" + db_ + "\""), std::string::npos) << record.str;
  start("full", {"--overwrite"});
  db.exec("INSERT INTO t VALUES (2, 2)");
  ASSERT_TRUE(wait_entries(stream("t"), 1)) << log();
  EXPECT_EQ(stop(), 0) << log();
  EXPECT_NE(log().find("drops replication slot " + db_), std::string::npos) << log();
  EXPECT_EQ(stream_length(*r_, db_ + "_public_t"), 1);
  EXPECT_EQ(r_->command({"HGET", ckpt(), "#replication_slot"}).type, redis_reply::kind::string);
  // `snapshot --overwrite` would rewrite the streams while the slot stays
  // where it is: refused before anything is deleted.
  EXPECT_EQ(run_to_end("snapshot", {"--overwrite"}), 2) << log();
  EXPECT_NE(log().find("#replication_slot"), std::string::npos) << log();
  EXPECT_NE(log().find("'full --overwrite'"), std::string::npos) << log();
  EXPECT_EQ(stream_length(*r_, db_ + "_public_t"), 1);
  EXPECT_EQ(stream_length(*r_, stream("t")), 1);
  EXPECT_EQ(r_->command({"HGET", ckpt(), "#replication_slot"}).type, redis_reply::kind::string);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/data/" + id_ + "/trace.log"));
}

// -- tables PostgreSQL cannot publish updates of ---------------------------

TEST_F(realtime_safety, a_table_without_replica_identity_is_refused_before_anything_is_created) {
  use("nokey");
  sql db(db_);
  db.exec("CREATE TABLE nopk(id int, v int); INSERT INTO nopk VALUES (1, 1);"
          "CREATE TABLE nothing(id int PRIMARY KEY, v int); ALTER TABLE nothing REPLICA IDENTITY NOTHING;"
          "CREATE TABLE byindex(id int NOT NULL, v int); CREATE UNIQUE INDEX byindex_id ON byindex(id);"
          "ALTER TABLE byindex REPLICA IDENTITY USING INDEX byindex_id");
  for (const auto& mode : {"full", "realtime"}) {
    SCOPED_TRACE(mode);
    EXPECT_EQ(run_to_end(mode), 2) << log();
    EXPECT_NE(log().find("ALTER TABLE \"public\".\"nopk\" REPLICA IDENTITY FULL;"),
              std::string::npos) << log();
    EXPECT_NE(log().find("public.nothing has REPLICA IDENTITY NOTHING"), std::string::npos)
      << log();
    auto refusal = log().substr(log().find("REPLICA IDENTITY"));
    EXPECT_EQ(refusal.substr(0, refusal.find('\n')).find("byindex"), std::string::npos) << log();
  }
  // Nothing was created, and the source's own writes still work.
  EXPECT_TRUE(db.rows("SELECT 1 FROM pg_publication WHERE pubname = '" + db_ + "'").empty());
  EXPECT_EQ(slot_owner(), "");
  EXPECT_NO_THROW(db.exec("UPDATE nopk SET v = 2; DELETE FROM nopk WHERE id = 5;"
                          "UPDATE nothing SET v = 2"));
  // A snapshot needs no publication: it reads such tables.
  EXPECT_EQ(run_to_end("snapshot", {"--overwrite"}), 0) << log();
  EXPECT_EQ(stream_length(*r_, db_ + "_public_nopk"), 1);
  // Once the user gives them an identity, changes flow, and the index
  // identity was fine all along.
  db.exec("ALTER TABLE nopk REPLICA IDENTITY FULL; ALTER TABLE nothing REPLICA IDENTITY DEFAULT");
  start("realtime", {"--overwrite"});
  db.exec("UPDATE nopk SET v = 3; UPDATE byindex SET v = 1; INSERT INTO byindex VALUES (1, 1);"
          "UPDATE byindex SET v = 2 WHERE id = 1");
  ASSERT_TRUE(wait_entries(stream("nopk"), 1)) << log();
  ASSERT_TRUE(wait_entries(stream("byindex"), 2)) << log();
  EXPECT_EQ(stop(), 0) << log();
  EXPECT_NO_THROW(db.exec("UPDATE nopk SET v = 4; DELETE FROM nothing"));
}

// -- a change that cannot be converted ------------------------------------

// The applier setting under which a numeric NaN or Infinity cannot be
// written (a Kafka Connect Decimal has no form for them).
const std::string precise_decimals = "message:\n  decimal-handling: PRECISE\n";

TEST_F(realtime_safety, an_unconvertible_change_stops_its_table_and_resume_writes_it_once) {
  use("unconv");
  // PRECISE decimals are scaled integers, which a numeric NaN has none of.
  applier(precise_decimals);
  sql db(db_);
  db.exec("CREATE TABLE rt1(id int PRIMARY KEY, v numeric(10,2)); INSERT INTO rt1 VALUES (1, 1);"
          "CREATE TABLE ok(id int PRIMARY KEY, v int)");
  int metrics_port = free_port();
  start("full", {"--metrics", "127.0.0.1:" + std::to_string(metrics_port)});
  auto hello = exec_xid(db, "INSERT INTO rt1 VALUES (2, 'NaN')");
  db.exec("INSERT INTO ok VALUES (1, 1)");
  db.exec("INSERT INTO rt1 VALUES (3, 'NaN')");
  db.exec("INSERT INTO ok VALUES (2, 2)");
  // The other table goes on.
  ASSERT_TRUE(wait_entries(stream("ok"), 2)) << log();
  auto error_log = dir_ + "/data/" + id_ + "/error.log";
  ASSERT_TRUE(wait_until([&] {
    return read_text(error_log).find("public.rt1 in " + stream("rt1")) != std::string::npos;
  }, 30s)) << log();
  // Counted as a skipped table.
  std::string skip_metric = "tributary_tables_skipped_total{table=\"" + db_ +
                            ".public.rt1\",node=\"" + metrics::node_name() + "\"} 1";
  EXPECT_TRUE(wait_until([&] {
    return scrape(metrics_port).find(skip_metric) != std::string::npos;
  }, 10s)) << scrape(metrics_port);
  EXPECT_EQ(stop(), 3) << log();
  EXPECT_EQ(stream_length(*r_, stream("rt1")), 0);
  EXPECT_NE(read_text(error_log).find("NaN"), std::string::npos) << read_text(error_log);
  auto summary = last_summary();
  ASSERT_FALSE(summary.empty());
  EXPECT_EQ(summary.at("exit_code").as_int64(), 3);
  ASSERT_EQ(summary.at("skipped").as_array().size(), 1u) << json::serialize(summary);
  auto skipped = summary.at("skipped").as_array()[0].as_object();
  EXPECT_NE(std::string(skipped.at("table").as_string()).find("rt1"), std::string::npos);
  EXPECT_NE(std::string(skipped.at("reason").as_string()).find("NaN"), std::string::npos);
  // The slot kept the change.
  EXPECT_TRUE(slot_keeps(hello)) << "the slot moved past the change it did not write";
  // Restarted once the cause is fixed (decimals as strings now): the
  // stopped table continues where it stopped, the other skips what it has.
  applier("");
  start("full", {"--resume"});
  db.exec("INSERT INTO ok VALUES (3, 3)");
  ASSERT_TRUE(wait_entries(stream("ok"), 3)) << log();
  ASSERT_TRUE(wait_entries(stream("rt1"), 2)) << log();
  EXPECT_EQ(stop(), 0) << log();
  auto rt1 = changes(stream("rt1"));
  ASSERT_EQ(rt1.size(), 2u);
  EXPECT_EQ(rt1[0].after.at("id").as_int64(), 2);
  EXPECT_EQ(rt1[0].after.at("v").as_string(), "NaN");
  EXPECT_EQ(rt1[1].after.at("v").as_string(), "NaN");
  EXPECT_EQ(rt1[1].after.at("id").as_int64(), 3);
  auto ok = changes(stream("ok"));
  ASSERT_EQ(ok.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ok[i].after.at("id").as_int64(), i + 1);
}

// Under GLOBAL the stream is every table's: they all stop with it, and with
// no stream left the run ends by itself, exit code 3, both tables in the
// summary's skipped list.
TEST_F(realtime_safety, under_global_an_unconvertible_change_ends_the_run_without_releasing_it) {
  use("unconvglobal");
  applier(std::string("realtime:\n  replay-consistency: GLOBAL\n") + precise_decimals);
  sql db(db_);
  db.exec("CREATE TABLE rt1(id int PRIMARY KEY, v numeric(10,2)); "
          "CREATE TABLE ok(id int PRIMARY KEY, v int)");
  start("realtime");
  auto global = "replicate_io_cdc_logs_default_" + id_;
  db.exec("INSERT INTO rt1 VALUES (1, 1)");
  ASSERT_TRUE(wait_entries(global, 1)) << log();
  // A table outside the run's publication.
  db.exec("CREATE TABLE other(id int)");
  auto before_change = db.rows("SELECT pg_current_wal_insert_lsn()::text")[0][0];
  // The change's transaction stays open while another commits. The idle run
  // confirms the keepalive position after that one, which lies inside the
  // open transaction (past before_change): allowed, since PostgreSQL sends
  // again every transaction that commits at or after the confirmed position.
  sql open(db_);
  open.exec("BEGIN");
  auto hello = exec_xid(open, "INSERT INTO rt1 VALUES (2, 'NaN')");
  db.exec("INSERT INTO other VALUES (1)");
  ASSERT_TRUE(wait_until([&] {
    return sql("postgres").rows("SELECT confirmed_flush_lsn > '" + before_change +
                                "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" +
                                db_ + "'")[0][0] == "t";
  }, 30s)) << "the idle run did not confirm the keepalive position: " << log();
  open.exec("COMMIT");
  db.exec("INSERT INTO ok VALUES (1, 1)");
  ASSERT_TRUE(wait_until([&] { return !child_->running(); }, 60s)) << log();
  EXPECT_EQ(child_->wait(), 3) << log();
  EXPECT_NE(log().find("public.rt1"), std::string::npos) << log();
  EXPECT_NE(log().find("NaN"), std::string::npos) << log();
  EXPECT_EQ(last_summary().at("skipped").as_array().size(), 2u) << json::serialize(last_summary());
  EXPECT_EQ(stream_length(*r_, global), 1);
  EXPECT_TRUE(slot_keeps(hello)) << "the slot moved past the change it did not write";
  // The run replicates the tables it began with.
  db.exec("DROP TABLE other");
  applier("realtime:\n  replay-consistency: GLOBAL\n");
  start("realtime", {"--resume"});
  ASSERT_TRUE(wait_entries(global, 3)) << log();
  EXPECT_EQ(stop(), 0) << log();
  auto all = changes(global);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].after.at("v").as_string(), "NaN");
  EXPECT_EQ(all[2].after.at("id").as_int64(), 1);
}

TEST_F(realtime_safety, under_eventual_without_skipping_an_unconvertible_change_ends_the_run) {
  use("unconvnoskip");
  const std::string eventual = "realtime:\n  replay-consistency: EVENTUAL\n  skip-tables-on-failures: false\n";
  applier(eventual + precise_decimals);
  sql db(db_);
  db.exec("CREATE TABLE rt1(id int PRIMARY KEY, v numeric(10,2)); "
          "CREATE TABLE ok(id int PRIMARY KEY, v int)");
  start("realtime");
  db.exec("INSERT INTO rt1 VALUES (1, 1)");
  ASSERT_TRUE(wait_entries(stream("rt1"), 1)) << log();
  auto hello = exec_xid(db, "INSERT INTO rt1 VALUES (2, 'NaN')");
  db.exec("INSERT INTO ok VALUES (1, 1)");
  // Not a skipped table: the whole run ends.
  ASSERT_TRUE(wait_until([&] { return !child_->running(); }, 60s)) << log();
  EXPECT_EQ(child_->wait(), 1) << log();
  EXPECT_NE(log().find("public.rt1"), std::string::npos) << log();
  EXPECT_NE(log().find("NaN"), std::string::npos) << log();
  EXPECT_EQ(stream_length(*r_, stream("rt1")), 1);
  EXPECT_TRUE(slot_keeps(hello)) << "the slot moved past the change it did not write";
  // Once decimals are strings, --resume writes the change once, and the
  // other table's change, written or not before the end, once too.
  applier(eventual);
  start("realtime", {"--resume"});
  db.exec("INSERT INTO ok VALUES (2, 2)");
  ASSERT_TRUE(wait_entries(stream("ok"), 2)) << log();
  ASSERT_TRUE(wait_entries(stream("rt1"), 2)) << log();
  EXPECT_EQ(stop(), 0) << log();
  auto rt1 = changes(stream("rt1"));
  ASSERT_EQ(rt1.size(), 2u);
  EXPECT_EQ(rt1[1].after.at("id").as_int64(), 2);
  EXPECT_EQ(rt1[1].after.at("v").as_string(), "NaN");
  auto ok = changes(stream("ok"));
  ASSERT_EQ(ok.size(), 2u);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(ok[i].after.at("id").as_int64(), i + 1);
}

// -- a Redis that holds nothing of the replication --------------------------

TEST_F(realtime_safety, resume_into_a_redis_without_the_replication_stops_and_names_its_checkpoint) {
  use("redisempty");
  sql db(db_);
  db.exec("CREATE TABLE t(id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1)");
  start("full");
  db.exec("INSERT INTO t VALUES (2, 2)");
  ASSERT_TRUE(wait_entries(stream("t"), 1)) << log();
  EXPECT_EQ(stop(), 0) << log();
  // Redis loses everything (emptied, or restarted without persistence);
  // the slot stays in the source, past the changes written.
  clean_redis();
  for (const std::string mode : {"realtime", "full"}) {
    SCOPED_TRACE(mode);
    EXPECT_EQ(run_to_end(mode, {"--resume"}), 1) << log();
    EXPECT_NE(log().find("redis holds no state of replication '" + id_ + "'"), std::string::npos)
      << log();
    EXPECT_NE(log().find(ckpt()), std::string::npos) << log();
    EXPECT_NE(log().find("--overwrite"), std::string::npos) << log();
    EXPECT_EQ(stream_length(*r_, stream("t")), 0);
    EXPECT_EQ(r_->command({"EXISTS", ckpt()}).integer, 0);
    EXPECT_EQ(slot_owner(), "pgoutput|" + db_);
  }
  // With the slot dropped (Redis no longer proves it this replication's),
  // --overwrite starts over: a fresh snapshot, then the changes.
  EXPECT_NE(log().find("pg_drop_replication_slot('" + db_ + "')"), std::string::npos) << log();
  drop_slot();
  start("full", {"--overwrite"});
  db.exec("INSERT INTO t VALUES (3, 3)");
  ASSERT_TRUE(wait_entries(stream("t"), 1)) << log();
  EXPECT_EQ(stop(), 0) << log();
  EXPECT_EQ(stream_length(*r_, db_ + "_public_t"), 2);
}
