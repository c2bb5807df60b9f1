#include "actors/node/node_system.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "messages/failure.hpp"

namespace trib {

void configure_node(caf::actor_system_config& cfg, const node_tls_files& files) {
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  // With all three set CAF's sessions require and verify the peer's
  // certificate (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT); with
  // none it would fall back to anonymous TLS, which check_node_tls rules out.
  cfg.openssl_certificate = files.cert;
  cfg.openssl_key = files.key;
  cfg.openssl_cafile = files.ca;
}

node_address parse_node_address(const std::string& text, const char* option) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw error(failure_code::config,
                std::string(option) + " wants HOST:PORT, got '" + text + "'");
  node_address a;
  a.host = text.substr(0, colon);
  auto port = text.substr(colon + 1);
  unsigned long n = 0;
  try {
    size_t used = 0;
    n = std::stoul(port, &used);
    if (used != port.size()) n = 0;
  } catch (const std::exception&) {
    n = 0;
  }
  if (n == 0 || n > 65535)
    throw error(failure_code::config,
                std::string(option) + ": '" + port + "' is not a port (1 to 65535)");
  a.port = static_cast<uint16_t>(n);
  return a;
}

}  // namespace trib
