// The Redis writer's consumer lag bound (applier max-consumer-lag): after
// commits, when due, how far each consumer group of the stream lags (XINFO
// GROUPS lag, exported as a metric); a stream whose slowest group lags more
// than the bound is held: writes to it wait in the writer (redis_writer),
// so its applier's writes stay unanswered and its reading stops, until the
// group catches up. The pure half is in stream_trim.*.

#include "actors/sink/writer_steps.hpp"

#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/sink/stream_trim.hpp"

namespace trib {

std::optional<group_position> read_slowest_group(redis_writer_state& st,
                                                 const std::string& stream) {
  route(st, stream);
  if (!st.client) connect(st);
  auto r = st.client->command({"XINFO", "GROUPS", stream});
  if (r.type == redis_reply::kind::error) {
    // A stream not there yet has no group to wait for.
    if (r.str.rfind("ERR no such key", 0) == 0) return std::nullopt;
    throw error(classify_redis_error(r.str), "redis refuses XINFO GROUPS " + stream + ": " + r.str);
  }
  auto groups = parse_xinfo_groups(r);
  for (const auto& g : groups)
    if (g.lag) metrics::set_consumer_group_lag(stream, g.name, *g.lag);
  return slowest_group(groups);
}

void lag_after(redis_writer_state& st, const std::string& stream, uint64_t added) {
  auto max = st.settings.max_consumer_lag;
  if (max == 0 || st.held.count(stream) > 0) return;
  auto& since = st.lag_unread[stream];
  since += added;
  if (!lag_check_due(max, since) || !st.client) return;
  try {
    auto slowest = read_slowest_group(st, stream);
    since = 0;
    if (!slowest || *slowest->lag <= max) return;
    st.held[stream];
    log::warn("holds writes to " + stream + ": consumer group " + slowest->name + " lags " +
              std::to_string(*slowest->lag) + " entries, above max-consumer-lag " +
              std::to_string(max) + "; resumes when it catches up");
  } catch (const error& e) {
    if (e.code() == failure_code::auth) {
      log::error("cannot read the consumer groups of " + stream +
                 ", and stops bounding their lag: " + e.what());
      st.settings.max_consumer_lag = 0;
    } else {
      log::warn("cannot read the consumer groups of " + stream +
                " (tries again after a later write): " + e.what());
      if (!st.client->usable()) st.client.reset();
    }
  } catch (const std::exception& e) {
    log::warn("cannot read the consumer groups of " + stream +
              " (tries again after a later write): " + e.what());
    st.client.reset();
  }
}

std::vector<std::string> lag_released(redis_writer_state& st) {
  std::vector<std::string> out;
  for (const auto& [stream, writes] : st.held) {
    std::optional<group_position> slowest;
    try {
      slowest = read_slowest_group(st, stream);
    } catch (const std::exception& e) {
      // The writes meet the failure themselves, under the retry policy.
      log::warn("cannot read the consumer groups of " + stream + " while holding it: " +
                e.what());
      if (st.client && !st.client->usable()) st.client.reset();
    }
    if (slowest && *slowest->lag > st.settings.max_consumer_lag) continue;
    log::info("resumes writing to " + stream + ": " +
              (slowest ? "consumer group " + slowest->name + " lags " +
                           std::to_string(*slowest->lag) + " entries"
                       : std::string("no consumer group's lag is known")));
    out.push_back(stream);
  }
  return out;
}

}  // namespace trib
