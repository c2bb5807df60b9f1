// Realtime and full replication from the live PostgreSQL into the live Redis,
// through the tributary binary: message shapes, stream layouts, the
// snapshot-to-stream handoff, crashes with --resume (nothing lost, nothing
// twice), SIGTERM draining, a PostgreSQL restart, and DDL. Each test has its
// own database, slot, publication and --id, and removes them.

#include "actors/apply/envelope.hpp"
#include "tests/integration/realtime_fixture.hpp"

using namespace trib;
using namespace trib::test;
using namespace std::chrono_literals;
namespace json = boost::json;


TEST_F(realtime, inserts_updates_key_updates_deletes_and_truncates_arrive_in_commit_order) {
  use("ops");
  sql db(db_);
  db.exec("CREATE TABLE items(id int PRIMARY KEY, v text, n int)");
  start("realtime");
  db.exec("INSERT INTO items VALUES (1, 'a', 10), (2, 'b', 20)");
  db.exec("UPDATE items SET v = 'bb' WHERE id = 2");
  db.exec("UPDATE items SET id = 3 WHERE id = 1");
  db.exec("DELETE FROM items WHERE id = 2");
  db.exec("TRUNCATE items");
  ASSERT_TRUE(wait_entries(stream("items"), 9)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  auto c = changes(stream("items"));
  std::vector<std::string> ops;
  for (const auto& x : c) ops.push_back(x.op);
  EXPECT_EQ(ops, (std::vector<std::string>{"c", "c", "u", "d", "tombstone", "c", "d", "tombstone",
                                           "t"}));
  ASSERT_EQ(c.size(), 9u);
  EXPECT_EQ(key_payload(c[0].key), "{\"id\":1}");
  EXPECT_TRUE(c[0].before.is_null());
  EXPECT_EQ(c[0].after.at("v"), "a");
  EXPECT_EQ(c[0].after.at("n"), 10);
  // One transaction, two changes: same id, total_order 1 and 2.
  EXPECT_EQ(c[0].transaction.at("id"), c[1].transaction.at("id"));
  EXPECT_EQ(c[0].transaction.at("total_order"), 1);
  EXPECT_EQ(c[1].transaction.at("total_order"), 2);
  EXPECT_EQ(c[1].transaction.at("data_collection_order"), 2);
  EXPECT_EQ(c[0].source.at("txId").to_number<int64_t>(),
            std::stoll(std::string(c[0].transaction.at("id").as_string())));
  EXPECT_EQ(c[0].source.at("snapshot"), "false");
  EXPECT_GT(c[0].source.at("lsn").to_number<int64_t>(), 0);
  EXPECT_LT(c[0].source.at("lsn").to_number<int64_t>(), c[1].source.at("lsn").to_number<int64_t>());
  EXPECT_GT(c[0].source.at("ts_ms").to_number<int64_t>(), 1600000000000);
  // Update under REPLICA IDENTITY DEFAULT: before carries the key only.
  EXPECT_EQ(c[2].before.at("id"), 2);
  EXPECT_TRUE(c[2].before.at("v").is_null());
  EXPECT_EQ(c[2].after.at("v"), "bb");
  // The key update: delete of the old key, its tombstone, insert of the new.
  EXPECT_EQ(key_payload(c[3].key), "{\"id\":1}");
  EXPECT_EQ(c[3].before.at("id"), 1);
  EXPECT_EQ(key_payload(c[4].key), "{\"id\":1}");
  EXPECT_EQ(key_payload(c[5].key), "{\"id\":3}");
  EXPECT_EQ(c[5].after.at("v"), "a");
  EXPECT_EQ(c[3].transaction.at("id"), c[5].transaction.at("id"));
  // Two events, two places, as Debezium numbers them: the delete first.
  EXPECT_EQ(c[3].transaction.at("total_order"), 1);
  EXPECT_EQ(c[3].transaction.at("data_collection_order"), 1);
  EXPECT_EQ(c[5].transaction.at("total_order"), 2);
  EXPECT_EQ(c[5].transaction.at("data_collection_order"), 2);
  EXPECT_EQ(key_payload(c[7].key), "{\"id\":2}");
  EXPECT_EQ(c[8].key, "default");
  // Drained and confirmed: the slot has everything.
  auto slot = sql("postgres").rows(
    "SELECT confirmed_flush_lsn >= pg_current_wal_insert_lsn() - 0 OR confirmed_flush_lsn > '" +
    std::string("0/0") + "' FROM pg_replication_slots WHERE slot_name = '" + db_ + "'");
  ASSERT_EQ(slot.size(), 1u);
  auto ck = r_->command({"HGET", "replicate_io_checkpoint_default_" + id_, stream("items")});
  EXPECT_NE(ck.str.find("\"commit\""), std::string::npos) << ck.str;
}

TEST_F(realtime, replica_identity_full_sends_the_whole_before_image_and_toast_is_marked) {
  use("full_identity");
  sql db(db_);
  db.exec("CREATE TABLE f(id int PRIMARY KEY, v text, doc text);"
          "ALTER TABLE f REPLICA IDENTITY FULL;"
          "CREATE TABLE d(id int PRIMARY KEY, v text, doc text);"
          "ALTER TABLE f ALTER COLUMN doc SET STORAGE EXTERNAL;"
          "ALTER TABLE d ALTER COLUMN doc SET STORAGE EXTERNAL");
  // Uncompressed and large: stored out of line, so an update that leaves it
  // alone sends it as "unchanged TOAST".
  std::string big = "repeat('x', 10000)";
  db.exec("INSERT INTO f VALUES (1, 'a', " + big + "); INSERT INTO d VALUES (1, 'a', " + big + ")");
  start("realtime");
  db.exec("UPDATE f SET v = 'b' WHERE id = 1");
  db.exec("UPDATE d SET v = 'b' WHERE id = 1");
  db.exec("DELETE FROM f WHERE id = 1");
  ASSERT_TRUE(wait_entries(stream("f"), 3)) << read_text(dir_ + "/run.log");
  ASSERT_TRUE(wait_entries(stream("d"), 1)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0);
  auto f = changes(stream("f"));
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].op, "u");
  EXPECT_EQ(f[0].before.at("v"), "a");
  EXPECT_EQ(f[0].before.at("doc").as_string().size(), 10000u);
  // The full old image has the unchanged value: taken from there.
  EXPECT_EQ(f[0].after.at("doc").as_string().size(), 10000u);
  EXPECT_EQ(f[1].op, "d");
  EXPECT_EQ(f[1].before.at("v"), "b");
  auto d = changes(stream("d"));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].after.at("v"), "b");
  EXPECT_EQ(d[0].after.at("doc"), "__debezium_unavailable_value");
}

