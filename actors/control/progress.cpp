#include "actors/control/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "actors/log.hpp"

namespace trib {

std::string group_thousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count > 0 && count % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++count;
  }
  return out;
}

std::string format_duration(double seconds) {
  if (seconds < 0) seconds = 0;
  auto s = static_cast<uint64_t>(seconds + 0.5);
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%us", static_cast<unsigned>(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%um%02us", static_cast<unsigned>(s / 60),
                  static_cast<unsigned>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%uh%02um", static_cast<unsigned>(s / 3600),
                  static_cast<unsigned>((s % 3600) / 60));
  return buf;
}

std::string format_progress(const std::string& table, const table_progress& p) {
  std::string out = table + ": " + group_thousands(p.done);
  double rate = p.elapsed_s > 0 ? static_cast<double>(p.done) / p.elapsed_s : 0;
  // The estimate comes from statistics and can be below the truth; never
  // show more than 100% or a negative ETA.
  if (p.estimated > 0 && !p.finished) {
    uint64_t pct = p.done >= p.estimated ? 99 : p.done * 100 / p.estimated;
    out += " of ~" + group_thousands(p.estimated) + " rows (" + std::to_string(pct) + "%)";
  } else {
    out += " rows";
  }
  out += ", " + group_thousands(static_cast<uint64_t>(rate)) + " rows/s";
  if (p.finished) {
    out += ", done in " + format_duration(p.elapsed_s);
  } else if (rate > 0 && p.estimated > p.done) {
    out += ", eta " + format_duration(static_cast<double>(p.estimated - p.done) / rate);
  }
  return out;
}

std::string format_board(const std::vector<std::pair<std::string, table_progress>>& tables) {
  std::string out;
  for (const auto& [name, p] : tables) out += format_progress(name, p) + "\n";
  return out;
}

progress_board::progress_board(bool terminal, std::chrono::milliseconds interval)
  // The first line comes after one interval: a rate over the first rows
  // says little.
  : terminal_(terminal), interval_(interval), last_render_(clock::now()) {
}

progress_board::~progress_board() {
  if (terminal_) log::release_footer(this);
}

void progress_board::start(const std::string& table, uint64_t estimated) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& e = tables_[table];
  e.p = table_progress{};
  e.p.estimated = estimated;
  e.started = clock::now();
}

void progress_board::advance(const std::string& table, uint64_t done) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& e = tables_[table];
    e.p.done = done;
    e.p.elapsed_s = std::chrono::duration<double>(clock::now() - e.started).count();
  }
  render();
}

void progress_board::finish(const std::string& table) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& e = tables_[table];
    e.p.finished = true;
    e.p.elapsed_s = std::chrono::duration<double>(clock::now() - e.started).count();
  }
  render(true);
}

void progress_board::drop(const std::string& table) {
  std::lock_guard<std::mutex> guard{mtx_};
  tables_.erase(table);
}

void progress_board::render(bool force) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto now = clock::now();
  if (!force && now - last_render_ < interval_) return;
  last_render_ = now;
  if (terminal_) {
    std::vector<std::pair<std::string, table_progress>> rows;
    for (const auto& [name, e] : tables_) rows.emplace_back(name, e.p);
    log::set_footer(this, format_board(rows));
    return;
  }
  for (const auto& [name, e] : tables_)
    if (!e.p.finished || force) log::info("progress " + format_progress(name, e.p));
}

std::shared_ptr<progress_board> snapshot_progress_board() {
  bool terminal = ::isatty(2) == 1;
  return std::make_shared<progress_board>(
    terminal, terminal ? std::chrono::milliseconds(500) : std::chrono::milliseconds(10000));
}

}  // namespace trib
