// Realtime replication from MariaDB through the tributary binary, on the
// real servers: what each statement becomes under EVENTUAL and GLOBAL, a
// change's payload against the snapshot's, DDL, the heartbeat table, and the
// configuration errors a run stops at.

#include "actors/apply/schema_dump.hpp"
#include "tests/integration/binlog_realtime_fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

TEST_F(binlog_realtime, statements_land_once_as_debezium_describes_them) {
  use("ops");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT)");
  start();
  maria_exec("INSERT INTO " + db_ + ".x VALUES (1, 10), (2, 20); "
             "UPDATE " + db_ + ".x SET v = 11 WHERE id = 1; "
             "UPDATE " + db_ + ".x SET id = 3 WHERE id = 2; "
             "BEGIN; INSERT INTO " + db_ + ".x VALUES (9, 9); ROLLBACK; "
             "DELETE FROM " + db_ + ".x WHERE id = 1");
  // c, c, u, (d, tombstone, c), d, tombstone.
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("x")) >= 8; }))
    << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  auto cs = changes(stream("x"));
  std::vector<std::string> ops;
  for (const auto& c : cs) ops.push_back(c.op);
  EXPECT_EQ(ops, (std::vector<std::string>{"c", "c", "u", "d", "tombstone", "c", "d",
                                           "tombstone"}));
  ASSERT_EQ(cs.size(), 8u);
  const auto& src = cs[1].source;
  EXPECT_EQ(src.at("db").as_string(), db_);
  EXPECT_EQ(src.at("table").as_string(), "x");
  EXPECT_EQ(src.at("row").to_number<int64_t>(), 1);
  EXPECT_FALSE(src.at("gtid").as_string().empty());
  EXPECT_TRUE(src.at("file").as_string().starts_with("mysql-bin."));
  // The key update's halves have places of their own.
  EXPECT_EQ(cs[5].transaction.at("total_order").to_number<int64_t>(),
            cs[3].transaction.at("total_order").to_number<int64_t>() + 1);
  auto st = replayed({stream("x")});
  EXPECT_EQ(replay_rows(st.tables["x"], {"id", "v"}),
            maria_rows("SELECT id, v FROM " + db_ + ".x"));
}

TEST_F(binlog_realtime, global_consistency_writes_every_table_into_one_stream_in_commit_order) {
  use("global");
  applier("realtime:\n  replay-consistency: GLOBAL\n");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT); CREATE TABLE " + db_ +
             ".y (id INT PRIMARY KEY, v INT)");
  start();
  maria_exec("INSERT INTO " + db_ + ".x VALUES (1, 1); INSERT INTO " + db_ +
             ".y VALUES (1, 1); BEGIN; UPDATE " + db_ + ".y SET v = 2; UPDATE " + db_ +
             ".x SET v = 2; COMMIT");
  std::string global = "replicate_io_cdc_logs_default_" + id_;
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, global) >= 4; }))
    << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0);
  std::vector<std::string> order;
  for (const auto& c : changes(global))
    order.push_back(std::string(c.source.at("table").as_string()) + c.op);
  EXPECT_EQ(order, (std::vector<std::string>{"xc", "yc", "yu", "xu"}));
}

