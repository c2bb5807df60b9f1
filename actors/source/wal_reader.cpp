#include "actors/source/wal_reader.hpp"

#include <algorithm>

#include "actors/control/realtime_board.hpp"
#include "actors/control/stop_rules.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "messages/position.hpp"

namespace trib {

wal_reader_state::wal_reader_state() = default;
wal_reader_state::~wal_reader_state() = default;

namespace {

using reader_ptr = wal_reader_actor::stateful_pointer<wal_reader_state>;
using namespace std::chrono_literals;

// PostgreSQL times count microseconds from 2000-01-01 UTC.
constexpr int64_t pg_epoch_ms = 946684800000LL;

int64_t commit_ms(int64_t pg_us) { return pg_epoch_ms + pg_us / 1000; }

// Reading stops when the appliers are busy and the open batches are full
// (or full batches keep going out regardless): memory stays bounded by about
// 2 x max_in_flight + 1 batches of txn-size-rows changes.
bool saturated(const wal_reader_state& st) {
  return st.in_flight >= st.settings.max_in_flight &&
         (st.batcher->buffered() >= st.settings.txn_size_rows ||
          st.in_flight >= 2 * st.settings.max_in_flight);
}

void arm(reader_ptr self) {
  auto& st = self->state;
  if (st.read_pending) return;
  st.read_pending = true;
  self->send(self, read_atom::value);
}

void finish(reader_ptr self) {
  auto& st = self->state;
  log::info("stops realtime replication at " + format_lsn(st.confirmed) + " after " +
            std::to_string(st.changes_read) + " changes");
  st.promise.deliver(st.confirmed);
  self->quit();
}

void fail(reader_ptr self, const failure& f) {
  auto& st = self->state;
  log::error("stops reading the slot " + st.settings.slot + " (" + to_string(f.code) +
             "): " + f.what);
  st.promise.deliver(to_caf_error(f));
  self->quit();
}

// Tells the slot what every stream has; the status goes out at the next
// poll (or at once when draining).
void confirm(reader_ptr self) {
  auto& st = self->state;
  auto pos = st.tracker.advance();
  if (pos <= st.confirmed) return;
  st.confirmed = pos;
  if (st.rep) st.rep->confirm(pos);
  metrics::set_source_position(static_cast<double>(pos));
  note_realtime_position("lsn " + format_lsn(pos));
}

// A stream stopped at a change it cannot write: the slot keeps that
// change's transaction, and the table stops or the run ends.
void on_stream_stopped(reader_ptr self, const change_ack& a) {
  auto& st = self->state;
  st.tracker.hold(a.stopped_lsn);
  if (a.stream >= st.stream_stopped.size() || st.stream_stopped[a.stream]) return;
  st.stream_stopped[a.stream] = true;
  auto tables = static_cast<size_t>(std::count(st.settings.stream_of_table.begin(),
                                               st.settings.stream_of_table.end(), a.stream));
  auto table = a.stopped_table < st.settings.tables.size()
                 ? to_string(st.settings.tables[a.stopped_table].id)
                 : std::to_string(a.stopped_table);
  if (on_unwritable_change(tables, st.settings.skip_tables_on_failures) ==
      unwritable_change_action::stop_table) {
    metrics::add_table_skipped(table);
    log::warn("goes on without " + table + ", which stopped at " + format_lsn(a.stopped_lsn) +
              "; the slot stays before that transaction");
    if (st.settings.table_stopped) st.settings.table_stopped(a.stopped_table, a.stop_reason);
    return;
  }
  if (!st.fatal) {
    st.fatal = failure{failure_code::bad_data,
                       table + " " + a.stop_reason + "; the slot stays before transaction " +
                         format_lsn(a.stopped_lsn) +
                         ", so --resume writes it once the cause is fixed"};
    st.stopping = true;
  }
}

void send_batch(reader_ptr self, change_batch b) {
  auto& st = self->state;
  for (auto lsn : b.transactions) st.tracker.add_part(lsn);
  auto txns = b.transactions;
  auto stream = b.stream;
  ++st.in_flight;
  ++st.stream_in_flight.at(stream);
  auto& applier = st.appliers.at(b.stream);
  self->request(applier, caf::infinite, std::move(b))
    .then(
      [=](change_ack& a) {
        auto& st = self->state;
        --st.in_flight;
        --st.stream_in_flight[stream];
        // Before the transactions count as written: the hold must be in
        // place before the tracker could release the stopped change.
        if (a.stopped_lsn > 0) on_stream_stopped(self, a);
        for (auto lsn : txns) st.tracker.ack(lsn);
        confirm(self);
        // Below the limit again, or draining: the read handler goes on.
        arm(self);
      },
      [=](caf::error& e) {
        auto& st = self->state;
        --st.in_flight;
        --st.stream_in_flight[stream];
        fail(self, to_failure(e));
      });
}

// Hands on every open batch. Only then do the transactions committed since
// the last flush count as committed: before, some of their changes were in
// open batches the tracker did not know about.
void flush_all(reader_ptr self) {
  auto& st = self->state;
  for (auto& b : st.batcher->flush()) send_batch(self, std::move(b));
  for (auto s : st.touched) st.is_touched[s] = false;
  st.touched.clear();
  for (const auto& [commit_lsn, end_lsn] : st.committed) st.tracker.commit(commit_lsn, end_lsn);
  st.committed.clear();
  confirm(self);
}

// Hands on the open batch of every stream that has no write in flight and
// has lingered: its applier would otherwise sit idle while changes wait. A busy stream's batch
// keeps growing until its write is acknowledged. The committed transactions
// count as committed once no batch is open (as in flush_all).
void flush_idle(reader_ptr self) {
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
  if (st.batcher->buffered() == 0 && !st.committed.empty()) {
    for (const auto& [commit_lsn, end_lsn] : st.committed) st.tracker.commit(commit_lsn, end_lsn);
    st.committed.clear();
    confirm(self);
  }
}

// A Relation message: maps it onto its table, and when its columns are not
// the table's, asks the catalog whether the table changed.
void on_relation(reader_ptr self, const pg_relation& rel) {
  auto& st = self->state;
  std::string schema = rel.schema.empty() ? "pg_catalog" : rel.schema;
  int found = -1;
  for (size_t i = 0; i < st.settings.tables.size(); ++i) {
    const auto& id = st.settings.tables[i].id;
    if (id.table == rel.name && (id.schema.empty() ? "public" : id.schema) == schema) {
      found = static_cast<int>(i);
      break;
    }
  }
  if (found < 0) {
    st.relations.erase(rel.id);
    return;
  }
  auto t = static_cast<uint32_t>(found);
  if (!same_columns(rel, st.settings.tables[t]) && st.settings.list_tables) {
    auto fresh = st.settings.list_tables();
    for (auto& f : fresh) {
      if (!(f.id == st.settings.tables[t].id)) continue;
      bool changed = f.columns.size() != st.settings.tables[t].columns.size();
      for (size_t i = 0; !changed && i < f.columns.size(); ++i)
        changed = f.columns[i].name != st.settings.tables[t].columns[i].name ||
                  f.columns[i].source_type != st.settings.tables[t].columns[i].source_type;
      if (!changed) break;
      log::info("finds new columns in " + to_string(f.id) + " at " +
                format_lsn(st.txn.final_lsn) + "; appends a schema dump");
      // Changes before the DDL go out with the old schema, later ones
      // with the new: the stream's open batch is handed on first.
      auto stream = st.settings.stream_of_table.at(t);
      if (auto b = st.batcher->flush_stream(stream)) send_batch(self, std::move(*b));
      f.estimated_rows = st.settings.tables[t].estimated_rows;
      st.settings.tables[t] = f;
      self->send(st.appliers.at(stream), schema_change{t, f});
      if (st.settings.dump_schema) st.settings.dump_schema(st.settings.tables);
      break;
    }
  }
  st.relations[rel.id] = wal_reader_state::relation_entry{t, map_relation(rel, st.settings.tables[t])};
}

void hand_on(reader_ptr self, row_change c) {
  auto& st = self->state;
  ++st.changes_read;
  auto s = c.table < st.settings.stream_of_table.size() ? st.settings.stream_of_table[c.table] : 0;
  if (s < st.is_touched.size() && !st.is_touched[s]) {
    st.is_touched[s] = true;
    st.touched.push_back(s);
    st.opened_at[s] = std::chrono::steady_clock::now();
  }
  if (auto full = st.batcher->add(std::move(c))) send_batch(self, std::move(*full));
}

void on_change(reader_ptr self, const pg_change& ch, uint64_t lsn) {
  auto& st = self->state;
  auto it = st.relations.find(ch.relation_id);
  if (it == st.relations.end()) return;  // a table this run does not replicate
  const auto& t = st.settings.tables[it->second.table];
  const auto& cols = it->second.columns;
  row_change c;
  c.table = it->second.table;
  c.lsn = lsn;
  const pg_tuple* old = ch.old_tuple ? &*ch.old_tuple : nullptr;
  if (ch.new_tuple) {
    c.has_after = true;
    c.after = project(*ch.new_tuple, cols, t, old && !ch.key_only ? old : nullptr,
                      &st.unavailable_values);
  }
  if (old) {
    c.has_before = true;
    c.before = project(*old, cols, t);
  }
  switch (ch.kind) {
    case pg_change_kind::insert: c.op = row_op::insert; break;
    case pg_change_kind::update:
      c.op = row_op::update;
      // REPLICA IDENTITY DEFAULT sends no old image when the key stayed:
      // before carries the key only (design section 4).
      if (!c.has_before && c.has_after && !key_columns(t).empty()) {
        c.has_before = true;
        c.before = key_only(c.after, t);
      }
      break;
    case pg_change_kind::remove: c.op = row_op::erase; break;
  }
  hand_on(self, std::move(c));
}

void on_message(reader_ptr self, const pg_xlog_data& d) {
  auto& st = self->state;
  auto msg = st.decoder.decode(d.payload);
  if (auto* b = std::get_if<pg_begin>(&msg)) {
    st.txn = *b;
    st.batcher->begin(b->final_lsn, b->xid, commit_ms(b->commit_time));
  } else if (auto* c = std::get_if<pg_commit>(&msg)) {
    st.batcher->commit();
    st.committed.emplace_back(c->commit_lsn, c->end_lsn);
    st.failures = 0;
    flush_idle(self);
  } else if (auto* r = std::get_if<pg_relation>(&msg)) {
    on_relation(self, *r);
  } else if (auto* ch = std::get_if<pg_change>(&msg)) {
    // The XLogData start is the change's own WAL position.
    on_change(self, *ch, d.wal_start);
  } else if (auto* tr = std::get_if<pg_truncate>(&msg)) {
    for (auto id : tr->relation_ids) {
      auto it = st.relations.find(id);
      if (it == st.relations.end()) continue;
      row_change c;
      c.table = it->second.table;
      c.op = row_op::truncate;
      c.lsn = d.wal_start;
      hand_on(self, std::move(c));
    }
  }
}

void start_streaming(reader_ptr self) {
  auto& st = self->state;
  if (!st.rep) st.rep = std::shared_ptr<pg_replication>(st.settings.connect());
  st.decoder = pgoutput_decoder{};
  st.relations.clear();
  st.rep->start(st.settings.slot, st.settings.publication,
                std::max(st.settings.start_lsn, st.confirmed));
  st.streaming = true;
  if (st.confirmed > 0) st.rep->confirm(st.confirmed);
}

// A failure of the source: retry after a wait (once nothing is in flight),
// or give up.
void on_source_failure(reader_ptr self, const error& e) {
  auto& st = self->state;
  auto d = st.policy.next(++st.failures, e.code());
  if (!d.retry) {
    fail(self, e.to_failure());
    return;
  }
  metrics::add_retry(to_string(e.code()));
  log::warn("loses the replication connection (" + std::string(to_string(e.code())) + "): " +
            e.what() + "; reconnects in " + std::to_string(d.wait.count()) + " ms (attempt " +
            std::to_string(st.failures) + " of " + std::to_string(st.policy.max_retries) + ")");
  st.rep.reset();
  st.streaming = false;
  st.reconnecting = true;
  // What was handed on is written whatever happens here; what was not is
  // sent again by the slot.
  st.batcher->reset();
  for (auto s : st.touched) st.is_touched[s] = false;
  st.touched.clear();
  st.committed.clear();
  st.tracker.discard_open();
  st.read_pending = true;
  self->delayed_send(self, d.wait, read_atom::value);
}

void read_round(reader_ptr self) {
  auto& st = self->state;
  bool stop_asked = st.settings.stop && st.settings.stop->load();
  if (stop_asked && !st.stopping) {
    st.stopping = true;
    log::info("drains realtime replication: " + std::to_string(st.in_flight) +
              " batches in flight");
    if (st.streaming) flush_all(self);
  }
  if (st.stopping) {
    if (st.in_flight > 0) return;  // the acknowledgements re-arm
    confirm(self);
    if (st.rep && st.streaming) {
      try {
        // One more poll sends the final standby status.
        st.rep->poll(0ms);
      } catch (const std::exception& e) {
        log::warn("cannot send the final confirmation: " + std::string(e.what()));
      }
    }
    if (st.fatal) {
      fail(self, *st.fatal);
      return;
    }
    finish(self);
    return;
  }
  if (st.reconnecting) {
    if (st.in_flight > 0) return;
    try {
      st.rep.reset();
      start_streaming(self);
      st.reconnecting = false;
      log::info("reconnects to the slot " + st.settings.slot + " at " + format_lsn(st.confirmed));
    } catch (const error& e) {
      if (e.code() == failure_code::source_state || !is_retryable(e.code())) {
        fail(self, e.to_failure());
        return;
      }
      on_source_failure(self, e);
      return;
    }
  }
  if (saturated(st)) return;  // an acknowledgement re-arms
  auto round_end = std::chrono::steady_clock::now() + 50ms;
  bool source_idle = false;
  try {
    for (;;) {
      if (st.settings.stop && st.settings.stop->load()) break;
      // While the appliers are busy, changes gather in the open batches, so
      // writes grow with the load instead of a backlog growing before the
      // reader; a short wait keeps acknowledgements flowing. Open batches
      // go out once the server stays silent for the linger (a couple of
      // milliseconds, so a light load still fills writes with more than
      // one transaction). With nothing open the reader sleeps on
      // the socket, briefly while writes are in flight (their
      // acknowledgements are handled between rounds), instead of spinning.
      bool busy = st.in_flight >= st.settings.max_in_flight;
      auto wait = busy ? 5ms
                  : st.batcher->buffered() > 0 ? st.settings.linger
                  : st.in_flight > 0           ? 10ms
                                               : 100ms;
      auto d = st.rep->poll(wait);
      if (!d) {
        source_idle = true;
        break;
      }
      on_message(self, *d);
      if (saturated(st)) break;
      // An acknowledgement is waiting: handle it now, so its stream's next
      // batch goes out without waiting for the round to end.
      if (!self->mailbox().empty()) break;
      if (std::chrono::steady_clock::now() >= round_end) break;
    }
    // The source stayed silent for the linger: whatever is open goes out.
    // Otherwise only the idle streams' lingered batches.
    if (source_idle && st.in_flight < st.settings.max_in_flight) flush_all(self);
    else flush_idle(self);
    // Nothing received is unwritten: the server's keepalive position can be
    // confirmed, so WAL of other tables (or none) is released too.
    if (st.in_flight == 0 && st.tracker.size() == 0 && st.tracker.held() == 0 &&
        st.committed.empty() && !st.batcher->in_transaction() &&
        st.batcher->buffered() == 0 && st.rep->keepalive_lsn() > st.confirmed) {
      st.confirmed = st.rep->keepalive_lsn();
      st.rep->confirm(st.confirmed);
    }
  } catch (const error& e) {
    // The server ends the stream itself when it shuts down (a restart, a
    // failover): that is worth a reconnect. A slot that is gone shows at the
    // reconnect's START_REPLICATION, which fails for good.
    bool server_ended = e.code() == failure_code::source_state &&
                        std::string(e.what()).find("does not exist") == std::string::npos;
    if (server_ended) {
      on_source_failure(self, error(failure_code::connection, e.what()));
      return;
    }
    if (e.code() == failure_code::bad_data || !is_retryable(e.code())) {
      fail(self, e.to_failure());
      return;
    }
    on_source_failure(self, e);
    return;
  }
  if (!saturated(st)) arm(self);
}

}  // namespace

wal_reader_actor::behavior_type
wal_reader(wal_reader_actor::stateful_pointer<wal_reader_state> self,
           wal_reader_settings settings, std::shared_ptr<pg_replication> rep,
           std::vector<change_applier_actor> appliers) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.policy = retry_policy_for(st.settings.source);
  st.rep = std::move(rep);
  st.appliers = std::move(appliers);
  size_t streams = st.appliers.size();
  st.batcher = std::make_unique<change_batcher>(st.settings.stream_of_table, streams,
                                                st.settings.txn_size_rows);
  st.stream_in_flight.assign(streams, 0);
  st.stream_stopped.assign(streams, false);
  st.is_touched.assign(streams, false);
  st.opened_at.assign(streams, {});
  if (!st.settings.connect) {
    auto cfg = st.settings.source;
    st.settings.connect = [cfg] { return std::make_unique<pg_replication>(cfg); };
  }
  return {
    [=](run_atom) -> caf::result<uint64_t> {
      auto& st = self->state;
      st.promise = self->make_response_promise<uint64_t>();
      auto promise = st.promise;
      try {
        start_streaming(self);
      } catch (const error& e) {
        if (e.code() == failure_code::source_state || !is_retryable(e.code()))
          return to_caf_error(e.to_failure());
        on_source_failure(self, e);
        return promise;
      }
      arm(self);
      return promise;
    },
    [=](read_atom) {
      self->state.read_pending = false;
      read_round(self);
    },
  };
}

}  // namespace trib
