#include "actors/sink/redis_writer.hpp"
#include "actors/sink/writer_steps.hpp"

#include <chrono>
#include <thread>
#include <variant>

#include "actors/control/run_lease.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/sink/redis_client.hpp"

namespace trib {

redis_writer_state::redis_writer_state() = default;
// A writer that ends paused (its run stopped) is no longer a paused writer.
redis_writer_state::~redis_writer_state() {
  if (paused) metrics::set_memory_paused(false);
}

namespace {

// HGET of a checkpoint field; nullopt when it does not exist.
std::optional<std::string> read_checkpoint(redis_client& c, const write_batch& b) {
  auto r = command_or_throw(c, {"HGET", b.checkpoint_key, b.checkpoint_field});
  if (r.type == redis_reply::kind::string) return r.str;
  return std::nullopt;
}

// Where a batch's checkpoint field lives, for the checks after a reconnect.
void remember_field(redis_writer_state& st, const write_batch& b) {
  st.checkpoint_keys[b.checkpoint_field] = b.checkpoint_key;
  st.checkpoint_streams[b.checkpoint_field] = b.stream;
}

// wait-replicas: a write that fewer replicas than asked acknowledged in
// time is committed on the master but not safe from a failover, so it is
// not acknowledged: it fails as a retryable write, and the retry finds it
// committed and WAITs again (attempt_write) -- the source position it
// carries is released only once enough replicas hold it.
void check_replicas(const redis_writer_state& st, const write_batch& b, long long replicas) {
  if (st.target.wait_replicas <= 0 || replicas >= st.target.wait_replicas) return;
  throw error(failure_code::server_busy,
              "only " + std::to_string(std::max(replicas, 0LL)) + " of wait-replicas " +
                std::to_string(st.target.wait_replicas) + " replicas acknowledged the write to " +
                b.stream + " within wait-timeout-ms " + std::to_string(st.target.wait_timeout_ms));
}

// One attempt: connect if needed, skip the batch if an earlier attempt
// already committed it (its checkpoint value is in), else write it.
write_ack attempt_write(redis_writer_state& st, const write_batch& b, bool check_committed) {
  route(st, b.stream);
  if (!st.client) connect(st);
  bool has_checkpoint = !b.checkpoint_key.empty();
  if (has_checkpoint && st.committed.count(b.checkpoint_field) == 0) {
    remember_field(st, b);
    st.committed[b.checkpoint_field] = read_checkpoint(*st.client, b);
  }
  stamp_lease(st, b.stream);
  if (has_checkpoint && check_committed) {
    auto now = read_checkpoint(*st.client, b);
    if (now && *now == b.checkpoint_value) {
      // Committed, but perhaps not yet on enough replicas: the same value
      // written again is a write of this connection that WAIT can count,
      // and replicas apply writes in order.
      if (st.target.wait_replicas > 0) {
        auto r = st.client->pipeline({{"HSET", b.checkpoint_key, b.checkpoint_field, *now},
                                      {"WAIT", std::to_string(st.target.wait_replicas),
                                       std::to_string(st.target.wait_timeout_ms)}});
        check_replicas(st, b, r[1].type == redis_reply::kind::integer ? r[1].integer : 0);
      }
      log::info("finds the batch for " + b.stream +
                " committed before the connection was lost; skips it");
      st.committed[b.checkpoint_field] = now;
      return write_ack{};
    }
  }
  auto started = std::chrono::steady_clock::now();
  auto o = st.client->try_write_atomically(b, false);
  metrics::observe_redis_write(std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - started)
                                 .count());
  if (!o.error) {
    check_replicas(st, b, o.replicas);
    if (has_checkpoint) st.committed[b.checkpoint_field] = b.checkpoint_value;
    return write_ack{o.added, std::move(o.last_id)};
  }
  if (!st.client->usable()) connect(st);
  undo_partial(st, b, o);
  throw error(o.error->code, o.error->what + " (undone: the batch is not in the stream)");
}

// The refusal for a write whose field already failed, if it did.
std::optional<failure> refusal(const redis_writer_state& st, const write_batch& b) {
  if (b.checkpoint_key.empty() || st.failed_fields.count(b.checkpoint_field) == 0)
    return std::nullopt;
  return failure{failure_code::internal,
                 "refuses a write to " + b.stream + ": an earlier write to it failed, "
                 "and the stream must keep its order"};
}

// Writes one batch on its own, retrying under the policy: the ack, or the
// failure once it is permanent or out of retries (the field is then failed).
// `failures` counts the failed attempts, those before the call included
// (the write on the wire): one count against max-retries.
std::variant<write_ack, failure> write_alone(redis_writer_state& st, const write_batch& b,
                                             bool check_first, int& failures) {
  if (auto f = refusal(st, b)) return *f;
  for (bool again = false;; again = true) {
    failure f;
    try {
      auto ack = attempt_write(st, b, check_first || again);
      metrics::add_batch("committed");
      // An ack without entries may be a write found committed before: its
      // entries are unknown, so count the batch's.
      trim_after(st, b.stream, ack.entries > 0 ? ack.entries : b.size());
      lag_after(st, b.stream, ack.entries > 0 ? ack.entries : b.size());
      return ack;
    } catch (const error& e) {
      f = e.to_failure();
    } catch (const std::exception& e) {
      f = failure{failure_code::internal, e.what()};
    }
    // After a failure the connection's state is unknown (a write may be
    // half sent): the next attempt starts on a fresh one, in a cluster
    // with the slots learnt again (a failover, a resharding).
    st.client.reset();
    st.slots_stale = true;
    auto d = st.policy.next(++failures, f.code);
    if (!d.retry) {
      if (!b.checkpoint_key.empty()) st.failed_fields.insert(b.checkpoint_field);
      metrics::add_batch("failed");
      log::error("fails to write " + std::to_string(b.size()) + " entries to " + b.stream +
                 " (" + to_string(f.code) + ", permanent or out of retries): " + f.what);
      return f;
    }
    metrics::add_batch("retried");
    metrics::add_retry(to_string(f.code));
    log::warn("retries writing to " + b.stream + " in " + std::to_string(d.wait.count()) +
              " ms (attempt " + std::to_string(failures) + " of " +
              std::to_string(st.policy.max_retries) + ", " + to_string(f.code) + "): " + f.what);
    // This actor is detached and owns its thread; waiting here holds up
    // only the batches queued for this one connection.
    std::this_thread::sleep_for(d.wait);
  }
}

// A failure says how often the write was tried, so that the supervisor
// counts those attempts against the same max-retries.
void deliver(redis_writer_state::sent& s, std::variant<write_ack, failure> r, int attempts) {
  if (auto* ack = std::get_if<write_ack>(&r))
    s.promise.deliver(std::move(*ack));
  else
    s.promise.deliver(to_caf_error(std::get<failure>(r), attempts));
}

// The write on the wire failed: `o` is what it did (nullopt: the
// connection failed, nothing is known). A known outcome is taken back
// (whatever of it is in), then the write fails for good or is written again
// on its own; an unknown one is checked against its checkpoint first.
void recover(redis_writer_state& st, std::optional<write_outcome> o) {
  auto s = std::move(*st.on_wire);
  st.on_wire.reset();
  if (!o || (st.client && !st.client->usable())) {
    st.client.reset();
    st.slots_stale = true;
  }
  auto fail = [&](const failure& f) {
    if (!s.batch.checkpoint_key.empty()) st.failed_fields.insert(s.batch.checkpoint_field);
    metrics::add_batch("failed");
    deliver(s, f, 1);
  };
  if (o) {
    try {
      if (!st.client) connect(st);
      undo_partial(st, s.batch, *o);
    } catch (const error& e) {
      log::error(e.what());
      fail(e.to_failure());
      return;
    }
    // Permanent, or retryable but max-retries is 0 (the write on the wire
    // was the one attempt): it fails here.
    if (o->error && !st.policy.next(1, o->error->code).retry) {
      log::error("fails to write " + std::to_string(s.batch.size()) + " entries to " +
                 s.batch.stream + " (" + to_string(o->error->code) +
                 (is_retryable(o->error->code) ? ", max-retries 0): " : ", permanent): ") +
                 o->error->what);
      fail(failure{o->error->code, o->error->what + " (undone: the batch is not in the stream)"});
      return;
    }
  }
  int failures = 1;  // the write on the wire
  auto r = write_alone(st, s.batch, !o, failures);
  deliver(s, std::move(r), failures);
}

}  // namespace

