// The common connection failures, in words: for PostgreSQL, MariaDB and
// Redis, a wrong password, a refused port, an unknown host and a TLS
// mismatch each give one line that names host:port, the user and the cause,
// and no bare library number (`tributary test-connection`, exit code 1).

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "tests/integration/fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

struct failure_case {
  std::string name;
  std::string file_text;
  std::string where;  // host:port
  std::string user;
  std::string cause;  // words the line must hold
};

std::string pg_text(const std::string& host, int port, const std::string& pw,
                    const std::string& extra = "") {
  return "type: POSTGRESQL\nhost: " + host + "\nport: " + std::to_string(port) +
         "\ndatabase: postgres\nusername: tributary\npassword: " + pw + "\n" + extra;
}

std::string maria_text(const std::string& host, int port, const std::string& pw,
                       const std::string& extra = "") {
  return "type: MARIADB\nhost: " + host + "\nport: " + std::to_string(port) +
         "\nusername: tributary\npassword: " + pw + "\n" + extra;
}

std::string redis_text(const std::string& host, int port, const std::string& extra = "") {
  return "type: REDIS_STREAM\nhost: " + host + "\nport: " + std::to_string(port) + "\n" + extra;
}

// A port nothing listens on: bound, then closed.
int closed_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

std::string connection_line(const std::string& output) {
  std::istringstream in(output);
  for (std::string l; std::getline(in, l);)
    if (l.rfind("MISSING  connection: ", 0) == 0) return l;
  return "";
}

void expect_in_words(const failure_case& f) {
  auto dir = fresh_dir("trib_connection_errors");
  auto file = write_file(dir + "/conn.yaml", f.file_text);
  auto res = run_tributary("test-connection " + file);
  EXPECT_EQ(res.exit_code, 1) << f.name << ": " << res.output;
  auto line = connection_line(res.output);
  ASSERT_FALSE(line.empty()) << f.name << ": " << res.output;
  EXPECT_NE(line.find(f.where), std::string::npos) << f.name << ": " << line;
  EXPECT_NE(line.find("user " + f.user), std::string::npos) << f.name << ": " << line;
  EXPECT_NE(line.find(f.cause), std::string::npos) << f.name << ": " << line;
  // A library's number alone, "(111)" or "(-2)", explains nothing.
  EXPECT_FALSE(std::regex_search(line, std::regex(R"(\(-?[0-9]+\))"))) << f.name << ": " << line;
  std::filesystem::remove_all(dir);
}

const std::string unknown_host = "no-such-host.invalid";

}  // namespace

TEST(connection_errors, postgresql_failures_name_server_user_and_cause) {
  int port = pg_port(), closed = closed_port();
  std::string at = "127.0.0.1:" + std::to_string(port);
  for (const auto& f : std::vector<failure_case>{
         {"wrong password", pg_text("127.0.0.1", port, "wrong"), at, "tributary",
          "password authentication failed"},
         {"refused port", pg_text("127.0.0.1", closed, "tributary"),
          "127.0.0.1:" + std::to_string(closed), "tributary", "Connection refused"},
         {"unknown host", pg_text(unknown_host, port, "tributary"),
          unknown_host + ":" + std::to_string(port), "tributary", "could not translate host name"},
         {"tls mismatch", pg_text("127.0.0.1", port, "tributary", "ssl:\n  enable: true\n"), at,
          "tributary", "server does not support SSL"},
       })
    expect_in_words(f);
}

TEST(connection_errors, mariadb_failures_name_server_user_and_cause) {
  int port = mariadb_port(), closed = closed_port();
  std::string at = "127.0.0.1:" + std::to_string(port);
  for (const auto& f : std::vector<failure_case>{
         {"wrong password", maria_text("127.0.0.1", port, "wrong"), at, "tributary",
          "Access denied"},
         // The connector reports EINPROGRESS for a refused port.
         {"refused port", maria_text("127.0.0.1", closed, "tributary"),
          "127.0.0.1:" + std::to_string(closed), "tributary", "did not accept the connection"},
         {"unknown host", maria_text(unknown_host, port, "tributary"),
          unknown_host + ":" + std::to_string(port), "tributary", "Unknown server host"},
         {"tls mismatch", maria_text("127.0.0.1", port, "tributary", "ssl:\n  enable: true\n"),
          at, "tributary", "ssl.enable is on"},
       })
    expect_in_words(f);
}

TEST(connection_errors, redis_failures_name_server_user_and_cause) {
  int port = redis_port(), tls = redis_tls_port(), closed = closed_port();
  std::string at = "127.0.0.1:" + std::to_string(port);
  std::string acl = std::string("username: ") + redis_acl_user() + "\npassword: wrong\n";
  std::string tls_on = "ssl:\n  enable: true\n  trust-store:\n    path: " + tls_dir() +
                       "/ca.crt\n    ssl-store-type: PEM\n";
  for (const auto& f : std::vector<failure_case>{
         {"wrong password", redis_text("127.0.0.1", port, acl), at, redis_acl_user(),
          "refused authentication"},
         {"refused port", redis_text("127.0.0.1", closed), "127.0.0.1:" + std::to_string(closed),
          "default", "Connection refused"},
         {"unknown host", redis_text(unknown_host, port),
          unknown_host + ":" + std::to_string(port), "default", "Name or service not known"},
         {"tls to a plain port", redis_text("127.0.0.1", port, tls_on), at, "default",
          "tls handshake"},
         {"plain to a tls port", redis_text("127.0.0.1", tls), "127.0.0.1:" + std::to_string(tls),
          "default", "is this a TLS port?"},
       })
    expect_in_words(f);
}
