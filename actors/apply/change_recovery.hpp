#pragma once
// A change applier's recovery from a failed write (design section 7): the
// failed batch's committed writes are undone, the supervisor is asked, and
// its answer followed (the batch written again whole, or the stream stopped
// before it, or the run stopped). Shared by change_applier.cpp and
// change_recovery.cpp only.

#include "actors/apply/change_applier.hpp"

namespace trib::applier_detail {

using applier_ptr = change_applier_actor::stateful_pointer<change_applier_state>;

/// Keeps writes at the writer while there is work and room (change_applier.cpp).
void pump(applier_ptr self);
/// Answers every batch with `f`: the stream's applier has stopped
/// (change_applier.cpp).
void fail(applier_ptr self, const failure& f);

/// A write failed for good after `attempts` tries at the writer (its own
/// retries under the same policy; 0 when it does not say): once the writes
/// still in flight are answered, undoes the front batch's committed writes
/// and asks the supervisor, counting those attempts as the batch's failures.
void on_write_failed(applier_ptr self, const failure& f, int attempts);
/// Forgets what was built of every batch: the next pump builds them again
/// from the first batch's checkpoint.
void rewind(change_applier_state& st);

}  // namespace trib::applier_detail
