// PostgreSQL text -> canonical text; see pg_text.hpp.

#include "actors/source/pg_text.hpp"

#include "messages/failure.hpp"

namespace trib {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const char* pg_canonical_options() {
  // DateStyle ISO alone: the field order (MDY/YMD) only matters for input
  // and non-ISO output.
  return "-c bytea_output=hex -c TimeZone=UTC -c IntervalStyle=iso_8601 -c DateStyle=ISO";
}

std::string pg_decode_bytea(const char* v, size_t len) {
  if (len < 2 || v[0] != '\\' || v[1] != 'x')
    throw error(failure_code::bad_data, "reads bytea not in hex format");
  if (len % 2 != 0) throw error(failure_code::bad_data, "reads bytea of odd hex length");
  std::string out;
  out.resize((len - 2) / 2);
  for (size_t i = 0, j = 2; i < out.size(); ++i, j += 2) {
    int hi = hex_value(v[j]), lo = hex_value(v[j + 1]);
    if (hi < 0 || lo < 0) throw error(failure_code::bad_data, "reads bad hex in bytea");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string pg_canonical_text(value_kind kind, const char* v, size_t len) {
  if (kind == value_kind::bytes) return pg_decode_bytea(v, len);
  return std::string(v, len);
}

value_kind pg_builtin_kind(uint32_t type_oid) {
  constexpr uint32_t bytea_oid = 17;
  return type_oid == bytea_oid ? value_kind::bytes : value_kind::text;
}

uint64_t pg_parse_lsn(const std::string& text) {
  auto slash = text.find('/');
  auto hex_run = [&](size_t from, size_t to) {
    if (to <= from || to - from > 8) return false;
    for (size_t i = from; i < to; ++i)
      if (hex_value(text[i]) < 0) return false;
    return true;
  };
  if (slash == std::string::npos || !hex_run(0, slash) || !hex_run(slash + 1, text.size()))
    throw error(failure_code::bad_data, "reads malformed lsn '" + text + "'");
  uint64_t hi = std::stoull(text.substr(0, slash), nullptr, 16);
  uint64_t lo = std::stoull(text.substr(slash + 1), nullptr, 16);
  return hi << 32 | lo;
}

}  // namespace trib
