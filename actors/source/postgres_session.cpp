// The PostgreSQL source session, over libpq. Values are read in libpq's text
// format, which the session settings below make canonical (messages/row.hpp)
// except bytea, decoded here from hex to raw bytes.

#include <libpq-fe.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/log.hpp"
#include "actors/source/pg_connect.hpp"
#include "actors/source/pg_text.hpp"
#include "actors/source/session_common.hpp"
#include "messages/failure.hpp"

namespace trib::source_detail {

namespace {

using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;


/// Classifies a failed statement by SQLSTATE (PostgreSQL appendix A).
failure_code classify(PGconn* conn, const PGresult* res) {
  if (PQstatus(conn) == CONNECTION_BAD) return failure_code::connection;
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  if (!state) return failure_code::connection;  // no result: the link failed
  std::string s = state;
  std::string cls = s.substr(0, 2);
  if (cls == "08") return failure_code::connection;
  if (s == "57014") return failure_code::server_busy;  // statement timeout
  if (cls == "57") return failure_code::connection;     // shutdown, crash
  if (cls == "53" || cls == "40") return failure_code::server_busy;
  if (cls == "28" || s == "42501") return failure_code::auth;
  if (s == "42P01" || s == "3F000") return failure_code::source_state;
  if (cls == "42") return failure_code::config;  // filter conditions, names
  if (cls == "22") return failure_code::bad_data;
  return failure_code::source_state;
}

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string qualified(const table_id& id) {
  return quote_ident(id.schema) + "." + quote_ident(id.table);
}

/// The value kind of a (base) type, by its pg_type name and typtype.
value_kind kind_of(const std::string& name, char typtype) {
  if (typtype == 'e') return value_kind::enumeration;
  static const std::unordered_map<std::string, value_kind> kinds = {
    {"bool", value_kind::boolean},      {"int2", value_kind::int16},
    {"int4", value_kind::int32},        {"int8", value_kind::int64},
    {"oid", value_kind::int64},         {"numeric", value_kind::decimal},
    {"float4", value_kind::float32},    {"float8", value_kind::float64},
    {"text", value_kind::text},         {"varchar", value_kind::text},
    {"bpchar", value_kind::text},       {"name", value_kind::text},
    {"char", value_kind::text},         {"citext", value_kind::text},
    {"bytea", value_kind::bytes},       {"date", value_kind::date},
    {"time", value_kind::time},         {"timestamp", value_kind::timestamp},
    {"timestamptz", value_kind::timestamptz},
    {"interval", value_kind::interval}, {"json", value_kind::json},
    {"jsonb", value_kind::json},        {"uuid", value_kind::uuid},
    {"bit", value_kind::bits},          {"varbit", value_kind::bits},
  };
  // Everything else (timetz, money, inet, xml, geometric, ranges, ...) keeps
  // PostgreSQL's text form.
  auto it = kinds.find(name);
  return it == kinds.end() ? value_kind::text : it->second;
}

/// Precision and scale from a type modifier, per kind.
void fill_precision(column_info& c, int typmod) {
  if (typmod < 0) return;
  switch (c.kind) {
    case value_kind::decimal: {
      int mod = typmod - 4;  // VARHDRSZ
      c.precision = (mod >> 16) & 0xffff;
      int scale = mod & 0x7ff;  // 11-bit signed since PostgreSQL 15
      c.scale = (scale & 0x400) ? scale - 0x800 : scale;
      break;
    }
    case value_kind::time:
    case value_kind::timestamp:
    case value_kind::timestamptz: c.precision = typmod; break;
    case value_kind::interval: {
      int p = typmod & 0xffff;
      c.precision = p == 0xffff ? 0 : p;
      break;
    }
    case value_kind::bits: c.precision = typmod; break;
    default: break;
  }
}

/// Which columns are bytea, the one type whose text needs decoding.
std::vector<bool> bytea_columns(const table_schema& t) {
  std::vector<bool> out;
  for (const auto& c : t.columns) out.push_back(c.kind == value_kind::bytes);
  return out;
}

class pg_session : public source_session {
public:
  pg_session(PGconn* conn, const source_config& cfg)
    : conn_(conn),
      where_(cfg.host + ":" + std::to_string(effective_port(cfg)) + " as user " + cfg.username) {
    // Session settings that make libpq's text output canonical: hex bytea,
    // UTC timestamptz ("+00"), ISO-8601 intervals, ISO dates.
    try {
      exec("SET bytea_output = 'hex'; SET TimeZone = 'UTC'; "
           "SET IntervalStyle = 'iso_8601'; SET DateStyle = 'ISO, YMD'",
           PGRES_COMMAND_OK, "set up the session");
    } catch (...) {
      PQfinish(conn_);  // the destructor does not run for a failed constructor
      throw;
    }
  }

