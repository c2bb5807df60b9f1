#pragma once
// The realtime phase whatever the source: the run's change streams, and the
// change path after a change reader (Redis writers, change appliers, the
// change dispatcher), made by the coordinator's factories and summed up the
// same way. Include only from actor .cpp files (pulls in CAF).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "actors/actors.hpp"
#include "actors/apply/change_applier.hpp"
#include "actors/control/coordinator.hpp"
#include "actors/control/supervisor.hpp"
#include "actors/runtime.hpp"
#include "messages/source_facts.hpp"

namespace trib {

/// The change streams of a run: names, checkpoint fields, and each table's.
struct stream_layout {
  std::vector<std::string> names;
  std::vector<std::string> fields;
  std::vector<uint32_t> stream_of_table;
};

/// One stream per table (EVENTUAL) or one for all (GLOBAL), as the applier
/// file says.
stream_layout layout_for(const run_options& opts, const std::vector<table_schema>& tables);

/// Tables that stopped in realtime at a change they cannot write: the
/// dispatcher adds them, the run's thread reads them once the realtime
/// phase has answered.
struct stopped_tables {
  std::mutex lock;
  std::vector<std::pair<uint32_t, std::string>> list;
  /// What the retry/undo supervisor handled (entries undone, in doubt).
  supervision_record supervision;
};

/// Each change stream's applier settings (its name, checkpoint field, the
/// tables it carries, where its checkpoint stands), without the supervisor.
std::vector<change_applier_settings> change_applier_settings_for(
  const run_options& opts, const std::vector<table_schema>& tables, const stream_layout& layout,
  const std::map<std::string, std::string>& checkpoints, const source_facts& facts,
  uint64_t max_entry_bytes);

/// The coordinator's factories of the change path: writers (as many as the
/// target's max-connections and applier realtime.threads allow, at most one
/// per stream), one applier per stream (starting after its checkpoint in
/// `checkpoints`) and the dispatcher, which reports stopped tables to
/// `stopped`; first the retry/undo supervisor they ask about failures (its
/// in-doubt log under data/<id>, its record in `stopped`). The reader is the
/// source's (run_source.hpp).
change_factories change_path_factories(const run_options& opts,
                                       const std::vector<table_schema>& tables,
                                       const stream_layout& layout,
                                       const std::map<std::string, std::string>& checkpoints,
                                       const source_facts& facts, uint64_t max_entry_bytes,
                                       std::shared_ptr<stopped_tables> stopped);

/// Adds the tables that stopped in realtime to `s` (skipped, with why), and
/// the entries undone and in doubt, and sets its exit code: 3 when a table
/// was skipped or entries are in doubt, else 0.
void sum_up_change_path(run_summary& s, stopped_tables& stopped,
                        const std::vector<table_schema>& tables, const stream_layout& layout);

}  // namespace trib
