#include "actors/source/heartbeat.hpp"

#include <libpq-fe.h>
#include <mysql.h>

#include <algorithm>

#include "actors/log.hpp"
#include "actors/source/my_connect.hpp"
#include "actors/source/pg_connect.hpp"
#include "actors/source/session_common.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace {

std::string quote(const std::string& name, char q) {
  std::string out(1, q);
  for (char c : name) {
    if (c == q) out += q;
    out += c;
  }
  return out + q;
}

bool is_mysql(source_kind k) { return k == source_kind::mysql || k == source_kind::mariadb; }

}  // namespace

/// One of the two client libraries' connections.
struct heartbeat_writer::connection {
  MYSQL* my = nullptr;
  PGconn* pg = nullptr;
  ~connection() {
    if (my) mysql_close(my);
    if (pg) PQfinish(pg);
  }
};

table_id heartbeat_table(source_kind kind, const heartbeat_config& cfg) {
  table_id id;
  id.catalog = cfg.catalog;
  id.table = cfg.table_name;
  if (!is_mysql(kind)) id.schema = cfg.schema.empty() ? "public" : cfg.schema;
  return id;
}

bool is_heartbeat(source_kind kind, const heartbeat_config& cfg, const table_id& t) {
  return cfg.enable && t == heartbeat_table(kind, cfg);
}

heartbeat_writer::heartbeat_writer(const source_config& source, const heartbeat_config& cfg)
  : source_(source), cfg_(cfg) {
  auto id = heartbeat_table(source.kind, cfg);
  char q = is_mysql(source.kind) ? '`' : '"';
  table_ = is_mysql(source.kind) ? quote(id.catalog, q) + "." + quote(id.table, q)
                                 : quote(id.schema, q) + "." + quote(id.table, q);
  create_ = "CREATE TABLE IF NOT EXISTS " + table_ + " (" + quote("timestamp", q) +
            " BIGINT NOT NULL PRIMARY KEY)";
  if (!is_mysql(source.kind) && !source.database.empty() && id.catalog != source.database)
    throw error(failure_code::config,
                "realtime.heartbeat.catalog is " + id.catalog + ", but the connection is to "
                "database " + source.database + ": the heartbeat table must be in it");
  open();
  log::info("writes the heartbeat table " + to_string(id) + " every " +
            std::to_string(cfg.interval_ms) + " ms");
}

heartbeat_writer::~heartbeat_writer() = default;

void heartbeat_writer::open() {
  conn_ = std::make_unique<connection>();
  std::string where = source_detail::kind_name(source_.kind) + " at " + my_where(source_);
  auto refuse = [&](const std::string& msg, failure_code code) {
    if (code == failure_code::auth || code == failure_code::source_state ||
        code == failure_code::config)
      throw error(failure_code::config,
                  "cannot create the heartbeat table: " + where + " refuses: " + msg +
                    "; create it as a user who may (" + create_ +
                    ") and let the connection's user write it, or turn realtime.heartbeat off");
    throw error(code, "cannot create the heartbeat table: " + where + ": " + msg);
  };
  if (is_mysql(source_.kind)) {
    conn_->my = my_connect(source_, 60);
    if (mysql_real_query(conn_->my, create_.data(), create_.size()) != 0)
      refuse(mysql_error(conn_->my), my_classify(mysql_errno(conn_->my)));
  } else {
    conn_->pg = pg_connect(source_, "", false);
    PGresult* r = PQexec(conn_->pg, create_.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string msg = pg_one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_->pg));
    PQclear(r);
    if (!ok)
      refuse(msg, PQstatus(conn_->pg) == CONNECTION_BAD ? failure_code::connection
                                                        : failure_code::auth);
  }
}

void heartbeat_writer::beat(int64_t now_ms) {
  if (!conn_) open();
  std::string ts = std::to_string(now_ms);
  // One row: moved to the new time, or made when a DBA emptied the table.
  std::string update = "UPDATE " + table_ + " SET " +
                       (is_mysql(source_.kind) ? "`timestamp`" : "\"timestamp\"") + " = " + ts;
  std::string insert = "INSERT INTO " + table_ + " VALUES (" + ts + ")";
  std::string where = source_detail::kind_name(source_.kind) + " at " + my_where(source_);
  try {
    if (conn_->my) {
      auto run = [&](const std::string& sql) {
        if (mysql_real_query(conn_->my, sql.data(), sql.size()) != 0) {
          unsigned code = mysql_errno(conn_->my);
          throw error(my_classify(code), "cannot write the heartbeat: " + where + ": " +
                                           mysql_error(conn_->my) + " (" +
                                           std::to_string(code) + ")");
        }
      };
      run(update);
      if (mysql_affected_rows(conn_->my) == 0) run(insert);
    } else {
      auto run = [&](const std::string& sql) {
        PGresult* r = PQexec(conn_->pg, sql.c_str());
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        std::string rows = r ? PQcmdTuples(r) : "";
        std::string msg = pg_one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_->pg));
        PQclear(r);
        if (!ok)
          throw error(PQstatus(conn_->pg) == CONNECTION_BAD ? failure_code::connection
                                                            : failure_code::source_state,
                      "cannot write the heartbeat: " + where + ": " + msg);
        return rows;
      };
      if (run(update) == "0") run(insert);
    }
  } catch (const error& e) {
    // The next beat opens a new connection.
    if (e.code() == failure_code::connection) conn_.reset();
    throw;
  }
}

heartbeat_timer::heartbeat_timer(source_config source, heartbeat_config cfg)
  : source_(std::move(source)), cfg_(std::move(cfg)) {}

heartbeat_timer::~heartbeat_timer() = default;

void heartbeat_timer::tick() {
  if (!cfg_.enable) return;
  auto now = std::chrono::steady_clock::now();
  if (now < next_) return;
  next_ = now + std::chrono::milliseconds(std::max(cfg_.interval_ms, 1));
  try {
    if (!writer_) writer_ = std::make_unique<heartbeat_writer>(source_, cfg_);
    writer_->beat(std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count());
  } catch (const std::exception& e) {
    log::warn("cannot write the heartbeat table: " + std::string(e.what()));
  }
}

}  // namespace trib
