#pragma once
// The one way Tributary opens a libpq connection, for the snapshot session and
// the replication client alike, with failures classified the same way.

#include <string>

#include <libpq-fe.h>

#include "conf/config.hpp"

namespace trib {

/// libpq messages end in a newline and may span lines; one line reads better.
std::string pg_one_line(const char* msg);

/// Connects per `cfg` (TLS from its ssl block; PEM files only). `options` are
/// server settings passed at connection time ("-c TimeZone=UTC ..."), which a
/// walsender can take no other way; `replication` opens a logical replication
/// connection. Throws trib::error: auth (refused user), config (no such
/// database), connection (anything else).
PGconn* pg_connect(const source_config& cfg, const std::string& options, bool replication);

}  // namespace trib
