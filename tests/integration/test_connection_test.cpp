// `tributary test-connection` on the real servers: users that lack one right
// each (made here, as the servers' administrators) get a MISSING line naming
// what to grant and exit code 1; the ops scripts' users get only ok lines and
// exit code 0.

#include <gtest/gtest.h>

#include <sstream>

#include "tests/integration/fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

// Runs SQL as PostgreSQL's superuser over the server's socket (trust).
void pg_admin(const std::string& db, const std::string& sql) {
  std::string conninfo = "host=" + env_or("TRIB_PG_SOCKET_DIR", "/tmp/tributary-run/pg") +
                         " port=" + std::to_string(pg_port()) + " user=postgres dbname=" + db;
  std::unique_ptr<PGconn, decltype(&PQfinish)> c{PQconnectdb(conninfo.c_str()), PQfinish};
  if (PQstatus(c.get()) != CONNECTION_OK)
    throw std::runtime_error(std::string("pg admin connect: ") + PQerrorMessage(c.get()));
  std::unique_ptr<PGresult, decltype(&PQclear)> r{PQexec(c.get(), sql.c_str()), PQclear};
  auto st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    throw std::runtime_error("pg admin: " + std::string(PQresultErrorMessage(r.get())) + " in: " + sql);
}

// Runs statements as MariaDB's root over the server's socket.
void maria_admin(const std::string& sql) {
  MYSQL* m = mysql_init(nullptr);
  std::string sock = env_or("TRIB_MARIADB_SOCKET", "/tmp/tributary-run/mariadb.sock");
  if (!mysql_real_connect(m, nullptr, "root", nullptr, nullptr, 0, sock.c_str(),
                          CLIENT_MULTI_STATEMENTS)) {
    std::string e = mysql_error(m);
    mysql_close(m);
    throw std::runtime_error("mariadb admin connect: " + e);
  }
  bool failed = mysql_query(m, sql.c_str()) != 0;
  std::string e = mysql_error(m);
  do {
    if (MYSQL_RES* res = mysql_store_result(m)) mysql_free_result(res);
  } while (mysql_next_result(m) == 0);
  mysql_close(m);
  if (failed) throw std::runtime_error("mariadb admin: " + e + " in: " + sql);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The report line about `what`, or "".
std::string line_about(const std::string& output, const std::string& what) {
  for (const auto& l : lines_of(output))
    if (l.find("  " + what + ": ") != std::string::npos) return l;
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class test_connection : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fresh_dir("trib_test_connection");
    r_ = redis();
  }
  void TearDown() override {
    for (const auto& u : redis_users_) r_->command({"ACL", "DELUSER", u});
    if (!pg_db_.empty()) pg_exec("postgres", "DROP DATABASE IF EXISTS " + pg_db_ + " WITH (FORCE)");
    for (const auto& u : pg_roles_) pg_admin("postgres", "DROP ROLE IF EXISTS " + u);
    for (const auto& u : maria_users_) maria_admin("DROP USER IF EXISTS '" + u + "'@'127.0.0.1'");
    for (const auto& r : maria_roles_) maria_admin("DROP ROLE IF EXISTS " + r);
    if (maria_db_) maria_admin("DROP DATABASE IF EXISTS trib_tc_roles");
    std::filesystem::remove_all(dir_);
  }

  // A database of tributary's own with one table.
  void pg_database() {
    pg_db_ = "trib_test_connection";
    pg_fresh_database(pg_db_);
    pg_exec(pg_db_, "CREATE TABLE items(id int PRIMARY KEY, v text)");
  }
  std::string pg_file(const std::string& user, const std::string& pw) {
    return write_file(dir_ + "/pg_" + user + ".yaml",
                      "type: POSTGRESQL\nhost: 127.0.0.1\nport: " + std::to_string(pg_port()) +
                        "\ndatabase: " + pg_db_ + "\nusername: " + user + "\npassword: " + pw +
                        "\nreplication-slots:\n  trib_test_connection:\n    - pgoutput\n");
  }
  // A MariaDB database with two tables, and a filter naming them.
  std::string maria_database() {
    maria_db_ = true;
    maria_admin("DROP DATABASE IF EXISTS trib_tc_roles; CREATE DATABASE trib_tc_roles; "
                "CREATE TABLE trib_tc_roles.readable(id int PRIMARY KEY); "
                "CREATE TABLE trib_tc_roles.hidden(id int PRIMARY KEY)");
    return write_file(dir_ + "/filter.yaml",
                      "allow:\n  - catalog: trib_tc_roles\n    allow: [readable, hidden]\n");
  }
  std::string maria_file(const std::string& user, const std::string& pw) {
    return write_file(dir_ + "/my_" + user + ".yaml",
                      "type: MARIADB\nhost: 127.0.0.1\nport: " + std::to_string(mariadb_port()) +
                        "\nusername: " + user + "\npassword: " + pw + "\n");
  }
  std::string redis_file(const std::string& user, const std::string& pw) {
    std::string auth = user.empty() ? "" : "username: " + user + "\npassword: " + pw + "\n";
    return write_file(dir_ + "/redis_" + (user.empty() ? "default" : user) + ".yaml",
                      "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " + std::to_string(redis_port()) +
                        "\n" + auth);
  }
  void redis_user(const std::string& name, std::vector<std::string> rules) {
    std::vector<std::string> argv{"ACL", "SETUSER", name, "reset", "on", ">pw"};
    argv.insert(argv.end(), rules.begin(), rules.end());
    auto r = r_->command(argv);
    ASSERT_EQ(r.str, "OK") << r.str;
    redis_users_.push_back(name);
  }

  std::string dir_, pg_db_;
  std::vector<std::string> pg_roles_, maria_users_, maria_roles_, redis_users_;
  bool maria_db_ = false;
  std::unique_ptr<redis_client> r_;
};

}  // namespace

