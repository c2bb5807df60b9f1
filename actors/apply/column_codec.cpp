#include "actors/apply/column_codec.hpp"

#include <charconv>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "messages/failure.hpp"

namespace trib {

namespace {

using sv = std::string_view;

// Thrown by the converters below when a cell's text is malformed;
// column_codec::write turns it into a trib::error naming table and column.
struct bad_text {};

[[noreturn]] void fail() { throw bad_text{}; }

constexpr int64_t micros_per_second = 1000000;
constexpr int64_t micros_per_day = 86400 * micros_per_second;
// Debezium's MicroDuration counts a month as 365.25 / 12 = 30.4375 days,
// which is exactly 2,629,800 seconds.
constexpr int64_t micros_per_month = 2629800 * micros_per_second;

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

bool is_digits(sv s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

template <class T>
T parse_integer(sv s) {
  T v{};
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc{} || res.ptr != s.data() + s.size()) fail();
  return v;
}

// Whether `s` (already read as an integer) is spelt as JSON spells that
// number: no sign but a minus, no leading zero, no "-0". Source servers
// print integers that way, so the text can be copied instead of printed again.
bool canonical_integer(sv s) {
  size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  if (i >= s.size()) return false;
  return s[i] != '0' || (i == 0 && s.size() == 1);
}

template <class T>
void write_integer(json_writer& w, sv text) {
  T v = parse_integer<T>(text);
  if (canonical_integer(text))
    w.raw(text);
  else if constexpr (std::is_signed_v<T>)
    w.number(int64_t{v});
  else
    w.number(uint64_t{v});
}

template <class T>
T parse_floating(sv s) {
  T v{};
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc{} || res.ptr != s.data() + s.size()) fail();
  return v;
}

bool iequals(sv a, sv b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// ---- calendar --------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (negative before),
// by counting 400-year eras from 0000-03-01 so leap days fall at the end of
// each counted year.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The inverse of days_from_civil.
void civil_from_days(int64_t z, int64_t& y, int64_t& m, int64_t& d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int64_t days_in_month(int64_t y, int64_t m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// PostgreSQL writes years before 1 AD with a " BC" suffix; 1 BC is year 0.
bool strip_bc(sv& s) {
  constexpr sv suffix = " BC";
  if (s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix) {
    s.remove_suffix(suffix.size());
    return true;
  }
  return false;
}

// "YYYY-MM-DD" (four or more year digits). Sets `zero` for MariaDB's zero
// dates, where month or day is 0.
int64_t scan_date(scanner& sc, bool bc, bool& zero) {
  int64_t y = sc.digits(4, 9);
  sc.expect('-');
  int64_t m = sc.digits(2, 2);
  sc.expect('-');
  int64_t d = sc.digits(2, 2);
  zero = m == 0 || d == 0;
  if (zero) return 0;
  if (bc) {
    if (y == 0) fail();
    y = 1 - y;
  }
  if (m > 12 || d > days_in_month(y, m)) fail();
  return days_from_civil(y, m, d);
}

// "HH:MM:SS[.ffffff]" within a day (24:00:00 allowed, as PostgreSQL does).
int64_t scan_time_of_day(scanner& sc) {
  int64_t h = sc.digits(2, 2);
  sc.expect(':');
  int64_t mi = sc.digits(2, 2);
  sc.expect(':');
  int64_t s = sc.digits(2, 2);
  int64_t f = sc.fraction_micros();
  if (h > 24 || mi > 59 || s > 60) fail();
  int64_t v = ((h * 60 + mi) * 60 + s) * micros_per_second + f;
  if (v > micros_per_day) fail();
  return v;
}

// "[+-]HH[:MM[:SS]]" or "Z" as seconds east of UTC.
int64_t scan_offset_seconds(scanner& sc) {
  if (sc.accept('Z')) return 0;
  int sign = 1;
  if (sc.accept('-')) sign = -1;
  else sc.expect('+');
  int64_t h = sc.digits(2, 2);
  int64_t m = 0, s = 0;
  if (sc.accept(':') || (!sc.done() && sc.peek() >= '0' && sc.peek() <= '9')) {
    m = sc.digits(2, 2);
    if (sc.accept(':')) s = sc.digits(2, 2);
  }
  return sign * ((h * 60 + m) * 60 + s);
}

// Microseconds since the epoch of "YYYY-MM-DD HH:MM:SS[.f][offset][ BC]";
// `zoned` demands the offset. `zero` as for scan_date.
int64_t scan_timestamp(sv text, bool zoned, bool& zero) {
  bool bc = strip_bc(text);
  scanner sc{text};
  int64_t days = scan_date(sc, bc, zero);
  if (!sc.accept(' ')) sc.expect('T');
  int64_t tod = scan_time_of_day(sc);
  int64_t offset = 0;
  if (zoned) offset = scan_offset_seconds(sc);
  if (!sc.done()) fail();
  if (zero) return 0;
  return days * micros_per_day + tod - offset * micros_per_second;
}

// ISO-8601 text in UTC, the fraction without trailing zeros (as Java's
// ISO_OFFSET_DATE_TIME prints it, which is what Debezium emits).
std::string format_zoned(int64_t micros) {
  int64_t days = micros / micros_per_day;
  int64_t rem = micros % micros_per_day;
  if (rem < 0) {
    rem += micros_per_day;
    --days;
  }
  int64_t y, m, d;
  civil_from_days(days, y, m, d);
  int64_t secs = rem / micros_per_second;
  int64_t frac = rem % micros_per_second;
  char buf[64];
  const char* sign = y < 0 ? "-" : (y > 9999 ? "+" : "");
  int n = std::snprintf(buf, sizeof buf, "%s%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                        sign, static_cast<long long>(y < 0 ? -y : y),
                        static_cast<long long>(m), static_cast<long long>(d),
                        static_cast<long long>(secs / 3600),
                        static_cast<long long>(secs / 60 % 60),
                        static_cast<long long>(secs % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (frac != 0) {
    char f[8];
    std::snprintf(f, sizeof f, "%06lld", static_cast<long long>(frac));
    size_t len = 6;
    while (f[len - 1] == '0') --len;
    out += '.';
    out.append(f, len);
  }
  out += 'Z';
  return out;
}

// MariaDB TIME is a duration ("-838:59:59.000000"), PostgreSQL time a time
// of day; both fit "[-]H+:MM:SS[.f]".
int64_t scan_time(sv text) {
  scanner sc{text};
  int sign = sc.accept('-') ? -1 : 1;
  int64_t h = sc.digits(1, 9);
  sc.expect(':');
  int64_t mi = sc.digits(2, 2);
  sc.expect(':');
  int64_t s = sc.digits(2, 2);
  int64_t f = sc.fraction_micros();
  if (!sc.done() || mi > 59 || s > 59) fail();
  return sign * (((h * 60 + mi) * 60 + s) * micros_per_second + f);
}

// "[+-]digits[.digits]" seconds as microseconds.
int64_t seconds_micros(sv text) {
  scanner sc{text};
  int sign = 1;
  if (sc.accept('-')) sign = -1;
  else sc.accept('+');
  int64_t whole = sc.digits(1, 15);
  int64_t f = sc.fraction_micros();
  if (!sc.done()) fail();
  return sign * (whole * micros_per_second + f);
}

// ISO-8601 duration as PostgreSQL's intervalstyle iso_8601 prints it:
// "P1Y2M3DT4H5M6.5S", each component with its own sign ("P-1Y-2M3DT-4H").
int64_t iso_interval_micros(sv text) {
  size_t i = 0;
  int top_sign = 1;
  if (i < text.size() && text[i] == '-') {
    top_sign = -1;
    ++i;
  }
  if (i >= text.size() || text[i] != 'P') fail();
  ++i;
  bool in_time = false;
  bool any = false;
  int64_t total = 0;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) fail();
      in_time = true;
      ++i;
      continue;
    }
    size_t start = i;
    if (text[i] == '-' || text[i] == '+') ++i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.'))
      ++i;
    if (i == start || i >= text.size()) fail();
    sv number = text.substr(start, i - start);
    char unit = text[i++];
    any = true;
    if (unit == 'S' && in_time) {
      total += seconds_micros(number);
      continue;
    }
    int64_t n = parse_integer<int64_t>(number[0] == '+' ? number.substr(1) : number);
    if (!in_time) {
      switch (unit) {
        case 'Y': total += n * 12 * micros_per_month; break;
        case 'M': total += n * micros_per_month; break;
        case 'W': total += n * 7 * micros_per_day; break;
        case 'D': total += n * micros_per_day; break;
        default: fail();
      }
    } else {
      switch (unit) {
        case 'H': total += n * 3600 * micros_per_second; break;
        case 'M': total += n * 60 * micros_per_second; break;
        default: fail();
      }
    }
  }
  if (!any) fail();
  return top_sign * total;
}

// PostgreSQL's default intervalstyle: "1 year 2 mons -3 days 04:05:06.5".
int64_t postgres_interval_micros(sv text) {
  int64_t total = 0;
  bool any = false;
  size_t i = 0;
  auto next_token = [&]() -> sv {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    return text.substr(start, i - start);
  };
  for (sv tok = next_token(); !tok.empty(); tok = next_token()) {
    any = true;
    if (tok.find(':') != sv::npos) {
      // [+-]H+:MM[:SS[.f]]
      int sign = 1;
      if (tok[0] == '-' || tok[0] == '+') {
        sign = tok[0] == '-' ? -1 : 1;
        tok.remove_prefix(1);
      }
      scanner sc{tok};
      int64_t h = sc.digits(1, 9);
      sc.expect(':');
      int64_t m = sc.digits(2, 2);
      int64_t s = 0, f = 0;
      if (sc.accept(':')) {
        s = sc.digits(2, 2);
        f = sc.fraction_micros();
      }
      if (!sc.done()) fail();
      total += sign * (((h * 60 + m) * 60 + s) * micros_per_second + f);
      continue;
    }
    sv unit = next_token();
    if (unit.empty()) fail();
    if (unit == "year" || unit == "years") {
      total += parse_integer<int64_t>(tok[0] == '+' ? tok.substr(1) : tok) * 12 * micros_per_month;
    } else if (unit == "mon" || unit == "mons") {
      total += parse_integer<int64_t>(tok[0] == '+' ? tok.substr(1) : tok) * micros_per_month;
    } else if (unit == "day" || unit == "days") {
      total += parse_integer<int64_t>(tok[0] == '+' ? tok.substr(1) : tok) * micros_per_day;
    } else {
      fail();
    }
  }
  if (!any) fail();
  return total;
}

int64_t interval_micros(sv text) {
  if (!text.empty() && (text[0] == 'P' || (text.size() > 1 && text[0] == '-' && text[1] == 'P')))
    return iso_interval_micros(text);
  return postgres_interval_micros(text);
}

// ---- decimals --------------------------------------------------------------

struct decimal_parts {
  bool negative = false;
  sv integer;   // digits before the point (may be empty)
  sv fraction;  // digits after the point (may be empty)
};

decimal_parts split_decimal(sv text) {
  decimal_parts p;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    p.negative = text[0] == '-';
    text.remove_prefix(1);
  }
  size_t dot = text.find('.');
  p.integer = text.substr(0, dot);
  if (dot != sv::npos) p.fraction = text.substr(dot + 1);
  bool ok = (p.integer.empty() || is_digits(p.integer))
            && (p.fraction.empty() || is_digits(p.fraction))
            && !(p.integer.empty() && p.fraction.empty())
            && !(dot != sv::npos && p.fraction.empty());
  if (!ok) fail();
  return p;
}

bool is_special_number(sv text) {
  return text == "NaN" || text == "Infinity" || text == "-Infinity"
         || text == "+Infinity";
}

// A decimal digit string as big-endian two's complement with the fewest
// bytes, the layout of Java's BigInteger.toByteArray() that Kafka Connect's
// Decimal uses.
std::string twos_complement(bool negative, sv digits) {
  std::vector<uint8_t> mag;  // big-endian magnitude
  for (char ch : digits) {
    unsigned carry = static_cast<unsigned>(ch - '0');
    for (auto it = mag.rbegin(); it != mag.rend(); ++it) {
      unsigned v = *it * 10u + carry;
      *it = static_cast<uint8_t>(v & 0xff);
      carry = v >> 8;
    }
    while (carry != 0) {
      mag.insert(mag.begin(), static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  if (mag.empty()) return std::string(1, '\0');
  if (!negative) {
    if (mag[0] & 0x80) mag.insert(mag.begin(), 0);
  } else {
    mag.insert(mag.begin(), 0);
    for (auto& b : mag) b = static_cast<uint8_t>(~b);
    for (auto it = mag.rbegin(); it != mag.rend(); ++it)
      if (++*it != 0) break;
    // Drop sign bytes the next byte already carries.
    size_t drop = 0;
    while (drop + 1 < mag.size() && mag[drop] == 0xff && (mag[drop + 1] & 0x80))
      ++drop;
    mag.erase(mag.begin(), mag.begin() + static_cast<std::ptrdiff_t>(drop));
  }
  return std::string(mag.begin(), mag.end());
}

// The unscaled digits of `p` at `scale`; fails when digits would be lost.
std::string unscaled_digits(const decimal_parts& p, int32_t scale) {
  std::string digits{p.integer};
  digits.append(p.fraction.data(), p.fraction.size());
  int64_t have = static_cast<int64_t>(p.fraction.size());
  if (scale >= have) {
    digits.append(static_cast<size_t>(scale - have), '0');
  } else {
    size_t drop = static_cast<size_t>(have - scale);
    size_t keep = digits.size() > drop ? digits.size() - drop : 0;
    for (size_t k = keep; k < digits.size(); ++k)
      if (digits[k] != '0') fail();
    digits.resize(keep);
  }
  return digits;
}

// ---- other kinds -----------------------------------------------------------

bool parse_boolean(sv s) {
  if (s == "t" || s == "1" || s == "true") return true;
  if (s == "f" || s == "0" || s == "false") return false;
  fail();
}

// '0'/'1' text (first character the most significant bit) as little-endian
// bytes, Debezium's io.debezium.data.Bits layout.
std::string bits_little_endian(sv s) {
  std::string out((s.size() + 7) / 8, '\0');
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[s.size() - 1 - i];
    if (c == '1') out[i / 8] = static_cast<char>(out[i / 8] | (1 << (i % 8)));
    else if (c != '0') fail();
  }
  return out;
}

// PostgreSQL's bytea hex output "\x0aff", which array elements arrive in.
std::string hex_bytes(sv s) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    fail();
  };
  if (s.size() % 2 != 0) fail();
  std::string out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2)
    out.push_back(static_cast<char>(nibble(s[i]) * 16 + nibble(s[i + 1])));
  return out;
}

std::string join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// ---- schemas ---------------------------------------------------------------

boost::json::object kind_schema(const column_info& c, value_kind k,
                                decimal_handling decimals, bool optional);

// Appends the logical name (and version 1, as Kafka Connect's logical types
// and Debezium's all carry) to a schema object.
void set_name(boost::json::object& o, const char* name) {
  o["name"] = name;
  o["version"] = 1;
}

boost::json::object kind_schema(const column_info& c, value_kind k,
                                decimal_handling decimals, bool optional) {
  boost::json::object o;
  const char* name = nullptr;
  boost::json::object params;
  switch (k) {
    case value_kind::boolean: o["type"] = "boolean"; break;
    case value_kind::int8:
    case value_kind::int16:
    case value_kind::uint8: o["type"] = "int16"; break;
    case value_kind::int32:
    case value_kind::uint16: o["type"] = "int32"; break;
    case value_kind::int64:
    case value_kind::uint32:
    case value_kind::uint64: o["type"] = "int64"; break;
    case value_kind::float32: o["type"] = "float"; break;
    case value_kind::float64: o["type"] = "double"; break;
    case value_kind::decimal:
      if (decimals == decimal_handling::string) {
        o["type"] = "string";
      } else if (decimals == decimal_handling::dbl) {
        o["type"] = "double";
      } else if (c.precision > 0) {
        o["type"] = "bytes";
        name = "org.apache.kafka.connect.data.Decimal";
        params["scale"] = std::to_string(c.scale);
        params["connect.decimal.precision"] = std::to_string(c.precision);
      } else {
        o["type"] = "struct";
        boost::json::array fields;
        fields.push_back({{"type", "int32"}, {"optional", false}, {"field", "scale"}});
        fields.push_back({{"type", "bytes"}, {"optional", false}, {"field", "value"}});
        o["fields"] = std::move(fields);
        name = "io.debezium.data.VariableScaleDecimal";
      }
      break;
    case value_kind::text: o["type"] = "string"; break;
    case value_kind::bytes: o["type"] = "bytes"; break;
    case value_kind::date:
      o["type"] = "int32";
      name = "io.debezium.time.Date";
      break;
    case value_kind::time:
      o["type"] = "int64";
      name = "io.debezium.time.MicroTime";
      break;
    case value_kind::timestamp:
      o["type"] = "int64";
      name = "io.debezium.time.MicroTimestamp";
      break;
    case value_kind::timestamptz:
      o["type"] = "string";
      name = "io.debezium.time.ZonedTimestamp";
      break;
    case value_kind::interval:
      o["type"] = "int64";
      name = "io.debezium.time.MicroDuration";
      break;
    case value_kind::json:
      o["type"] = "string";
      name = "io.debezium.data.Json";
      break;
    case value_kind::uuid:
      o["type"] = "string";
      name = "io.debezium.data.Uuid";
      break;
    case value_kind::enumeration:
      o["type"] = "string";
      name = "io.debezium.data.Enum";
      params["allowed"] = join(c.allowed, ',');
      break;
    case value_kind::set:
      o["type"] = "string";
      name = "io.debezium.data.EnumSet";
      params["allowed"] = join(c.allowed, ',');
      break;
    case value_kind::bits:
      // BIT(1) is a flag; inside an array every element is bytes.
      if (c.precision == 1 && c.kind == value_kind::bits) {
        o["type"] = "boolean";
      } else {
        o["type"] = "bytes";
        name = "io.debezium.data.Bits";
        if (c.precision > 0) params["length"] = std::to_string(c.precision);
      }
      break;
    case value_kind::year:
      o["type"] = "int32";
      name = "io.debezium.time.Year";
      break;
    case value_kind::array: {
      o["type"] = "array";
      // Elements of a PostgreSQL array may always be NULL.
      value_kind ek = c.element_kind == value_kind::array ? value_kind::text
                                                          : c.element_kind;
      o["items"] = kind_schema(c, ek, decimals, true);
      break;
    }
  }
  o["optional"] = optional;
  if (name != nullptr) set_name(o, name);
  if (!params.empty()) o["parameters"] = std::move(params);
  return o;
}

// ---- values ----------------------------------------------------------------

void write_value(json_writer& w, const column_info& c, value_kind k,
                 decimal_handling decimals, bool nullable, sv text);

// The PostgreSQL array literal "{1,NULL,\"a \\\"b\\\"\"}" (with an optional
// "[lo:hi]=" dimension prefix) as a JSON array of element values.
void write_array_level(json_writer& w, const column_info& c, value_kind ek,
                       decimal_handling decimals, sv text, size_t& i) {
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n'))
      ++i;
  };
  skip_space();
  if (i >= text.size() || text[i] != '{') fail();
  ++i;
  w.raw('[');
  skip_space();
  if (i < text.size() && text[i] == '}') {
    ++i;
    w.raw(']');
    return;
  }
  std::string element;
  for (bool first = true;; first = false) {
    if (!first) w.raw(',');
    skip_space();
    if (i >= text.size()) fail();
    if (text[i] == '{') {
      write_array_level(w, c, ek, decimals, text, i);
    } else if (text[i] == '"') {
      ++i;
      element.clear();
      for (;;) {
        if (i >= text.size()) fail();
        char ch = text[i++];
        if (ch == '"') break;
        if (ch == '\\') {
          if (i >= text.size()) fail();
          ch = text[i++];
        }
        element.push_back(ch);
      }
      write_value(w, c, ek, decimals, true, element);
    } else {
      element.clear();
      bool quoted_char = false;  // a backslash makes "NULL" a plain string
      while (i < text.size() && text[i] != ',' && text[i] != '}') {
        char ch = text[i++];
        if (ch == '\\') {
          if (i >= text.size()) fail();
          ch = text[i++];
          quoted_char = true;
        }
        element.push_back(ch);
      }
      while (!element.empty() && element.back() == ' ') element.pop_back();
      if (element.empty()) fail();
      if (!quoted_char && iequals(element, "NULL")) w.null();
      else write_value(w, c, ek, decimals, true, element);
    }
    skip_space();
    if (i >= text.size()) fail();
    if (text[i] == ',') {
      ++i;
      continue;
    }
    if (text[i] == '}') {
      ++i;
      break;
    }
    fail();
  }
  w.raw(']');
}

