#include "actors/apply/schema_dump.hpp"

#include <map>

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include "messages/failure.hpp"

namespace json = boost::json;

namespace trib {

namespace {

constexpr const char* list_tag = "java.util.ArrayList";

// Arcion wraps every list as ["java.util.ArrayList", [...]].
json::array tagged(json::array items) {
  json::array out;
  out.emplace_back(list_tag);
  out.emplace_back(std::move(items));
  return out;
}

json::array strings(const std::vector<std::string>& v) {
  json::array out;
  for (const auto& s : v) out.emplace_back(s);
  return out;
}

json::value null_if_empty(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::string(s);
}

json::object column_json(const column_info& c) {
  json::object o;
  o["name"] = c.name;
  o["type"] = c.source_type;
  o["default"] = c.has_default ? json::value(c.default_value) : json::value(nullptr);
  o["notNull"] = c.not_null;
  o["identity"] = c.identity;
  o["generated"] = c.generated;
  o["selectSql"] = nullptr;
  o["cdcTransformFunction"] = nullptr;
  return o;
}

json::object key_json(const std::vector<std::string>& columns) {
  json::object o;
  o["name"] = nullptr;
  o["columns"] = tagged(strings(columns));
  return o;
}

json::object table_json(const table_schema& t) {
  json::object o;
  o["name"] = t.id.table;
  o["sharded"] = false;
  json::array cols;
  for (const auto& c : t.columns) cols.emplace_back(column_json(c));
  o["columns"] = tagged(std::move(cols));
  o["shardKey"] = nullptr;
  json::array uks;
  for (const auto& uk : t.unique_keys) uks.emplace_back(key_json(uk));
  o["uniqueKeys"] = tagged(std::move(uks));
  o["foreignKeys"] = tagged({});
  o["createSQL"] = nullptr;
  o["objectType"] = "TABLE";
  o["primaryKey"] = t.primary_key.empty() ? json::value(nullptr)
                                          : json::value(key_json(t.primary_key));
  o["indexes"] = nullptr;
  o["rowCount"] = nullptr;
  return o;
}

[[noreturn]] void malformed(const std::string& what) {
  throw error(failure_code::bad_data, "malformed schema dump: " + what);
}

// The list inside ["java.util.ArrayList", [...]] (plain arrays are accepted).
const json::array& untag(const json::value& v, const char* where) {
  if (!v.is_array()) malformed(std::string(where) + " is not a list");
  const auto& a = v.get_array();
  if (a.size() == 2 && a[0].is_string() && a[1].is_array()) return a[1].get_array();
  return a;
}

std::string str_or_empty(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return {};
  if (!it->value().is_string()) malformed(std::string(key) + " is not a string");
  return std::string(it->value().get_string());
}

bool bool_or_false(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().get_bool();
}

std::vector<std::string> key_columns_of(const json::value& v, const char* where) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (!v.is_object()) malformed(std::string(where) + " is not an object");
  auto it = v.get_object().find("columns");
  if (it == v.get_object().end()) malformed(std::string(where) + " has no columns");
  for (const auto& c : untag(it->value(), where)) {
    if (!c.is_string()) malformed(std::string(where) + " holds a non-string column");
    out.emplace_back(c.get_string());
  }
  return out;
}

source_kind kind_from(const std::string& s) {
  if (s == "POSTGRESQL") return source_kind::postgresql;
  if (s == "MARIADB") return source_kind::mariadb;
  if (s == "MYSQL") return source_kind::mysql;
  malformed("unknown sourceType '" + s + "'");
}

}  // namespace

std::string schema_dump_json(const std::vector<table_schema>& tables,
                             source_kind kind) {
  // Group tables under their catalog and schema, keeping a stable order.
  std::map<std::pair<std::string, std::string>, json::array> groups;
  for (const auto& t : tables)
    groups[{t.id.catalog, t.id.schema}].emplace_back(table_json(t));
  json::array schemas;
  for (auto& [names, list] : groups) {
    json::object s;
    s["catalog"] = null_if_empty(names.first);
    s["schema"] = null_if_empty(names.second);
    s["tables"] = tagged(std::move(list));
    s["views"] = tagged({});
    schemas.emplace_back(std::move(s));
  }
  json::object roles;
  roles["users"] = tagged({});
  roles["roles"] = tagged({});
  json::object form;
  form["schemas"] = tagged(std::move(schemas));
  form["userRoles"] = std::move(roles);
  form["encrypted"] = false;
  json::object root;
  root["form"] = std::move(form);
  root["sourceType"] = to_string(kind);
  return json::serialize(root);
}