  ~pg_session() override { PQfinish(conn_); }

  source_facts facts() override {
    source_facts f;
    f.kind = source_kind::postgresql;
    // server_version reads "15.20 (Debian 15.20-0+deb12u1)": keep the number.
    const char* v = PQparameterStatus(conn_, "server_version");
    std::string version = v ? v : "";
    f.version = version.substr(0, version.find(' '));
    f.database = PQdb(conn_);
    return f;
  }

  std::vector<table_schema> list_tables(const filter_config& filter,
                                        const extractor_config& ex) override;

  source_position begin_snapshot() override {
    if (in_txn_) throw error(failure_code::internal, "begins a snapshot twice");
    exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", PGRES_COMMAND_OK,
         "begin the snapshot");
    in_txn_ = true;
    // The first statement fixes the snapshot; read the LSN in it. The insert
    // position is past every commit the snapshot sees (the write position
    // lags behind it under synchronous_commit = off), but a commit between
    // the snapshot and the call may precede it too: the exact handoff of full
    // mode is begin_snapshot_at. On a standby the position is the replayed one.
    auto r = exec("SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
                  "ELSE pg_current_wal_insert_lsn() END)::text",
                  PGRES_TUPLES_OK, "read the wal position");
    source_position pos;
    pos.lsn = pg_parse_lsn(PQgetvalue(r.get(), 0, 0));
    log::debug("begins the snapshot at lsn " + format_lsn(pos.lsn));
    return pos;
  }

  source_position begin_snapshot_at(const std::string& snapshot_name,
                                    const source_position& at) override {
    if (in_txn_) throw error(failure_code::internal, "begins a snapshot twice");
    exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", PGRES_COMMAND_OK,
         "begin the snapshot");
    in_txn_ = true;
    // Must be the transaction's first statement; the name is the server's
    // own ("00000003-0000001B-1"), quoted all the same.
    std::string quoted;
    for (char c : snapshot_name) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    exec("SET TRANSACTION SNAPSHOT '" + quoted + "'", PGRES_COMMAND_OK,
         "adopt the exported snapshot " + snapshot_name);
    log::debug("begins the snapshot at lsn " + format_lsn(at.lsn) + " with exported snapshot " +
              snapshot_name);
    return at;
  }

  std::unique_ptr<table_reader> open_table(const table_schema& t,
                                           const std::vector<cell>& after_key,
                                           const std::string& conditions) override;

  void end_snapshot() override {
    if (!in_txn_) return;
    in_txn_ = false;
    exec("COMMIT", PGRES_COMMAND_OK, "end the snapshot");
  }

  std::optional<std::pair<std::string, std::string>> integer_range(
    const table_schema& t, const std::string& column, const std::string& conditions) override {
    std::string sql = "SELECT MIN(" + quote_ident(column) + ")::text, MAX(" +
                      quote_ident(column) + ")::text FROM " + qualified(t.id);
    if (!conditions.empty()) sql += " WHERE (" + conditions + ")";
    auto r = exec(sql, PGRES_TUPLES_OK, "find the split-key range of " + to_string(t.id));
    if (PQntuples(r.get()) != 1 || PQgetisnull(r.get(), 0, 0) || PQgetisnull(r.get(), 0, 1))
      return std::nullopt;
    return std::make_pair(std::string(PQgetvalue(r.get(), 0, 0)),
                          std::string(PQgetvalue(r.get(), 0, 1)));
  }

