#pragma once
// Shared helpers of the integration tests: run SQL on the real servers,
// run the tributary binary, read streams back with the project's Redis client.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libpq-fe.h>
#include <mysql.h>

#include "actors/sink/redis_client.hpp"
#include "conf/config.hpp"
#include "tests/integration/test_env.hpp"

namespace trib::test {

/// The local MariaDB of ops/servers.sh as a source, as the test role.
inline source_config mariadb_source_config() {
  source_config cfg;
  cfg.kind = source_kind::mariadb;
  cfg.host = "127.0.0.1";
  cfg.port = mariadb_port();
  cfg.username = source_user();
  cfg.password = source_password();
  return cfg;
}

/// The local PostgreSQL of ops/servers.sh as a source: database `db`.
inline source_config pg_source_config(const std::string& db) {
  source_config cfg;
  cfg.kind = source_kind::postgresql;
  cfg.host = "127.0.0.1";
  cfg.port = pg_port();
  cfg.database = db;
  cfg.username = source_user();
  cfg.password = source_password();
  return cfg;
}

/// Runs SQL statements on PostgreSQL database `db` as the superuser-free
/// test role; throws with the server's message on failure.
inline void pg_exec(const std::string& db, const std::string& sql) {
  std::string conninfo = "host=127.0.0.1 port=" + std::to_string(pg_port()) +
                         " dbname=" + db + " user=" + source_user() +
                         " password=" + source_password();
  std::unique_ptr<PGconn, decltype(&PQfinish)> c{PQconnectdb(conninfo.c_str()), PQfinish};
  if (PQstatus(c.get()) != CONNECTION_OK)
    throw std::runtime_error(std::string("pg connect: ") + PQerrorMessage(c.get()));
  PGresult* r = PQexec(c.get(), sql.c_str());
  auto st = PQresultStatus(r);
  std::string err = PQresultErrorMessage(r);
  PQclear(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    throw std::runtime_error("pg: " + err + " in: " + sql.substr(0, 200));
}

/// Creates (or recreates) a PostgreSQL database for one test.
inline void pg_fresh_database(const std::string& db) {
  pg_exec("postgres", "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  pg_exec("postgres", "CREATE DATABASE " + db);
}

/// Runs statements (separated by ';' lines allowed) on MariaDB.
inline void maria_exec(const std::string& sql) {
  MYSQL* m = mysql_init(nullptr);
  unsigned long flags = CLIENT_MULTI_STATEMENTS;
  if (!mysql_real_connect(m, "127.0.0.1", source_user(), source_password(), nullptr,
                          static_cast<unsigned>(mariadb_port()), nullptr, flags)) {
    std::string e = mysql_error(m);
    mysql_close(m);
    throw std::runtime_error("mariadb connect: " + e);
  }
  mysql_set_character_set(m, "utf8mb4");
  if (mysql_query(m, sql.c_str()) != 0) {
    std::string e = mysql_error(m);
    mysql_close(m);
    throw std::runtime_error("mariadb: " + e + " in: " + sql.substr(0, 200));
  }
  // Drain every result of a multi-statement.
  do {
    if (MYSQL_RES* res = mysql_store_result(m)) mysql_free_result(res);
    if (mysql_errno(m) != 0) {
      std::string e = mysql_error(m);
      mysql_close(m);
      throw std::runtime_error("mariadb: " + e);
    }
  } while (mysql_next_result(m) == 0);
  if (mysql_errno(m) != 0) {
    std::string e = mysql_error(m);
    mysql_close(m);
    throw std::runtime_error("mariadb: " + e);
  }
  mysql_close(m);
}

/// Exit code and combined output of a command.
struct run_result {
  int exit_code = -1;
  std::string output;
};

/// Runs the tributary binary with the given arguments (shell-quoted by the
/// caller where needed).
inline run_result run_tributary(const std::string& args) {
  std::string cmd = std::string(TRIB_BINARY) + " " + args + " 2>&1";
  run_result out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.output.append(buf, n);
  int status = pclose(p);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

/// A tributary process running in the background, for tests that kill it
/// mid-run. Its stdout and stderr go to `log_file`. The destructor kills and
/// reaps a child that is still running, so a failed assertion leaves no
/// orphan behind.
class child_process {
public:
  /// `netns`: the network namespace (ip netns name) to run it in, as `ip
  /// netns exec` would (tests/integration/netns.hpp); "" for this one.
  child_process(const std::vector<std::string>& args, const std::string& log_file,
                const std::string& netns = "") {
    std::vector<std::string> argv_s{TRIB_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      if (!netns.empty()) {
        int ns = open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(126);
        close(ns);
      }
      int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process() {
    if (running()) kill_now();
  }

  /// Whether the process has not exited yet (reaps it when it has).
  bool running() {
    if (done_) return false;
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) finish(status);
    return !done_;
  }

  /// SIGKILL, as a crash or `kill -9` would end it; waits until it is gone.
  void kill_now() {
    if (done_) return;
    ::kill(pid_, SIGKILL);
    wait();
  }

  /// Waits for the end; the exit code, or 128 + signal.
  int wait() {
    while (!done_) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, 0);
      if (r == pid_) finish(status);
      else if (r < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
    }
    return exit_code_;
  }

  /// Sends `sig` (SIGTERM to ask for a drain, say) unless it has ended.
  void signal(int sig) {
    if (running()) ::kill(pid_, sig);
  }

  /// The process id (for /proc reads such as its peak memory).
  pid_t pid() const { return pid_; }

  /// Whether it ended by a signal (a kill) rather than exiting.
  bool killed() const { return signalled_; }

private:
  void finish(int status) {
    done_ = true;
    signalled_ = WIFSIGNALED(status);
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  pid_t pid_ = -1;
  bool done_ = false;
  bool signalled_ = false;
  int exit_code_ = -1;
};

/// XLEN of a stream (0 when it does not exist).
inline long long stream_length(redis_client& r, const std::string& stream) {
  auto reply = r.command({"XLEN", stream});
  if (reply.type != redis_reply::kind::integer)
    throw std::runtime_error("XLEN " + stream + ": " + reply.str);
  return reply.integer;
}

/// The whole text of a file ("" when it does not exist).
inline std::string read_text(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

/// The texts of the run summaries (`summary-*.json`) in a run's data
/// directory, oldest first (their names sort by time).
inline std::vector<std::string> run_summaries(const std::string& data_dir) {
  std::vector<std::string> names;
  if (!std::filesystem::exists(data_dir)) return {};
  for (const auto& e : std::filesystem::directory_iterator(data_dir)) {
    auto name = e.path().filename().string();
    if (name.rfind("summary-", 0) == 0 && e.path().extension() == ".json")
      names.push_back(e.path().string());
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> texts;
  for (const auto& n : names) texts.push_back(read_text(n));
  return texts;
}

/// Writes a file (for per-test configuration files) and returns its path.
inline std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
  return path;
}

/// An empty directory under the system's temporary directory, for one
/// test's configuration files and data dir.
inline std::string fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

/// A target connection file in `dir` for the plain test Redis.
/// A source connection file's text for the test PostgreSQL's database `db`.
inline std::string pg_source(const std::string& db) {
  return "type: POSTGRESQL\nhost: 127.0.0.1\nport: " + std::to_string(pg_port()) +
         "\ndatabase: " + db + "\nusername: tributary\npassword: tributary\n";
}

/// A source connection file's text for the test MariaDB.
inline std::string maria_source() {
  return "type: MARIADB\nhost: 127.0.0.1\nport: " + std::to_string(mariadb_port()) +
         "\nusername: tributary\npassword: tributary\n";
}

inline std::string redis_conn(const std::string& dir) {
  return write_file(dir + "/redis.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                           std::to_string(redis_port()) + "\n");
}

/// A connection to the plain test Redis.
inline std::unique_ptr<redis_client> redis() {
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = redis_port();
  return redis_client::connect(cfg);
}

/// Every entry of a stream as (id, key, value).
struct entry {
  std::string id, key, value;
};

inline std::vector<entry> read_stream(redis_client& r, const std::string& stream) {
  std::vector<entry> out;
  std::string from = "-";
  for (;;) {
    auto reply = r.command({"XRANGE", stream, from, "+", "COUNT", "10000"});
    if (reply.type != redis_reply::kind::array)
      throw std::runtime_error("XRANGE " + stream + ": " + reply.str);
    if (reply.elements.empty()) break;
    for (const auto& e : reply.elements) {
      entry x;
      x.id = e.elements.at(0).str;
      const auto& f = e.elements.at(1).elements;
      for (size_t i = 0; i + 1 < f.size(); i += 2) {
        if (f[i].str == "key") x.key = f[i + 1].str;
        else if (f[i].str == "value") x.value = f[i + 1].str;
        else throw std::runtime_error("unexpected field " + f[i].str + " in " + stream);
      }
      out.push_back(std::move(x));
    }
    // Nothing comes after the largest ID a stream can have (and XRANGE
    // refuses an exclusive start there).
    if (out.back().id == "18446744073709551615-18446744073709551615") break;
    from = "(" + out.back().id;
  }
  return out;
}

/// Deletes every key with the given prefix (test isolation).
inline void delete_keys(redis_client& r, const std::string& pattern) {
  auto keys = r.command({"KEYS", pattern});
  for (const auto& k : keys.elements) r.command({"DEL", k.str});
}

}  // namespace trib::test
