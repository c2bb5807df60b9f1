#pragma once
// Which replication slots Tributary may drop, free of CAF. A fresh `full`
// run needs a new slot (only a new slot exports a snapshot), so it drops the
// one it finds under the configured name; a slot is dropped only when this
// replication's record in Redis says Tributary created it and the slot still
// matches it (pgoutput, same database, same publication, same server).
// Anything else belongs to someone else and is refused.

#include <optional>
#include <string>

#include "actors/source/pg_replication.hpp"

namespace trib {

/// The checkpoint hash field that records the slot a replication created.
/// Stream names never start with '#', so it cannot clash with a stream's
/// field.
constexpr const char* slot_record_field = "#replication_slot";

/// The slot a replication uses when the source file names none:
/// tributary_<group>_<id> in what PostgreSQL accepts (lower case letters,
/// digits, underscores; 63 characters).
std::string default_slot_name(const std::string& group, const std::string& id);

/// What Tributary records when it creates a slot.
struct slot_record {
  std::string slot;
  std::string database;
  std::string publication;
  /// IDENTIFY_SYSTEM's system identifier: the same names on another server
  /// are another slot.
  std::string system_id;
};

/// JSON text: {"slot":..,"database":..,"publication":..,"system_id":..}.
std::string encode_slot_record(const slot_record& r);

/// The inverse; nothing when the text is not such a record (a record that
/// cannot be read proves nothing).
std::optional<slot_record> decode_slot_record(const std::string& text);

/// Empty when slot `found` may be dropped: it is a pgoutput slot of the
/// `wanted` database, and `recorded` (this replication's record) names the
/// same slot, database, publication and server as `wanted`. Otherwise the
/// reason, naming the slot, its plugin and its database, and what to do.
std::string slot_drop_refusal(const pg_slot_info& found, const std::optional<slot_record>& recorded,
                              const slot_record& wanted);

}  // namespace trib