// Reads the replies of the write on the wire, if there is one, and
// answers its sender.
void settle(redis_writer_state& st) {
  if (!st.on_wire) return;
  auto& s = *st.on_wire;
  write_outcome o;
  try {
    o = st.client->receive_write(s.batch, false);
  } catch (const std::exception& e) {
    log::warn("loses the connection to redis while writing to " + s.batch.stream + ": " +
              e.what());
    recover(st, std::nullopt);
    return;
  }
  if (o.error) {
    recover(st, std::move(o));
    return;
  }
  if (st.target.wait_replicas > 0 && o.replicas < st.target.wait_replicas) {
    log::warn("only " + std::to_string(std::max(o.replicas, 0LL)) + " replicas acknowledged the "
              "write to " + s.batch.stream + " in time (wait-replicas " +
              std::to_string(st.target.wait_replicas) + "); waits for them again");
    recover(st, std::nullopt);
    return;
  }
  metrics::observe_redis_write(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - s.sent_at).count());
  if (!s.batch.checkpoint_key.empty())
    st.committed[s.batch.checkpoint_field] = s.batch.checkpoint_value;
  metrics::add_batch("committed");
  s.promise.deliver(write_ack{o.added, std::move(o.last_id)});
  auto stream = std::move(s.batch.stream);
  st.on_wire.reset();
  trim_after(st, stream, o.added);
  lag_after(st, stream, o.added);
}

