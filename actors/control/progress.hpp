#pragma once
// Progress of long work (design section 1): per table, rows done of the
// estimate, rate and ETA. On a terminal the board is the log's footer: it
// redraws in place at the bottom and log lines scroll above it; without one
// it writes a log line per table at most every `interval`. Pure text
// formatting is separate so it can be tested.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace trib {

/// How one table's snapshot stands.
struct table_progress {
  uint64_t done = 0;
  uint64_t estimated = 0;
  double elapsed_s = 0;
  bool finished = false;
};

/// "tpch_orders: 12,000 of ~100,000 rows (12%), 45,000 rows/s, eta 2s".
std::string format_progress(const std::string& table, const table_progress& p);

/// The board: one line per table, in the order given, each ending in "\n".
std::string format_board(const std::vector<std::pair<std::string, table_progress>>& tables);

/// "1,234,567".
std::string group_thousands(uint64_t n);

/// "2s", "1m05s", "2h03m".
std::string format_duration(double seconds);

class progress_board {
public:
  /// `terminal`: redraw lines on stderr; otherwise log lines.
  progress_board(bool terminal, std::chrono::milliseconds interval);
  /// Leaves the last board on screen as ordinary lines.
  ~progress_board();
  void start(const std::string& table, uint64_t estimated);
  void advance(const std::string& table, uint64_t done);
  void finish(const std::string& table);
  /// Takes a table off the board (it was skipped).
  void drop(const std::string& table);
  /// Draws or logs if the interval has passed (or `force`).
  void render(bool force = false);

private:
  using clock = std::chrono::steady_clock;
  struct entry {
    table_progress p;
    clock::time_point started;
  };
  bool terminal_;
  std::chrono::milliseconds interval_;
  clock::time_point last_render_{};
  std::map<std::string, entry> tables_;
  std::mutex mtx_;
};

/// The board of a snapshot run: redrawn in place every 500 ms when stderr is
/// a terminal, else a log line per table at most every 10 s.
std::shared_ptr<progress_board> snapshot_progress_board();

}  // namespace trib
