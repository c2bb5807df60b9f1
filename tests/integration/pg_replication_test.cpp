// pg_replication and the pgoutput decoder against the live PostgreSQL 15
// that ops/servers.sh starts. Each test has its own database and slot and
// drops both. With TRIB_PGOUTPUT_CAPTURE=<file> the session test also writes
// the raw XLogData payloads it received, one hex line per message: that is
// how tests/data/pgoutput/session.hex was made.

#include <gtest/gtest.h>

#include <libpq-fe.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "actors/source/pg_replication.hpp"
#include "actors/source/pg_text.hpp"
#include "actors/source/pgoutput.hpp"
#include "messages/failure.hpp"
#include "messages/position.hpp"
#include "tests/integration/fixture.hpp"
#include "tests/unit/pgoutput_session_check.hpp"

namespace trib::test {
namespace {

using namespace std::chrono_literals;

/// A plain libpq connection for the test's own statements.
class sql_conn {
public:
  explicit sql_conn(const std::string& db) {
    std::string conninfo = "host=127.0.0.1 port=" + std::to_string(pg_port()) + " dbname=" + db +
                           " user=" + source_user() + " password=" + source_password();
    c_.reset(PQconnectdb(conninfo.c_str()));
    if (PQstatus(c_.get()) != CONNECTION_OK)
      throw std::runtime_error(std::string("pg connect: ") + PQerrorMessage(c_.get()));
  }

  /// Runs `sql`; returns the first column of every row.
  std::vector<std::string> query(const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c_.get(), sql.c_str()), PQclear);
    auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
      throw std::runtime_error("pg: " + std::string(PQresultErrorMessage(r.get())) + " in: " + sql);
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(PQgetvalue(r.get(), i, 0));
    return out;
  }

private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> c_{nullptr, PQfinish};
};

class pg_replication_test : public ::testing::Test {
protected:
  /// Names the test's database and slot (lower case: slot names must be).
  void use(const std::string& name) {
    db_ = "trib_pgrepl_" + name;
    slot_ = "trib_pgrepl_" + name;
    pg_fresh_database(db_);
    drop_slot();
  }

