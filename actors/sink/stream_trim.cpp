#include "actors/sink/stream_trim.hpp"

#include <algorithm>
#include <charconv>

#include "messages/failure.hpp"

namespace trib {

namespace {

std::optional<uint64_t> number(const char* first, const char* last) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(first, last, v);
  if (ec != std::errc() || end != last || first == last) return std::nullopt;
  return v;
}

[[noreturn]] void bad(const std::string& what) {
  throw error(failure_code::bad_data, "unexpected reply to " + what);
}

}  // namespace

stream_id stream_id::next() const {
  if (seq == UINT64_MAX) return {ms + 1, 0};
  return {ms, seq + 1};
}

std::optional<stream_id> parse_stream_id(const std::string& s) {
  auto dash = s.find('-');
  const char* b = s.data();
  const char* e = b + s.size();
  if (dash == std::string::npos) {
    auto ms = number(b, e);
    if (!ms) return std::nullopt;
    return stream_id{*ms, 0};
  }
  auto ms = number(b, b + dash);
  auto seq = number(b + dash + 1, e);
  if (!ms || !seq) return std::nullopt;
  return stream_id{*ms, *seq};
}

std::vector<group_position> parse_xinfo_groups(const redis_reply& r) {
  if (r.type != redis_reply::kind::array) bad("XINFO GROUPS: " + r.str);
  std::vector<group_position> out;
  for (const auto& g : r.elements) {
    if (g.type != redis_reply::kind::array || g.elements.size() % 2 != 0)
      bad("XINFO GROUPS: a group is not a list of fields");
    group_position p;
    bool has_name = false, has_last = false;
    for (size_t i = 0; i + 1 < g.elements.size(); i += 2) {
      const auto& key = g.elements[i].str;
      const auto& v = g.elements[i + 1];
      if (key == "name") {
        p.name = v.str;
        has_name = true;
      } else if (key == "pending") {
        if (v.type != redis_reply::kind::integer || v.integer < 0)
          bad("XINFO GROUPS: pending is not a count");
        p.pending = static_cast<uint64_t>(v.integer);
      } else if (key == "last-delivered-id") {
        auto id = parse_stream_id(v.str);
        if (!id) bad("XINFO GROUPS: last-delivered-id '" + v.str + "' is not an ID");
        p.last_delivered = *id;
        has_last = true;
      } else if (key == "lag") {
        // nil when Redis cannot tell.
        if (v.type == redis_reply::kind::integer && v.integer >= 0)
          p.lag = static_cast<uint64_t>(v.integer);
      }
    }
    if (!has_name || !has_last) bad("XINFO GROUPS: a group without name or last-delivered-id");
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<stream_id> parse_xpending_oldest(const redis_reply& r) {
  if (r.type != redis_reply::kind::array || r.elements.size() < 2 ||
      r.elements[0].type != redis_reply::kind::integer)
    bad("XPENDING: " + r.str);
  if (r.elements[0].integer == 0) return std::nullopt;
  auto id = parse_stream_id(r.elements[1].str);
  if (!id) bad("XPENDING: oldest pending '" + r.elements[1].str + "' is not an ID");
  return id;
}

std::optional<stream_id> acked_trim_point(const std::vector<group_position>& groups) {
  std::optional<stream_id> point;
  for (const auto& g : groups) {
    // The group's oldest entry still to read or to acknowledge.
    stream_id keep = g.last_delivered.next();
    if (g.pending > 0) {
      if (!g.oldest_pending) return std::nullopt;
      if (*g.oldest_pending < keep) keep = *g.oldest_pending;
    }
    if (!point || keep < *point) point = keep;
  }
  return point;
}

std::optional<group_position> slowest_group(const std::vector<group_position>& groups) {
  std::optional<group_position> out;
  for (const auto& g : groups)
    if (g.lag && (!out || *g.lag > *out->lag)) out = g;
  return out;
}

bool lag_check_due(uint64_t max_consumer_lag, uint64_t since) {
  if (max_consumer_lag == 0 || since == 0) return false;
  return since >= std::max<uint64_t>(1, max_consumer_lag / 10);
}

bool trim_due(const stream_trim_config& cfg, uint64_t since) {
  if (cfg.mode == trim_mode::never || cfg.max_length == 0 || since == 0) return false;
  return since >= std::max<uint64_t>(1, cfg.max_length / 10);
}

}  // namespace trib
