// The MariaDB / MySQL source session, over mariadb-connector-c and the text
// protocol. Values arrive as text with binary-safe lengths; BIT (raw bytes)
// and TIMESTAMP (needs the "+00" of canonical timestamptz) are converted here.
//
// Decisions:
// - TINYINT(1) stays int8: MariaDB has no boolean type, and a TINYINT(1)
//   holds -128..127 like any other TINYINT.
// - A table without order columns streams with mysql_use_result; while it is
//   open the session can run nothing else, so only one such reader may be
//   open at a time (a second query throws failure_code::internal).
// - Key values of ENUM and SET columns are compared by index / bit mask, the
//   order ORDER BY uses, not by label.

#include <mysql.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "actors/log.hpp"
#include "actors/source/mariadb_text.hpp"
#include "actors/source/my_connect.hpp"
#include "actors/source/session_common.hpp"
#include "messages/failure.hpp"

namespace trib::source_detail {

namespace {

using result_ptr = std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)>;

const char* system_schemas = "('mysql','information_schema','performance_schema','sys')";

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

/// The quoted labels of "enum('a','b''c')" / "set(...)".
std::vector<std::string> parse_labels(const std::string& column_type) {
  std::vector<std::string> out;
  size_t i = column_type.find('(');
  if (i == std::string::npos) return out;
  std::string cur;
  bool quoted = false;
  for (++i; i < column_type.size(); ++i) {
    char c = column_type[i];
    if (!quoted) {
      if (c == '\'') quoted = true, cur.clear();
      continue;
    }
    if (c == '\'') {
      if (i + 1 < column_type.size() && column_type[i + 1] == '\'') {
        cur += '\'';
        ++i;
      } else {
        quoted = false;
        out.push_back(cur);
      }
    } else if (c == '\\' && i + 1 < column_type.size()) {
      cur += column_type[++i];
    } else {
      cur += c;
    }
  }
  return out;
}

/// COLUMN_DEFAULT as MariaDB 10.2+ reports it: literals quoted, expressions
/// bare, "NULL" for a nullable column without default.
bool parse_default(const char* raw, bool mariadb, std::string& out) {
  if (!raw) return false;
  std::string v = raw;
  if (mariadb && v == "NULL") return false;
  if (mariadb && v.size() >= 2 && v.front() == '\'' && v.back() == '\'') {
    out.clear();
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\'' && v[i + 1] == '\'') ++i;
      out += v[i];
    }
    return true;
  }
  out = v;
  return true;
}

/// Value kind and precision of a column from information_schema.COLUMNS.
void describe(column_info& c, const std::string& data_type, const std::string& column_type,
              const char* precision, const char* scale, const char* dt_precision) {
  bool is_unsigned = column_type.find("unsigned") != std::string::npos;
  auto num = [](const char* v) { return v ? std::atoi(v) : 0; };
  std::string upper_type = upper_outside_quotes(column_type, '\'');
  c.source_type = upper_type;
  auto integer = [&](value_kind s, value_kind u) {
    c.kind = is_unsigned ? u : s;
    // Display widths ("int(11)") mean nothing for the values; Arcion's
    // dump shows the bare type.
    c.source_type = upper_outside_quotes(data_type, '\'');
    if (is_unsigned) c.source_type += " UNSIGNED";
    if (column_type.find("zerofill") != std::string::npos) c.source_type += " ZEROFILL";
  };
  if (data_type == "tinyint") integer(value_kind::int8, value_kind::uint8);
  else if (data_type == "smallint") integer(value_kind::int16, value_kind::uint16);
  else if (data_type == "mediumint" || data_type == "int")
    integer(value_kind::int32, value_kind::uint32);
  else if (data_type == "bigint") integer(value_kind::int64, value_kind::uint64);
  else if (data_type == "decimal") {
    c.kind = value_kind::decimal;
    c.precision = num(precision);
    c.scale = num(scale);
  } else if (data_type == "float" || data_type == "double" || data_type == "real") {
    c.kind = data_type == "float" ? value_kind::float32 : value_kind::float64;
    // FLOAT(M,D) prints D fraction digits; the binlog decoder needs D to
    // print the same.
    c.scale = num(scale);
  }
  else if (data_type == "char" || data_type == "varchar" || data_type == "tinytext" ||
           data_type == "text" || data_type == "mediumtext" || data_type == "longtext")
    c.kind = value_kind::text;
  else if (data_type == "binary" || data_type == "varbinary" || data_type == "tinyblob" ||
           data_type == "blob" || data_type == "mediumblob" || data_type == "longblob")
    c.kind = value_kind::bytes;
  else if (data_type == "date") c.kind = value_kind::date;
  else if (data_type == "time") {
    c.kind = value_kind::time;
    c.precision = num(dt_precision);
  } else if (data_type == "datetime") {
    c.kind = value_kind::timestamp;
    c.precision = num(dt_precision);
  } else if (data_type == "timestamp") {
    c.kind = value_kind::timestamptz;
    c.precision = num(dt_precision);
  } else if (data_type == "year") {
    c.kind = value_kind::year;
    c.source_type = "YEAR";
  } else if (data_type == "bit") {
    c.kind = value_kind::bits;
    c.precision = num(precision);
  } else if (data_type == "enum") {
    c.kind = value_kind::enumeration;
    c.allowed = parse_labels(column_type);
  } else if (data_type == "set") {
    c.kind = value_kind::set;
    c.allowed = parse_labels(column_type);
  } else if (data_type == "json") c.kind = value_kind::json;   // MySQL
  else if (data_type == "uuid") c.kind = value_kind::uuid;     // MariaDB 10.7+
  else if (data_type == "geometry" || data_type == "point" || data_type == "linestring" ||
           data_type == "polygon" || data_type.rfind("multi", 0) == 0 ||
           data_type == "geometrycollection")
    c.kind = value_kind::bytes;  // the server's internal WKB form
  else c.kind = value_kind::text;  // inet4, inet6 and anything newer
}

