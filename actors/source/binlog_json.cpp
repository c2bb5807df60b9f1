// MySQL binary JSON to text; layout in binlog_json.hpp's reference.

#include "actors/source/binlog_json.hpp"

#include <cstdio>
#include <cstring>

#include "actors/source/binlog_cursor.hpp"
#include "actors/source/binlog_rows.hpp"
#include "actors/source/mariadb_text.hpp"

namespace trib::binlog {

namespace {

enum : uint8_t {
  small_object = 0x00, large_object = 0x01, small_array = 0x02, large_array = 0x03,
  literal = 0x04, int16 = 0x05, uint16 = 0x06, int32 = 0x07, uint32 = 0x08, int64 = 0x09,
  uint64 = 0x0a, double_ = 0x0b, string = 0x0c, opaque = 0x0f,
};

constexpr int max_depth = 150;

struct json_writer {
  std::string out;

  void quoted(const char* p, size_t n) {
    out += '"';
    for (size_t i = 0; i < n; ++i) {
      auto c = static_cast<unsigned char>(p[i]);
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    out += '"';
  }

  /// The variable-length size of strings and opaque data: 7 bits a byte,
  /// least significant first, high bit = more bytes follow (5 at most).
  static size_t var_length(cursor& in) {
    uint64_t v = 0;
    for (int i = 0; i < 5; ++i) {
      uint8_t b = in.u8("JSON length");
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        if (v > in.left()) fail("JSON length " + std::to_string(v) + " past the value's end at offset " + std::to_string(in.offset()));
        return static_cast<size_t>(v);
      }
    }
    fail("JSON length longer than 5 bytes at offset " + std::to_string(in.offset()));
  }

  void packed_temporal(uint8_t field_type, int64_t packed) {
    bool negative = packed < 0;
    uint64_t a = negative ? static_cast<uint64_t>(-packed) : static_cast<uint64_t>(packed);
    uint64_t hi = a >> 24;
    auto micros = static_cast<uint32_t>(a % (1u << 24));
    unsigned fsp = micros ? 6 : 0;
    std::string text;
    if (field_type == 11) {  // TIME
      text = my_time_text(negative, static_cast<unsigned>((hi >> 12) % 1024),
                          static_cast<unsigned>((hi >> 6) % 64), static_cast<unsigned>(hi % 64),
                          micros, fsp);
    } else {
      uint64_t ymd = hi >> 17, hms = hi % (1 << 17), ym = ymd >> 5;
      auto y = static_cast<unsigned>(ym / 13), m = static_cast<unsigned>(ym % 13),
           d = static_cast<unsigned>(ymd % 32);
      text = field_type == 10 ? my_date_text(y, m, d)
                              : my_datetime_text(y, m, d, static_cast<unsigned>(hms >> 12),
                                                 static_cast<unsigned>((hms >> 6) % 64),
                                                 static_cast<unsigned>(hms % 64), micros, fsp);
    }
    quoted(text.data(), text.size());
  }

  void opaque_value(cursor& in) {
    uint8_t field_type = in.u8("JSON opaque type");
    size_t n = var_length(in);
    cursor data(in.take(n, "JSON opaque data"), n, in.offset() - n);
    if (field_type == 246) {  // NEWDECIMAL: precision, scale, binary decimal
      uint8_t precision = data.u8("JSON decimal precision"), scale = data.u8("JSON decimal scale");
      column_def c;
      c.type = c.real_type = column_type::newdecimal;
      c.precision = precision;
      c.scale = scale;
      value v;
      decode_value(data, c, v);
      out += v.text;
      return;
    }
    if ((field_type == 10 || field_type == 11 || field_type == 12 || field_type == 7) &&
        data.left() == 8) {
      packed_temporal(field_type, static_cast<int64_t>(data.u64("JSON temporal")));
      return;
    }
    // Anything else prints as MySQL does: base64 of the bytes, typed.
    static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string raw = data.rest(), enc;
    for (size_t i = 0; i < raw.size(); i += 3) {
      uint32_t v = static_cast<unsigned char>(raw[i]) << 16;
      if (i + 1 < raw.size()) v |= static_cast<unsigned char>(raw[i + 1]) << 8;
      if (i + 2 < raw.size()) v |= static_cast<unsigned char>(raw[i + 2]);
      enc += b64[(v >> 18) & 63];
      enc += b64[(v >> 12) & 63];
      enc += i + 1 < raw.size() ? b64[(v >> 6) & 63] : '=';
      enc += i + 2 < raw.size() ? b64[v & 63] : '=';
    }
    std::string text = "base64:type" + std::to_string(field_type) + ":" + enc;
    quoted(text.data(), text.size());
  }

