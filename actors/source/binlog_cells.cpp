// Row images to canonical cells; see binlog_cells.hpp.

#include "actors/source/binlog_cells.hpp"

#include <cstdint>

#include "actors/source/mariadb_text.hpp"
#include "messages/failure.hpp"

namespace trib::binlog {

namespace {

[[noreturn]] void bad(const std::string& what) {
  throw error(failure_code::bad_data, "binlog: " + what);
}

bool is_integer(column_type t) {
  return t == column_type::tiny || t == column_type::short_int || t == column_type::int24 ||
         t == column_type::long_int || t == column_type::longlong;
}

bool is_string(column_type t) {
  switch (t) {
    case column_type::string:
    case column_type::varchar:
    case column_type::var_string:
    case column_type::blob:
    case column_type::tiny_blob:
    case column_type::medium_blob:
    case column_type::long_blob: return true;
    default: return false;
  }
}

int width_of(column_type t) {
  switch (t) {
    case column_type::tiny: return 1;
    case column_type::short_int: return 2;
    case column_type::int24: return 3;
    case column_type::long_int: return 4;
    default: return 8;
  }
}

void put_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

/// MariaDB's latin1 is Windows-1252; 0x80-0x9F map to these code points.
constexpr uint16_t cp1252_high[32] = {
  0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
  0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
  0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178};

enum class charset : uint8_t { passthrough, latin1, ucs2, utf16, utf16le, utf32, other };

bool in_list(uint32_t id, std::initializer_list<uint32_t> ids) {
  for (uint32_t x : ids)
    if (x == id) return true;
  return false;
}

/// The charset of a collation id (MariaDB 10.11's information_schema
/// .COLLATIONS; MySQL 8's utf8mb4 collations 255-323; MariaDB's UCA 14.0
/// collations from 2048 on, charset in bits 8-10).
charset charset_of(uint32_t id) {
  if (id == 0 || id == binary_collation) return charset::passthrough;
  if (id >= 2048) {
    switch ((id >> 8) & 7) {
      case 0:
      case 1: return charset::passthrough;  // utf8mb3, utf8mb4
      case 2: return charset::ucs2;
      case 3: return charset::utf16;
      case 4: return charset::utf32;
      default: return charset::other;
    }
  }
  if (id >= 255 && id <= 323 && !in_list(id, {248, 249, 250})) return charset::passthrough;
  if (in_list(id, {33,  83,  45,  46,   11,   65,   1035, 1089, 576,  577,  578,
                   608, 609, 610, 1057, 1107, 1216, 1238, 1069, 1070, 1248, 1270}) ||
      (id >= 192 && id <= 215) || id == 223 || (id >= 224 && id <= 247))
    return charset::passthrough;  // utf8mb3, utf8mb4, ascii
  if (in_list(id, {5, 8, 15, 31, 47, 48, 49, 94, 1032, 1071})) return charset::latin1;
  if (in_list(id, {35, 90, 159, 640, 641, 642, 1059, 1114, 1152, 1174}) || (id >= 128 && id <= 151))
    return charset::ucs2;
  if (in_list(id, {54, 55, 672, 673, 674, 1078, 1079, 1125, 1147}) || (id >= 101 && id <= 124))
    return charset::utf16;
  if (in_list(id, {56, 62, 1080, 1086})) return charset::utf16le;
  if (in_list(id, {60, 61, 736, 737, 738, 1084, 1085, 1184, 1206}) || (id >= 160 && id <= 183))
    return charset::utf32;
  return charset::other;
}

}  // namespace

bool fits(value_kind kind, const column_def& d) {
  column_type t = d.real_type;
  switch (kind) {
    case value_kind::int8:
    case value_kind::int16:
    case value_kind::int32:
    case value_kind::int64:
    case value_kind::uint8:
    case value_kind::uint16:
    case value_kind::uint32:
    case value_kind::uint64: return is_integer(t);
    case value_kind::year: return t == column_type::year;
    case value_kind::decimal: return t == column_type::newdecimal;
    case value_kind::float32: return t == column_type::float_;
    case value_kind::float64: return t == column_type::double_ || t == column_type::float_;
    case value_kind::text: return is_string(t);
    case value_kind::json: return is_string(t) || t == column_type::json;
    case value_kind::bytes: return is_string(t) || t == column_type::geometry;
    case value_kind::date: return t == column_type::date || t == column_type::newdate;
    case value_kind::time: return t == column_type::time2 || t == column_type::time;
    case value_kind::timestamp: return t == column_type::datetime2 || t == column_type::datetime;
    case value_kind::timestamptz:
      return t == column_type::timestamp2 || t == column_type::timestamp;
    case value_kind::bits: return t == column_type::bit;
    case value_kind::enumeration: return t == column_type::enum_;
    case value_kind::set: return t == column_type::set;
    default: return false;
  }
}

std::string text_to_utf8(uint32_t collation, const std::string& bytes) {
  charset cs = charset_of(collation);
  if (cs == charset::passthrough) return bytes;
  std::string out;
  out.reserve(bytes.size() * 2);
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])); };
  switch (cs) {
    case charset::latin1:
      for (size_t i = 0; i < bytes.size(); ++i) {
        uint32_t c = b(i);
        put_utf8(out, c >= 0x80 && c < 0xa0 ? cp1252_high[c - 0x80] : c);
      }
      return out;
    case charset::ucs2:
    case charset::utf16:
    case charset::utf16le: {
      if (bytes.size() % 2) bad("odd length UTF-16 text");
      bool le = cs == charset::utf16le;
      for (size_t i = 0; i < bytes.size(); i += 2) {
        uint32_t u = le ? b(i) | b(i + 1) << 8 : b(i) << 8 | b(i + 1);
        if (u >= 0xd800 && u < 0xdc00 && i + 3 < bytes.size()) {
          uint32_t lo = le ? b(i + 2) | b(i + 3) << 8 : b(i + 2) << 8 | b(i + 3);
          if (lo >= 0xdc00 && lo < 0xe000) {
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            i += 2;
          }
        }
        put_utf8(out, u);
      }
      return out;
    }
    case charset::utf32:
      if (bytes.size() % 4) bad("UTF-32 text of a length not a multiple of 4");
      for (size_t i = 0; i < bytes.size(); i += 4)
        put_utf8(out, b(i) << 24 | b(i + 1) << 16 | b(i + 2) << 8 | b(i + 3));
      return out;
    default:
      bad("text in the charset of collation " + std::to_string(collation) +
          ", which the binlog decoder does not convert to UTF-8 (it converts utf8mb4, utf8mb3, "
          "ascii, latin1, ucs2, utf16, utf16le and utf32)");
  }
}

