// Reads and validates every configuration file. yaml-cpp gives the tree and
// the marks (0-based line/column); everything else is done here so that each
// problem becomes one line: `<file>:<line>:<col>: <key.path>: <problem>`.

#include "conf/loader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <utility>

#include <yaml-cpp/yaml.h>

namespace trib {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string join(const std::vector<std::string>& xs, const char* sep) {
  std::string out;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0) out += sep;
    out += xs[i];
  }
  return out;
}

std::string kind_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "'" + n.Scalar() + "'";
    default: return "an undefined value";
  }
}

/// One configuration file being read: its name for messages, and the one
/// place where problems become exceptions.
class document {
 public:
  explicit document(std::string file) : file_(std::move(file)) {}

  /// Reads and parses the file; a missing file, an unreadable one and
  /// malformed YAML are all configuration errors naming the file.
  YAML::Node load() const {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(file_, ec))
      throw error{failure_code::config, file_ + ": cannot read: no such file"};
    if (fs::is_directory(file_, ec))
      throw error{failure_code::config, file_ + ": cannot read: is a directory"};
    std::ifstream in(file_, std::ios::binary);
    if (!in)
      throw error{failure_code::config,
                  file_ + ": cannot read: " + std::strerror(errno)};
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
      throw error{failure_code::config,
                  file_ + ": cannot read: " + std::strerror(errno)};
    try {
      return YAML::Load(text.str());
    } catch (const YAML::Exception& e) {
      // A parse error has a place but no key path yet.
      throw error{failure_code::config,
                  position(e.mark) + ": malformed YAML: " + e.msg + tab_hint(text.str(), e.mark)};
    }
  }

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& path,
                         const std::string& problem) const {
    std::string msg = position(mark) + ": ";
    if (!path.empty()) msg += path + ": ";
    throw error{failure_code::config, msg + problem};
  }

  const std::string& file() const { return file_; }

 private:
  /// yaml-cpp reports a tab in the indentation as an "illegal map value" or
  /// similar; name the real cause when the offending lines have one.
  static std::string tab_hint(const std::string& text, const YAML::Mark& m) {
    if (m.is_null()) return "";
    std::istringstream lines(text);
    std::string line;
    for (int n = 0; std::getline(lines, line) && n <= m.line; ++n) {
      if (n + 1 < m.line) continue;  // the error line and the one before it
      size_t indent = line.find_first_not_of(" \t");
      if (line.substr(0, indent).find('\t') != std::string::npos)
        return " (line " + std::to_string(n + 1) + " is indented with a tab; YAML allows only spaces)";
    }
    return "";
  }

  std::string position(const YAML::Mark& m) const {
    // An empty document has no marks; point at its start.
    int line = m.is_null() ? 0 : m.line;
    int col = m.is_null() ? 0 : m.column;
    return file_ + ":" + std::to_string(line + 1) + ":" + std::to_string(col + 1);
  }

  std::string file_;
};

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

/// A value with what is needed to report on it.
struct value {
  const document* doc;
  YAML::Node node;
  std::string path;
  YAML::Mark mark;  // of the value, or of its key when the value has none

  [[noreturn]] void fail(const std::string& problem) const {
    doc->fail(mark, path, problem);
  }

  bool is_null() const { return node.IsNull(); }

