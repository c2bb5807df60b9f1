// Realtime replication from MariaDB through the tributary binary, on the
// real servers: what each statement becomes under EVENTUAL and GLOBAL,
// SIGKILL at random moments under a mixed workload (--resume: nothing lost,
// nothing twice), and a MariaDB restart ridden through.

#include "tests/integration/private_mariadb.hpp"
#include "tests/integration/private_redis.hpp"
#include "tests/integration/realtime_fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

/// Every row of `q` on the server at `port` as text cells.
std::vector<std::vector<std::string>> maria_rows(const std::string& q, int port = mariadb_port()) {
  MYSQL* m = mysql_init(nullptr);
  if (!mysql_real_connect(m, "127.0.0.1", source_user(), source_password(), nullptr,
                          static_cast<unsigned>(port), nullptr, 0) ||
      mysql_query(m, q.c_str()) != 0) {
    std::string e = mysql_error(m);
    mysql_close(m);
    throw std::runtime_error("mariadb: " + e);
  }
  std::vector<std::vector<std::string>> out;
  MYSQL_RES* r = mysql_store_result(m);
  unsigned n = r ? mysql_num_fields(r) : 0;
  while (MYSQL_ROW row = r ? mysql_fetch_row(r) : nullptr) {
    out.emplace_back();
    for (unsigned i = 0; i < n; ++i) out.back().push_back(row[i] ? row[i] : "<null>");
  }
  if (r) mysql_free_result(r);
  mysql_close(m);
  std::sort(out.begin(), out.end());
  return out;
}

class binlog_realtime : public ::testing::Test {
protected:
  void use(const std::string& name, int port = mariadb_port()) {
    db_ = "trib_brt_" + name;
    id_ = "brt_" + name;
    port_ = port;
    dir_ = fresh_dir("trib_brt_" + name);
    r_ = redis();
    clean_redis();
    if (port == mariadb_port())
      maria_exec("DROP DATABASE IF EXISTS " + db_ + "; CREATE DATABASE " + db_);
    write_file(dir_ + "/src.yaml",
               "type: MARIADB\nhost: 127.0.0.1\nport: " + std::to_string(port) +
                 "\nusername: tributary\npassword: tributary\nmax-retries: 30\n"
                 "retry-wait-duration-ms: 200\nslave-server-ids: [" +
                 std::to_string(5000 + std::hash<std::string>{}(name) % 1000) + "]\n");
    write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                     std::to_string(redis_port()) + "\n");
    write_file(dir_ + "/filter.yaml", "allow:\n- catalog: " + db_ + "\n  types: [TABLE]\n");
    applier("");
  }

  void TearDown() override {
    child_.reset();
    if (r_) clean_redis();
    if (!db_.empty() && port_ == mariadb_port()) maria_exec("DROP DATABASE IF EXISTS " + db_);
  }

  void clean_redis() {
    delete_keys(*r_, db_ + "_*");
    delete_keys(*r_, "replicate_io_*_" + id_);
  }

  void applier(const std::string& text) {
    write_file(dir_ + "/applier.yaml", text.empty() ? "snapshot:\n  threads: 2\n" : text);
  }

  void start(std::vector<std::string> extra = {}) {
    std::filesystem::remove(dir_ + "/run.log");
    std::vector<std::string> a{"realtime", dir_ + "/src.yaml", dir_ + "/dst.yaml", "--filter",
                               dir_ + "/filter.yaml", "--applier", dir_ + "/applier.yaml",
                               "--id", id_, "--data-dir", dir_ + "/data"};
    a.insert(a.end(), extra.begin(), extra.end());
    child_ = std::make_unique<child_process>(a, dir_ + "/run.log");
    bool ready = wait_until([&] {
      return !child_->running() ||
             read_text(dir_ + "/run.log").find("reads the binlog of") != std::string::npos;
    });
    ASSERT_TRUE(ready && child_->running()) << read_text(dir_ + "/run.log");
  }

  int stop() {
    child_->signal(SIGTERM);
    return child_->wait();
  }

  std::string stream(const std::string& table) { return db_ + "_" + table + "_cdc_logs"; }
  std::vector<change> changes(const std::string& s) {
    std::vector<change> out;
    for (const auto& e : read_stream(*r_, s)) out.push_back(decode(e));
    return out;
  }
  replay_state replayed(const std::vector<std::string>& streams) {
    replay_state st;
    for (const auto& s : streams)
      for (const auto& e : read_stream(*r_, s)) replay_entry(st, e.key, e.value);
    return st;
  }

  std::string db_, id_, dir_;
  int port_ = 0;
  std::unique_ptr<redis_client> r_;
  std::unique_ptr<child_process> child_;
};

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

