#include "actors/apply/envelope.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "actors/apply/column_codec.hpp"
#include "actors/apply/json_text.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace json = boost::json;

namespace {

// "<connector>.<catalog>[.<schema>].<table>", the prefix of every schema name.
std::string schema_name_prefix(const std::string& connector, const table_id& t) {
  return connector + "." + to_string(t);
}

json::object plain_field(const char* type, bool optional, const char* field) {
  json::object o;
  o["type"] = type;
  o["optional"] = optional;
  o["field"] = field;
  return o;
}

// The `source` block's fields, Debezium's list for each source kind in
// Debezium's order (which is also the order of Arcion's sample).
json::array source_fields(source_kind kind) {
  json::array f;
  f.push_back(plain_field("string", false, "version"));
  f.push_back(plain_field("string", false, "connector"));
  f.push_back(plain_field("string", false, "name"));
  f.push_back(plain_field("int64", false, "ts_ms"));
  f.push_back(plain_field("string", true, "snapshot"));
  f.push_back(plain_field("string", false, "db"));
  f.push_back(plain_field("string", true, "sequence"));
  if (kind == source_kind::postgresql) {
    f.push_back(plain_field("string", false, "schema"));
    f.push_back(plain_field("string", false, "table"));
    f.push_back(plain_field("int64", true, "txId"));
    f.push_back(plain_field("int64", true, "lsn"));
  } else {
    f.push_back(plain_field("string", true, "table"));
    f.push_back(plain_field("int64", false, "server_id"));
    f.push_back(plain_field("string", true, "gtid"));
    f.push_back(plain_field("string", false, "file"));
    f.push_back(plain_field("int64", false, "pos"));
    f.push_back(plain_field("int32", false, "row"));
    f.push_back(plain_field("int64", true, "thread"));
    f.push_back(plain_field("string", true, "query"));
  }
  return f;
}

// A struct-typed field of the envelope, in the key order of Arcion's sample
// (type, optional, field, name, fields).
json::object struct_field(bool optional, const char* field, json::value name,
                          json::array fields) {
  json::object o;
  o["type"] = "struct";
  o["optional"] = optional;
  o["field"] = field;
  o["name"] = std::move(name);
  o["fields"] = std::move(fields);
  return o;
}

}  // namespace

struct envelope_builder::impl {
  table_schema table;
  message_config message;
  source_facts facts;
  std::vector<column_codec> codecs;
  std::vector<size_t> key_index;
  /// `"<column>":` per column, escaped once.
  std::vector<std::string> field_keys;
  /// `{"schema":<schema>,"payload":` when schemas are included, else empty.
  std::string key_head;
  std::string value_head;
  /// The source block up to its ts_ms value.
  std::string source_head;
  /// The source block from "snapshot" up to the first position value, for
  /// snapshot "true" and "last".
  std::string source_snapshot_true;
  std::string source_snapshot_last;
  /// The same for changes (snapshot "false"), up to txId (PostgreSQL) or
  /// gtid (MySQL/MariaDB).
  std::string source_change;
  /// `,"op":"r"` or `,"op":"READ"`.
  std::string op_read;
  /// The op members of changes, indexed by change_op.
  std::string op_change[4];
  /// What follows the row in a snapshot entry (source block, transaction,
  /// op, ts_ms, closing braces) for the position, mark and time it was last
  /// built for: the rows of one write share them, so it is built once.
  struct snapshot_tail {
    bool built = false;
    source_position pos;
    snapshot_mark mark = snapshot_mark::yes;
    int64_t ts_ms = 0;
    std::string text;
  };
  mutable snapshot_tail tail;

  const std::string& snapshot_tail_for(const source_position& pos, snapshot_mark mark,
                                       int64_t ts_ms) const;

  void write_row(json_writer& w, const row& r) const;
  void write_key_payload(json_writer& w, const row& r) const;
  void write_snapshot_source(json_writer& w, const source_position& pos,
                             snapshot_mark mark, int64_t ts_ms) const;
  std::string build_key(const row& r) const;
  void build_key_into(std::string& out, const row& r) const;
  /// The key document appended to `out`.
  void append_key(std::string& out, const row& r) const;
  void write_change_source(json_writer& w, const change_origin& o) const;
};