namespace {

// Puts a write on the wire. Its MULTI must be answered before its entries
// are sent, and that answer comes after the replies of the write before
// it: those are read first. A first write to a checkpoint field also reads
// the field's value (to restore it after a partial failure).
void send(redis_writer_state& st, redis_writer_state::sent w) {
  settle(st);
  try {
    route(st, w.batch.stream);
  } catch (const std::exception&) {
    // Met again by the attempt below, under the retry policy.
    st.slots_stale = true;
  }
  // The write before it to the same field may just have failed for good.
  if (auto f = refusal(st, w.batch)) {
    w.promise.deliver(to_caf_error(*f));
    return;
  }
  st.on_wire = std::move(w);
  auto& b = st.on_wire->batch;
  try {
    route(st, b.stream);
    if (!st.client) connect(st);
    if (!b.checkpoint_key.empty() && st.committed.count(b.checkpoint_field) == 0) {
      remember_field(st, b);
      st.committed[b.checkpoint_field] = read_checkpoint(*st.client, b);
    }
    stamp_lease(st, b.stream);
    st.on_wire->sent_at = std::chrono::steady_clock::now();
    st.client->send_write(b);
  } catch (const std::exception& e) {
    log::warn("cannot send a write to " + b.stream + ": " + e.what());
    recover(st, std::nullopt);
  }
}

// The answer to a write that a stop keeps from waiting (`why`: for what).
// Later writes to its field are refused: they must not commit past it.
void answer_stopped(redis_writer_state& st, redis_writer_state::sent& w, const char* why) {
  if (!w.batch.checkpoint_key.empty()) st.failed_fields.insert(w.batch.checkpoint_field);
  w.promise.deliver(to_caf_error(failure{
    failure_code::stopped, "not written to " + w.batch.stream + ": the run stopped while " + why}));
}

// The hash of a stream's checkpoint: the replication's one hash on one
// server; in a cluster the stream's own, in the stream's slot, so that the
// write's MULTI/EXEC runs on one node (design section 11).
std::string stream_checkpoint_key(const redis_writer_state& st, const std::string& key,
                                  const std::string& stream) {
  if (!st.target.cluster || key.empty()) return key;
  return stream_scoped_key(key, stream);
}

constexpr const char* for_memory = "redis was above memory-threshold-percentage";
constexpr const char* for_lag = "a consumer group lagged more than max-consumer-lag";

using writer_ptr = redis_writer_actor::stateful_pointer<redis_writer_state>;

// Schedules a tick while something waits for one (memory, a held stream).
void arm_tick(writer_ptr self) {
  auto& st = self->state;
  if (st.tick_armed || (!st.paused && st.held.empty())) return;
  st.tick_armed = true;
  self->delayed_send(self, tuning::redis_memory_poll_interval, tick_atom::value);
}

// Sends `w` unless Redis's memory makes it wait: then false, `w` untouched,
// and the writer paused.
bool try_send(writer_ptr self, redis_writer_state::sent& w) {
  auto& st = self->state;
  settle(st);
  try {
    route(st, w.batch.stream);  // Redis's memory is the stream's node's
  } catch (const std::exception&) {
    st.slots_stale = true;
  }
  if (auto m = memory_over(st, w.batch)) {
    if (st.stopping) {
      answer_stopped(st, w, for_memory);
      return true;
    }
    begin_pause(st, w.batch, *m);
    return false;
  }
  bool more = w.batch.more_follows;
  // Its replies stay unread while the sender builds the next write.
  send(st, std::move(w));
  if (!more) {
    settle(st);
  } else if (st.on_wire && !st.flush_armed) {
    st.flush_armed = true;
    self->delayed_send(self, st.settings.linger, flush_atom::value, st.generation);
  }
  return true;
}

// Sends `w`, or queues it behind the writes that wait for memory (order).
void send_or_wait(writer_ptr self, redis_writer_state::sent& w) {
  auto& st = self->state;
  if (st.paused || !st.waiting.empty() || !try_send(self, w)) st.waiting.push_back(std::move(w));
}

// Sends the writes that waited for memory, in order, until one must wait
// again.
void send_waiting(writer_ptr self) {
  auto& st = self->state;
  while (!st.waiting.empty()) {
    if (!try_send(self, st.waiting.front())) return;
    st.waiting.pop_front();
  }
}

// Paused: reads Redis's memory again. A reading that fails ends the pause;
// the sends meet the failure under the retry policy.
void memory_tick(writer_ptr self) {
  auto& st = self->state;
  std::optional<redis_memory> m;
  bool over = false;
  try {
    route(st, st.paused_stream);
    if (!st.client) connect(st);
    m = read_memory(st);
    over = m && st.memory.over(*m, memory_gate::clock::now());
  } catch (const std::exception& e) {
    log::warn(std::string("cannot read redis's memory while paused: ") + e.what());
    st.client.reset();
  }
  if (over) {
    count_pause(st);
    return;
  }
  end_pause(st, "resumes");
  if (m) log::info("redis uses " + megabytes(m->used) + " now");
  send_waiting(self);
}

// Streams held for consumer lag: those whose groups caught up are released
// and their writes sent in order.
void lag_tick(writer_ptr self) {
  auto& st = self->state;
  // The connection must be idle before it is asked anything.
  settle(st);
  for (const auto& stream : lag_released(st)) {
    auto writes = std::move(st.held[stream]);
    st.held.erase(stream);
    st.lag_unread[stream] = 0;
    for (auto& w : writes) send_or_wait(self, w);
  }
}

}  // namespace

