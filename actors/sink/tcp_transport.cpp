// Plain TCP transport for the Redis client: the socket work only, so that a
// TLS transport can implement the same interface beside it.

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "actors/sink/redis_client.hpp"
#include "actors/sink/tls_transport.hpp"

namespace trib {

namespace {

std::string endpoint(const std::string& host, int port) {
  return host + ":" + std::to_string(port);
}

/// Closes the descriptor when it goes out of scope unless released.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

class tcp_transport : public transport {
public:
  tcp_transport(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {
  }

  ~tcp_transport() override {
    ::close(fd_);
  }

  void write_all(const char* data, size_t size) override {
    while (size > 0) {
      // MSG_NOSIGNAL: a peer that went away must become an error, not SIGPIPE.
      ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          fail("timed out writing to");
        fail_errno("lost the connection to");
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
  }

  size_t read_some(char* data, size_t size) override {
    for (;;) {
      ssize_t n = ::recv(fd_, data, size, 0);
      if (n > 0)
        return static_cast<size_t>(n);
      if (n == 0)
        fail("connection closed by");
      if (errno == EINTR)
        continue;
      // SO_RCVTIMEO expired: a server this slow counts as lost.
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        fail("timed out reading from");
      fail_errno("lost the connection to");
    }
  }

private:
  [[noreturn]] void fail(const char* what) {
    throw error(failure_code::connection, std::string(what) + " redis at " + peer_);
  }

  [[noreturn]] void fail_errno(const char* what) {
    throw error(failure_code::connection,
                std::string(what) + " redis at " + peer_ + ": " + std::strerror(errno));
  }

  int fd_;
  std::string peer_;
};

/// Connects one address within `timeout_ms`; returns the connected socket or
/// -1 with errno set.
int connect_one(const addrinfo* ai, int timeout_ms) {
  fd_guard s{::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)};
  if (s.fd < 0)
    return -1;
  int flags = ::fcntl(s.fd, F_GETFL);
  // Non-blocking only for the handshake, so that the timeout holds.
  if (flags < 0 || ::fcntl(s.fd, F_SETFL, flags | O_NONBLOCK) < 0)
    return -1;
  if (::connect(s.fd, ai->ai_addr, ai->ai_addrlen) < 0) {
    if (errno != EINPROGRESS)
      return -1;
    pollfd p{s.fd, POLLOUT, 0};
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    until - std::chrono::steady_clock::now()).count();
      if (left <= 0) {
        errno = ETIMEDOUT;
        return -1;
      }
      int r = ::poll(&p, 1, static_cast<int>(left));
      if (r > 0)
        break;
      if (r == 0) {
        errno = ETIMEDOUT;
        return -1;
      }
      if (errno != EINTR)
        return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
      return -1;
    if (err != 0) {
      errno = err;
      return -1;
    }
  }
  if (::fcntl(s.fd, F_SETFL, flags) < 0)
    return -1;
  return s.release();
}

void set_timeout(int fd, int option, int ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

}  // namespace

int open_tcp_socket(const std::string& host, int port, int timeout_ms, int read_timeout_ms) {
  auto peer = endpoint(host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0)
    throw error(failure_code::connection,
                "cannot connect to redis at " + peer + ": " + ::gai_strerror(rc));
  // The whole attempt, over every address of the host, stays within the
  // timeout; each address gets what is left.
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int fd = -1;
  int last_errno = ETIMEDOUT;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  until - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      last_errno = ETIMEDOUT;
      break;
    }
    fd = connect_one(ai, static_cast<int>(left));
    if (fd < 0)
      last_errno = errno;
  }
  ::freeaddrinfo(found);
  if (fd < 0)
    throw error(failure_code::connection,
                "cannot connect to redis at " + peer + ": " + std::strerror(last_errno));
  int one = 1;
  // Pipelined batches go out in one write; small commands (PING, AUTH)
  // must not wait for Nagle.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (read_timeout_ms > 0) {
    set_timeout(fd, SO_RCVTIMEO, read_timeout_ms);
    set_timeout(fd, SO_SNDTIMEO, read_timeout_ms);
  }
  return fd;
}

std::unique_ptr<transport> connect_tcp(const std::string& host, int port,
                                       int timeout_ms, int read_timeout_ms) {
  int fd = open_tcp_socket(host, port, timeout_ms, read_timeout_ms);
  return std::make_unique<tcp_transport>(fd, endpoint(host, port));
}

}  // namespace trib
