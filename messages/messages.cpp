#include <algorithm>
#include <cstdio>

#include "messages/batch.hpp"
#include "messages/change.hpp"
#include "messages/failure.hpp"
#include "messages/position.hpp"
#include "messages/supervision.hpp"
#include "messages/table.hpp"

namespace trib {

const char* to_string(source_kind k) {
  switch (k) {
    case source_kind::postgresql: return "POSTGRESQL";
    case source_kind::mysql: return "MYSQL";
    case source_kind::mariadb: return "MARIADB";
  }
  return "?";
}

std::string to_string(const table_id& t) {
  std::string out;
  for (const std::string* part : {&t.catalog, &t.schema, &t.table}) {
    if (part->empty()) continue;
    if (!out.empty()) out += '.';
    out += *part;
  }
  return out;
}

const char* to_string(value_kind k) {
  switch (k) {
    case value_kind::boolean: return "boolean";
    case value_kind::int8: return "int8";
    case value_kind::int16: return "int16";
    case value_kind::int32: return "int32";
    case value_kind::int64: return "int64";
    case value_kind::uint8: return "uint8";
    case value_kind::uint16: return "uint16";
    case value_kind::uint32: return "uint32";
    case value_kind::uint64: return "uint64";
    case value_kind::float32: return "float32";
    case value_kind::float64: return "float64";
    case value_kind::decimal: return "decimal";
    case value_kind::text: return "text";
    case value_kind::bytes: return "bytes";
    case value_kind::date: return "date";
    case value_kind::time: return "time";
    case value_kind::timestamp: return "timestamp";
    case value_kind::timestamptz: return "timestamptz";
    case value_kind::interval: return "interval";
    case value_kind::json: return "json";
    case value_kind::uuid: return "uuid";
    case value_kind::enumeration: return "enumeration";
    case value_kind::set: return "set";
    case value_kind::bits: return "bits";
    case value_kind::year: return "year";
    case value_kind::array: return "array";
  }
  return "?";
}

int column_index(const table_schema& t, const std::string& name) {
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (t.columns[i].name == name) return static_cast<int>(i);
  return -1;
}

namespace {

// Indexes of the named columns, or empty when one is missing.
std::vector<size_t> indexes_of(const table_schema& t,
                               const std::vector<std::string>& names) {
  std::vector<size_t> out;
  for (const auto& n : names) {
    int i = column_index(t, n);
    if (i < 0) return {};
    out.push_back(static_cast<size_t>(i));
  }
  return out;
}

std::vector<size_t> not_null_unique_key(const table_schema& t) {
  for (const auto& uk : t.unique_keys) {
    auto idx = indexes_of(t, uk);
    if (idx.empty()) continue;
    bool all_not_null = std::all_of(idx.begin(), idx.end(), [&](size_t i) {
      return t.columns[i].not_null;
    });
    if (all_not_null) return idx;
  }
  return {};
}

}  // namespace

std::vector<size_t> key_columns(const table_schema& t) {
  if (auto pk = indexes_of(t, t.primary_key); !pk.empty()) return pk;
  if (auto uk = not_null_unique_key(t); !uk.empty()) return uk;
  return indexes_of(t, t.row_identifier_key);
}

std::vector<size_t> order_columns(const table_schema& t) {
  return key_columns(t);
}

const char* to_string(failure_action a) {
  switch (a) {
    case failure_action::retry: return "retry";
    case failure_action::skip_table: return "skip_table";
    case failure_action::in_doubt: return "in_doubt";
    case failure_action::stop_run: return "stop_run";
  }
  return "?";
}

const char* to_string(failure_code c) {
  switch (c) {
    case failure_code::config: return "config";
    case failure_code::connection: return "connection";
    case failure_code::server_busy: return "server_busy";
    case failure_code::auth: return "auth";
    case failure_code::wrong_type: return "wrong_type";
    case failure_code::bad_data: return "bad_data";
    case failure_code::source_state: return "source_state";
    case failure_code::state_exists: return "state_exists";
    case failure_code::internal: return "internal";
    case failure_code::target_lost: return "target_lost";
    case failure_code::stopped: return "stopped";
  }
  return "?";
}

bool is_retryable(failure_code c) {
  return c == failure_code::connection || c == failure_code::server_busy;
}

std::string format_lsn(uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

std::string to_string(const source_position& p) {
  if (!p.binlog_file.empty()) return p.binlog_file + ":" + std::to_string(p.binlog_pos);
  if (!p.gtid.empty()) return "GTID " + p.gtid;
  return format_lsn(p.lsn);
}

std::string format_commit(source_kind kind, uint64_t commit) {
  if (kind == source_kind::postgresql) return format_lsn(commit);
  return "binlog #" + std::to_string(commit >> 32) + ":" + std::to_string(commit & 0xffffffffu);
}

size_t row_bytes(const row& r) {
  size_t n = sizeof(row) + r.cells.size() * sizeof(cell);
  for (const auto& c : r.cells)
    // Short texts live inside the string object (small string optimization).
    if (c.text.size() > 15) n += c.text.size() + 1;
  return n;
}

uint64_t change_bytes(const row_change& c) {
  return sizeof(row_change) + row_bytes(c.before) + row_bytes(c.after) +
         c.source.position.binlog_file.size() + c.source.position.gtid.size() +
         c.source.query.size();
}

}  // namespace trib
