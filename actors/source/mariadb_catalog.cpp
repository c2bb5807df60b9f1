// list_tables of the MariaDB / MySQL session: tables, columns (their value
// kinds), JSON checks and keys from information_schema; see
// mariadb_session.hpp.

#include <cstdlib>
#include <map>
#include <set>
#include <tuple>

#include "actors/log.hpp"
#include "actors/source/mariadb_session.hpp"
#include "messages/failure.hpp"

namespace trib::source_detail {

namespace {

const char* system_schemas = "('mysql','information_schema','performance_schema','sys')";

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

}  // namespace

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

}  // namespace trib::source_detail
