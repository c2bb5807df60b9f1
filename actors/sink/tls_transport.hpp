#pragma once
// TLS for the Redis client, with OpenSSL over the project's own TCP socket
// (hiredis 0.14 has no TLS). The protocol layer sees a plain transport.

#include <memory>
#include <string>

#include "actors/sink/redis_client.hpp"
#include "conf/config.hpp"

namespace trib {

/// Connected TCP socket (the descriptor), same timeouts as connect_tcp.
int open_tcp_socket(const std::string& host, int port, int timeout_ms, int read_timeout_ms);

/// Connects and completes a TLS handshake as the ssl block says: the trust
/// store's CAs verify the server (its certificate must name `host`); without
/// a trust store the system's CAs do. The key store, when given, is the
/// client certificate. Stores are PEM files or PKCS12 bundles. Throws
/// trib::error: config for unreadable or wrong stores, connection for a
/// handshake the server or the verification refuses.
std::unique_ptr<transport> connect_tls(const std::string& host, int port,
                                       const ssl_config& ssl, int timeout_ms,
                                       int read_timeout_ms);

}  // namespace trib