std::vector<table_schema> parse_schema_dump(const std::string& text,
                                            source_kind* kind) {
  json::value root;
  try {
    root = json::parse(text);
  } catch (const std::exception& e) {
    malformed(std::string("not JSON: ") + e.what());
  }
  if (!root.is_object()) malformed("top level is not an object");
  const auto& top = root.get_object();
  if (kind) *kind = kind_from(str_or_empty(top, "sourceType"));
  auto form = top.find("form");
  if (form == top.end() || !form->value().is_object()) malformed("no form object");
  auto schemas = form->value().get_object().find("schemas");
  if (schemas == form->value().get_object().end()) malformed("no form.schemas");
  std::vector<table_schema> out;
  for (const auto& s : untag(schemas->value(), "form.schemas")) {
    if (!s.is_object()) malformed("a schema entry is not an object");
    const auto& so = s.get_object();
    auto tables = so.find("tables");
    if (tables == so.end()) malformed("a schema entry has no tables");
    for (const auto& t : untag(tables->value(), "tables")) {
      if (!t.is_object()) malformed("a table entry is not an object");
      const auto& to = t.get_object();
      table_schema ts;
      ts.id = table_id{str_or_empty(so, "catalog"), str_or_empty(so, "schema"),
                       str_or_empty(to, "name")};
      if (auto cols = to.find("columns"); cols != to.end()) {
        for (const auto& c : untag(cols->value(), "columns")) {
          if (!c.is_object()) malformed("a column entry is not an object");
          const auto& co = c.get_object();
          column_info ci;
          ci.name = str_or_empty(co, "name");
          ci.source_type = str_or_empty(co, "type");
          auto def = co.find("default");
          ci.has_default = def != co.end() && def->value().is_string();
          if (ci.has_default) ci.default_value = std::string(def->value().get_string());
          ci.not_null = bool_or_false(co, "notNull");
          ci.identity = bool_or_false(co, "identity");
          ci.generated = bool_or_false(co, "generated");
          ts.columns.push_back(std::move(ci));
        }
      }
      if (auto pk = to.find("primaryKey"); pk != to.end())
        ts.primary_key = key_columns_of(pk->value(), "primaryKey");
      if (auto uks = to.find("uniqueKeys"); uks != to.end())
        for (const auto& uk : untag(uks->value(), "uniqueKeys"))
          ts.unique_keys.push_back(key_columns_of(uk, "uniqueKeys"));
      out.push_back(std::move(ts));
    }
  }
  return out;
}

bool filter_allows(const filter_config& filter, const table_id& t) {
  if (!filter.given()) return true;
  for (const auto& c : filter.allow) {
    if (!c.catalog.empty() && c.catalog != t.catalog) continue;
    if (!c.schema.empty() && c.schema != t.schema) continue;
    if (c.tables.empty() || c.tables.count(t.table)) return true;
  }
  return false;
}

std::string schemas_yaml(const std::vector<table_schema>& tables,
                         source_kind kind, const filter_config& filter) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "source-type" << YAML::Value << to_string(kind);
  y << YAML::Key << "tables" << YAML::Value << YAML::BeginSeq;
  for (const auto& t : tables) {
    if (!filter_allows(filter, t.id)) continue;
    y << YAML::BeginMap;
    y << YAML::Key << "catalog" << YAML::Value << t.id.catalog;
    if (!t.id.schema.empty()) y << YAML::Key << "schema" << YAML::Value << t.id.schema;
    y << YAML::Key << "name" << YAML::Value << t.id.table;
    y << YAML::Key << "columns" << YAML::Value << YAML::BeginSeq;
    for (const auto& c : t.columns) {
      y << YAML::BeginMap;
      y << YAML::Key << "name" << YAML::Value << c.name;
      y << YAML::Key << "type" << YAML::Value << c.source_type;
      y << YAML::Key << "not-null" << YAML::Value << c.not_null;
      if (c.has_default) y << YAML::Key << "default" << YAML::Value << c.default_value;
      if (c.identity) y << YAML::Key << "identity" << YAML::Value << true;
      if (c.generated) y << YAML::Key << "generated" << YAML::Value << true;
      y << YAML::EndMap;
    }
    y << YAML::EndSeq;
    y << YAML::Key << "primary-key" << YAML::Value << YAML::Flow << t.primary_key;
    y << YAML::Key << "unique-keys" << YAML::Value << YAML::BeginSeq;
    for (const auto& uk : t.unique_keys) y << YAML::Flow << uk;
    y << YAML::EndSeq;
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
  y << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

}  // namespace trib
