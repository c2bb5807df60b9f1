// open_source() and the catalog rules both source sessions share.

#include <algorithm>
#include <cctype>
#include <iterator>
#include <set>

#include "actors/log.hpp"
#include "actors/source/session_common.hpp"
#include "messages/failure.hpp"

namespace trib {

void table_reader::give_back(std::vector<row>&& rows) {
  // Rows beyond the pool's room are freed as they are.
  size_t room = spare_limit_ - std::min(spare_.size(), spare_limit_);
  if (rows.size() > room) rows.resize(room);
  // A cell that once held a long value keeps its buffer; release those, so
  // that refilled rows hide no more than max_spare_cell_bytes a cell beyond
  // the sizes the reader's memory budget counts.
  for (auto& r : rows)
    for (auto& c : r.cells)
      if (c.text.capacity() > max_spare_cell_bytes) std::string().swap(c.text);
  if (spare_.empty()) {
    spare_ = std::move(rows);
    return;
  }
  std::move(rows.begin(), rows.end(), std::back_inserter(spare_));
  rows.clear();
}

void table_reader::limit_spare(size_t rows) {
  spare_limit_ = std::min(rows, max_spare_rows);
  if (spare_.size() > spare_limit_) spare_.resize(spare_limit_);
}

row table_reader::take_row(size_t cells) {
  row r;
  if (!spare_.empty()) {
    r = std::move(spare_.back());
    spare_.pop_back();
  }
  r.cells.resize(cells);
  return r;
}

std::unique_ptr<source_session> open_source(const source_config& cfg) {
  switch (cfg.kind) {
    case source_kind::postgresql: return source_detail::open_postgres(cfg);
    case source_kind::mysql:
    case source_kind::mariadb: return source_detail::open_mariadb(cfg);
  }
  throw error(failure_code::config, "unknown source type");
}

source_position source_session::begin_snapshot_at(const std::string&,
                                                  const source_position&) {
  throw error(failure_code::internal, "this source cannot adopt an exported snapshot");
}

std::optional<std::pair<std::string, std::string>> source_session::integer_range(
  const table_schema& t, const std::string&, const std::string&) {
  throw error(failure_code::internal,
              "this source cannot plan split-key ranges of " + to_string(t.id));
}

std::string split_range_condition(source_kind kind, const std::string& column,
                                  const std::optional<int64_t>& lo,
                                  const std::optional<int64_t>& hi, bool with_nulls) {
  char q = kind == source_kind::postgresql ? '"' : '`';
  std::string col(1, q);
  for (char c : column) {
    if (c == q) col += q;
    col += c;
  }
  col += q;
  std::string range;
  if (lo) range = col + " >= " + std::to_string(*lo);
  if (hi) range += (range.empty() ? "" : " AND ") + col + " < " + std::to_string(*hi);
  if (with_nulls) return range.empty() ? "" : "(" + range + ") OR " + col + " IS NULL";
  return range;
}

namespace source_detail {

namespace {

bool part_matches(const std::string& wanted, const std::string& actual) {
  return wanted.empty() || wanted == actual;
}

bool catalog_matches(const filter_catalog& fc, const table_id& id) {
  if (!part_matches(fc.catalog, id.catalog)) return false;
  // MariaDB tables have no schema: Arcion's MySQL filters name the database
  // as catalog and any schema they carry is not a second level.
  return id.schema.empty() || part_matches(fc.schema, id.schema);
}

std::string where(const filter_catalog& fc) {
  std::string out = fc.catalog;
  if (!fc.schema.empty()) out += (out.empty() ? "" : ".") + fc.schema;
  return out.empty() ? "any catalog" : out;
}

}  // namespace

bool filter_allows(const filter_config& filter, const table_id& id,
                   table_filter* out) {
  if (!filter.given()) {
    if (out) *out = table_filter{};
    return true;
  }
  for (const auto& fc : filter.allow) {
    if (!catalog_matches(fc, id)) continue;
    if (fc.tables.empty()) {
      if (out) *out = table_filter{};
      return true;
    }
    auto it = fc.tables.find(id.table);
    if (it == fc.tables.end()) continue;
    if (out) *out = table_filter{it->second.columns, it->second.conditions};
    return true;
  }
  return false;
}

std::vector<table_schema> finish_listing(std::vector<table_schema> all,
                                         const filter_config& filter,
                                         const extractor_config& ex) {
  // Filter tables that name nothing readable are worth a warning: a typo
  // there silently replicates less than the user meant.
  for (const auto& fc : filter.allow) {
    for (const auto& [name, ft] : fc.tables) {
      bool found = std::any_of(all.begin(), all.end(), [&](const table_schema& t) {
        return t.id.table == name && catalog_matches(fc, t.id);
      });
      if (!found)
        log::warn("skips filter table " + name + " of " + where(fc) +
                  ": no such table, or the user cannot read it");
    }
  }

  std::vector<table_schema> out;
  for (auto& t : all) {
    table_filter tf;
    if (!filter_allows(filter, t.id, &tf)) continue;

    // The extractor's settings first: the row-identifier-key takes part in
    // choosing the order columns that the column filter must keep.
    for (const auto& ec : ex.snapshot.per_table_config) {
      if (!part_matches(ec.catalog, t.id.catalog)) continue;
      if (!t.id.schema.empty() && !part_matches(ec.schema, t.id.schema)) continue;
      auto it = ec.tables.find(t.id.table);
      if (it == ec.tables.end()) continue;
      t.split_key = it->second.split_key;
      t.row_identifier_key = it->second.row_identifier_key;
      for (const auto& c : t.row_identifier_key)
        if (column_index(t, c) < 0)
          throw error(failure_code::config,
                      "row-identifier-key of " + to_string(t.id) +
                        " names column " + c + ", which the table does not have");
      if (!t.split_key.empty() && column_index(t, t.split_key) < 0)
        throw error(failure_code::config, "split-key of " + to_string(t.id) +
                                            " names column " + t.split_key +
                                            ", which the table does not have");
      break;
    }

    if (!tf.columns.empty()) {
      std::set<std::string> keep(tf.columns.begin(), tf.columns.end());
      for (const auto& c : tf.columns)
        if (column_index(t, c) < 0)
          throw error(failure_code::config, "filter allows column " + c + " of " +
                                              to_string(t.id) +
                                              ", which the table does not have");
      for (size_t i : order_columns(t)) keep.insert(t.columns[i].name);
      std::vector<column_info> cols;
      for (auto& c : t.columns)
        if (keep.count(c.name)) cols.push_back(std::move(c));
      t.columns = std::move(cols);
      std::vector<std::vector<std::string>> uks;
      for (auto& uk : t.unique_keys) {
        bool whole = std::all_of(uk.begin(), uk.end(), [&](const std::string& c) {
          return keep.count(c) > 0;
        });
        if (whole) uks.push_back(std::move(uk));
      }
      t.unique_keys = std::move(uks);
    }
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(),
            [](const table_schema& a, const table_schema& b) { return a.id < b.id; });
  return out;
}

std::string upper_outside_quotes(const std::string& s, char quote) {
  std::string out;
  out.reserve(s.size());
  bool quoted = false;
  for (char c : s) {
    if (c == quote) quoted = !quoted;  // a doubled quote flips twice: still right
    out += quoted ? c : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string to_hex(const std::string& raw) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

int effective_port(const source_config& cfg) {
  if (cfg.port > 0) return cfg.port;
  return cfg.kind == source_kind::postgresql ? 5432 : 3306;
}

std::string kind_name(source_kind k) {
  switch (k) {
    case source_kind::postgresql: return "postgresql";
    case source_kind::mysql: return "mysql";
    case source_kind::mariadb: return "mariadb";
  }
  return "source";
}

}  // namespace source_detail
}  // namespace trib
