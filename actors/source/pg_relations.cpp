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
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const auto& r = rel.columns[i];
    const auto& c = t.columns[i];
    if (r.name != c.name) return false;
    // A table listed without type numbers (0) is compared by name only.
    if (c.type_oid != 0 && (r.type_oid != c.type_oid || r.type_modifier != c.type_modifier))
      return false;
  }
  return true;
}

namespace {

bool same_type(const column_info& a, const column_info& b) {
  if (a.source_type != b.source_type) return false;
  return a.type_oid == 0 || b.type_oid == 0 ||
         (a.type_oid == b.type_oid && a.type_modifier == b.type_modifier);
}

}  // namespace

bool columns_changed(const table_schema& before, const table_schema& now) {
  if (before.columns.size() != now.columns.size()) return true;
  for (size_t i = 0; i < now.columns.size(); ++i)
    if (before.columns[i].name != now.columns[i].name ||
        !same_type(before.columns[i], now.columns[i]))
      return true;
  return false;
}

std::string describe_column_changes(const table_schema& before, const table_schema& now) {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  for (const auto& c : now.columns) {
    int i = column_index(before, c.name);
    if (i < 0) add("adds " + c.name);
    else if (!same_type(before.columns[static_cast<size_t>(i)], c))
      add(c.name + " " + before.columns[static_cast<size_t>(i)].source_type + " -> " +
          c.source_type);
  }
  for (const auto& c : before.columns)
    if (column_index(now, c.name) < 0) add("drops " + c.name);
  return out.empty() ? "reorders columns" : out;
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