  void double_value(double d) {
    std::string t = my_double_text(d);
    if (t.find_first_of(".e") == std::string::npos) t += ".0";
    out += t;
  }

  /// A scalar or container of type `type` whose bytes start at `in`.
  void scalar_or_container(uint8_t type, cursor& in, int depth) {
    switch (type) {
      case small_object: case large_object: container(in, true, type == large_object, depth); break;
      case small_array: case large_array: container(in, false, type == large_array, depth); break;
      case literal: {
        uint8_t l = in.u8("JSON literal");
        if (l == 0) out += "null";
        else if (l == 1) out += "true";
        else if (l == 2) out += "false";
        else fail("bad JSON literal " + std::to_string(l) + " at offset " + std::to_string(in.offset() - 1));
        break;
      }
      case int16: out += std::to_string(static_cast<int16_t>(in.u16("JSON int16"))); break;
      case uint16: out += std::to_string(in.u16("JSON uint16")); break;
      case int32: out += std::to_string(static_cast<int32_t>(in.u32("JSON int32"))); break;
      case uint32: out += std::to_string(in.u32("JSON uint32")); break;
      case int64: out += std::to_string(static_cast<int64_t>(in.u64("JSON int64"))); break;
      case uint64: out += std::to_string(in.u64("JSON uint64")); break;
      case double_: {
        uint64_t bits = in.u64("JSON double");
        double d;
        std::memcpy(&d, &bits, 8);
        double_value(d);
        break;
      }
      case string: {
        size_t n = var_length(in);
        quoted(in.take(n, "JSON string"), n);
        break;
      }
      case opaque: opaque_value(in); break;
      default:
        fail("bad JSON type 0x" + cursor::hex(type) + " at offset " + std::to_string(in.offset()));
    }
  }

  /// An object or array; `in` starts at its element count and holds at
  /// least its bytes (offsets are relative to that start).
  void container(cursor& in, bool object, bool large, int depth) {
    if (depth > max_depth) fail("JSON nested deeper than " + std::to_string(max_depth) + " levels");
    size_t base = in.offset();
    size_t w = large ? 4 : 2;
    const char* start = in.here();
    size_t count = in.le(w, "JSON element count");
    size_t size = in.le(w, "JSON size");
    if (size > in.left() + 2 * w)
      fail("JSON " + std::string(object ? "object" : "array") + " of " + std::to_string(size) +
           " bytes past the value's end at offset " + std::to_string(base));
    cursor whole(start, size, base);  // offsets are checked against this
    whole.skip(2 * w, "JSON header");
    size_t entries = (object ? count * (w + 2) : 0) + count * (1 + w);
    if (entries > whole.left())
      fail("JSON " + std::string(object ? "object" : "array") + " with " + std::to_string(count) +
           " elements does not fit its " + std::to_string(size) + " bytes at offset " +
           std::to_string(base));
    cursor keys = whole;
    cursor vals = whole;
    if (object) vals.skip(count * (w + 2), "JSON key entries");
    out += object ? '{' : '[';
    for (size_t i = 0; i < count; ++i) {
      if (i) out += ", ";
      if (object) {
        size_t off = keys.le(w, "JSON key offset");
        size_t len = keys.u16("JSON key length");
        if (off > size || len > size - off)
          fail("JSON key past its object's end at offset " + std::to_string(keys.offset()));
        quoted(start + off, len);
        out += ": ";
      }
      uint8_t type = vals.u8("JSON value type");
      bool inlined = type == literal || type == int16 || type == uint16 ||
                     (large && (type == int32 || type == uint32));
      if (inlined) {
        cursor v(vals.take(w, "JSON inline value"), w, vals.offset() - w);
        scalar_or_container(type, v, depth + 1);
      } else {
        size_t off = vals.le(w, "JSON value offset");
        if (off >= size)
          fail("JSON value past its container's end at offset " + std::to_string(vals.offset()));
        cursor v(start + off, size - off, base + off);
        scalar_or_container(type, v, depth + 1);
      }
    }
    out += object ? '}' : ']';
    in.skip(size - 2 * w, "JSON container");
  }
};

}  // namespace

std::string mysql_json_text(cursor& in) {
  if (in.empty()) return "null";
  json_writer j;
  uint8_t type = in.u8("JSON type");
  j.scalar_or_container(type, in, 0);
  return j.out;
}

}  // namespace trib::binlog
