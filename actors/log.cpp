#include "actors/log.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>

namespace trib::log {

namespace {

struct sink_state {
  std::mutex mtx;
  level min = level::info;
  std::ofstream trace;
  std::ofstream errors;
  std::string trace_path;
  std::string errors_path;
  /// The first file that failed, and why.
  std::string failure;
  /// What set_footer() drew at the bottom of the terminal, and its lines.
  std::string footer;
  size_t footer_lines = 0;
  const void* footer_owner = nullptr;
};

sink_state& state() {
  static sink_state s;
  return s;
}

const char* name(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "?";
}

std::string timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// Remembers the first file that failed and says so on stderr, once: lines
// that cannot reach their file must not vanish without a word. Called with
// the lock held, right after the failing call (errno is its reason).
void note_failure(sink_state& s, const std::string& path) {
  if (!s.failure.empty()) return;
  s.failure = "cannot write " + path + ": " +
              (errno != 0 ? std::strerror(errno) : "unknown reason");
  std::cerr << "tributary: warning: " << s.failure << "; log lines are lost\n";
}

// Writes and flushes a line; false when the file did not take it.
bool put(std::ofstream& f, const std::string& line) {
  if (!f.is_open() || !f) return false;
  errno = 0;
  f << line;
  f.flush();
  return static_cast<bool>(f);
}

}  // namespace

void open_log_files(const std::string& dir) {
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  std::filesystem::create_directories(dir);
  s.trace_path = dir + "/trace.log";
  s.errors_path = dir + "/error.log";
  errno = 0;
  s.trace.open(s.trace_path, std::ios::app);
  if (!s.trace) note_failure(s, s.trace_path);
  errno = 0;
  s.errors.open(s.errors_path, std::ios::app);
  if (!s.errors) note_failure(s, s.errors_path);
}

std::string write_failure() {
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  return s.failure;
}

void set_level(level l) {
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  s.min = l;
}

namespace {

void emit(level l, const std::string& msg, bool terminal) {
  auto& s = state();
  std::string line = timestamp() + " " + name(l) + " " + msg + "\n";
  std::lock_guard<std::mutex> guard{s.mtx};
  // The trace file keeps everything, whatever the terminal shows.
  if (s.trace.is_open() && !put(s.trace, line)) note_failure(s, s.trace_path);
  if (l >= level::warn && s.errors.is_open() && !put(s.errors, line))
    note_failure(s, s.errors_path);
  if (!terminal || l < s.min) return;
  if (s.footer_lines == 0)
    std::cerr << line;
  else
    std::cerr << redraw(s.footer_lines, line, s.footer) << std::flush;
}

size_t count_lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  // A last line without its newline still takes a line of the screen.
  if (!text.empty() && text.back() != '\n') ++n;
  return n;
}

}  // namespace

std::string redraw(size_t footer_lines, const std::string& above, const std::string& footer) {
  std::string out;
  // ESC[nF: up n lines to column 1; ESC[J: clear from there to the end.
  if (footer_lines > 0) out += "\x1b[" + std::to_string(footer_lines) + "F\x1b[J";
  out += above;
  out += footer;
  if (!footer.empty() && footer.back() != '\n') out += '\n';
  return out;
}

void set_footer(const void* owner, const std::string& text) {
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  // Another owner's footer is left where it is, as plain lines.
  if (owner != s.footer_owner) s.footer_lines = 0;
  std::cerr << redraw(s.footer_lines, "", text) << std::flush;
  s.footer = text;
  s.footer_lines = count_lines(text);
  s.footer_owner = owner;
}

void release_footer(const void* owner) {
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  if (owner != s.footer_owner) return;
  s.footer.clear();
  s.footer_lines = 0;
  s.footer_owner = nullptr;
}

void write(level l, const std::string& msg) { emit(l, msg, true); }

void record(level l, const std::string& msg) { emit(l, msg, false); }

}  // namespace trib::log
