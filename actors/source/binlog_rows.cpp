// Rows events and the binary form of each column type (MariaDB
// Field::pack / Field_*::unpack; MySQL libbinlogevents rows events and
// my_time.cc / decimal.cc for the temporal and DECIMAL layouts).

#include "actors/source/binlog_rows.hpp"

#include <zlib.h>

#include <cstring>

#include "actors/source/binlog_cursor.hpp"
#include "actors/source/binlog_json.hpp"
#include "actors/source/mariadb_text.hpp"

namespace trib::binlog {

const char* to_string(rows_kind k) {
  switch (k) {
    case rows_kind::write: return "insert";
    case rows_kind::update: return "update";
    case rows_kind::remove: return "delete";
  }
  return "?";
}

namespace {

/// Bytes of a DECIMAL group of 0..9 digits.
constexpr int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

/// DECIMAL(precision, scale) in the server's binary form: groups of 9
/// digits in 4 big-endian bytes (a partial group in fewer), the integer part
/// first, the sign in the inverted top bit, negatives stored inverted.
std::string read_decimal(cursor& in, int precision, int scale, const char* what) {
  if (precision < 1 || precision > 65 || scale > 38 || scale > precision)
    fail("bad DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ") in " +
         what);
  int intg = precision - scale;
  int intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
  size_t size = static_cast<size_t>(intg0 * 4 + dig2bytes[intg0x] + frac0 * 4 + dig2bytes[frac0x]);
  std::string b = in.str(size, what);
  bool negative = (static_cast<unsigned char>(b[0]) & 0x80) == 0;
  b[0] = static_cast<char>(b[0] ^ 0x80);
  if (negative)
    for (auto& c : b) c = static_cast<char>(~c);
  size_t at = 0;
  auto group = [&](int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(b[at++]);
    return v;
  };
  auto digits = [](uint64_t v, int width) {
    std::string s = std::to_string(v);
    if (static_cast<int>(s.size()) > width)
      fail("bad DECIMAL digits " + s + " in a group of " + std::to_string(width));
    return std::string(static_cast<size_t>(width) - s.size(), '0') + s;
  };
  std::string ip;
  if (intg0x) ip += digits(group(dig2bytes[intg0x]), intg0x);
  for (int i = 0; i < intg0; ++i) ip += digits(group(4), 9);
  size_t nz = ip.find_first_not_of('0');
  ip = nz == std::string::npos ? "0" : ip.substr(nz);
  std::string fp;
  for (int i = 0; i < frac0; ++i) fp += digits(group(4), 9);
  if (frac0x) fp += digits(group(dig2bytes[frac0x]), frac0x);
  std::string out = negative ? "-" : "";
  out += ip;
  if (scale > 0) out += "." + fp;
  return out;
}

/// The fraction of TIME2/DATETIME2/TIMESTAMP2: (fsp+1)/2 big-endian bytes,
/// as microseconds (signed for TIME2's negative values).
int64_t read_fraction(cursor& in, unsigned fsp, const char* what) {
  switch ((fsp + 1) / 2) {
    case 0: return 0;
    case 1: return static_cast<int64_t>(in.be(1, what)) * 10000;
    case 2: return static_cast<int64_t>(in.be(2, what)) * 100;
    default: return static_cast<int64_t>(in.be(3, what));
  }
}

/// Civil date of a day count since 1970-01-01 (proleptic Gregorian).
void civil_from_days(int64_t z, unsigned& y, unsigned& m, unsigned& d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t year = static_cast<int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<unsigned>(year + (m <= 2));
}

std::string timestamp_text(uint64_t seconds, uint32_t micros, unsigned fsp) {
  if (seconds == 0 && micros == 0) return my_datetime_text(0, 0, 0, 0, 0, 0, 0, fsp);
  unsigned y, m, d;
  civil_from_days(static_cast<int64_t>(seconds / 86400), y, m, d);
  uint64_t s = seconds % 86400;
  return my_datetime_text(y, m, d, static_cast<unsigned>(s / 3600),
                          static_cast<unsigned>(s / 60 % 60), static_cast<unsigned>(s % 60),
                          micros, fsp);
}

std::string time2_text(cursor& in, unsigned fsp, const char* what) {
  // 3 bytes: sign bit, 1 unused, 10 hours, 6 minutes, 6 seconds, offset by
  // 0x800000; negative values carry a negative fraction, hence the borrow.
  int64_t intpart = static_cast<int64_t>(in.be(3, what)) - 0x800000;
  int64_t packed = intpart * (int64_t{1} << 24);
  unsigned bytes = (fsp + 1) / 2;
  if (bytes == 1 || bytes == 2) {
    int64_t frac = static_cast<int64_t>(in.be(bytes, what));
    if (intpart < 0 && frac) {
      ++intpart;
      frac -= bytes == 1 ? 0x100 : 0x10000;
    }
    packed = intpart * (int64_t{1} << 24) + frac * (bytes == 1 ? 10000 : 100);
  } else if (bytes == 3) {
    // The six bytes read as one number: the fraction sits below the integer part.
    packed += static_cast<int64_t>(in.be(3, what));
  }
  bool negative = packed < 0;
  if (negative) packed = -packed;
  uint64_t hms = static_cast<uint64_t>(packed) >> 24;
  auto micros = static_cast<uint32_t>(static_cast<uint64_t>(packed) % (1u << 24));
  return my_time_text(negative, static_cast<unsigned>((hms >> 12) % 1024),
                      static_cast<unsigned>((hms >> 6) % 64), static_cast<unsigned>(hms % 64),
                      micros, fsp);
}

std::string datetime2_text(cursor& in, unsigned fsp, const char* what) {
  // 5 bytes: sign, 17 bits year*13+month, 5 day, 5 hour, 6 minute, 6 second.
  int64_t intpart = static_cast<int64_t>(in.be(5, what)) - 0x8000000000;
  int64_t frac = read_fraction(in, fsp, what);
  if (intpart < 0) fail(std::string("negative DATETIME2 in ") + what);
  auto v = static_cast<uint64_t>(intpart);
  uint64_t ymd = v >> 17, hms = v % (1 << 17);
  uint64_t ym = ymd >> 5;
  return my_datetime_text(static_cast<unsigned>(ym / 13), static_cast<unsigned>(ym % 13),
                          static_cast<unsigned>(ymd % 32), static_cast<unsigned>(hms >> 12),
                          static_cast<unsigned>((hms >> 6) % 64), static_cast<unsigned>(hms % 64),
                          static_cast<uint32_t>(frac), fsp);
}

}  // namespace

