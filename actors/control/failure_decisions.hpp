#pragma once
// What a failure to write means (design section 7), decided in one place:
// retry, skip the table, record entries in doubt, or stop the run. Pure and
// CAF-free: the supervisor actor asks it, and so does the snapshot's
// coordinator; both then do what it says.

#include <cstddef>
#include <string>
#include <vector>

#include "actors/control/retry_policy.hpp"
#include "messages/failure.hpp"
#include "messages/supervision.hpp"

namespace trib {

/// One failure of one batch, snapshot or realtime, GLOBAL or EVENTUAL: the
/// rules are the same for all (under GLOBAL, a skipped table's stream is
/// every table's, so they all stop with it).
struct failure_case {
  failure_code code = failure_code::internal;
  /// Consecutive failures of this batch, this one included (1 the first time).
  int failures = 1;
  /// Realtime: entries of the batch that committed could not all be
  /// deleted, so they are in the stream and a retry would write them twice.
  bool undo_failed = false;
};

/// The run's rules: the target's retry policy and skip-tables-on-failures.
struct failure_rules {
  retry_policy policy;
  bool skip_tables_on_failures = true;
};

/// The rules:
/// - A target that lost acknowledged writes, a lost lease or a broken
///   configuration stops the run: nothing written from here on could be
///   trusted.
/// - Entries that could not be undone are in doubt: never retried (they
///   would be doubled); the table stops and its entries go to the in-doubt
///   log, or the run stops when skip-tables-on-failures is false.
/// - Retryable codes are retried under the policy (max-retries, backoff);
///   permanent ones (WRONGTYPE, NOPERM, bad data) are not, because the same
///   write meets the same refusal.
/// - Past that: the table is skipped, snapshot or realtime, GLOBAL or
///   EVENTUAL, when skip-tables-on-failures allows; otherwise the run stops.
failure_verdict decide(const failure_case& c, const failure_rules& r);

/// The in-doubt log of a replication whose files are in `data_dir`
/// (data/<id>): bad_rows/replicate_io_indoubt_txn_log.
std::string in_doubt_log_path(const std::string& data_dir);

/// The in-doubt log's lines for entries of `stream` that could not be
/// deleted: ready-to-run `XDEL <stream> <id> [<id> ...]` (at most
/// `per_line` IDs a line), which redis-cli runs as they are, line by line
/// (`redis-cli < replicate_io_indoubt_txn_log`). A stream name redis-cli
/// would split or unescape is written in double quotes.
std::vector<std::string> in_doubt_lines(const std::string& stream,
                                        const std::vector<std::string>& ids,
                                        size_t per_line = 100);

}  // namespace trib
