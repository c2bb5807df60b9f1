#pragma once
// The coordinator: one per replication; plans the snapshot's stages, starts
// them, collects the tables' outcomes and owns shutdown. Include only from
// actor .cpp files (pulls in CAF).

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "actors/actors.hpp"
#include "actors/control/failure_decisions.hpp"
#include "actors/control/progress.hpp"
#include "actors/runtime.hpp"
#include "actors/source/source_session.hpp"

namespace trib {

/// One split-key range of a table: the rows whose split-key lies in
/// [lo, hi) (unset = unbounded; the first range also takes NULLs).
struct split_range {
  std::optional<int64_t> lo;
  std::optional<int64_t> hi;
  /// The range's checkpoint in a resumed run (done = nothing left).
  snapshot_position start;
};

/// The tables of a run and where each one starts.
struct snapshot_plan {
  std::vector<table_schema> tables;
  /// One per table: the checkpoint of a resumed run (default = from the
  /// start; done = nothing left to write). May be empty.
  std::vector<snapshot_position> start;
  /// Per table: its split-key ranges, each read by a reader of its own into
  /// the table's one stream, each with its own checkpoint field
  /// (`<stream>#<n>`, n from 1); empty = read whole. May be empty.
  std::vector<std::vector<split_range>> ranges;
};

/// What one snapshot reader reads: a whole table, or one range of it.
struct reader_job {
  uint32_t table = 0;
  snapshot_position start;
  /// The range's number (from 1; 0 = the whole table), how many ranges of
  /// the table this run reads, and the range's bounds.
  uint32_t range = 0;
  uint32_t ranges = 1;
  std::optional<int64_t> lo;
  std::optional<int64_t> hi;
};

/// How much runs at once.
struct coordinator_settings {
  /// Tables read at the same time (extractor snapshot.threads).
  size_t reader_threads = 1;
  /// Redis writers in the pool.
  size_t writers = 1;
  /// Whether a failed table is skipped (true) or stops the run (false).
  bool skip_tables_on_failures = true;
  /// The target's retry policy, for the failure rules (failure_decisions).
  failure_rules rules;
  /// Shows rows done, rate and ETA per table (none: no progress shown).
  std::shared_ptr<progress_board> progress;
};

/// min(target max-connections, applier snapshot.threads, tables), at least
/// one writer; extractor snapshot.threads readers, at least one.
coordinator_settings settings_for(const run_options& opts, size_t tables);

/// Realtime: how the coordinator makes the change path after the change
/// reader (change_streams.hpp makes the real ones) and the reader itself
/// (the run's source). Writers come from stage_factories::writer.
struct change_factories {
  /// Change streams (one applier each) and Redis writers shared by them.
  size_t streams = 0;
  size_t writers = 1;
  /// The retry/undo supervisor the appliers and the dispatcher ask about
  /// failures; made first, ended with the change path (unset: none, and a
  /// failed write stops the run).
  std::function<supervisor_actor(caf::local_actor* self)> supervisor;
  std::function<change_applier_actor(caf::local_actor* self, uint32_t stream,
                                     redis_writer_actor writer)>
    applier;
  std::function<change_dispatcher_actor(caf::local_actor* self,
                                        std::vector<change_applier_actor> appliers)>
    dispatcher;
  std::function<streaming_reader_actor(caf::local_actor* self,
                                       change_dispatcher_actor dispatcher)>
    reader;
};

/// How the coordinator makes its stages. Injected so that tests can put
/// test actors in their place, and so that a factory can place a stage on
/// another node; default_factories() spawns the real ones here.
struct stage_factories {
  std::function<redis_writer_actor(caf::local_actor* self, size_t index)> writer;
  std::function<table_applier_actor(caf::local_actor* self, uint32_t table,
                                    const table_schema& t,
                                    redis_writer_actor writer,
                                    coordinator_actor coordinator)>
    applier;
  std::function<snapshot_reader_actor(caf::local_actor* self, uint32_t table,
                                      const table_schema& t, const reader_job& job,
                                      table_applier_actor applier,
                                      coordinator_actor coordinator)>
    reader;
  /// The realtime phase's (unset: the coordinator refuses stream_atom).
  change_factories changes;
};

/// full mode: the snapshot the replication slot exported, which every
/// reader (every split-key range too) adopts, and its consistent point.
struct exported_snapshot {
  std::string name;
  source_position at;
  /// MySQL/MariaDB full: each reader's rows all come from its own one
  /// consistent snapshot (snapshot_reader_settings::one_snapshot).
  bool one_snapshot = false;
  /// Opens the readers' sessions when set (the run records where each
  /// table's snapshot began).
  std::function<std::unique_ptr<source_session>(const source_config&)> open;
};

/// Detached redis writers and snapshot readers, table appliers on the
/// scheduler, all configured from `opts`; `facts` go into every message;
/// appliers report rows done to `progress` when given and skip rows whose
/// entry is longer than `max_entry_bytes` (the target's proto-max-bulk-len);
/// readers adopt `exported` when it is named.
stage_factories default_factories(const run_options& opts,
                                  const source_facts& facts,
                                  std::shared_ptr<progress_board> progress = nullptr,
                                  exported_snapshot exported = {},
                                  uint64_t max_entry_bytes = 512ull << 20);

/// The coordinator's outcome as the run summary's table results, in the
/// order of `tables`; `skipped` says whether any table was skipped.
std::vector<table_result> table_results(const snapshot_result& result,
                                        const std::vector<table_schema>& tables,
                                        const map_config& map, bool& skipped);

struct coordinator_state {
  static inline const char* name = "coordinator";