  /// The scalar text with every `${NAME}` replaced from the environment.
  std::string text(const char* expected = "a string") const {
    if (!node.IsScalar()) fail(std::string("expected ") + expected + ", got " + kind_name(node));
    const std::string& raw = node.Scalar();
    std::string out;
    size_t i = 0;
    while (i < raw.size()) {
      if (raw.compare(i, 2, "${") != 0) {
        out += raw[i++];
        continue;
      }
      size_t close = raw.find('}', i + 2);
      if (close == std::string::npos) fail("unterminated '${' in '" + raw + "'");
      std::string name = raw.substr(i + 2, close - i - 2);
      bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
      for (char c : name)
        valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (!valid) fail("'${" + name + "}' is not a valid environment variable name");
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) fail("environment variable '" + name + "' is not set");
      out += v;
      i = close + 1;
    }
    return out;
  }

  /// A string; an empty value (`password:`) reads as "".
  std::string str() const { return is_null() ? std::string{} : text(); }

  /// An integer within [lo, hi]; `10_000` reads as 10000, as in Arcion's files.
  long long integer(long long lo, long long hi) const {
    std::string t = text("an integer");
    std::string digits;
    for (size_t i = 0; i < t.size(); ++i) {
      char c = t[i];
      if (c == '_') {
        // Only between digits, so "_1" or "1__" are not numbers.
        bool ok = i > 0 && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i - 1])) &&
                  std::isdigit(static_cast<unsigned char>(t[i + 1]));
        if (!ok) fail("expected an integer, got '" + t + "'");
        continue;
      }
      digits += c;
    }
    bool shape = !digits.empty();
    for (size_t i = 0; i < digits.size(); ++i) {
      bool sign = i == 0 && (digits[i] == '-' || digits[i] == '+') && digits.size() > 1;
      shape = shape && (sign || std::isdigit(static_cast<unsigned char>(digits[i])));
    }
    if (!shape) fail("expected an integer, got '" + t + "'");
    errno = 0;
    long long n = std::strtoll(digits.c_str(), nullptr, 10);
    if (errno == ERANGE || n < lo || n > hi) {
      // Name the bound the value broke; "between" only for a real range.
      bool too_big = errno == ERANGE ? digits[0] != '-' : n > hi;
      bool open_top = hi == LLONG_MAX || hi == INT_MAX;
      std::string range =
        !open_top ? "between " + std::to_string(lo) + " and " + std::to_string(hi)
        : too_big ? "at most " + std::to_string(hi)
                  : "at least " + std::to_string(lo);
      fail(t + " is out of range: must be " + range);
    }
    return n;
  }

  bool boolean() const {
    std::string t = lower(text("true or false"));
    if (t == "true" || t == "yes" || t == "on") return true;
    if (t == "false" || t == "no" || t == "off") return false;
    fail("expected true or false, got '" + t + "'");
  }

  /// One of `names` (compared without case); returns its index.
  size_t choice(const std::vector<std::string>& names) const {
    std::string t = upper(text(("one of " + join(names, ", ")).c_str()));
    for (size_t i = 0; i < names.size(); ++i)
      if (t == names[i]) return i;
    fail("'" + node.Scalar() + "' is not one of " + join(names, ", "));
  }

  /// The items of a list (a single scalar is not a list).
  std::vector<value> items() const {
    std::vector<value> out;
    if (is_null()) return out;
    if (!node.IsSequence()) fail("expected a list, got " + kind_name(node));
    size_t i = 0;
    for (const auto& item : node) {
      YAML::Mark m = item.Mark().is_null() ? mark : item.Mark();
      out.push_back(value{doc, item, path + "[" + std::to_string(i++) + "]", m});
    }
    return out;
  }

  std::vector<std::string> strings() const {
    std::vector<std::string> out;
    for (const auto& item : items()) out.push_back(item.text());
    return out;
  }
};

