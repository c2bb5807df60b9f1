#include "actors/apply/temporal_text.hpp"

#include <cstdio>

#include "actors/apply/text_scan.hpp"

namespace trib::temporal_text {

namespace {

using namespace trib::text_scan;

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

}  // namespace

int64_t date_days(std::string_view text, bool& zero) {
  bool bc = strip_bc(text);
  scanner sc{text};
  int64_t days = scan_date(sc, bc, zero);
  if (!sc.done()) fail();
  return days;
}

int64_t timestamp_micros(std::string_view text, bool zoned, bool& zero) {
  return scan_timestamp(text, zoned, zero);
}

std::string zoned_text(int64_t micros) { return format_zoned(micros); }

int64_t time_micros(std::string_view text) { return scan_time(text); }

int64_t duration_micros(std::string_view text) { return interval_micros(text); }

}  // namespace trib::temporal_text