/// Random traffic on x and y: single inserts, multi-row transactions,
/// updates, key updates, deletes, rolled-back transactions.
class workload {
public:
  workload(const std::string& db, unsigned seed) : db_(db), rng_(seed) {}
  void run(const std::atomic<bool>& stop) {
    while (!stop) {
      ++rounds;
      int pick = static_cast<int>(rng_() % 10);
      std::string sql;
      if (pick < 3) {
        sql = insert();
      } else if (pick < 5) {
        sql = "BEGIN;";
        int n = 5 + static_cast<int>(rng_() % 20);
        for (int i = 0; i < n; ++i) sql += (rng_() % 3 ? insert() : update()) + ";";
        sql += "COMMIT";
      } else if (pick < 6) {
        sql = update();
      } else if (pick < 7) {
        sql = key_update();
      } else if (pick < 9) {
        sql = erase();
      } else {
        sql = "BEGIN; INSERT INTO " + db_ + ".x VALUES (" +
              std::to_string(-1 - static_cast<int>(rounds)) + ", 0); UPDATE " + db_ +
              ".y SET v = -1; ROLLBACK";
      }
      try {
        maria_exec(sql);
      } catch (const std::exception&) {
        // A key update onto an existing key: the statement fails, nothing
        // is logged.
      }
    }
  }
  std::atomic<long> rounds{0};

private:
  std::string table() { return db_ + (rng_() % 2 ? ".x" : ".y"); }
  std::string insert() {
    return "INSERT INTO " + table() + " VALUES (" + std::to_string(next_id_++) + ", " +
           std::to_string(rng_() % 1000) + ")";
  }
  std::string some_id() { return std::to_string(1 + rng_() % static_cast<unsigned>(next_id_)); }
  std::string update() { return "UPDATE " + table() + " SET v = v + 1 WHERE id = " + some_id(); }
  std::string key_update() {
    return "UPDATE " + table() + " SET id = " + std::to_string(next_id_++) +
           " WHERE id = " + some_id();
  }
  std::string erase() { return "DELETE FROM " + table() + " WHERE id = " + some_id(); }
  std::string db_;
  std::mt19937 rng_;
  int next_id_ = 1;
};

TEST_F(binlog_realtime, sigkill_at_random_moments_then_resume_loses_and_duplicates_nothing) {
  use("kill");
  applier("realtime:\n  txn-size-rows: 7\n");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT); CREATE TABLE " + db_ +
             ".y (id INT PRIMARY KEY, v INT)");
  start();
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("workload seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  workload w(db_, seed);
  std::atomic<bool> stop_writes{false};
  std::thread writer([&] { w.run(stop_writes); });
  auto written = [&] { return stream_length(*r_, stream("x")) + stream_length(*r_, stream("y")); };
  for (int kill = 0; kill < 4; ++kill) {
    auto target = written() + 50 + static_cast<long long>(rng() % 400);
    ASSERT_TRUE(wait_until([&] { return written() >= target || !child_->running(); }, 60s));
    ASSERT_TRUE(child_->running()) << read_text(dir_ + "/run.log");
    child_->kill_now();
    start({"--resume"});
  }
  stop_writes = true;
  writer.join();
  auto source_x = maria_rows("SELECT id, v FROM " + db_ + ".x");
  auto source_y = maria_rows("SELECT id, v FROM " + db_ + ".y");
  bool equal = wait_until([&] {
    auto st = replayed({stream("x"), stream("y")});
    return replay_rows(st.tables["x"], {"id", "v"}) == source_x &&
           replay_rows(st.tables["y"], {"id", "v"}) == source_y;
  }, 60s);
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  auto st = replayed({stream("x"), stream("y")});
  EXPECT_TRUE(equal);
  EXPECT_EQ(replay_rows(st.tables["x"], {"id", "v"}), source_x);
  EXPECT_EQ(replay_rows(st.tables["y"], {"id", "v"}), source_y);
  for (const auto& s : {stream("x"), stream("y")}) {
    std::set<std::string> seen;
    size_t dups = 0;
    for (const auto& c : changes(s)) {
      if (c.op == "tombstone") continue;
      auto id = json::serialize(c.transaction.at("id")) + "/" +
                json::serialize(c.transaction.at("data_collection_order")) + "/" + c.op;
      if (!seen.insert(id).second) ++dups;
      if (c.after.is_object()) {
        EXPECT_GE(c.after.at("id").to_number<int64_t>(), 1);
      }
    }
    EXPECT_EQ(dups, 0u) << s;
  }
  EXPECT_GT(w.rounds.load(), 0);
}