void write_array(json_writer& w, const column_info& c,
                 decimal_handling decimals, sv text) {
  size_t i = 0;
  if (!text.empty() && text[0] == '[') {
    size_t eq = text.find('=');
    if (eq == sv::npos) fail();
    i = eq + 1;
  }
  value_kind ek = c.element_kind == value_kind::array ? value_kind::text
                                                      : c.element_kind;
  write_array_level(w, c, ek, decimals, text, i);
  if (i != text.size()) fail();
}

void write_decimal(json_writer& w, const column_info& c,
                   decimal_handling decimals, sv text) {
  switch (decimals) {
    case decimal_handling::string:
      if (!is_special_number(text)) split_decimal(text);
      w.string(text);
      return;
    case decimal_handling::dbl:
      w.number(parse_floating<double>(!text.empty() && text[0] == '+' ? text.substr(1) : text));
      return;
    case decimal_handling::precise: {
      // NaN and infinities have no unscaled integer form.
      decimal_parts p = split_decimal(text);
      auto& out = w.buffer();
      if (c.precision > 0) {
        std::string digits = unscaled_digits(p, c.scale);
        out.push_back('"');
        append_base64(out, twos_complement(p.negative, digits));
        out.push_back('"');
      } else {
        std::string digits{p.integer};
        digits.append(p.fraction.data(), p.fraction.size());
        w.raw("{\"scale\":");
        w.number(static_cast<int64_t>(p.fraction.size()));
        w.raw(",\"value\":\"");
        append_base64(out, twos_complement(p.negative, digits));
        w.raw("\"}");
      }
      return;
    }
  }
}

