#pragma once
// A Redis server of one test's own, without persistence, that the test can
// kill -9 and start again on the same port: the shared test Redis of
// ops/servers.sh serves other tests at the same time and must stay up.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/sink/redis_client.hpp"
#include "tests/integration/test_env.hpp"

namespace trib::test {

class scratch_redis {
public:
  /// Starts redis-server on a free loopback port, its files under `dir`.
  explicit scratch_redis(const std::string& dir) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    port_ = free_port();
    start();
  }
  scratch_redis(const scratch_redis&) = delete;
  scratch_redis& operator=(const scratch_redis&) = delete;
  ~scratch_redis() { kill_now(); }

  int port() const { return port_; }

  /// A target connection file for this server, with short retry waits.
  std::string conn_yaml() const {
    return "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " + std::to_string(port_) +
           "\nmax-retries: 20\nretry-wait-duration-ms: 100\n";
  }

  /// A client connection.
  std::unique_ptr<redis_client> client() const {
    redis_config cfg;
    cfg.host = "127.0.0.1";
    cfg.port = port_;
    return redis_client::connect(cfg);
  }

  /// SIGKILL: everything the server held is gone (it has no persistence).
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  /// Starts the server again on the same port and waits until it answers.
  void start() {
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      std::string port = std::to_string(port_);
      std::vector<std::string> args{"redis-server", "--bind", "127.0.0.1", "--port", port,
                                    "--dir", dir_, "--save", "", "--appendonly", "no",
                                    "--logfile", dir_ + "/redis.log"};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("redis-server", argv.data());
      _exit(127);
    }
    bool up = wait_until([&] {
      try {
        client();
        return true;
      } catch (const std::exception&) {
        return false;
      }
    });
    if (!up) throw std::runtime_error("redis-server on port " + std::to_string(port_) +
                                      " did not start; see " + dir_ + "/redis.log");
  }

private:
  // A port the kernel just handed out and nobody listens on.
  static int free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      close(fd);
      throw std::runtime_error("cannot find a free port");
    }
    close(fd);
    return ntohs(a.sin_port);
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace trib::test
