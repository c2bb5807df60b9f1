#pragma once
// A snapshot is bulk work measured in rows per second, not in the latency of
// one row: its threads run under SCHED_BATCH (Linux), which keeps their
// share of the CPU but does not let their many short wakeups preempt a
// source or Redis running on the same cores. Threads started while the guard
// lives (the actor system's) inherit the policy; the calling thread gets its
// old one back when the guard goes. Realtime runs keep the normal policy.

#include <sched.h>

namespace trib {

class batch_scheduling {
public:
  batch_scheduling() {
#ifdef SCHED_BATCH
    // Real-time and idle policies somebody chose are left alone.
    if (sched_getscheduler(0) != SCHED_OTHER) return;
    sched_param p{};
    set_ = sched_setscheduler(0, SCHED_BATCH, &p) == 0;
#endif
  }
  ~batch_scheduling() {
#ifdef SCHED_BATCH
    sched_param p{};
    if (set_) sched_setscheduler(0, SCHED_OTHER, &p);
#endif
  }
  batch_scheduling(const batch_scheduling&) = delete;
  batch_scheduling& operator=(const batch_scheduling&) = delete;

  /// Whether the policy was switched (false where SCHED_BATCH does not exist
  /// or the thread did not run under the normal policy).
  bool active() const { return set_; }

private:
  bool set_ = false;
};

}  // namespace trib
