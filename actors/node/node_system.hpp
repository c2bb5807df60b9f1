#pragma once
// A node's actor system: CAF's middleman over its OpenSSL module, with the
// node's certificates, so that actors of a coordinator and its workers reach
// each other with mutual TLS only. Free of CAF in its interface.

#include <cstdint>
#include <string>

#include "actors/node/node_tls.hpp"

namespace caf {
class actor_system_config;
}

namespace trib {

/// Loads the middleman and the OpenSSL module into `cfg` and makes `files`
/// (checked by check_node_tls) the node's identity and its only trusted CA:
/// both ends present a certificate and verify the other's. Call after
/// configure_actor_system and before the actor_system exists.
void configure_node(caf::actor_system_config& cfg, const node_tls_files& files);

/// "HOST:PORT" of --listen and --join; throws trib::error (config) naming
/// the option when it is not that.
struct node_address {
  std::string host;
  uint16_t port = 0;
};
node_address parse_node_address(const std::string& text, const char* option);

}  // namespace trib
