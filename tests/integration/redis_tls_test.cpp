// Redis over TLS with client certificates: the TLS server that ops/servers.sh
// starts requires a client certificate signed by its CA.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include "actors/sink/redis_client.hpp"
#include "messages/failure.hpp"
#include "tests/integration/test_env.hpp"

using namespace trib;
using namespace trib::test;

namespace {

store_config pem(std::string path, std::string key_path = "") {
  store_config s;
  s.path = std::move(path);
  s.key_path = std::move(key_path);
  s.store_type = "PEM";
  return s;
}

store_config pkcs12(std::string path) {
  store_config s;
  s.path = std::move(path);
  s.password = "changeit";
  s.store_type = "PKCS12";
  return s;
}

redis_config tls_config(const std::string& host = "127.0.0.1") {
  redis_config cfg;
  cfg.host = host;
  cfg.port = redis_tls_port();
  cfg.ssl.enable = true;
  cfg.ssl.trust_store = pem(tls_dir() + "/ca.crt");
  cfg.ssl.key_store = pem(tls_dir() + "/client.crt", tls_dir() + "/client.key");
  return cfg;
}

failure_code code_of_connect(const redis_config& cfg, std::string* what = nullptr) {
  try {
    redis_client::connect(cfg);
  } catch (const trib::error& e) {
    if (what) *what = e.what();
    return e.code();
  }
  return failure_code::internal;
}

}  // namespace

TEST(redis_tls, pem_stores_connect_and_write) {
  auto c = redis_client::connect(tls_config());
  auto r = c->command({"SET", "trib_tls_probe", "1"});
  EXPECT_EQ(r.type, redis_reply::kind::status) << r.str;
  write_batch b;
  b.stream = "trib_tls_stream";
  b.entries = {{"k1", "v1"}, {"k2", "v2"}};
  b.checkpoint_key = "trib_tls_ckpt";
  b.checkpoint_field = "trib_tls_stream";
  b.checkpoint_value = "2";
  EXPECT_EQ(c->write_atomically(b).size(), 2u);
  EXPECT_EQ(c->command({"XLEN", "trib_tls_stream"}).integer, 2);
  c->command({"DEL", "trib_tls_probe", "trib_tls_stream", "trib_tls_ckpt"});
}

TEST(redis_tls, pkcs12_stores_connect) {
  auto cfg = tls_config();
  cfg.ssl.trust_store = pkcs12(tls_dir() + "/ca.p12");
  cfg.ssl.key_store = pkcs12(tls_dir() + "/client.p12");
  auto c = redis_client::connect(cfg);
  EXPECT_EQ(c->command({"PING"}).str, "PONG");
}

TEST(redis_tls, the_server_name_is_checked_against_its_certificate) {
  // The server certificate names localhost and 127.0.0.1 only.
  EXPECT_EQ(redis_client::connect(tls_config("localhost"))->command({"PING"}).str, "PONG");
  // The machine's own name reaches the same server but is not in the
  // certificate.
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* found = nullptr;
  bool loopback = ::getaddrinfo(name, nullptr, &hints, &found) == 0 && found &&
                  reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr.s_addr ==
                    htonl(INADDR_LOOPBACK);
  if (found) ::freeaddrinfo(found);
  if (!loopback) GTEST_SKIP() << "host name " << name << " does not resolve to 127.0.0.1";
  std::string what;
  EXPECT_EQ(code_of_connect(tls_config(name), &what), failure_code::auth);
  EXPECT_NE(what.find("tls handshake"), std::string::npos) << what;
}

TEST(redis_tls, a_server_signed_by_another_ca_is_refused) {
  auto cfg = tls_config();
  // The client certificate is no CA of the server: verification fails.
  cfg.ssl.trust_store = pem(tls_dir() + "/client.crt");
  // A certificate problem never goes away by retrying: permanent.
  std::string what;
  EXPECT_EQ(code_of_connect(cfg, &what), failure_code::auth);
  EXPECT_FALSE(is_retryable(failure_code::auth));
  EXPECT_NE(what.find("tls handshake"), std::string::npos) << what;
  EXPECT_NE(what.find("certificate"), std::string::npos) << what;
}

TEST(redis_tls, no_client_certificate_is_a_failure_naming_the_certificate) {
  auto cfg = tls_config();
  cfg.ssl.key_store.reset();
  std::string what;
  // Permanent when the server's alert arrives; when the server resets the
  // connection before it can be read, a lost connection with a hint.
  auto code = code_of_connect(cfg, &what);
  EXPECT_TRUE(code == failure_code::auth || code == failure_code::connection) << what;
  EXPECT_NE(what.find(code == failure_code::auth ? "refused the client certificate"
                                                 : "ssl.key-store is not set"),
            std::string::npos)
    << what;
}

TEST(redis_tls, acl_user_over_tls_gets_noperm_outside_its_keys) {
  auto cfg = tls_config();
  cfg.username = redis_acl_user();
  cfg.password = redis_acl_password();
  auto c = redis_client::connect(cfg);
  EXPECT_EQ(c->command({"SET", "acl_trib_tls", "1"}).type, redis_reply::kind::status);
  auto denied = c->command({"SET", "trib_tls_denied", "1"});
  EXPECT_EQ(denied.type, redis_reply::kind::error);
  EXPECT_EQ(classify_redis_error(denied.str), failure_code::auth);
  c->command({"DEL", "acl_trib_tls"});
}

TEST(redis_tls, unreadable_store_is_a_configuration_error) {
  auto cfg = tls_config();
  cfg.ssl.key_store = pkcs12(tls_dir() + "/client.p12");
  cfg.ssl.key_store->password = "wrong";
  std::string what;
  EXPECT_EQ(code_of_connect(cfg, &what), failure_code::config);
  EXPECT_NE(what.find("client.p12"), std::string::npos) << what;
  cfg.ssl.key_store = pem("/nonexistent/client.crt");
  EXPECT_EQ(code_of_connect(cfg, &what), failure_code::config);
}

TEST(redis_tls, a_missing_trust_store_names_the_file_and_why) {
  auto cfg = tls_config();
  cfg.ssl.trust_store = pem("/nonexistent/ca.crt");
  std::string what;
  EXPECT_EQ(code_of_connect(cfg, &what), failure_code::config);
  EXPECT_EQ(what, "ssl store /nonexistent/ca.crt: cannot read the file: No such file or directory");
  cfg.ssl.trust_store = pkcs12("/nonexistent/ca.p12");
  EXPECT_EQ(code_of_connect(cfg, &what), failure_code::config);
  EXPECT_EQ(what, "ssl store /nonexistent/ca.p12: cannot read the file: No such file or directory");
}

TEST(redis_tls, a_plain_connection_to_the_tls_port_asks_whether_it_is_one) {
  redis_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = redis_tls_port();
  std::string what;
  EXPECT_EQ(code_of_connect(cfg, &what), failure_code::connection);
  EXPECT_NE(what.find("is this a TLS port? ssl.enable is off"), std::string::npos) << what;
}
