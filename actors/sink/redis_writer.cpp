#include "actors/sink/redis_writer.hpp"

#include <chrono>
#include <thread>

#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/sink/redis_client.hpp"

namespace trib {

redis_writer_state::redis_writer_state() = default;
redis_writer_state::~redis_writer_state() = default;

namespace {

// HGET of a checkpoint field; nullopt when it does not exist.
std::optional<std::string> read_checkpoint(redis_client& c, const write_batch& b) {
  auto r = c.command({"HGET", b.checkpoint_key, b.checkpoint_field});
  if (r.type == redis_reply::kind::error)
    throw error(classify_redis_error(r.str), r.str);
  if (r.type == redis_reply::kind::string) return r.str;
  return std::nullopt;
}

// Runs one command whose error reply must abort the undo.
void must(redis_client& c, const std::vector<std::string>& argv) {
  auto r = c.command(argv);
  if (r.type == redis_reply::kind::error)
    throw error(classify_redis_error(r.str), r.str);
}

// Takes back what a failed transaction applied, so the batch is all or
// nothing. A failure here leaves entries in doubt, which no retry can settle:
// it becomes a permanent failure of the table.
void undo_partial(redis_writer_state& st, const write_batch& b,
                  const write_outcome& o) {
  try {
    auto added = o.added_ids();
    if (!added.empty()) {
      std::vector<std::string> argv{"XDEL", b.stream};
      argv.insert(argv.end(), added.begin(), added.end());
      must(*st.client, argv);
    }
    if (o.checkpoint_written) {
      const auto& before = st.committed[b.checkpoint_field];
      if (before)
        must(*st.client, {"HSET", b.checkpoint_key, b.checkpoint_field, *before});
      else
        must(*st.client, {"HDEL", b.checkpoint_key, b.checkpoint_field});
    }
    if (!added.empty() || o.checkpoint_written)
      log::warn("undoes a partial write to " + b.stream + ": " +
                std::to_string(added.size()) + " entries deleted" +
                (o.checkpoint_written ? ", checkpoint restored" : ""));
  } catch (const std::exception& e) {
    throw error(failure_code::internal,
                "cannot undo a partial write to " + b.stream + " (entries " +
                  "may be in doubt): " + e.what());
  }
}

// One attempt: connect if needed, skip the batch if an earlier attempt
// already committed it, else write it.
write_ack attempt_write(redis_writer_state& st, const write_batch& b,
                        bool check_committed) {
  if (!st.client) st.client = redis_client::connect(st.target);
  bool has_checkpoint = !b.checkpoint_key.empty();
  if (has_checkpoint && st.committed.count(b.checkpoint_field) == 0)
    st.committed[b.checkpoint_field] = read_checkpoint(*st.client, b);
  if (has_checkpoint && check_committed) {
    auto now = read_checkpoint(*st.client, b);
    if (now && *now == b.checkpoint_value) {
      log::info("finds the batch for " + b.stream +
                " committed before the connection was lost; skips it");
      st.committed[b.checkpoint_field] = now;
      return write_ack{};
    }
  }
  auto started = std::chrono::steady_clock::now();
  auto o = st.client->try_write_atomically(b);
  metrics::observe_redis_write(std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - started)
                                 .count());
  if (!o.error) {
    if (has_checkpoint) st.committed[b.checkpoint_field] = b.checkpoint_value;
    return write_ack{std::move(o.ids)};
  }
  if (!st.client->usable()) st.client = redis_client::connect(st.target);
  undo_partial(st, b, o);
  throw error(o.error->code, o.error->what + " (undone: the batch is not in the stream)");
}

}  // namespace

redis_writer_actor::behavior_type
redis_writer(redis_writer_actor::stateful_pointer<redis_writer_state> self,
             redis_config target) {
  self->state.target = std::move(target);
  self->state.policy = retry_policy_for(self->state.target);
  return {
    [=](write_batch& b) -> caf::result<write_ack> {
      auto& st = self->state;
      bool has_checkpoint = !b.checkpoint_key.empty();
      if (has_checkpoint && st.failed_fields.count(b.checkpoint_field) > 0)
        return to_caf_error(failure{
          failure_code::internal,
          "refuses a write to " + b.stream + ": an earlier write to it failed, "
            "and the stream must keep its order"});
      for (int failures = 0;;) {
        failure f;
        try {
          auto ack = attempt_write(st, b, failures > 0);
          metrics::add_batch("committed");
          return ack;
        } catch (const error& e) {
          f = e.to_failure();
        } catch (const std::exception& e) {
          f = failure{failure_code::internal, e.what()};
        }
        // After a failure the connection's state is unknown (a pipelined
        // MULTI may be half sent): the next attempt starts on a fresh one.
        st.client.reset();
        auto d = st.policy.next(++failures, f.code);
        if (!d.retry) {
          if (has_checkpoint) st.failed_fields.insert(b.checkpoint_field);
          metrics::add_batch("failed");
          log::error("fails to write " + std::to_string(b.size()) +
                     " entries to " + b.stream + " (" + to_string(f.code) +
                     ", permanent or out of retries): " + f.what);
          return to_caf_error(f);
        }
        metrics::add_batch("retried");
        metrics::add_retry(to_string(f.code));
        log::warn("retries writing to " + b.stream + " in " +
                  std::to_string(d.wait.count()) + " ms (attempt " +
                  std::to_string(failures) + " of " +
                  std::to_string(st.policy.max_retries) + ", " +
                  to_string(f.code) + "): " + f.what);
        // This actor is detached and owns its thread; waiting here holds up
        // only the batches queued for this one connection.
        std::this_thread::sleep_for(d.wait);
      }
    },
  };
}

}  // namespace trib
