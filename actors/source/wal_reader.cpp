#include "actors/source/wal_reader.hpp"

#include <algorithm>

#include "actors/control/realtime_board.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/source/change_reader_retry.hpp"
#include "actors/source/stalled_reader.hpp"
#include "actors/source/wal_incremental.hpp"
#include "messages/position.hpp"

namespace trib {

wal_reader_state::wal_reader_state() = default;
wal_reader_state::~wal_reader_state() = default;

namespace {

using reader_ptr = wal_reader_actor::stateful_pointer<wal_reader_state>;
using wal_detail::incremental_relation;
using wal_detail::on_signal;
using wal_detail::on_watermark;
using namespace std::chrono_literals;

// PostgreSQL times count microseconds from 2000-01-01 UTC.
constexpr int64_t pg_epoch_ms = 946684800000LL;

int64_t commit_ms(int64_t pg_us) { return pg_epoch_ms + pg_us / 1000; }

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

// Tells the slot what the dispatcher released; the status goes out at the
// next poll (or at once when draining).
void confirm(reader_ptr self, uint64_t pos) {
  auto& st = self->state;
  if (pos <= st.confirmed) return;
  st.confirmed = pos;
  if (st.rep && st.streaming) st.rep->confirm(pos);
  metrics::set_source_position(static_cast<double>(pos));
  note_realtime_position("lsn " + format_lsn(pos));
}

bool may_read(const wal_reader_state& st) { return st.unanswered < st.settings.max_unanswered; }

// Sends what was decoded to the dispatcher. Its answer comes once there is
// room for more: until then at most max_unanswered feeds are out, and the
// slot is not polled.
void send_feed(reader_ptr self) {
  auto& st = self->state;
  if (st.feed.txns.empty()) return;
  ++st.unanswered;
  ++st.feeds_sent;
  auto f = std::move(st.feed);
  st.feed = change_feed{};
  st.feed_bytes = 0;
  if (st.snapshots) st.snapshots->sent();
  self->request(st.dispatcher, caf::infinite, std::move(f))
    .then(
      [=](uint64_t released) {
        auto& st = self->state;
        --st.unanswered;
        confirm(self, released);
        arm(self);
      },
      [=](caf::error& e) {
        auto& st = self->state;
        --st.unanswered;
        if (!st.stopping) fail(self, to_failure(e));
      });
}

// The part of the feed that the current transaction's changes go to.
source_txn& current_part(wal_reader_state& st) {
  auto& txns = st.feed.txns;
  if (txns.empty()) st.feed_opened = std::chrono::steady_clock::now();
  if (txns.empty() || txns.back().commit != st.txn.final_lsn || txns.back().last) {
    // The first part, or one that continues a transaction whose earlier
    // changes went in an earlier feed.
    source_txn t;
    t.commit = st.txn.final_lsn;
    t.id = std::to_string(st.txn.xid);
    t.commit_ms = commit_ms(st.txn.commit_time);
    txns.push_back(std::move(t));
  }
  return txns.back();
}

// A Relation message: maps it onto its table, and when its columns are not
// the table's (names, order or types), asks the catalog whether the table
// changed. The catalog answers for now, not for the Relation's position: two
// DDLs the reader has not reached yet show as one change to the latest.
void on_relation(reader_ptr self, const pg_relation& rel) {
  auto& st = self->state;
  std::string schema = rel.schema.empty() ? "pg_catalog" : rel.schema;
  if (st.snapshots && incremental_relation(st, rel, schema)) return;
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
      if (!columns_changed(st.settings.tables[t], f)) break;
      log::info("finds changed columns in " + to_string(f.id) + " at " +
                format_lsn(st.txn.final_lsn) + " (" +
                describe_column_changes(st.settings.tables[t], f) + "); appends a schema dump");
      // The changes decoded before the DDL go first, with the old schema.
      send_feed(self);
      f.estimated_rows = st.settings.tables[t].estimated_rows;
      st.settings.tables[t] = f;
      self->send(st.dispatcher, schema_change{t, f});
      if (st.settings.dump_schema) st.settings.dump_schema(st.settings.tables);
      break;
    }
  }
  st.relations[rel.id] = wal_reader_state::relation_entry{t, map_relation(rel, st.settings.tables[t])};
}

void hand_on(reader_ptr self, row_change c) {
  auto& st = self->state;
  ++st.changes_read;
  if (st.snapshots) st.snapshots->note(c);
  st.feed_bytes += change_bytes(c);
  current_part(st).changes.push_back(std::move(c));
  if (st.feed_bytes >= st.settings.max_feed_bytes) send_feed(self);
}

