#pragma once
// The one configuration loader. Each function reads a YAML file, substitutes
// ${NAME} from the environment, validates every key (unknown, wrong type,
// missing, out of range) and returns the struct. Any problem throws
// trib::error{failure_code::config, message} where the message names the file,
// line, column and key, says what is wrong and, for a misspelt key, suggests
// the nearest valid one, e.g.
//   conf/dst/redis.yaml:3:3: snapshot.batch-size-row: unknown key (did you mean 'batch-size-rows'?)

#include <string>
#include <utility>
#include <variant>

#include "conf/config.hpp"
#include "messages/failure.hpp"

namespace trib {

/// A connection file is either a source or a target; `type` decides.
using connection_config = std::variant<source_config, redis_config>;

connection_config load_connection(const std::string& path);
/// Loads a connection file that must be a source (error otherwise).
source_config load_source(const std::string& path);
/// Loads a connection file that must be a REDIS_STREAM target.
redis_config load_target(const std::string& path);
extractor_config load_extractor(const std::string& path);
applier_config load_applier(const std::string& path);
filter_config load_filter(const std::string& path);
map_config load_map(const std::string& path);

/// "host:port" (a cluster-seeds entry): the host and the port; throws
/// std::invalid_argument with the reason.
std::pair<std::string, int> split_host_port(const std::string& text);

/// The candidate closest to `word` by edit distance, or "" when none is close.
std::string nearest_key(const std::string& word,
                        const std::vector<std::string>& candidates);

}  // namespace trib
