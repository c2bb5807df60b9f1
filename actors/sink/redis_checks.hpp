#pragma once
// What `tributary test-connection` checks on Redis: that the target user may
// run every command a replication runs, on the keys it runs them on. Without
// writing anything: ACL DRYRUN where the user may run it (Redis 7), else each
// command queued inside MULTI and discarded, since Redis checks a command's
// ACL when it queues it. CAF-free; the meaning of each answer is a pure
// function.

#include <optional>
#include <string>
#include <vector>

#include "actors/sink/redis_client.hpp"
#include "conf/config.hpp"
#include "messages/connection_check.hpp"

namespace trib {

/// The keys a replication uses: its checkpoint hash, schema stream and lease
/// keys, and the table streams when the source's tables are known.
struct redis_key_plan {
  std::string checkpoint;
  std::string schema_stream;
  std::vector<std::string> lease_keys;
  /// Snapshot and change streams of the tables; empty when unknown.
  std::vector<std::string> table_streams;
};

/// One command and the keys it is checked on (none for MULTI, EXEC, INFO).
struct redis_command_use {
  std::string command;
  std::vector<std::string> keys;
};

/// Every command a replication runs, with its keys, in report order.
std::vector<redis_command_use> redis_command_uses(const redis_key_plan& plan);

/// The harmless arguments a command is checked with on `key` (never run
/// under MULTI unless MULTI itself was accepted, and then discarded).
std::vector<std::string> redis_probe_argv(const std::string& command, const std::string& key);

/// The refusal in an ACL DRYRUN answer (OK: none; a string: the refusal).
std::optional<std::string> dryrun_refusal(const redis_reply& r);

/// The refusal in the answer to a command queued inside MULTI (QUEUED: none;
/// a NOPERM error: the refusal; any other error is not about rights).
std::optional<std::string> queued_refusal(const redis_reply& r);

/// One report line for a command from the refusals per key (empty: allowed),
/// with the ACL SETUSER arguments that would grant what is missing.
connection_check redis_command_check(const redis_command_use& use,
                                     const std::vector<std::optional<std::string>>& refusals,
                                     const std::string& user);

/// Connects (TLS and AUTH per `cfg`; failures throw trib::error as
/// redis_client::connect does) and checks every command of `plan`.
std::vector<connection_check> check_redis(const redis_config& cfg, const redis_key_plan& plan);

}  // namespace trib
