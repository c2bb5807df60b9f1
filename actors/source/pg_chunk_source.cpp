// PostgreSQL's chunk source of incremental snapshots: the watermark table
// (created when missing) written on one connection, chunks read on another
// with the snapshot reader's keyset query.

#include <libpq-fe.h>

#include "actors/source/incremental_snapshots.hpp"
#include "actors/source/pg_connect.hpp"
#include "actors/source/snapshot_reader.hpp"
#include "actors/source/source_session.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace {

std::string quote_pg(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

class pg_chunk_source : public chunk_source {
public:
  pg_chunk_source(const source_config& source, const extractor_config& ex,
                  const filter_config& filter, std::string replication)
    : source_(source), filter_(filter), replication_(std::move(replication)) {
    auto id = watermark_table(source, ex);
    table_ = quote_pg(id.schema) + "." + quote_pg(id.table);
    create_ = "CREATE TABLE IF NOT EXISTS " + table_ + " (id TEXT PRIMARY KEY, mark TEXT NOT NULL)";
    open_marks();
  }

  ~pg_chunk_source() override {
    if (conn_) PQfinish(conn_);
  }

  void write_mark(const std::string& mark) override {
    if (!conn_) open_marks();
    const char* params[] = {replication_.c_str(), mark.c_str()};
    std::string sql = "INSERT INTO " + table_ + " (id, mark) VALUES ($1, $2) " +
                      "ON CONFLICT (id) DO UPDATE SET mark = EXCLUDED.mark";
    PGresult* r = PQexecParams(conn_, sql.c_str(), 2, nullptr, params, nullptr, nullptr, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string msg = pg_one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    PQclear(r);
    if (ok) return;
    bool lost = PQstatus(conn_) == CONNECTION_BAD;
    if (lost) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
    throw error(lost ? failure_code::connection : failure_code::source_state,
                "cannot write a watermark to " + table_ + ": " + msg);
  }

  std::vector<row> read(const table_schema& t, const std::vector<std::string>& after,
                        size_t limit) override {
    if (!session_) session_ = open_source(source_);
    std::vector<cell> key;
    for (const auto& k : after) key.push_back(make_cell(k));
    try {
      auto reader = session_->open_table(t, key, filter_conditions(filter_, t.id));
      return reader->next(limit);
    } catch (const error& e) {
      if (e.code() == failure_code::connection) session_.reset();
      throw;
    }
  }

private:
  void open_marks() {
    conn_ = pg_connect(source_, "", false);
    // A server with synchronous_commit off flushes commits every
    // wal_writer_delay (200 ms by default), and the log is sent only as far
    // as it is flushed: each chunk would wait for that. Watermarks commit
    // flushed.
    std::string setup =
      "SET synchronous_commit = on; SET client_min_messages = warning; " + create_;
    PGresult* r = PQexec(conn_, setup.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string msg = pg_one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    PQclear(r);
    if (ok) return;
    bool lost = PQstatus(conn_) == CONNECTION_BAD;
    PQfinish(conn_);
    conn_ = nullptr;
    if (lost) throw error(failure_code::connection, "cannot create the watermark table: " + msg);
    throw error(failure_code::config,
                "cannot create the watermark table of incremental snapshots: the source refuses: " +
                  msg + "; create it as a user who may (" + create_ +
                  ") and let the connection's user write it");
  }

  source_config source_;
  filter_config filter_;
  std::string replication_;
  std::string table_;
  std::string create_;
  PGconn* conn_ = nullptr;
  std::unique_ptr<source_session> session_;
};

}  // namespace

std::unique_ptr<chunk_source> make_pg_chunk_source(const source_config& source,
                                                   const extractor_config& ex,
                                                   const filter_config& filter,
                                                   const std::string& replication) {
  return std::make_unique<pg_chunk_source>(source, ex, filter, replication);
}

}  // namespace trib
