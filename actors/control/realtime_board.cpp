#include "actors/control/realtime_board.hpp"

#include <unistd.h>

#include <cstdio>

#include "actors/control/progress.hpp"
#include "actors/log.hpp"

namespace trib {

void realtime_counts::written(const std::string& stream, uint64_t changes, double lag_s) {
  auto& s = streams_[stream];
  s.total += changes;
  s.recent += changes;
  if (lag_s >= 0) s.lag_s = lag_s;
}

void realtime_counts::position(const std::string& text) { position_ = text; }

std::string realtime_counts::take(double seconds) {
  std::string out = "source at " + (position_.empty() ? std::string("(not yet confirmed)") : position_) + "\n";
  for (auto& [name, s] : streams_) {
    out += name + ": ";
    if (s.recent == 0) {
      out += "idle";
    } else {
      double rate = seconds > 0 ? static_cast<double>(s.recent) / seconds : 0;
      out += group_thousands(static_cast<uint64_t>(rate + 0.5)) + " changes/s";
      if (s.lag_s >= 0) out += ", lag " + format_lag(s.lag_s);
    }
    out += ", " + group_thousands(s.total) + " in all\n";
    s.recent = 0;
    s.lag_s = -1;
  }
  return out;
}

std::string format_lag(double seconds) {
  if (seconds < 0) seconds = 0;
  char buf[32];
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%.0f ms", seconds * 1000);
    return buf;
  }
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
    return buf;
  }
  return format_duration(seconds);
}

realtime_board::realtime_board(bool terminal, std::chrono::milliseconds interval)
  : terminal_(terminal), interval_(interval), last_(std::chrono::steady_clock::now()) {
  // A ticker, so that an idle stream shows as idle rather than at its last rate.
  ticker_ = std::thread([this] {
    std::unique_lock<std::mutex> lock{mtx_};
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      render();
      lock.lock();
    }
  });
}

realtime_board::~realtime_board() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  ticker_.join();
  render();
  if (terminal_) log::release_footer(this);
}

void realtime_board::written(const std::string& stream, uint64_t changes, double lag_s) {
  std::lock_guard<std::mutex> guard{mtx_};
  counts_.written(stream, changes, lag_s);
}

void realtime_board::position(const std::string& text) {
  std::lock_guard<std::mutex> guard{mtx_};
  counts_.position(text);
}

void realtime_board::render() {
  std::string text;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto now = std::chrono::steady_clock::now();
    text = counts_.take(std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }
  if (terminal_) {
    log::set_footer(this, text);
    return;
  }
  // One line per interval: the lines of the board joined.
  std::string line;
  for (char c : text) line += c == '\n' ? std::string("; ") : std::string(1, c);
  if (line.size() >= 2) line.resize(line.size() - 2);
  log::info("progress " + line);
}

std::shared_ptr<realtime_board> make_realtime_board() {
  bool terminal = ::isatty(2) == 1;
  return std::make_shared<realtime_board>(
    terminal, terminal ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(10000));
}

namespace {

std::mutex installed_mtx;
std::shared_ptr<realtime_board> installed;

std::shared_ptr<realtime_board> current() {
  std::lock_guard<std::mutex> guard{installed_mtx};
  return installed;
}

}  // namespace

void install_realtime_board(std::shared_ptr<realtime_board> board) {
  std::lock_guard<std::mutex> guard{installed_mtx};
  installed = std::move(board);
}

void note_realtime_written(const std::string& stream, uint64_t changes, double lag_s) {
  if (auto b = current()) b->written(stream, changes, lag_s);
}

void note_realtime_position(const std::string& text) {
  if (auto b = current()) b->position(text);
}

}  // namespace trib