/// A map whose keys have been checked against the valid ones: unknown and
/// repeated keys are rejected when it is built, so a reader of a section only
/// asks for the keys it knows.
class section {
 public:
  /// `elsewhere` names, for keys valid in another kind of file, where they
  /// belong ("database" in a REDIS_STREAM file belongs to POSTGRESQL).
  section(const value& v, std::vector<std::string> allowed,
          const std::map<std::string, std::string>& elsewhere = {})
    : doc_(v.doc), path_(v.path), mark_(v.mark) {
    if (v.is_null()) return;  // `snapshot:` with nothing under it: defaults
    if (!v.node.IsMap()) v.fail("expected a map, got " + kind_name(v.node));
    for (const auto& kv : v.node) {
      YAML::Mark key_mark = kv.first.Mark().is_null() ? mark_ : kv.first.Mark();
      if (!kv.first.IsScalar())
        doc_->fail(key_mark, path_, "a key must be a plain name, got " + kind_name(kv.first));
      std::string key = kv.first.Scalar();
      std::string path = child_path(path_, key);
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string msg = "unknown key";
        std::string near = nearest_key(key, allowed);
        if (auto other = elsewhere.find(key); other != elsewhere.end())
          msg += " here (it belongs to " + other->second + ")";
        else if (!near.empty())
          msg += " (did you mean '" + near + "'?)";
        doc_->fail(key_mark, path, msg);
      }
      if (entries_.count(key) > 0) doc_->fail(key_mark, path, "key given twice");
      YAML::Mark value_mark = kv.second.Mark().is_null() ? key_mark : kv.second.Mark();
      entries_.emplace(key, value{doc_, kv.second, path, value_mark});
    }
  }

  /// Every key, for maps whose keys are names the user chooses (tables).
  static std::vector<std::pair<std::string, value>> named(const value& v) {
    std::vector<std::pair<std::string, value>> out;
    if (v.is_null()) return out;
    if (!v.node.IsMap()) v.fail("expected a map, got " + kind_name(v.node));
    for (const auto& kv : v.node) {
      YAML::Mark key_mark = kv.first.Mark().is_null() ? v.mark : kv.first.Mark();
      if (!kv.first.IsScalar())
        v.doc->fail(key_mark, v.path, "a key must be a plain name, got " + kind_name(kv.first));
      std::string key = kv.first.Scalar();
      for (const auto& seen : out)
        if (seen.first == key) v.doc->fail(key_mark, child_path(v.path, key), "key given twice");
      YAML::Mark value_mark = kv.second.Mark().is_null() ? key_mark : kv.second.Mark();
      out.emplace_back(key, value{v.doc, kv.second, child_path(v.path, key), value_mark});
    }
    return out;
  }

  std::optional<value> get(const std::string& key) const {
    auto i = entries_.find(key);
    if (i == entries_.end()) return std::nullopt;
    return i->second;
  }

  value required(const std::string& key) const {
    auto v = get(key);
    if (!v) doc_->fail(mark_, child_path(path_, key), "missing required key");
    return *v;
  }

  /// An absent key reads as an empty value, so nested sections get defaults.
  value at(const std::string& key) const {
    if (auto v = get(key)) return *v;
    return value{doc_, YAML::Node(YAML::NodeType::Null), child_path(path_, key), mark_};
  }

  section child(const std::string& key, std::vector<std::string> allowed) const {
    return section(at(key), std::move(allowed));
  }

  bool has(const std::string& key) const { return entries_.count(key) > 0; }

  void read(const std::string& key, std::string& out) const {
    if (auto v = get(key)) out = v->str();
  }
  void read(const std::string& key, int& out, int lo, int hi = INT_MAX) const {
    if (auto v = get(key)) out = static_cast<int>(v->integer(lo, hi));
  }
  void read(const std::string& key, bool& out) const {
    if (auto v = get(key)) out = v->boolean();
  }
  template <class Enum>
  void read(const std::string& key, Enum& out, const std::vector<std::string>& names,
            const std::vector<Enum>& values) const {
    if (auto v = get(key)) out = values[v->choice(names)];
  }

  const std::string& path() const { return path_; }
  const YAML::Mark& mark() const { return mark_; }

 private:
  const document* doc_;
  std::string path_;
  YAML::Mark mark_;
  std::map<std::string, value> entries_;
};

value root_of(const document& doc, const YAML::Node& node) {
  return value{&doc, node, "", node.Mark()};
}

// -- connection files -------------------------------------------------------