TEST_F(binlog_realtime, change_payloads_equal_snapshot_payloads_for_every_type) {
  use("values");
  maria_exec(
    "CREATE TABLE " + db_ + ".t (id INT PRIMARY KEY, i1 TINYINT, u2 SMALLINT UNSIGNED, "
    "i3 MEDIUMINT, i4 INT, u8 BIGINT UNSIGNED, i8 BIGINT, de DECIMAL(20,6), f4 FLOAT, "
    "f8 DOUBLE, ch CHAR(5), vc VARCHAR(20), lt VARCHAR(10) CHARACTER SET latin1, tx TEXT, "
    "bl BLOB, vb VARBINARY(8), d DATE, tm TIME(3), dt DATETIME(6), ts TIMESTAMP(2) NULL, "
    "y YEAR, bt BIT(10), e ENUM('sad','happy'), st SET('a','b','c'), js JSON) "
    "DEFAULT CHARSET=utf8mb4");
  auto values = [&](int id) {
    return "(" + std::to_string(id) +
           ", -128, 65535, -8388608, 2147483647, 18446744073709551615, -9223372036854775808, "
           "-12345678901234.567890, 1.5, -1.0000000000000002, 'ab', 'Grüße 😀 \"q\"', 'café', "
           "'long text', X'00ff00', X'0102', '1969-12-31', '-838:59:59.999', "
           "'2024-02-29 12:34:56.123456', '2038-01-19 03:14:07.99', 2155, b'1010101010', "
           "'happy', 'a,c', '{\"a\": [1, 2.5, null]}')";
  };
  auto nulls = [&](int id) {
    std::string r = "(" + std::to_string(id);
    for (int i = 0; i < 24; ++i) r += ", NULL";
    return r + ")";
  };
  maria_exec("INSERT INTO " + db_ + ".t VALUES " + values(1) + ", " + nulls(2));
  std::filesystem::remove(dir_ + "/run.log");
  child_ = std::make_unique<child_process>(
    std::vector<std::string>{"full", dir_ + "/src.yaml", dir_ + "/dst.yaml", "--filter",
                             dir_ + "/filter.yaml", "--id", id_, "--data-dir", dir_ + "/data"},
    dir_ + "/run.log");
  ASSERT_TRUE(wait_until([&] {
    return !child_->running() ||
           read_text(dir_ + "/run.log").find("reads the binlog of") != std::string::npos;
  })) << read_text(dir_ + "/run.log");
  maria_exec("INSERT INTO " + db_ + ".t VALUES " + values(101) + ", " + nulls(102));
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("t")) >= 2; }))
    << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  auto snapshot_entries = read_stream(*r_, db_ + "_t");
  auto change_entries = read_stream(*r_, stream("t"));
  ASSERT_EQ(snapshot_entries.size(), 2u);
  ASSERT_EQ(change_entries.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    auto sn = decode(snapshot_entries[i]);
    auto ch = decode(change_entries[i]);
    EXPECT_EQ(sn.op, "r");
    EXPECT_EQ(ch.op, "c");
    auto expected = sn.after.as_object();
    auto actual = ch.after.as_object();
    expected.erase("id");
    actual.erase("id");
    ASSERT_EQ(expected.size(), 24u);
    for (const auto& kv : expected) {
      ASSERT_TRUE(actual.contains(kv.key())) << kv.key();
      EXPECT_EQ(json::serialize(kv.value()), json::serialize(actual.at(kv.key())))
        << "column " << kv.key() << " (row " << i << ")";
    }
    EXPECT_EQ(actual.size(), expected.size());
  }
  // Real values, not nulls.
  auto row = decode(change_entries[0]).after.as_object();
  EXPECT_EQ(row.at("i8").to_number<int64_t>(), INT64_MIN);
  EXPECT_EQ(row.at("e"), "happy");
}

TEST_F(binlog_realtime, add_column_appends_a_schema_dump_and_later_messages_carry_it) {
  use("ddl");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT)");
  start();
  std::string schema = "replicate_io_replication_schema_default_" + id_;
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, schema) >= 1; }));
  maria_exec("INSERT INTO " + db_ + ".x VALUES (1, 1); ALTER TABLE " + db_ +
             ".x ADD COLUMN note VARCHAR(10); INSERT INTO " + db_ + ".x VALUES (2, 2, 'new')");
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("x")) >= 2; }))
    << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stream_length(*r_, schema), 2);
  auto cs = changes(stream("x"));
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_FALSE(cs[0].after.as_object().contains("note"));
  EXPECT_EQ(cs[1].after.at("note"), "new");
}

