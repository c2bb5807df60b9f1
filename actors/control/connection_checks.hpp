#pragma once
// `tributary test-connection`: connects to a source, a Redis target, or both,
// and checks the rights and settings a replication needs, one report line
// each (the checks themselves: pg_checks, my_checks, redis_checks). CAF-free.

#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "messages/connection_check.hpp"

namespace trib {

/// What names the keys, slot and tables the checks look at: the run's --id
/// and --group, and its filter and map files.
struct connection_test_options {
  std::string id = "default";
  std::string group = "default";
  filter_config filter;
  map_config map;
};

/// The report for a source and/or a target (at least one). A connection that
/// fails is a MISSING "connection" line naming the server, user and cause.
/// With both, the Redis rights are checked on the streams of the source's
/// tables too.
std::vector<connection_check> test_connections(const std::optional<source_config>& source,
                                               const std::optional<redis_config>& target,
                                               const connection_test_options& opts);

}  // namespace trib
