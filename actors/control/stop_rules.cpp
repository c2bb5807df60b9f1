#include "actors/control/stop_rules.hpp"

namespace trib {

unwritable_change_action on_unwritable_change(size_t tables_in_stream,
                                              bool skip_tables_on_failures) {
  if (tables_in_stream <= 1 && skip_tables_on_failures) return unwritable_change_action::stop_table;
  return unwritable_change_action::stop_run;
}

}  // namespace trib
