#pragma once
// SIGINT/SIGTERM during a run: instead of ending the process, they ask the
// run to stop. Free of CAF: the run hands in what "stop" means for the phase
// it is in (a stop message to the coordinator, say), and blocking loops that
// cannot take messages poll requested().

#include <atomic>
#include <functional>

namespace trib {

/// While it lives, SIGINT and SIGTERM ask for a stop, and a second one ends
/// the process at once (as the signal's default action); the previous
/// handlers come back when it is destroyed. One at a time per process.
class stop_signals {
public:
  stop_signals();
  ~stop_signals();
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

  /// Calls `f` once a stop is asked for (on a thread of its own), or right
  /// away when one was asked for already; replaces the previous callback.
  /// An empty `f` removes it.
  void on_stop(std::function<void()> f);

  /// Whether a stop was asked for.
  bool requested() const;

  /// The flag behind requested(), for loops that poll it.
  const std::atomic<bool>& flag() const;

  /// The signal that asked for the stop (0 when none did, or when request()
  /// did).
  int signal() const;

  /// Asks the living instance to stop, as a signal does (a no-op without
  /// one).
  static void request();
};

/// The exit code of a run stopped by `sig` before its work was finished:
/// 128 + the signal, as a shell reports a process the signal ended
/// (130 for SIGINT, 143 for SIGTERM).
int exit_code_for_stop(int sig);

/// "SIGINT", "SIGTERM", or "a stop request" (sig 0), for messages.
const char* stop_signal_name(int sig);

}  // namespace trib
