#include "actors/control/incremental_window.hpp"

#include <utility>

namespace trib {

std::string chunk_key_text(const row& r, const std::vector<size_t>& key_columns) {
  // Length-prefixed, so that no two keys join into the same text.
  std::string out;
  for (size_t i : key_columns) {
    const cell* c = i < r.cells.size() ? &r.cells[i] : nullptr;
    if (c == nullptr || c->null) {
      out += "N;";
      continue;
    }
    out += std::to_string(c->text.size());
    out += ':';
    out += c->text;
  }
  return out;
}

incremental_window::incremental_window(uint32_t table, std::vector<size_t> key_columns)
  : table_(table), key_columns_(std::move(key_columns)) {}

void incremental_window::set_rows(std::vector<row> rows) { rows_ = std::move(rows); }

void incremental_window::note(const row_change& c) {
  if (c.table != table_) return;
  if (c.op == change_op::truncate) {
    truncated_ = true;
    return;
  }
  // An update that moves a row to another key touches both: the chunk may
  // have read the row under either.
  if (c.has_before) touched_.insert(chunk_key_text(c.before, key_columns_));
  if (c.has_after) touched_.insert(chunk_key_text(c.after, key_columns_));
}

bool incremental_window::touched(const row& r) const {
  return truncated_ || touched_.count(chunk_key_text(r, key_columns_)) > 0;
}

std::vector<row_change> incremental_window::emit(const change_source& high) const {
  std::vector<row_change> out;
  if (truncated_) return out;
  out.reserve(rows_.size());
  for (const auto& r : rows_) {
    if (touched(r)) continue;
    row_change c;
    c.table = table_;
    c.op = change_op::read;
    c.has_after = true;
    c.after = r;
    c.source = high;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace trib