row_converter::row_converter(const table_schema& schema, const table_map& map,
                             const std::vector<std::string>* all_columns)
  : table_(to_string(schema.id)), schema_(schema), map_(map) {
  for (size_t j = 0; j < schema_.columns.size(); ++j) {
    const auto& c = schema_.columns[j];
    size_t index = map_.columns.size();
    if (map_.has_names) {
      for (size_t i = 0; i < map_.columns.size(); ++i)
        if (map_.columns[i].name == c.name) index = i;
    } else if (all_columns) {
      if (all_columns->size() != map_.columns.size())
        bad("TABLE_MAP of " + table_ + " has " + std::to_string(map_.columns.size()) +
            " columns, the table's column list " + std::to_string(all_columns->size()));
      for (size_t i = 0; i < all_columns->size(); ++i)
        if ((*all_columns)[i] == c.name) index = i;
    } else if (schema_.columns.size() == map_.columns.size()) {
      index = j;
    } else {
      bad("TABLE_MAP of " + table_ +
          " has no column names (binlog_row_metadata is not FULL) "
          "and " +
          std::to_string(map_.columns.size()) + " columns where the schema reads " +
          std::to_string(schema_.columns.size()) + ": cannot match them");
    }
    if (index == map_.columns.size()) bad("TABLE_MAP of " + table_ + " has no column " + c.name);
    const auto& d = map_.columns[index];
    if (c.kind == value_kind::uuid || !fits(c.kind, d))
      bad("column " + c.name + " of " + table_ + " (" + c.source_type + ", " + to_string(c.kind) +
          ") is logged as " + to_string(d.real_type) +
          ", which the binlog decoder cannot "
          "turn into " +
          to_string(c.kind));
    // MariaDB's INET4, INET6 and UUID types log their binary record form
    // as a plain binary string; the snapshot reads their text.
    bool binary_of_text =
      c.kind != value_kind::bytes && is_string(d.real_type) && d.collation == binary_collation;
    for (const char* t : {"INET4", "INET6", "UUID"})
      binary_of_text |= c.source_type.rfind(t, 0) == 0;
    if (binary_of_text)
      bad("column " + c.name + " of " + table_ + " (" + c.source_type +
          ") is logged in a "
          "binary form the binlog decoder does not turn into the snapshot's text");
    bool old_temporal = d.real_type == column_type::time || d.real_type == column_type::datetime ||
                        d.real_type == column_type::timestamp;
    if (old_temporal && c.precision > 0)
      bad("column " + c.name + " of " + table_ + " (" + c.source_type +
          "): " + old_temporal_advice(map_));
    column_plan p;
    p.map_index = index;
    p.schema_index = j;
    p.schema_labels = !c.allowed.empty() || d.labels.empty();
    plan_.push_back(p);
  }
}

