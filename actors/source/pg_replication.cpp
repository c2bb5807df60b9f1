// Logical replication over libpq; see pg_replication.hpp. The copy stream is
// read with libpq's non-blocking calls and poll(2) on its socket, so a quiet
// server costs no CPU and status updates still go out on time.

#include "actors/source/pg_replication.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "actors/log.hpp"
#include "actors/source/pg_connect.hpp"
#include "actors/source/pg_text.hpp"
#include "messages/failure.hpp"
#include "messages/position.hpp"

namespace trib {

namespace {

using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

/// How often a status update goes out at the least; wal_sender_timeout
/// (60 s by default) ends a connection that stays silent longer.
constexpr auto status_interval = std::chrono::seconds(10);

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
constexpr int64_t pg_epoch_offset_us = 946684800LL * 1000000;


std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string quote_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

/// Slot names are restricted by the server to [a-z0-9_]; checking here
/// keeps them out of replication commands unquoted.
void check_slot_name(const std::string& name) {
  bool ok = !name.empty() && name.size() < 64;
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok)
    throw error(failure_code::config, "replication slot name '" + name +
                                        "' is invalid: use lower-case letters, digits and "
                                        "underscores, at most 63");
}

void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(p[i]);
  return v;
}

int64_t now_pg_us() {
  auto since_unix = std::chrono::duration_cast<std::chrono::microseconds>(
    std::chrono::system_clock::now().time_since_epoch());
  return since_unix.count() - pg_epoch_offset_us;
}

/// Classifies a failed statement by SQLSTATE.
failure_code classify(PGconn* conn, const PGresult* res) {
  if (PQstatus(conn) == CONNECTION_BAD) return failure_code::connection;
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  if (!state) return failure_code::connection;
  std::string s = state;
  std::string cls = s.substr(0, 2);
  if (cls == "08" || cls == "57") return failure_code::connection;
  if (cls == "53" || cls == "40" || s == "55006") return failure_code::server_busy;
  if (cls == "28" || s == "42501") return failure_code::auth;
  return failure_code::source_state;
}

/// Runs `sql` (with text `params`); throws a classified error unless the
/// result has status `want`.
result_ptr run(PGconn* conn, const std::string& sql, const std::vector<std::string>& params,
               ExecStatusType want, const std::string& doing, const std::string& where) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  result_ptr r(params.empty()
                 ? PQexec(conn, sql.c_str())
                 : PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                values.data(), nullptr, nullptr, 0),
               &PQclear);
  if (r && PQresultStatus(r.get()) == want) return r;
  std::string msg = pg_one_line(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn));
  if (msg.empty()) msg = pg_one_line(PQerrorMessage(conn));
  auto code = classify(conn, r.get());
  std::string prefix = code == failure_code::connection
                         ? "loses the connection to postgresql at " + where
                         : "postgresql at " + where + " refuses";
  throw error(code, "cannot " + doing + ": " + prefix + ": " + msg);
}

}  // namespace

std::string replica_identity_problem(const pg_replica_identity& t,
                                     const std::string& publication) {
  if (t.identity == 'f' || (t.identity == 'd' && t.has_key) || (t.identity == 'i' && t.has_key))
    return "";
  std::string schema = t.table.schema.empty() ? "public" : t.table.schema;
  std::string name = quote_ident(schema) + "." + quote_ident(t.table.table);
  std::string why = t.identity == 'n'   ? "has REPLICA IDENTITY NOTHING"
                    : t.identity == 'i' ? "has REPLICA IDENTITY USING INDEX, but the index is gone"
                                        : "has no primary key and no replica identity";
  return "table " + schema + "." + t.table.table + " " + why +
         ": in publication " + publication +
         " PostgreSQL would refuse every UPDATE and DELETE of it; run 'ALTER TABLE " + name +
         " REPLICA IDENTITY FULL;' (or add a primary key), or leave the table out with the "
         "filter (or run 'snapshot', which needs no publication)";
}