/// How one result column becomes canonical text.
enum class conversion : uint8_t { plain, bits, timestamptz };

struct row_shape {
  std::vector<conversion> conv;
  std::vector<int32_t> bit_length;
};

row_shape shape_of(const table_schema& t) {
  row_shape s;
  for (const auto& c : t.columns) {
    s.conv.push_back(c.kind == value_kind::bits          ? conversion::bits
                     : c.kind == value_kind::timestamptz ? conversion::timestamptz
                                                         : conversion::plain);
    s.bit_length.push_back(c.precision);
  }
  return s;
}

class my_session : public source_session {
public:
  my_session(MYSQL* m, const source_config& cfg)
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

  ~my_session() override { mysql_close(m_); }

  source_facts facts() override {
    source_facts f;
    f.kind = kind_;
    f.version = version_;
    f.server_id = server_id_;
    return f;
  }

  std::vector<table_schema> list_tables(const filter_config& filter,
                                        const extractor_config& ex) override;

  source_position begin_snapshot() override;

  std::unique_ptr<table_reader> open_table(const table_schema& t,
                                           const std::vector<cell>& after_key,
                                           const std::string& conditions) override;

  void end_snapshot() override {
    if (!in_txn_) return;
    in_txn_ = false;
    query("COMMIT", "end the snapshot");
  }

  std::optional<std::pair<std::string, std::string>> integer_range(
    const table_schema& t, const std::string& column, const std::string& conditions) override {
    std::string sql = "SELECT MIN(" + quote_ident(column) + "), MAX(" + quote_ident(column) +
                      ") FROM " + qualified(t.id);
    if (!conditions.empty()) sql += " WHERE (" + conditions + ")";
    auto r = store(sql, "find the split-key range of " + to_string(t.id));
    MYSQL_ROW row = mysql_fetch_row(r.get());
    if (!row || !row[0] || !row[1]) return std::nullopt;
    return std::make_pair(std::string(row[0]), std::string(row[1]));
  }

  /// Runs a statement; throws a classified trib::error.
  void query(const std::string& sql, const std::string& doing) {
    if (streaming_)
      throw error(failure_code::internal,
                  "cannot " + doing + " while a table is streaming on the same session");
    if (mysql_real_query(m_, sql.data(), sql.size()) != 0) fail(doing);
  }

  result_ptr store(const std::string& sql, const std::string& doing) {
    query(sql, doing);
    result_ptr r(mysql_store_result(m_), &mysql_free_result);
    if (!r) fail(doing);
    return r;
  }

  /// Starts a query whose rows are read as they arrive.
  result_ptr stream(const std::string& sql, const std::string& doing) {
    query(sql, doing);
    result_ptr r(mysql_use_result(m_), &mysql_free_result);
    if (!r) fail(doing);
    return r;
  }

