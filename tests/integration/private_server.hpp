#pragma once
// What the servers of a test's own (private_redis.hpp, private_mariadb.hpp)
// share: a free loopback port, launching the server process, waiting until
// it answers, and signalling it and reaping it.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/integration/fixture.hpp"

namespace trib::test {

/// A loopback port the kernel just handed out and nobody listens on.
inline int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

/// Sends `sig` to the server and waits until it has exited; pid becomes -1.
inline void stop_server(pid_t& pid, int sig) {
  if (pid <= 0) return;
  ::kill(pid, sig);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  pid = -1;
}

/// Starts `args` (args[0] found on PATH) as a child process, then waits
/// until `answers()` says it is up; when it does not, kills it and throws
/// naming `log`.
inline pid_t launch_server(std::vector<std::string> args, const std::function<bool()>& answers,
                           const std::string& log) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  if (!wait_until(answers)) {
    stop_server(pid, SIGKILL);
    throw std::runtime_error(args[0] + " did not start; see " + log);
  }
  return pid;
}

}  // namespace trib::test