std::vector<pg_replica_identity> read_replica_identities(const source_config& cfg,
                                                         const std::vector<table_id>& tables) {
  std::string where = cfg.host + ":" + std::to_string(cfg.port ? cfg.port : 5432);
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(pg_connect(cfg, pg_canonical_options(), false),
                                                 &PQfinish);
  std::vector<pg_replica_identity> out;
  for (const auto& t : tables) {
    std::string schema = t.schema.empty() ? "public" : t.schema;
    auto r = run(c.get(),
                 "SELECT c.relreplident::text, EXISTS (SELECT 1 FROM pg_index i "
                 "WHERE i.indrelid = c.oid AND (CASE c.relreplident WHEN 'i' THEN "
                 "i.indisreplident ELSE i.indisprimary END)) "
                 "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname = $1 AND c.relname = $2",
                 {schema, t.table}, PGRES_TUPLES_OK,
                 "read the replica identity of " + schema + "." + t.table, where);
    if (PQntuples(r.get()) == 0) continue;  // gone since it was listed
    pg_replica_identity id;
    id.table = t;
    std::string ident = PQgetvalue(r.get(), 0, 0);
    id.identity = ident.empty() ? 'd' : ident[0];
    id.has_key = std::string(PQgetvalue(r.get(), 0, 1)) == "t";
    out.push_back(std::move(id));
  }
  return out;
}

void check_replica_identities(const source_config& cfg, const std::vector<table_schema>& tables,
                              const std::string& publication) {
  std::vector<table_id> ids;
  for (const auto& t : tables) ids.push_back(t.id);
  std::string problems;
  for (const auto& r : read_replica_identities(cfg, ids))
    if (auto p = replica_identity_problem(r, publication); !p.empty())
      problems += (problems.empty() ? "" : "; ") + p;
  if (!problems.empty()) throw error(failure_code::config, problems);
}

pg_replication::pg_replication(const source_config& cfg, const std::string& extra_options)
  : cfg_(cfg),
    options_(std::string(pg_canonical_options()) +
             (extra_options.empty() ? "" : " " + extra_options)),
    where_(cfg.host + ":" + std::to_string(cfg.port ? cfg.port : 5432) + " as user " +
           cfg.username) {
  repl_ = pg_connect(cfg_, options_, true);
  try {
    auto r = run(repl_, "IDENTIFY_SYSTEM", {}, PGRES_TUPLES_OK, "identify the system", where_);
    if (PQntuples(r.get()) != 1 || PQnfields(r.get()) < 4)
      throw error(failure_code::source_state, "cannot identify the system: postgresql at " +
                                                where_ + " answers IDENTIFY_SYSTEM oddly");
    identity_.system_id = PQgetvalue(r.get(), 0, 0);
    identity_.timeline = static_cast<uint32_t>(std::stoul(PQgetvalue(r.get(), 0, 1)));
    identity_.xlogpos = pg_parse_lsn(PQgetvalue(r.get(), 0, 2));
    identity_.database = PQgetvalue(r.get(), 0, 3);
  } catch (...) {
    PQfinish(repl_);
    throw;
  }
}

pg_replication::~pg_replication() {
  if (sql_) PQfinish(sql_);
  if (repl_) PQfinish(repl_);
}

PGconn* pg_replication::sql_connection() {
  if (!sql_) sql_ = pg_connect(cfg_, options_, false);
  return sql_;
}