void envelope_builder::impl::write_row(json_writer& w, const row& r) const {
  if (r.cells.size() != codecs.size())
    throw error{failure_code::bad_data,
                to_string(table.id) + ": row has " + std::to_string(r.cells.size())
                  + " values for " + std::to_string(codecs.size()) + " columns"};
  w.raw('{');
  for (size_t i = 0; i < codecs.size(); ++i) {
    if (i > 0) w.raw(',');
    w.raw(field_keys[i]);
    codecs[i].write(w, r.cells[i]);
  }
  w.raw('}');
}

void envelope_builder::impl::write_key_payload(json_writer& w, const row& r) const {
  w.raw('{');
  for (size_t k = 0; k < key_index.size(); ++k) {
    size_t i = key_index[k];
    if (k > 0) w.raw(',');
    w.raw(field_keys[i]);
    codecs[i].write(w, r.cells.at(i));
  }
  w.raw('}');
}

void envelope_builder::impl::write_snapshot_source(json_writer& w,
                                                   const source_position& pos,
                                                   snapshot_mark mark,
                                                   int64_t ts_ms) const {
  w.raw(source_head);
  w.number(ts_ms);
  w.raw(mark == snapshot_mark::last ? source_snapshot_last : source_snapshot_true);
  if (facts.kind == source_kind::postgresql) {
    w.number(pos.lsn);
    w.raw('}');
    return;
  }
  if (pos.gtid.empty()) w.null();
  else w.string(pos.gtid);
  w.raw(",\"file\":");
  w.string(pos.binlog_file);
  w.raw(",\"pos\":");
  w.number(pos.binlog_pos);
  w.raw(",\"row\":0,\"thread\":null,\"query\":null}");
}

const std::string& envelope_builder::impl::snapshot_tail_for(const source_position& pos,
                                                             snapshot_mark mark,
                                                             int64_t ts_ms) const {
  if (tail.built && tail.mark == mark && tail.ts_ms == ts_ms && tail.pos.lsn == pos.lsn &&
      tail.pos.binlog_pos == pos.binlog_pos && tail.pos.binlog_file == pos.binlog_file &&
      tail.pos.gtid == pos.gtid)
    return tail.text;
  tail.text.clear();
  json_writer w{tail.text};
  w.raw(",\"source\":");
  // The snapshot's own time stands in for the commit time of its rows.
  write_snapshot_source(w, pos, mark, ts_ms);
  w.raw(",\"transaction\":null");
  w.raw(op_read);
  w.raw(",\"ts_ms\":");
  w.number(ts_ms);
  w.raw('}');
  if (!value_head.empty()) w.raw('}');
  tail.built = true;
  tail.pos = pos;
  tail.mark = mark;
  tail.ts_ms = ts_ms;
  return tail.text;
}

std::string envelope_builder::impl::build_key(const row& r) const {
  std::string out;
  build_key_into(out, r);
  return out;
}

void envelope_builder::impl::build_key_into(std::string& out, const row& r) const {
  out.clear();
  out.reserve(key_head.size() + 64);
  append_key(out, r);
}

void envelope_builder::impl::append_key(std::string& out, const row& r) const {
  if (key_index.empty()) {
    out += "default";
    return;
  }
  json_writer w{out};
  w.raw(key_head);
  write_key_payload(w, r);
  if (!key_head.empty()) w.raw('}');
}

void envelope_builder::impl::write_change_source(json_writer& w,
                                                 const change_origin& o) const {
  w.raw(source_head);
  w.number(o.commit_ms);
  w.raw(source_change);
  if (facts.kind == source_kind::postgresql) {
    if (o.source.xid < 0) w.null();
    else w.number(o.source.xid);
    w.raw(",\"lsn\":");
    w.number(o.source.position.lsn);
    w.raw('}');
    return;
  }
  if (o.source.position.gtid.empty()) w.null();
  else w.string(o.source.position.gtid);
  w.raw(",\"file\":");
  w.string(o.source.position.binlog_file);
  w.raw(",\"pos\":");
  w.number(o.source.position.binlog_pos);
  w.raw(",\"row\":");
  w.number(int64_t{o.source.row});
  w.raw(",\"thread\":");
  if (o.source.thread < 0) w.null();
  else w.number(o.source.thread);
  w.raw(",\"query\":");
  if (o.source.query.empty()) w.null();
  else w.string(o.source.query);
  w.raw('}');
}