void on_change(reader_ptr self, const pg_change& ch, uint64_t lsn) {
  auto& st = self->state;
  if (st.snapshots && ch.relation_id != 0) {
    if (ch.relation_id == st.watermark_relation) {
      // At the open chunk's high watermark its rows join this transaction.
      for (auto& c : on_watermark(st, ch, lsn)) hand_on(self, std::move(c));
      return;
    }
    if (ch.relation_id == st.signal_relation) return on_signal(st, ch);
  }
  auto it = st.relations.find(ch.relation_id);
  if (it == st.relations.end()) return;  // a table this run does not replicate
  const auto& t = st.settings.tables[it->second.table];
  const auto& cols = it->second.columns;
  row_change c;
  c.table = it->second.table;
  c.source.position.lsn = lsn;
  c.source.xid = st.txn.xid;
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
    case pg_change_kind::insert: c.op = change_op::insert; break;
    case pg_change_kind::update:
      c.op = change_op::update;
      // REPLICA IDENTITY DEFAULT sends no old image when the key stayed:
      // before carries the key only (design section 4).
      if (!c.has_before && c.has_after && !key_columns(t).empty()) {
        c.has_before = true;
        c.before = key_only(c.after, t);
      }
      break;
    case pg_change_kind::remove: c.op = change_op::erase; break;
  }
  hand_on(self, std::move(c));
}

void on_message(reader_ptr self, const pg_xlog_data& d) {
  auto& st = self->state;
  auto msg = st.decoder.decode(d.payload);
  if (auto* b = std::get_if<pg_begin>(&msg)) {
    st.txn = *b;
    st.in_txn = true;
  } else if (auto* c = std::get_if<pg_commit>(&msg)) {
    // A transaction of no replicated table goes too (with no change), so
    // that the slot is confirmed past it.
    auto& part = current_part(st);
    part.last = true;
    part.release = c->end_lsn;
    st.in_txn = false;
    st.failures = 0;
    if (std::chrono::steady_clock::now() - st.feed_opened >= st.settings.feed_linger)
      send_feed(self);
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
      c.op = change_op::truncate;
      c.source.position.lsn = d.wal_start;
      c.source.xid = st.txn.xid;
      hand_on(self, std::move(c));
    }
  }
}

void start_streaming(reader_ptr self) {
  auto& st = self->state;
  if (!st.rep) st.rep = std::shared_ptr<pg_replication>(st.settings.connect());
  st.decoder = pgoutput_decoder{};
  st.relations.clear();
  st.in_txn = false;
  st.rep->start(st.settings.slot, st.settings.publication,
                std::max(st.settings.start_lsn, st.confirmed));
  st.streaming = true;
  if (st.confirmed > 0) st.rep->confirm(st.confirmed);
}

// A failure of the source: retry after a wait (once the dispatcher has
// written what it was handed), or give up.
void on_source_failure(reader_ptr self, const error& e) {
  auto& st = self->state;
  retry_source(
    self, st.dispatcher, st.policy, st.failures, e, "replication connection",
    [=] {
      auto& st = self->state;
      st.rep.reset();
      st.streaming = false;
      st.reconnecting = true;
      // What was sent is written whatever happens here; what was not comes
      // again from the slot.
      st.feed = change_feed{};
      st.feed_bytes = 0;
      if (st.snapshots) st.snapshots->lost();
      st.in_txn = false;
      st.read_pending = true;
    },
    [=](uint64_t released) { confirm(self, released); },
    [=](const failure& f) { fail(self, f); });
}

// Stops: sends what was decoded, lets the dispatcher write everything,
// confirms what it released and answers.
void drain(reader_ptr self) {
  auto& st = self->state;
  st.stopping = true;
  if (st.streaming) send_feed(self);
  self->request(st.dispatcher, caf::infinite, drain_atom::value)
    .then(
      [=](uint64_t released) {
        auto& st = self->state;
        confirm(self, released);
        if (st.rep && st.streaming) {
          try {
            // One more poll sends the final standby status.
            st.rep->poll(0ms);
          } catch (const std::exception& e) {
            log::warn("cannot send the final confirmation: " + std::string(e.what()));
          }
        }
        finish(self);
      },
      [=](caf::error& e) { fail(self, to_failure(e)); });
}

// Reads the next chunk of an incremental snapshot when one is due. A
// failure the source may get over is tried again next round; false: the
// reader failed.
bool next_chunk(reader_ptr self) {
  auto& st = self->state;
  if (!st.snapshots || !st.snapshots->ready()) return true;
  try {
    st.snapshots->start_chunk(st.settings.tables);
    log::debug("reads a chunk of an incremental snapshot");
  } catch (const error& e) {
    if (!is_retryable(e.code())) {
      fail(self, e.to_failure());
      return false;
    }
    log::warn("cannot read the next chunk of an incremental snapshot, tries again: " +
              std::string(e.what()));
  }
  return true;
}