TEST_F(binlog_realtime, rows_logged_before_several_ddls_resume_with_the_columns_of_their_time) {
  use("ddls");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, a VARCHAR(10), b INT)");
  start();
  std::string schema = "replicate_io_replication_schema_default_" + id_;
  maria_exec("INSERT INTO " + db_ + ".x VALUES (1, 'one', 1)");
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("x")) >= 1; }))
    << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  auto dumps_before = stream_length(*r_, schema);
  // While no run reads: a backlog across three DDLs, a row after each.
  maria_exec("INSERT INTO " + db_ + ".x VALUES (2, 'two', 2); "
             "ALTER TABLE " + db_ + ".x ADD COLUMN c DATE; "
             "INSERT INTO " + db_ + ".x VALUES (3, 'three', 3, '2024-01-03'); "
             "ALTER TABLE " + db_ + ".x DROP COLUMN a; "
             "INSERT INTO " + db_ + ".x VALUES (4, 4, '2024-01-04'); "
             "ALTER TABLE " + db_ + ".x MODIFY b BIGINT; "
             "INSERT INTO " + db_ + ".x VALUES (5, 9000000000, '2024-01-05')");
  start({"--resume"});
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("x")) >= 5; }))
    << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  auto cs = changes(stream("x"));
  ASSERT_EQ(cs.size(), 5u);
  auto keys = [](const change& c) {
    std::vector<std::string> out;
    for (const auto& kv : c.after.as_object()) out.push_back(kv.key());
    std::sort(out.begin(), out.end());
    return out;
  };
  using names = std::vector<std::string>;
  EXPECT_EQ(keys(cs[1]), (names{"a", "b", "id"}));
  EXPECT_EQ(cs[1].after.at("a"), "two");
  EXPECT_EQ(keys(cs[2]), (names{"a", "b", "c", "id"}));
  EXPECT_EQ(cs[2].after.at("a"), "three");
  EXPECT_EQ(keys(cs[3]), (names{"b", "c", "id"}));
  EXPECT_EQ(cs[3].after.at("b").to_number<int64_t>(), 4);
  EXPECT_EQ(keys(cs[4]), (names{"b", "c", "id"}));
  EXPECT_EQ(cs[4].after.at("b").to_number<int64_t>(), 9000000000);
  // The resumed run's start, then one entry per DDL with that DDL's columns.
  auto dumps = read_stream(*r_, schema);
  ASSERT_EQ(static_cast<long long>(dumps.size()), dumps_before + 1 + 3);
  std::vector<std::vector<std::string>> columns;
  std::vector<std::string> b_types;
  for (size_t i = dumps.size() - 3; i < dumps.size(); ++i) {
    auto ts = parse_schema_dump(dumps[i].value);
    ASSERT_EQ(ts.size(), 1u);
    columns.emplace_back();
    for (const auto& c : ts[0].columns) {
      columns.back().push_back(c.name);
      if (c.name == "b") b_types.push_back(c.source_type);
    }
  }
  EXPECT_EQ(columns, (std::vector<names>{{"id", "a", "b", "c"}, {"id", "b", "c"},
                                         {"id", "b", "c"}}));
  EXPECT_EQ(b_types, (names{"INT", "INT", "BIGINT"}));
}

TEST_F(binlog_realtime, a_gtid_start_position_streams_the_transactions_after_it_only) {
  use("gtid");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY)");
  maria_exec("INSERT INTO " + db_ + ".x VALUES (1)");
  auto at = maria_rows("SELECT @@gtid_binlog_pos");
  ASSERT_EQ(at.size(), 1u);
  maria_exec("INSERT INTO " + db_ + ".x VALUES (2); INSERT INTO " + db_ + ".x VALUES (3)");
  write_file(dir_ + "/extractor.yaml",
             "realtime:\n  start-position:\n    gtid: '" + at[0][0] + "'\n");
  start({"--extractor", dir_ + "/extractor.yaml"});
  EXPECT_NE(read_text(dir_ + "/run.log").find("from gtid " + at[0][0]), std::string::npos)
    << read_text(dir_ + "/run.log");
  maria_exec("INSERT INTO " + db_ + ".x VALUES (4)");
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("x")) >= 3; }))
    << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  std::vector<std::string> ids;
  for (const auto& c : changes(stream("x")))
    ids.push_back(json::serialize(c.after.at("id")));
  EXPECT_EQ(ids, (std::vector<std::string>{"2", "3", "4"}));
}

