#pragma once
// The one way Tributary opens a MySQL/MariaDB connection, for the snapshot
// session, the binlog client and the settings check alike, with failures
// classified the same way.

#include <string>

#include "conf/config.hpp"
#include "messages/failure.hpp"

struct st_mysql;

namespace trib {

/// Classifies a server or client error number (mysqld_error.h, errmsg.h).
failure_code my_classify(unsigned code);

/// Connects per `cfg` over TCP in utf8mb4 (TLS from its ssl block; PEM files
/// only), with `read_timeout_s` as the longest wait for a server reply.
/// Throws trib::error: auth (refused user), config (no such database),
/// server_busy (too many connections), connection (anything else).
st_mysql* my_connect(const source_config& cfg, unsigned read_timeout_s);

/// The connector's message with the number it ends in put into words: "Can't
/// connect to server on 'h' (111)" gets "(errno 111: Connection refused)", a
/// negative number (a host name lookup) getaddrinfo's words; EINPROGRESS,
/// which the connector reports for a refused port, says the server did not
/// accept the connection. Other messages are returned as they are.
std::string my_error_words(const std::string& message);

/// "host:port" of `cfg`, for messages.
std::string my_where(const source_config& cfg);

}  // namespace trib