TEST_F(test_connection, the_ops_users_have_everything_a_replication_needs) {
  pg_database();
  maria_database();
  for (const auto& args :
       {pg_file(source_user(), source_password()), maria_file(source_user(), source_password()),
        pg_file(source_user(), source_password()) + " " + redis_file("", "")}) {
    auto res = run_tributary("test-connection " + args);
    EXPECT_EQ(res.exit_code, 0) << res.output;
    EXPECT_FALSE(has(res.output, "MISSING")) << res.output;
    EXPECT_TRUE(has(res.output, "ok       connection: ")) << res.output;
  }
  auto pg = run_tributary("test-connection " + pg_file(source_user(), source_password()));
  EXPECT_TRUE(has(line_about(pg.output, "wal_level"), "logical")) << pg.output;
  EXPECT_TRUE(has(line_about(pg.output, "REPLICATION attribute"), "has it")) << pg.output;
  EXPECT_TRUE(has(line_about(pg.output, "SELECT on the tables"), "all 1 tables")) << pg.output;
  auto my = run_tributary("test-connection " + maria_file(source_user(), source_password()));
  EXPECT_TRUE(has(line_about(my.output, "binlog_format"), "ROW")) << my.output;
  EXPECT_TRUE(has(line_about(my.output, "binlog_row_image"), "FULL")) << my.output;
  EXPECT_TRUE(has(line_about(my.output, "log_bin"), "ON")) << my.output;
  // With the source, the table streams are checked too; the default user
  // may run ACL DRYRUN.
  auto both = run_tributary("test-connection " + pg_file(source_user(), source_password()) + " " +
                            redis_file("", ""));
  EXPECT_TRUE(has(line_about(both.output, "rights checked with"), "ACL DRYRUN default"))
    << both.output;
  EXPECT_TRUE(has(line_about(both.output, "XDEL"), "allowed on 2 keys")) << both.output;
  EXPECT_TRUE(has(line_about(both.output, "XADD"), "allowed on 3 keys")) << both.output;
}

TEST_F(test_connection, a_postgresql_user_without_replication_select_or_ownership) {
  pg_database();
  pg_roles_.push_back("trib_tc_plain");
  pg_admin("postgres", "DROP ROLE IF EXISTS trib_tc_plain; "
                       "CREATE ROLE trib_tc_plain LOGIN PASSWORD 'pw'");
  auto res = run_tributary("test-connection " + pg_file("trib_tc_plain", "pw"));
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_EQ(line_about(res.output, "REPLICATION attribute"),
            "MISSING  REPLICATION attribute: trib_tc_plain lacks it, which a replication "
            "connection needs; grant with ALTER ROLE trib_tc_plain REPLICATION")
    << res.output;
  auto select = line_about(res.output, "SELECT on the tables");
  EXPECT_EQ(select.rfind("MISSING  ", 0), 0u) << res.output;
  EXPECT_TRUE(has(select, "GRANT SELECT ON public.items TO trib_tc_plain")) << select;
  auto publication = line_about(res.output, "publication");
  EXPECT_EQ(publication.rfind("MISSING  ", 0), 0u) << res.output;
  EXPECT_TRUE(has(publication, "does not own public.items")) << publication;
  EXPECT_TRUE(has(publication, "GRANT CREATE ON DATABASE trib_test_connection TO trib_tc_plain"))
    << publication;
  EXPECT_TRUE(has(line_about(res.output, "wal_level"), "ok ")) << res.output;

  // Granted what the lines say (and the table's ownership), it passes.
  pg_admin("postgres", "ALTER ROLE trib_tc_plain REPLICATION; "
                       "GRANT CREATE ON DATABASE trib_test_connection TO trib_tc_plain");
  pg_admin(pg_db_, "GRANT SELECT ON public.items TO trib_tc_plain; "
                   "ALTER TABLE public.items OWNER TO trib_tc_plain");
  auto fixed = run_tributary("test-connection " + pg_file("trib_tc_plain", "pw"));
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
}

