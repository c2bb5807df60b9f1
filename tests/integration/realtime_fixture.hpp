#pragma once
// The fixture of the realtime integration tests: a database, slot,
// publication and --id per test, the tributary binary as a child process,
// and stream entries decoded for assertions.

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <boost/json.hpp>

#include "tests/integration/fixture.hpp"
#include "tests/replay.hpp"

namespace trib::test {

namespace json = boost::json;
using namespace std::chrono_literals;

/// A libpq connection for the test's own statements and queries.
class sql {
public:
  explicit sql(const std::string& db) {
    std::string conninfo = "host=127.0.0.1 port=" + std::to_string(pg_port()) + " dbname=" + db +
                           " user=" + source_user() + " password=" + source_password();
    c_.reset(PQconnectdb(conninfo.c_str()));
    if (PQstatus(c_.get()) != CONNECTION_OK)
      throw std::runtime_error(std::string("pg connect: ") + PQerrorMessage(c_.get()));
  }
  /// Every row as text cells ("<null>" for NULL).
  std::vector<std::vector<std::string>> rows(const std::string& q) {
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c_.get(), q.c_str()), PQclear);
    auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
      throw std::runtime_error("pg: " + std::string(PQresultErrorMessage(r.get())) + " in: " + q);
    std::vector<std::vector<std::string>> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r.get()); ++j)
        row.push_back(PQgetisnull(r.get(), i, j) ? "<null>" : PQgetvalue(r.get(), i, j));
      out.push_back(std::move(row));
    }
    return out;
  }
  void exec(const std::string& q) { rows(q); }

private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> c_{nullptr, PQfinish};
};

/// A decoded stream entry.
struct change {
  std::string key;
  std::string op;  // "tombstone" for the entry after a delete
  json::value before, after;
  json::object source, transaction;
};

inline change decode(const entry& e) {
  change c;
  c.key = e.key;
  if (e.value == "default") {
    c.op = "tombstone";
    return c;
  }
  auto p = replay_payload(json::parse(e.value)).as_object();
  c.op = std::string(p.at("op").as_string());
  c.before = p.at("before");
  c.after = p.at("after");
  c.source = p.at("source").as_object();
  if (p.at("transaction").is_object()) c.transaction = p.at("transaction").as_object();
  return c;
}

/// The kill/resume loop of the recovery tests: `kills` times, waits until
/// written() has grown by 50 to 449 entries (a random amount from `rng`),
/// SIGKILLs the run and starts it again with resume(). A run that ends on
/// its own fails the test, showing the run's log file `log`.
inline void kill_and_resume(int kills, std::mt19937& rng,
                            const std::function<long long()>& written,
                            std::unique_ptr<child_process>& child,
                            const std::function<void()>& resume, const std::string& log) {
  for (int kill = 0; kill < kills; ++kill) {
    auto target = written() + 50 + static_cast<long long>(rng() % 400);
    ASSERT_TRUE(wait_until([&] { return written() >= target || !child->running(); }, 60s));
    ASSERT_TRUE(child->running()) << read_text(log);
    child->kill_now();
    resume();
  }
}

/// Expects each change of `stream` once: no two entries with one
/// transaction id, data_collection_order and op; and nothing of the
/// workloads' rolled-back transactions (their rows have ids below 1).
inline void expect_each_change_once(const std::vector<change>& changes,
                                    const std::string& stream) {
  std::set<std::string> seen;
  size_t dups = 0;
  for (const auto& c : changes) {
    if (c.op == "tombstone") continue;
    auto id = json::serialize(c.transaction.at("id")) + "/" +
              json::serialize(c.transaction.at("data_collection_order")) + "/" + c.op;
    if (!seen.insert(id).second) ++dups;
    if (c.after.is_object()) {
      EXPECT_GE(c.after.at("id").to_number<int64_t>(), 1) << stream;
    }
  }
  EXPECT_EQ(dups, 0u) << stream;
}

inline std::string key_payload(const std::string& key) {
  return key == "default" ? key : json::serialize(replay_payload(json::parse(key)));
}