envelope_builder::envelope_builder(const table_schema& t, const message_config& m,
                                   const source_facts& facts)
  : impl_(std::make_unique<impl>()) {
  auto& s = *impl_;
  s.table = t;
  s.message = m;
  s.facts = facts;
  s.key_index = key_columns(t);
  for (const auto& col : t.columns) {
    s.codecs.emplace_back(t.id, col, m.decimals);
    s.field_keys.push_back(json_quote(col.name) + ":");
  }
  std::string prefix = schema_name_prefix(m.connector_name, t.id);

  if (m.include_schema) {
    json::array key_fields;
    for (size_t i : s.key_index) {
      // Key columns are never null in a key, whatever the column says.
      auto f = s.codecs[i].field_schema();
      f["optional"] = false;
      key_fields.push_back(std::move(f));
    }
    json::object key_schema;
    key_schema["type"] = "struct";
    key_schema["optional"] = false;
    key_schema["name"] = prefix + ".Key";
    key_schema["fields"] = std::move(key_fields);
    s.key_head = "{\"schema\":" + json::serialize(key_schema) + ",\"payload\":";

    json::array row_fields;
    for (const auto& c : s.codecs) row_fields.push_back(c.field_schema());
    json::array transaction_fields;
    transaction_fields.push_back(plain_field("string", false, "id"));
    transaction_fields.push_back(plain_field("int64", false, "total_order"));
    transaction_fields.push_back(plain_field("int64", false, "data_collection_order"));
    json::array fields;
    // before is null for snapshot rows and inserts, after for deletes: both
    // optional, as Debezium declares them.
    fields.push_back(struct_field(true, "before", json::value(prefix + ".Value"), row_fields));
    fields.push_back(struct_field(true, "after", json::value(prefix + ".Value"), row_fields));
    fields.push_back(struct_field(false, "source", json::value(m.connector_name),
                                  source_fields(facts.kind)));
    fields.push_back(struct_field(true, "transaction", json::value("event.block"),
                                  std::move(transaction_fields)));
    fields.push_back(plain_field("string", false, "op"));
    fields.push_back(plain_field("int64", true, "ts_ms"));
    json::object value_schema;
    value_schema["type"] = "struct";
    value_schema["optional"] = false;
    value_schema["name"] = prefix + ".Envelope";
    value_schema["fields"] = std::move(fields);
    s.value_head = "{\"schema\":" + json::serialize(value_schema) + ",\"payload\":";
  }

  s.source_head = "{\"version\":" + json_quote(facts.version)
                  + ",\"connector\":" + json_quote(to_string(facts.kind))
                  + ",\"name\":" + json_quote(m.connector_name) + ",\"ts_ms\":";
  // The part after "snapshot" up to the first position value.
  std::string after_mark = ",\"db\":" + json_quote(t.id.catalog) + ",\"sequence\":null";
  std::string change_tail = after_mark;
  if (facts.kind == source_kind::postgresql) {
    after_mark += ",\"schema\":" + json_quote(t.id.schema) + ",\"table\":"
                  + json_quote(t.id.table) + ",\"txId\":";
    change_tail = after_mark;
    // A snapshot row belongs to no transaction of the log.
    after_mark += "null,\"lsn\":";
  } else {
    after_mark += ",\"table\":" + json_quote(t.id.table) + ",\"server_id\":"
                  + std::to_string(facts.server_id) + ",\"gtid\":";
    change_tail = after_mark;
  }
  s.source_snapshot_true = ",\"snapshot\":\"true\"" + after_mark;
  s.source_snapshot_last = ",\"snapshot\":\"last\"" + after_mark;
  s.source_change = ",\"snapshot\":\"false\"" + change_tail;
  bool verbose = m.codes == op_codes::verbose;
  s.op_read = verbose ? ",\"op\":\"READ\"" : ",\"op\":\"r\"";
  s.op_change[static_cast<int>(change_op::insert)] = verbose ? ",\"op\":\"INSERT\"" : ",\"op\":\"c\"";
  s.op_change[static_cast<int>(change_op::update)] = verbose ? ",\"op\":\"UPDATE\"" : ",\"op\":\"u\"";
  s.op_change[static_cast<int>(change_op::erase)] = verbose ? ",\"op\":\"DELETE\"" : ",\"op\":\"d\"";
  s.op_change[static_cast<int>(change_op::truncate)] =
    verbose ? ",\"op\":\"TRUNCATE\"" : ",\"op\":\"t\"";
}

