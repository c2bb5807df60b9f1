#pragma once
// What appliers tell the retry/undo supervisor about a failed write, and what
// it answers (design section 7). The rules behind the answer are in
// actors/control/failure_decisions.hpp.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/failure.hpp"

namespace trib {

/// What the failing stream and table do next.
enum class failure_action : uint8_t {
  /// Try the same batch again after `wait_ms` (realtime: the whole batch,
  /// its committed entries undone first, so the stream keeps its order).
  retry,
  /// The table is left out from here on; the others go on, exit code 3.
  /// Realtime: its stream stops before the failed batch and the source is
  /// kept there, so --resume continues it exactly there.
  skip_table,
  /// As skip_table, and the entries the undo could not delete are written to
  /// the in-doubt log for the user to delete before --resume.
  in_doubt,
  /// The whole run stops (exit code 1).
  stop_run,
};

const char* to_string(failure_action a);

/// An applier's batch failed to be written (after the writer's own retries
/// of a lost connection), and what of it was undone.
struct failure_report {
  /// The stream, the tables whose changes it carries, and where the batch
  /// starts, in words ("LSN 0/1A2B3C (transaction 741)").
  std::string stream;
  std::vector<std::string> tables;
  std::string at;
  failure reason;
  /// Consecutive failures of this batch, this one included.
  int failures = 1;
  /// Committed entries of the batch that were deleted again.
  uint64_t undone = 0;
  /// Committed entries that could not be deleted (their IDs), or an undo
  /// that could not even list them (`undo_failed` with no IDs).
  std::vector<std::string> in_doubt;
  bool undo_failed = false;
  /// Why the undo failed.
  std::string undo_error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, failure_report& x) {
  return f(caf::meta::type_name("failure_report"), x.stream, x.tables, x.at, x.reason,
           x.failures, x.undone, x.in_doubt, x.undo_failed, x.undo_error);
}

/// The supervisor's answer.
struct failure_verdict {
  failure_action action = failure_action::stop_run;
  /// For retry: how long to wait first.
  int64_t wait_ms = 0;
  /// Why, in words.
  std::string why;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, failure_verdict& x) {
  return f(caf::meta::type_name("failure_verdict"), x.action, x.wait_ms, x.why);
}

}  // namespace trib
