#include "actors/source/pg_connect.hpp"

#include <utility>
#include <vector>

#include "messages/failure.hpp"

namespace trib {

namespace {

bool contains(const std::string& s, const char* what) {
  return s.find(what) != std::string::npos;
}

}  // namespace

std::string pg_one_line(const char* msg) {
  std::string out;
  for (const char* p = msg ? msg : ""; *p; ++p) {
    if (*p == '\n') {
      // libpq indents a HINT line with a tab.
      while (p[1] == '\t' || p[1] == ' ') ++p;
      if (p[1] != '\0') out += "; ";
    } else {
      out += *p;
    }
  }
  return out;
}

PGconn* pg_connect(const source_config& cfg, const std::string& options, bool replication) {
  std::string port = std::to_string(cfg.port ? cfg.port : 5432);
  std::string where = cfg.host + ":" + port;
  std::vector<std::pair<const char*, std::string>> params = {
    {"host", cfg.host},
    {"port", port},
    {"dbname", cfg.database},
    {"user", cfg.username},
    {"password", cfg.password},
    {"application_name", "tributary"},
    {"connect_timeout", "10"},
    {"client_encoding", "UTF8"},
    // TCP keepalives notice a dead peer (libpq has no read timeout).
    {"keepalives", "1"},
    {"keepalives_idle", "30"},
    {"keepalives_interval", "10"},
    {"keepalives_count", "3"},
  };
  if (!options.empty()) params.push_back({"options", options});
  if (replication) params.push_back({"replication", "database"});
  if (cfg.ssl.enable) {
    // libpq reads PEM files only; the loader explains PKCS12 conversion.
    if (cfg.ssl.trust_store) {
      params.push_back({"sslmode", "verify-full"});
      params.push_back({"sslrootcert", cfg.ssl.trust_store->path});
    } else {
      params.push_back({"sslmode", "require"});
    }
    if (cfg.ssl.key_store) {
      params.push_back({"sslcert", cfg.ssl.key_store->path});
      params.push_back({"sslkey", cfg.ssl.key_store->key_path.empty()
                                    ? cfg.ssl.key_store->path
                                    : cfg.ssl.key_store->key_path});
    }
  } else {
    params.push_back({"sslmode", "disable"});
  }
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params) {
    keys.push_back(k);
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (!conn) throw error(failure_code::internal, "cannot allocate a postgresql connection");
  if (PQstatus(conn) == CONNECTION_OK) return conn;
  std::string msg = pg_one_line(PQerrorMessage(conn));
  PQfinish(conn);
  // libpq reports connection failures as text only; the server's FATAL
  // messages below are stable across versions (in the C locale).
  if (contains(msg, "authentication failed") || contains(msg, "no pg_hba.conf entry") ||
      contains(msg, "password is required") ||
      (contains(msg, "role \"") && contains(msg, "does not exist")) ||
      contains(msg, "permission denied") || contains(msg, "replication role"))
    throw error(failure_code::auth,
                "postgresql at " + where + " refuses user " + cfg.username + ": " + msg);
  std::string as = " as user " + cfg.username;
  if (contains(msg, "database \"") && contains(msg, "does not exist"))
    throw error(failure_code::config, "postgresql at " + where + " has no database " +
                                        cfg.database + " (connecting" + as + "): " + msg);
  std::string hint;
  if (cfg.ssl.enable && contains(msg, "does not support SSL"))
    hint = " (ssl.enable is on, and this server has TLS off)";
  throw error(failure_code::connection,
              "cannot connect to postgresql at " + where + as + ": " + msg + hint);
}

}  // namespace trib
