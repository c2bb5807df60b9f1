// The Redis writer's memory backpressure (memory-threshold-percentage): when
// to read INFO memory, and the pause's start, counting and end. The pause
// itself is a timer in redis_writer (tick_atom), so the writer takes
// messages while paused.

#include "actors/sink/writer_steps.hpp"

#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/sink/redis_client.hpp"

namespace trib {

// INFO memory's reading; nullopt (and no more readings) when the user may
// not run INFO or the reply lacks the fields: writing on without the pause
// is what Tributary did before it had one, so that is a warning, not a stop.
std::optional<redis_memory> read_memory(redis_writer_state& st) {
  auto r = st.client->command({"INFO", "memory"});
  if (r.type == redis_reply::kind::error) {
    auto code = classify_redis_error(r.str);
    if (code != failure_code::auth) throw error(code, "redis refuses INFO memory: " + r.str);
    log::warn("redis refuses INFO memory to the target user (" + r.str +
              "); memory-threshold-percentage has no effect: grant +info to use it");
    st.memory.disable();
    return std::nullopt;
  }
  auto m = parse_info_memory(r.str);
  if (!m) {
    log::warn("redis's INFO memory has no used_memory or maxmemory; "
              "memory-threshold-percentage has no effect");
    st.memory.disable();
  }
  return m;
}

std::string megabytes(uint64_t bytes) {
  return std::to_string((bytes + (1u << 19)) >> 20) + " MB";
}

// Memory backpressure: whether `b` must wait because Redis is above the
// threshold (the reading, when so). Reads INFO memory only when a reading
// is due; the replies of the write before must have been read (the
// connection is idle). A connection that fails here is left for the send
// to meet, under the retry policy.
std::optional<redis_memory> memory_over(redis_writer_state& st, const write_batch& b) {
  auto now = memory_gate::clock::now();
  if (!st.memory.due(write_bytes(b), now)) return std::nullopt;
  try {
    if (!st.client) connect(st);
    auto m = read_memory(st);
    if (m && st.memory.over(*m, memory_gate::clock::now())) return m;
  } catch (const std::exception& e) {
    log::warn("cannot read redis's memory before writing to " + b.stream + ": " + e.what());
    st.client.reset();
  }
  return std::nullopt;
}

void begin_pause(redis_writer_state& st, const write_batch& b, const redis_memory& m) {
  log::warn("pauses writing to " + b.stream + ": redis uses " + megabytes(m.used) +
            " of its maxmemory " + megabytes(m.max) + ", above memory-threshold-percentage " +
            std::to_string(st.memory.percentage()) + "%; resumes when it falls below " +
            megabytes(st.memory.threshold(m)));
  st.paused = true;
  st.paused_at = st.paused_counted = memory_gate::clock::now();
  st.paused_stream = b.stream;
  metrics::set_memory_paused(true);
}

// Counts the paused time up to now.
void count_pause(redis_writer_state& st) {
  auto now = memory_gate::clock::now();
  metrics::add_memory_paused(std::chrono::duration<double>(now - st.paused_counted).count());
  st.paused_counted = now;
}

void end_pause(redis_writer_state& st, const std::string& how) {
  if (!st.paused) return;
  count_pause(st);
  st.paused = false;
  metrics::set_memory_paused(false);
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(st.paused_counted -
                                                                      st.paused_at);
  log::info(how + " writing to " + st.paused_stream + " after " +
            std::to_string(waited.count()) + " ms paused for redis memory");
}

}  // namespace trib
