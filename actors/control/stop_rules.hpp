#pragma once
// What a realtime run does when a change cannot be written (design section
// 7), free of CAF so that the retry/undo supervisor can take it over.

#include <cstddef>

namespace trib {

enum class unwritable_change_action {
  /// The table's stream stops; the run goes on with the other tables and
  /// ends with exit code 3, the table named in its summary.
  stop_table,
  /// The whole run stops with exit code 1.
  stop_run,
};

/// `tables_in_stream`: how many tables write to the stream of the change
/// (1 under EVENTUAL, every table under GLOBAL). Either way the change is
/// never released at the slot. A table can stop on its own only when its
/// stream is its alone: a shared stream has one checkpoint, which cannot
/// both stay before the change and move on with the other tables. With
/// skip-tables-on-failures false, no table is left behind while others go on.
unwritable_change_action on_unwritable_change(size_t tables_in_stream,
                                              bool skip_tables_on_failures);

}  // namespace trib