void pg_replication::ensure_publication(const std::string& name,
                                        const std::vector<table_id>& tables) {
  if (name.empty()) throw error(failure_code::config, "publication name is empty");
  PGconn* c = sql_connection();
  auto found = run(c, "SELECT puballtables FROM pg_publication WHERE pubname = $1", {name},
                   PGRES_TUPLES_OK, "look up publication " + name, where_);
  auto qualified = [](const table_id& t) {
    return quote_ident(t.schema.empty() ? "public" : t.schema) + "." + quote_ident(t.table);
  };
  if (PQntuples(found.get()) == 0) {
    std::string sql = "CREATE PUBLICATION " + quote_ident(name);
    if (tables.empty()) {
      sql += " FOR ALL TABLES";
    } else {
      sql += " FOR TABLE ";
      for (size_t i = 0; i < tables.size(); ++i) sql += (i ? ", " : "") + qualified(tables[i]);
    }
    run(c, sql, {}, PGRES_COMMAND_OK, "create publication " + name, where_);
    log::info("creates publication " + name + " for " +
              (tables.empty() ? std::string("all tables")
                              : std::to_string(tables.size()) + " tables"));
    return;
  }
  if (std::string(PQgetvalue(found.get(), 0, 0)) == "t") return;
  auto members = run(c, "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1",
                     {name}, PGRES_TUPLES_OK, "list the tables of publication " + name, where_);
  std::vector<table_id> have;
  for (int i = 0; i < PQntuples(members.get()); ++i)
    have.push_back(table_id{"", PQgetvalue(members.get(), i, 0), PQgetvalue(members.get(), i, 1)});
  for (const auto& t : tables) {
    std::string schema = t.schema.empty() ? "public" : t.schema;
    bool present = std::any_of(have.begin(), have.end(), [&](const table_id& h) {
      return h.schema == schema && h.table == t.table;
    });
    if (present) continue;
    // Changes to the added table reach the stream from this point on only.
    run(c, "ALTER PUBLICATION " + quote_ident(name) + " ADD TABLE " + qualified(t), {},
        PGRES_COMMAND_OK, "add " + schema + "." + t.table + " to publication " + name, where_);
    log::info("adds " + schema + "." + t.table + " to publication " + name);
  }
}

pg_slot pg_replication::ensure_slot(const std::string& name) {
  check_slot_name(name);
  if (streaming_) throw error(failure_code::internal, "ensures a slot while streaming");
  PGconn* c = sql_connection();
  auto found = run(c,
                   "SELECT plugin, slot_type, database, "
                   "COALESCE(confirmed_flush_lsn, '0/0')::text "
                   "FROM pg_replication_slots WHERE slot_name = $1",
                   {name}, PGRES_TUPLES_OK, "look up replication slot " + name, where_);
  pg_slot slot;
  slot.name = name;
  if (PQntuples(found.get()) > 0) {
    std::string plugin = PQgetvalue(found.get(), 0, 0);
    std::string type = PQgetvalue(found.get(), 0, 1);
    std::string database = PQgetvalue(found.get(), 0, 2);
    // Streaming from someone else's slot would consume its changes.
    if (type != "logical" || plugin != "pgoutput")
      throw error(failure_code::config,
                  "replication slot '" + name + "' uses " +
                    (type != "logical" ? type + " replication" : "plugin " + plugin) +
                    (database.empty() ? "" : " in database " + database) +
                    ", not pgoutput in " + identity_.database +
                    ": it is not this replication's; name another slot");
    if (database != identity_.database)
      throw error(failure_code::config, "replication slot '" + name + "' (plugin " + plugin +
                                          ") belongs to database " + database + ", not " +
                                          identity_.database +
                                          ": it is not this replication's; name another slot");
    slot.lsn = pg_parse_lsn(PQgetvalue(found.get(), 0, 3));
    log::info("uses replication slot " + name + " at " + format_lsn(slot.lsn));
    return slot;
  }
  auto r = run(repl_, "CREATE_REPLICATION_SLOT " + name + " LOGICAL pgoutput (SNAPSHOT 'export')",
               {}, PGRES_TUPLES_OK, "create replication slot " + name, where_);
  if (PQntuples(r.get()) != 1 || PQnfields(r.get()) < 3)
    throw error(failure_code::source_state,
                "cannot create replication slot " + name + ": unexpected answer");
  slot.created = true;
  slot.lsn = pg_parse_lsn(PQgetvalue(r.get(), 0, 1));
  slot.snapshot_name = PQgetvalue(r.get(), 0, 2);
  log::info("creates replication slot " + name + " at " + format_lsn(slot.lsn));
  return slot;
}

