#pragma once
// Where a replication's checkpoint lives in Redis. On one server it is one
// hash, `replicate_io_checkpoint_<group>_<id>`, a field per stream (and the
// replication-wide `#...` fields). In mode CLUSTER each stream's fields are
// in a hash of its own in the stream's slot, `<that key>:{<stream>}`, so
// that a write's entries and checkpoint commit in one MULTI/EXEC on the
// stream's node; the `#...` fields stay in the first hash. These functions
// give setup code (state checks, --overwrite, --resume) one view of both
// layouts. CAF-free; blocking.

#include <map>
#include <string>
#include <vector>

namespace trib {

class redis_client;

/// The hash that holds `stream`'s checkpoint fields, on the target `c` is
/// connected to (redis_client::cluster() tells the layout).
std::string checkpoint_hash(redis_client& c, const std::string& base, const std::string& stream);

/// The checkpoint hashes of a replication that exist: `base` and, in a
/// cluster, every `base:{...}` (SCAN on each master).
std::vector<std::string> checkpoint_hashes(redis_client& c, const std::string& base);

/// Every checkpoint field of a replication with its value, from all its
/// hashes.
std::map<std::string, std::string> read_checkpoint_fields(redis_client& c,
                                                          const std::string& base);

/// `text` with the glob characters of a SCAN MATCH pattern escaped.
std::string glob_escape(const std::string& text);

}  // namespace trib