  [[noreturn]] void fail(const std::string& doing) {
    unsigned code = mysql_errno(m_);
    auto fc = my_classify(code);
    std::string name = kind_name(kind_);
    std::string prefix = fc == failure_code::connection
                           ? "loses the connection to " + name + " at " + where_
                           : name + " at " + where_ + " refuses";
    throw error(fc, "cannot " + doing + ": " + prefix + ": " + mysql_error(m_) +
                      " (" + std::to_string(code) + ")");
  }

  /// A SQL literal for a key value in canonical text, typed so that the
  /// comparison is exact (an integer against a quoted string would compare
  /// as doubles and lose precision above 2^53).
  std::string literal(const cell& c, const column_info& col) {
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

  std::string quote(const std::string& v) {
    std::string buf(v.size() * 2 + 1, '\0');
    auto n = mysql_real_escape_string(m_, &buf[0], v.data(), v.size());
    buf.resize(n);
    return "'" + buf + "'";
  }

  MYSQL* handle() { return m_; }
  void set_streaming(bool on) { streaming_ = on; }

private:
  MYSQL* m_;
  source_kind kind_;
  std::string where_;
  std::string version_;
  int64_t server_id_ = 0;
  bool mariadb_ = false;
  bool in_txn_ = false;
  bool streaming_ = false;
};

std::vector<table_schema> my_session::list_tables(const filter_config& filter,
                                                  const extractor_config& ex) {
  // Restrict the information_schema scans to the filter's databases when it
  // names them all: on servers with many databases these scans are slow.
  std::string schemas = "TABLE_SCHEMA NOT IN " + std::string(system_schemas);
  std::set<std::string> catalogs;
  bool every_catalog_named = filter.given();
  for (const auto& fc : filter.allow) {
    if (fc.catalog.empty()) every_catalog_named = false;
    catalogs.insert(fc.catalog);
  }
  if (every_catalog_named) {
    std::string list;
    for (const auto& c : catalogs) list += (list.empty() ? "" : ",") + quote(c);
    schemas += " AND TABLE_SCHEMA IN (" + list + ")";
  }

  std::map<std::pair<std::string, std::string>, table_schema> tables;
  {
    auto r = store("SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0) "
                   "FROM information_schema.TABLES "
                   "WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND " + schemas,
                   "list tables");
    while (MYSQL_ROW row = mysql_fetch_row(r.get())) {
      table_schema t;
      t.id = table_id{row[0], "", row[1]};
      t.estimated_rows = std::strtoull(row[2], nullptr, 10);
      tables.emplace(std::make_pair(t.id.catalog, t.id.table), std::move(t));
    }
  }

  // MariaDB's JSON is LONGTEXT with a json_valid() check named after the
  // column; MySQL has a real JSON type.
  std::set<std::tuple<std::string, std::string, std::string>> json_columns;
  if (mariadb_) {
    try {
      auto r = store("SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CHECK_CLAUSE "
                     "FROM information_schema.CHECK_CONSTRAINTS "
                     "WHERE CHECK_CLAUSE LIKE 'json\\_valid(%'",
                     "list json checks");
      while (MYSQL_ROW row = mysql_fetch_row(r.get())) {
        std::string clause = row[2] ? row[2] : "";
        const std::string head = "json_valid(`", tail = "`)";
        if (clause.size() > head.size() + tail.size() && clause.rfind(head, 0) == 0 &&
            clause.compare(clause.size() - tail.size(), tail.size(), tail) == 0) {
          std::string col = clause.substr(head.size(), clause.size() - head.size() - tail.size());
          if (col.find('`') == std::string::npos) json_columns.emplace(row[0], row[1], col);
        }
      }
    } catch (const error& e) {
      if (e.code() == failure_code::connection) throw;
      log::warn("cannot detect json columns, reads them as text: " + std::string(e.what()));
    }
  }

  {
    auto r = store("SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, "
                   "IS_NULLABLE, COLUMN_DEFAULT, EXTRA, NUMERIC_PRECISION, NUMERIC_SCALE, "
                   "DATETIME_PRECISION FROM information_schema.COLUMNS WHERE " + schemas +
                   " ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
                   "list columns");
    while (MYSQL_ROW row = mysql_fetch_row(r.get())) {
      auto it = tables.find({row[0], row[1]});
      if (it == tables.end()) continue;
      column_info c;
      c.name = row[2];
      std::string data_type = lower(row[3]), column_type = lower(row[4]);
      describe(c, data_type, column_type, row[8], row[9], row[10]);
      if (data_type == "longtext" && json_columns.count({row[0], row[1], c.name})) {
        c.kind = value_kind::json;
        c.source_type = "JSON";
      }
      c.not_null = std::string(row[5]) == "NO";
      std::string extra = lower(row[7] ? row[7] : "");
      c.identity = extra.find("auto_increment") != std::string::npos;
      c.generated = extra.find("generated") != std::string::npos ||
                    extra.find("virtual") != std::string::npos ||
                    extra.find("persistent") != std::string::npos ||
                    extra.find("stored") != std::string::npos;
      if (!c.generated) c.has_default = parse_default(row[6], mariadb_, c.default_value);
      it->second.columns.push_back(std::move(c));
    }
  }

  {
    // Unique indexes in key order, the primary key first. An index with an
    // expression part (COLUMN_NAME NULL, MySQL 8) does not identify rows.
    auto r = store("SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME "
                   "FROM information_schema.STATISTICS WHERE NON_UNIQUE = 0 AND " + schemas +
                   " ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, "
                   "INDEX_NAME, SEQ_IN_INDEX",
                   "list keys");
    std::map<std::pair<std::string, std::string>,
             std::vector<std::pair<std::string, std::vector<std::string>>>> indexes;
    std::set<std::tuple<std::string, std::string, std::string>> broken;
    while (MYSQL_ROW row = mysql_fetch_row(r.get())) {
      auto& list = indexes[{row[0], row[1]}];
      if (list.empty() || list.back().first != row[2]) list.push_back({row[2], {}});
      if (!row[3]) broken.emplace(row[0], row[1], row[2]);
      else list.back().second.push_back(row[3]);
    }
    for (auto& [key, list] : indexes) {
      auto it = tables.find(key);
      if (it == tables.end()) continue;
      for (auto& [name, cols] : list) {
        if (broken.count({key.first, key.second, name})) continue;
        if (name == "PRIMARY") it->second.primary_key = std::move(cols);
        else it->second.unique_keys.push_back(std::move(cols));
      }
    }
  }

  std::vector<table_schema> all;
  for (auto& [key, t] : tables) all.push_back(std::move(t));
  return finish_listing(std::move(all), filter, ex);
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

std::string select_list(const table_schema& t) {
  std::string out;
  for (const auto& c : t.columns) {
    if (!out.empty()) out += ", ";
    out += quote_ident(c.name);
  }
  return out;
}

/// Reads up to `limit` rows of a streaming result; false at its end.
bool fetch_rows(my_session& s, MYSQL_RES* res, const row_shape& shape, size_t limit,
                table_reader& rows, std::vector<row>& out, const std::string& doing) {
  unsigned cols = mysql_num_fields(res);
  if (cols != shape.conv.size())
    throw error(failure_code::internal, "cannot " + doing + ": the server returns " +
                                          std::to_string(cols) + " columns");
  for (size_t n = 0; n < limit; ++n) {
    MYSQL_ROW r = mysql_fetch_row(res);
    if (!r) {
      if (mysql_errno(s.handle()) != 0) s.fail(doing);
      return false;
    }
    unsigned long* lens = mysql_fetch_lengths(res);
    row rw = rows.take_row(cols);
    for (unsigned j = 0; j < cols; ++j) {
      auto& c = rw.cells[j];
      fill_cell(c, r[j], r[j] ? lens[j] : 0);
      if (!r[j]) continue;
      switch (shape.conv[j]) {
        case conversion::plain: break;
        case conversion::bits: c.text = my_bits_text(r[j], lens[j], shape.bit_length[j]); break;
        case conversion::timestamptz: my_timestamptz_text(c.text); break;
      }
    }
    out.push_back(std::move(rw));
  }
  return true;
}

/// Keyset pagination with the key comparison spelled out, because MariaDB's
/// range optimizer does not use an index for a row-constructor comparison:
/// `k1 >= v1 AND (k1 > v1 OR (k1 = v1 AND k2 > v2))` starts the index scan at
/// v1 and pages cost only their own rows.
class my_keyset_reader : public table_reader {
public:
  my_keyset_reader(my_session& s, const table_schema& t, std::vector<cell> after_key,
                   const std::string& conditions)
    : s_(s), t_(t), name_(to_string(t.id)), key_(order_columns(t)), shape_(shape_of(t)),
      last_key_(std::move(after_key)) {
    head_ = "SELECT " + select_list(t) + " FROM " + qualified(t.id);
    for (size_t k = 0; k < key_.size(); ++k)
      order_ += (k ? ", " : "") + quote_ident(t.columns[key_[k]].name);
    if (!conditions.empty()) conditions_ = "(" + conditions + ")";
    if (!last_key_.empty() && last_key_.size() != key_.size())
      throw error(failure_code::internal, "resumes " + name_ + " with a key of the wrong size");
  }

  std::vector<row> next(size_t limit) override {
    std::vector<row> out;
    if (done_) return out;
    if (limit == 0) limit = 1;
    std::vector<std::string> where;
    if (!last_key_.empty()) where.push_back(after_last_key());
    if (!conditions_.empty()) where.push_back(conditions_);
    std::string sql = head_;
    for (size_t i = 0; i < where.size(); ++i) sql += (i ? " AND " : " WHERE ") + where[i];
    sql += " ORDER BY " + order_ + " LIMIT " + std::to_string(limit);
    std::string doing = "read " + name_;
    auto res = s_.stream(sql, doing);
    // A page is read to its end (LIMIT bounds it) before the next
    // statement, as the protocol requires.
    fetch_rows(s_, res.get(), shape_, limit + 1, *this, out, doing);
    if (out.empty()) {
      done_ = true;
      return out;
    }
    std::vector<cell> key;
    for (size_t k : key_) key.push_back(out.back().cells[k]);
    last_key_ = std::move(key);
    return out;
  }

private:
  std::string after_last_key() {
    std::vector<std::string> cols, vals;
    for (size_t k = 0; k < key_.size(); ++k) {
      const auto& col = t_.columns[key_[k]];
      cols.push_back(quote_ident(col.name));
      vals.push_back(s_.literal(last_key_[k], col));
    }
    size_t n = cols.size();
    std::string pred = cols[n - 1] + " > " + vals[n - 1];
    for (size_t k = n - 1; k-- > 0;)
      pred = "(" + cols[k] + " > " + vals[k] + " OR (" + cols[k] + " = " + vals[k] +
             " AND " + pred + "))";
    if (n > 1) pred = cols[0] + " >= " + vals[0] + " AND " + pred;
    return "(" + pred + ")";
  }

  my_session& s_;
  table_schema t_;
  std::string name_;
  std::vector<size_t> key_;
  row_shape shape_;
  std::vector<cell> last_key_;
  std::string head_, order_, conditions_;
  bool done_ = false;
};

/// One pass over a table without order columns, streamed with
/// mysql_use_result; the session is busy until the reader ends.
class my_stream_reader : public table_reader {
public:
  my_stream_reader(my_session& s, const table_schema& t, const std::string& conditions)
    : s_(s), name_(to_string(t.id)), shape_(shape_of(t)), res_(nullptr, &mysql_free_result) {
    std::string sql = "SELECT " + select_list(t) + " FROM " + qualified(t.id);
    if (!conditions.empty()) sql += " WHERE (" + conditions + ")";
    res_ = s_.stream(sql, "read " + name_);
    s_.set_streaming(true);
  }

  ~my_stream_reader() override { finish(); }

  std::vector<row> next(size_t limit) override {
    std::vector<row> out;
    if (!res_) return out;
    try {
      if (!fetch_rows(s_, res_.get(), shape_, limit ? limit : 1, *this, out, "read " + name_))
        finish();
    } catch (...) {
      finish();
      throw;
    }
    return out;
  }

private:
  void finish() {
    if (!res_) return;
    res_.reset();  // mysql_free_result reads what is left of the result
    s_.set_streaming(false);
  }

  my_session& s_;
  std::string name_;
  row_shape shape_;
  result_ptr res_;
};

std::unique_ptr<table_reader> my_session::open_table(const table_schema& t,
                                                     const std::vector<cell>& after_key,
                                                     const std::string& conditions) {
  if (!order_columns(t).empty())
    return std::make_unique<my_keyset_reader>(*this, t, after_key, conditions);
  return std::make_unique<my_stream_reader>(*this, t, conditions);
}

}  // namespace

std::unique_ptr<source_session> open_mariadb(const source_config& cfg) {
  // An hour is far longer than any page or pause of the pipeline.
  return std::make_unique<my_session>(my_connect(cfg, 3600), cfg);
}

}  // namespace trib::source_detail
