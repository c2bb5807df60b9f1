// The MariaDB / MySQL session itself: the connection, statements and the
// snapshot with its binlog position; see mariadb_session.hpp.

#include "actors/source/mariadb_session.hpp"

#include <cctype>
#include <cstdlib>

#include "actors/log.hpp"
#include "actors/source/mariadb_text.hpp"
#include "actors/source/my_connect.hpp"
#include "messages/failure.hpp"

namespace trib::source_detail {

std::string quote_ident(const std::string& name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + '`';
}

std::string qualified(const table_id& id) {
  return quote_ident(id.catalog) + "." + quote_ident(id.table);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

my_session::my_session(MYSQL* m, const source_config& cfg)
  : m_(m),
    kind_(cfg.kind),
    where_(cfg.host + ":" + std::to_string(effective_port(cfg)) + " as user " + cfg.username) {
  try {
    // UTC makes TIMESTAMP values canonical; a long write timeout lets a
    // streaming read pause while the pipeline behind it catches up.
    query("SET time_zone = '+00:00', net_write_timeout = 3600", "set up the session");
    auto r = store("SELECT VERSION(), @@server_id", "read the server version");
    MYSQL_ROW row = mysql_fetch_row(r.get());
    version_ = row && row[0] ? row[0] : "";
    server_id_ = row && row[1] ? std::stoll(row[1]) : 0;
    mariadb_ = version_.find("MariaDB") != std::string::npos;
  } catch (...) {
    mysql_close(m_);  // the destructor does not run for a failed constructor
    throw;
  }
}

std::optional<std::pair<std::string, std::string>> my_session::integer_range(
  const table_schema& t, const std::string& column, const std::string& conditions) {
  std::string sql = "SELECT MIN(" + quote_ident(column) + "), MAX(" + quote_ident(column) +
                    ") FROM " + qualified(t.id);
  if (!conditions.empty()) sql += " WHERE (" + conditions + ")";
  auto r = store(sql, "find the split-key range of " + to_string(t.id));
  MYSQL_ROW row = mysql_fetch_row(r.get());
  if (!row || !row[0] || !row[1]) return std::nullopt;
  return std::make_pair(std::string(row[0]), std::string(row[1]));
}

void my_session::query(const std::string& sql, const std::string& doing) {
  if (streaming_)
    throw error(failure_code::internal,
                "cannot " + doing + " while a table is streaming on the same session");
  if (mysql_real_query(m_, sql.data(), sql.size()) != 0) fail(doing);
}

result_ptr my_session::store(const std::string& sql, const std::string& doing) {
  query(sql, doing);
  result_ptr r(mysql_store_result(m_), &mysql_free_result);
  if (!r) fail(doing);
  return r;
}

result_ptr my_session::stream(const std::string& sql, const std::string& doing) {
  query(sql, doing);
  result_ptr r(mysql_use_result(m_), &mysql_free_result);
  if (!r) fail(doing);
  return r;
}

void my_session::fail(const std::string& doing) {
  unsigned code = mysql_errno(m_);
  auto fc = my_classify(code);
  std::string name = kind_name(kind_);
  std::string prefix = fc == failure_code::connection
                         ? "loses the connection to " + name + " at " + where_
                         : name + " at " + where_ + " refuses";
  throw error(fc, "cannot " + doing + ": " + prefix + ": " + mysql_error(m_) +
                    " (" + std::to_string(code) + ")");
}

std::string my_session::literal(const cell& c, const column_info& col) {
  if (c.null) return "NULL";
  switch (col.kind) {
    case value_kind::int8: case value_kind::int16: case value_kind::int32:
    case value_kind::int64: case value_kind::uint8: case value_kind::uint16:
    case value_kind::uint32: case value_kind::uint64: case value_kind::decimal:
    case value_kind::float32: case value_kind::float64: case value_kind::year: {
      bool numeric = !c.text.empty() &&
                     c.text.find_first_not_of("0123456789+-.eE") == std::string::npos;
      if (numeric) return c.text;
      break;
    }
    case value_kind::bytes: return "X'" + to_hex(c.text) + "'";
    case value_kind::bits:
      if (c.text.find_first_not_of("01") == std::string::npos) return "b'" + c.text + "'";
      break;
    case value_kind::enumeration: {
      // ORDER BY sorts an ENUM by its index and a number compares with the
      // index too, while a quoted label would compare as a string.
      for (size_t i = 0; i < col.allowed.size(); ++i)
        if (col.allowed[i] == c.text) return std::to_string(i + 1);
      break;
    }
    case value_kind::set: {
      // Likewise a SET sorts and compares as its bit mask.
      uint64_t mask = 0;
      size_t start = 0;
      bool known = true;
      while (known && !c.text.empty() && start <= c.text.size()) {
        size_t end = c.text.find(',', start);
        if (end == std::string::npos) end = c.text.size();
        std::string label = c.text.substr(start, end - start);
        known = false;
        for (size_t i = 0; i < col.allowed.size() && i < 64; ++i)
          if (col.allowed[i] == label) {
            mask |= uint64_t{1} << i;
            known = true;
          }
        start = end + 1;
      }
      if (known) return std::to_string(mask);
      break;
    }
    case value_kind::timestamptz: {
      std::string v = c.text;
      if (v.size() > 3 && v.compare(v.size() - 3, 3, "+00") == 0) v.resize(v.size() - 3);
      return quote(v);
    }
    default: break;
  }
  return quote(c.text);
}

std::string my_session::quote(const std::string& v) {
  std::string buf(v.size() * 2 + 1, '\0');
  auto n = mysql_real_escape_string(m_, &buf[0], v.data(), v.size());
  buf.resize(n);
  return "'" + buf + "'";
}

source_position my_session::begin_snapshot() {
  if (in_txn_) throw error(failure_code::internal, "begins a snapshot twice");
  source_position pos;
  if (mariadb_) {
    // MariaDB reports the binlog position of a consistent snapshot without
    // any lock (binlog_snapshot_file/position).
    query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "begin the snapshot");
    query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", "begin the snapshot");
    in_txn_ = true;
    auto r = store("SHOW STATUS LIKE 'binlog\\_snapshot\\_%'", "read the binlog position");
    while (MYSQL_ROW row = mysql_fetch_row(r.get())) {
      std::string name = lower(row[0]);
      if (name == "binlog_snapshot_file") pos.binlog_file = row[1] ? row[1] : "";
      if (name == "binlog_snapshot_position") pos.binlog_pos = std::strtoull(row[1], nullptr, 10);
    }
    if (!pos.binlog_file.empty()) {
      auto g = store("SELECT BINLOG_GTID_POS(" + quote(pos.binlog_file) + ", " +
                       std::to_string(pos.binlog_pos) + ")",
                     "read the gtid position");
      MYSQL_ROW row = mysql_fetch_row(g.get());
      if (row && row[0]) pos.gtid = row[0];
    }
  } else {
    // MySQL has no snapshot position: hold a global read lock for the moment
    // it takes to start the transaction and read the position (as mysqldump
    // --single-transaction --master-data does).
    query("FLUSH TABLES WITH READ LOCK", "lock tables for the snapshot");
    try {
      query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "begin the snapshot");
      query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", "begin the snapshot");
      in_txn_ = true;
      auto r = store("SHOW MASTER STATUS", "read the binlog position");
      if (MYSQL_ROW row = mysql_fetch_row(r.get())) {
        pos.binlog_file = row[0] ? row[0] : "";
        pos.binlog_pos = row[1] ? std::strtoull(row[1], nullptr, 10) : 0;
        if (mysql_num_fields(r.get()) > 4 && row[4]) pos.gtid = row[4];
      }
    } catch (...) {
      mysql_real_query(m_, "UNLOCK TABLES", 13);
      throw;
    }
    query("UNLOCK TABLES", "unlock tables after the snapshot began");
  }
  if (pos.binlog_file.empty())
    log::warn("begins the snapshot without a binlog position: is log_bin off?");
  else
    log::debug("begins the snapshot at " + pos.binlog_file + ":" + std::to_string(pos.binlog_pos) +
              (pos.gtid.empty() ? "" : " (gtid " + pos.gtid + ")"));
  return pos;
}

std::unique_ptr<source_session> open_mariadb(const source_config& cfg) {
  // An hour is far longer than any page or pause of the pipeline.
  return std::make_unique<my_session>(my_connect(cfg, 3600), cfg);
}

}  // namespace trib::source_detail