  /// Runs `sql`; throws a classified trib::error unless the result is `want`.
  result_ptr exec(const std::string& sql, ExecStatusType want, const std::string& doing) {
    result_ptr r(PQexec(conn_, sql.c_str()), &PQclear);
    check(r, want, doing);
    return r;
  }

  result_ptr exec_params(const std::string& sql, const std::vector<std::string>& params,
                         const std::string& doing) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    result_ptr r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                              nullptr, values.data(), nullptr, nullptr, 0),
                 &PQclear);
    check(r, PGRES_TUPLES_OK, doing);
    return r;
  }

  /// Sends a query without waiting for its result (receive() reads it), so
  /// the caller can work while PostgreSQL runs it.
  void send_params(const std::string& sql, const std::vector<std::string>& params,
                   const std::string& doing) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0) == 0)
      check(result_ptr(nullptr, &PQclear), PGRES_TUPLES_OK, doing);
  }

  /// The result of the query send_params sent (its last result, as PQexec).
  result_ptr receive(ExecStatusType want, const std::string& doing) {
    result_ptr r(nullptr, &PQclear);
    while (PGresult* next = PQgetResult(conn_)) r.reset(next);
    check(r, want, doing);
    return r;
  }

  bool in_transaction() const { return in_txn_; }
  bool connected() const { return PQstatus(conn_) == CONNECTION_OK; }
  uint64_t next_cursor_id() { return ++cursors_; }

private:
  void check(const result_ptr& r, ExecStatusType want, const std::string& doing) {
    if (r && PQresultStatus(r.get()) == want) return;
    std::string msg = pg_one_line(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_));
    if (msg.empty()) msg = pg_one_line(PQerrorMessage(conn_));
    auto code = classify(conn_, r.get());
    std::string prefix = code == failure_code::connection
                           ? "loses the connection to postgresql at " + where_
                           : "postgresql at " + where_ + " refuses";
    throw error(code, "cannot " + doing + ": " + prefix + ": " + msg);
  }

  PGconn* conn_;
  std::string where_;
  bool in_txn_ = false;
  uint64_t cursors_ = 0;
};

