#pragma once
// Replays stream entries the way a consumer would (a keyed table): snapshot
// rows and inserts/updates put the row, deletes remove it, truncates clear
// the table, tombstones do nothing. Pure code over (key, value) texts, so
// both unit tests and integration tests use it to check that snapshot
// stream + change stream reconstruct the source table exactly.

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace trib::test {

/// One replayed table: canonical key text -> the row's `after` object.
using replayed_table = std::map<std::string, boost::json::object>;

/// Every table of a replay, by source.table.
struct replay_state {
  std::map<std::string, replayed_table> tables;
  /// Entries applied, tombstones seen.
  size_t applied = 0;
  size_t tombstones = 0;
};

/// The payload of a document with or without its schema half.
inline boost::json::value replay_payload(const boost::json::value& doc) {
  if (doc.is_object() && doc.as_object().contains("payload") &&
      doc.as_object().contains("schema"))
    return doc.as_object().at("payload");
  return doc;
}

/// Applies one entry; throws std::runtime_error on an entry no consumer
/// could apply (an unknown op, a change without its row).
inline void replay_entry(replay_state& st, const std::string& key, const std::string& value) {
  namespace json = boost::json;
  if (value == "default") {
    ++st.tombstones;
    return;
  }
  auto v = replay_payload(json::parse(value)).as_object();
  std::string op = std::string(v.at("op").as_string());
  std::string table = std::string(v.at("source").as_object().at("table").as_string());
  std::string k = key == "default" ? key : json::serialize(replay_payload(json::parse(key)));
  auto& t = st.tables[table];
  ++st.applied;
  if (op == "r" || op == "c" || op == "u" || op == "READ" || op == "INSERT" || op == "UPDATE") {
    if (!v.at("after").is_object()) throw std::runtime_error("a " + op + " without after");
    t[k] = v.at("after").as_object();
  } else if (op == "d" || op == "DELETE") {
    t.erase(k);
  } else if (op == "t" || op == "TRUNCATE") {
    t.clear();
  } else {
    throw std::runtime_error("unknown op " + op);
  }
}

/// The rows of a replayed table as text cells of `columns` (strings as they
/// are, numbers and booleans serialized, null as "<null>"), sorted.
inline std::vector<std::vector<std::string>> replay_rows(const replayed_table& t,
                                                         const std::vector<std::string>& columns) {
  std::vector<std::vector<std::string>> out;
  for (const auto& [k, after] : t) {
    std::vector<std::string> r;
    for (const auto& c : columns) {
      auto it = after.find(c);
      if (it == after.end() || it->value().is_null()) r.push_back("<null>");
      else if (it->value().is_string()) r.push_back(std::string(it->value().as_string()));
      else r.push_back(boost::json::serialize(it->value()));
    }
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace trib::test
