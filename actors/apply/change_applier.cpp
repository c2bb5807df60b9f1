#include "actors/apply/change_applier.hpp"
#include "actors/apply/change_recovery.hpp"

#include <algorithm>
#include <chrono>
#include <map>

#include "actors/apply/envelope.hpp"
#include "actors/control/realtime_board.hpp"
#include "actors/control/run_stats.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/sink/redis_client.hpp"

namespace trib {

change_applier_state::change_applier_state() = default;
change_applier_state::~change_applier_state() = default;

namespace {

using applier_detail::applier_ptr;
using applier_detail::fail;
using applier_detail::on_write_failed;
using applier_detail::pump;

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const char* op_code(change_op op) {
  switch (op) {
    case change_op::insert: return "c";
    case change_op::update: return "u";
    case change_op::erase: return "d";
    case change_op::truncate: return "t";
    case change_op::read: return "r";
  }
  return "?";
}

const envelope_builder& builder_for(change_applier_state& st, uint32_t table) {
  if (st.builders.size() < st.settings.tables.size()) st.builders.resize(st.settings.tables.size());
  auto& b = st.builders.at(table);
  if (!b)
    b = std::make_unique<envelope_builder>(st.settings.tables.at(table), st.settings.message,
                                           st.settings.facts);
  return *b;
}

// The entries of one change, in the order the contract gives them, encoded
// straight into the write's RESP bytes through one reused scratch entry (no
// string per entry). A change that throws halfway (bad data) is cut back out
// of the bytes by the caller.
void build_entries(change_applier_state& st, const row_change& c, int64_t now, write_batch& w,
                   std::map<std::pair<uint32_t, int>, uint64_t>& n) {
  const auto& b = builder_for(st, c.table);
  auto& e = st.scratch;
  auto& o = st.origin;
  o.source = c.source;
  o.commit_ms = c.commit_ms;
  o.txn_id = c.txn_id;
  o.total_order = c.total_order;
  o.data_collection_order = c.data_collection_order;
  const row* before = c.has_before ? &c.before : nullptr;
  const row* after = c.has_after ? &c.after : nullptr;
  auto emit = [&] {
    // Redis drops the connection on a longer argument, on every try.
    size_t longest = std::max(e.key.size(), e.value.size());
    if (longest > st.settings.max_entry_bytes)
      throw error(failure_code::bad_data,
                  "its entry is " + std::to_string(longest) + " bytes, over the " +
                    std::to_string(st.settings.max_entry_bytes) +
                    " bytes Redis accepts (proto-max-bulk-len), so it can never be written");
    st.xadd->append(w.encoded, e.key, e.value);
    ++w.encoded_count;
  };
  auto entry = [&](change_op op, const row* bf, const row* af) {
    b.change_entry_into(e, op, bf, af, o, now);
    emit();
  };
  auto tombstone_of = [&](const row* deleted) {
    if (deleted != nullptr) {
      e = b.tombstone(*deleted);
    } else {
      e.key = "default";
      e.value = "default";
    }
    emit();
  };
  auto count = [&](change_op op) { ++n[{c.table, static_cast<int>(op)}]; };
  switch (c.op) {
    case change_op::insert:
      entry(change_op::insert, nullptr, after);
      count(change_op::insert);
      return;
    case change_op::update:
      if (before && after && b.key_changed(*before, *after)) {
        // A new key is a new row for consumers that key by it: the old
        // row goes away (delete + tombstone), then the new one arrives, an
        // event of its own with the next place in the transaction (the
        // dispatcher numbered both).
        entry(change_op::erase, before, nullptr);
        tombstone_of(before);
        ++o.total_order;
        ++o.data_collection_order;
        entry(change_op::insert, nullptr, after);
        count(change_op::erase);
        count(change_op::insert);
        return;
      }
      entry(change_op::update, before, after);
      count(change_op::update);
      return;
    case change_op::erase:
      entry(change_op::erase, before, nullptr);
      tombstone_of(before);
      count(change_op::erase);
      return;
    case change_op::truncate:
      entry(change_op::truncate, nullptr, nullptr);
      count(change_op::truncate);
      return;
    case change_op::read:
      // A row of an incremental snapshot, as the snapshot writes its rows;
      // a chunk's end marker (no row) writes nothing.
      if (after == nullptr) return;
      e.key.clear();
      e.value.clear();
      b.append_snapshot_key(e.key, *after);
      b.append_snapshot_value(e.value, *after, c.source.position, snapshot_mark::yes, now);
      emit();
      count(change_op::read);
      return;
  }
}

// An incremental snapshot's progress moves with its rows: a row, or a
// chunk's end marker (`before`: the chunk's last key read), moves it past
// that key; a marker with neither image ends the table's snapshot. The
// progress commits with the write that holds it.
void note_snapshot_progress(change_applier_state& st, const row_change& c) {
  const auto& t = st.settings.tables.at(c.table);
  auto& p = st.queued.snapshots[to_string(t.id)];
  const row* keyed = c.has_after ? &c.after : c.has_before ? &c.before : nullptr;
  if (keyed == nullptr) {
    p.done = true;
    return;
  }
  p.done = false;
  p.after.clear();
  for (size_t i : key_columns(t)) p.after.push_back(keyed->cells.at(i).text);
}


void say_stopped(const change_applier_state& st, change_ack& a) {
  a.stopped_commit = st.stopped_commit;
  a.stopped_table = st.stopped_table;
  a.stop_reason = st.stop_reason;
  a.stop_decided = st.stop_decided;
}

// Answers the batch at `i` (not at the writer any more) and forgets it.
void answer(applier_ptr self, size_t i) {
  auto& st = self->state;
  auto& in = st.batches[i];
  change_ack a;
  a.stream = in.batch.stream;
  a.seq = in.batch.seq;
  a.entries = in.written;
  if (st.stopped_commit > 0) say_stopped(st, a);
  in.promise.deliver(a);
  st.batches.erase(st.batches.begin() + static_cast<std::ptrdiff_t>(i));
}

// The change at `c` cannot be written: the stream stops before it.
void stop_at(change_applier_state& st, const row_change& c, const std::exception& e) {
  // A change left out would be lost for good once the source is released
  // past it: the stream stops here instead, its checkpoint stays on the
  // change before, and --resume writes it once the cause is fixed (design
  // section 7).
  auto table = to_string(st.settings.tables.at(c.table).id);
  auto at = to_string(c.source.position);
  st.stopped_commit = c.commit;
  st.stopped_table = c.table;
  st.stop_reason =
    "cannot write its change at " + at + " (transaction " + c.txn_id + "): " + e.what();
  log::error("stops " + table + " in " + st.settings.stream_name + " at " + at + ": " +
             st.stop_reason +
             "; nothing from there on is written or released at the source, so "
             "--resume continues there once the cause is fixed");
}

// Builds the next write from the first batch not yet issued and hands it to
// the writer. Returns false when there is nothing to build.
bool issue_next(applier_ptr self) {
  auto& st = self->state;
  if (st.issued >= st.batches.size()) return false;
  auto& in = st.batches[st.issued];
  if (in.is_schema) {
    // Every batch before it is written, not only built: a failed batch
    // before it is written again with the columns it was built with.
    if (!st.writes.empty()) return false;
    // Later changes use the new columns.
    auto& c = in.schema;
    if (c.table < st.settings.tables.size()) {
      log::info("rebuilds the messages of " + to_string(c.schema.id) + " in " +
                st.settings.stream_name + " for its new columns");
      st.settings.tables[c.table] = std::move(c.schema);
      if (c.table < st.builders.size()) st.builders[c.table].reset();
    }
    st.batches.erase(st.batches.begin() + static_cast<std::ptrdiff_t>(st.issued));
    return true;
  }
  const auto& changes = in.batch.changes;
  size_t n = changes.size();
  if (st.stopped_commit > 0) in.next = n;  // the stream writes nothing more
  if (!in.started) {
    in.started = true;
    in.start = st.queued;
  }
  if (!st.xadd) st.xadd = std::make_unique<xadd_encoder>(st.settings.stream_name);
  write_batch w;
  change_applier_state::in_write iw;
  iw.seq = in.batch.seq;
  auto now = now_ms();
  std::map<std::pair<uint32_t, int>, uint64_t> counts;
  // A snapshot chunk's marker moves the checkpoint without an entry.
  bool progress_moved = false;
  // The bytes are allocated once, at the write's likely size: its changes
  // (up to the transaction boundary past max_write_bytes) at the bytes per
  // change of the writes before. Grown by doubling, a 33 MB write would
  // briefly hold 32 + 64 MB.
  size_t per_change = st.bytes_per_change;
  if (per_change == 0 && in.next < n) {
    per_change = 512;
    for (const row* r : {&changes[in.next].before, &changes[in.next].after})
      for (const auto& cell : r->cells) per_change += 2 * cell.text.size() + 24;
  }
  size_t likely = 0;
  for (size_t i = in.next, k = 0; i < n && k < st.settings.max_write_rows; ++i, ++k) {
    if (likely >= st.settings.max_write_bytes && changes[i].commit != changes[i - 1].commit) break;
    likely += per_change;
  }
  w.encoded.reserve(likely + likely / 8 + 4096);
  size_t encoded_changes = 0;
  while (in.next < n) {
    const auto& c = changes[in.next];
    if (covers(st.queued, c.commit, c.index)) {
      ++in.next;
      continue;
    }
    // Past the size, the write ends where a transaction does: a
    // transaction's changes in one batch are written atomically.
    if (w.encoded_count > 0 && w.encoded.size() >= st.settings.max_write_bytes &&
        c.commit != st.queued.commit)
      break;
    // batch-size-rows ends a write even inside a transaction: its batch is
    // still all or nothing, undone and retried whole when a later write of
    // it fails.
    if (encoded_changes >= st.settings.max_write_rows) break;
    size_t bytes = w.encoded.size();
    uint64_t entries = w.encoded_count;
    try {
      build_entries(st, c, now, w, counts);
    } catch (const std::exception& e) {
      w.encoded.resize(bytes);
      w.encoded_count = entries;
      stop_at(st, c, e);
      in.next = n;
      break;
    }
    // The checkpoint of the write so far: st.queued is what the next
    // write starts from, and its snapshots' progress goes with it.
    st.queued.commit = c.commit;
    st.queued.index = c.index;
    if (c.op == change_op::read) {
      note_snapshot_progress(st, c);
      progress_moved = true;
    }
    iw.commit_ms = c.commit_ms;
    ++in.next;
    ++encoded_changes;
  }
  if (encoded_changes > 0) st.bytes_per_change = w.encoded.size() / encoded_changes + 1;
  if (in.next >= n) {
    in.issued = true;
    ++st.issued;
  }
  if (w.encoded_count == 0 && !progress_moved) {
    // Nothing to write: the batch is answered with its last write, or now.
    if (in.issued) {
      if (!st.writes.empty() && st.writes.back().seq == in.batch.seq)
        st.writes.back().ends_batch = true;
      else {
        --st.issued;
        answer(self, st.issued);
      }
    }
    return true;
  }
  iw.ends_batch = in.issued;
  iw.entries = w.size();
  iw.bytes = w.encoded.size();
  for (const auto& [k, count] : counts)
    iw.counted.push_back({to_string(st.settings.tables.at(k.first).id),
                          op_code(static_cast<change_op>(k.second)), count});
  w.stream = st.settings.stream_name;
  w.checkpoint_key = checkpoint_key(st.settings.group, st.settings.id);
  w.checkpoint_field = st.settings.checkpoint_field;
  w.checkpoint_value = encode_stream_checkpoint(st.queued);
  st.bytes_at_writer += iw.bytes;
  st.writes.push_back(std::move(iw));
  // The bytes move to the writer (which retries on its own).
  self->request(st.writer, caf::infinite, std::move(w))
    .then(
      [=](write_ack& a) {
        auto& st = self->state;
        if (st.failed || st.writes.empty()) return;
        auto done = std::move(st.writes.front());
        st.writes.pop_front();
        st.bytes_at_writer -= done.bytes;
        st.entries_written += done.entries;
        uint64_t changes = 0;
        double lag =
          done.commit_ms > 0 ? static_cast<double>(now_ms() - done.commit_ms) / 1000.0 : -1;
        for (const auto& c : done.counted) {
          metrics::add_rows_written(c.table, "realtime", c.op, c.rows);
          note_rows_written(c.table, "realtime", c.op, c.rows, lag);
          changes += c.rows;
        }
        if (lag >= 0) metrics::observe_lag(lag);
        metrics::note_checkpoint(st.settings.stream_name);
        note_realtime_written(st.settings.stream_name, changes, lag);
        // Writes are answered in order, so the front batch is the write's.
        auto& front = st.batches.front();
        front.written += done.entries;
        front.last_ids.push_back(a.last_id);
        front.counts.push_back(done.entries);
        if (done.ends_batch) {
          --st.issued;
          answer(self, 0);
        }
        pump(self);
      },
      [=](caf::error& err) { on_write_failed(self, to_failure(err), attempts_of(err)); });
  return true;
}

}  // namespace

namespace applier_detail {

// Keeps writes at the writer while there is work and room: at most
// max_writes_in_flight, and another only while those hold less than
// max_write_bytes.
void pump(applier_ptr self) {
  auto& st = self->state;
  while (!st.failed && !st.recovering && st.writes.size() < st.settings.max_writes_in_flight &&
         (st.writes.empty() || st.bytes_at_writer < st.settings.max_write_bytes) &&
         issue_next(self)) {
  }
}

void fail(applier_ptr self, const failure& f) {
  auto& st = self->state;
  if (st.failed) return;
  st.failed = true;
  st.reason = f;
  log::error("stops change stream " + st.settings.stream_name + " (" + to_string(f.code) +
             "): " + f.what + "; its checkpoint holds what was written");
  for (auto& in : st.batches)
    if (!in.is_schema) in.promise.deliver(to_caf_error(f));
  st.batches.clear();
  st.writes.clear();
  st.issued = 0;
  st.bytes_at_writer = 0;
}

}  // namespace applier_detail

using applier_detail::rewind;

change_applier_actor::behavior_type
change_applier(change_applier_actor::stateful_pointer<change_applier_state> self,
               change_applier_settings settings, redis_writer_actor writer) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.writer = std::move(writer);
  st.queued = st.settings.start;
  if (st.settings.max_write_bytes == 0) st.settings.max_write_bytes = 1;
  if (st.settings.max_write_rows == 0) st.settings.max_write_rows = 1;
  if (st.settings.max_writes_in_flight == 0) st.settings.max_writes_in_flight = 1;
  if (st.queued.commit > 0)
    log::info("resumes change stream " + st.settings.stream_name + " after " +
              format_commit(st.settings.facts.kind, st.queued.commit) + " #" +
              std::to_string(st.queued.index));
  return {
    [=](change_batch& b) -> caf::result<change_ack> {
      auto& st = self->state;
      if (st.failed) return to_caf_error(st.reason);
      change_applier_state::incoming in;
      // Moved, not copied: the message is this actor's alone.
      in.batch = std::move(b);
      in.promise = self->make_response_promise<change_ack>();
      auto promise = in.promise;
      st.batches.push_back(std::move(in));
      pump(self);
      return promise;
    },
    [=](schema_change& c) {
      auto& st = self->state;
      change_applier_state::incoming in;
      in.is_schema = true;
      in.schema = std::move(c);
      st.batches.push_back(std::move(in));
      pump(self);
    },
    [=](retry_atom) {
      auto& st = self->state;
      if (st.failed) return;
      rewind(st);
      st.recovering = false;
      pump(self);
    },
  };
}

}  // namespace trib