  void TearDown() override {
    rep_.reset();
    if (db_.empty()) return;
    drop_slot();
    pg_exec("postgres", "DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
  }

  /// Drops the test's slot; the walsender may take a moment to let go of it.
  void drop_slot() {
    bool dropped = wait_until(
      [&] {
        try {
          pg_exec("postgres", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                              "WHERE slot_name = '" + slot_ + "'");
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      10s);
    EXPECT_TRUE(dropped) << "cannot drop slot " << slot_;
  }

  source_config config() const {
    source_config c;
    c.kind = source_kind::postgresql;
    c.host = "127.0.0.1";
    c.port = pg_port();
    c.database = db_;
    c.username = source_user();
    c.password = source_password();
    return c;
  }

  pg_replication& connect() {
    rep_ = std::make_unique<pg_replication>(config());
    return *rep_;
  }

  /// Polls and decodes until `commits` transactions with changes arrived.
  std::vector<pg_message> collect(size_t commits, std::vector<std::string>* raw = nullptr) {
    std::vector<pg_message> out;
    size_t done = 0, changes = 0;
    auto until = std::chrono::steady_clock::now() + 30s;
    while (done < commits && std::chrono::steady_clock::now() < until) {
      auto d = rep_->poll(200ms);
      if (!d) continue;
      if (raw) raw->push_back(d->payload);
      out.push_back(decoder_.decode(d->payload));
      const auto& m = out.back();
      if (std::holds_alternative<pg_change>(m) || std::holds_alternative<pg_truncate>(m))
        ++changes;
      if (std::holds_alternative<pg_commit>(m)) {
        if (changes) ++done;
        changes = 0;
      }
    }
    EXPECT_EQ(done, commits) << "stream stalls";
    return out;
  }

  std::string db_, slot_;
  std::unique_ptr<pg_replication> rep_;
  pgoutput_decoder decoder_;
};

std::string to_hex_line(const std::string& raw) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

TEST_F(pg_replication_test, streams_every_committed_change_after_the_exported_snapshot) {
  use("session");
  pg_exec(db_, pgoutput_session_schema());
  auto& rep = connect();
  EXPECT_EQ(rep.identity().database, db_);
  EXPECT_GT(rep.identity().xlogpos, 0u);
  rep.ensure_publication("trib_pub", {table_id{db_, "public", "items"},
                                      table_id{db_, "public", "full_t"}});
  auto slot = rep.ensure_slot(slot_);
  ASSERT_TRUE(slot.created);
  EXPECT_FALSE(slot.snapshot_name.empty());
  EXPECT_GE(slot.lsn, rep.identity().xlogpos);

  // A row committed after the slot: in the stream, not in the snapshot.
  auto statements = pgoutput_session_statements();
  pg_exec(db_, statements[0]);
  {
    sql_conn reader(db_);
    reader.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    reader.query("SET TRANSACTION SNAPSHOT '" + slot.snapshot_name + "'");
    EXPECT_EQ(reader.query("SELECT id FROM items ORDER BY id"), std::vector<std::string>{"1"});
    reader.query("COMMIT");
  }

  rep.start(slot_, "trib_pub", 0);
  for (size_t i = 1; i < statements.size(); ++i) pg_exec(db_, statements[i]);

  std::vector<std::string> raw;
  auto msgs = collect(pgoutput_session_commits, &raw);
  check_pgoutput_session(msgs);

  if (const char* path = std::getenv("TRIB_PGOUTPUT_CAPTURE")) {
    std::ofstream out(path);
    out << "# pgoutput protocol 1 payloads of the session in "
           "tests/unit/pgoutput_session_check.hpp,\n"
           "# captured by tests/integration/pg_replication_test.cpp; one message per line, hex.\n";
    for (const auto& p : raw) out << to_hex_line(p) << "\n";
  }

  // Confirming the last commit releases the WAL up to it.
  uint64_t end = 0;
  for (const auto& m : msgs)
    if (auto c = std::get_if<pg_commit>(&m)) end = c->end_lsn;
  rep.confirm(end);
  sql_conn watcher(db_);
  bool advanced = wait_until([&] {
    rep.poll(20ms);
    return watcher.query("SELECT confirmed_flush_lsn >= '" + format_lsn(end) +
                         "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + slot_ +
                         "'") == std::vector<std::string>{"t"};
  });
  EXPECT_TRUE(advanced) << "confirmed_flush_lsn stays below " << format_lsn(end);
}

TEST_F(pg_replication_test, reuses_an_existing_slot_and_resumes_after_its_confirmed_position) {
  use("reuse");
  pg_exec(db_, "CREATE TABLE t (id int PRIMARY KEY, v text)");
  auto& first = connect();
  first.ensure_publication("trib_pub", {table_id{db_, "public", "t"}});
  auto created = first.ensure_slot(slot_);
  ASSERT_TRUE(created.created);
  first.start(slot_, "trib_pub", 0);
  pg_exec(db_, "INSERT INTO t VALUES (1, 'one')");
  auto msgs = collect(1);
  uint64_t end = 0;
  for (const auto& m : msgs)
    if (auto c = std::get_if<pg_commit>(&m)) end = c->end_lsn;
  ASSERT_GT(end, 0u);
  first.confirm(end);
  sql_conn watcher(db_);
  ASSERT_TRUE(wait_until([&] {
    first.poll(20ms);
    return watcher.query("SELECT confirmed_flush_lsn >= '" + format_lsn(end) +
                         "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + slot_ +
                         "'") == std::vector<std::string>{"t"};
  }));
  rep_.reset();
  pg_exec(db_, "INSERT INTO t VALUES (2, 'two')");

  // The slot waits while its walsender lets go of it.
  pg_slot again;
  ASSERT_TRUE(wait_until([&] {
    rep_ = std::make_unique<pg_replication>(config());
    again = rep_->ensure_slot(slot_);
    try {
      rep_->start(slot_, "trib_pub", 0);
      return true;
    } catch (const error&) {
      rep_.reset();  // "replication slot ... is active": try again
      return false;
    }
  }));
  EXPECT_FALSE(again.created);
  EXPECT_TRUE(again.snapshot_name.empty());
  EXPECT_GE(again.lsn, end);
  decoder_ = pgoutput_decoder{};
  auto rest = collect(1);
  std::vector<std::string> ids;
  for (const auto& m : rest)
    if (auto c = std::get_if<pg_change>(&m)) ids.push_back(c->new_tuple->values.cells.at(0).text);
  EXPECT_EQ(ids, std::vector<std::string>{"2"}) << "row 1 was confirmed and must not return";
}

TEST_F(pg_replication_test, refuses_a_slot_of_another_plugin) {
  use("plugin");
  pg_exec(db_, "SELECT pg_create_logical_replication_slot('" + slot_ + "', 'test_decoding')");
  auto& rep = connect();
  try {
    rep.ensure_slot(slot_);
    FAIL() << "accepts a test_decoding slot";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::config);
    EXPECT_NE(std::string(e.what()).find("test_decoding"), std::string::npos) << e.what();
  }
}

TEST_F(pg_replication_test, reports_a_missing_slot_as_source_state) {
  use("missing");
  pg_exec(db_, "CREATE TABLE t (id int PRIMARY KEY)");
  auto& rep = connect();
  rep.ensure_publication("trib_pub", {table_id{db_, "public", "t"}});
  try {
    rep.start(slot_, "trib_pub", 0);
    FAIL() << "starts from a slot that does not exist";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::source_state);
    EXPECT_EQ(std::string(e.what()), "replication slot '" + slot_ + "' does not exist");
  }
}

TEST_F(pg_replication_test, answers_keepalives_so_an_idle_stream_stays_open) {
  use("keepalive");
  pg_exec(db_, "CREATE TABLE t (id int PRIMARY KEY)");
  // The walsender asks for a reply after half its timeout and hangs up
  // after all of it; the periodic status update (10 s) is far later, so
  // only answering the requests keeps this stream open.
  // 2 s: a reply is due within a second of the request, which a loaded
  // machine (ctest -j) still manages.
  rep_ = std::make_unique<pg_replication>(config(), "-c wal_sender_timeout=2s");
  rep_->ensure_publication("trib_pub", {table_id{db_, "public", "t"}});
  rep_->ensure_slot(slot_);
  rep_->start(slot_, "trib_pub", 0);
  // pg_stat_replication hides reply times from roles without
  // pg_read_all_stats, so the proof is survival: the same walsender still
  // holds the slot after two and a half of its timeouts, and poll never threw.
  sql_conn watcher(db_);
  auto holder = [&] {
    return watcher.query("SELECT active_pid FROM pg_replication_slots WHERE slot_name = '" +
                         slot_ + "'");
  };
  auto first = holder();
  auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until) rep_->poll(100ms);
  EXPECT_EQ(holder(), first);
  pg_exec(db_, "INSERT INTO t VALUES (1)");
  decoder_ = pgoutput_decoder{};
  EXPECT_EQ(collect(1).size(), 4u);  // begin, relation, insert, commit
}

TEST_F(pg_replication_test, reports_a_lost_connection) {
  use("lost");
  pg_exec(db_, "CREATE TABLE t (id int PRIMARY KEY)");
  auto& rep = connect();
  rep.ensure_publication("trib_pub", {table_id{db_, "public", "t"}});
  rep.ensure_slot(slot_);
  rep.start(slot_, "trib_pub", 0);
  sql_conn killer(db_);
  EXPECT_EQ(killer.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                         "WHERE slot_name = '" + slot_ + "'"),
            std::vector<std::string>{"t"});
  try {
    auto until = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < until) rep.poll(200ms);
    FAIL() << "polls on after the walsender was terminated";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::connection) << e.what();
  }
}

}  // namespace
}  // namespace trib::test
