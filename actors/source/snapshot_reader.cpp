#include "actors/source/snapshot_reader.hpp"

#include <algorithm>

#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/source/session_common.hpp"

namespace trib {

snapshot_reader_state::snapshot_reader_state() = default;
snapshot_reader_state::~snapshot_reader_state() = default;

std::string filter_conditions(const filter_config& filter, const table_id& t) {
  source_detail::table_filter tf;
  if (!source_detail::filter_allows(filter, t, &tf)) return {};
  return tf.conditions;
}

namespace {

using reader_ptr = snapshot_reader_actor::stateful_pointer<snapshot_reader_state>;

// Values of the order columns of `r`.
std::vector<cell> key_of(const table_schema& t, const row& r) {
  std::vector<cell> key;
  for (auto i : order_columns(t))
    if (i < r.cells.size()) key.push_back(r.cells[i]);
  return key;
}

// Opens the session and the table cursor, after the last row read.
void open(snapshot_reader_state& st) {
  if (st.reader) return;
  if (order_columns(st.schema).empty() && st.rows_read > 0)
    throw error(failure_code::source_state,
                "lost the source in the middle of a table without key "
                "columns, which cannot resume there");
  if (st.settings.one_snapshot && st.rows_read > 0)
    throw error(failure_code::source_state,
                "lost the source in the middle of the consistent snapshot of " +
                  to_string(st.schema.id) +
                  ", which cannot be opened again; run full again with --overwrite");
  st.session = st.settings.open(st.settings.source);
  st.source = st.settings.exported_snapshot.empty()
                ? st.session->begin_snapshot()
                : st.session->begin_snapshot_at(st.settings.exported_snapshot,
                                                st.settings.exported_at);
  st.reader = st.session->open_table(st.schema, st.last_read_key,
                                     st.settings.conditions);
}

void pump(reader_ptr self);
bool wants_rows(const snapshot_reader_state& st);

// Rows at the front of the buffer that make the next batch: batch-size-rows,
// or fewer once they reach max_batch_bytes (at least one row); their bytes
// in `bytes`.
size_t next_batch_rows(const snapshot_reader_state& st, size_t& bytes) {
  bytes = 0;
  size_t n = 0;
  while (n < st.buffer.size() && n < st.settings.batch_size_rows &&
         (n == 0 || bytes < st.settings.max_batch_bytes))
    bytes += st.buffer_row_bytes[n++];
  return n;
}

// Whether another batch may go out: a free slot in the window of batches
// and of bytes (one batch always may, however wide its rows).
bool window_open(const snapshot_reader_state& st) {
  return st.in_flight < st.settings.max_in_flight &&
         (st.in_flight == 0 || st.in_flight_bytes < st.settings.max_in_flight_bytes);
}

// Sends `n` rows of the buffer (`bytes` of them) as the next batch.
void send_batch(reader_ptr self, size_t n, size_t bytes, bool done) {
  auto& st = self->state;
  row_batch b;
  b.table = st.table;
  b.seq = st.next_seq++;
  b.rows.assign(std::make_move_iterator(st.buffer.begin()),
                std::make_move_iterator(st.buffer.begin() + n));
  st.buffer.erase(st.buffer.begin(), st.buffer.begin() + n);
  st.buffer_row_bytes.erase(st.buffer_row_bytes.begin(), st.buffer_row_bytes.begin() + n);
  st.buffer_bytes -= std::min(bytes, st.buffer_bytes);
  st.sent.rows_done += n;
  if (n > 0) st.sent.last_key = key_of(st.schema, b.rows.back());
  st.sent.done = done;
  b.position = st.sent;
  b.source = st.source;
  b.range = st.settings.range;
  b.ranges = st.settings.ranges;
  if (done) st.final_sent = true;
  ++st.in_flight;
  st.in_flight_batches[b.seq] = bytes;
  st.in_flight_bytes += bytes;
  auto seq = b.seq;
  self->request(st.applier, caf::infinite, std::move(b))
    .then(
      [=](batch_ack& ack) {
        auto& st = self->state;
        if (st.reader) st.reader->give_back(std::move(ack.spare));
        --st.in_flight;
        auto it = st.in_flight_batches.find(seq);
        if (it != st.in_flight_batches.end()) {
          st.in_flight_bytes -= std::min(it->second, st.in_flight_bytes);
          st.in_flight_batches.erase(it);
        }
        if ((st.final_sent || st.stopping) && st.in_flight == 0) {
          self->quit();
          return;
        }
        pump(self);
      },
      [=](caf::error&) {
        // The applier failed the table and told the coordinator.
        self->quit();
      });
}

// Whether the buffer holds a whole batch with a row left behind.
bool full_batch_ready(const snapshot_reader_state& st) {
  if (st.buffer.size() > st.settings.batch_size_rows) return true;
  if (st.buffer_bytes < st.settings.max_batch_bytes) return false;
  size_t bytes = 0;
  return next_batch_rows(st, bytes) < st.buffer.size();
}

// Sends every batch that is ready and asks for more rows when needed.
void pump(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping) return;
  // A full batch goes out only while a row stays behind, so that the final
  // batch is never empty unless the table is.
  while (!st.final_sent && window_open(st) && full_batch_ready(st)) {
    size_t bytes = 0;
    size_t n = next_batch_rows(st, bytes);
    send_batch(self, n, bytes, false);
  }
  if (!st.final_sent && st.end_of_table && window_open(st)) {
    size_t bytes = 0;
    size_t n = next_batch_rows(st, bytes);
    send_batch(self, n, bytes, n == st.buffer.size());
  }
  if (!st.read_pending && wants_rows(st)) {
    st.read_pending = true;
    self->send(self, read_atom::value);
  }
}

// Reports the table as skipped and stops.
void give_up(reader_ptr self, const failure& f) {
  auto& st = self->state;
  log::error("fails to read " + to_string(st.schema.id) + " (" +
             to_string(f.code) + "): " + f.what);
  self->send(st.coordinator, table_done{st.table, 0, true, f});
  self->quit();
}

// Whether the reader should fetch more rows now: only while a batch slot is
// free and the buffer cannot fill a batch, which bounds the buffer to one
// batch plus one fetch.
bool wants_rows(const snapshot_reader_state& st) {
  return !st.final_sent && !st.end_of_table && window_open(st) &&
         !full_batch_ready(st);
}

// Rows for the next fetch: fetch-size-rows, but no more than fill one batch
// at the average row size so far (the first fetch measures it), so that the
// rows a reader holds outside its window stay near one batch however wide
// they are.
size_t fetch_rows(const snapshot_reader_state& st) {
  size_t least = std::min(st.settings.fetch_size_rows, tuning::snapshot_min_fetch_rows);
  if (st.rows_read == 0) return least;
  size_t avg = std::max<size_t>(1, static_cast<size_t>(st.bytes_read / st.rows_read));
  return std::max(least, std::min(st.settings.fetch_size_rows, st.settings.max_batch_bytes / avg));
}

void read_chunk(reader_ptr self) {
  auto& st = self->state;
  if (!wants_rows(st)) {
    pump(self);
    return;
  }
  failure f;
  try {
    open(st);
    auto limit = fetch_rows(st);
    st.reader->limit_spare(limit);
    auto rows = st.reader->next(limit);
    st.failures = 0;
    if (rows.empty()) {
      st.end_of_table = true;
      st.reader.reset();
      st.session->end_snapshot();
      st.session.reset();
    } else {
      st.rows_read += rows.size();
      st.last_read_key = key_of(st.schema, rows.back());
      for (const auto& r : rows) {
        st.buffer_row_bytes.push_back(row_bytes(r));
        st.buffer_bytes += st.buffer_row_bytes.back();
        st.bytes_read += st.buffer_row_bytes.back();
      }
      st.buffer.insert(st.buffer.end(), std::make_move_iterator(rows.begin()),
                       std::make_move_iterator(rows.end()));
    }
    pump(self);
    return;
  } catch (const error& e) {
    f = e.to_failure();
  } catch (const std::exception& e) {
    f = failure{failure_code::internal, e.what()};
  }
  st.reader.reset();
  st.session.reset();
  auto d = st.policy.next(++st.failures, f.code);
  if (!d.retry) {
    give_up(self, f);
    return;
  }
  metrics::add_retry(to_string(f.code));
  log::warn("retries reading " + to_string(st.schema.id) + " in " +
            std::to_string(d.wait.count()) + " ms (attempt " +
            std::to_string(st.failures) + " of " +
            std::to_string(st.policy.max_retries) + ", " + to_string(f.code) +
            "): " + f.what);
  st.read_pending = true;
  self->delayed_send(self, d.wait, read_atom::value);
}

}  // namespace

