#pragma once
// A change reader whose feeds wait for the dispatcher (a sink that is slow
// or refuses writes) reads nothing meanwhile, and so would stop measuring
// the source's backlog exactly while it grows. While it waits it sends
// itself a tick every stalled_tick_interval that only measures. The tick is
// the reader's own read_atom (its interface stays as it is), told apart by
// being due: a read that arrives once a tick is due is taken for the tick,
// and the tick that then arrives does the read, so exactly one read chain
// goes on. Include only from the readers' .cpp files (pulls in CAF).
//
// The reader's state needs: bool read_pending, bool tick_out,
// std::chrono::steady_clock::time_point tick_due.

#include <chrono>

#include "actors/actors.hpp"

namespace trib {

inline constexpr std::chrono::milliseconds stalled_tick_interval{1000};

/// Sends the tick unless one is out.
template <class Self>
void arm_stalled_tick(Self self) {
  auto& st = self->state;
  if (st.tick_out) return;
  st.tick_out = true;
  st.tick_due = std::chrono::steady_clock::now() + stalled_tick_interval;
  self->delayed_send(self, stalled_tick_interval, read_atom::value);
}

/// Whether the read_atom just received counts as the tick (consumed here).
template <class State>
bool take_stalled_tick(State& st) {
  if (!st.tick_out || std::chrono::steady_clock::now() < st.tick_due) return false;
  st.tick_out = false;
  return true;
}

}  // namespace trib
