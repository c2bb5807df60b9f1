// Schemas of a TABLE_MAP's time; see binlog_schema.hpp.

#include "actors/source/binlog_schema.hpp"

#include <algorithm>

#include "actors/source/binlog_cells.hpp"

namespace trib::binlog {

namespace {

int integer_width(column_type t) {
  switch (t) {
    case column_type::tiny: return 1;
    case column_type::short_int: return 2;
    case column_type::int24: return 3;
    case column_type::long_int: return 4;
    case column_type::longlong: return 8;
    default: return 0;
  }
}

int kind_width(value_kind k) {
  switch (k) {
    case value_kind::int8:
    case value_kind::uint8: return 1;
    case value_kind::int16:
    case value_kind::uint16: return 2;
    case value_kind::int32:
    case value_kind::uint32: return 4;  // INT and MEDIUMINT
    case value_kind::int64:
    case value_kind::uint64: return 8;
    default: return 0;
  }
}

bool is_unsigned(value_kind k) {
  return k == value_kind::uint8 || k == value_kind::uint16 || k == value_kind::uint32 ||
         k == value_kind::uint64;
}

bool is_blob(column_type t) {
  return t == column_type::blob || t == column_type::tiny_blob || t == column_type::medium_blob ||
         t == column_type::long_blob;
}

bool binary(const column_def& d) { return d.collation == binary_collation; }

/// Bytes per character of a collation's charset, for CHAR/VARCHAR(n):
/// the binlog logs the length in bytes. 1 for an unknown collation.
uint32_t max_char_bytes(uint32_t id) {
  if (id >= 2048) {
    switch ((id >> 8) & 7) {
      case 0: return 3;
      case 1: return 4;
      case 2: return 2;
      default: return 4;
    }
  }
  if (id == 45 || id == 46 || (id >= 224 && id <= 247) || (id >= 255 && id <= 323)) return 4;
  if (id == 33 || id == 83 || (id >= 192 && id <= 215) || id == 223) return 3;
  if (id == 35 || id == 90 || id == 159 || (id >= 128 && id <= 151)) return 2;
  if (id == 54 || id == 55 || id == 56 || id == 60 || id == 61 || id == 62 ||
      (id >= 101 && id <= 124) || (id >= 160 && id <= 183))
    return 4;
  return 1;
}

/// The first word of a type's spelling: "VARCHAR" of "VARCHAR(20)".
std::string family(const std::string& source_type) {
  auto end = source_type.find_first_of(" (");
  return source_type.substr(0, end);
}

std::string quoted_list(const std::vector<std::string>& labels) {
  std::string out;
  for (const auto& l : labels) {
    if (!out.empty()) out += ',';
    out += '\'';
    for (char c : l) out += c == '\'' ? std::string("''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

bool keeps(const std::vector<std::string>& keep, const std::string& name) {
  return keep.empty() || std::find(keep.begin(), keep.end(), name) != keep.end();
}

const column_info* named(const table_schema* t, const std::string& name) {
  if (!t) return nullptr;
  for (const auto& c : t->columns)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

bool column_matches(const column_info& c, const column_def& d) {
  // MariaDB's UUID, INET4 and INET6 log a binary string: the converter
  // refuses them with its own message, which a description from the map
  // (binary bytes) would hide.
  if (c.kind == value_kind::uuid || c.source_type.rfind("INET", 0) == 0)
    return d.real_type == column_type::string;
  if (!fits(c.kind, d)) return false;
  if (d.unsigned_flag >= 0 && integer_width(d.real_type) > 0 &&
      is_unsigned(c.kind) != (d.unsigned_flag == 1))
    return false;
  switch (c.kind) {
    case value_kind::int8:
    case value_kind::int16:
    case value_kind::int32:
    case value_kind::int64:
    case value_kind::uint8:
    case value_kind::uint16:
    case value_kind::uint32:
    case value_kind::uint64: {
      int w = integer_width(d.real_type);
      return kind_width(c.kind) == (w == 3 ? 4 : w) &&
             (w == 3) == (family(c.source_type) == "MEDIUMINT");
    }
    case value_kind::float64: return d.real_type == column_type::double_;
    case value_kind::decimal: return c.precision == d.precision && c.scale == d.scale;
    case value_kind::time:
    case value_kind::timestamp:
    case value_kind::timestamptz: return c.precision == d.fsp;
    case value_kind::bits: return c.precision == d.bits;
    case value_kind::enumeration:
    case value_kind::set: return d.labels.empty() || c.allowed == d.labels;
    case value_kind::json: return d.real_type == column_type::json || !binary(d);
    case value_kind::text:
      return !binary(d) && is_blob(d.real_type) == (family(c.source_type).find("TEXT") !=
                                                    std::string::npos);
    case value_kind::bytes:
      if (d.real_type == column_type::geometry) return true;
      return binary(d) &&
             is_blob(d.real_type) == (family(c.source_type).find("BLOB") != std::string::npos);
    default: return true;
  }
}

column_info describe_logged(const column_def& d) {
  column_info c;
  c.name = d.name;
  c.not_null = !d.nullable;
  bool u = d.unsigned_flag == 1;
  auto integer = [&](const char* name, value_kind s, value_kind us) {
    c.kind = u ? us : s;
    c.source_type = std::string(name) + (u ? " UNSIGNED" : "");
  };
  switch (d.real_type) {
    case column_type::tiny: integer("TINYINT", value_kind::int8, value_kind::uint8); break;
    case column_type::short_int:
      integer("SMALLINT", value_kind::int16, value_kind::uint16);
      break;
    case column_type::int24: integer("MEDIUMINT", value_kind::int32, value_kind::uint32); break;
    case column_type::long_int: integer("INT", value_kind::int32, value_kind::uint32); break;
    case column_type::longlong: integer("BIGINT", value_kind::int64, value_kind::uint64); break;
    case column_type::newdecimal:
      c.kind = value_kind::decimal;
      c.precision = d.precision;
      c.scale = d.scale;
      c.source_type = "DECIMAL(" + std::to_string(d.precision) + "," + std::to_string(d.scale) +
                      ")" + (u ? " UNSIGNED" : "");
      break;
    case column_type::float_:
      c.kind = value_kind::float32;
      c.source_type = "FLOAT";
      break;
    case column_type::double_:
      c.kind = value_kind::float64;
      c.source_type = "DOUBLE";
      break;
    case column_type::date:
    case column_type::newdate:
      c.kind = value_kind::date;
      c.source_type = "DATE";
      break;
    case column_type::year:
      c.kind = value_kind::year;
      c.source_type = "YEAR";
      break;
    case column_type::time:
    case column_type::time2:
    case column_type::datetime:
    case column_type::datetime2:
    case column_type::timestamp:
    case column_type::timestamp2: {
      bool time = d.real_type == column_type::time || d.real_type == column_type::time2;
      bool ts = d.real_type == column_type::timestamp || d.real_type == column_type::timestamp2;
      c.kind = time ? value_kind::time : ts ? value_kind::timestamptz : value_kind::timestamp;
      c.precision = d.fsp;
      c.source_type = time ? "TIME" : ts ? "TIMESTAMP" : "DATETIME";
      if (d.fsp > 0) c.source_type += "(" + std::to_string(d.fsp) + ")";
      break;
    }
    case column_type::bit:
      c.kind = value_kind::bits;
      c.precision = d.bits;
      c.source_type = "BIT(" + std::to_string(d.bits) + ")";
      break;
    case column_type::enum_:
    case column_type::set: {
      bool e = d.real_type == column_type::enum_;
      c.kind = e ? value_kind::enumeration : value_kind::set;
      c.allowed = d.labels;
      c.source_type = std::string(e ? "ENUM(" : "SET(") + quoted_list(d.labels) + ")";
      break;
    }
    case column_type::json:
      c.kind = value_kind::json;
      c.source_type = "JSON";
      break;
    case column_type::geometry:
      c.kind = value_kind::bytes;
      c.source_type = "GEOMETRY";
      break;
    case column_type::varchar:
    case column_type::var_string:
    case column_type::string: {
      bool var = d.real_type != column_type::string;
      c.kind = binary(d) ? value_kind::bytes : value_kind::text;
      auto n = d.max_length / max_char_bytes(d.collation);
      c.source_type = std::string(binary(d) ? (var ? "VARBINARY" : "BINARY")
                                            : (var ? "VARCHAR" : "CHAR")) +
                      "(" + std::to_string(n) + ")";
      break;
    }
    case column_type::blob:
    case column_type::tiny_blob:
    case column_type::medium_blob:
    case column_type::long_blob: {
      static const char* sizes[] = {"TINY", "", "MEDIUM", "LONG"};
      const char* size = d.pack_length >= 1 && d.pack_length <= 4 ? sizes[d.pack_length - 1] : "";
      c.kind = binary(d) ? value_kind::bytes : value_kind::text;
      c.source_type = std::string(size) + (binary(d) ? "BLOB" : "TEXT");
      break;
    }
    default:
      c.kind = value_kind::text;
      c.source_type = to_string(d.real_type);
  }
  return c;
}

std::optional<table_schema> schema_at(const table_schema& current, const table_map& map,
                                      const std::vector<std::string>& keep,
                                      const table_schema* newest) {
  std::vector<std::string> key;
  if (map.has_primary_key)
    for (auto i : map.primary_key)
      if (i < map.columns.size()) key.push_back(map.columns[i].name);
  std::vector<const column_def*> logged;
  for (const auto& d : map.columns)
    if (keeps(keep, d.name) || std::find(key.begin(), key.end(), d.name) != key.end())
      logged.push_back(&d);

  bool same = logged.size() == current.columns.size();
  for (size_t i = 0; same && i < logged.size(); ++i)
    same = current.columns[i].name == logged[i]->name &&
           column_matches(current.columns[i], *logged[i]);
  if (same && map.has_primary_key) same = key == current.primary_key;
  if (same) return std::nullopt;

  table_schema t = current;
  t.columns.clear();
  for (const auto* d : logged) {
    if (auto* c = named(&current, d->name); c && column_matches(*c, *d))
      t.columns.push_back(*c);
    else if (auto* n = named(newest, d->name); n && column_matches(*n, *d))
      t.columns.push_back(*n);
    else
      t.columns.push_back(describe_logged(*d));
  }
  auto present = [&](const std::vector<std::string>& cols) {
    return std::all_of(cols.begin(), cols.end(),
                       [&](const std::string& c) { return column_index(t, c) >= 0; });
  };
  if (map.has_primary_key) t.primary_key = key;
  else if (!present(t.primary_key)) t.primary_key.clear();
  std::vector<std::vector<std::string>> uks;
  for (auto& uk : current.unique_keys)
    if (present(uk)) uks.push_back(uk);
  t.unique_keys = std::move(uks);
  if (!present(t.row_identifier_key)) t.row_identifier_key.clear();
  if (!t.split_key.empty() && column_index(t, t.split_key) < 0) t.split_key.clear();
  return t;
}

}  // namespace trib::binlog