const std::vector<std::string> store_keys{"path", "password", "ssl-store-type"};

store_config read_store(const value& v, bool key_store) {
  section s(v, store_keys);
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

ssl_config read_ssl(const value& v) {
  section s(v, {"enable", "trust-store", "key-store"});
  ssl_config out;
  s.read("enable", out.enable);
  if (auto t = s.get("trust-store"); t && !t->is_null()) out.trust_store = read_store(*t, false);
  if (auto k = s.get("key-store"); k && !k->is_null()) out.key_store = read_store(*k, true);
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
  if (auto v = s.get("ssl")) out.ssl = read_ssl(*v);
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
  if (auto v = s.get("ssl")) out.ssl = read_ssl(*v);
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

const std::vector<std::string> common_keys{"type", "host", "port", "username", "password",
                                           "max-connections", "max-retries",
                                           "retry-wait-duration-ms", "ssl"};

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
  const std::vector<std::string> postgresql_keys{"database", "replication-slots", "publication"};
  const std::vector<std::string> mysql_keys{"slave-server-ids"};
  const std::vector<std::string> redis_keys{"memory-threshold-percentage"};
  std::vector<std::string> keys = common_keys;
  std::map<std::string, std::string> elsewhere;
  if (type != 1)
    for (const auto& k : postgresql_keys) elsewhere[k] = "POSTGRESQL connections";
  if (type < 2)
    for (const auto& k : mysql_keys) elsewhere[k] = "MYSQL and MARIADB connections";
  if (type != 0)
    for (const auto& k : redis_keys) elsewhere[k] = "REDIS_STREAM connections";
  if (type == 0) {
    keys.insert(keys.end(), redis_keys.begin(), redis_keys.end());
    return {read_redis(section(root, keys, elsewhere)), type_value->mark};
  }
  if (type == 1) {
    keys.insert(keys.end(), postgresql_keys.begin(), postgresql_keys.end());
    return {read_source(section(root, keys, elsewhere), source_kind::postgresql), type_value->mark};
  }
  keys.insert(keys.end(), mysql_keys.begin(), mysql_keys.end());
  return {read_source(section(root, keys, elsewhere),
                      type == 2 ? source_kind::mysql : source_kind::mariadb),
          type_value->mark};
}

// -- extractor --------------------------------------------------------------

extractor_config read_extractor(const document& doc) {
  section root(root_of(doc, doc.load()), {"snapshot", "realtime"});
  extractor_config out;
  section snap = root.child("snapshot", {"threads", "fetch-size-rows", "per-table-config"});
  snap.read("threads", out.snapshot.threads, 1);
  snap.read("fetch-size-rows", out.snapshot.fetch_size_rows, 1);
  for (const auto& item : snap.at("per-table-config").items()) {
    section entry(item, {"catalog", "schema", "tables"});
    extractor_catalog_config cat;
    cat.catalog = entry.required("catalog").text();
    entry.read("schema", cat.schema);
    for (const auto& [name, v] : section::named(entry.at("tables"))) {
      section t(v, {"split-key", "row-identifier-key"});
      extractor_table_config table;
      t.read("split-key", table.split_key);
      table.row_identifier_key = t.at("row-identifier-key").strings();
      cat.tables.emplace(name, std::move(table));
    }
    out.snapshot.per_table_config.push_back(std::move(cat));
  }

  section real = root.child("realtime", {"threads", "fetch-size-rows", "start-position", "heartbeat"});
  real.read("threads", out.realtime.threads, 1);
  real.read("fetch-size-rows", out.realtime.fetch_size_rows, 1);
  if (auto sp = real.get("start-position"); sp && !sp->is_null()) {
    section p(*sp, {"log", "position", "gtid", "lsn"});
    auto& pos = out.realtime.start_position;
    // Exactly one form: a binlog file and offset, a GTID set, or an LSN.
    int forms = (p.has("log") || p.has("position")) + p.has("gtid") + p.has("lsn");
    if (forms != 1) sp->fail("give one of {log, position}, {gtid} or {lsn}");
    if (p.has("log") || p.has("position")) {
      pos.log = p.required("log").text();
      pos.position = static_cast<uint64_t>(p.required("position").integer(0, LLONG_MAX));
      if (pos.log.empty()) p.at("log").fail("must not be empty");
    }
    if (p.has("gtid")) {
      pos.gtid = p.at("gtid").text();
      if (pos.gtid.empty()) p.at("gtid").fail("must not be empty");
    }
    if (p.has("lsn")) {
      value lsn = p.at("lsn");
      pos.lsn = lsn.text();
      // PostgreSQL writes LSNs as two hex halves: 16/B374D848.
      auto slash = pos.lsn.find('/');
      bool ok = slash != std::string::npos && slash > 0 && slash + 1 < pos.lsn.size();
      for (size_t i = 0; ok && i < pos.lsn.size(); ++i)
        ok = i == slash || std::isxdigit(static_cast<unsigned char>(pos.lsn[i]));
      if (!ok) lsn.fail("expected an LSN like 16/B374D848, got '" + pos.lsn + "'");
    }
  }
  section hb = real.child("heartbeat", {"enable", "catalog", "schema", "table-name", "interval-ms"});
  auto& h = out.realtime.heartbeat;
  hb.read("enable", h.enable);
  hb.read("catalog", h.catalog);
  hb.read("schema", h.schema);
  hb.read("table-name", h.table_name);
  hb.read("interval-ms", h.interval_ms, 1);
  if (h.enable && h.catalog.empty()) hb.at("catalog").fail("an enabled heartbeat needs a catalog");
  if (h.table_name.empty()) hb.at("table-name").fail("must not be empty");
  return out;
}

// -- applier ----------------------------------------------------------------

applier_config read_applier(const document& doc) {
  section root(root_of(doc, doc.load()), {"snapshot", "realtime", "split-stream", "message",
                                          "stream-max-length", "trim"});
  applier_config out;
  section snap = root.child("snapshot", {"threads", "batch-size-rows", "txn-size-rows",
                                         "log-row-level-errors", "skip-tables-on-failures"});
  snap.read("threads", out.snapshot.threads, 1);
  snap.read("batch-size-rows", out.snapshot.batch_size_rows, 1);
  snap.read("txn-size-rows", out.snapshot.txn_size_rows, 1);
  snap.read("log-row-level-errors", out.snapshot.log_row_level_errors);
  snap.read("skip-tables-on-failures", out.snapshot.skip_tables_on_failures);

  section real = root.child("realtime", {"threads", "replay-consistency", "txn-size-rows",
                                         "batch-size-rows", "skip-tables-on-failures"});
  real.read("threads", out.realtime.threads, 1);
  real.read("replay-consistency", out.realtime.consistency, {"GLOBAL", "EVENTUAL"},
            {replay_consistency::global, replay_consistency::eventual});
  real.read("txn-size-rows", out.realtime.txn_size_rows, 1);
  real.read("batch-size-rows", out.realtime.batch_size_rows, 1);
  real.read("skip-tables-on-failures", out.realtime.skip_tables_on_failures);

  root.read("split-stream", out.split_stream);

  section msg = root.child("message", {"op-codes", "include-schema", "decimal-handling",
                                       "connector-name"});
  msg.read("op-codes", out.message.codes, {"DEBEZIUM", "VERBOSE"},
           {op_codes::debezium, op_codes::verbose});
  msg.read("include-schema", out.message.include_schema);
  msg.read("decimal-handling", out.message.decimals, {"STRING", "PRECISE", "DOUBLE"},
           {decimal_handling::string, decimal_handling::precise, decimal_handling::dbl});
  msg.read("connector-name", out.message.connector_name);
  if (out.message.connector_name.empty()) msg.at("connector-name").fail("must not be empty");

  if (auto n = root.get("stream-max-length"))
    out.trim.max_length = static_cast<uint64_t>(n->integer(1, LLONG_MAX));
  root.read("trim", out.trim.mode, {"NEVER", "APPROXIMATE", "ACKED"},
            {trim_mode::never, trim_mode::approximate, trim_mode::acked});
  if (out.trim.mode != trim_mode::never && out.trim.max_length == 0)
    root.at("trim").fail("trimming needs stream-max-length: N (the entries a stream keeps)");
  return out;
}

// -- filter and map ---------------------------------------------------------

/// A table's column list: Arcion writes `allow: [a, b]`, and also a map whose
/// keys are the columns (`allow: {a: , b: }`); both read the same.
std::vector<std::string> read_columns(const value& v) {
  if (v.node.IsMap()) {
    std::vector<std::string> out;
    for (const auto& [name, rest] : section::named(v)) {
      if (!rest.is_null() && !(rest.node.IsMap() && rest.node.size() == 0))
        rest.fail("a column takes no settings");
      out.push_back(name);
    }
    return out;
  }
  return v.strings();
}

filter_config read_filter(const document& doc) {
  section root(root_of(doc, doc.load()), {"allow"});
  filter_config out;
  for (const auto& item : root.at("allow").items()) {
    section entry(item, {"catalog", "schema", "types", "allow"});
    filter_catalog cat;
    cat.catalog = entry.required("catalog").text();
    if (cat.catalog.empty()) entry.at("catalog").fail("must not be empty");
    entry.read("schema", cat.schema);
    if (auto types = entry.get("types")) {
      cat.types.clear();
      for (const auto& t : types->items())
        cat.types.push_back(std::vector<std::string>{"TABLE", "VIEW"}[t.choice({"TABLE", "VIEW"})]);
    }
    value tables = entry.at("allow");
    if (tables.node.IsSequence()) {
      // `allow: [orders, region]`: whole tables, every column.
      for (const auto& name : tables.strings()) cat.tables.emplace(name, filter_table{});
    } else {
      for (const auto& [name, v] : section::named(tables)) {
        section t(v, {"allow", "conditions"});
        filter_table table;
        if (auto cols = t.get("allow")) table.columns = read_columns(*cols);
        t.read("conditions", table.conditions);
        cat.tables.emplace(name, std::move(table));
      }
    }
    out.allow.push_back(std::move(cat));
  }
  return out;
}

map_config read_map(const document& doc) {
  section root(root_of(doc, doc.load()), {"object-name-concat-delimiter", "convert-case"});
  map_config out;
  root.read("object-name-concat-delimiter", out.delimiter, {"UNDERSCORE", "DOT"},
            {name_delimiter::underscore, name_delimiter::dot});
  root.read("convert-case", out.name_case, {"DEFAULT", "LOWERCASE", "UPPERCASE"},
            {convert_case::keep, convert_case::lower, convert_case::upper});
  return out;
}

/// Levenshtein distance, two rows at a time.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string nearest_key(const std::string& word, const std::vector<std::string>& candidates) {
  // Close enough to be a typo: one edit in short words, about a quarter of
  // the letters in long ones ("retry-wait-duration" -> "retry-wait-duration-ms").
  size_t limit = word.size() <= 3 ? 1 : std::max<size_t>(2, word.size() / 4);
  std::string best;
  size_t best_distance = limit + 1;
  std::string w = lower(word);
  for (const auto& c : candidates) {
    size_t d = edit_distance(w, lower(c));
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

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

extractor_config load_extractor(const std::string& path) {
  return read_extractor(document(path));
}

applier_config load_applier(const std::string& path) {
  return read_applier(document(path));
}

filter_config load_filter(const std::string& path) {
  return read_filter(document(path));
}

map_config load_map(const std::string& path) {
  return read_map(document(path));
}

}  // namespace trib