snapshot_reader_actor::behavior_type
snapshot_reader(snapshot_reader_actor::stateful_pointer<snapshot_reader_state> self,
                uint32_t table, table_schema schema,
                snapshot_reader_settings settings, table_applier_actor applier,
                coordinator_actor coordinator) {
  auto& st = self->state;
  st.table = table;
  st.schema = std::move(schema);
  st.settings = std::move(settings);
  if (st.settings.fetch_size_rows == 0) st.settings.fetch_size_rows = 1;
  if (st.settings.batch_size_rows == 0) st.settings.batch_size_rows = 1;
  if (st.settings.max_in_flight == 0) st.settings.max_in_flight = 1;
  if (st.settings.max_batch_bytes == 0) st.settings.max_batch_bytes = 1;
  if (st.settings.ranges == 0) st.settings.ranges = 1;
  st.policy = retry_policy_for(st.settings.source);
  st.applier = std::move(applier);
  st.coordinator = std::move(coordinator);
  // A resumed table continues after the last key its checkpoint records.
  st.last_read_key = st.settings.start.last_key;
  st.sent.last_key = st.settings.start.last_key;
  st.sent.rows_done = st.settings.start.rows_done;
  // One line per range of a split table is chatter on the terminal (issue
  // 15, point 4): the coordinator names the table; the ranges go to trace.log.
  if (st.settings.start.rows_done > 0)
    log::write(st.settings.range > 0 ? log::level::debug : log::level::info,
               "resumes " + to_string(st.schema.id) +
                 (st.settings.range > 0 ? " range " + std::to_string(st.settings.range)
                                        : std::string()) +
                 " after row " + std::to_string(st.settings.start.rows_done));
  st.read_pending = true;
  self->send(self, read_atom::value);
  return {
    [=](read_atom) {
      self->state.read_pending = false;
      if (self->state.stopping) return;
      read_chunk(self);
    },
    [=](stop_atom) {
      auto& st = self->state;
      if (st.stopping) return;
      st.stopping = true;
      log::write(st.settings.range > 0 ? log::level::debug : log::level::info,
                 "stops reading " + to_string(st.schema.id) +
                   (st.settings.range > 0 ? " range " + std::to_string(st.settings.range)
                                          : std::string()) +
                   " after row " + std::to_string(st.sent.rows_done) + " (" +
                   std::to_string(st.in_flight) + " batches to commit)");
      // Rows read but not sent are dropped: --resume reads them again.
      st.buffer.clear();
      st.buffer_row_bytes.clear();
      st.buffer_bytes = 0;
      st.reader.reset();
      st.session.reset();
      if (st.in_flight == 0) self->quit();
    },
  };
}

}  // namespace trib