TEST_F(binlog_realtime, full_with_writes_during_the_snapshot_equals_the_source) {
  use("full");
  write_file(dir_ + "/extractor.yaml", "snapshot:\n  fetch-size-rows: 50\n");
  applier("snapshot:\n  batch-size-rows: 50\n");
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT); CREATE TABLE " + db_ +
             ".y (id INT PRIMARY KEY, v INT); INSERT INTO " + db_ +
             ".x SELECT seq, seq FROM " + db_ + ".seq_1_to_20000; INSERT INTO " + db_ +
             ".y SELECT seq, seq FROM " + db_ + ".seq_1_to_20000");
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("workload seed " + std::to_string(seed));
  workload w(db_, seed);
  std::atomic<bool> stop_writes{false};
  std::thread writer([&] { w.run(stop_writes); });
  std::filesystem::remove(dir_ + "/run.log");
  child_ = std::make_unique<child_process>(
    std::vector<std::string>{"full", dir_ + "/src.yaml", dir_ + "/dst.yaml", "--filter",
                             dir_ + "/filter.yaml", "--extractor", dir_ + "/extractor.yaml",
                             "--applier", dir_ + "/applier.yaml", "--id", id_, "--data-dir",
                             dir_ + "/data"},
    dir_ + "/run.log");
  bool streaming = wait_until([&] {
    return !child_->running() ||
           read_text(dir_ + "/run.log").find("reads the binlog of") != std::string::npos;
  }, 120s);
  ASSERT_TRUE(streaming && child_->running()) << read_text(dir_ + "/run.log");
  // Writes went on during the whole snapshot and go on a little longer.
  auto rounds = w.rounds.load();
  ASSERT_TRUE(wait_until([&] { return w.rounds.load() >= rounds + 50; }));
  stop_writes = true;
  writer.join();
  auto source_x = maria_rows("SELECT id, v FROM " + db_ + ".x");
  auto source_y = maria_rows("SELECT id, v FROM " + db_ + ".y");
  auto all = [&] {
    return replayed({db_ + "_x", db_ + "_y", stream("x"), stream("y")});
  };
  bool equal = wait_until([&] {
    auto st = all();
    return replay_rows(st.tables["x"], {"id", "v"}) == source_x &&
           replay_rows(st.tables["y"], {"id", "v"}) == source_y;
  }, 60s);
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_TRUE(equal);
  auto st = all();
  EXPECT_EQ(replay_rows(st.tables["x"], {"id", "v"}), source_x);
  EXPECT_EQ(replay_rows(st.tables["y"], {"id", "v"}), source_y);
  EXPECT_GT(stream_length(*r_, stream("x")) + stream_length(*r_, stream("y")), 0);
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

TEST_F(binlog_realtime, rides_through_a_redis_restart) {
  // An append-only Redis keeps what it acknowledged across kill -9.
  private_redis target({"--appendonly", "yes", "--appendfsync", "always"});
  use("redisrestart");
  write_file(dir_ + "/dst.yaml", target.conn_yaml());
  maria_exec("CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT)");
  start();
  auto own = target.connect();
  maria_exec("INSERT INTO " + db_ + ".x VALUES (1, 1), (2, 2)");
  ASSERT_TRUE(wait_until([&] { return stream_length(*own, stream("x")) >= 2; }))
    << read_text(dir_ + "/run.log");
  target.kill_now();
  maria_exec("INSERT INTO " + db_ + ".x VALUES (3, 3); UPDATE " + db_ + ".x SET v = 9");
  target.start();
  own = target.connect();
  ASSERT_TRUE(wait_until([&] { return stream_length(*own, stream("x")) >= 6; }, 60s))
    << read_text(dir_ + "/run.log");
  ASSERT_TRUE(child_->running()) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stream_length(*own, stream("x")), 6);
  replay_state st;
  for (const auto& e : read_stream(*own, stream("x"))) replay_entry(st, e.key, e.value);
  EXPECT_EQ(replay_rows(st.tables["x"], {"id", "v"}),
            maria_rows("SELECT id, v FROM " + db_ + ".x"));
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

TEST_F(binlog_realtime, rides_through_a_mariadb_restart) {
  private_mariadb server;
  use("restart", server.port());
  server.admin("CREATE DATABASE " + db_ + "; CREATE TABLE " + db_ + ".x (id INT PRIMARY KEY, v INT)");
  start();
  server.admin("INSERT INTO " + db_ + ".x VALUES (1, 1), (2, 2)");
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("x")) >= 2; }))
    << read_text(dir_ + "/run.log");
  server.stop();
  server.start();
  server.admin("INSERT INTO " + db_ + ".x VALUES (3, 3); UPDATE " + db_ + ".x SET v = 9");
  ASSERT_TRUE(wait_until([&] { return stream_length(*r_, stream("x")) >= 6; }, 60s))
    << read_text(dir_ + "/run.log");
  ASSERT_TRUE(child_->running());
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stream_length(*r_, stream("x")), 6);
  EXPECT_NE(read_text(dir_ + "/run.log").find("reconnects to the binlog"), std::string::npos);
  auto st = replayed({stream("x")});
  EXPECT_EQ(replay_rows(st.tables["x"], {"id", "v"}),
            maria_rows("SELECT id, v FROM " + db_ + ".x", server.port()));
}

}  // namespace
