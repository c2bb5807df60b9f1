#pragma once
// The coordinator: one per replication; plans the snapshot's stages, starts
// them, collects the tables' outcomes and owns shutdown. Include only from
// actor .cpp files (pulls in CAF).

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "actors/actors.hpp"
#include "actors/runtime.hpp"
#include "actors/source/source_session.hpp"

namespace trib {

/// The tables of a run and where each one starts.
struct snapshot_plan {
  std::vector<table_schema> tables;
  /// One per table: the checkpoint of a resumed run (default = from the
  /// start; done = nothing left to write). May be empty.
  std::vector<snapshot_position> start;
};

/// Memory for rows in flight (read, not yet committed) across all tables
/// read at once; each reader's byte window is its share (at least 4 MB).
constexpr size_t snapshot_memory_budget_bytes = 64u << 20;

/// How much runs at once.
struct coordinator_settings {
  /// Tables read at the same time (extractor snapshot.threads).
  size_t reader_threads = 1;
  /// Redis writers in the pool.
  size_t writers = 1;
  /// Whether a failed table is skipped (true) or stops the run (false).
  bool skip_tables_on_failures = true;
};

/// min(target max-connections, applier snapshot.threads, tables), at least
/// one writer; extractor snapshot.threads readers, at least one.
coordinator_settings settings_for(const run_options& opts, size_t tables);

/// How the coordinator makes its stages. Injected so that tests can put
/// test actors in their place; default_factories() spawns the real ones.
struct stage_factories {
  std::function<redis_writer_actor(caf::local_actor* self, size_t index)> writer;
  std::function<table_applier_actor(caf::local_actor* self, uint32_t table,
                                    const table_schema& t,
                                    redis_writer_actor writer,
                                    coordinator_actor coordinator)>
    applier;
  std::function<snapshot_reader_actor(caf::local_actor* self, uint32_t table,
                                      const table_schema& t,
                                      const snapshot_position& start,
                                      table_applier_actor applier,
                                      coordinator_actor coordinator)>
    reader;
};

/// Detached redis writers and snapshot readers, table appliers on the
/// scheduler, all configured from `opts`; `facts` go into every message.
stage_factories default_factories(const run_options& opts,
                                  const source_facts& facts);

struct coordinator_state {
  static inline const char* name = "coordinator";

  snapshot_plan plan;
  coordinator_settings settings;
  stage_factories make;

  std::vector<redis_writer_actor> writers;
  std::vector<table_applier_actor> appliers;
  /// Invalid handle until the table's reader starts.
  std::vector<snapshot_reader_actor> readers;
  std::vector<bool> done;
  std::vector<table_done> results;
  std::vector<std::chrono::steady_clock::time_point> started;
  /// The next table that may get a reader.
  size_t next_table = 0;
  /// Readers started whose table is not done yet.
  size_t active_readers = 0;
  size_t remaining = 0;
  bool running = false;
  bool aborted = false;
  failure abort_reason;
  caf::typed_response_promise<snapshot_result> promise;
};

/// Spawns the writer pool and one applier per table (writers assigned
/// round-robin), then readers for at most settings.reader_threads tables at
/// a time, starting the next table's reader whenever one finishes. Answers
/// run_atom with every table's outcome once all are done or skipped (or a
/// failure stopped the run), then shuts its stages down and quits.
coordinator_actor::behavior_type
coordinator(coordinator_actor::stateful_pointer<coordinator_state> self,
            snapshot_plan plan, coordinator_settings settings,
            stage_factories make);

}  // namespace trib