envelope_builder::~envelope_builder() = default;
envelope_builder::envelope_builder(envelope_builder&&) noexcept = default;

stream_entry envelope_builder::snapshot_entry(const row& r, const source_position& pos,
                                              snapshot_mark mark, int64_t now_ms) const {
  stream_entry e;
  append_snapshot_key(e.key, r);
  append_snapshot_value(e.value, r, pos, mark, now_ms);
  return e;
}

void envelope_builder::append_snapshot_key(std::string& out, const row& r) const {
  impl_->append_key(out, r);
}

void envelope_builder::append_snapshot_value(std::string& out, const row& r,
                                             const source_position& pos, snapshot_mark mark,
                                             int64_t now_ms) const {
  const auto& s = *impl_;
  json_writer w{out};
  w.raw(s.value_head);
  w.raw("{\"before\":null,\"after\":");
  s.write_row(w, r);
  w.raw(s.snapshot_tail_for(pos, mark, now_ms));
}

std::string envelope_builder::key(const row& r) const { return impl_->build_key(r); }

stream_entry envelope_builder::change_entry(change_op op, const row* before,
                                            const row* after,
                                            const change_origin& origin,
                                            int64_t now_ms) const {
  stream_entry e;
  change_entry_into(e, op, before, after, origin, now_ms);
  return e;
}

void envelope_builder::change_entry_into(stream_entry& e, change_op op, const row* before,
                                         const row* after, const change_origin& origin,
                                         int64_t now_ms) const {
  const auto& s = *impl_;
  const row* key_row = after != nullptr ? after : before;
  if (key_row != nullptr && op != change_op::truncate) s.build_key_into(e.key, *key_row);
  else e.key = "default";
  e.value.clear();
  size_t cells = origin.source.query.size();
  for (const row* r : {before, after})
    if (r != nullptr)
      for (const auto& c : r->cells) cells += c.text.size() + 16;
  e.value.reserve(s.value_head.size() + s.source_head.size() + 320 + cells);
  json_writer w{e.value};
  w.raw(s.value_head);
  w.raw("{\"before\":");
  if (before != nullptr) s.write_row(w, *before);
  else w.null();
  w.raw(",\"after\":");
  if (after != nullptr) s.write_row(w, *after);
  else w.null();
  w.raw(",\"source\":");
  s.write_change_source(w, origin);
  w.raw(",\"transaction\":{\"id\":");
  w.string(origin.txn_id);
  w.raw(",\"total_order\":");
  w.number(origin.total_order);
  w.raw(",\"data_collection_order\":");
  w.number(origin.data_collection_order);
  w.raw('}');
  w.raw(s.op_change[static_cast<int>(op)]);
  w.raw(",\"ts_ms\":");
  w.number(now_ms);
  w.raw('}');
  if (!s.value_head.empty()) w.raw('}');
}

stream_entry envelope_builder::tombstone(const row& deleted) const {
  return stream_entry{impl_->build_key(deleted), "default"};
}

bool envelope_builder::key_changed(const row& before, const row& after) const {
  for (size_t i : impl_->key_index)
    if (!(before.cells.at(i) == after.cells.at(i))) return true;
  return false;
}

// ---- stream names -----------------------------------------------------------