std::vector<table_schema> pg_session::list_tables(const filter_config& filter,
                                                  const extractor_config& ex) {
  static const char* user_tables =
    "c.relkind IN ('r','p') AND NOT c.relispartition "
    "AND n.nspname NOT IN ('pg_catalog','information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' ";
  // Partitions are read through their partitioned parent, so only the
  // parent is listed (listing both would copy every row twice).
  auto tables = exec(std::string("SELECT c.oid, n.nspname, c.relname, "
                                 "GREATEST(c.reltuples, 0)::float8 "
                                 "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                 "WHERE ") + user_tables +
                       "AND has_table_privilege(c.oid, 'SELECT')",
                     PGRES_TUPLES_OK, "list tables");
  std::string database = PQdb(conn_);
  std::map<std::string, table_schema> by_oid;
  for (int i = 0; i < PQntuples(tables.get()); ++i) {
    table_schema t;
    t.id = table_id{database, PQgetvalue(tables.get(), i, 1), PQgetvalue(tables.get(), i, 2)};
    t.estimated_rows = static_cast<uint64_t>(std::strtod(PQgetvalue(tables.get(), i, 3), nullptr));
    by_oid.emplace(PQgetvalue(tables.get(), i, 0), std::move(t));
  }

  std::map<std::string, std::vector<std::string>> enum_labels;
  auto enums = exec("SELECT enumtypid, enumlabel FROM pg_enum ORDER BY enumtypid, enumsortorder",
                    PGRES_TUPLES_OK, "list enum labels");
  for (int i = 0; i < PQntuples(enums.get()); ++i)
    enum_labels[PQgetvalue(enums.get(), i, 0)].push_back(PQgetvalue(enums.get(), i, 1));

  // Domains are described by their base type; arrays by their element type.
  auto cols = exec(std::string(
    "SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), "
    "CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END, "
    "bt.oid, bt.typname, bt.typtype, bt.typcategory, et.oid, et.typname, et.typtype, "
    "a.attnotnull, a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid), "
    "a.atttypid, a.atttypmod "
    "FROM pg_attribute a "
    "JOIN pg_class c ON c.oid = a.attrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_type t ON t.oid = a.atttypid "
    "JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
    "LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A' "
    "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "WHERE a.attnum > 0 AND NOT a.attisdropped AND ") + user_tables +
    "ORDER BY a.attrelid, a.attnum", PGRES_TUPLES_OK, "list columns");
  for (int i = 0; i < PQntuples(cols.get()); ++i) {
    auto it = by_oid.find(PQgetvalue(cols.get(), i, 0));
    if (it == by_oid.end()) continue;
    auto get = [&](int col) { return std::string(PQgetvalue(cols.get(), i, col)); };
    column_info c;
    c.name = get(1);
    c.source_type = upper_outside_quotes(get(2), '"');
    std::string base_oid = get(4);
    char typtype = get(6)[0];
    if (get(7) == "A" && !PQgetisnull(cols.get(), i, 8)) {
      c.kind = value_kind::array;
      c.element_kind = kind_of(get(9), get(10)[0]);
      if (c.element_kind == value_kind::enumeration) c.allowed = enum_labels[get(8)];
    } else {
      c.kind = kind_of(get(5), typtype);
      if (c.kind == value_kind::enumeration) c.allowed = enum_labels[base_oid];
      fill_precision(c, std::atoi(PQgetvalue(cols.get(), i, 3)));
    }
    c.not_null = get(11) == "t";
    std::string identity = get(12), generated = get(13);
    c.generated = !generated.empty();
    if (!PQgetisnull(cols.get(), i, 14) && !c.generated) {
      c.has_default = true;
      c.default_value = get(14);
    }
    // Identity columns, and serial columns (a nextval default) alike.
    c.identity = !identity.empty() || c.default_value.rfind("nextval(", 0) == 0;
    // What pgoutput's Relation message names the type by (the domain's own
    // oid for a domain), to notice ALTER COLUMN ... TYPE.
    c.type_oid = static_cast<uint32_t>(std::strtoul(PQgetvalue(cols.get(), i, 15), nullptr, 10));
    c.type_modifier = std::atoi(PQgetvalue(cols.get(), i, 16));
    it->second.columns.push_back(std::move(c));
  }

  // Keys in key order: primary key first, then unique indexes in creation
  // order. Partial and expression indexes do not identify rows.
  auto keys = exec(std::string(
    "SELECT i.indrelid, i.indexrelid, i.indisprimary, a.attname "
    "FROM pg_index i "
    "JOIN pg_class c ON c.oid = i.indrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
    "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
    "WHERE (i.indisprimary OR i.indisunique) AND i.indisvalid "
    "AND i.indpred IS NULL AND i.indexprs IS NULL AND k.ord <= i.indnkeyatts AND ") +
    user_tables + "ORDER BY i.indrelid, i.indisprimary DESC, i.indexrelid, k.ord",
    PGRES_TUPLES_OK, "list keys");
  std::string last_index;
  for (int i = 0; i < PQntuples(keys.get()); ++i) {
    auto it = by_oid.find(PQgetvalue(keys.get(), i, 0));
    if (it == by_oid.end()) continue;
    std::string index = PQgetvalue(keys.get(), i, 1);
    std::string column = PQgetvalue(keys.get(), i, 3);
    auto& t = it->second;
    if (std::string(PQgetvalue(keys.get(), i, 2)) == "t") {
      t.primary_key.push_back(column);
    } else {
      if (index != last_index) t.unique_keys.emplace_back();
      t.unique_keys.back().push_back(column);
    }
    last_index = index;
  }

  std::vector<table_schema> all;
  for (auto& [oid, t] : by_oid) all.push_back(std::move(t));
  return finish_listing(std::move(all), filter, ex);
}

/// The select list of a table, and " WHERE (conditions)" pieces.
std::string select_list(const table_schema& t) {
  std::string out;
  for (const auto& c : t.columns) {
    if (!out.empty()) out += ", ";
    out += quote_ident(c.name);
  }
  return out;
}

/// Turns libpq rows into canonical rows (one string copy per cell).
// Cell (i, j) of a text-format result; bytea columns are decoded to bytes.
cell cell_at(const PGresult* r, int i, int j, bool bytea) {
  cell c;
  if (PQgetisnull(r, i, j)) return c;  // cells start null
  c.null = false;
  const char* v = PQgetvalue(r, i, j);
  auto len = static_cast<size_t>(PQgetlength(r, i, j));
  c.text = bytea ? pg_decode_bytea(v, len) : std::string(v, len);
  return c;
}

void append_rows(const PGresult* r, const std::vector<bool>& bytea, table_reader& rows,
                 std::vector<row>& out) {
  int n = PQntuples(r), cols = PQnfields(r);
  out.reserve(out.size() + static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    row rw = rows.take_row(static_cast<size_t>(cols));
    for (int j = 0; j < cols; ++j) {
      auto& c = rw.cells[static_cast<size_t>(j)];
      if (bytea[static_cast<size_t>(j)])
        c = cell_at(r, i, j, true);
      else if (PQgetisnull(r, i, j))
        fill_cell(c, nullptr, 0);
      else
        fill_cell(c, PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j)));
    }
    out.push_back(std::move(rw));
  }
}

