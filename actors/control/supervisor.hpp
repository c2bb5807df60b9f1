#pragma once
// The retry/undo supervisor (design section 7): the one actor that decides
// what a failed write means. Appliers report each failed batch (and what of
// it they undid); it answers retry, skip the table, in doubt or stop the
// run, as failure_decisions says, and is where every undo, skip and in-doubt
// entry is logged (error.log), counted (metrics), written to the in-doubt
// log and kept for the exit summary. Include only from actor .cpp files
// (pulls in CAF).

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "actors/control/failure_decisions.hpp"

namespace trib {

/// What the supervisor handled, for the run's summary; the run's thread
/// reads it once the actors are done.
struct supervision_record {
  std::mutex lock;
  /// Committed entries of failed batches that were deleted again.
  uint64_t undone = 0;
  /// Batches tried again.
  uint64_t retries = 0;
  /// Entries written to the in-doubt log.
  uint64_t in_doubt = 0;
  /// One sentence per skipped table or in-doubt batch.
  std::vector<std::string> events;
};

struct supervisor_settings {
  failure_rules rules;
  /// data/<id>/bad_rows/replicate_io_indoubt_txn_log (empty: entries in
  /// doubt only go to error.log).
  std::string in_doubt_path;
  std::shared_ptr<supervision_record> record = std::make_shared<supervision_record>();
};

struct supervisor_state {
  static inline const char* name = "supervisor";
  supervisor_settings settings;
};

supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self, supervisor_settings settings);

}  // namespace trib
