#include "actors/log.hpp"

#include <chrono>
#include <cstdio>
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

}  // namespace

void open_log_files(const std::string& dir) {
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  std::filesystem::create_directories(dir);
  s.trace.open(dir + "/trace.log", std::ios::app);
  s.errors.open(dir + "/error.log", std::ios::app);
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
  if (s.trace.is_open()) {
    s.trace << line;
    s.trace.flush();
  }
  if (l >= level::warn && s.errors.is_open()) {
    s.errors << line;
    s.errors.flush();
  }
  if (terminal && l >= s.min) std::cerr << line;
}

}  // namespace

void write(level l, const std::string& msg) { emit(l, msg, true); }

void record(level l, const std::string& msg) { emit(l, msg, false); }

}  // namespace trib::log