TEST_F(binlog_realtime, a_gtid_the_server_never_wrote_exits_1_suggesting_overwrite) {
  use("gtidgone");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY)");
  write_file(dir_ + "/extractor.yaml",
             "realtime:\n  start-position:\n    gtid: '0-1-999999999'\n");
  auto res = run_tributary("realtime " + dir_ + "/src.yaml " + dir_ + "/dst.yaml --filter " +
                           dir_ + "/filter.yaml --extractor " + dir_ + "/extractor.yaml --id " +
                           id_ + " --data-dir " + dir_ + "/data");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_NE(res.output.find("no longer has that binlog position"), std::string::npos)
    << res.output;
  EXPECT_NE(res.output.find("--overwrite"), std::string::npos) << res.output;
}

TEST_F(binlog_realtime, the_heartbeat_moves_the_position_and_reaches_no_stream) {
  use("heartbeat");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY)");
  write_file(dir_ + "/extractor.yaml", "realtime:\n  heartbeat:\n    enable: true\n    catalog: " +
                                         db_ + "\n    interval-ms: 100\n");
  std::filesystem::remove(dir_ + "/run.log");
  child_ = std::make_unique<child_process>(
    std::vector<std::string>{"realtime", dir_ + "/src.yaml", dir_ + "/dst.yaml", "--filter",
                             dir_ + "/filter.yaml", "--extractor", dir_ + "/extractor.yaml",
                             "--id", id_, "--data-dir", dir_ + "/data"},
    dir_ + "/run.log");
  std::string ckpt = "replicate_io_checkpoint_default_" + id_;
  auto position = [&] {
    auto r = command_or_throw(*r_, {"HGET", ckpt, "#binlog_position"});
    return r.type == redis_reply::kind::string ? r.str : std::string();
  };
  ASSERT_TRUE(wait_until([&] { return !position().empty(); })) << read_text(dir_ + "/run.log");
  auto first = position();
  // Nothing else is written, yet the stored position moves on.
  ASSERT_TRUE(wait_until([&] { return position() != first; }, 30s))
    << read_text(dir_ + "/run.log");
  auto beats = maria_rows("SELECT `timestamp` FROM " + db_ + ".replicate_io_cdc_heartbeat");
  ASSERT_EQ(beats.size(), 1u);
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stream_length(*r_, stream("replicate_io_cdc_heartbeat")), 0);
  EXPECT_EQ(stream_length(*r_, stream("x")), 0);
}

TEST_F(binlog_realtime, a_connection_without_slave_server_ids_is_a_config_error) {
  use("noid");
  write_file(dir_ + "/src.yaml", maria_source());
  auto res = run_tributary("realtime " + dir_ + "/src.yaml " + dir_ + "/dst.yaml --id " + id_ +
                           " --data-dir " + dir_ + "/data");
  EXPECT_EQ(res.exit_code, 2) << res.output;
  EXPECT_NE(res.output.find("slave-server-ids: [101]"), std::string::npos) << res.output;
}

TEST_F(binlog_realtime, a_position_the_server_no_longer_has_exits_1_suggesting_overwrite) {
  use("gone");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY)");
  write_file(dir_ + "/extractor.yaml",
             "realtime:\n  start-position:\n    log: mysql-bin.999999\n    position: 4\n");
  auto res = run_tributary("realtime " + dir_ + "/src.yaml " + dir_ + "/dst.yaml --filter " +
                           dir_ + "/filter.yaml --extractor " + dir_ + "/extractor.yaml --id " +
                           id_ + " --data-dir " + dir_ + "/data");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_NE(res.output.find("no longer has that binlog position"), std::string::npos)
    << res.output;
  EXPECT_NE(res.output.find("--overwrite"), std::string::npos) << res.output;
}

}  // namespace
