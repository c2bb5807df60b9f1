#include "actors/source/binlog_reader.hpp"

#include <algorithm>

#include "actors/control/realtime_board.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/source/change_reader_retry.hpp"
#include "actors/source/stalled_reader.hpp"
#include "actors/source/session_common.hpp"
#include "messages/position.hpp"

namespace trib {

binlog_reader_state::binlog_reader_state() = default;
binlog_reader_state::~binlog_reader_state() = default;

namespace {

using reader_ptr = binlog_reader_actor::stateful_pointer<binlog_reader_state>;
using namespace std::chrono_literals;

void arm(reader_ptr self) {
  auto& st = self->state;
  if (st.read_pending) return;
  st.read_pending = true;
  self->send(self, read_atom::value);
}

// Stores the restart position: at most once a second while streaming
// (an older one is safe, only slower to resume), always when stopping.
void store(reader_ptr self, bool now) {
  auto& st = self->state;
  if (!st.settings.store_release || st.released == st.stored || st.restart_at.file.empty())
    return;
  auto t = std::chrono::steady_clock::now();
  if (!now && t - st.stored_at < 1s) return;
  try {
    st.settings.store_release(st.restart_at);
    st.stored = st.released;
    st.stored_at = t;
  } catch (const std::exception& e) {
    log::warn("cannot store the binlog position " + to_string(st.restart_at) + ": " + e.what());
  }
}

void release(reader_ptr self, uint64_t pos) {
  auto& st = self->state;
  if (pos <= st.released || !st.changes) return;
  if (auto at = st.changes->position_of(pos)) {
    st.released = pos;
    st.restart_at = *at;
    metrics::set_source_position(static_cast<double>(pos));
    note_realtime_position(to_string(*at));
    store(self, false);
  }
}

void finish(reader_ptr self) {
  auto& st = self->state;
  store(self, true);
  log::info("stops realtime replication at " + to_string(st.restart_at) + " after " +
            std::to_string(st.changes ? st.changes->changes() : 0) + " changes");
  st.promise.deliver(st.released);
  self->quit();
}

void fail(reader_ptr self, const failure& f) {
  auto& st = self->state;
  store(self, true);
  log::error(std::string("stops reading the binlog (") + to_string(f.code) + "): " + f.what);
  st.promise.deliver(to_caf_error(f));
  self->quit();
}

bool may_read(const binlog_reader_state& st) {
  return st.unanswered < st.settings.max_unanswered;
}

void send_feed(reader_ptr self) {
  auto& st = self->state;
  if (st.feed.txns.empty()) return;
  ++st.unanswered;
  ++st.feeds_sent;
  auto f = std::move(st.feed);
  st.feed = change_feed{};
  st.feed_bytes = 0;
  self->request(st.dispatcher, caf::infinite, std::move(f))
    .then(
      [=](uint64_t released) {
        auto& st = self->state;
        --st.unanswered;
        release(self, released);
        arm(self);
      },
      [=](caf::error& e) {
        auto& st = self->state;
        --st.unanswered;
        if (!st.stopping) fail(self, to_failure(e));
      });
}

// Per table, the columns the run's filter keeps (empty: all) and the key
// columns the listing keeps with them.
std::vector<std::vector<std::string>> column_filters(const binlog_reader_settings& s) {
  std::vector<std::vector<std::string>> out;
  for (const auto& t : s.tables) {
    source_detail::table_filter tf;
    source_detail::filter_allows(s.filter, t.id, &tf);
    auto keep = tf.columns;
    if (!keep.empty())
      for (size_t i : order_columns(t)) keep.push_back(t.columns[i].name);
    out.push_back(std::move(keep));
  }
  return out;
}

// Opens the binlog where the run is: the released position, else the start.
void open_binlog(reader_ptr self) {
  auto& st = self->state;
  binlog_start at = st.released > 0 ? st.restart_at : st.settings.start;
  st.client = std::make_unique<binlog_client>(st.settings.source, at, st.settings.client);
  if (!st.changes) {
    st.changes = std::make_unique<binlog_changes>(
      st.settings.tables, st.settings.source.kind, st.settings.extractor.realtime.heartbeat,
      st.settings.handoff, st.client->checksum());
    st.changes->set_column_filters(column_filters(st.settings));
  } else
    st.changes->restart(st.client->checksum());
}

// A TABLE_MAP gave a table new columns: the changes before it go out with
// the old schema, the later ones with the new.
void on_schema_update(reader_ptr self, binlog_changes::schema_update& u) {
  auto& st = self->state;
  send_feed(self);
  const auto& id = u.schema.id;
  if (u.after_ddl)
    log::info("finds new columns in " + to_string(id) + " (its TABLE_MAP after a DDL); appends a "
              "schema dump");
  else
    log::info("reads " + to_string(id) + " with the columns its binlog names at the start "
              "position, which differ from the table's now (DDLs since)");
  self->send(st.dispatcher, schema_change{u.table, std::move(u.schema)});
  if (u.after_ddl && st.settings.dump_schema) st.settings.dump_schema(st.changes->tables());
}

// A DDL in a replicated database when TABLE_MAPs do not name columns:
// re-reads the catalog and hands on the tables whose columns changed.
void on_ddl(reader_ptr self, const std::string& database) {
  auto& st = self->state;
  if (!st.settings.list_tables || st.changes->names_logged()) return;
  auto fresh = st.settings.list_tables();
  bool any = false;
  for (auto& f : fresh) {
    const auto& tables = st.changes->tables();
    for (uint32_t t = 0; t < tables.size(); ++t) {
      if (!(tables[t].id == f.id)) continue;
      bool changed = f.columns.size() != tables[t].columns.size();
      for (size_t i = 0; !changed && i < f.columns.size(); ++i)
        changed = f.columns[i].name != tables[t].columns[i].name ||
                  f.columns[i].source_type != tables[t].columns[i].source_type;
      if (!changed) break;
      if (!any) send_feed(self);  // the changes before the DDL go first
      any = true;
      log::info("finds new columns in " + to_string(f.id) + " after a DDL in " + database +
                "; appends a schema dump");
      f.estimated_rows = tables[t].estimated_rows;
      st.changes->set_schema(t, f);
      self->send(st.dispatcher, schema_change{t, f});
      break;
    }
  }
  if (any && st.settings.dump_schema) st.settings.dump_schema(st.changes->tables());
}

void on_source_failure(reader_ptr self, const error& e) {
  auto& st = self->state;
  retry_source(
    self, st.dispatcher, st.policy, st.failures, e, "binlog connection",
    [=] {
      auto& st = self->state;
      st.client.reset();
      st.reconnecting = true;
      // What was sent is written whatever happens here; what was not comes
      // again from the released position.
      st.feed = change_feed{};
      st.feed_bytes = 0;
      st.read_pending = true;
    },
    [=](uint64_t released) { release(self, released); },
    [=](const failure& f) { fail(self, f); });
}

void drain(reader_ptr self) {
  auto& st = self->state;
  st.stopping = true;
  if (st.client) send_feed(self);
  self->request(st.dispatcher, caf::infinite, drain_atom::value)
    .then(
      [=](uint64_t released) {
        release(self, released);
        finish(self);
      },
      [=](caf::error& e) { fail(self, to_failure(e)); });
}

void read_round(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping) return;
  if (st.stop_asked) {
    drain(self);
    return;
  }
  if (st.reconnecting || !st.client) {
    try {
      open_binlog(self);
      if (st.reconnecting)
        log::info("reconnects to the binlog at " +
                  to_string(st.released > 0 ? st.restart_at : st.settings.start));
      st.reconnecting = false;
    } catch (const error& e) {
      if (!is_retryable(e.code())) {
        fail(self, e.to_failure());
        return;
      }
      on_source_failure(self, e);
      return;
    }
  }
  if (auto bytes = st.backlog->binlog_behind(st.restart_at.file, st.restart_at.pos))
    metrics::set_source_backlog_bytes(static_cast<double>(*bytes));
  if (!may_read(st)) {  // an answer re-arms
    arm_stalled_tick(self);
    return;
  }
  auto round_end = std::chrono::steady_clock::now() + 50ms;
  try {
    for (;;) {
      st.heartbeat->tick();
      // What was decoded goes out before the reader could block: the server
      // has nothing more read ahead. With nothing decoded the reader waits
      // on the socket, briefly while feeds are out (their answers are
      // handled between rounds).
      auto wait = !st.feed.txns.empty() ? 0ms : st.unanswered > 0 ? 10ms : 100ms;
      if (!st.client->readable(wait)) break;
      auto e = st.client->next();
      if (e) {
        st.feed_bytes += st.changes->add(*e, st.feed);
        for (auto& u : st.changes->take_schema_changes()) on_schema_update(self, u);
        if (!st.changes->in_txn()) {
          st.failures = 0;
          if (auto db = st.changes->take_ddl()) on_ddl(self, *db);
        }
        if (st.feed_bytes >= st.settings.max_feed_bytes) send_feed(self);
      }
      if (!may_read(st)) break;
      if (!self->mailbox().empty()) break;
      if (std::chrono::steady_clock::now() >= round_end) break;
    }
    send_feed(self);
  } catch (const error& e) {
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

binlog_reader_actor::behavior_type
binlog_reader(binlog_reader_actor::stateful_pointer<binlog_reader_state> self,
              binlog_reader_settings settings, change_dispatcher_actor dispatcher) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.policy = retry_policy_for(st.settings.source);
  st.dispatcher = std::move(dispatcher);
  st.heartbeat = std::make_unique<heartbeat_timer>(st.settings.source,
                                                   st.settings.extractor.realtime.heartbeat);
  st.backlog = std::make_unique<backlog_timer>(st.settings.source, std::chrono::seconds(5));
  return {
    [=](run_atom) -> caf::result<uint64_t> {
      auto& st = self->state;
      st.promise = self->make_response_promise<uint64_t>();
      arm(self);
      return st.promise;
    },
    [=](read_atom) {
      auto& st = self->state;
      if (take_stalled_tick(st)) {
        // The feeds wait: only the backlog is measured, again and again
        // until an answer lets the reader read.
        if (st.stopping) return;
    if (auto bytes = st.backlog->binlog_behind(st.restart_at.file, st.restart_at.pos))
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
      release(self, r.position);
      if (r.stop && !st.stop_asked) {
        st.stop_asked = true;
        arm(self);
      }
    },
  };
}

}  // namespace trib
