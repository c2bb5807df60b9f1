#pragma once
// Facts about the source server, read once per run: what every message's
// `source` block says besides the change's own position.

#include <cstdint>
#include <string>

#include "messages/table.hpp"

namespace trib {

/// Facts about the source server that go into every message's `source` block.
struct source_facts {
  source_kind kind = source_kind::postgresql;
  std::string version;   // server version, e.g. "15.18" or "10.11.6-MariaDB"
  std::string database;  // PostgreSQL database; empty for MariaDB
  int64_t server_id = 0; // MySQL/MariaDB @@server_id
};

}  // namespace trib
