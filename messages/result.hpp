#pragma once
// What a replication run reports back to whoever started it.

#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/batch.hpp"
#include "messages/failure.hpp"

namespace trib {

/// The outcome of a snapshot: one table_done per planned table, in plan
/// order, plus whether the run stopped early (a table failed while
/// skip-tables-on-failures was false, or a stop was asked for).
struct snapshot_result {
  std::vector<table_done> tables;
  bool aborted = false;
  /// Why the run stopped; set when aborted.
  failure reason;
  /// A stop was asked for (SIGINT/SIGTERM) before every table was done;
  /// what was read before it has committed.
  bool stopped = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_result& x) {
  return f(caf::meta::type_name("snapshot_result"), x.tables, x.aborted,
           x.reason, x.stopped);
}

}  // namespace trib