void decode_value(cursor& in, const column_def& col, value& out) {
  out.null = false;
  const char* w = "column value";
  switch (col.real_type) {
    case column_type::tiny: out.integer = in.le(1, w); break;
    case column_type::short_int: out.integer = in.le(2, w); break;
    case column_type::int24: out.integer = in.le(3, w); break;
    case column_type::long_int: out.integer = in.le(4, w); break;
    case column_type::longlong: out.integer = in.le(8, w); break;
    case column_type::year: out.integer = in.le(1, w); break;
    case column_type::float_: {
      if (col.pack_length != 4 && col.pack_length != 0)
        fail("FLOAT of " + std::to_string(col.pack_length) + " bytes");
      auto bits = static_cast<uint32_t>(in.le(4, w));
      float f;
      std::memcpy(&f, &bits, 4);
      out.real = f;
      break;
    }
    case column_type::double_: {
      uint64_t bits = in.le(8, w);
      std::memcpy(&out.real, &bits, 8);
      break;
    }
    case column_type::newdecimal: out.text = read_decimal(in, col.precision, col.scale, w); break;
    case column_type::date:
    case column_type::newdate: {
      auto v = static_cast<unsigned>(in.le(3, w));
      out.text = my_date_text(v >> 9, (v >> 5) & 15, v & 31);
      break;
    }
    case column_type::time2: out.text = time2_text(in, col.fsp, w); break;
    case column_type::datetime2: out.text = datetime2_text(in, col.fsp, w); break;
    case column_type::timestamp2: {
      uint64_t s = in.be(4, w);
      auto frac = static_cast<uint32_t>(read_fraction(in, col.fsp, w));
      out.text = timestamp_text(s, frac, col.fsp);
      break;
    }
    case column_type::timestamp: out.text = timestamp_text(in.le(4, w), 0, 0); break;
    case column_type::datetime: {
      uint64_t v = in.le(8, w);  // YYYYMMDDhhmmss as a number
      uint64_t d = v / 1000000, t = v % 1000000;
      out.text = my_datetime_text(static_cast<unsigned>(d / 10000), static_cast<unsigned>(d / 100 % 100),
                                  static_cast<unsigned>(d % 100), static_cast<unsigned>(t / 10000),
                                  static_cast<unsigned>(t / 100 % 100), static_cast<unsigned>(t % 100), 0, 0);
      break;
    }
    case column_type::time: {
      auto raw = static_cast<uint32_t>(in.le(3, w));  // signed HHMMSS in 3 bytes
      int32_t v = (raw & 0x800000) ? static_cast<int32_t>(raw | 0xff000000u) : static_cast<int32_t>(raw);
      bool negative = v < 0;
      uint32_t a = negative ? static_cast<uint32_t>(-v) : static_cast<uint32_t>(v);
      out.text = my_time_text(negative, a / 10000, a / 100 % 100, a % 100, 0, 0);
      break;
    }
    case column_type::bit: {
      size_t bytes = (col.bits + 7u) / 8u;
      out.text = in.str(bytes, w);
      break;
    }
    case column_type::enum_:
    case column_type::set:
      if (col.pack_length < 1 || col.pack_length > 8)
        fail(to_string(col.real_type) + " of " + std::to_string(col.pack_length) + " bytes");
      out.integer = in.le(col.pack_length, w);
      break;
    case column_type::string: {
      size_t len = in.le(col.max_length > 255 ? 2 : 1, "string length");
      out.text = in.str(len, w);
      break;
    }
    case column_type::varchar:
    case column_type::var_string: {
      size_t len = in.le(col.max_length > 255 ? 2 : 1, "string length");
      out.text = in.str(len, w);
      break;
    }
    case column_type::blob:
    case column_type::tiny_blob:
    case column_type::medium_blob:
    case column_type::long_blob:
    case column_type::geometry:
    case column_type::json: {
      if (col.pack_length < 1 || col.pack_length > 4)
        fail(to_string(col.real_type) + " with a length of " + std::to_string(col.pack_length) +
             " bytes");
      size_t len = in.le(col.pack_length, "blob length");
      if (col.real_type == column_type::json) {
        cursor j(in.take(len, "JSON value"), len, in.offset() - len);
        out.text = mysql_json_text(j);
      } else {
        out.text = in.str(len, w);
      }
      break;
    }
    default:
      fail("cannot decode column type " + to_string(col.real_type) + " at offset " +
           std::to_string(in.offset()));
  }
}

