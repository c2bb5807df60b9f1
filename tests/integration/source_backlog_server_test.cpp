// The source backlog (tributary_source_backlog_bytes) measured against the
// real servers: a PostgreSQL slot's lag grows with WAL nobody confirms, and
// MySQL/MariaDB binlog bytes behind a position are exactly what the server
// wrote after it.

#include "tests/integration/realtime_fixture.hpp"

#include "actors/source/source_backlog.hpp"

using namespace trib;
using namespace trib::test;

namespace {


/// SHOW MASTER STATUS: the file and position the next event goes to.
std::pair<std::string, uint64_t> binlog_end() {
  MYSQL* m = mysql_init(nullptr);
  std::pair<std::string, uint64_t> out;
  if (mysql_real_connect(m, "127.0.0.1", source_user(), source_password(), nullptr,
                         static_cast<unsigned>(mariadb_port()), nullptr, 0) &&
      mysql_query(m, "SHOW MASTER STATUS") == 0) {
    MYSQL_RES* r = mysql_store_result(m);
    if (MYSQL_ROW row = r ? mysql_fetch_row(r) : nullptr) out = {row[0], std::stoull(row[1])};
    if (r) mysql_free_result(r);
  }
  mysql_close(m);
  if (out.first.empty()) throw std::runtime_error("SHOW MASTER STATUS gave nothing");
  return out;
}

}  // namespace

TEST(source_backlog_server, binlog_bytes_behind_are_the_bytes_written_after_the_position) {
  maria_exec("DROP DATABASE IF EXISTS trib_backlog; CREATE DATABASE trib_backlog;"
             "CREATE TABLE trib_backlog.t(id int PRIMARY KEY, v text)");
  backlog_timer timer(mariadb_source_config(), std::chrono::milliseconds(0));
  auto [file, pos] = binlog_end();
  EXPECT_EQ(timer.binlog_behind(file, pos), 0u);
  maria_exec("INSERT INTO trib_backlog.t VALUES (1, REPEAT('x', 5000)), (2, 'y')");
  auto [file2, pos2] = binlog_end();
  ASSERT_EQ(file2, file) << "the binlog rotated meanwhile";
  ASSERT_GT(pos2, pos + 5000);
  EXPECT_EQ(timer.binlog_behind(file, pos), pos2 - pos);
  // A file the server does not list measures nothing (and warns once).
  EXPECT_FALSE(timer.binlog_behind("no-such-bin.000001", 4));
  maria_exec("DROP DATABASE trib_backlog");
}

TEST(source_backlog_server, a_slots_lag_grows_with_wal_nobody_confirms) {
  const std::string db = "trib_backlog", slot = "trib_backlog_slot";
  pg_exec("postgres", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                      "WHERE slot_name = '" + slot + "'");
  pg_fresh_database(db);
  pg_exec(db, "CREATE TABLE t(id int PRIMARY KEY, v text)");
  pg_exec(db, "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
  sql q(db);
  auto lag_now = [&] {
    return std::stoull(q.rows("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) "
                              "FROM pg_replication_slots WHERE slot_name = '" + slot + "'")[0][0]);
  };
  backlog_timer timer(pg_source_config(db), std::chrono::milliseconds(0));
  auto before = timer.slot_lag(slot);
  ASSERT_TRUE(before);
  q.exec("INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g");
  // WAL only grows and nobody confirms the slot: the timer's reading lies
  // between two readings of our own taken around it.
  auto low = lag_now();
  auto after = timer.slot_lag(slot);
  auto high = lag_now();
  ASSERT_TRUE(after);
  EXPECT_GE(*after, low);
  EXPECT_LE(*after, high);
  EXPECT_GT(*after, *before + 100000) << "1000 rows of 100 bytes are in the WAL";
  EXPECT_FALSE(timer.slot_lag("no_such_slot"));
  pg_exec("postgres", "SELECT pg_drop_replication_slot('" + slot + "')");
  pg_exec("postgres", "DROP DATABASE " + db + " WITH (FORCE)");
}
