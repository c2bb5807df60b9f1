#include "actors/apply/json_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <boost/json/serializer.hpp>

namespace trib {

namespace {

constexpr uint64_t ones = 0x0101010101010101ull;
constexpr uint64_t highs = 0x8080808080808080ull;

// Whether some byte of `w` is zero (exact as a yes/no answer).
constexpr bool has_zero_byte(uint64_t w) { return ((w - ones) & ~w & highs) != 0; }

// Whether JSON needs an escape for some byte of `s` (quote, backslash or a
// control character). Most cells need none and are copied as they are. Eight
// bytes at a time: a byte below 0x20 leaves its high bit set in w - 0x20..;
// a quote or backslash becomes a zero byte after an XOR.
bool needs_escape(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if ((((w - 0x20 * ones) & ~w & highs) != 0) || has_zero_byte(w ^ ('"' * ones)) ||
        has_zero_byte(w ^ ('\\' * ones)))
      return true;
  }
  for (; n > 0; ++p, --n) {
    auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == '"' || c == '\\') return true;
  }
  return false;
}

void append_chars(std::string& out, const char* begin, const char* end) {
  out.append(begin, static_cast<size_t>(end - begin));
}

}  // namespace

void json_writer::string(std::string_view s) {
  if (!needs_escape(s)) {
    out_.reserve(out_.size() + s.size() + 2);
    out_.push_back('"');
    out_.append(s.data(), s.size());
    out_.push_back('"');
    return;
  }
  // Boost.JSON's serializer does the escaping (quotes included).
  boost::json::serializer sr;
  sr.reset(boost::json::string_view{s.data(), s.size()});
  char buf[4096];
  while (!sr.done()) {
    auto part = sr.read(buf, sizeof buf);
    out_.append(part.data(), part.size());
  }
}

void json_writer::number(int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  append_chars(out_, buf, res.ptr);
}

void json_writer::number(uint64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  append_chars(out_, buf, res.ptr);
}

void json_writer::number(double v) {
  if (std::isnan(v)) return string("NaN");
  if (std::isinf(v)) return string(v > 0 ? "Infinity" : "-Infinity");
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  append_chars(out_, buf, res.ptr);
}

void json_writer::number(float v) {
  if (std::isnan(v)) return string("NaN");
  if (std::isinf(v)) return string(v > 0 ? "Infinity" : "-Infinity");
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  append_chars(out_, buf, res.ptr);
}

std::string json_quote(std::string_view s) {
  std::string out;
  json_writer w{out};
  w.string(s);
  return out;
}

namespace {
constexpr char b64_alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

void append_base64(std::string& out, std::string_view bytes) {
  auto in = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  out.reserve(out.size() + (n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out.push_back(b64_alphabet[(v >> 18) & 63]);
    out.push_back(b64_alphabet[(v >> 12) & 63]);
    out.push_back(b64_alphabet[(v >> 6) & 63]);
    out.push_back(b64_alphabet[v & 63]);
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{in[i]} << 16;
    out.push_back(b64_alphabet[(v >> 18) & 63]);
    out.push_back(b64_alphabet[(v >> 12) & 63]);
    out.append("==");
  } else if (n - i == 2) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    out.push_back(b64_alphabet[(v >> 18) & 63]);
    out.push_back(b64_alphabet[(v >> 12) & 63]);
    out.push_back(b64_alphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  append_base64(out, bytes);
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out.clear();
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = 0;
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      int d;
      if (c == '=' && last && j >= 2) {
        d = 0;
        ++pad;
      } else {
        if (pad > 0) return false;  // data after padding
        d = value_of(c);
        if (d < 0) return false;
      }
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return true;
}

}  // namespace trib
