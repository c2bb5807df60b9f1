// Connection files: the Redis target and the PostgreSQL, MySQL and MariaDB
// sources. `type` decides which keys are valid (conf/keys.cpp).

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "conf/keys.hpp"
#include "conf/loader.hpp"
#include "conf/yaml_reader.hpp"

namespace trib {

namespace {

using namespace conf_detail;

// -- connection files -------------------------------------------------------

// The kind of file each `type` makes, as conf/keys.cpp names it.
const std::vector<std::string> file_kinds{"Target connection", "PostgreSQL connection",
                                          "MySQL and MariaDB connection",
                                          "MySQL and MariaDB connection"};

std::string file_kind(source_kind kind) {
  return kind == source_kind::postgresql ? file_kinds[1] : file_kinds[2];
}

store_config read_store(const value& v, bool key_store, const std::string& file) {
  section s(v, keys_under(file, key_store ? "ssl.key-store" : "ssl.trust-store"));
  store_config out;
  value path = s.required("path");
  std::vector<std::string> files;
  if (key_store && path.node.IsSequence()) {
    files = path.strings();
    if (files.size() != 2) path.fail("a PEM key store lists [CERT_FILE, KEY_FILE]");
    out.path = files[0];
    out.key_path = files[1];
  } else {
    out.path = path.text();
    out.key_path = out.path;
  }
  if (out.path.empty()) path.fail("must not be empty");
  s.read("password", out.password);
  if (auto t = s.get("ssl-store-type")) {
    std::string type = upper(t->text());
    // Arcion's own documentation spells the type PKS12; its users copy that.
    if (type == "PKCS12" || type == "PKS12") {
      out.store_type = "PKCS12";
    } else if (type == "PEM") {
      out.store_type = "PEM";
    } else if (type == "JKS") {
      t->fail("JKS is a Java-only format; convert it to PKCS12 with: keytool -importkeystore -srckeystore " +
              out.path + " -srcstoretype JKS -destkeystore " + out.path +
              ".p12 -deststoretype PKCS12 (then set path to the .p12 file and ssl-store-type: PKCS12)");
    } else {
      t->fail("'" + t->node.Scalar() + "' is not one of PKCS12, PEM");
    }
  }
  if (files.size() == 2 && out.store_type != "PEM")
    path.fail("a [CERT_FILE, KEY_FILE] pair needs ssl-store-type: PEM");
  return out;
}

ssl_config read_ssl(const value& v, const std::string& file) {
  section s(v, keys_under(file, "ssl"));
  ssl_config out;
  s.read("enable", out.enable);
  if (auto t = s.get("trust-store"); t && !t->is_null()) out.trust_store = read_store(*t, false, file);
  if (auto k = s.get("key-store"); k && !k->is_null()) out.key_store = read_store(*k, true, file);
  return out;
}

const std::vector<std::string> connection_types{"REDIS_STREAM", "POSTGRESQL", "MYSQL", "MARIADB"};

redis_config read_redis(const section& s) {
  redis_config out;
  s.read("host", out.host);
  s.read("port", out.port, 1, 65535);
  s.read("username", out.username);
  s.read("password", out.password);
  s.read("max-connections", out.max_connections, 1);
  s.read("max-retries", out.max_retries, 0);
  s.read("retry-wait-duration-ms", out.retry_wait_duration_ms, 0);
  s.read("memory-threshold-percentage", out.memory_threshold_percentage, 0, 100);
  s.read("mode", out.cluster, {"STANDALONE", "CLUSTER"}, std::vector<bool>{false, true});
  if (auto v = s.get("cluster-seeds")) {
    if (!out.cluster) v->fail("needs mode: CLUSTER");
    for (const auto& item : v->items()) {
      try {
        split_host_port(item.text());
      } catch (const std::invalid_argument& e) {
        item.fail(e.what());
      }
      out.cluster_seeds.push_back(item.text());
    }
  }
  s.read("wait-replicas", out.wait_replicas, 0, 16);
  s.read("wait-timeout-ms", out.wait_timeout_ms, 1);
  if (auto v = s.get("ssl")) out.ssl = read_ssl(*v, file_kinds[0]);
  if (out.host.empty()) s.at("host").fail("must not be empty");
  return out;
}

source_config read_source(const section& s, source_kind kind) {
  source_config out;
  out.kind = kind;
  out.port = kind == source_kind::postgresql ? 5432 : 3306;
  s.read("host", out.host);
  s.read("port", out.port, 1, 65535);
  s.read("username", out.username);
  s.read("password", out.password);
  s.read("max-connections", out.max_connections, 1);
  s.read("max-retries", out.max_retries, 0);
  s.read("retry-wait-duration-ms", out.retry_wait_duration_ms, 0);
  if (auto v = s.get("ssl")) out.ssl = read_ssl(*v, file_kind(kind));
  if (out.host.empty()) s.at("host").fail("must not be empty");
  if (kind == source_kind::postgresql) {
    value db = s.required("database");
    out.database = db.text();
    if (out.database.empty()) db.fail("must not be empty");
    for (const auto& [slot, plugins] : section::named(s.at("replication-slots"))) {
      std::vector<std::string> names;
      for (const auto& p : plugins.items()) {
        std::string plugin = p.text();
        if (plugin != "pgoutput")
          p.fail("output plugin '" + plugin + "' is not supported; use pgoutput");
        names.push_back(plugin);
      }
      if (names.empty()) plugins.fail("list the output plugin: [pgoutput]");
      out.replication_slots.emplace(slot, std::move(names));
    }
    s.read("publication", out.publication);
  } else {
    for (const auto& id : s.at("slave-server-ids").items())
      out.slave_server_ids.push_back(id.integer(1, 4294967295LL));
  }
  return out;
}

/// The connection and where its `type` is, for "wrong kind of file" errors.
struct typed_connection {
  connection_config conn;
  YAML::Mark type_mark;
};

typed_connection read_connection(const document& doc) {
  value root = root_of(doc, doc.load());
  if (!root.is_null() && !root.node.IsMap()) root.fail("expected a map of keys, got " + kind_name(root.node));
  // `type` decides which other keys are valid, so it is read first.
  std::optional<value> type_value;
  if (root.node.IsMap()) {
    for (const auto& kv : root.node)
      if (kv.first.IsScalar() && kv.first.Scalar() == "type")
        type_value = value{&doc, kv.second, "type",
                           kv.second.Mark().is_null() ? kv.first.Mark() : kv.second.Mark()};
  }
  if (!type_value) doc.fail(root.mark, "type", "missing required key (one of " + join(connection_types, ", ") + ")");
  size_t type = type_value->choice(connection_types);
  std::vector<std::string> keys = keys_under(file_kinds[type], "");
  // A key of another kind of connection is named as belonging there.
  std::map<std::string, std::string> elsewhere;
  const std::pair<const char*, const char*> others[] = {
    {"PostgreSQL connection", "POSTGRESQL connections"},
    {"MySQL and MariaDB connection", "MYSQL and MARIADB connections"},
    {"Target connection", "REDIS_STREAM connections"}};
  for (const auto& [kind, where] : others)
    for (const auto& k : keys_under(kind, ""))
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) elsewhere.emplace(k, where);
  section root_section(root, keys, elsewhere);
  if (type == 0) return {read_redis(root_section), type_value->mark};
  source_kind kind = type == 1   ? source_kind::postgresql
                     : type == 2 ? source_kind::mysql
                                 : source_kind::mariadb;
  return {read_source(root_section, kind), type_value->mark};
}

}  // namespace

connection_config load_connection(const std::string& path) {
  return read_connection(document(path)).conn;
}

source_config load_source(const std::string& path) {
  document doc(path);
  auto [conn, mark] = read_connection(doc);
  if (auto* s = std::get_if<source_config>(&conn)) return *s;
  doc.fail(mark, "type",
           "REDIS_STREAM is a target; a source is POSTGRESQL, MYSQL or MARIADB");
}

redis_config load_target(const std::string& path) {
  document doc(path);
  auto [conn, mark] = read_connection(doc);
  if (auto* r = std::get_if<redis_config>(&conn)) return *r;
  doc.fail(mark, "type",
           std::string(to_string(std::get<source_config>(conn).kind)) +
               " is a source; the target must be REDIS_STREAM");
}

}  // namespace trib
