#pragma once
// A MariaDB server of one test suite's own: for what must not happen to the
// shared test server of ops/servers.sh (other tests use it at the same time):
// restarts, PURGE BINARY LOGS, other binlog settings. Started with the same
// binlog flags as ops/servers.sh; a user `tributary` (password `tributary`)
// has every privilege, as there. Its data directory survives restart().

#include <signal.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <mysql.h>

#include "tests/integration/private_server.hpp"

namespace trib::test {

class private_mariadb {
public:
  /// Initialises a data directory (a few seconds) and starts the server on a
  /// free loopback port with `settings` added to the command line.
  explicit private_mariadb(std::vector<std::string> settings = {})
      : settings_(std::move(settings)) {
    port_ = free_loopback_port();
    dir_ = fresh_dir("trib_private_mariadb_" + std::to_string(port_));
    std::string cmd = "mariadb-install-db --no-defaults --datadir=" + dir_ +
                      "/data --user=root --auth-root-authentication-method=normal "
                      "--skip-test-db > " + dir_ + "/install.log 2>&1";
    if (std::system(cmd.c_str()) != 0)
      throw std::runtime_error("mariadb-install-db failed; see " + dir_ + "/install.log");
    start();
    admin("CREATE USER 'tributary'@'127.0.0.1' IDENTIFIED BY 'tributary';"
          "GRANT ALL PRIVILEGES ON *.* TO 'tributary'@'127.0.0.1'");
  }
  private_mariadb(const private_mariadb&) = delete;
  private_mariadb& operator=(const private_mariadb&) = delete;
  ~private_mariadb() {
    stop();
    std::filesystem::remove_all(dir_);
  }

  int port() const { return port_; }

  /// A source_config for user `user` on this server.
  source_config source(const std::string& user = "tributary",
                       const std::string& password = "tributary") const {
    source_config cfg;
    cfg.kind = source_kind::mariadb;
    cfg.host = "127.0.0.1";
    cfg.port = port_;
    cfg.username = user;
    cfg.password = password;
    cfg.slave_server_ids = {4101};
    return cfg;
  }

  /// Runs statements (';'-separated) as root over the socket; returns the
  /// first column of the first row of the last result ("" when none).
  std::string admin(const std::string& sql) {
    auto row = admin_row(sql);
    return row.empty() ? "" : row[0];
  }

  /// Like admin, but returns the whole first row of the last result.
  std::vector<std::string> admin_row(const std::string& sql) {
    MYSQL* m = mysql_init(nullptr);
    if (!mysql_real_connect(m, nullptr, "root", nullptr, nullptr, 0, socket().c_str(),
                            CLIENT_MULTI_STATEMENTS)) {
      std::string e = mysql_error(m);
      mysql_close(m);
      throw std::runtime_error("private mariadb connect: " + e);
    }
    std::vector<std::string> value;
    std::string err;
    if (mysql_query(m, sql.c_str()) != 0) err = mysql_error(m);
    while (err.empty()) {
      if (MYSQL_RES* r = mysql_store_result(m)) {
        MYSQL_ROW row = mysql_fetch_row(r);
        value.clear();
        for (unsigned i = 0; row && i < mysql_num_fields(r); ++i)
          value.push_back(row[i] ? row[i] : "");
        mysql_free_result(r);
      }
      if (mysql_errno(m) != 0) err = mysql_error(m);
      if (mysql_next_result(m) != 0) break;
    }
    if (err.empty() && mysql_errno(m) != 0) err = mysql_error(m);
    mysql_close(m);
    if (!err.empty()) throw std::runtime_error("private mariadb: " + err + " in: " + sql);
    return value;
  }

  /// SIGTERM, then waits until the server has shut down.
  void stop() { stop_server(pid_, SIGTERM); }

  /// Starts the server (again, on the same port and data) and waits until
  /// it answers.
  void start() {
    std::vector<std::string> args{
      "mariadbd", "--no-defaults", "--datadir=" + dir_ + "/data", "--socket=" + socket(),
      "--port=" + std::to_string(port_), "--bind-address=127.0.0.1", "--user=root",
      "--pid-file=" + dir_ + "/mariadb.pid", "--log-error=" + dir_ + "/mariadb.log",
      "--server-id=1", "--log-bin=mysql-bin", "--binlog-format=ROW",
      "--binlog-row-image=FULL", "--binlog-row-metadata=FULL", "--skip-name-resolve",
      "--innodb-buffer-pool-size=32M"};
    args.insert(args.end(), settings_.begin(), settings_.end());
    pid_ = launch_server(
      args,
      [&] {
        try {
          admin("SELECT 1");
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      dir_ + "/mariadb.log");
  }

private:
  std::string socket() const { return dir_ + "/mariadb.sock"; }

  std::vector<std::string> settings_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace trib::test
