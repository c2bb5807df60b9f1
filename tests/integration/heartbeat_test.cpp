// The heartbeat table on the real PostgreSQL and MariaDB: created when
// missing, one row moved to each beat's time, a clear refusal when the user
// may not create it, and the table recognised so readers drop its changes.

#include <gtest/gtest.h>

#include "actors/source/heartbeat.hpp"
#include "tests/integration/fixture.hpp"

namespace trib::test {
namespace {


heartbeat_config enabled(const std::string& catalog) {
  heartbeat_config h;
  h.enable = true;
  h.catalog = catalog;
  return h;
}

/// The one column of every row of `sql` on MariaDB.
std::vector<std::string> maria_column(const std::string& sql) {
  MYSQL* m = mysql_init(nullptr);
  if (!mysql_real_connect(m, "127.0.0.1", source_user(), source_password(), nullptr,
                          static_cast<unsigned>(mariadb_port()), nullptr, 0) ||
      mysql_query(m, sql.c_str()) != 0)
    throw std::runtime_error(std::string("mariadb: ") + mysql_error(m));
  std::vector<std::string> out;
  MYSQL_RES* r = mysql_store_result(m);
  while (MYSQL_ROW row = mysql_fetch_row(r)) out.push_back(row[0] ? row[0] : "NULL");
  mysql_free_result(r);
  mysql_close(m);
  return out;
}

std::vector<std::string> pg_column(const std::string& db, const std::string& sql) {
  std::string conninfo = "host=127.0.0.1 port=" + std::to_string(pg_port()) + " dbname=" + db +
                         " user=" + source_user() + " password=" + source_password();
  std::unique_ptr<PGconn, decltype(&PQfinish)> c{PQconnectdb(conninfo.c_str()), PQfinish};
  PGresult* r = PQexec(c.get(), sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::string e = PQresultErrorMessage(r);
    PQclear(r);
    throw std::runtime_error("pg: " + e);
  }
  std::vector<std::string> out;
  for (int i = 0; i < PQntuples(r); ++i) out.push_back(PQgetvalue(r, i, 0));
  PQclear(r);
  return out;
}

TEST(heartbeat, mariadb_table_is_made_and_holds_the_last_beat) {
  maria_exec("DROP DATABASE IF EXISTS heartbeat_t; CREATE DATABASE heartbeat_t");
  auto h = enabled("heartbeat_t");
  heartbeat_writer w(mariadb_source_config(), h);
  w.beat(1000);
  w.beat(2000);
  EXPECT_EQ(maria_column("SELECT `timestamp` FROM heartbeat_t.replicate_io_cdc_heartbeat"),
            std::vector<std::string>{"2000"});
  // Emptied by someone: the next beat writes the row again.
  maria_exec("DELETE FROM heartbeat_t.replicate_io_cdc_heartbeat");
  w.beat(3000);
  EXPECT_EQ(maria_column("SELECT `timestamp` FROM heartbeat_t.replicate_io_cdc_heartbeat"),
            std::vector<std::string>{"3000"});
  EXPECT_TRUE(is_heartbeat(source_kind::mariadb, h, table_id{"heartbeat_t", "", h.table_name}));
  maria_exec("DROP DATABASE heartbeat_t");
}

TEST(heartbeat, postgresql_table_is_made_in_its_schema_and_holds_the_last_beat) {
  pg_fresh_database("heartbeat_t");
  pg_exec("heartbeat_t", "CREATE SCHEMA ops");
  auto h = enabled("heartbeat_t");
  h.schema = "ops";
  h.table_name = "beats";
  heartbeat_writer w(pg_source_config("heartbeat_t"), h);
  w.beat(1000);
  w.beat(5000);
  EXPECT_EQ(pg_column("heartbeat_t", "SELECT \"timestamp\" FROM ops.beats"),
            std::vector<std::string>{"5000"});
  EXPECT_TRUE(is_heartbeat(source_kind::postgresql, h, table_id{"heartbeat_t", "ops", "beats"}));
}

TEST(heartbeat, a_user_who_may_not_create_it_is_shown_the_statement) {
  maria_exec("DROP DATABASE IF EXISTS heartbeat_t; CREATE DATABASE heartbeat_t; "
             "DROP USER IF EXISTS 'hb_reader'@'127.0.0.1'; "
             "CREATE USER 'hb_reader'@'127.0.0.1' IDENTIFIED BY 'pw'");
  auto cfg = mariadb_source_config();
  cfg.username = "hb_reader";
  cfg.password = "pw";
  try {
    heartbeat_writer w(cfg, enabled("heartbeat_t"));
    ADD_FAILURE() << "created a table without the privilege";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::config) << e.what();
    EXPECT_NE(std::string(e.what()).find(
                "CREATE TABLE IF NOT EXISTS `heartbeat_t`.`replicate_io_cdc_heartbeat`"),
              std::string::npos)
      << e.what();
  }
  maria_exec("DROP USER 'hb_reader'@'127.0.0.1'; DROP DATABASE heartbeat_t");
}

}  // namespace
}  // namespace trib::test
