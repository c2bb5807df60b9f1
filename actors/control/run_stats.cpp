#include "actors/control/run_stats.hpp"

#include <algorithm>
#include <ctime>

#include <boost/json.hpp>

#include "actors/control/progress.hpp"
#include "actors/control/realtime_board.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace {

// "2026-12-03 15:40:01" (`iso`: "2026-12-03T15:40:01.250Z").
std::string utc_text(int64_t ms, bool iso) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
  std::string out = buf;
  if (iso) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
    out += frac;
  }
  return out;
}

double elapsed_s(const table_stats& t) {
  return t.start_ms > 0 && t.end_ms >= t.start_ms ? static_cast<double>(t.end_ms - t.start_ms) / 1000.0
                                                   : 0.0;
}

// The columns of the table, right-aligned but the first.
std::string pad(const std::string& s, size_t width, bool left) {
  if (s.size() >= width) return s;
  return left ? s + std::string(width - s.size(), ' ') : std::string(width - s.size(), ' ') + s;
}

}  // namespace

std::string stats_key(const std::string& group, const std::string& id) {
  return "replicate_io_stats_" + group + "_" + id;
}

void count_rows(stats_by_table& s, const std::string& table, const std::string& phase,
                const std::string& op, uint64_t rows, double lag_s, int64_t now_ms) {
  auto& t = s[table];
  if (phase == "snapshot") t.snapshot_rows += rows;
  else if (op == "c") t.inserts += rows;
  else if (op == "u") t.updates += rows;
  else if (op == "d") t.deletes += rows;
  else if (op == "t") t.truncates += rows;
  if (t.start_ms == 0 || now_ms < t.start_ms) t.start_ms = now_ms;
  t.end_ms = std::max(t.end_ms, now_ms);
  if (lag_s >= 0) t.lag_ms = static_cast<int64_t>(lag_s * 1000.0 + 0.5);
}

void merge_stats(stats_by_table& into, const stats_by_table& later) {
  for (const auto& [name, l] : later) {
    auto& t = into[name];
    t.snapshot_rows += l.snapshot_rows;
    t.inserts += l.inserts;
    t.updates += l.updates;
    t.deletes += l.deletes;
    t.truncates += l.truncates;
    if (l.start_ms > 0 && (t.start_ms == 0 || l.start_ms < t.start_ms)) t.start_ms = l.start_ms;
    t.end_ms = std::max(t.end_ms, l.end_ms);
    if (l.lag_ms >= 0) t.lag_ms = l.lag_ms;
  }
}

std::vector<std::vector<std::string>> stats_commands(const std::string& key,
                                                     const stats_by_table& delta) {
  std::vector<std::vector<std::string>> out;
  for (const auto& [name, t] : delta) {
    for (auto [field, n] : {std::pair{"snapshot_rows", t.snapshot_rows},
                            std::pair{"inserts", t.inserts}, std::pair{"updates", t.updates},
                            std::pair{"deletes", t.deletes}, std::pair{"truncates", t.truncates}})
      if (n > 0) out.push_back({"HINCRBY", key, name + ":" + field, std::to_string(n)});
    // The first run's start stays; later runs move the end.
    if (t.start_ms > 0) out.push_back({"HSETNX", key, name + ":start_ms", std::to_string(t.start_ms)});
    if (t.end_ms > 0) out.push_back({"HSET", key, name + ":end_ms", std::to_string(t.end_ms)});
    if (t.lag_ms >= 0) out.push_back({"HSET", key, name + ":lag_ms", std::to_string(t.lag_ms)});
  }
  return out;
}

stats_by_table parse_stats_hash(const std::vector<std::string>& flat) {
  stats_by_table out;
  for (size_t i = 0; i + 1 < flat.size(); i += 2) {
    const auto& field = flat[i];
    // Table names may hold ':', the statistic's name does not.
    auto colon = field.rfind(':');
    if (colon == std::string::npos || colon == 0) continue;
    auto name = field.substr(colon + 1);
    long long v = 0;
    try {
      size_t used = 0;
      v = std::stoll(flat[i + 1], &used);
      if (used != flat[i + 1].size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      throw error(failure_code::bad_data,
                  "run statistics field " + field + " holds '" + flat[i + 1] + "', not a number");
    }
    auto& t = out[field.substr(0, colon)];
    auto count = static_cast<uint64_t>(std::max(v, 0LL));
    if (name == "snapshot_rows") t.snapshot_rows = count;
    else if (name == "inserts") t.inserts = count;
    else if (name == "updates") t.updates = count;
    else if (name == "deletes") t.deletes = count;
    else if (name == "truncates") t.truncates = count;
    else if (name == "start_ms") t.start_ms = v;
    else if (name == "end_ms") t.end_ms = v;
    else if (name == "lag_ms") t.lag_ms = v;
  }
  return out;
}

std::string format_stats_table(const stats_by_table& s) {
  auto line = [](const std::string& name, const table_stats& t) {
    return std::vector<std::string>{
      name,
      group_thousands(t.snapshot_rows),
      group_thousands(t.inserts),
      group_thousands(t.updates),
      group_thousands(t.deletes),
      group_thousands(t.truncates),
      t.start_ms > 0 ? utc_text(t.start_ms, false) : "-",
      t.end_ms > 0 ? utc_text(t.end_ms, false) : "-",
      t.start_ms > 0 ? format_duration(elapsed_s(t)) : "-",
      t.lag_ms >= 0 ? format_lag(static_cast<double>(t.lag_ms) / 1000.0) : "-"};
  };
  std::vector<std::vector<std::string>> rows{{"table", "snapshot rows", "inserts", "updates",
                                              "deletes", "truncates", "start (UTC)", "end (UTC)",
                                              "elapsed", "lag"}};
  // The total's lag is the largest of the tables' newest.
  stats_by_table total;
  auto& all = total["total"];
  for (const auto& [name, t] : s) {
    rows.push_back(line(name, t));
    auto lag = std::max(all.lag_ms, t.lag_ms);
    merge_stats(total, {{"total", t}});
    all.lag_ms = lag;
  }
  if (s.size() > 1) rows.push_back(line("total", all));
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  std::string out;
  for (const auto& r : rows) {
    std::string text;
    for (size_t c = 0; c < r.size(); ++c) text += (c ? "  " : "") + pad(r[c], width[c], c == 0 || c >= 6);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  return out;
}

std::string stats_json(const std::string& key, const stats_by_table& s) {
  boost::json::array tables;
  for (const auto& [name, t] : s) {
    boost::json::object o;
    o["table"] = name;
    o["snapshot_rows"] = t.snapshot_rows;
    o["inserts"] = t.inserts;
    o["updates"] = t.updates;
    o["deletes"] = t.deletes;
    o["truncates"] = t.truncates;
    o["start"] = t.start_ms > 0 ? boost::json::value(utc_text(t.start_ms, true)) : nullptr;
    o["end"] = t.end_ms > 0 ? boost::json::value(utc_text(t.end_ms, true)) : nullptr;
    // Whole milliseconds: Boost.JSON writes doubles as 9.213E0.
    o["elapsed_ms"] = t.start_ms > 0 && t.end_ms >= t.start_ms ? t.end_ms - t.start_ms : 0;
    o["lag_ms"] = t.lag_ms >= 0 ? boost::json::value(t.lag_ms) : nullptr;
    tables.push_back(std::move(o));
  }
  return boost::json::serialize(boost::json::object{{"key", key}, {"tables", std::move(tables)}});
}

}  // namespace trib
