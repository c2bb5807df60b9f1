#pragma once
// Trimming of table streams (applier stream-max-length and trim, design
// section 11) and the consumer lag bound (max-consumer-lag): the pure half.
// Which ID an ACKED trim may cut below and how far groups lag, read from
// XINFO GROUPS and XPENDING replies, and when a writer trims or reads the
// lag. No I/O, no CAF.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/sink/redis_client.hpp"
#include "conf/config.hpp"

namespace trib {

/// A stream entry ID, ms-seq.
struct stream_id {
  uint64_t ms = 0;
  uint64_t seq = 0;
  bool operator<(const stream_id& o) const { return ms < o.ms || (ms == o.ms && seq < o.seq); }
  bool operator==(const stream_id& o) const { return ms == o.ms && seq == o.seq; }
  /// The smallest ID after this one.
  stream_id next() const;
  std::string str() const { return std::to_string(ms) + "-" + std::to_string(seq); }
};

/// "ms-seq" (or "ms", seq 0); nullopt when it is not an ID.
std::optional<stream_id> parse_stream_id(const std::string& s);

/// What a consumer group holds back: entries after `last_delivered` were not
/// delivered to it; of those before, the pending ones (oldest
/// `oldest_pending`) are delivered but not acknowledged.
struct group_position {
  std::string name;
  stream_id last_delivered;
  uint64_t pending = 0;
  std::optional<stream_id> oldest_pending;
  /// Entries of the stream not yet delivered to the group (Redis 7's
  /// `lag`); nullopt when Redis cannot tell (entries deleted or trimmed
  /// past the group's position, a Redis before 7).
  std::optional<uint64_t> lag;
};

/// The groups of an XINFO GROUPS reply, without their oldest pending entry
/// (XPENDING gives it). Throws trib::error{bad_data} on another shape.
std::vector<group_position> parse_xinfo_groups(const redis_reply& r);

/// The oldest ID of an XPENDING <stream> <group> summary reply (nullopt:
/// nothing pending). Throws trib::error{bad_data} on another shape.
std::optional<stream_id> parse_xpending_oldest(const redis_reply& r);

/// The ID an ACKED trim may cut below (XTRIM ... MINID ~ <it>): every entry
/// before it was delivered to every group and acknowledged by it. nullopt
/// when there is no group (such a stream is not trimmed in ACKED mode) or a
/// group with pending entries lacks its oldest.
std::optional<stream_id> acked_trim_point(const std::vector<group_position>& groups);

/// Whether a writer that has added `since` entries to a stream since its
/// last trim of it trims now: once a tenth of the length has come (the
/// stream keeps about max_length entries, up to a tenth more plus one
/// write, as MAXLEN ~ allows), so a trim costs one command per many writes.
bool trim_due(const stream_trim_config& cfg, uint64_t since);

/// The group that lags most (by known lag); nullopt when no group's lag is
/// known.
std::optional<group_position> slowest_group(const std::vector<group_position>& groups);

/// Whether a writer that has added `since` entries to a stream since it
/// last read its groups' lag reads it now (max-consumer-lag, 0: off): once
/// a tenth of the allowed lag has come, so a stream overshoots the bound by
/// about a tenth plus one write.
bool lag_check_due(uint64_t max_consumer_lag, uint64_t since);

}  // namespace trib
