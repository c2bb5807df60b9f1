#include "actors/source/incremental_snapshots.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "actors/log.hpp"
#include "messages/failure.hpp"

namespace trib {

table_id watermark_table(const source_config& source, const extractor_config& ex) {
  const auto& hb = ex.realtime.heartbeat;
  return table_id{source.database, hb.schema.empty() ? "public" : hb.schema,
                  "replicate_io_cdc_watermark"};
}

table_id signal_table(const source_config& source, const signal_table_config& cfg) {
  return table_id{cfg.catalog.empty() ? source.database : cfg.catalog,
                  cfg.schema.empty() ? "public" : cfg.schema, cfg.table_name};
}

bool is_incremental_table(const source_config& source, const extractor_config& ex,
                          const table_id& t) {
  if (source.kind != source_kind::postgresql) return false;
  const auto& sg = ex.realtime.signal_table;
  return t == watermark_table(source, ex) || (sg.given() && t == signal_table(source, sg));
}

std::vector<std::string> signal_collections(const std::string& type, const std::string& data) {
  std::vector<std::string> out;
  if (type != "execute-snapshot") return out;
  try {
    auto v = boost::json::parse(data);
    for (const auto& c : v.as_object().at("data-collections").as_array())
      out.emplace_back(c.as_string());
  } catch (const std::exception& e) {
    throw error(failure_code::bad_data,
                "an execute-snapshot signal needs data {\"data-collections\": [\"db.schema.table\", "
                "...]}, not '" + data.substr(0, 120) + "' (" + e.what() + ")");
  }
  return out;
}

bool collection_names(const std::string& collection, const table_id& t) {
  std::string schema = t.schema.empty() ? "public" : t.schema;
  return collection == t.catalog + "." + schema + "." + t.table ||
         collection == schema + "." + t.table || (collection == t.table && schema == "public");
}

incremental_snapshots::incremental_snapshots(
  std::function<std::unique_ptr<chunk_source>()> open, std::string nonce, size_t chunk_rows)
  : open_source_(std::move(open)), nonce_(std::move(nonce)), chunk_rows_(std::max<size_t>(1, chunk_rows)) {}

incremental_snapshots::~incremental_snapshots() = default;

bool incremental_snapshots::add(uint32_t table, std::vector<std::string> after) {
  if (open_ && open_->at.table == table) return false;
  for (const auto& j : queue_)
    if (j.table == table) return false;
  queue_.push_back(job{table, std::move(after)});
  rows_read_[table] = 0;
  return true;
}

std::optional<uint32_t> incremental_snapshots::current() const {
  if (open_) return open_->at.table;
  if (!queue_.empty()) return queue_.front().table;
  return std::nullopt;
}

void incremental_snapshots::start_chunk(const std::vector<table_schema>& tables) {
  if (open_ || queue_.empty()) return;
  const auto& j = queue_.front();
  const auto& t = tables.at(j.table);
  chunk c;
  c.at = j;
  c.key = key_columns(t);
  if (c.key.empty() || c.key != order_columns(t)) {
    // Chunks need a key to go on after and to match changes by.
    log::warn("cannot snapshot " + to_string(t.id) +
              " incrementally: it has no primary key, NOT NULL unique key or "
              "row-identifier-key to read it in chunks by; leaves it out");
    queue_.pop_front();
    return;
  }
  ++seq_;
  c.low = nonce_ + ":" + std::to_string(seq_) + ":low";
  c.high = nonce_ + ":" + std::to_string(seq_) + ":high";
  c.window = std::make_unique<incremental_window>(j.table, key_columns(t));
  if (!source_) source_ = open_source_();
  // The low watermark before the read, the high one after: any change the
  // read may or may not have seen lies between them in the log.
  source_->write_mark(c.low);
  auto rows = source_->read(t, j.after, chunk_rows_);
  c.last = rows.size() < chunk_rows_;
  if (!rows.empty()) {
    c.has_rows = true;
    c.last_row = rows.back();
  }
  c.window->set_rows(std::move(rows));
  source_->write_mark(c.high);
  queue_.pop_front();
  open_ = std::move(c);
}

void incremental_snapshots::note(const row_change& c) {
  if (open_ && open_->window_open) open_->window->note(c);
}

std::vector<row_change> incremental_snapshots::on_mark(const std::string& mark,
                                                      const change_source& at) {
  std::vector<row_change> out;
  if (!open_) return out;
  auto& c = *open_;
  if (mark == c.low) {
    c.window_open = true;
    return out;
  }
  if (mark != c.high || !c.window_open) return out;
  out = c.window->emit(at);
  rows_emitted_ += out.size();
  rows_read_[c.at.table] += c.window->rows();
  last_chunk_rows_ = c.window->rows();
  bool last_emitted = !out.empty() && c.has_rows &&
                      chunk_key_text(out.back().after, c.key) ==
                        chunk_key_text(c.last_row, c.key);
  row_change marker;
  marker.table = c.at.table;
  marker.op = change_op::read;
  marker.source = at;
  job next{c.at.table, c.at.after};
  if (c.has_rows) {
    // next chunk's start: the last key read, emitted or not
    next.after.clear();
    for (size_t i : c.key) next.after.push_back(c.last_row.cells.at(i).text);
  }
  if (c.last) {
    // Neither image: the table's snapshot is done.
    out.push_back(std::move(marker));
  } else {
    if (!last_emitted) {
      marker.has_before = true;
      marker.before = c.last_row;
      out.push_back(std::move(marker));
    }
    queue_.push_front(next);
  }
  closed_ = c.at;
  unsent_ = true;
  open_.reset();
  return out;
}

void incremental_snapshots::lost() {
  std::optional<job> again;
  if (unsent_ && closed_) again = closed_;
  else if (open_) again = open_->at;
  open_.reset();
  unsent_ = false;
  if (!again) return;
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [&](const job& j) { return j.table == again->table; }),
               queue_.end());
  queue_.push_front(*again);
}

}  // namespace trib
