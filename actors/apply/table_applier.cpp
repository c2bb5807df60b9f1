#include "actors/apply/table_applier.hpp"

#include <chrono>

#include "actors/apply/envelope.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"

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

// Turns a reader's batch into the write that commits it.
table_applier_state::pending make_pending(table_applier_state& st,
                                          const row_batch& b) {
  table_applier_state::pending p;
  p.final = b.position.done;
  p.ack = batch_ack{st.table, b.seq, 0};
  auto& w = p.write;
  w.stream = st.stream;
  w.checkpoint_key = checkpoint_key(st.settings.group, st.settings.id);
  w.checkpoint_field = st.stream;
  w.checkpoint_value = encode_snapshot_checkpoint(b.position);
  w.entries.reserve(b.rows.size());
  auto ts = now_ms();
  for (size_t i = 0; i < b.rows.size(); ++i) {
    auto mark = p.final && i + 1 == b.rows.size() ? snapshot_mark::last
                                                  : snapshot_mark::yes;
    try {
      w.entries.push_back(st.builder->snapshot_entry(b.rows[i], b.source, mark, ts));
    } catch (const std::exception& e) {
      // Row-level errors skip the row, never the table (design section 7).
      ++st.bad_rows;
      if (st.settings.applier.snapshot.log_row_level_errors)
        log::debug("skips a row of " + to_string(st.schema.id) + ": " +
                   e.what() + "; row " + describe(b.rows[i]));
    }
  }
  p.ack.rows_written = w.entries.size();
  return p;
}

void fail(applier_ptr self, const failure& f);

// Sends the front of the queue to the writer unless a write is out.
void write_next(applier_ptr self) {
  auto& st = self->state;
  if (st.writing || st.queue.empty() || st.failed) return;
  st.writing = true;
  self->request(st.writer, caf::infinite, st.queue.front().write)
    .then(
      [=](write_ack&) {
        auto& st = self->state;
        auto p = std::move(st.queue.front());
        st.queue.pop_front();
        st.writing = false;
        st.rows_written += p.ack.rows_written;
        metrics::add_rows_written(to_string(st.schema.id), "snapshot", "r",
                                  p.ack.rows_written);
        metrics::set_snapshot_rows(to_string(st.schema.id), st.rows_written,
                                   st.schema.estimated_rows);
        p.promise.deliver(p.ack);
        if (p.final) {
          if (st.bad_rows > 0)
            log::warn("skipped " + std::to_string(st.bad_rows) + " rows of " +
                      to_string(st.schema.id) +
                      " that could not be converted" +
                      (st.settings.applier.snapshot.log_row_level_errors
                         ? " (rows in trace.log)"
                         : " (set log-row-level-errors to log them)"));
          self->send(st.coordinator,
                     table_done{st.table, st.rows_written, false, {}});
          return;
        }
        write_next(self);
      },
      [=](caf::error& err) { fail(self, to_failure(err)); });
}

// A write failed for good: the table is skipped.
void fail(applier_ptr self, const failure& f) {
  auto& st = self->state;
  st.failed = true;
  st.writing = false;
  st.reason = f;
  for (auto& p : st.queue) p.promise.deliver(to_caf_error(f));
  st.queue.clear();
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
      auto p = make_pending(st, b);
      p.promise = self->make_response_promise<batch_ack>();
      auto promise = p.promise;
      st.queue.push_back(std::move(p));
      write_next(self);
      return promise;
    },
  };
}

}  // namespace trib