std::optional<uint64_t> pg_replication::find_slot(const std::string& name) {
  check_slot_name(name);
  auto found = run(sql_connection(),
                   "SELECT COALESCE(confirmed_flush_lsn, '0/0')::text FROM pg_replication_slots "
                   "WHERE slot_name = $1 AND slot_type = 'logical'",
                   {name}, PGRES_TUPLES_OK, "look up replication slot " + name, where_);
  if (PQntuples(found.get()) == 0) return std::nullopt;
  return pg_parse_lsn(PQgetvalue(found.get(), 0, 0));
}

std::optional<pg_slot_info> pg_replication::describe_slot(const std::string& name) {
  check_slot_name(name);
  auto found = run(sql_connection(),
                   "SELECT COALESCE(plugin, ''), slot_type, COALESCE(database::text, ''), "
                   "COALESCE(confirmed_flush_lsn, '0/0')::text "
                   "FROM pg_replication_slots WHERE slot_name = $1",
                   {name}, PGRES_TUPLES_OK, "look up replication slot " + name, where_);
  if (PQntuples(found.get()) == 0) return std::nullopt;
  pg_slot_info s;
  s.name = name;
  s.plugin = PQgetvalue(found.get(), 0, 0);
  s.type = PQgetvalue(found.get(), 0, 1);
  s.database = PQgetvalue(found.get(), 0, 2);
  s.confirmed = pg_parse_lsn(PQgetvalue(found.get(), 0, 3));
  return s;
}

void pg_replication::drop_slot(const std::string& name) {
  check_slot_name(name);
  if (!find_slot(name)) return;
  run(sql_connection(), "SELECT pg_drop_replication_slot($1)", {name}, PGRES_TUPLES_OK,
      "drop replication slot " + name, where_);
  log::info("drops replication slot " + name);
}

void pg_replication::start(const std::string& slot, const std::string& publication,
                           uint64_t start_lsn) {
  check_slot_name(slot);
  if (streaming_) throw error(failure_code::internal, "starts replication twice");
  if (sql_) {
    PQfinish(sql_);
    sql_ = nullptr;
  }
  // publication_names is parsed as a list of identifiers: quote the name so
  // its case and punctuation survive.
  std::string sql = "START_REPLICATION SLOT " + slot + " LOGICAL " + format_lsn(start_lsn) +
                    " (proto_version '1', publication_names " +
                    quote_literal(quote_ident(publication)) + ")";
  result_ptr r(PQexec(repl_, sql.c_str()), &PQclear);
  if (!r || PQresultStatus(r.get()) != PGRES_COPY_BOTH) {
    const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    if (state && std::string(state) == "42704")  // undefined_object
      throw error(failure_code::source_state, "replication slot '" + slot + "' does not exist");
    std::string msg = pg_one_line(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(repl_));
    auto code = classify(repl_, r.get());
    throw error(code, "cannot start replication from slot " + slot + ": postgresql at " +
                        where_ + " says: " + msg);
  }
  slot_ = slot;
  streaming_ = true;
  confirmed_ = std::max(confirmed_, start_lsn);
  sent_ = 0;
  last_status_ = std::chrono::steady_clock::now();
  log::info("starts replication from slot " + slot + " at " + format_lsn(start_lsn));
}

void pg_replication::confirm(uint64_t lsn) { confirmed_ = std::max(confirmed_, lsn); }

void pg_replication::send_status(bool reply_requested) {
  // Standby status update: write, flush and apply positions, client time,
  // whether the server should answer at once.
  std::string msg = "r";
  put_u64(msg, confirmed_);
  put_u64(msg, confirmed_);
  put_u64(msg, confirmed_);
  put_u64(msg, static_cast<uint64_t>(now_pg_us()));
  msg += static_cast<char>(reply_requested ? 1 : 0);
  if (PQputCopyData(repl_, msg.data(), static_cast<int>(msg.size())) != 1 || PQflush(repl_) != 0)
    throw error(failure_code::connection, "loses the connection to postgresql at " + where_ +
                                            " while confirming: " +
                                            pg_one_line(PQerrorMessage(repl_)));
  sent_ = confirmed_;
  last_status_ = std::chrono::steady_clock::now();
}