void read_round(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping) return;
  if (st.stop_asked) {
    drain(self);
    return;
  }
  if (st.reconnecting) {
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
  if (auto bytes = st.backlog->slot_lag(st.settings.slot))
    metrics::set_source_backlog_bytes(static_cast<double>(*bytes));
  if (!may_read(st)) {  // an answer re-arms
    arm_stalled_tick(self);
    return;
  }
  if (!next_chunk(self)) return;
  auto round_end = std::chrono::steady_clock::now() + 50ms;
  try {
    for (;;) {
      st.heartbeat->tick();
      // With changes decoded and not sent, the reader reads on until the
      // feed is feed_linger old (or full), so that a feed carries many
      // small transactions: each feed costs a message, an answer and a
      // thread wake-up, which under a steady load of small transactions was
      // most of the CPU. With nothing decoded the reader sleeps on the
      // socket, briefly while feeds are out (their answers are handled
      // between rounds), instead of spinning.
      auto wait = st.unanswered > 0 ? 10ms : 100ms;
      if (!st.feed.txns.empty()) {
        auto age = std::chrono::steady_clock::now() - st.feed_opened;
        if (age >= st.settings.feed_linger) break;
        wait = std::chrono::duration_cast<std::chrono::milliseconds>(st.settings.feed_linger - age);
      }
      auto d = st.rep->poll(wait);
      if (!d) break;
      on_message(self, *d);
      // The next chunk as soon as one closed: a chunk's pace is the log's.
      if (st.snapshots && st.snapshots->ready() && !next_chunk(self)) return;
      if (!may_read(st)) break;
      if (std::chrono::steady_clock::now() >= round_end) break;
    }
    send_feed(self);
    // Nothing received is unwritten: the server's keepalive position can be
    // confirmed, so WAL of other tables (or none) is released too.
    const auto& r = st.last_release;
    if (r.idle && r.feeds == st.feeds_sent && st.unanswered == 0 && !st.in_txn &&
        st.feed.txns.empty() && st.rep->keepalive_lsn() > st.confirmed)
      confirm(self, st.rep->keepalive_lsn());
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
  if (may_read(st)) arm(self);
  else arm_stalled_tick(self);
}

}  // namespace

wal_reader_actor::behavior_type
wal_reader(wal_reader_actor::stateful_pointer<wal_reader_state> self,
           wal_reader_settings settings, std::shared_ptr<pg_replication> rep,
           change_dispatcher_actor dispatcher) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.policy = retry_policy_for(st.settings.source);
  st.rep = std::move(rep);
  st.dispatcher = std::move(dispatcher);
  st.heartbeat = std::make_unique<heartbeat_timer>(st.settings.source,
                                                   st.settings.extractor.realtime.heartbeat);
  st.backlog = std::make_unique<backlog_timer>(st.settings.source, std::chrono::seconds(5));
  if (!st.settings.incremental.empty() || st.settings.extractor.realtime.signal_table.given()) {
    if (!st.settings.chunk_source_factory) {
      auto cfg = st.settings.source;
      auto ex = st.settings.extractor;
      auto filter = st.settings.filter;
      auto name = st.settings.replication;
      st.settings.chunk_source_factory = [=] {
        return make_pg_chunk_source(cfg, ex, filter, name);
      };
    }
    // This run's watermarks are its own: an earlier run's, read again
    // after a restart, are passed over.
    auto nonce = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    st.snapshots = std::make_unique<incremental_snapshots>(st.settings.chunk_source_factory,
                                                           nonce, st.settings.chunk_rows);
    for (auto& s : st.settings.incremental) {
      st.snapshots->add(s.table, s.after);
      log::info("snapshots " + to_string(st.settings.tables.at(s.table).id) +
                " incrementally" + (s.after.empty() ? "" : ", going on after its last written key"));
    }
  }
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
      auto& st = self->state;
      if (take_stalled_tick(st)) {
        // The feeds wait: only the backlog is measured, again and again
        // until an answer lets the reader read.
        if (st.stopping) return;
    if (auto bytes = st.backlog->slot_lag(st.settings.slot))
      metrics::set_source_backlog_bytes(static_cast<double>(*bytes));
        if (!may_read(st)) arm_stalled_tick(self);
        return;
      }
      st.read_pending = false;
      read_round(self);
    },
    [=](stop_atom) {
      auto& st = self->state;
      st.stop_asked = true;
      arm(self);
    },
    [=](change_release& r) {
      auto& st = self->state;
      confirm(self, r.position);
      st.last_release = r;
      if (r.stop && !st.stop_asked) {
        st.stop_asked = true;
        arm(self);
      }
    },
  };
}

}  // namespace trib
