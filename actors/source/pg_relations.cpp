#include "actors/source/pg_relations.hpp"

#include <algorithm>

namespace trib {

bool holds_marker(value_kind k) {
  switch (k) {
    case value_kind::text:
    case value_kind::json:
    case value_kind::bytes:
    case value_kind::enumeration:
      return true;
    default:
      return false;
  }
}

std::vector<int> map_relation(const pg_relation& rel, const table_schema& t) {
  std::vector<int> out(t.columns.size(), -1);
  for (size_t i = 0; i < t.columns.size(); ++i)
    for (size_t j = 0; j < rel.columns.size(); ++j)
      if (rel.columns[j].name == t.columns[i].name) {
        out[i] = static_cast<int>(j);
        break;
      }
  return out;
}

bool same_columns(const pg_relation& rel, const table_schema& t) {
  if (rel.columns.size() != t.columns.size()) return false;
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (rel.columns[i].name != t.columns[i].name) return false;
  return true;
}

row project(const pg_tuple& tuple, const std::vector<int>& columns, const table_schema& t,
            const pg_tuple* old, size_t* unavailable) {
  row out;
  out.cells.resize(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    int j = columns[i];
    if (j < 0 || static_cast<size_t>(j) >= tuple.values.cells.size()) continue;
    bool unchanged = static_cast<size_t>(j) < tuple.unchanged_toast.size() &&
                     tuple.unchanged_toast[static_cast<size_t>(j)];
    if (!unchanged) {
      out.cells[i] = tuple.values.cells[static_cast<size_t>(j)];
      continue;
    }
    // The server left the value out because the update did not touch it;
    // a full old image has it.
    if (old && static_cast<size_t>(j) < old->values.cells.size() &&
        !(static_cast<size_t>(j) < old->unchanged_toast.size() &&
          old->unchanged_toast[static_cast<size_t>(j)])) {
      out.cells[i] = old->values.cells[static_cast<size_t>(j)];
      continue;
    }
    if (unavailable) ++*unavailable;
    if (holds_marker(t.columns[i].kind)) out.cells[i] = make_cell(unavailable_value_marker);
  }
  return out;
}

row key_only(const row& after, const table_schema& t) {
  row out;
  out.cells.resize(after.cells.size());
  for (size_t i : key_columns(t))
    if (i < after.cells.size()) out.cells[i] = after.cells[i];
  return out;
}

}  // namespace trib
