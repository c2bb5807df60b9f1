// Reads and validates the extractor, applier, filter and map files (the
// connection files are conf/connection_loader.cpp; the YAML reading they share
// is conf/yaml_reader.hpp, the valid keys conf/keys.cpp).

#include "conf/loader.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <stdexcept>
#include <string>
#include <vector>

#include "conf/keys.hpp"
#include "conf/yaml_reader.hpp"

namespace trib {

namespace {

using namespace conf_detail;

// -- extractor --------------------------------------------------------------

extractor_config read_extractor(const document& doc) {
  section root(root_of(doc, doc.load()), keys_under("Extractor", ""));
  extractor_config out;
  section snap = root.child("snapshot", keys_under("Extractor", "snapshot"));
  snap.read("threads", out.snapshot.threads, 1);
  snap.read("fetch-size-rows", out.snapshot.fetch_size_rows, 1);
  for (const auto& item : snap.at("per-table-config").items()) {
    section entry(item, keys_under("Extractor", "snapshot.per-table-config[]"));
    extractor_catalog_config cat;
    cat.catalog = entry.required("catalog").text();
    entry.read("schema", cat.schema);
    for (const auto& [name, v] : section::named(entry.at("tables"))) {
      section t(v, keys_under("Extractor", "snapshot.per-table-config[].tables.<table>"));
      extractor_table_config table;
      t.read("split-key", table.split_key);
      table.row_identifier_key = t.at("row-identifier-key").strings();
      cat.tables.emplace(name, std::move(table));
    }
    out.snapshot.per_table_config.push_back(std::move(cat));
  }

  section real = root.child("realtime", keys_under("Extractor", "realtime"));
  real.read("threads", out.realtime.threads, 1);
  real.read("fetch-size-rows", out.realtime.fetch_size_rows, 1);
  if (auto sp = real.get("start-position"); sp && !sp->is_null()) {
    section p(*sp, keys_under("Extractor", "realtime.start-position"));
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
  section hb = real.child("heartbeat", keys_under("Extractor", "realtime.heartbeat"));
  auto& h = out.realtime.heartbeat;
  hb.read("enable", h.enable);
  hb.read("catalog", h.catalog);
  hb.read("schema", h.schema);
  hb.read("table-name", h.table_name);
  hb.read("interval-ms", h.interval_ms, 1);
  if (h.enable && h.catalog.empty()) hb.at("catalog").fail("an enabled heartbeat needs a catalog");
  if (h.table_name.empty()) hb.at("table-name").fail("must not be empty");
  if (real.has("signal-table")) {
    section sg = real.child("signal-table", keys_under("Extractor", "realtime.signal-table"));
    auto& g = out.realtime.signal_table;
    sg.read("catalog", g.catalog);
    sg.read("schema", g.schema);
    g.table_name = sg.required("table-name").text();
    if (g.table_name.empty()) sg.at("table-name").fail("must not be empty");
  }
  return out;
}

// -- applier ----------------------------------------------------------------

applier_config read_applier(const document& doc) {
  section root(root_of(doc, doc.load()), keys_under("Applier", ""));
  applier_config out;
  section snap = root.child("snapshot", keys_under("Applier", "snapshot"));
  snap.read("threads", out.snapshot.threads, 1);
  snap.read("batch-size-rows", out.snapshot.batch_size_rows, 1);
  snap.read("txn-size-rows", out.snapshot.txn_size_rows, 1);
  snap.read("log-row-level-errors", out.snapshot.log_row_level_errors);
  snap.read("skip-tables-on-failures", out.snapshot.skip_tables_on_failures);

  section real = root.child("realtime", keys_under("Applier", "realtime"));
  real.read("threads", out.realtime.threads, 1);
  real.read("replay-consistency", out.realtime.consistency, {"GLOBAL", "EVENTUAL"},
            {replay_consistency::global, replay_consistency::eventual});
  real.read("txn-size-rows", out.realtime.txn_size_rows, 1);
  real.read("batch-size-rows", out.realtime.batch_size_rows, 1);
  real.read("skip-tables-on-failures", out.realtime.skip_tables_on_failures);

  root.read("split-stream", out.split_stream);

  section msg = root.child("message", keys_under("Applier", "message"));
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
  if (auto n = root.get("max-consumer-lag"))
    out.max_consumer_lag = static_cast<uint64_t>(n->integer(1, LLONG_MAX));
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
  section root(root_of(doc, doc.load()), keys_under("Filter", ""));
  filter_config out;
  for (const auto& item : root.at("allow").items()) {
    section entry(item, keys_under("Filter", "allow[]"));
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
        section t(v, keys_under("Filter", "allow[].allow.<table>"));
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
  section root(root_of(doc, doc.load()), keys_under("Map", ""));
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

std::pair<std::string, int> split_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("'" + text + "' is not host:port");
  std::string host = text.substr(0, colon);
  int port = 0;
  const char* b = text.data() + colon + 1;
  const char* e = text.data() + text.size();
  auto r = std::from_chars(b, e, port);
  if (r.ec != std::errc{} || r.ptr != e || port < 1 || port > 65535)
    throw std::invalid_argument("'" + text + "' has no port 1-65535 after the ':'");
  if (host.empty()) throw std::invalid_argument("'" + text + "' has no host before the ':'");
  return {host, port};
}

}  // namespace trib