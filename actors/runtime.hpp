#pragma once
// The entry point from nodes/ into the actor system, free of CAF so that the
// command line does not pull CAF headers in.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/node/node_tls.hpp"
#include "actors/tuning.hpp"
#include "conf/config.hpp"
#include "messages/failure.hpp"
#include "messages/table.hpp"

namespace trib {

enum class run_mode { snapshot, realtime, full };

/// `tributary coordinator` (design section 11): where workers join and how
/// many the run waits for. No listen address: a single-node run.
struct cluster_options {
  /// --listen HOST:PORT.
  std::string listen;
  /// --node-tls DIR, checked (check_node_tls).
  node_tls_files tls;
  /// --workers N.
  size_t workers = 1;
  /// --join-timeout SECONDS: how long to wait for the workers.
  std::chrono::seconds join_timeout = tuning::node_join_timeout;
  bool enabled() const { return !listen.empty(); }
};

/// Everything a replication run needs, already loaded and validated.
struct run_options {
  run_mode mode = run_mode::snapshot;
  source_config source;
  redis_config target;
  extractor_config extractor;
  applier_config applier;
  filter_config filter;
  map_config map;
  std::string id = "default";
  std::string group = "default";
  std::string data_dir = "./data";
  bool overwrite = false;
  bool resume = false;
  bool terminate_post_snapshot = false;
  /// Set for `tributary coordinator`: table work goes to workers.
  cluster_options cluster;
};

/// What happened to one table.
struct table_result {
  table_id table;
  std::string stream;
  uint64_t rows_written = 0;
  bool skipped = false;
  /// False when a stop (SIGINT/SIGTERM) came before the table was done.
  bool finished = true;
  std::string reason;  // why it was skipped or not finished
};

/// What a run did, for the exit summary and the exit code.
struct run_summary {
  /// 0 success; 1 runtime failure; 2 configuration error; 3 finished with
  /// skipped tables or in-doubt entries; 128 + signal: a snapshot stopped by
  /// SIGINT/SIGTERM before it finished (--resume continues it).
  int exit_code = 0;
  std::string error;  // set when exit_code is not 0 or 3
  /// The signal that stopped a snapshot before it finished (0: none).
  int stopped_by = 0;
  std::vector<table_result> tables;
  /// Realtime: committed entries of failed batches deleted again, and
  /// entries left in doubt (data/<id>/bad_rows/replicate_io_indoubt_txn_log).
  uint64_t undone_entries = 0;
  uint64_t in_doubt_entries = 0;
};

/// The exit code of a run that failed with `c`: 2 when the user must change
/// something first (configuration, existing state), else 1.
int exit_code_for(failure_code c);

/// Runs a replication in this process (single-node) and returns when it ends.
/// Never throws: failures become the summary's exit code and message.
run_summary run_replication(const run_options& opts);

}  // namespace trib