row row_converter::convert(const row_image& image) const {
  row out;
  convert(image, out);
  return out;
}

void row_converter::convert(const row_image& image, row& out) const {
  if (image.values.size() != map_.columns.size())
    bad("row image of " + table_ + " has " + std::to_string(image.values.size()) + " values for " +
        std::to_string(map_.columns.size()) + " columns");
  out.cells.resize(plan_.size());
  for (size_t j = 0; j < plan_.size(); ++j)
    convert_cell(plan_[j], image.values[plan_[j].map_index], out.cells[j]);
}

void row_converter::convert_cell(const column_plan& p, const value& v, cell& out) const {
  const column_info& c = schema_.columns[p.schema_index];
  const column_def& d = map_.columns[p.map_index];
  if (!v.present)
    bad("column " + c.name + " of " + table_ +
        " is not in the row image: set "
        "binlog_row_image=FULL on the source");
  out.null = v.null;
  out.text.clear();
  if (v.null) return;
  switch (c.kind) {
    case value_kind::int8:
    case value_kind::int16:
    case value_kind::int32:
    case value_kind::int64: {
      int bits = 8 * width_of(d.real_type);
      uint64_t raw = v.integer;
      if (bits < 64 && (raw >> (bits - 1)) & 1) raw |= ~uint64_t{0} << bits;  // sign-extend
      out.text = std::to_string(static_cast<int64_t>(raw));
      break;
    }
    case value_kind::uint8:
    case value_kind::uint16:
    case value_kind::uint32:
    case value_kind::uint64: out.text = std::to_string(v.integer); break;
    case value_kind::year:
      out.text = my_year_text(v.integer ? static_cast<unsigned>(v.integer) + 1900 : 0);
      break;
    case value_kind::float32:
    case value_kind::float64:
      // FLOAT(M,D) and DOUBLE(M,D) print their D digits.
      if (c.scale > 0)
        out.text = my_fixed_text(v.real, c.scale);
      else if (d.real_type == column_type::float_)
        out.text = my_float_text(v.real);
      else
        out.text = my_double_text(v.real);
      break;
    case value_kind::text:
    case value_kind::json:
      out.text = d.real_type == column_type::json ? v.text : text_to_utf8(d.collation, v.text);
      break;
    case value_kind::bytes:
      out.text = v.text;
      // BINARY(n) is stored without its trailing zero bytes; the server
      // pads it back when it returns it.
      if (d.real_type == column_type::string && out.text.size() < d.max_length)
        out.text.resize(d.max_length, '\0');
      break;
    case value_kind::timestamptz:
      out.text = v.text;
      my_timestamptz_text(out.text);
      break;
    case value_kind::bits: out.text = my_bits_text(v.text.data(), v.text.size(), d.bits); break;
    case value_kind::enumeration: {
      const auto& labels = p.schema_labels ? c.allowed : d.labels;
      if (v.integer == 0) break;  // the '' error value
      if (v.integer > labels.size())
        bad("ENUM value " + std::to_string(v.integer) + " of column " + c.name + " of " + table_ +
            " has no label (the column has " + std::to_string(labels.size()) + ")");
      out.text = labels[v.integer - 1];
      if (!p.schema_labels) out.text = text_to_utf8(d.collation, out.text);
      break;
    }
    case value_kind::set: {
      const auto& labels = p.schema_labels ? c.allowed : d.labels;
      for (size_t i = 0; i < 64; ++i) {
        if (!((v.integer >> i) & 1)) continue;
        if (i >= labels.size())
          bad("SET value " + std::to_string(v.integer) + " of column " + c.name + " of " + table_ +
              " has bit " + std::to_string(i + 1) + " without a label");
        if (!out.text.empty()) out.text += ',';
        out.text += p.schema_labels ? labels[i] : text_to_utf8(d.collation, labels[i]);
      }
      break;
    }
    case value_kind::decimal:
      out.text = v.text;
      // DECIMAL ZEROFILL prints its integer part padded to precision - scale.
      if (c.source_type.find("ZEROFILL") != std::string::npos) {
        size_t int_digits = out.text.find('.');
        if (int_digits == std::string::npos) int_digits = out.text.size();
        auto width = static_cast<size_t>(d.precision - d.scale);
        if (int_digits < width) out.text.insert(0, width - int_digits, '0');
      }
      break;
    default: out.text = v.text; break;  // date, time, timestamp: canonical already
  }
}

}  // namespace trib::binlog