std::string snapshot_stream_name(const table_id& t, const map_config& m) {
  char delimiter = m.delimiter == name_delimiter::dot ? '.' : '_';
  std::string out;
  for (const std::string* part : {&t.catalog, &t.schema, &t.table}) {
    if (part->empty()) continue;
    if (!out.empty()) out += delimiter;
    out += *part;
  }
  if (m.name_case == convert_case::lower)
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  else if (m.name_case == convert_case::upper)
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string cdc_stream_name(const table_id& t, const map_config& m) {
  // The suffix is Arcion's fixed spelling; the map file renames objects only.
  return snapshot_stream_name(t, m) + "_cdc_logs";
}

std::string global_cdc_stream_name(const std::string& group, const std::string& id) {
  return "replicate_io_cdc_logs_" + group + "_" + id;
}

std::string schema_stream_name(const std::string& group, const std::string& id) {
  return "replicate_io_replication_schema_" + group + "_" + id;
}

std::string checkpoint_key(const std::string& group, const std::string& id) {
  return "replicate_io_checkpoint_" + group + "_" + id;
}

// ---- checkpoints -------------------------------------------------------------

namespace {

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or values past
// U+10FFFF), i.e. whether a JSON string can carry it unchanged.
bool is_utf8(const std::string& s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07;
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static const uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

[[noreturn]] void bad_checkpoint(const std::string& text, const char* why) {
  constexpr size_t shown = 200;
  throw error{failure_code::bad_data,
              std::string{"malformed snapshot checkpoint ("} + why + "): "
                + (text.size() > shown ? text.substr(0, shown) + "..." : text)};
}

}  // namespace

std::string encode_snapshot_checkpoint(const snapshot_position& p) {
  json::array last_key;
  for (const auto& c : p.last_key) {
    if (c.null) {
      last_key.emplace_back(nullptr);
    } else if (is_utf8(c.text)) {
      last_key.emplace_back(c.text);
    } else {
      // Binary keys (bytea, VARBINARY) are not JSON text: carry them as
      // base64 under a marker object.
      last_key.push_back(json::object{{"base64", base64_encode(c.text)}});
    }
  }
  json::object o;
  o["phase"] = "snapshot";
  o["rows"] = p.rows_done;
  o["done"] = p.done;
  o["last_key"] = std::move(last_key);
  return json::serialize(o);
}

snapshot_position decode_snapshot_checkpoint(const std::string& text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) bad_checkpoint(text, "not JSON");
  const json::object* o = v.if_object();
  if (o == nullptr) bad_checkpoint(text, "not an object");
  const json::value* phase = o->if_contains("phase");
  if (phase == nullptr || !phase->is_string() || phase->get_string() != "snapshot")
    bad_checkpoint(text, "phase is not \"snapshot\"");
  snapshot_position p;
  const json::value* rows = o->if_contains("rows");
  if (rows != nullptr && rows->is_uint64()) p.rows_done = rows->get_uint64();
  else if (rows != nullptr && rows->is_int64() && rows->get_int64() >= 0)
    p.rows_done = static_cast<uint64_t>(rows->get_int64());
  else bad_checkpoint(text, "rows is not a count");
  const json::value* done = o->if_contains("done");
  if (done == nullptr || !done->is_bool()) bad_checkpoint(text, "done is not a boolean");
  p.done = done->get_bool();
  const json::value* key = o->if_contains("last_key");
  if (key == nullptr || !key->is_array()) bad_checkpoint(text, "last_key is not an array");
  for (const auto& k : key->get_array()) {
    if (k.is_null()) {
      p.last_key.push_back(null_cell());
    } else if (k.is_string()) {
      p.last_key.push_back(make_cell(std::string(k.get_string())));
    } else if (const json::object* b = k.if_object();
               b != nullptr && b->size() == 1 && b->contains("base64")
               && b->at("base64").is_string()) {
      std::string bytes;
      const auto& s = b->at("base64").get_string();
      if (!base64_decode({s.data(), s.size()}, bytes))
        bad_checkpoint(text, "last_key holds bad base64");
      p.last_key.push_back(make_cell(std::move(bytes)));
    } else {
      bad_checkpoint(text, "last_key holds a value of the wrong type");
    }
  }
  return p;
}

}  // namespace trib
