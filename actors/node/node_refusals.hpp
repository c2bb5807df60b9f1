#pragma once
// Why a TLS handshake between two nodes failed, on both sides. CAF's OpenSSL
// module verifies peers without a callback of its own and reports a refused
// handshake only as "disconnect during handshake" (its log is compiled out in
// Debian's build), so this file watches the node sessions' handshakes: it
// logs every peer it refuses or that refuses it (address, certificate
// subject, cause) and keeps the reasons for connect_node's error. Free of
// CAF.

#include <cstdint>
#include <string>
#include <vector>

namespace trib {

/// One failed node handshake as this process saw it.
struct node_refusal {
  uint64_t seq = 0;       // increases with each refusal in this process
  std::string peer;       // "ADDRESS:PORT" of the other end
  uint16_t peer_port = 0;
  bool we_refused = true;  // false: the other end refused this node
  std::string reason;     // e.g. "its certificate (CN=old) is not valid now (...)"
};

/// Makes sure the handshake watch is linked into the program; configure_node
/// calls it. Returns whether the watch is active (the program's own
/// SSL_CTX_set_verify is the one CAF's OpenSSL module calls).
bool watch_node_handshakes();

/// The sequence number the next refusal will get.
uint64_t next_node_refusal();

/// Refusals with seq >= `from` whose peer port is `port` (0: any), oldest
/// first.
std::vector<node_refusal> node_refusals_since(uint64_t from, uint16_t port = 0);

}  // namespace trib