TEST_F(realtime, global_consistency_writes_one_stream_in_commit_order) {
  use("global");
  applier("realtime:\n  replay-consistency: GLOBAL\nmessage:\n  op-codes: VERBOSE\n");
  sql db(db_);
  db.exec("CREATE TABLE a(id int PRIMARY KEY); CREATE TABLE b(id int PRIMARY KEY)");
  start("realtime");
  sql other(db_);
  // Interleaved: b's transaction commits first although a's began first.
  db.exec("BEGIN; INSERT INTO a VALUES (1)");
  other.exec("BEGIN; INSERT INTO b VALUES (1); INSERT INTO a VALUES (100); COMMIT");
  db.exec("INSERT INTO b VALUES (2); COMMIT");
  db.exec("INSERT INTO a VALUES (3)");
  auto global = "replicate_io_cdc_logs_default_" + id_;
  ASSERT_TRUE(wait_entries(global, 5)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0);
  auto c = changes(global);
  ASSERT_EQ(c.size(), 5u);
  std::vector<std::string> seen;
  for (const auto& x : c)
    seen.push_back(std::string(x.source.at("table").as_string()) + json::serialize(x.after.at("id")) +
                   "/" + json::serialize(x.transaction.at("total_order")) + "/" +
                   json::serialize(x.transaction.at("data_collection_order")));
  EXPECT_EQ(seen, (std::vector<std::string>{"b1/1/1", "a100/2/1", "a1/1/1", "b2/2/1", "a3/1/1"}));
  EXPECT_EQ(c[0].op, "INSERT");
  EXPECT_EQ(stream_length(*r_, stream("a")), 0);
}

