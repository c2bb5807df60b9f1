#pragma once
// Pieces shared by the text-to-value converters of column_codec.cpp and
// temporal_text.cpp: the malformed-text signal, a scanner over a cell's text,
// and integer parsing. Internal to actors/apply; pure code.

#include <charconv>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace trib::text_scan {

using sv = std::string_view;

// column_codec::write turns it into a trib::error naming table and column.
struct bad_text {};

[[noreturn]] inline void fail() { throw bad_text{}; }

inline constexpr int64_t micros_per_second = 1000000;
inline constexpr int64_t micros_per_day = 86400 * micros_per_second;
// Debezium's MicroDuration counts a month as 365.25 / 12 = 30.4375 days,
// which is exactly 2,629,800 seconds.
inline constexpr int64_t micros_per_month = 2629800 * micros_per_second;

// ---- scanning --------------------------------------------------------------

// A cursor over a cell's text for the date, time and interval grammars.
struct scanner {
  sv s;
  size_t i = 0;

  bool done() const { return i == s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  bool accept(char c) {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  void expect(char c) {
    if (!accept(c)) fail();
  }
  // Between `min` and `max` decimal digits as a number.
  int64_t digits(size_t min, size_t max) {
    size_t start = i;
    int64_t v = 0;
    while (!done() && i - start < max && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i] - '0');
      ++i;
    }
    if (i - start < min) fail();
    return v;
  }
  // ".ffffff" as microseconds (digits past the sixth are truncated, as
  // Debezium truncates nanoseconds); 0 when there is no fraction.
  int64_t fraction_micros() {
    if (!accept('.')) return 0;
    size_t start = i;
    int64_t v = 0;
    while (!done() && s[i] >= '0' && s[i] <= '9') {
      if (i - start < 6) v = v * 10 + (s[i] - '0');
      ++i;
    }
    size_t n = i - start;
    if (n == 0) fail();
    for (size_t k = n; k < 6; ++k) v *= 10;
    return v;
  }
};

inline bool is_digits(sv s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

template <class T>
inline T parse_integer(sv s) {
  T v{};
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc{} || res.ptr != s.data() + s.size()) fail();
  return v;
}

// Whether `s` (already read as an integer) is spelt as JSON spells that
// number: no sign but a minus, no leading zero, no "-0". Source servers
// print integers that way, so the text can be copied instead of printed again.
inline bool canonical_integer(sv s) {
  size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  if (i >= s.size()) return false;
  return s[i] != '0' || (i == 0 && s.size() == 1);
}

template <class T>
inline T parse_floating(sv s) {
  T v{};
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc{} || res.ptr != s.data() + s.size()) fail();
  return v;
}

inline bool iequals(sv a, sv b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace trib::text_scan