/// Keyset pagination: each page starts after the last key of the one before,
/// so no page costs more than its own rows and a resumed read needs only the
/// last key. PostgreSQL compares row values with an index.
class pg_keyset_reader : public table_reader {
public:
  pg_keyset_reader(pg_session& s, const table_schema& t, std::vector<cell> after_key,
                   const std::string& conditions)
    : s_(s), name_(to_string(t.id)), key_(order_columns(t)), bytea_(bytea_columns(t)),
      last_key_(std::move(after_key)) {
    head_ = "SELECT " + select_list(t) + " FROM " + qualified(t.id);
    std::string lhs, rhs;
    for (size_t k = 0; k < key_.size(); ++k) {
      if (k) {
        lhs += ", ";
        rhs += ", ";
        order_ += ", ";
      }
      lhs += quote_ident(t.columns[key_[k]].name);
      rhs += "$" + std::to_string(k + 1);
      order_ += quote_ident(t.columns[key_[k]].name);
    }
    after_ = "(" + lhs + ") > (" + rhs + ")";
    if (!conditions.empty()) conditions_ = "(" + conditions + ")";
    if (!last_key_.empty() && last_key_.size() != key_.size())
      throw error(failure_code::internal, "resumes " + name_ + " with a key of the wrong size");
  }

  ~pg_keyset_reader() override {
    // A page asked for ahead and never read: take it off the connection.
    if (!ahead_ || !s_.connected()) return;
    try {
      s_.receive(PGRES_TUPLES_OK, "finish reading " + name_);
    } catch (const error& e) {
      log::warn(e.what());
    }
  }

