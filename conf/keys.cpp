#include "conf/keys.hpp"

#include <algorithm>
#include <stdexcept>

namespace trib {

namespace {

// The keys every connection file shares, ssl included.
std::vector<std::string> connection(std::vector<std::string> own) {
  std::vector<std::string> out{"type",
                               "host",
                               "port",
                               "username",
                               "password",
                               "max-connections",
                               "max-retries",
                               "retry-wait-duration-ms",
                               "ssl.enable",
                               "ssl.trust-store.path",
                               "ssl.trust-store.password",
                               "ssl.trust-store.ssl-store-type",
                               "ssl.key-store.path",
                               "ssl.key-store.password",
                               "ssl.key-store.ssl-store-type"};
  out.insert(out.end(), own.begin(), own.end());
  return out;
}

}  // namespace

const std::vector<file_keys>& accepted_keys() {
  static const std::vector<file_keys> table{
    {"Target connection", connection({"memory-threshold-percentage", "mode", "cluster-seeds",
                                             "wait-replicas", "wait-timeout-ms"})},
    {"PostgreSQL connection", connection({"database", "replication-slots", "publication"})},
    {"MySQL and MariaDB connection", connection({"slave-server-ids"})},
    {"Extractor",
     {"snapshot.threads", "snapshot.fetch-size-rows", "snapshot.per-table-config[].catalog",
      "snapshot.per-table-config[].schema",
      "snapshot.per-table-config[].tables.<table>.split-key",
      "snapshot.per-table-config[].tables.<table>.row-identifier-key", "realtime.threads",
      "realtime.fetch-size-rows", "realtime.start-position.log",
      "realtime.start-position.position", "realtime.start-position.gtid",
      "realtime.start-position.lsn", "realtime.heartbeat.enable", "realtime.heartbeat.catalog",
      "realtime.heartbeat.schema", "realtime.heartbeat.table-name",
      "realtime.heartbeat.interval-ms", "realtime.signal-table.catalog",
      "realtime.signal-table.schema", "realtime.signal-table.table-name"}},
    {"Applier",
     {"snapshot.threads", "snapshot.batch-size-rows", "snapshot.txn-size-rows",
      "snapshot.log-row-level-errors", "snapshot.skip-tables-on-failures", "realtime.threads",
      "realtime.replay-consistency", "realtime.txn-size-rows", "realtime.batch-size-rows",
      "realtime.skip-tables-on-failures", "split-stream", "message.op-codes",
      "message.include-schema", "message.decimal-handling", "message.connector-name",
      "stream-max-length", "trim", "max-consumer-lag"}},
    {"Filter",
     {"allow[].catalog", "allow[].schema", "allow[].types", "allow[].allow.<table>.allow",
      "allow[].allow.<table>.conditions"}},
    {"Map", {"object-name-concat-delimiter", "convert-case"}},
  };
  return table;
}

std::vector<std::string> keys_under(const std::string& file, const std::string& under) {
  const auto& table = accepted_keys();
  auto kind = std::find_if(table.begin(), table.end(),
                           [&](const file_keys& k) { return k.file == file; });
  if (kind == table.end()) throw std::logic_error("no configuration file kind '" + file + "'");
  std::string prefix = under.empty() ? "" : under + ".";
  std::vector<std::string> out;
  for (const auto& path : kind->paths) {
    if (path.compare(0, prefix.size(), prefix) != 0) continue;
    std::string key = path.substr(prefix.size());
    key = key.substr(0, key.find('.'));
    if (key.size() > 2 && key.compare(key.size() - 2, 2, "[]") == 0) key.resize(key.size() - 2);
    if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(key);
  }
  if (out.empty())
    throw std::logic_error("no configuration keys under '" + under + "' of " + file);
  return out;
}

}  // namespace trib
