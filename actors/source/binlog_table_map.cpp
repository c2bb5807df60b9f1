// TABLE_MAP parsing. Layouts: MySQL libbinlogevents Table_map_event (column
// metadata per type, optional metadata TLVs), MariaDB 10.5+ writes the same.

#include "actors/source/binlog_table_map.hpp"

#include "actors/source/binlog_cursor.hpp"

namespace trib::binlog {

std::string to_string(column_type t) {
  switch (t) {
    case column_type::decimal: return "DECIMAL";
    case column_type::tiny: return "TINY";
    case column_type::short_int: return "SHORT";
    case column_type::long_int: return "LONG";
    case column_type::float_: return "FLOAT";
    case column_type::double_: return "DOUBLE";
    case column_type::null: return "NULL";
    case column_type::timestamp: return "TIMESTAMP";
    case column_type::longlong: return "LONGLONG";
    case column_type::int24: return "INT24";
    case column_type::date: return "DATE";
    case column_type::time: return "TIME";
    case column_type::datetime: return "DATETIME";
    case column_type::year: return "YEAR";
    case column_type::newdate: return "NEWDATE";
    case column_type::varchar: return "VARCHAR";
    case column_type::bit: return "BIT";
    case column_type::timestamp2: return "TIMESTAMP2";
    case column_type::datetime2: return "DATETIME2";
    case column_type::time2: return "TIME2";
    case column_type::json: return "JSON";
    case column_type::newdecimal: return "NEWDECIMAL";
    case column_type::enum_: return "ENUM";
    case column_type::set: return "SET";
    case column_type::tiny_blob: return "TINY_BLOB";
    case column_type::medium_blob: return "MEDIUM_BLOB";
    case column_type::long_blob: return "LONG_BLOB";
    case column_type::blob: return "BLOB";
    case column_type::var_string: return "VAR_STRING";
    case column_type::string: return "STRING";
    case column_type::geometry: return "GEOMETRY";
  }
  return "TYPE_" + std::to_string(static_cast<unsigned>(t));
}

bool column_def::is_numeric() const {
  switch (real_type) {
    case column_type::tiny: case column_type::short_int: case column_type::int24:
    case column_type::long_int: case column_type::longlong: case column_type::newdecimal:
    case column_type::float_: case column_type::double_: return true;
    default: return false;
  }
}

bool column_def::is_character() const {
  switch (real_type) {
    case column_type::string: case column_type::var_string: case column_type::varchar:
    case column_type::blob: case column_type::tiny_blob: case column_type::medium_blob:
    case column_type::long_blob: return true;
    default: return false;
  }
}

namespace {

/// Reads the metadata of one column from the TABLE_MAP's metadata block.
void read_metadata(cursor& m, column_def& c, size_t index) {
  std::string what = "metadata of column " + std::to_string(index + 1);
  const char* w = what.c_str();
  switch (c.type) {
    case column_type::float_:
    case column_type::double_:
    case column_type::blob:
    case column_type::tiny_blob:
    case column_type::medium_blob:
    case column_type::long_blob:
    case column_type::geometry:
    case column_type::json:
      c.meta = m.u8(w);
      c.pack_length = static_cast<uint8_t>(c.meta);
      break;
    case column_type::varchar:
    case column_type::var_string:
      c.meta = m.u16(w);
      c.max_length = c.meta;
      break;
    case column_type::bit: {
      uint8_t rest = m.u8(w), bytes = m.u8(w);
      c.meta = static_cast<uint16_t>(rest | (bytes << 8));
      c.bits = static_cast<uint16_t>(bytes * 8 + rest);
      break;
    }
    case column_type::newdecimal:
      c.precision = m.u8(w);
      c.scale = m.u8(w);
      c.meta = static_cast<uint16_t>((c.precision << 8) | c.scale);
      break;
    case column_type::string:
    case column_type::enum_:
    case column_type::set: {
      uint8_t b0 = m.u8(w), b1 = m.u8(w);
      c.meta = static_cast<uint16_t>((b0 << 8) | b1);
      // CHAR longer than 255 bytes keeps the two high bits of its length
      // in bits 4-5 of the type byte, inverted.
      if ((b0 & 0x30) != 0x30) {
        c.real_type = static_cast<column_type>(b0 | 0x30);
        c.max_length = b1 | (static_cast<uint32_t>((b0 & 0x30) ^ 0x30) << 4);
      } else {
        c.real_type = static_cast<column_type>(b0);
        c.max_length = b1;
      }
      if (c.is_enum_or_set()) c.pack_length = b1;
      break;
    }
    case column_type::timestamp2:
    case column_type::datetime2:
    case column_type::time2:
      c.meta = m.u8(w);
      c.fsp = static_cast<uint8_t>(c.meta);
      break;
    default: break;
  }
}

/// Reads a bitmap of `n` bits, most significant bit first (optional metadata).
std::vector<bool> read_msb_bitmap(cursor& in, size_t n, const char* what) {
  const char* b = in.take((n + 7) / 8, what);
  std::vector<bool> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = (static_cast<unsigned char>(b[i / 8]) & (0x80 >> (i % 8))) != 0;
  return out;
}

template <class Pred>
std::vector<column_def*> columns_where(table_map& t, Pred pred) {
  std::vector<column_def*> out;
  for (auto& c : t.columns)
    if (pred(c)) out.push_back(&c);
  return out;
}

/// DEFAULT_CHARSET / ENUM_AND_SET_DEFAULT_CHARSET: a default collation, then
/// (index among `cols`, collation) pairs for the columns that differ.
void read_default_charset(cursor& in, std::vector<column_def*>& cols, const char* what) {
  auto def = static_cast<uint32_t>(in.packed(what));
  for (auto* c : cols) c->collation = def;
  while (!in.empty()) {
    uint64_t idx = in.packed(what);
    auto coll = static_cast<uint32_t>(in.packed(what));
    if (idx >= cols.size())
      fail("bad column index " + std::to_string(idx) + " in " + what + " at offset " +
           std::to_string(in.offset()));
    cols[idx]->collation = coll;
  }
}

void read_column_charset(cursor& in, std::vector<column_def*>& cols, const char* what) {
  for (auto* c : cols) c->collation = static_cast<uint32_t>(in.packed(what));
}

void read_labels(cursor& in, std::vector<column_def*>& cols, const char* what) {
  for (auto* c : cols) {
    size_t n = in.count(what);
    c->labels.clear();
    for (size_t i = 0; i < n; ++i) c->labels.push_back(in.packed_str(what));
  }
}

void read_optional(cursor& in, table_map& t) {
  auto numeric = columns_where(t, [](const column_def& c) { return c.is_numeric(); });
  auto character = columns_where(t, [](const column_def& c) { return c.is_character(); });
  auto enum_set = columns_where(t, [](const column_def& c) { return c.is_enum_or_set(); });
  auto sets = columns_where(t, [](const column_def& c) { return c.real_type == column_type::set; });
  auto enums =
    columns_where(t, [](const column_def& c) { return c.real_type == column_type::enum_; });
  auto geometry =
    columns_where(t, [](const column_def& c) { return c.real_type == column_type::geometry; });
  while (!in.empty()) {
    uint8_t type = in.u8("optional metadata type");
    size_t len = in.count("optional metadata length");
    cursor f(in.take(len, "optional metadata"), len, in.offset() - len);
    switch (type) {
      case 1: {  // SIGNEDNESS
        auto bits = read_msb_bitmap(f, numeric.size(), "signedness metadata");
        for (size_t i = 0; i < numeric.size(); ++i) numeric[i]->unsigned_flag = bits[i] ? 1 : 0;
        t.has_signedness = true;
        break;
      }
      case 2: read_default_charset(f, character, "default charset metadata"); t.has_charsets = true; break;
      case 3: read_column_charset(f, character, "column charset metadata"); t.has_charsets = true; break;
      case 4:  // COLUMN_NAME
        for (auto& c : t.columns) c.name = f.packed_str("column name metadata");
        t.has_names = true;
        break;
      case 5: read_labels(f, sets, "SET labels metadata"); t.has_labels = true; break;
      case 6: read_labels(f, enums, "ENUM labels metadata"); t.has_labels = true; break;
      case 7:
        for (auto* c : geometry) c->geometry_type = static_cast<uint32_t>(f.packed("geometry type metadata"));
        break;
      case 8:  // SIMPLE_PRIMARY_KEY
        t.primary_key.clear();
        t.primary_key_prefix.clear();
        while (!f.empty()) {
          t.primary_key.push_back(static_cast<uint32_t>(f.packed("primary key metadata")));
          t.primary_key_prefix.push_back(0);
        }
        t.has_primary_key = true;
        break;
      case 9:  // PRIMARY_KEY_WITH_PREFIX
        t.primary_key.clear();
        t.primary_key_prefix.clear();
        while (!f.empty()) {
          t.primary_key.push_back(static_cast<uint32_t>(f.packed("primary key metadata")));
          t.primary_key_prefix.push_back(static_cast<uint32_t>(f.packed("primary key metadata")));
        }
        t.has_primary_key = true;
        break;
      case 10: read_default_charset(f, enum_set, "ENUM/SET default charset metadata"); break;
      case 11: read_column_charset(f, enum_set, "ENUM/SET column charset metadata"); break;
      default: break;  // COLUMN_VISIBILITY (12) and newer: not needed
    }
  }
  for (uint32_t k : t.primary_key)
    if (k >= t.columns.size())
      fail("primary key metadata of " + t.database + "." + t.table + " names column " +
           std::to_string(k + 1) + " of " + std::to_string(t.columns.size()));
}

}  // namespace

table_map parse_table_map(cursor& in, size_t table_id_size) {
  table_map t;
  t.table_id = in.le(table_id_size, "table id");
  t.flags = in.u16("table map flags");
  t.database = in.str(in.u8("database name length"), "database name");
  in.skip(1, "database name terminator");
  t.table = in.str(in.u8("table name length"), "table name");
  in.skip(1, "table name terminator");
  size_t n = in.count("column count");
  const char* types = in.take(n, "column types");
  t.columns.resize(n);
  for (size_t i = 0; i < n; ++i) {
    t.columns[i].type = static_cast<column_type>(static_cast<unsigned char>(types[i]));
    t.columns[i].real_type = t.columns[i].type;
  }
  size_t meta_len = in.count("metadata length");
  cursor meta(in.take(meta_len, "column metadata"), meta_len, in.offset() - meta_len);
  for (size_t i = 0; i < n; ++i) read_metadata(meta, t.columns[i], i);
  if (!meta.empty())
    fail("column metadata of " + t.database + "." + t.table + " has " +
         std::to_string(meta.left()) + " bytes too many at offset " + std::to_string(meta.offset()));
  const char* nulls = in.take((n + 7) / 8, "null bitmap");
  for (size_t i = 0; i < n; ++i)
    t.columns[i].nullable = (static_cast<unsigned char>(nulls[i / 8]) >> (i % 8)) & 1;
  read_optional(in, t);
  return t;
}

}  // namespace trib::binlog