void write_bytes(json_writer& w, sv bytes) {
  auto& out = w.buffer();
  out.push_back('"');
  append_base64(out, bytes);
  out.push_back('"');
}

void write_value(json_writer& w, const column_info& c, value_kind k,
                 decimal_handling decimals, bool nullable, sv text) {
  switch (k) {
    case value_kind::boolean: w.boolean(parse_boolean(text)); return;
    case value_kind::int8: write_integer<int8_t>(w, text); return;
    case value_kind::int16: write_integer<int16_t>(w, text); return;
    case value_kind::int32: write_integer<int32_t>(w, text); return;
    case value_kind::int64: write_integer<int64_t>(w, text); return;
    case value_kind::uint8: write_integer<uint8_t>(w, text); return;
    case value_kind::uint16: write_integer<uint16_t>(w, text); return;
    case value_kind::uint32: write_integer<uint32_t>(w, text); return;
    case value_kind::uint64: write_integer<uint64_t>(w, text); return;
    case value_kind::float32: w.number(parse_floating<float>(text)); return;
    case value_kind::float64: w.number(parse_floating<double>(text)); return;
    case value_kind::decimal: write_decimal(w, c, decimals, text); return;
    case value_kind::text:
    case value_kind::json:
    case value_kind::enumeration:
    case value_kind::set: w.string(text); return;
    case value_kind::uuid:
      if (text.size() != 36) fail();
      w.string(text);
      return;
    case value_kind::bytes:
      // Inside arrays PostgreSQL's text output gives bytea as hex.
      if (c.kind == value_kind::array && text.size() >= 2 && text[0] == '\\'
          && text[1] == 'x')
        write_bytes(w, hex_bytes(text.substr(2)));
      else
        write_bytes(w, text);
      return;
    case value_kind::date: {
      if (text == "infinity") return w.number(int64_t{std::numeric_limits<int32_t>::max()});
      if (text == "-infinity") return w.number(int64_t{std::numeric_limits<int32_t>::min()});
      sv s = text;
      bool bc = strip_bc(s);
      scanner sc{s};
      bool zero = false;
      int64_t days = scan_date(sc, bc, zero);
      if (!sc.done()) fail();
      if (zero) return nullable ? w.null() : w.number(int64_t{0});
      if (days < std::numeric_limits<int32_t>::min() || days > std::numeric_limits<int32_t>::max())
        fail();
      w.number(days);
      return;
    }
    case value_kind::time: w.number(scan_time(text)); return;
    case value_kind::timestamp: {
      if (text == "infinity") return w.number(std::numeric_limits<int64_t>::max());
      if (text == "-infinity") return w.number(std::numeric_limits<int64_t>::min());
      bool zero = false;
      int64_t v = scan_timestamp(text, false, zero);
      if (zero) return nullable ? w.null() : w.number(int64_t{0});
      w.number(v);
      return;
    }
    case value_kind::timestamptz: {
      if (text == "infinity" || text == "-infinity") return w.string(text);
      bool zero = false;
      int64_t v = scan_timestamp(text, true, zero);
      if (zero) return nullable ? w.null() : w.string(format_zoned(0));
      w.string(format_zoned(v));
      return;
    }
    case value_kind::interval: w.number(interval_micros(text)); return;
    case value_kind::bits:
      if (c.precision == 1 && k == c.kind) {
        if (text == "1") return w.boolean(true);
        if (text == "0") return w.boolean(false);
        fail();
      }
      write_bytes(w, bits_little_endian(text));
      return;
    case value_kind::year: {
      int64_t y = parse_integer<int32_t>(text);
      w.number(y);
      return;
    }
    case value_kind::array: write_array(w, c, decimals, text); return;
  }
}

}  // namespace

column_codec::column_codec(const table_id& table, const column_info& col,
                           decimal_handling decimals)
  : where_(to_string(table) + "." + col.name), col_(col), decimals_(decimals) {
}

boost::json::object column_codec::field_schema() const {
  auto o = kind_schema(col_, col_.kind, decimals_, !col_.not_null);
  o["field"] = col_.name;
  return o;
}

void column_codec::write(json_writer& w, const cell& c) const {
  if (c.null) {
    w.null();
    return;
  }
  // On failure the partial output is left for the caller to discard: the
  // whole entry is abandoned.
  try {
    write_value(w, col_, col_.kind, decimals_, !col_.not_null, c.text);
  } catch (const bad_text&) {
    // Long cells are cut so one bad 1 MB value cannot flood the log.
    constexpr size_t shown = 80;
    std::string text = c.text.size() > shown ? c.text.substr(0, shown) + "..." : c.text;
    throw error{failure_code::bad_data,
                where_ + ": cannot read '" + text + "' as " + to_string(col_.kind)};
  }
}

}  // namespace trib
