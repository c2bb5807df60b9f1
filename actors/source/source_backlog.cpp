#include "actors/source/source_backlog.hpp"

#include <libpq-fe.h>
#include <mysql.h>

#include "actors/log.hpp"
#include "actors/source/my_connect.hpp"
#include "actors/source/pg_connect.hpp"
#include "messages/failure.hpp"

namespace trib {

std::optional<uint64_t> binlog_bytes_behind(
  const std::vector<std::pair<std::string, uint64_t>>& logs, const std::string& file, uint64_t pos) {
  bool found = false;
  uint64_t bytes = 0;
  for (const auto& [name, size] : logs) {
    if (name == file) {
      found = true;
      bytes += size > pos ? size - pos : 0;
    } else if (found) {
      bytes += size;
    }
  }
  return found ? std::optional<uint64_t>(bytes) : std::nullopt;
}

struct backlog_timer::connection {
  MYSQL* my = nullptr;
  PGconn* pg = nullptr;
  ~connection() {
    if (my) mysql_close(my);
    if (pg) PQfinish(pg);
  }
};

backlog_timer::backlog_timer(source_config source, std::chrono::milliseconds interval)
    : source_(std::move(source)), interval_(interval) {}

backlog_timer::~backlog_timer() = default;

bool backlog_timer::due() {
  auto now = std::chrono::steady_clock::now();
  if (now < next_) return false;
  next_ = now + interval_;
  return true;
}

void backlog_timer::failed(const std::exception& e) {
  conn_.reset();
  std::string msg = std::string("cannot measure the source's backlog: ") + e.what();
  if (!warned_) log::warn(msg + " (tributary_source_backlog_bytes stays at its last value)");
  else log::debug(msg);
  warned_ = true;
}

std::optional<uint64_t> backlog_timer::slot_lag(const std::string& slot) {
  if (!due()) return std::nullopt;
  try {
    if (!conn_) {
      conn_ = std::make_unique<connection>();
      // A slow catalog must not hold the change reader's round up.
      conn_->pg = pg_connect(source_, "-c statement_timeout=5000", false);
    }
    // A standby has no current WAL position of its own: what it received.
    // Measured from restart_lsn, the oldest WAL the slot keeps, not from
    // confirmed_flush_lsn: an idle reader confirms keepalive positions that
    // may lie inside a transaction not yet written, whose WAL PostgreSQL
    // still keeps (it sends it again), and the disk is what this warns about.
    const char* sql =
      "SELECT pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() "
      "ELSE pg_current_wal_lsn() END, restart_lsn)::bigint "
      "FROM pg_replication_slots WHERE slot_name = $1";
    const char* params[] = {slot.c_str()};
    PGresult* r = PQexecParams(conn_->pg, sql, 1, nullptr, params, nullptr, nullptr, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    std::string msg = pg_one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_->pg));
    int rows = ok ? PQntuples(r) : 0;
    std::optional<uint64_t> out;
    if (rows == 1 && !PQgetisnull(r, 0, 0)) {
      long long v = std::stoll(PQgetvalue(r, 0, 0));
      out = v > 0 ? static_cast<uint64_t>(v) : 0;
    }
    PQclear(r);
    if (!ok) throw error(failure_code::source_state, msg);
    if (rows == 0) throw error(failure_code::source_state, "there is no replication slot " + slot);
    if (!out) throw error(failure_code::source_state, "the slot " + slot + " has no confirmed position");
    return out;
  } catch (const std::exception& e) {
    failed(e);
    return std::nullopt;
  }
}

std::optional<uint64_t> backlog_timer::binlog_behind(const std::string& file, uint64_t pos) {
  if (file.empty() || !due()) return std::nullopt;
  try {
    if (!conn_) {
      conn_ = std::make_unique<connection>();
      conn_->my = my_connect(source_, 5);
    }
    const std::string sql = "SHOW BINARY LOGS";
    if (mysql_real_query(conn_->my, sql.data(), sql.size()) != 0)
      throw error(my_classify(mysql_errno(conn_->my)),
                  std::string("SHOW BINARY LOGS: ") + mysql_error(conn_->my));
    MYSQL_RES* res = mysql_store_result(conn_->my);
    if (!res)
      throw error(my_classify(mysql_errno(conn_->my)),
                  std::string("SHOW BINARY LOGS: ") + mysql_error(conn_->my));
    std::vector<std::pair<std::string, uint64_t>> logs;
    while (MYSQL_ROW row = mysql_fetch_row(res))
      if (row[0] && row[1]) logs.emplace_back(row[0], std::stoull(row[1]));
    mysql_free_result(res);
    auto bytes = binlog_bytes_behind(logs, file, pos);
    if (!bytes) throw error(failure_code::source_state, "the server no longer lists " + file);
    return bytes;
  } catch (const std::exception& e) {
    failed(e);
    return std::nullopt;
  }
}

}  // namespace trib
