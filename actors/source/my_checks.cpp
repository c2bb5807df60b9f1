#include "actors/source/my_checks.hpp"

#include <mysql.h>

#include <algorithm>
#include <cctype>
#include <memory>

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

connection_check my_select_rights(const std::string& account,
                                  const std::vector<my_table_right>& tables) {
  std::vector<std::string> missing;
  std::string database;
  for (const auto& t : tables)
    if (!t.select) {
      missing.push_back(t.database + "." + t.table);
      database = t.database;
    }
  connection_check c{"SELECT on the tables", missing.empty() && !tables.empty(), ""};
  if (tables.empty()) {
    c.detail = "no table the filter lets through is visible to " + account +
               ", which needs SELECT on the tables it replicates; grant with GRANT SELECT ON "
               "<database>.* TO " + account;
  } else if (missing.empty()) {
    c.detail = "on all " + std::to_string(tables.size()) + " tables";
  } else {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 10; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 10) list += " and " + std::to_string(missing.size() - 10) + " more";
    c.detail = "not on " + list + "; grant with GRANT SELECT ON " +
               (missing.size() == 1 ? missing[0] : database + ".*") + " TO " + account +
               " (or to a role that is its default role: SET DEFAULT ROLE)";
  }
  return c;
}

namespace {

std::string quoted_name(const std::string& n) {
  std::string out = "`";
  for (char ch : n) {
    out += ch;
    if (ch == '`') out += '`';
  }
  return out + "`";
}

}  // namespace

std::vector<my_table_right> read_select_rights(const source_config& cfg,
                                               const filter_config& filter) {
  std::unique_ptr<MYSQL, decltype(&mysql_close)> m(my_connect(cfg, 60), &mysql_close);
  std::string where = source_detail::kind_name(cfg.kind) + " at " + my_where(cfg);
  auto fail = [&](const std::string& doing) {
    unsigned code = mysql_errno(m.get());
    throw error(my_classify(code), "cannot " + doing + ": " + where + " answers: " +
                                     mysql_error(m.get()) + " (" + std::to_string(code) + ")");
  };
  std::vector<my_table_right> out;
  auto add = [&](const std::string& db, const std::string& table) {
    if (!source_detail::filter_allows(filter, table_id{db, "", table})) return;
    for (const auto& t : out)
      if (t.database == db && t.table == table) return;
    out.push_back({db, table, false});
  };
  const std::string list =
    "SELECT table_schema, table_name FROM information_schema.tables "
    "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
    "('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1, 2";
  if (mysql_real_query(m.get(), list.data(), list.size()) != 0) fail("list the tables");
  {
    std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> r(mysql_store_result(m.get()),
                                                               &mysql_free_result);
    if (!r) fail("list the tables");
    while (MYSQL_ROW row = mysql_fetch_row(r.get()))
      if (row[0] && row[1]) add(row[0], row[1]);
  }
  // The server lists no table the user has no right on at all: the ones the
  // filter names are tried as well.
  for (const auto& c : filter.allow)
    for (const auto& [name, t] : c.tables) add(c.catalog, name);
  std::vector<my_table_right> kept;
  for (auto& t : out) {
    auto probe = "SELECT 1 FROM " + quoted_name(t.database) + "." + quoted_name(t.table) +
                 " LIMIT 0";
    if (mysql_real_query(m.get(), probe.data(), probe.size()) == 0) {
      if (MYSQL_RES* r = mysql_store_result(m.get())) mysql_free_result(r);
      t.select = true;
    } else {
      unsigned code = mysql_errno(m.get());
      // ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR: a named table that is not there.
      if (code == 1146 || code == 1049) continue;
      // ER_TABLEACCESS_DENIED_ERROR, ER_COLUMNACCESS_DENIED_ERROR.
      if (code != 1142 && code != 1143) fail("try SELECT on " + t.database + "." + t.table);
    }
    kept.push_back(std::move(t));
  }
  return kept;
}

std::vector<connection_check> check_mysql(const source_config& cfg, const filter_config& filter) {
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
  out.push_back(my_select_rights(s.account, read_select_rights(cfg, filter)));
  return out;
}

}  // namespace trib