TEST_F(test_connection, a_mariadb_user_without_replication_rights) {
  maria_users_.push_back("trib_tc_select");
  maria_admin("DROP USER IF EXISTS 'trib_tc_select'@'127.0.0.1'; "
              "CREATE USER 'trib_tc_select'@'127.0.0.1' IDENTIFIED BY 'pw'; "
              "GRANT SELECT ON *.* TO 'trib_tc_select'@'127.0.0.1'");
  auto res = run_tributary("test-connection " + maria_file("trib_tc_select", "pw"));
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_EQ(line_about(res.output, "REPLICATION SLAVE"),
            "MISSING  REPLICATION SLAVE: 'trib_tc_select'@'127.0.0.1' may not read the binary "
            "log; grant with GRANT REPLICATION SLAVE ON *.* TO 'trib_tc_select'@'127.0.0.1'")
    << res.output;
  EXPECT_EQ(line_about(res.output, "BINLOG MONITOR (REPLICATION CLIENT)"),
            "MISSING  BINLOG MONITOR (REPLICATION CLIENT): 'trib_tc_select'@'127.0.0.1' may not "
            "read the binlog position (SHOW MASTER STATUS); grant with GRANT BINLOG MONITOR ON "
            "*.* TO 'trib_tc_select'@'127.0.0.1'")
    << res.output;
  EXPECT_TRUE(has(line_about(res.output, "binlog_format"), "ok ")) << res.output;

  maria_admin("GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'trib_tc_select'@'127.0.0.1'");
  auto fixed = run_tributary("test-connection " + maria_file("trib_tc_select", "pw"));
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
}

// Rights through a role (issue 12): REPLICATION SLAVE, BINLOG MONITOR and
// SELECT on one table granted to a role count once it is the user's default
// role, as they do for a run; the table the role may not read is named,
// with the grant that fixes it.
TEST_F(test_connection, a_mariadb_user_with_rights_through_its_default_role) {
  auto filter = maria_database();
  maria_users_.push_back("trib_tc_role");
  maria_roles_.push_back("trib_tc_reader");
  maria_admin("DROP USER IF EXISTS 'trib_tc_role'@'127.0.0.1'; DROP ROLE IF EXISTS trib_tc_reader; "
              "CREATE ROLE trib_tc_reader; "
              "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO trib_tc_reader; "
              "GRANT SELECT ON trib_tc_roles.readable TO trib_tc_reader; "
              "CREATE USER 'trib_tc_role'@'127.0.0.1' IDENTIFIED BY 'pw'; "
              "GRANT trib_tc_reader TO 'trib_tc_role'@'127.0.0.1'");
  auto check = [&] {
    return run_tributary("test-connection " + maria_file("trib_tc_role", "pw") + " --filter " +
                         filter);
  };
  // Granted but not the default role: not active at login, no rights.
  auto inactive = check();
  EXPECT_EQ(inactive.exit_code, 1) << inactive.output;
  EXPECT_EQ(line_about(inactive.output, "REPLICATION SLAVE").rfind("MISSING  ", 0), 0u)
    << inactive.output;
  EXPECT_TRUE(has(line_about(inactive.output, "SELECT on the tables"),
                  "MISSING  SELECT on the tables: not on trib_tc_roles.hidden, "
                  "trib_tc_roles.readable; grant with GRANT SELECT ON trib_tc_roles.* TO "
                  "'trib_tc_role'@'127.0.0.1'"))
    << inactive.output;

  maria_admin("SET DEFAULT ROLE trib_tc_reader FOR 'trib_tc_role'@'127.0.0.1'");
  auto one_missing = check();
  EXPECT_EQ(one_missing.exit_code, 1) << one_missing.output;
  EXPECT_TRUE(has(line_about(one_missing.output, "REPLICATION SLAVE"),
                  "ok       REPLICATION SLAVE: 'trib_tc_role'@'127.0.0.1' has REPLICATION SLAVE"))
    << one_missing.output;
  EXPECT_TRUE(has(line_about(one_missing.output, "BINLOG MONITOR (REPLICATION CLIENT)"), "ok "))
    << one_missing.output;
  EXPECT_TRUE(has(line_about(one_missing.output, "SELECT on the tables"),
                  "MISSING  SELECT on the tables: not on trib_tc_roles.hidden; grant with GRANT "
                  "SELECT ON trib_tc_roles.hidden TO 'trib_tc_role'@'127.0.0.1'"))
    << one_missing.output;

  maria_admin("GRANT SELECT ON trib_tc_roles.hidden TO trib_tc_reader");
  auto fixed = check();
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
  EXPECT_EQ(line_about(fixed.output, "SELECT on the tables"),
            "ok       SELECT on the tables: on all 2 tables")
    << fixed.output;
}

