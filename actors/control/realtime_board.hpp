#pragma once
// Realtime progress (issue 15, point 4): per stream, changes per second and
// the lag of its writes, and the source position confirmed. On a terminal
// the board is the log's footer, redrawn every second in place; without one,
// a `progress` log line every 10 s. The change appliers and the source reader
// report through the note_* hooks, which do nothing while no board is
// installed. No CAF here.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace trib {

/// What the realtime path did since the last look, and in all.
class realtime_counts {
public:
  /// `changes` of `stream` were acknowledged by Redis, `lag_s` after the
  /// source committed the newest of them (negative: not known).
  void written(const std::string& stream, uint64_t changes, double lag_s);
  void position(const std::string& text);
  /// The board's lines for the last `seconds` (each ending in "\n"), and
  /// starts the next interval:
  ///   source at lsn 0/16B3A28
  ///   tpch_public_orders_cdc_logs: 1,200 changes/s, lag 4 ms, 52,000 in all
  ///   tpch_public_region_cdc_logs: idle, 3 in all
  std::string take(double seconds);

private:
  struct stream {
    uint64_t total = 0;
    uint64_t recent = 0;
    double lag_s = -1;  // the newest write's, this interval
  };
  std::string position_;
  std::map<std::string, stream> streams_;
};

/// "4 ms", "1.2 s", "2m05s".
std::string format_lag(double seconds);

class realtime_board {
public:
  realtime_board(bool terminal, std::chrono::milliseconds interval);
  /// Draws the last state and leaves it on screen.
  ~realtime_board();
  void written(const std::string& stream, uint64_t changes, double lag_s);
  void position(const std::string& text);

private:
  void render();
  bool terminal_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_;
  std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  realtime_counts counts_;
  std::thread ticker_;
};

/// The board of a realtime run: every second on a terminal, else every 10 s.
std::shared_ptr<realtime_board> make_realtime_board();
/// Installs the board the hooks feed (nullptr: none).
void install_realtime_board(std::shared_ptr<realtime_board> board);
void note_realtime_written(const std::string& stream, uint64_t changes, double lag_s);
void note_realtime_position(const std::string& text);

}  // namespace trib
