#include "actors/sink/memory_gate.hpp"

#include <charconv>

#include "actors/tuning.hpp"

namespace trib {

namespace {

// The value of "name:<digits>" at the start of a line of INFO.
std::optional<uint64_t> info_field(const std::string& info, const std::string& name) {
  std::string key = name + ":";
  for (size_t at = 0; (at = info.find(key, at)) != std::string::npos; at += key.size()) {
    if (at != 0 && info[at - 1] != '\n') continue;
    const char* first = info.data() + at + key.size();
    const char* last = info.data() + info.size();
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || end == first) return std::nullopt;
    if (end != last && *end != '\r' && *end != '\n') return std::nullopt;
    return v;
  }
  return std::nullopt;
}

}  // namespace

std::optional<redis_memory> parse_info_memory(const std::string& info) {
  auto used = info_field(info, "used_memory");
  auto max = info_field(info, "maxmemory");
  if (!used || !max) return std::nullopt;
  return redis_memory{*used, *max};
}

uint64_t write_bytes(const write_batch& b) {
  uint64_t n = b.encoded.size();
  for (const auto& e : b.entries) n += e.key.size() + e.value.size();
  return n;
}

bool memory_gate::due(uint64_t bytes, clock::time_point now) {
  if (!enabled()) return false;
  if (!read_once_ || now >= next_reading_ || bytes >= budget_) return true;
  budget_ -= bytes;
  return false;
}

uint64_t memory_gate::threshold(const redis_memory& m) const {
  return m.max / 100 * static_cast<uint64_t>(percentage_) +
         m.max % 100 * static_cast<uint64_t>(percentage_) / 100;
}

bool memory_gate::over(const redis_memory& m, clock::time_point now) {
  read_once_ = true;
  next_reading_ = now + tuning::redis_memory_check_interval;
  if (m.max == 0) {
    // No limit: nothing to pause for, but maxmemory can be set at run time.
    budget_ = UINT64_MAX;
    return false;
  }
  uint64_t limit = threshold(m);
  if (m.used > limit) {
    budget_ = 0;
    return true;
  }
  budget_ = (limit - m.used) / tuning::redis_memory_headroom_share;
  return false;
}

}  // namespace trib
