// Canonical text of MariaDB values; see mariadb_text.hpp.

#include "actors/source/mariadb_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace trib {

std::string my_bits_text(const char* v, size_t len, int32_t n) {
  size_t total = len * 8;
  size_t width = n > 0 ? static_cast<size_t>(n) : total;
  std::string out(width, '0');
  for (size_t i = 0; i < width && i < total; ++i) {
    size_t bit = total - 1 - i;  // i-th bit from the least significant end
    auto byte = static_cast<unsigned char>(v[bit / 8]);
    if (byte & (0x80 >> (bit % 8))) out[width - 1 - i] = '1';
  }
  return out;
}

void my_timestamptz_text(std::string& text) {
  if (text.rfind("0000-00-00", 0) != 0) text += "+00";
}

namespace {

/// Formats significant `digits` (no trailing zeros) with the decimal point
/// after `decpt` of them (dtoa's convention), choosing plain or exponent
/// notation as the server's my_gcvt does for a wide field: plain when
/// -14 <= decpt and (decpt <= 15 or the number has a fraction).
std::string gcvt_layout(bool negative, const std::string& digits, int decpt) {
  constexpr int max_decpt = 15;  // DBL_DIG
  int len = static_cast<int>(digits.size());
  std::string out = negative ? "-" : "";
  if (decpt >= -max_decpt + 1 && (decpt <= max_decpt || len > decpt)) {
    if (decpt <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-decpt), '0');
      out += digits;
    } else if (decpt < len) {
      out += digits.substr(0, static_cast<size_t>(decpt));
      out += '.';
      out += digits.substr(static_cast<size_t>(decpt));
    } else {
      out += digits;
      out.append(static_cast<size_t>(decpt - len), '0');
    }
    return out;
  }
  out += digits[0];
  if (len > 1) out += "." + digits.substr(1);
  out += 'e';
  out += std::to_string(decpt - 1);
  return out;
}

/// Digits and decimal point position of `v` in scientific form:
/// `precision` < 0 for the shortest round trip, else that many digits after
/// the first. Trailing zeros are dropped.
std::string gcvt(double v, int precision) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  // The server prints a negative zero as "0" too.
  if (v == 0) return "0";
  bool negative = v < 0;
  double a = std::fabs(v);
  char buf[64];
  auto res = precision < 0 ? std::to_chars(buf, buf + sizeof buf, a, std::chars_format::scientific)
                           : std::to_chars(buf, buf + sizeof buf, a, std::chars_format::scientific,
                                           precision);
  std::string s(buf, res.ptr);
  size_t e = s.find('e');
  std::string digits;
  for (size_t i = 0; i < e; ++i)
    if (s[i] != '.') digits += s[i];
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int exp = std::stoi(s.substr(e + 1));
  return gcvt_layout(negative, digits, exp + 1);
}

}  // namespace

std::string my_double_text(double v) { return gcvt(v, -1); }

std::string my_float_text(double v) { return gcvt(v, 5); }  // FLT_DIG = 6 digits

std::string my_fixed_text(double v, int decimals) {
  if (!std::isfinite(v)) return gcvt(v, -1);
  char buf[400];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  if (res.ec != std::errc()) return gcvt(v, -1);
  return std::string(buf, res.ptr);
}

std::string my_date_text(unsigned year, unsigned month, unsigned day) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04u-%02u-%02u", year % 10000, month % 100, day % 100);
  return buf;
}

namespace {
void append_fraction(std::string& out, uint32_t micros, unsigned fsp) {
  if (fsp == 0) return;
  if (fsp > 6) fsp = 6;
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%06u", micros % 1000000);
  out.append(buf, 1 + fsp);
}
}  // namespace

std::string my_time_text(bool negative, unsigned hours, unsigned minutes, unsigned seconds,
                         uint32_t micros, unsigned fsp) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%02u:%02u:%02u", negative ? "-" : "", hours, minutes % 100,
                seconds % 100);
  std::string out = buf;
  append_fraction(out, micros, fsp);
  return out;
}

std::string my_datetime_text(unsigned year, unsigned month, unsigned day, unsigned hours,
                             unsigned minutes, unsigned seconds, uint32_t micros, unsigned fsp) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04u-%02u-%02u %02u:%02u:%02u", year % 10000, month % 100,
                day % 100, hours % 100, minutes % 100, seconds % 100);
  std::string out = buf;
  append_fraction(out, micros, fsp);
  return out;
}

std::string my_year_text(unsigned year) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04u", year % 10000);
  return buf;
}

}  // namespace trib
