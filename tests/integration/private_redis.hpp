#pragma once
// A Redis server of one test's own: for settings that must not reach the
// shared test Redis of ops/servers.sh (other tests use it at the same time),
// and for tests that kill -9 Redis and start it again. No persistence, so a
// restart comes back empty, as a Redis that lost its data does.

#include <signal.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/sink/redis_client.hpp"
#include "tests/integration/private_server.hpp"

namespace trib::test {

class private_redis {
public:
  /// Starts redis-server on a free loopback port with `settings` (e.g.
  /// {"--proto-max-bulk-len", "1mb"}), its files under `dir` (a fresh
  /// directory when empty).
  explicit private_redis(std::vector<std::string> settings = {}, std::string dir = "")
      : settings_(std::move(settings)) {
    port_ = free_loopback_port();
    dir_ = dir.empty() ? fresh_dir("trib_private_redis_" + std::to_string(port_)) : dir;
    std::filesystem::create_directories(dir_);
    start();
  }
  private_redis(const private_redis&) = delete;
  private_redis& operator=(const private_redis&) = delete;
  ~private_redis() { kill_now(); }

  int port() const { return port_; }

  /// A target connection file's text for this server, with short retry waits.
  std::string conn_yaml() const {
    return "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " + std::to_string(port_) +
           "\nmax-retries: 20\nretry-wait-duration-ms: 100\n";
  }

  /// The test's own connection (made again by start()).
  redis_client& client() { return *client_; }

  /// A new connection.
  std::unique_ptr<redis_client> connect() const {
    redis_config cfg;
    cfg.host = "127.0.0.1";
    cfg.port = port_;
    return redis_client::connect(cfg);
  }

  /// SIGKILL: everything the server held is gone.
  void kill_now() {
    client_.reset();
    stop_server(pid_, SIGKILL);
  }

  /// Starts the server (again, on the same port) and waits until it answers.
  void start() {
    std::vector<std::string> args{"redis-server", "--bind", "127.0.0.1", "--port",
                                  std::to_string(port_), "--dir", dir_, "--save", "",
                                  "--appendonly", "no", "--logfile", dir_ + "/redis.log"};
    args.insert(args.end(), settings_.begin(), settings_.end());
    pid_ = launch_server(
      args,
      [&] {
        try {
          client_ = connect();
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      dir_ + "/redis.log");
  }

private:
  std::vector<std::string> settings_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<redis_client> client_;
};

}  // namespace trib::test
