#include "actors/control/change_dispatcher.hpp"

#include <algorithm>

#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"

namespace trib {

change_dispatcher_state::change_dispatcher_state() = default;
change_dispatcher_state::~change_dispatcher_state() = default;

namespace {

using dispatcher_ptr = change_dispatcher_actor::stateful_pointer<change_dispatcher_state>;

std::string describe(const change_dispatcher_state& st, uint64_t commit) {
  return format_commit(st.settings.kind, commit);
}

// Whether the reader may send more: what is unwritten (open batches and
// batches at the appliers) is under the byte budget, and the appliers are
// not saturated (their writes are busy and the open batches full, or full
// batches kept going out regardless). Memory then stays bounded by the
// budget plus the feeds a reader may have unanswered.
bool accepting(const change_dispatcher_state& st) {
  const auto& s = st.settings;
  if (st.in_flight_bytes + st.batcher->buffered_bytes() >= s.max_unwritten_bytes) return false;
  return !(st.in_flight >= s.max_in_flight &&
           (st.batcher->buffered() >= s.txn_size_rows || st.in_flight >= 2 * s.max_in_flight));
}

bool idle(const change_dispatcher_state& st) {
  return st.in_flight == 0 && st.tracker.size() == 0 && st.tracker.held() == 0 &&
         st.ended.empty() && !st.batcher->in_transaction() && st.batcher->buffered() == 0;
}

// Tells the reader how far its source may be released, when that moved,
// when everything it sent is written, or when the run must end.
void release(dispatcher_ptr self) {
  auto& st = self->state;
  auto pos = std::max(st.released, st.tracker.advance());
  bool now_idle = idle(st);
  bool stop = st.fatal.has_value() || st.all_stopped;
  if (pos == st.released && (!now_idle || st.told_idle) && (!stop || st.stop_told)) return;
  st.released = pos;
  st.told_idle = now_idle;
  st.stop_told = stop;
  if (st.reader) self->send(st.reader, change_release{pos, st.feeds, now_idle, stop});
}

// Answers the feeds that waited for room.
void answer_waiting(dispatcher_ptr self) {
  auto& st = self->state;
  while (!st.waiting.empty() &&
         (accepting(st) || st.drain || st.reset || st.fatal || st.all_stopped)) {
    st.waiting.front().deliver(st.released);
    st.waiting.pop_front();
  }
}

// The reset or the drain waits for the batches in flight.
void settle(dispatcher_ptr self) {
  auto& st = self->state;
  if (st.in_flight > 0) return;
  if (st.reset) {
    st.reset->deliver(st.released);
    st.reset.reset();
  }
  if (st.drain) {
    if (st.fatal) st.drain->deliver(to_caf_error(*st.fatal));
    else st.drain->deliver(st.released);
    st.drain.reset();
  }
}

void end_run(dispatcher_ptr self, failure f) {
  auto& st = self->state;
  if (!st.fatal) st.fatal = std::move(f);
  release(self);
  answer_waiting(self);
}

// The supervisor's answer for a stream that stopped: its tables stop and the
// others go on, or the run ends.
void follow_stop(dispatcher_ptr self, const change_ack& a, const failure_verdict& v) {
  auto& st = self->state;
  const auto& s = st.settings;
  auto table = a.stopped_table < s.tables.size() ? to_string(s.tables[a.stopped_table].id)
                                                 : std::to_string(a.stopped_table);
  if (v.action == failure_action::stop_run || v.action == failure_action::retry) {
    end_run(self, failure{failure_code::bad_data,
                          table + " " + a.stop_reason + "; the source is kept before transaction " +
                            describe(st, a.stopped_commit) +
                            ", so --resume writes it once the cause is fixed"});
    return;
  }
  // Under GLOBAL the stream is every table's: they stop together, one
  // checkpoint before the change.
  for (uint32_t t = 0; t < s.stream_of_table.size(); ++t) {
    if (s.stream_of_table[t] != a.stream) continue;
    log::warn("goes on without " + to_string(s.tables[t].id) + ", whose stream stopped at " +
              describe(st, a.stopped_commit) + "; the source is kept before that transaction");
    if (s.table_stopped) s.table_stopped(t, a.stop_reason);
  }
  if (std::all_of(st.stream_stopped.begin(), st.stream_stopped.end(), [](bool b) { return b; })) {
    log::warn("ends realtime replication: every stream has stopped");
    st.all_stopped = true;
    release(self);
    answer_waiting(self);
  }
}

// A stream stopped at a change it cannot write: the source keeps that
// change's transaction (before anything else, so that the tracker cannot
// release it), and the stream's tables stop or the run ends.
void on_stream_stopped(dispatcher_ptr self, const change_ack& a) {
  auto& st = self->state;
  st.tracker.hold(a.stopped_commit);
  if (a.stream >= st.stream_stopped.size() || st.stream_stopped[a.stream]) return;
  st.stream_stopped[a.stream] = true;
  if (a.stop_decided) {
    failure_verdict skip;
    skip.action = failure_action::skip_table;
    follow_stop(self, a, skip);
    return;
  }
  const auto& s = st.settings;
  failure_report r;
  r.stream = a.stream < s.stream_names.size() ? s.stream_names[a.stream]
                                               : "change stream " + std::to_string(a.stream);
  for (uint32_t t = 0; t < s.stream_of_table.size(); ++t)
    if (s.stream_of_table[t] == a.stream) r.tables.push_back(to_string(s.tables[t].id));
  r.at = describe(st, a.stopped_commit);
  r.reason = failure{failure_code::bad_data, a.stop_reason};
  if (!s.supervisor) {
    end_run(self, failure{failure_code::internal, "no supervisor to ask about " + a.stop_reason});
    return;
  }
  // Nothing of the stream is released meanwhile (the hold); a drain waits
  // for the answer.
  ++st.in_flight;
  self->request(s.supervisor, caf::infinite, std::move(r))
    .then(
      [=](failure_verdict& v) {
        --self->state.in_flight;
        follow_stop(self, a, v);
        settle(self);
      },
      [=](caf::error& e) {
        --self->state.in_flight;
        end_run(self, to_failure(e));
        settle(self);
      });
}

void flush_idle(dispatcher_ptr self);

void send_batch(dispatcher_ptr self, change_batch b) {
  auto& st = self->state;
  for (auto commit : b.transactions) st.tracker.add_part(commit);
  auto txns = b.transactions;
  auto stream = b.stream;
  auto bytes = b.bytes;
  ++st.in_flight;
  ++st.stream_in_flight.at(stream);
  st.in_flight_bytes += bytes;
  self->request(st.appliers.at(stream), caf::infinite, std::move(b))
    .then(
      [=](change_ack& a) {
        auto& st = self->state;
        --st.in_flight;
        --st.stream_in_flight[stream];
        st.in_flight_bytes -= bytes;
        // Before the transactions count as written: the hold must be in
        // place before the tracker could release the stopped change.
        if (a.stopped_commit > 0) on_stream_stopped(self, a);
        for (auto commit : txns) st.tracker.ack(commit);
        // The stream is free: its lingered batch goes now.
        if (!st.drain && !st.reset) flush_idle(self);
        release(self);
        answer_waiting(self);
        settle(self);
      },
      [=](caf::error& e) {
        auto& st = self->state;
        --st.in_flight;
        --st.stream_in_flight[stream];
        st.in_flight_bytes -= bytes;
        end_run(self, to_failure(e));
        settle(self);
      });
}

// The transactions that ended since the last flush count as ended only once
// no batch is open: before, some of their changes were in open batches the
// tracker did not know about.
void end_transactions(dispatcher_ptr self) {
  auto& st = self->state;
  if (st.batcher->buffered() > 0 || st.ended.empty()) return;
  for (const auto& [commit, rel] : st.ended) st.tracker.commit(commit, rel);
  st.ended.clear();
}

// Hands on every open batch.
void flush_all(dispatcher_ptr self) {
  auto& st = self->state;
  for (auto& b : st.batcher->flush()) send_batch(self, std::move(b));
  for (auto s : st.touched) st.is_touched[s] = false;
  st.touched.clear();
  end_transactions(self);
}

// Hands on the open batch of every stream that has no write in flight and
// has lingered: its applier would otherwise sit idle while changes wait. A
// busy stream's batch keeps growing until its write is acknowledged.
void flush_idle(dispatcher_ptr self) {
  auto& st = self->state;
  size_t kept = 0;
  auto now = std::chrono::steady_clock::now();
  for (size_t i = 0; i < st.touched.size(); ++i) {
    auto s = st.touched[i];
    if (st.stream_in_flight[s] == 0 && now - st.opened_at[s] >= st.settings.linger) {
      if (auto b = st.batcher->flush_stream(s)) send_batch(self, std::move(*b));
      st.is_touched[s] = false;
    } else {
      st.touched[kept++] = s;
    }
  }
  st.touched.resize(kept);
  end_transactions(self);
}

void arm_tick(dispatcher_ptr self) {
  auto& st = self->state;
  if (st.tick_pending || st.batcher->buffered() == 0) return;
  st.tick_pending = true;
  self->delayed_send(self, st.settings.linger, tick_atom::value);
}

void hand_on(dispatcher_ptr self, row_change c) {
  auto& st = self->state;
  if (c.table >= st.settings.stream_of_table.size()) return;
  auto s = st.settings.stream_of_table[c.table];
  if (!st.is_touched[s]) {
    st.is_touched[s] = true;
    st.touched.push_back(s);
    st.opened_at[s] = std::chrono::steady_clock::now();
  }
  if (auto full = st.batcher->add(std::move(c))) send_batch(self, std::move(*full));
}

void take(dispatcher_ptr self, change_feed& f) {
  auto& st = self->state;
  for (auto& t : f.txns) {
    // A part that continues the open transaction keeps its numbering.
    if (!st.batcher->in_transaction() || st.batcher->current() != t.commit)
      st.batcher->begin(t.commit, std::move(t.id), t.commit_ms);
    for (auto& c : t.changes) hand_on(self, std::move(c));
    if (t.last) {
      st.batcher->commit();
      st.ended.emplace_back(t.commit, t.release);
      flush_idle(self);
    }
  }
}

}  // namespace

change_dispatcher_actor::behavior_type
change_dispatcher(change_dispatcher_actor::stateful_pointer<change_dispatcher_state> self,
                  change_dispatcher_settings settings,
                  std::vector<change_applier_actor> appliers) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.appliers = std::move(appliers);
  size_t streams = st.appliers.size();
  st.batcher = std::make_unique<change_batcher>(
    st.settings.tables, st.settings.stream_of_table, streams, st.settings.txn_size_rows,
    std::max<uint64_t>(st.settings.max_unwritten_bytes / 4, 1));
  st.stream_in_flight.assign(streams, 0);
  st.stream_stopped.assign(streams, false);
  st.is_touched.assign(streams, false);
  st.opened_at.assign(streams, {});
  return {
    [=](change_feed& f) -> caf::result<uint64_t> {
      auto& st = self->state;
      st.reader = caf::actor_cast<change_reader_actor>(self->current_sender());
      ++st.feeds;
      st.told_idle = false;
      st.last_feed = std::chrono::steady_clock::now();
      take(self, f);
      arm_tick(self);
      release(self);
      if (accepting(st) || st.fatal) return st.released;
      st.waiting.push_back(self->make_response_promise<uint64_t>());
      return st.waiting.back();
    },
    [=](schema_change& c) {
      auto& st = self->state;
      if (c.table >= st.settings.tables.size()) return;
      // Changes before the DDL go out with the old schema, later ones with
      // the new: the stream's open batch is handed on first.
      auto stream = st.settings.stream_of_table.at(c.table);
      if (auto b = st.batcher->flush_stream(stream)) send_batch(self, std::move(*b));
      st.settings.tables[c.table] = c.schema;
      st.batcher->set_schema(c.table, c.schema);
      self->send(st.appliers.at(stream), std::move(c));
    },
    [=](reset_atom) -> caf::result<uint64_t> {
      auto& st = self->state;
      // What was handed on is written whatever happens here; what was not
      // comes again from the release position.
      st.batcher->reset();
      for (auto s : st.touched) st.is_touched[s] = false;
      st.touched.clear();
      st.ended.clear();
      st.tracker.discard_open();
      st.reset = self->make_response_promise<uint64_t>();
      auto promise = *st.reset;
      answer_waiting(self);
      settle(self);
      return promise;
    },
    [=](drain_atom) -> caf::result<uint64_t> {
      auto& st = self->state;
      log::info("drains realtime replication: " + std::to_string(st.in_flight) +
                " batches in flight");
      st.drain = self->make_response_promise<uint64_t>();
      auto promise = *st.drain;
      answer_waiting(self);
      flush_all(self);
      release(self);
      settle(self);
      return promise;
    },
    [=](tick_atom) {
      auto& st = self->state;
      st.tick_pending = false;
      if (st.drain || st.reset) return;
      // No feed for the linger: the source is quiet, whatever is open goes
      // out. Otherwise only the idle streams' lingered batches.
      auto quiet = std::chrono::steady_clock::now() - st.last_feed >= st.settings.linger;
      if (quiet && st.in_flight < st.settings.max_in_flight) flush_all(self);
      else flush_idle(self);
      release(self);
      arm_tick(self);
    },
  };
}

}  // namespace trib
