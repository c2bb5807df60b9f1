#include "actors/apply/change_applier.hpp"

#include <chrono>
#include <map>

#include "actors/apply/envelope.hpp"
#include "actors/control/realtime_board.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/sink/redis_client.hpp"

namespace trib {

change_applier_state::change_applier_state() = default;
change_applier_state::~change_applier_state() = default;

namespace {

using applier_ptr = change_applier_actor::stateful_pointer<change_applier_state>;

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
  change_origin o;
  o.position.lsn = c.lsn;
  o.commit_ms = c.commit_ms;
  o.txn_id = std::to_string(c.xid);
  o.total_order = c.total_order;
  o.data_collection_order = c.data_collection_order;
  o.pg_xid = c.xid;
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
    case row_op::insert:
      entry(change_op::insert, nullptr, after);
      count(change_op::insert);
      return;
    case row_op::update:
      if (before && after && b.key_changed(*before, *after)) {
        // A new key is a new row for consumers that key by it: the old
        // row goes away (delete + tombstone), then the new one arrives.
        entry(change_op::erase, before, nullptr);
        tombstone_of(before);
        entry(change_op::insert, nullptr, after);
        count(change_op::erase);
        count(change_op::insert);
        return;
      }
      entry(change_op::update, before, after);
      count(change_op::update);
      return;
    case row_op::erase:
      entry(change_op::erase, before, nullptr);
      tombstone_of(before);
      count(change_op::erase);
      return;
    case row_op::truncate:
      entry(change_op::truncate, nullptr, nullptr);
      count(change_op::truncate);
      return;
  }
}

void fail(applier_ptr self, const failure& f);

void write_next(applier_ptr self) {
  auto& st = self->state;
  if (st.writing || st.queue.empty() || st.failed) return;
  st.writing = true;
  // The bytes move to the writer (which retries on its own): only the
  // acknowledgement's part of the pending write is needed afterwards.
  self->request(st.writer, caf::infinite, std::move(st.queue.front().write))
    .then(
      [=](write_ack&) {
        auto& st = self->state;
        auto p = std::move(st.queue.front());
        st.queue.pop_front();
        st.writing = false;
        st.entries_written += p.ack.entries;
        uint64_t changes = 0;
        for (const auto& c : p.counted) {
          metrics::add_rows_written(c.table, "realtime", c.op, c.rows);
          changes += c.rows;
        }
        double lag = p.commit_ms > 0 ? static_cast<double>(now_ms() - p.commit_ms) / 1000.0 : -1;
        if (lag >= 0) metrics::observe_lag(lag);
        note_realtime_written(st.settings.stream_name, changes, lag);
        p.promise.deliver(p.ack);
        write_next(self);
      },
      [=](caf::error& err) { fail(self, to_failure(err)); });
}

void fail(applier_ptr self, const failure& f) {
  auto& st = self->state;
  st.failed = true;
  st.writing = false;
  st.reason = f;
  log::error("stops change stream " + st.settings.stream_name + " (" + to_string(f.code) +
             "): " + f.what + "; its checkpoint holds what was written");
  for (auto& p : st.queue) p.promise.deliver(to_caf_error(f));
  st.queue.clear();
}

}  // namespace

change_applier_actor::behavior_type
change_applier(change_applier_actor::stateful_pointer<change_applier_state> self,
               change_applier_settings settings, redis_writer_actor writer) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.writer = std::move(writer);
  st.queued = st.settings.start;
  if (st.queued.lsn > 0)
    log::info("resumes change stream " + st.settings.stream_name + " after " +
              format_lsn(st.queued.lsn) + " #" + std::to_string(st.queued.index));
  return {
    [=](change_batch& b) -> caf::result<change_ack> {
      auto& st = self->state;
      if (st.failed) return to_caf_error(st.reason);
      change_applier_state::pending p;
      p.ack.stream = b.stream;
      p.ack.seq = b.seq;
      auto say_stopped = [&st](change_ack& a) {
        a.stopped_lsn = st.stopped_lsn;
        a.stopped_table = st.stopped_table;
        a.stop_reason = st.stop_reason;
      };
      if (st.stopped_lsn > 0) {
        say_stopped(p.ack);
        return p.ack;
      }
      if (!st.xadd) st.xadd = std::make_unique<xadd_encoder>(st.settings.stream_name);
      size_t guess = 0;
      for (const auto& c : b.changes)
        for (const row* r : {&c.before, &c.after})
          for (const auto& cell : r->cells) guess += cell.text.size() + 24;
      p.write.encoded.reserve(guess + b.changes.size() * 512);
      auto now = now_ms();
      std::map<std::pair<uint32_t, int>, uint64_t> counts;
      stream_checkpoint reached = st.queued;
      for (const auto& c : b.changes) {
        if (covers(st.queued, c.commit_lsn, c.index)) continue;
        auto written_before = reached;
        auto commit_ms_before = p.commit_ms;
        reached = stream_checkpoint{c.commit_lsn, c.index};
        p.commit_ms = c.commit_ms;
        size_t bytes = p.write.encoded.size();
        uint64_t entries = p.write.encoded_count;
        try {
          build_entries(st, c, now, p.write, counts);
        } catch (const std::exception& e) {
          p.write.encoded.resize(bytes);
          p.write.encoded_count = entries;
          reached = written_before;
          p.commit_ms = commit_ms_before;
          // A change left out would be lost for good once the slot moves
          // past it: the stream stops here instead, its checkpoint stays on
          // the change before, and --resume writes it once the cause is
          // fixed (design section 7).
          auto table = to_string(st.settings.tables.at(c.table).id);
          st.stopped_lsn = c.commit_lsn;
          st.stopped_table = c.table;
          st.stop_reason = "cannot write its change at " + format_lsn(c.lsn) + " (transaction " +
                           std::to_string(c.xid) + "): " + e.what();
          log::error("stops " + table + " in " + st.settings.stream_name + " at " +
                     format_lsn(c.lsn) + ": " + st.stop_reason +
                     "; nothing from there on is written or released at the slot, so "
                     "--resume continues there once the cause is fixed");
          say_stopped(p.ack);
          break;
        }
      }
      if (reached == st.queued) return p.ack;  // the stream has all of it
      st.queued = reached;
      p.ack.entries = p.write.size();
      for (const auto& [k, n] : counts)
        p.counted.push_back({to_string(st.settings.tables.at(k.first).id),
                             op_code(static_cast<change_op>(k.second)), n});
      auto& w = p.write;
      w.stream = st.settings.stream_name;
      w.checkpoint_key = checkpoint_key(st.settings.group, st.settings.id);
      w.checkpoint_field = st.settings.checkpoint_field;
      w.checkpoint_value = encode_stream_checkpoint(reached);
      p.promise = self->make_response_promise<change_ack>();
      auto promise = p.promise;
      st.queue.push_back(std::move(p));
      write_next(self);
      return promise;
    },
    [=](schema_change& c) {
      auto& st = self->state;
      if (c.table >= st.settings.tables.size()) return;
      log::info("rebuilds the messages of " + to_string(c.schema.id) + " in " +
                st.settings.stream_name + " for its new columns");
      st.settings.tables[c.table] = std::move(c.schema);
      if (c.table < st.builders.size()) st.builders[c.table].reset();
    },
  };
}

}  // namespace trib
