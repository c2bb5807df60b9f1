#include "actors/source/binlog_settings.hpp"

#include <mysql.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "actors/log.hpp"
#include "actors/source/my_connect.hpp"
#include "actors/source/session_common.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

bool has(const std::vector<std::string>& privileges, const std::string& p) {
  return std::find(privileges.begin(), privileges.end(), p) != privileges.end();
}

/// "tributary@127.0.0.1" (CURRENT_USER()) as GRANT spells it.
std::string account_of(const std::string& current_user) {
  size_t at = current_user.rfind('@');
  if (at == std::string::npos) return "'" + current_user + "'";
  return "'" + current_user.substr(0, at) + "'@'" + current_user.substr(at + 1) + "'";
}

}  // namespace

std::vector<std::string> global_privileges(const std::vector<std::string>& grant_lines) {
  std::vector<std::string> out;
  for (const auto& line : grant_lines) {
    std::string u = upper(line);
    // "GRANT <list> ON *.* TO ..."; a role grant ("GRANT r TO u") has no ON.
    if (u.rfind("GRANT ", 0) != 0) continue;
    size_t on = u.find(" ON *.* TO ");
    if (on == std::string::npos) continue;
    std::string list = u.substr(6, on - 6);
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      std::string p = trim(list.substr(start, comma - start));
      // MySQL 8.0.26+ may spell it REPLICATION REPLICA.
      if (p == "REPLICATION REPLICA") p = "REPLICATION SLAVE";
      if (!p.empty() && !has(out, p)) out.push_back(p);
      start = comma + 1;
    }
  }
  return out;
}

std::vector<std::string> binlog_settings_problems(const binlog_settings& s, bool full) {
  std::vector<std::string> out;
  bool mariadb = s.version.find("MariaDB") != std::string::npos;
  auto persist = [](const std::string& setting) {
    return " (and " + setting + " under [mysqld] in the server's configuration, so that it "
           "survives a restart; sessions already open keep the old value)";
  };
  if (!s.log_bin) {
    out.push_back("the binary log is off (log_bin=OFF): start the server with --log-bin "
                  "(log_bin=ON under [mysqld]; it cannot be changed while the server runs)");
  } else {
    if (upper(s.binlog_format) != "ROW")
      out.push_back("binlog_format is " + s.binlog_format +
                    ", and changes are read from row events: run SET GLOBAL binlog_format = "
                    "'ROW'" + persist("binlog_format=ROW"));
    if (upper(s.binlog_row_image) != "FULL")
      out.push_back("binlog_row_image is " + s.binlog_row_image +
                    ", which leaves columns out of the row images: run SET GLOBAL "
                    "binlog_row_image = 'FULL'" + persist("binlog_row_image=FULL"));
  }
  bool all = has(s.privileges, "ALL PRIVILEGES");
  if (!all && !has(s.privileges, "REPLICATION SLAVE"))
    out.push_back("user " + s.account + " may not read the binary log: run GRANT REPLICATION "
                  "SLAVE ON *.* TO " + s.account);
  if (full && !mariadb && !all && !has(s.privileges, "RELOAD"))
    out.push_back("user " + s.account + " may not take the brief read lock that gives a MySQL "
                  "snapshot its binlog position: run GRANT RELOAD ON *.* TO " + s.account);
  return out;
}

binlog_settings read_binlog_settings(const source_config& cfg) {
  std::unique_ptr<MYSQL, decltype(&mysql_close)> m(my_connect(cfg, 60), &mysql_close);
  std::string where = source_detail::kind_name(cfg.kind) + " at " + my_where(cfg);
  auto fail = [&](const std::string& doing) {
    unsigned code = mysql_errno(m.get());
    throw error(my_classify(code), "cannot " + doing + ": " + where + " answers: " +
                                     mysql_error(m.get()) + " (" + std::to_string(code) + ")");
  };
  auto rows = [&](const std::string& sql, const std::string& doing) {
    if (mysql_real_query(m.get(), sql.data(), sql.size()) != 0) fail(doing);
    std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> r(mysql_store_result(m.get()),
                                                               &mysql_free_result);
    if (!r) fail(doing);
    std::vector<std::vector<std::string>> out;
    unsigned n = mysql_num_fields(r.get());
    while (MYSQL_ROW row = mysql_fetch_row(r.get())) {
      out.emplace_back();
      for (unsigned i = 0; i < n; ++i) out.back().push_back(row[i] ? row[i] : "");
    }
    return out;
  };
  binlog_settings s;
  auto head = rows("SELECT VERSION(), CURRENT_USER()", "read the server version");
  if (!head.empty()) {
    s.version = head[0][0];
    s.account = account_of(head[0][1]);
  }
  // SHOW VARIABLES, not @@names: a variable the server lacks is then absent
  // rather than an error.
  for (const auto& r : rows("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', "
                            "'binlog_format', 'binlog_row_image', 'binlog_row_metadata')",
                            "read the binlog settings")) {
    std::string name = r[0], value = r[1];
    if (name == "log_bin") s.log_bin = upper(value) == "ON" || value == "1";
    if (name == "binlog_format") s.binlog_format = value;
    if (name == "binlog_row_image") s.binlog_row_image = value;
    if (name == "binlog_row_metadata") s.binlog_row_metadata = value;
  }
  std::vector<std::string> grants;
  // SHOW GRANTS, not SHOW GRANTS FOR CURRENT_USER(): on MariaDB only the
  // former lists the grants of the session's role as well, which the
  // user's default role (SET DEFAULT ROLE) makes its rights at login.
  for (const auto& r : rows("SHOW GRANTS", "read the user's privileges"))
    grants.push_back(r[0]);
  s.privileges = global_privileges(grants);
  return s;
}

void check_binlog_settings(const source_config& cfg, bool full) {
  auto s = read_binlog_settings(cfg);
  auto problems = binlog_settings_problems(s, full);
  std::string where = source_detail::kind_name(cfg.kind) + " at " + my_where(cfg);
  if (!problems.empty()) {
    std::string msg = where + " cannot serve realtime replication: ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    throw error(failure_code::config, msg);
  }
  if (upper(s.binlog_row_metadata) != "FULL")
    log::info("reads column names and keys of " + where + " from information_schema: "
              "binlog_row_metadata is " +
              (s.binlog_row_metadata.empty() ? std::string("not offered")
                                             : s.binlog_row_metadata) +
              " (FULL puts them into the binlog itself)");
}

}  // namespace trib
