#pragma once
// What both change readers' run drivers share (realtime.cpp for PostgreSQL,
// binlog_realtime.cpp for MySQL/MariaDB): the run's change streams, and the
// change path after a reader (Redis writers, change appliers, the change
// dispatcher), spawned, stopped and summed up the same way. Include only
// from actor .cpp files (pulls in CAF).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "actors/actors.hpp"
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

/// The actors after a change reader.
struct change_path {
  std::vector<redis_writer_actor> writers;
  std::vector<change_applier_actor> appliers;
  change_dispatcher_actor dispatcher;
  /// Tables that stopped at a change they cannot write; the dispatcher adds
  /// them, the run's thread reads them once the reader has answered.
  struct stopped_tables {
    std::mutex lock;
    std::vector<std::pair<uint32_t, std::string>> list;
  };
  std::shared_ptr<stopped_tables> stopped = std::make_shared<stopped_tables>();
  /// The retry/undo supervisor the appliers and the dispatcher ask, and
  /// what it handled (for the summary).
  supervisor_actor supervisor;
  std::shared_ptr<supervision_record> record;
};

/// Spawns the supervisor (its in-doubt log under data/<id>), writers, one
/// applier per stream (starting after its checkpoint in `checkpoints`) and
/// the dispatcher.
change_path spawn_change_path(caf::actor_system& sys, const run_options& opts,
                              const std::vector<table_schema>& tables,
                              const stream_layout& layout,
                              const std::map<std::string, std::string>& checkpoints,
                              const source_facts& facts, uint64_t max_entry_bytes);

/// Ends the change path's actors.
void stop_change_path(caf::scoped_actor& self, change_path& path);

/// Adds the tables that stopped in realtime to `s` (skipped, with why), and
/// the entries undone and in doubt, and sets its exit code: 3 when a table
/// was skipped or entries are in doubt, else 0.
void sum_up_change_path(run_summary& s, change_path& path, const std::vector<table_schema>& tables,
                        const stream_layout& layout);

}  // namespace trib