TEST_F(realtime, split_stream_false_puts_snapshot_rows_and_changes_in_one_stream) {
  use("split");
  applier("split-stream: false\n");
  sql db(db_);
  db.exec("CREATE TABLE s(id int PRIMARY KEY, v text); INSERT INTO s SELECT g, 'v' FROM generate_series(1, 50) g");
  start("full");
  ASSERT_TRUE(wait_entries(db_ + "_public_s", 50)) << read_text(dir_ + "/run.log");
  db.exec("UPDATE s SET v = 'w' WHERE id = 7; INSERT INTO s VALUES (51, 'n')");
  ASSERT_TRUE(wait_entries(db_ + "_public_s", 52)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0);
  auto c = changes(db_ + "_public_s");
  ASSERT_EQ(c.size(), 52u);
  EXPECT_EQ(c[0].op, "r");
  EXPECT_EQ(c[49].source.at("snapshot"), "last");
  EXPECT_EQ(c[50].op, "u");
  EXPECT_EQ(c[51].op, "c");
  EXPECT_EQ(stream_length(*r_, stream("s")), 0);
  auto ck = r_->command({"HGETALL", "replicate_io_checkpoint_default_" + id_});
  // The snapshot's field, the changes' field, the record of the slot and
  // the list of the run's tables (for incremental snapshots).
  EXPECT_EQ(ck.elements.size(), 8u);
}

TEST_F(realtime, full_mode_with_writes_during_the_snapshot_reconstructs_the_source_exactly) {
  use("handoff");
  applier("snapshot:\n  threads: 2\n  batch-size-rows: 100\nrealtime:\n  txn-size-rows: 50\n");
  // h is read in three key ranges (split-key), k whole: both hand over.
  write_file(dir_ + "/extractor.yaml",
             "snapshot:\n  threads: 3\n  fetch-size-rows: 100\n  per-table-config:\n"
             "  - catalog: " + db_ + "\n    schema: public\n    tables:\n      h:\n"
             "        split-key: id\n");
  sql db(db_);
  db.exec("CREATE TABLE h(id int PRIMARY KEY, v int); INSERT INTO h SELECT g, g FROM generate_series(1, 20000) g;"
          "CREATE TABLE k(id int PRIMARY KEY, v int); INSERT INTO k SELECT g, g FROM generate_series(1, 5000) g");
  std::atomic<bool> done{false};
  std::atomic<int> rounds{0};
  std::thread writer([&] {
    sql w(db_);
    for (int i = 0; !done && i < 100000; ++i) {
      w.exec("BEGIN; UPDATE h SET v = v + 1 WHERE id = " + std::to_string(1 + (i * 7919) % 20000) +
             "; DELETE FROM k WHERE id = " + std::to_string(1 + (i * 104729) % 5000) +
             "; INSERT INTO h VALUES (" + std::to_string(100000 + i) + ", " + std::to_string(i) +
             "); COMMIT");
      ++rounds;
    }
  });
  child_ = std::make_unique<child_process>(args("full", {"--extractor", dir_ + "/extractor.yaml"}),
                                           dir_ + "/run.log");
  // Writes keep going through the snapshot and after it.
  bool snapshot_done = wait_until([&] {
    return !child_->running() || read_text(dir_ + "/run.log").find("finishes the snapshot") != std::string::npos;
  }, 60s);
  int at_handoff = rounds.load();
  wait_until([&] { return rounds.load() > at_handoff + 50; }, 30s);
  done = true;
  writer.join();
  ASSERT_TRUE(snapshot_done && child_->running()) << read_text(dir_ + "/run.log");
  EXPECT_NE(read_text(dir_ + "/run.log").find("into 3 ranges of id"), std::string::npos);
  auto source_h = db.rows("SELECT id::text, v::text FROM h ORDER BY 1");
  auto source_k = db.rows("SELECT id::text, v::text FROM k ORDER BY 1");
  std::sort(source_h.begin(), source_h.end());
  std::sort(source_k.begin(), source_k.end());
  auto replayed = [&] {
    replay_state st;
    for (const auto& s : {db_ + "_public_h", stream("h"), db_ + "_public_k", stream("k")})
      for (const auto& e : read_stream(*r_, s)) replay_entry(st, e.key, e.value);
    return st;
  };
  bool equal = wait_until([&] {
    auto st = replayed();
    return replay_rows(st.tables["h"], {"id", "v"}) == source_h &&
           replay_rows(st.tables["k"], {"id", "v"}) == source_k;
  }, 60s);
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  auto st = replayed();
  EXPECT_TRUE(equal);
  EXPECT_EQ(replay_rows(st.tables["h"], {"id", "v"}), source_h);
  EXPECT_EQ(replay_rows(st.tables["k"], {"id", "v"}), source_k);
  EXPECT_GT(rounds.load(), 0);
}

