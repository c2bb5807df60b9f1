#include "actors/source/my_checks.hpp"

#include <algorithm>
#include <cctype>

#include "actors/source/my_connect.hpp"
#include "actors/source/session_common.hpp"

namespace trib {

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool granted(const binlog_settings& s, std::initializer_list<const char*> any_of) {
  for (const char* p : any_of)
    if (std::find(s.privileges.begin(), s.privileges.end(), p) != s.privileges.end())
      return true;
  return false;
}

bool is_mariadb(const binlog_settings& s) {
  return s.version.find("MariaDB") != std::string::npos;
}

// "ALL PRIVILEGES" or the first of `names` that is granted, for the line.
std::string granted_as(const binlog_settings& s, std::initializer_list<const char*> names) {
  if (granted(s, {"ALL PRIVILEGES"})) return "ALL PRIVILEGES";
  for (const char* p : names)
    if (granted(s, {p})) return p;
  return "";
}

const char* persist_note =
  " (and under [mysqld] in the server's configuration, so that it survives a restart)";

}  // namespace

connection_check my_log_bin(const binlog_settings& s) {
  connection_check c{"log_bin", s.log_bin, ""};
  c.detail = s.log_bin ? "ON"
                       : "OFF: the binary log is off; start the server with --log-bin "
                         "(log_bin=ON under [mysqld]; it cannot be changed while it runs)";
  return c;
}

connection_check my_binlog_format(const binlog_settings& s) {
  connection_check c{"binlog_format", upper(s.binlog_format) == "ROW", s.binlog_format};
  if (!c.ok)
    c.detail = "is " + (s.binlog_format.empty() ? std::string("not set") : s.binlog_format) +
               ", and changes are read from row events: SET GLOBAL binlog_format = 'ROW'" +
               persist_note;
  return c;
}

connection_check my_binlog_row_image(const binlog_settings& s) {
  // Servers before binlog_row_image existed log full images.
  std::string image = s.binlog_row_image.empty() ? "FULL" : s.binlog_row_image;
  connection_check c{"binlog_row_image", upper(image) == "FULL", image};
  if (!c.ok)
    c.detail = "is " + image + ", which leaves columns out of the row images: "
               "SET GLOBAL binlog_row_image = 'FULL'" + persist_note;
  return c;
}

connection_check my_replication_slave(const binlog_settings& s) {
  auto as = granted_as(s, {"REPLICATION SLAVE"});
  connection_check c{"REPLICATION SLAVE", !as.empty(), ""};
  c.detail = c.ok ? s.account + " has " + as
                  : s.account + " may not read the binary log; grant with "
                    "GRANT REPLICATION SLAVE ON *.* TO " + s.account;
  return c;
}

connection_check my_replication_client(const binlog_settings& s) {
  bool mariadb = is_mariadb(s);
  auto as = granted_as(s, {"REPLICATION CLIENT", "BINLOG MONITOR", "SUPER"});
  std::string name = mariadb ? "BINLOG MONITOR" : "REPLICATION CLIENT";
  connection_check c{mariadb ? "BINLOG MONITOR (REPLICATION CLIENT)" : "REPLICATION CLIENT",
                     !as.empty(), ""};
  c.detail = c.ok ? s.account + " has " + as
                  : s.account + " may not read the binlog position (SHOW MASTER STATUS); "
                    "grant with GRANT " + name + " ON *.* TO " + s.account;
  return c;
}

connection_check my_reload(const binlog_settings& s) {
  auto as = granted_as(s, {"RELOAD"});
  connection_check c{"RELOAD", !as.empty(), ""};
  c.detail = c.ok ? s.account + " has " + as
                  : s.account + " may not take the brief read lock that gives a MySQL "
                    "snapshot its binlog position; grant with GRANT RELOAD ON *.* TO " +
                    s.account;
  return c;
}

std::vector<connection_check> check_mysql(const source_config& cfg) {
  auto s = read_binlog_settings(cfg);
  std::vector<connection_check> out;
  out.push_back({"connection", true,
                 source_detail::kind_name(cfg.kind) + " " + s.version + " at " + my_where(cfg) +
                   " as " + s.account});
  out.push_back(my_log_bin(s));
  out.push_back(my_binlog_format(s));
  out.push_back(my_binlog_row_image(s));
  out.push_back(my_replication_slave(s));
  out.push_back(my_replication_client(s));
  if (!is_mariadb(s)) out.push_back(my_reload(s));
  return out;
}

}  // namespace trib
