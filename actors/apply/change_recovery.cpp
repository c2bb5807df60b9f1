#include "actors/apply/change_recovery.hpp"

#include <algorithm>
#include <chrono>

#include "actors/log.hpp"

namespace trib::applier_detail {

// Forgets what was built of every batch: the next pump builds them again
// from the first batch's checkpoint.
void rewind(change_applier_state& st) {
  if (st.batches.empty()) return;
  for (auto& in : st.batches) {
    if (in.is_schema) continue;
    if (in.started && &in == &st.batches.front()) st.queued = in.start;
    in.next = 0;
    in.issued = false;
    in.written = 0;
    in.started = false;
    in.last_ids.clear();
    in.counts.clear();
  }
  st.issued = 0;
  st.bytes_at_writer = 0;
}

namespace {

// Where the front batch starts, in words, and the tables its stream carries.
std::string batch_place(const change_applier_state& st) {
  for (const auto& in : st.batches) {
    if (in.is_schema) continue;
    for (const auto& c : in.batch.changes)
      if (!covers(in.start, c.commit, c.index))
        return to_string(c.source.position) + " (transaction " + c.txn_id + ")";
  }
  return "its checkpoint";
}

std::vector<std::string> stream_tables(const change_applier_state& st) {
  std::vector<std::string> names;
  for (auto t : st.settings.carries) names.push_back(to_string(st.settings.tables.at(t).id));
  if (!names.empty()) return names;
  for (const auto& in : st.batches) {
    if (in.is_schema) continue;
    for (const auto& c : in.batch.changes) {
      auto n = to_string(st.settings.tables.at(c.table).id);
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
    break;
  }
  return names;
}

// The supervisor's answer for the front batch.
void follow(applier_ptr self, const failure& f, const failure_verdict& v) {
  auto& st = self->state;
  if (st.failed || st.batches.empty()) return;
  switch (v.action) {
    case failure_action::retry:
      self->delayed_send(self, std::chrono::milliseconds{v.wait_ms}, retry_atom::value);
      return;
    case failure_action::skip_table:
    case failure_action::in_doubt: {
      // The stream stops before the batch: nothing of it is written (or what
      // is, is in the in-doubt log), and the source is kept there.
      auto& front = st.batches.front();
      auto start = front.start;
      rewind(st);
      st.queued = start;
      for (const auto& c : front.batch.changes) {
        if (covers(start, c.commit, c.index)) continue;
        st.stopped_commit = c.commit;
        st.stopped_table = c.table;
        st.stop_reason = "cannot be written to " + st.settings.stream_name + " from " +
                         to_string(c.source.position) + " (transaction " + c.txn_id + "): " +
                         f.what;
        break;
      }
      st.recovering = false;
      if (st.stopped_commit == 0) {
        fail(self, f);
        return;
      }
      st.stop_decided = true;
      pump(self);
      return;
    }
    case failure_action::stop_run:
      st.recovering = false;
      fail(self, f);
      return;
  }
}

// Every write in flight is answered: takes back the front batch's
// committed writes, then asks the supervisor.
void recover(applier_ptr self) {
  auto& st = self->state;
  auto f = *st.write_failure;
  st.write_failure.reset();
  if (st.batches.empty() || st.batches.front().is_schema) {
    fail(self, f);
    return;
  }
  auto& front = st.batches.front();
  // The writer's own retries count: one max-retries for the batch, not one
  // at the writer and another here.
  front.failures += std::max(st.write_attempts, 1);
  st.write_attempts = 0;
  // Asks the supervisor, with what the undo did.
  auto ask = [self, f](undo_result r) {
    auto& st = self->state;
    if (st.failed || st.batches.empty()) return;
    failure_report rep;
    rep.stream = st.settings.stream_name;
    rep.tables = stream_tables(st);
    rep.at = batch_place(st);
    rep.reason = f;
    rep.failures = st.batches.front().failures;
    rep.undone = r.deleted;
    rep.undo_failed = r.failed;
    rep.undo_error = r.error;
    rep.in_doubt = std::move(r.not_deleted);
    self->request(st.settings.supervisor, caf::infinite, std::move(rep))
      .then([=](failure_verdict& v) { follow(self, f, v); },
            [=](caf::error& e) { fail(self, to_failure(e)); });
  };
  undo_request u;
  u.stream = st.settings.stream_name;
  u.last_ids = front.last_ids;
  u.counts = front.counts;
  u.checkpoint_key = checkpoint_key(st.settings.group, st.settings.id);
  u.checkpoint_field = st.settings.checkpoint_field;
  u.had_checkpoint = front.start.commit > 0;
  u.checkpoint_value = encode_stream_checkpoint(front.start);
  self->request(st.writer, caf::infinite, std::move(u))
    .then([=](undo_result& r) { ask(std::move(r)); },
          [=](caf::error& e) { fail(self, to_failure(e)); });
}

}  // namespace

// A write failed for good (the writer retried a lost connection already).
// The writes after it to the stream are refused by the writer; once all
// are answered the stream recovers.
void on_write_failed(applier_ptr self, const failure& f, int attempts) {
  auto& st = self->state;
  if (st.failed) return;
  if (!st.settings.supervisor) {
    fail(self, f);
    return;
  }
  if (!st.writes.empty()) {
    st.bytes_at_writer -= std::min(st.bytes_at_writer, st.writes.front().bytes);
    st.writes.pop_front();
  }
  if (!st.write_failure) {
    st.write_failure = f;
    st.write_attempts = attempts;
  }
  st.recovering = true;
  if (st.writes.empty()) recover(self);
}

}  // namespace trib::applier_detail