TEST_F(realtime, full_mode_reads_a_split_key_table_in_ranges_then_streams_and_resumes) {
  use("fullsplit");
  applier("snapshot:\n  batch-size-rows: 500\n");
  write_file(dir_ + "/extractor.yaml",
             "snapshot:\n  threads: 3\n  fetch-size-rows: 500\n  per-table-config:\n"
             "  - catalog: " + db_ + "\n    schema: public\n    tables:\n      h:\n"
             "        split-key: id\n");
  sql db(db_);
  db.exec("CREATE TABLE h(id int PRIMARY KEY, v int); "
          "INSERT INTO h SELECT g, g FROM generate_series(1, 9000) g");
  start("full", {"--extractor", dir_ + "/extractor.yaml"});
  EXPECT_NE(read_text(dir_ + "/run.log").find("into 3 ranges of id"), std::string::npos)
    << read_text(dir_ + "/run.log");
  auto snapshot_stream = db_ + "_public_h";
  std::map<int64_t, int> seen;
  for (const auto& e : read_stream(*r_, snapshot_stream))
    ++seen[replay_payload(json::parse(e.value)).at("after").at("id").as_int64()];
  EXPECT_EQ(seen.size(), 9000u);
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << "id " << id;
  auto ckpt = "replicate_io_checkpoint_default_" + id_;
  for (int r = 1; r <= 3; ++r) {
    auto cp = r_->command({"HGET", ckpt, snapshot_stream + "#" + std::to_string(r)});
    ASSERT_EQ(cp.type, redis_reply::kind::string) << "range " << r;
    EXPECT_TRUE(decode_snapshot_checkpoint(cp.str).done) << "range " << r;
  }
  db.exec("INSERT INTO h VALUES (9001, 1)");
  ASSERT_TRUE(wait_entries(stream("h"), 1));
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  // The snapshot reported its progress, and the run its summary.
  EXPECT_NE(read_text(dir_ + "/run.log").find("progress " + db_ + ".public.h: 9,000"),
            std::string::npos) << read_text(dir_ + "/run.log");
  auto summaries = run_summaries(dir_ + "/data/" + id_);
  ASSERT_EQ(summaries.size(), 1u);
  auto summary = json::parse(summaries[0]).as_object();
  EXPECT_EQ(summary.at("mode"), "full");
  EXPECT_EQ(summary.at("exit_code").as_int64(), 0);
  ASSERT_EQ(summary.at("tables").as_array().size(), 1u);
  EXPECT_EQ(summary.at("tables").as_array()[0].at("rows").to_number<int64_t>(), 9000);
  // The ranges' checkpoints say the snapshot finished: --resume streams on.
  start("full", {"--extractor", dir_ + "/extractor.yaml", "--resume"});
  db.exec("UPDATE h SET v = 2 WHERE id = 9001");
  ASSERT_TRUE(wait_entries(stream("h"), 2)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_EQ(read_text(dir_ + "/run.log").find("ranges of id"), std::string::npos)
    << "the resumed run read the table again";
  EXPECT_EQ(stream_length(*r_, snapshot_stream), 9000);
  auto changes_h = changes(stream("h"));
  ASSERT_EQ(changes_h.size(), 2u);
  EXPECT_EQ(changes_h[0].op, "c");
  EXPECT_EQ(changes_h[1].op, "u");
}

TEST_F(realtime, add_column_appends_a_schema_dump_and_later_messages_carry_the_column) {
  use("ddl");
  sql db(db_);
  db.exec("CREATE TABLE x(id int PRIMARY KEY, v text)");
  start("realtime");
  auto schema = "replicate_io_replication_schema_default_" + id_;
  ASSERT_EQ(stream_length(*r_, schema), 1);
  db.exec("INSERT INTO x VALUES (1, 'before')");
  db.exec("ALTER TABLE x ADD COLUMN extra int");
  db.exec("INSERT INTO x VALUES (2, 'after', 42)");
  db.exec("UPDATE x SET extra = 7 WHERE id = 1");
  ASSERT_TRUE(wait_entries(stream("x"), 3)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0);
  auto c = changes(stream("x"));
  ASSERT_EQ(c.size(), 3u);
  EXPECT_FALSE(c[0].after.as_object().contains("extra"));
  EXPECT_EQ(c[1].after.at("extra"), 42);
  EXPECT_EQ(c[2].after.at("extra"), 7);
  // The schema half of the new messages names the column too.
  auto raw = read_stream(*r_, stream("x"));
  EXPECT_NE(raw[1].value.find("\"field\":\"extra\""), std::string::npos);
  auto dumps = read_stream(*r_, schema);
  ASSERT_EQ(dumps.size(), 2u);
  EXPECT_EQ(dumps[1].key, "schema");
  EXPECT_EQ(dumps[0].value.find("extra"), std::string::npos);
  EXPECT_NE(dumps[1].value.find("extra"), std::string::npos);
}

TEST_F(realtime, drop_column_appends_a_schema_dump_and_later_messages_lose_the_column) {
  use("ddldrop");
  sql db(db_);
  db.exec("CREATE TABLE x(id int PRIMARY KEY, v text, gone int)");
  start("realtime");
  auto schema = "replicate_io_replication_schema_default_" + id_;
  ASSERT_EQ(stream_length(*r_, schema), 1);
  db.exec("INSERT INTO x VALUES (1, 'before', 5)");
  db.exec("ALTER TABLE x DROP COLUMN gone");
  db.exec("INSERT INTO x VALUES (2, 'after')");
  ASSERT_TRUE(wait_entries(stream("x"), 2)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0);
  auto c = changes(stream("x"));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].after.at("gone"), 5);
  EXPECT_FALSE(c[1].after.as_object().contains("gone"));
  EXPECT_EQ(c[1].after.at("v"), "after");
  auto dumps = read_stream(*r_, schema);
  ASSERT_EQ(dumps.size(), 2u);
  EXPECT_NE(dumps[0].value.find("\"gone\""), std::string::npos);
  EXPECT_EQ(dumps[1].value.find("\"gone\""), std::string::npos);
}

