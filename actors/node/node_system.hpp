#pragma once
// A node's actor system: CAF's middleman over its OpenSSL module, with the
// node's certificates, so that actors of a coordinator and its workers reach
// each other with mutual TLS only. Free of CAF in its interface.

#include <chrono>
#include <cstdint>
#include <string>

#include "actors/node/node_tls.hpp"

namespace caf {
class actor;
class actor_system;
class actor_system_config;
}

namespace trib {

/// Loads the middleman and the OpenSSL module into `cfg` and makes `files`
/// (checked by check_node_tls) the node's identity and its only trusted CA:
/// both ends present a certificate and verify the other's. Call after
/// configure_actor_system and before the actor_system exists.
void configure_node(caf::actor_system_config& cfg, const node_tls_files& files);

/// Nodes send each other a heartbeat this often, and drop a connection that
/// has been silent for node_silence_limit: a node cut off from the network
/// (no FIN, no RST; TCP alone would wait for minutes) is then noticed within
/// seconds, as a down message for every actor monitored across it.
constexpr std::chrono::milliseconds node_heartbeat{1000};
constexpr std::chrono::milliseconds node_silence_limit{5000};

/// "HOST:PORT" of --listen and --join; throws trib::error (config) naming
/// the option when it is not that.
struct node_address {
  std::string host;
  uint16_t port = 0;
};
node_address parse_node_address(const std::string& text, const char* option);

/// Publishes `whom` at `addr` (--listen) over TLS and returns the port (the
/// one asked for, or the one the system chose for port 0). Throws
/// trib::error (config) when the address cannot be bound.
uint16_t publish_node(caf::actor_system& sys, const caf::actor& whom, const node_address& addr);

/// How long connect_node waits for TCP, TLS and CAF's own handshake.
constexpr std::chrono::seconds node_connect_timeout{10};

/// Connects to the actor that the node at `addr` published. Throws
/// trib::error naming `option` and the address: auth when either end
/// refused the other's certificate (with the cause: another CA, expired,
/// none), connection when nothing answers within `timeout` or the
/// connection is refused. CAF's own remote_actor has no deadline: a peer
/// that takes the TCP connection and never finishes a handshake (a
/// black-holed link, a port that does not speak TLS) would hold it forever.
caf::actor connect_node(caf::actor_system& sys, const node_address& addr, const char* option,
                        std::chrono::milliseconds timeout = node_connect_timeout);

}  // namespace trib