  std::vector<row> next(size_t limit) override {
    std::vector<row> out;
    if (done_) return out;
    if (!ahead_) ask(limit ? limit : 1);
    ahead_ = false;
    auto r = s_.receive(PGRES_TUPLES_OK, "read " + name_);
    auto n = PQntuples(r.get());
    if (n == 0) {
      done_ = true;
      return out;
    }
    // The next page starts after this one's last key: ask for it now, so
    // that PostgreSQL reads it while this one is converted. A short page is
    // the last one.
    std::vector<cell> key;
    for (size_t k : key_)
      key.push_back(cell_at(r.get(), n - 1, static_cast<int>(k), bytea_[k]));
    last_key_ = std::move(key);
    if (static_cast<size_t>(n) < asked_)
      done_ = true;
    else
      ask(asked_);
    append_rows(r.get(), bytea_, *this, out);
    return out;
  }

private:
  // Sends the query for the `limit` rows after last_key_.
  void ask(size_t limit) {
    std::string sql = head_;
    std::vector<std::string> params;
    if (!last_key_.empty()) {
      sql += " WHERE " + after_;
      for (size_t k = 0; k < key_.size(); ++k) {
        const auto& c = last_key_[k];
        // bytea keys travel as raw bytes; PostgreSQL reads them back as hex.
        params.push_back(bytea_[key_[k]] ? "\\x" + to_hex(c.text) : c.text);
      }
      if (!conditions_.empty()) sql += " AND " + conditions_;
    } else if (!conditions_.empty()) {
      sql += " WHERE " + conditions_;
    }
    sql += " ORDER BY " + order_ + " LIMIT " + std::to_string(limit);
    s_.send_params(sql, params, "read " + name_);
    ahead_ = true;
    asked_ = limit;
  }

private:
  pg_session& s_;
  std::string name_;
  std::vector<size_t> key_;
  std::vector<bool> bytea_;
  std::vector<cell> last_key_;
  std::string head_, after_, order_, conditions_;
  bool done_ = false;
  /// A query is on the connection whose result next() has not read yet.
  bool ahead_ = false;
  size_t asked_ = 0;
};

/// One pass over a table without order columns: a server-side cursor inside
/// the snapshot transaction (or one of its own when no snapshot is open).
class pg_cursor_reader : public table_reader {
public:
  pg_cursor_reader(pg_session& s, const table_schema& t, const std::string& conditions)
    : s_(s), name_(to_string(t.id)), bytea_(bytea_columns(t)),
      cursor_("trib_cursor_" + std::to_string(s.next_cursor_id())) {
    if (!s_.in_transaction()) {
      s_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", PGRES_COMMAND_OK,
              "begin reading " + name_);
      own_txn_ = true;
    }
    std::string sql = "DECLARE " + cursor_ + " NO SCROLL CURSOR FOR SELECT " +
                      select_list(t) + " FROM " + qualified(t.id);
    if (!conditions.empty()) sql += " WHERE (" + conditions + ")";
    s_.exec(sql, PGRES_COMMAND_OK, "open a cursor on " + name_);
    open_ = true;
  }

  ~pg_cursor_reader() override {
    if (!open_ || !s_.connected()) return;
    try {
      close();
    } catch (const error& e) {
      log::warn("cannot close the cursor on " + name_ + ": " + e.what());
    }
  }

  std::vector<row> next(size_t limit) override {
    std::vector<row> out;
    if (!open_) return out;
    auto r = s_.exec("FETCH FORWARD " + std::to_string(limit ? limit : 1) + " FROM " + cursor_,
                     PGRES_TUPLES_OK, "read " + name_);
    append_rows(r.get(), bytea_, *this, out);
    if (out.empty()) close();
    return out;
  }

private:
  void close() {
    open_ = false;
    s_.exec("CLOSE " + cursor_, PGRES_COMMAND_OK, "close the cursor on " + name_);
    if (own_txn_) s_.exec("COMMIT", PGRES_COMMAND_OK, "finish reading " + name_);
  }

  pg_session& s_;
  std::string name_;
  std::vector<bool> bytea_;
  std::string cursor_;
  bool own_txn_ = false;
  bool open_ = false;
};

std::unique_ptr<table_reader> pg_session::open_table(const table_schema& t,
                                                     const std::vector<cell>& after_key,
                                                     const std::string& conditions) {
  if (!order_columns(t).empty())
    return std::make_unique<pg_keyset_reader>(*this, t, after_key, conditions);
  return std::make_unique<pg_cursor_reader>(*this, t, conditions);
}

}  // namespace

std::unique_ptr<source_session> open_postgres(const source_config& cfg) {
  PGconn* conn = pg_connect(cfg, "", false);
  return std::make_unique<pg_session>(conn, cfg);
}

}  // namespace trib::source_detail
