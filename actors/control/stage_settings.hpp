#pragma once
// The settings of each snapshot stage as a run's options make them, in one
// place: default_factories spawns the stages here with them, and the
// multi-node factories (actors/node/) send the same settings to a worker.
// Include only from actor .cpp files (pulls in CAF).

#include <cstddef>
#include <memory>

#include "actors/apply/table_applier.hpp"
#include "actors/control/coordinator.hpp"
#include "actors/sink/redis_writer.hpp"
#include "actors/source/snapshot_reader.hpp"

namespace trib {

/// A Redis writer's: the applier's trim and max-consumer-lag.
redis_writer_settings writer_settings_for(const run_options& opts);

/// A table applier's; appliers report rows done to `progress` when given.
table_applier_settings applier_settings_for(const run_options& opts, const source_facts& facts,
                                            std::shared_ptr<progress_board> progress,
                                            uint64_t max_entry_bytes);

/// What every snapshot reader of the run shares: the source, fetch and
/// batch sizes, each reader's share of the memory budget, the snapshot of
/// `full` to adopt.
snapshot_reader_settings reader_settings_for(const run_options& opts,
                                             const exported_snapshot& exported);

/// One reader's, from the shared ones: its table's filter condition, its
/// split-key range (whose window is the table's share split over the
/// ranges read at once), where it starts.
snapshot_reader_settings reader_settings_for_job(const snapshot_reader_settings& shared,
                                                 const filter_config& filter, source_kind kind,
                                                 size_t threads, const table_schema& t,
                                                 const reader_job& job);

/// extractor snapshot.threads, at least one.
size_t reader_threads(const run_options& opts);

}  // namespace trib