class realtime : public ::testing::Test {
protected:
  /// Names the test's database, slot, publication and id.
  void use(const std::string& name) {
    name_ = name;
    db_ = "trib_rt_" + name;
    id_ = "rt_" + name;
    dir_ = (std::filesystem::temp_directory_path() / ("trib_rt_" + name)).string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    drop_slot();
    pg_fresh_database(db_);
    r_ = redis();
    clean_redis();
    write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                     std::to_string(redis_port()) + "\n");
    write_source(2000);
    applier("");
  }

  void TearDown() override {
    child_.reset();
    if (db_.empty()) return;
    drop_slot();
    pg_exec("postgres", "DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    if (r_) clean_redis();
    std::filesystem::remove_all(dir_);
  }

  void clean_redis() {
    delete_keys(*r_, db_ + "_*");
    delete_keys(*r_, "replicate_io_*_" + id_);
  }

  void write_source(int retry_wait_ms, int retries = 10) {
    write_file(dir_ + "/src.yaml",
               "type: POSTGRESQL\nhost: 127.0.0.1\nport: " + std::to_string(pg_port()) +
                 "\ndatabase: " + db_ + "\nusername: " + source_user() + "\npassword: " +
                 source_password() + "\nmax-retries: " + std::to_string(retries) +
                 "\nretry-wait-duration-ms: " + std::to_string(retry_wait_ms) +
                 "\nreplication-slots:\n  " + db_ + ":\n    - pgoutput\n");
  }

  /// The applier file (top-level keys: split-stream, message, realtime, ...).
  void applier(const std::string& text) {
    write_file(dir_ + "/applier.yaml", text.empty() ? "snapshot:\n  threads: 2\n" : text);
  }

  /// The slot the binary uses is named after the database.
  void drop_slot() {
    wait_until(
      [&] {
        try {
          pg_exec("postgres", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                              "WHERE slot_name = '" + db_ + "'");
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      10s);
  }

  std::vector<std::string> args(const std::string& mode, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{mode, dir_ + "/src.yaml", dir_ + "/dst.yaml", "--applier",
                               dir_ + "/applier.yaml", "--id", id_, "--data-dir", dir_ + "/data"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  /// Starts the binary and waits until it streams from its slot (for
  /// `full`, after the snapshot).
  void start(const std::string& mode, std::vector<std::string> extra = {}) {
    // A previous run's log must not answer for this one.
    std::filesystem::remove(dir_ + "/run.log");
    child_ = std::make_unique<child_process>(args(mode, std::move(extra)), dir_ + "/run.log");
    // The log says so once START_REPLICATION succeeded (the slot's
    // "active" flag may still belong to a killed predecessor's walsender).
    bool ready = wait_until([&] {
      return !child_->running() ||
             read_text(dir_ + "/run.log").find("starts replication from slot") != std::string::npos;
    });
    ASSERT_TRUE(ready && child_->running()) << read_text(dir_ + "/run.log");
  }

  /// SIGTERM, then the exit code.
  int stop() {
    child_->signal(SIGTERM);
    return child_->wait();
  }

  std::vector<change> changes(const std::string& stream) {
    std::vector<change> out;
    for (const auto& e : read_stream(*r_, stream)) out.push_back(decode(e));
    return out;
  }

  bool wait_entries(const std::string& stream, long long n, std::chrono::milliseconds d = 30s) {
    return wait_until([&] { return stream_length(*r_, stream) >= n; }, d);
  }

  std::string stream(const std::string& table) { return db_ + "_public_" + table + "_cdc_logs"; }

  json::object last_summary() {
    auto s = run_summaries(dir_ + "/data/" + id_);
    return s.empty() ? json::object{} : json::parse(s.back()).as_object();
  }

  std::string ckpt() { return "replicate_io_checkpoint_default_" + id_; }

  /// Whether the slot still holds the transaction with this xid, that is,
  /// whether PostgreSQL sends it again to the next run. Peeks (consumes
  /// nothing) once the run's walsender has let the slot go. Comparing
  /// confirmed_flush_lsn with an LSN taken before the transaction is not
  /// this: an idle run confirms the server's keepalive position, which may
  /// lie inside the transaction (past records already decoded, before its
  /// commit record), and PostgreSQL still sends a transaction whose commit
  /// is at or after the confirmed position.
  bool slot_keeps(const std::string& xid) {
    std::string slot = "'" + db_ + "'";
    bool free = wait_until([&] {
      auto r = sql("postgres").rows("SELECT active FROM pg_replication_slots WHERE slot_name = " +
                                    slot);
      return !r.empty() && r[0][0] == "f";
    }, 30s);
    EXPECT_TRUE(free) << "the slot is still in use or gone";
    auto r = sql(db_).rows("SELECT count(*) FROM pg_logical_slot_peek_binary_changes(" + slot +
                           ", NULL, NULL, 'proto_version', '1', 'publication_names', " + slot +
                           ") WHERE xid = '" + xid + "'::xid");
    return !r.empty() && r[0][0] != "0";
  }

  /// Runs one statement and returns its transaction's xid.
  std::string exec_xid(sql& db, const std::string& statement) {
    return db.rows(statement + " RETURNING pg_current_xact_id()::text")[0][0];
  }

  std::string name_, db_, id_, dir_;
  std::unique_ptr<redis_client> r_;
  std::unique_ptr<child_process> child_;
};


}  // namespace trib::test