std::optional<pg_xlog_data> pg_replication::poll(std::chrono::milliseconds timeout) {
  if (!streaming_) throw error(failure_code::internal, "polls before start_replication");
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + timeout;
  bool consumed_at_deadline = false;
  for (;;) {
    if (confirmed_ != sent_ || clock::now() - last_status_ >= status_interval) send_status(false);
    char* buf = nullptr;
    int n = PQgetCopyData(repl_, &buf, 1);
    if (n > 0) {
      std::unique_ptr<char, decltype(&PQfreemem)> owned(buf, &PQfreemem);
      size_t len = static_cast<size_t>(n);
      if (buf[0] == 'w') {
        if (len < 25)
          throw error(failure_code::bad_data, "reads a truncated xlogdata message from " + where_);
        pg_xlog_data d;
        d.wal_start = get_u64(buf + 1);
        d.wal_end = get_u64(buf + 9);
        d.send_time = static_cast<int64_t>(get_u64(buf + 17));
        d.payload.assign(buf + 25, len - 25);
        return d;
      }
      if (buf[0] == 'k') {
        if (len < 18)
          throw error(failure_code::bad_data, "reads a truncated keepalive from " + where_);
        keepalive_lsn_ = std::max(keepalive_lsn_, get_u64(buf + 1));
        if (buf[17]) send_status(false);
        continue;
      }
      throw error(failure_code::bad_data, std::string("reads unknown copy message '") + buf[0] +
                                            "' from " + where_);
    }
    if (n == -1) {
      // The server ended the stream; its reason is in the final result.
      result_ptr r(PQgetResult(repl_), &PQclear);
      std::string msg = pg_one_line(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(repl_));
      const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
      streaming_ = false;
      if (state && std::string(state) == "42704")
        throw error(failure_code::source_state, "replication slot '" + slot_ + "' does not exist");
      auto code = r && PQresultStatus(r.get()) == PGRES_COMMAND_OK ? failure_code::source_state
                                                                   : classify(repl_, r.get());
      throw error(code, "replication from slot " + slot_ + " ends: postgresql at " + where_ +
                          (msg.empty() ? std::string(" closes the stream") : " says: " + msg));
    }
    if (n < -1) {
      streaming_ = false;
      throw error(failure_code::connection, "loses the connection to postgresql at " + where_ +
                                              ": " + pg_one_line(PQerrorMessage(repl_)));
    }
    // Nothing buffered: wait for the socket, but wake for the next status.
    auto now = clock::now();
    if (now >= deadline) {
      // Out of time, but bytes may sit in the socket that libpq has not
      // read yet: one non-blocking read, so poll(0) means "what the server
      // sent so far", not "what libpq happened to buffer".
      if (consumed_at_deadline) return std::nullopt;
      consumed_at_deadline = true;
      pollfd pfd{PQsocket(repl_), POLLIN, 0};
      if (::poll(&pfd, 1, 0) <= 0) return std::nullopt;
      if (PQconsumeInput(repl_) != 1) {
        streaming_ = false;
        throw error(failure_code::connection, "loses the connection to postgresql at " + where_ +
                                                ": " + pg_one_line(PQerrorMessage(repl_)));
      }
      continue;
    }
    auto wake = std::min(deadline, last_status_ + status_interval);
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
    pollfd pfd{PQsocket(repl_), POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(wait, 0) + 1));
    if (ready < 0 && errno != EINTR)
      throw error(failure_code::connection, "cannot wait for postgresql at " + where_);
    if (ready > 0 && PQconsumeInput(repl_) != 1) {
      streaming_ = false;
      throw error(failure_code::connection, "loses the connection to postgresql at " + where_ +
                                              ": " + pg_one_line(PQerrorMessage(repl_)));
    }
  }
}

}  // namespace trib