std::string uncompress_mariadb(cursor& in, const char* what) {
  size_t at = in.offset();
  uint8_t head = in.u8(what);
  unsigned len_bytes = head & 7, alg = (head >> 4) & 7;
  if (alg != 0 || len_bytes < 1 || len_bytes > 4)
    fail(std::string("unknown compression (header 0x") + cursor::hex(head) + ") of " + what +
         " at offset " + std::to_string(at));
  uint64_t size = in.be(len_bytes, what);
  // A compressed event cannot exceed max_allowed_packet (1 GB).
  if (size > (uint64_t{1} << 30)) fail("compressed " + std::string(what) + " claims " + std::to_string(size) + " bytes");
  std::string out(size, '\0');
  uLongf out_len = static_cast<uLongf>(size);
  size_t src_len = in.left();
  const char* src = in.take(src_len, what);
  int rc = ::uncompress(reinterpret_cast<Bytef*>(out.data()), &out_len,
                        reinterpret_cast<const Bytef*>(src), static_cast<uLong>(src_len));
  if (rc != Z_OK || out_len != size)
    fail("cannot uncompress " + std::string(what) + " at offset " + std::to_string(at) +
         " (zlib " + std::to_string(rc) + ")");
  return out;
}

uint64_t peek_rows_table_id(const char* body, size_t size, size_t table_id_size) {
  cursor in(body, size, 19);
  return in.le(table_id_size, "table id");
}