TEST_F(realtime, start_position_lsn_skips_what_came_before_it) {
  use("startpos");
  sql db(db_);
  db.exec("CREATE TABLE items(id int PRIMARY KEY, v text)");
  // Publication and slot exist before the changes, so both rows are in the
  // slot; only the start position keeps the first one out.
  db.exec("CREATE PUBLICATION " + db_ + " FOR TABLE items");
  db.exec("SELECT pg_create_logical_replication_slot('" + db_ + "', 'pgoutput')");
  db.exec("INSERT INTO items VALUES (1, 'before the start position')");
  auto at = db.rows("SELECT pg_current_wal_insert_lsn()::text").at(0).at(0);
  db.exec("INSERT INTO items VALUES (2, 'after it')");
  auto extractor = write_file(dir_ + "/extractor.yaml",
                              "realtime:\n  start-position:\n    lsn: " + at + "\n");
  start("realtime", {"--extractor", extractor});
  ASSERT_TRUE(wait_entries(stream("items"), 1)) << read_text(dir_ + "/run.log");
  db.exec("INSERT INTO items VALUES (3, 'later')");
  ASSERT_TRUE(wait_entries(stream("items"), 2)) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  auto c = changes(stream("items"));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].after.at("id"), 2);
  EXPECT_EQ(c[1].after.at("id"), 3);
}

TEST_F(realtime, the_heartbeat_moves_the_slot_while_the_tables_are_quiet_and_reaches_no_stream) {
  use("heartbeat");
  sql db(db_);
  db.exec("CREATE TABLE items(id int PRIMARY KEY)");
  auto extractor = write_file(dir_ + "/extractor.yaml",
                              "realtime:\n  heartbeat:\n    enable: true\n    catalog: " + db_ +
                                "\n    interval-ms: 100\n");
  start("realtime", {"--extractor", extractor});
  auto confirmed = [&] {
    return db.rows("SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots "
                   "WHERE slot_name = '" + db_ + "'").at(0).at(0);
  };
  // The reader makes the table on its first beat.
  ASSERT_TRUE(wait_until([&] {
    try {
      return db.rows("SELECT count(*) FROM public.replicate_io_cdc_heartbeat").at(0).at(0) == "1";
    } catch (const std::exception&) {
      return false;
    }
  })) << read_text(dir_ + "/run.log");
  auto first = confirmed();
  // Only the heartbeat writes, and the slot moves on.
  ASSERT_TRUE(wait_until([&] { return confirmed() != first; })) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stream_length(*r_, stream("replicate_io_cdc_heartbeat")), 0);
  EXPECT_EQ(stream_length(*r_, stream("items")), 0);
}