// SELECT through role membership counts for PostgreSQL when the user
// inherits its roles' rights (INHERIT), and not otherwise.
TEST_F(test_connection, a_postgresql_user_with_select_through_a_role) {
  pg_database();
  pg_roles_ = {"trib_tc_member", "trib_tc_readers"};
  pg_admin("postgres", "DROP ROLE IF EXISTS trib_tc_member; DROP ROLE IF EXISTS trib_tc_readers; "
                       "CREATE ROLE trib_tc_readers NOLOGIN; "
                       "CREATE ROLE trib_tc_member LOGIN PASSWORD 'pw' REPLICATION NOINHERIT "
                       "IN ROLE trib_tc_readers");
  pg_admin(pg_db_, "GRANT SELECT ON public.items TO trib_tc_readers");
  auto res = run_tributary("test-connection " + pg_file("trib_tc_member", "pw"));
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_EQ(line_about(res.output, "SELECT on the tables").rfind("MISSING  ", 0), 0u)
    << res.output;
  pg_admin("postgres", "ALTER ROLE trib_tc_member INHERIT");
  auto inherited = run_tributary("test-connection " + pg_file("trib_tc_member", "pw"));
  EXPECT_EQ(line_about(inherited.output, "SELECT on the tables"),
            "ok       SELECT on the tables: on all 1 tables")
    << inherited.output;
}

TEST_F(test_connection, a_redis_user_denied_a_command_is_told_which_through_acl_dryrun) {
  redis_user("trib_tc_nohset", {"~*", "&*", "+@all", "-hset"});
  auto res = run_tributary("test-connection " + redis_file("trib_tc_nohset", "pw"));
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_TRUE(has(line_about(res.output, "rights checked with"), "ACL DRYRUN trib_tc_nohset"))
    << res.output;
  auto hset = line_about(res.output, "HSET");
  EXPECT_EQ(hset.rfind("MISSING  HSET: user trib_tc_nohset may not run it (", 0), 0u) << res.output;
  EXPECT_TRUE(has(hset, "grant with ACL SETUSER trib_tc_nohset +hset")) << hset;
  EXPECT_TRUE(has(line_about(res.output, "HGET"), "ok ")) << res.output;
  EXPECT_TRUE(has(line_about(res.output, "table streams"), "not checked")) << res.output;
}

TEST_F(test_connection, a_redis_user_without_acl_dryrun_is_checked_inside_multi) {
  pg_database();
  // May not run ACL (an admin command), XDEL, nor touch the table streams.
  redis_user("trib_tc_keys", {"~replicate_io_*", "&*", "+@all", "-@admin", "-xdel"});
  auto res = run_tributary("test-connection " + pg_file(source_user(), source_password()) + " " +
                           redis_file("trib_tc_keys", "pw") + " --id trib_tc_probe");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_TRUE(has(line_about(res.output, "rights checked with"), "queued in MULTI"))
    << res.output;
  auto xdel = line_about(res.output, "XDEL");
  EXPECT_TRUE(has(xdel, "MISSING  XDEL: user trib_tc_keys may not run it")) << res.output;
  EXPECT_TRUE(has(xdel, "+xdel")) << xdel;
  auto xadd = line_about(res.output, "XADD");
  EXPECT_TRUE(has(xadd, "MISSING  XADD: user trib_tc_keys may not use it on "
                        "trib_test_connection_public_items")) << res.output;
  EXPECT_TRUE(has(xadd, "~trib_test_connection_public_items_cdc_logs")) << xadd;
  EXPECT_TRUE(has(line_about(res.output, "HSET"), "ok ")) << res.output;
  EXPECT_TRUE(has(line_about(res.output, "INFO"), "ok ")) << res.output;
  EXPECT_TRUE(has(line_about(res.output, "HSET"), "replicate_io_checkpoint_default_trib_tc_probe"))
    << res.output;
  // Nothing was written: no key of the tables or of this --id exists.
  EXPECT_EQ(r_->command({"KEYS", "trib_test_connection_*"}).elements.size(), 0u);
  EXPECT_EQ(r_->command({"KEYS", "*trib_tc_probe*"}).elements.size(), 0u);
}