namespace {

std::vector<bool> read_bitmap(cursor& in, size_t n, const char* what) {
  const char* b = in.take((n + 7) / 8, what);
  std::vector<bool> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = (static_cast<unsigned char>(b[i / 8]) >> (i % 8)) & 1;
  return out;
}

void read_image(cursor& in, const table_map& map, const std::vector<bool>& present,
                size_t present_count, row_image& out) {
  size_t n = map.columns.size();
  out.values.assign(n, value{});
  auto nulls = read_bitmap(in, present_count, "row null bitmap");
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    auto& v = out.values[i];
    if (!present[i]) {
      v.present = false;
      continue;
    }
    if (nulls[k++]) continue;
    try {
      decode_value(in, map.columns[i], v);
    } catch (const error& e) {
      std::string col = map.columns[i].name.empty() ? "column " + std::to_string(i + 1)
                                                    : "column " + map.columns[i].name;
      throw error(failure_code::bad_data, std::string(e.what()) + " (" + col + " of " +
                                            map.database + "." + map.table + ")");
    }
  }
}

void read_rows(cursor& rows, rows_kind kind, const table_map& map,
               const std::vector<bool>& present, size_t n_before,
               const std::vector<bool>& present_after, size_t n_after, rows_event& ev);

size_t count_set(const std::vector<bool>& bits) {
  size_t n = 0;
  for (bool b : bits) n += b;
  return n;
}

}  // namespace

rows_event parse_rows(cursor& in, const rows_layout& layout, const table_map& map) {
  rows_event ev;
  ev.kind = layout.kind;
  ev.table_id = in.le(layout.table_id_size, "table id");
  ev.flags = in.u16("rows flags");
  if (ev.table_id != map.table_id)
    fail("rows event of table id " + std::to_string(ev.table_id) + " decoded with the map of " +
         std::to_string(map.table_id));
  if (layout.v2) {
    size_t extra = in.u16("extra data length");
    if (extra < 2) fail("bad extra data length " + std::to_string(extra) + " at offset " + std::to_string(in.offset() - 2));
    in.skip(extra - 2, "extra data");
  }
  ev.column_count = in.count("column count", 0);
  if (ev.column_count != map.columns.size())
    fail("rows event of " + map.database + "." + map.table + " has " +
         std::to_string(ev.column_count) + " columns, its TABLE_MAP " +
         std::to_string(map.columns.size()));
  auto present = read_bitmap(in, ev.column_count, "columns-present bitmap");
  std::vector<bool> present_after;
  if (layout.kind == rows_kind::update)
    present_after = read_bitmap(in, ev.column_count, "after-image columns-present bitmap");
  size_t n_before = count_set(present), n_after = count_set(present_after);

  std::string unpacked;
  cursor rows = in;
  if (layout.compressed) {
    unpacked = uncompress_mariadb(in, "compressed rows");
    rows = cursor(unpacked.data(), unpacked.size(), 0);
  }
  try {
    read_rows(rows, layout.kind, map, present, n_before, present_after, n_after, ev);
  } catch (const error& e) {
    if (!has_old_temporal(map)) throw;
    throw error(e.code(), std::string(e.what()) + "; " + old_temporal_advice(map));
  }
  return ev;
}

std::string old_temporal_advice(const table_map& map) {
  return map.database + "." + map.table +
         " has TIME/DATETIME/TIMESTAMP columns in MariaDB's pre-10.1 format, whose "
         "fractional-second variants the binlog does not describe: rebuild the table in the "
         "current format (SET GLOBAL mysql56_temporal_format = ON; ALTER TABLE " + map.database +
         "." + map.table + " FORCE)";
}

bool has_old_temporal(const table_map& map) {
  for (const auto& c : map.columns)
    if (c.real_type == column_type::time || c.real_type == column_type::datetime ||
        c.real_type == column_type::timestamp)
      return true;
  return false;
}

namespace {

void read_rows(cursor& rows, rows_kind kind, const table_map& map,
               const std::vector<bool>& present, size_t n_before,
               const std::vector<bool>& present_after, size_t n_after, rows_event& ev) {
  while (!rows.empty()) {
    switch (kind) {
      case rows_kind::write:
        ev.after.emplace_back();
        read_image(rows, map, present, n_before, ev.after.back());
        break;
      case rows_kind::remove:
        ev.before.emplace_back();
        read_image(rows, map, present, n_before, ev.before.back());
        break;
      case rows_kind::update:
        ev.before.emplace_back();
        read_image(rows, map, present, n_before, ev.before.back());
        ev.after.emplace_back();
        read_image(rows, map, present_after, n_after, ev.after.back());
        break;
    }
  }
}

}  // namespace

}  // namespace trib::binlog
