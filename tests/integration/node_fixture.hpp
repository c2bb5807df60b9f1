#pragma once
// What the node tests share: certificates from ops/node-certs.sh made once per
// test binary, a node's actor system over CAF's OpenSSL module, and an actor
// that answers every message with itself.

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/control/type_ids.hpp"
#include "actors/node/node_system.hpp"
#include "actors/node/node_tls.hpp"
#include "messages/failure.hpp"

namespace trib::test {

namespace fs = std::filesystem;

/// Makes the certificates once for the whole binary: a CA with nodes `a`, `b`
/// and `old` (expired), and another CA with node `stranger`.
class node_certs : public ::testing::Environment {
public:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("trib-node-certs-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    std::string script = std::string(TRIB_SOURCE_DIR) + "/ops/node-certs.sh";
    auto run = [&](const std::string& env, const std::string& args) {
      std::string cmd = env + " bash " + script + " " + args + " > /dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    };
    run("", (dir / "ca").string() + " a b");
    run("EXPIRED=1", (dir / "ca").string() + " old");
    run("", (dir / "other").string() + " stranger");
  }
  void TearDown() override { fs::remove_all(dir); }
  static inline fs::path dir;
};

inline const auto* certs = ::testing::AddGlobalTestEnvironment(new node_certs);

inline std::string node_dir(const std::string& ca, const std::string& node) {
  return (node_certs::dir / ca / node).string();
}

/// A node's actor system with the certificates of DIR (unchecked, so that
/// a test can offer what check_node_tls would refuse); "" for a peer with
/// no certificate at all, which CAF's OpenSSL module serves in anonymous
/// TLS (what Tributary itself never runs).
struct node {
  explicit node(const std::string& dir) : sys((setup(dir), cfg)) {}
  void setup(const std::string& dir) {
    configure_actor_system(cfg);
    if (dir.empty()) {
      cfg.load<caf::io::middleman>();
      cfg.load<caf::openssl::manager>();
      return;
    }
    node_tls_files f;
    f.ca = dir + "/ca.pem";
    f.cert = dir + "/node.pem";
    f.key = dir + "/node.key";
    configure_node(cfg, f);
  }
  caf::actor_system_config cfg;
  caf::actor_system sys;
};

/// Answers every message with itself (an actor without a handler would
/// quit at once, hence the one for a message no test sends).
inline caf::behavior echo(caf::event_based_actor* self) {
  self->set_default_handler(caf::reflect);
  return {[](caf::ok_atom) {},
          // A failure comes back as handlers return one: inside a caf::error.
          [](failure& f) -> caf::error { return to_caf_error(f); }};
}

}  // namespace trib::test
