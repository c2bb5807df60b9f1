#pragma once
// Stage factories that place a run's table work on workers (design section
// 11): Redis writers, table appliers, snapshot readers and change appliers
// are spawned by the worker that the placement names, through its
// worker_actor, which answers their handles; the coordinator then uses them
// as it uses local ones. The change reader, the dispatcher and the
// supervisor stay on the coordinator's node. Include only from actor .cpp
// files (pulls in CAF).

#include <cstddef>
#include <vector>

#include "actors/apply/change_applier.hpp"
#include "actors/control/coordinator.hpp"

namespace trib {

/// Where each table's and each change stream's stages go.
struct stage_placement {
  std::vector<worker_actor> workers;
  /// Per plan table, the index of its worker in `workers`.
  std::vector<size_t> table_worker;
  /// Per change stream, the index of its worker.
  std::vector<size_t> stream_worker;
  /// The snapshot readers stay on this node: they open sessions that only
  /// this process can (MySQL/MariaDB `full` records where each began).
  bool readers_here = false;
};

/// Each table to a worker by its estimated rows (place_tables), and each
/// change stream to the worker of the tables it carries (by their rows).
stage_placement plan_placement(const std::vector<worker_actor>& workers,
                               const std::vector<table_schema>& tables,
                               const std::vector<uint32_t>& stream_of_table, size_t streams);

/// `local`'s factories, with writers, table appliers, snapshot readers
/// (unless readers_here) and change appliers placed on workers, configured
/// exactly as default_factories and change_path_factories configure them
/// here (`streams`: each change stream's applier settings). A table's
/// applier writes through a writer on its own worker. A worker that does
/// not answer within tuning::node_spawn_timeout fails the stage's factory
/// (trib::error connection).
stage_factories place_on_workers(stage_factories local, stage_placement placement,
                                 const run_options& opts, const source_facts& facts,
                                 const exported_snapshot& exported, uint64_t max_entry_bytes,
                                 std::vector<change_applier_settings> streams);

}  // namespace trib