redis_writer_actor::behavior_type
redis_writer(redis_writer_actor::stateful_pointer<redis_writer_state> self,
             redis_config target, redis_writer_settings settings) {
  self->state.target = std::move(target);
  self->state.policy = retry_policy_for(self->state.target);
  self->state.settings = settings;
  self->state.memory = memory_gate(self->state.target.memory_threshold_percentage);
  if (!self->state.settings.fence) self->state.settings.fence = current_write_fence();
  return {
    [=](write_batch& b) -> caf::result<write_ack> {
      auto& st = self->state;
      if (auto f = refusal(st, b)) return to_caf_error(*f);
      try {
        b.checkpoint_key = stream_checkpoint_key(st, b.checkpoint_key, b.stream);
      } catch (const error& e) {
        return to_caf_error(e.to_failure());
      }
      auto promise = self->make_response_promise<write_ack>();
      ++st.generation;
      redis_writer_state::sent w{std::move(b), promise, {}};
      if (auto h = st.held.find(w.batch.stream); h != st.held.end()) {
        // Its stream waits for its consumers.
        if (st.stopping) answer_stopped(st, w, for_lag);
        else h->second.push_back(std::move(w));
      } else {
        send_or_wait(self, w);
      }
      arm_tick(self);
      return promise;
    },
    [=](undo_request& u) -> undo_result {
      try {
        u.checkpoint_key = stream_checkpoint_key(self->state, u.checkpoint_key, u.stream);
      } catch (const error& e) {
        return undo_result{0, true, e.what(), {}};
      }
      return undo_writes(self->state, u);
    },
    [=](flush_atom, uint64_t generation) {
      // No write came for a whole linger: read the replies. Writes came,
      // and some are still on the wire: give them a linger of their own.
      auto& st = self->state;
      st.flush_armed = false;
      if (generation == st.generation) {
        settle(st);
      } else if (st.on_wire) {
        st.flush_armed = true;
        self->delayed_send(self, st.settings.linger, flush_atom::value, st.generation);
      }
      arm_tick(self);
    },
    [=](tick_atom) {
      auto& st = self->state;
      st.tick_armed = false;
      if (st.paused) memory_tick(self);
      if (!st.held.empty()) lag_tick(self);
      arm_tick(self);
    },
    [=](stop_atom) {
      // What is on the wire commits as a stop asks; what waits for memory
      // or for consumers would wait for someone else, so it is answered
      // unwritten (and so is any write that would wait after this).
      auto& st = self->state;
      st.stopping = true;
      for (auto& [stream, writes] : st.held) {
        for (auto& w : writes) answer_stopped(st, w, for_lag);
        writes.clear();
      }
      if (!st.paused) return;
      end_pause(st, "stops");
      for (auto& w : st.waiting) answer_stopped(st, w, for_memory);
      st.waiting.clear();
    },
  };
}

}  // namespace trib
