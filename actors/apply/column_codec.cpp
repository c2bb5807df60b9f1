#include "actors/apply/column_codec.hpp"

#include <charconv>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "actors/apply/temporal_text.hpp"
#include "actors/apply/text_scan.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace {

using namespace trib::text_scan;
namespace tt = trib::temporal_text;

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
      bool zero = false;
      int64_t days = tt::date_days(text, zero);
      if (zero) return nullable ? w.null() : w.number(int64_t{0});
      if (days < std::numeric_limits<int32_t>::min() || days > std::numeric_limits<int32_t>::max())
        fail();
      w.number(days);
      return;
    }
    case value_kind::time: w.number(tt::time_micros(text)); return;
    case value_kind::timestamp: {
      if (text == "infinity") return w.number(std::numeric_limits<int64_t>::max());
      if (text == "-infinity") return w.number(std::numeric_limits<int64_t>::min());
      bool zero = false;
      int64_t v = tt::timestamp_micros(text, false, zero);
      if (zero) return nullable ? w.null() : w.number(int64_t{0});
      w.number(v);
      return;
    }
    case value_kind::timestamptz: {
      if (text == "infinity" || text == "-infinity") return w.string(text);
      bool zero = false;
      int64_t v = tt::timestamp_micros(text, true, zero);
      if (zero) return nullable ? w.null() : w.string(tt::zoned_text(0));
      w.string(tt::zoned_text(v));
      return;
    }
    case value_kind::interval: w.number(tt::duration_micros(text)); return;
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