  snapshot_plan plan;
  coordinator_settings settings;
  stage_factories make;

  /// A reader that was started, and whether it still holds a reader slot
  /// (until it stops or its table is done).
  struct running_reader {
    uint32_t table = 0;
    snapshot_reader_actor handle;
    bool active = true;
  };

  std::vector<redis_writer_actor> writers;
  std::vector<table_applier_actor> appliers;
  std::vector<running_reader> readers;
  std::vector<bool> done;
  /// Whether a reader of the table was started.
  std::vector<bool> reading;
  std::vector<table_done> results;
  std::vector<std::chrono::steady_clock::time_point> started;
  /// Readers yet to start, in plan order.
  std::deque<reader_job> jobs;
  /// Readers holding a slot.
  size_t active_readers = 0;
  size_t remaining = 0;
  bool running = false;
  /// A stop was asked for: no reader starts, the run ends when the running
  /// ones have stopped.
  bool stopping = false;
  /// The run was answered.
  bool finished = false;
  bool aborted = false;
  failure abort_reason;
  caf::typed_response_promise<snapshot_result> promise;
  /// A stop was asked for at any time: a phase that starts later stops at
  /// once.
  bool stop_requested = false;

  /// The realtime phase: the change path and its reader, while it runs.
  bool streaming = false;
  std::vector<redis_writer_actor> change_writers;
  std::vector<change_applier_actor> change_appliers;
  change_dispatcher_actor dispatcher;
  supervisor_actor supervisor;
  streaming_reader_actor change_reader;
};

/// Spawns the writer pool and one applier per table (writers assigned
/// round-robin), then at most settings.reader_threads readers at a time --
/// one per table, or one per split-key range of a split table, all feeding
/// the table's one applier -- starting the next whenever a reader stops or
/// its table is done. Progress shows per table (settings.progress). Answers
/// run_atom with every table's outcome once all are done or skipped (or a
/// failure stopped the run), then shuts its stages down and quits. On
/// stop_atom it starts no more readers and tells the running ones to stop;
/// once they all have (their batches committed), it answers with `stopped`
/// set and the unfinished tables marked so.
///
/// On stream_atom (after the snapshot, or without one) it spawns the change
/// path and the change reader through make.changes and runs the reader;
/// a stop_atom then (or one that came earlier) tells the reader to drain.
/// It answers with the reader's final release position, or its failure,
/// once it stopped the change path. The coordinator stays until its owner
/// ends it, so that one coordinator drives both phases of a run.
coordinator_actor::behavior_type
coordinator(coordinator_actor::stateful_pointer<coordinator_state> self,
            snapshot_plan plan, coordinator_settings settings,
            stage_factories make);

}  // namespace trib
