#include "actors/apply/table_applier.hpp"

#include <algorithm>
#include <chrono>

#include "actors/apply/envelope.hpp"
#include "actors/control/progress.hpp"
#include "actors/control/run_stats.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/sink/redis_client.hpp"

namespace trib {

table_applier_state::table_applier_state() = default;
table_applier_state::~table_applier_state() = default;

namespace {

using applier_ptr = table_applier_actor::stateful_pointer<table_applier_state>;

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

// Row contents for trace.log; only ever logged at debug level.
std::string describe(const row& r) {
  std::string out = "(";
  for (size_t i = 0; i < r.cells.size(); ++i) {
    if (i > 0) out += ", ";
    out += r.cells[i].null ? "NULL" : "'" + r.cells[i].text + "'";
  }
  return out + ")";
}

// Values of the order columns of `r`: where a resumed read continues.
std::vector<cell> order_key(const table_schema& t, const row& r) {
  std::vector<cell> key;
  for (auto i : order_columns(t))
    if (i < r.cells.size()) key.push_back(r.cells[i]);
  return key;
}

void fail(applier_ptr self, const failure& f);
void on_written(applier_ptr self);

// Builds the next write from the first batch with rows left to write and
// sends it; false when there is nothing to build.
bool issue_next(applier_ptr self) {
  auto& st = self->state;
  if (st.issued_batches >= st.batches.size()) return false;
  auto& in = st.batches[st.issued_batches];
  auto& b = in.batch;
  write_batch w;
  w.stream = st.stream;
  w.checkpoint_key = st.checkpoint_key;
  w.checkpoint_field =
    b.range == 0 ? st.stream : st.stream + "#" + std::to_string(b.range);
  // The table's last row is the final row of the last range to finish:
  // writes go out in arrival order, so that is the final batch issued last.
  bool last_of_table =
    b.position.done && st.finals_issued + 1 >= std::max<uint32_t>(b.ranges, 1);
  size_t n = b.rows.size();
  auto ts = now_ms();
  // Entries are built straight into the write's RESP bytes: no string per
  // entry, no copy, and the writer sends the bytes as they are.
  w.encoded.reserve(std::min<size_t>(st.settings.max_write_bytes, 64u << 20) +
                    st.largest_entry + 256);
  while (in.next_row < n &&
         (w.encoded_count == 0 || w.encoded.size() < st.settings.max_write_bytes)) {
    const auto& r = b.rows[in.next_row];
    auto mark = last_of_table && in.next_row + 1 == n ? snapshot_mark::last
                                                      : snapshot_mark::yes;
    size_t entry_start = w.encoded.size();
    try {
      st.xadd->append_built(
        w.encoded, [&](std::string& out) { st.builder->append_snapshot_key(out, r); },
        [&](std::string& out) {
          st.builder->append_snapshot_value(out, r, b.source, mark, ts);
        });
      size_t entry_bytes = w.encoded.size() - entry_start;
      if (entry_bytes > st.settings.max_entry_bytes) {
        // Redis drops the connection on a longer argument, on every try:
        // the row is bad data, never retried.
        w.encoded.resize(entry_start);
        ++st.bad_rows;
        metrics::add_rows_skipped(to_string(st.schema.id), 1);
        auto row_number = b.position.rows_done - (n - in.next_row) + 1;
        log::warn("skips row " + std::to_string(row_number) +
                  (b.range > 0 ? " of range " + std::to_string(b.range) : std::string()) +
                  " of " + to_string(st.schema.id) + ": its entry is " +
                  std::to_string(entry_bytes) + " bytes, over the " +
                  std::to_string(st.settings.max_entry_bytes) +
                  " bytes Redis accepts (proto-max-bulk-len), so it can never be written");
        ++in.next_row;
        continue;
      }
      st.largest_entry = std::max(st.largest_entry, entry_bytes);
      ++w.encoded_count;
    } catch (const std::exception& e) {
      w.encoded.resize(entry_start);
      // Row-level errors skip the row, never the table (design section 7).
      ++st.bad_rows;
      metrics::add_rows_skipped(to_string(st.schema.id), 1);
      if (st.settings.applier.snapshot.log_row_level_errors)
        log::debug("skips a row of " + to_string(st.schema.id) + ": " +
                   e.what() + "; row " + describe(r));
    }
    ++in.next_row;
  }
  table_applier_state::in_write iw;
  iw.entries = w.size();
  if (in.next_row < n) {
    // Part of a batch: the checkpoint is the key of its last row, so a
    // resumed run reads on from there.
    snapshot_position part;
    part.last_key = order_key(st.schema, b.rows[in.next_row - 1]);
    part.rows_done = b.position.rows_done - (n - in.next_row);
    w.checkpoint_value = encode_snapshot_checkpoint(part);
  } else {
    w.checkpoint_value = encode_snapshot_checkpoint(b.position);
    iw.ends_batch = true;
    in.issued = true;
    ++st.issued_batches;
    if (b.position.done) ++st.finals_issued;
  }
  // More rows are in hand (the rest of this batch, or batches after it), and
  // with more than one write allowed in flight the next one goes out as soon
  // as the writer answers an earlier one: the writer may leave this one's
  // replies on the wire until then.
  w.more_follows = st.settings.max_writes_in_flight > 1 &&
                   (in.next_row < n || st.issued_batches < st.batches.size());
  st.writes.push_back(iw);
  self->request(st.writer, caf::infinite, std::move(w))
    .then([=](write_ack&) { on_written(self); },
          [=](caf::error& err) {
            if (!self->state.failed) fail(self, to_failure(err));
          });
  return true;
}

// Keeps max_writes_in_flight writes at the writer while there is work.
void pump(applier_ptr self) {
  auto& st = self->state;
  while (!st.failed && st.writes.size() < st.settings.max_writes_in_flight &&
         issue_next(self)) {
  }
}

// The front write committed.
void on_written(applier_ptr self) {
  auto& st = self->state;
  if (st.failed || st.writes.empty() || st.batches.empty()) return;
  auto iw = st.writes.front();
  st.writes.pop_front();
  auto& in = st.batches.front();
  in.written += iw.entries;
  st.rows_written += iw.entries;
  auto name = to_string(st.schema.id);
  metrics::add_rows_written(name, "snapshot", "r", iw.entries);
  metrics::note_checkpoint(st.stream);
  note_rows_written(name, "snapshot", "r", iw.entries, -1);
  metrics::set_snapshot_rows(name, st.rows_written, st.schema.estimated_rows);
  if (st.settings.progress) st.settings.progress->advance(name, st.rows_written);
  if (iw.ends_batch) {
    bool final = in.batch.position.done;
    uint32_t ranges = std::max<uint32_t>(in.batch.ranges, 1);
    // The rows go back to the reader, which refills them.
    in.promise.deliver(batch_ack{st.table, in.batch.seq, in.written, std::move(in.batch.rows)});
    st.batches.pop_front();
    --st.issued_batches;
    if (final && ++st.finals_done >= ranges) {
      st.finished = true;
      if (st.bad_rows > 0)
        log::warn("skipped " + std::to_string(st.bad_rows) + " rows of " + name +
                  " that could not be converted" +
                  (st.settings.applier.snapshot.log_row_level_errors
                     ? " (rows in trace.log)"
                     : " (set log-row-level-errors to log them)"));
      self->send(st.coordinator, table_done{st.table, st.rows_written, false, {}});
      return;
    }
  }
  pump(self);
}

// A write failed for good: the table is skipped.
void fail(applier_ptr self, const failure& f) {
  auto& st = self->state;
  st.failed = true;
  st.reason = f;
  for (auto& in : st.batches) in.promise.deliver(to_caf_error(f));
  st.batches.clear();
  st.writes.clear();
  st.issued_batches = 0;
  self->send(st.coordinator, table_done{st.table, st.rows_written, true, f});
}

}  // namespace

table_applier_actor::behavior_type
table_applier(table_applier_actor::stateful_pointer<table_applier_state> self,
              uint32_t table, table_schema schema,
              table_applier_settings settings, redis_writer_actor writer,
              coordinator_actor coordinator) {
  auto& st = self->state;
  st.table = table;
  st.schema = std::move(schema);
  st.settings = std::move(settings);
  st.stream = snapshot_stream_name(st.schema.id, st.settings.map);
  st.checkpoint_key = checkpoint_key(st.settings.group, st.settings.id);
  st.xadd = std::make_unique<xadd_encoder>(st.stream);
  if (st.settings.max_write_bytes == 0) st.settings.max_write_bytes = 1;
  if (st.settings.max_writes_in_flight == 0) st.settings.max_writes_in_flight = 1;
  st.writer = std::move(writer);
  st.coordinator = std::move(coordinator);
  try {
    st.builder = std::make_unique<envelope_builder>(
      st.schema, st.settings.applier.message, st.settings.facts);
  } catch (const std::exception& e) {
    // Refuse every batch: the reader stops and the coordinator skips the table.
    st.failed = true;
    st.reason = failure{failure_code::bad_data, e.what()};
    self->send(st.coordinator, table_done{table, 0, true, st.reason});
  }
  return {
    [=](row_batch& b) -> caf::result<batch_ack> {
      auto& st = self->state;
      if (st.failed) return to_caf_error(st.reason);
      table_applier_state::incoming in;
      // Moved, not copied: the message is this actor's alone.
      in.batch = std::move(b);
      in.promise = self->make_response_promise<batch_ack>();
      auto promise = in.promise;
      st.batches.push_back(std::move(in));
      pump(self);
      return promise;
    },
  };
}

}  // namespace trib
