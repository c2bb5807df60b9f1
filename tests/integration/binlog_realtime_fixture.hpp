#pragma once
// The fixture of the MariaDB realtime integration tests: a database, a
// filter and an --id per test, the tributary binary as a child process, and
// a random mixed workload. Streams are decoded with realtime_fixture.hpp's
// helpers.

#include "tests/integration/private_mariadb.hpp"
#include "tests/integration/private_redis.hpp"
#include "tests/integration/realtime_fixture.hpp"

namespace trib::test {

/// Every row of `q` on the server at `port` as text cells.
inline std::vector<std::vector<std::string>> maria_rows(const std::string& q,
                                                      int port = mariadb_port()) {
  MYSQL* m = mysql_init(nullptr);
  if (!mysql_real_connect(m, "127.0.0.1", source_user(), source_password(), nullptr,
                          static_cast<unsigned>(port), nullptr, 0) ||
      mysql_query(m, q.c_str()) != 0) {
    std::string e = mysql_error(m);
    mysql_close(m);
    throw std::runtime_error("mariadb: " + e);
  }
  std::vector<std::vector<std::string>> out;
  MYSQL_RES* r = mysql_store_result(m);
  unsigned n = r ? mysql_num_fields(r) : 0;
  while (MYSQL_ROW row = r ? mysql_fetch_row(r) : nullptr) {
    out.emplace_back();
    for (unsigned i = 0; i < n; ++i) out.back().push_back(row[i] ? row[i] : "<null>");
  }
  if (r) mysql_free_result(r);
  mysql_close(m);
  std::sort(out.begin(), out.end());
  return out;
}

class binlog_realtime : public ::testing::Test {
protected:
  void use(const std::string& name, int port = mariadb_port()) {
    db_ = "trib_brt_" + name;
    id_ = "brt_" + name;
    port_ = port;
    dir_ = fresh_dir("trib_brt_" + name);
    r_ = redis();
    clean_redis();
    if (port == mariadb_port())
      maria_exec("DROP DATABASE IF EXISTS " + db_ + "; CREATE DATABASE " + db_);
    write_file(dir_ + "/src.yaml",
               "type: MARIADB\nhost: 127.0.0.1\nport: " + std::to_string(port) +
                 "\nusername: tributary\npassword: tributary\nmax-retries: 30\n"
                 "retry-wait-duration-ms: 200\nslave-server-ids: [" +
                 std::to_string(5000 + std::hash<std::string>{}(name) % 1000) + "]\n");
    write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                     std::to_string(redis_port()) + "\n");
    write_file(dir_ + "/filter.yaml", "allow:\n- catalog: " + db_ + "\n  types: [TABLE]\n");
    applier("");
  }

  void TearDown() override {
    child_.reset();
    if (r_) clean_redis();
    if (!db_.empty() && port_ == mariadb_port()) maria_exec("DROP DATABASE IF EXISTS " + db_);
  }

  void clean_redis() {
    delete_keys(*r_, db_ + "_*");
    delete_keys(*r_, "replicate_io_*_" + id_);
  }

  void applier(const std::string& text) {
    write_file(dir_ + "/applier.yaml", text.empty() ? "snapshot:\n  threads: 2\n" : text);
  }

  void start(std::vector<std::string> extra = {}) {
    std::filesystem::remove(dir_ + "/run.log");
    std::vector<std::string> a{"realtime", dir_ + "/src.yaml", dir_ + "/dst.yaml", "--filter",
                               dir_ + "/filter.yaml", "--applier", dir_ + "/applier.yaml",
                               "--id", id_, "--data-dir", dir_ + "/data"};
    a.insert(a.end(), extra.begin(), extra.end());
    child_ = std::make_unique<child_process>(a, dir_ + "/run.log");
    bool ready = wait_until([&] {
      return !child_->running() ||
             read_text(dir_ + "/run.log").find("reads the binlog of") != std::string::npos;
    });
    ASSERT_TRUE(ready && child_->running()) << read_text(dir_ + "/run.log");
  }

  int stop() {
    child_->signal(SIGTERM);
    return child_->wait();
  }

  std::string stream(const std::string& table) { return db_ + "_" + table + "_cdc_logs"; }
  std::vector<change> changes(const std::string& s) {
    std::vector<change> out;
    for (const auto& e : read_stream(*r_, s)) out.push_back(decode(e));
    return out;
  }
  replay_state replayed(const std::vector<std::string>& streams) {
    replay_state st;
    for (const auto& s : streams)
      for (const auto& e : read_stream(*r_, s)) replay_entry(st, e.key, e.value);
    return st;
  }

  std::string db_, id_, dir_;
  int port_ = 0;
  std::unique_ptr<redis_client> r_;
  std::unique_ptr<child_process> child_;
};

/// Random traffic on x and y: single inserts, multi-row transactions,
/// updates, key updates, deletes, rolled-back transactions.
class workload {
public:
  workload(const std::string& db, unsigned seed) : db_(db), rng_(seed) {}
  void run(const std::atomic<bool>& stop) {
    while (!stop) {
      ++rounds;
      int pick = static_cast<int>(rng_() % 10);
      std::string sql;
      if (pick < 3) {
        sql = insert();
      } else if (pick < 5) {
        sql = "BEGIN;";
        int n = 5 + static_cast<int>(rng_() % 20);
        for (int i = 0; i < n; ++i) sql += (rng_() % 3 ? insert() : update()) + ";";
        sql += "COMMIT";
      } else if (pick < 6) {
        sql = update();
      } else if (pick < 7) {
        sql = key_update();
      } else if (pick < 9) {
        sql = erase();
      } else {
        sql = "BEGIN; INSERT INTO " + db_ + ".x VALUES (" +
              std::to_string(-1 - static_cast<int>(rounds)) + ", 0); UPDATE " + db_ +
              ".y SET v = -1; ROLLBACK";
      }
      try {
        maria_exec(sql);
      } catch (const std::exception&) {
        // A key update onto an existing key: the statement fails, nothing
        // is logged.
      }
    }
  }
  std::atomic<long> rounds{0};

private:
  std::string table() { return db_ + (rng_() % 2 ? ".x" : ".y"); }
  std::string insert() {
    return "INSERT INTO " + table() + " VALUES (" + std::to_string(next_id_++) + ", " +
           std::to_string(rng_() % 1000) + ")";
  }
  std::string some_id() { return std::to_string(1 + rng_() % static_cast<unsigned>(next_id_)); }
  std::string update() { return "UPDATE " + table() + " SET v = v + 1 WHERE id = " + some_id(); }
  std::string key_update() {
    return "UPDATE " + table() + " SET id = " + std::to_string(next_id_++) +
           " WHERE id = " + some_id();
  }
  std::string erase() { return "DELETE FROM " + table() + " WHERE id = " + some_id(); }
  std::string db_;
  std::mt19937 rng_;
  int next_id_ = 1;
};

}  // namespace trib::test
