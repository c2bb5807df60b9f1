#include "actors/source/my_connect.hpp"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <netdb.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "actors/source/session_common.hpp"

namespace trib {

failure_code my_classify(unsigned code) {
  switch (code) {
    case CR_SERVER_LOST:
    case CR_SERVER_GONE_ERROR:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
    case CR_SERVER_LOST_EXTENDED:
    case ER_SERVER_SHUTDOWN:
    case ER_CONNECTION_KILLED:
    case ER_QUERY_INTERRUPTED: return failure_code::connection;
    case ER_CON_COUNT_ERROR:
    case ER_TOO_MANY_USER_CONNECTIONS:
    case ER_OUT_OF_RESOURCES:
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_LOCK_DEADLOCK: return failure_code::server_busy;
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
    case ER_TABLEACCESS_DENIED_ERROR:
    case ER_COLUMNACCESS_DENIED_ERROR:
    case ER_SPECIFIC_ACCESS_DENIED_ERROR: return failure_code::auth;
    case ER_BAD_DB_ERROR:
    case ER_PARSE_ERROR:  // filter conditions
    case ER_BAD_FIELD_ERROR: return failure_code::config;
    case ER_NO_SUCH_TABLE: return failure_code::source_state;
    default: break;
  }
  // Client-side errors (2000-2999) are about the link.
  if (code >= 2000 && code < 3000) return failure_code::connection;
  return failure_code::source_state;
}

std::string my_error_words(const std::string& message) {
  // "... (111)" at the very end: the system's error number, unexplained.
  if (message.size() < 3 || message.back() != ')') return message;
  size_t open = message.rfind(" (");
  if (open == std::string::npos) return message;
  std::string number = message.substr(open + 2, message.size() - open - 3);
  if (number.empty() || number.size() > 6) return message;
  for (size_t i = 0; i < number.size(); ++i)
    if (!(std::isdigit(static_cast<unsigned char>(number[i])) || (i == 0 && number[i] == '-')))
      return message;
  if (number == "-") return message;
  int n = std::stoi(number);
  std::string words = n < 0 ? "getaddrinfo " + number + ": " + ::gai_strerror(n)
                            : "errno " + number + ": " + std::strerror(n);
  // The connector connects without blocking and reports the errno of its
  // first attempt when the port refuses: "in progress" would mislead.
  if (n == EINPROGRESS)
    words = "errno " + number + ": the server did not accept the connection (nothing listens "
            "on that port, or a firewall drops it)";
  return message.substr(0, open) + " (" + words + ")";
}

std::string my_where(const source_config& cfg) {
  return cfg.host + ":" + std::to_string(source_detail::effective_port(cfg));
}

MYSQL* my_connect(const source_config& cfg, unsigned read_timeout_s) {
  std::string name = source_detail::kind_name(cfg.kind);
  int port = source_detail::effective_port(cfg);
  std::string where = my_where(cfg);
  MYSQL* m = mysql_init(nullptr);
  if (!m) throw error(failure_code::internal, "cannot allocate a " + name + " connection");
  unsigned timeout = 10;
  unsigned protocol = MYSQL_PROTOCOL_TCP;
  mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &protocol);
  // A dead peer must not hang a reader forever.
  mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &read_timeout_s);
  mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &read_timeout_s);
  mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (cfg.ssl.enable) {
    // The connector reads PEM files; the loader explains PKCS12 conversion.
    my_bool on = 1;
    mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
    if (cfg.ssl.trust_store) {
      mysql_optionsv(m, MYSQL_OPT_SSL_CA, cfg.ssl.trust_store->path.c_str());
      mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
    }
    if (cfg.ssl.key_store) {
      mysql_optionsv(m, MYSQL_OPT_SSL_CERT, cfg.ssl.key_store->path.c_str());
      mysql_optionsv(m, MYSQL_OPT_SSL_KEY, cfg.ssl.key_store->path.c_str());
    }
  }
  const char* db = cfg.database.empty() ? nullptr : cfg.database.c_str();
  if (!mysql_real_connect(m, cfg.host.c_str(), cfg.username.c_str(), cfg.password.c_str(), db,
                          static_cast<unsigned>(port), nullptr, 0)) {
    unsigned code = mysql_errno(m);
    std::string msg = mysql_error(m);
    mysql_close(m);
    msg = my_error_words(msg);
    auto fc = my_classify(code);
    std::string as = " as user " + cfg.username;
    if (fc == failure_code::auth)
      throw error(fc, name + " at " + where + " refuses user " + cfg.username + ": " + msg);
    if (code == ER_BAD_DB_ERROR)
      throw error(failure_code::config, name + " at " + where + " has no database " +
                                          cfg.database + " (connecting" + as + "): " + msg);
    if (fc == failure_code::server_busy)
      throw error(fc, name + " at " + where + " is busy (connecting" + as + "): " + msg);
    std::string hint;
    // The connector's TLS failures say "SSL" or "TLS"; say which side wants it.
    if (msg.find("SSL") != std::string::npos || msg.find("TLS") != std::string::npos)
      hint = cfg.ssl.enable ? " (ssl.enable is on: does the server offer TLS, and does its "
                              "certificate match the trust store?)"
                            : "";
    throw error(failure_code::connection,
                "cannot connect to " + name + " at " + where + as + ": " + msg + hint);
  }
  // The connector falls back to plain text when the server offers no TLS,
  // whatever MYSQL_OPT_SSL_ENFORCE says: ssl.enable must mean encrypted.
  if (cfg.ssl.enable && mysql_get_ssl_cipher(m) == nullptr) {
    mysql_close(m);
    throw error(failure_code::config,
                "cannot connect to " + name + " at " + where + " as user " + cfg.username +
                  ": ssl.enable is on, and the server offers no TLS (its have_ssl is not YES); "
                  "the connection is closed after the login, before anything else is sent");
  }
  return m;
}

}  // namespace trib
