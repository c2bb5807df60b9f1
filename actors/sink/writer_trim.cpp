// The Redis writer's trimming (applier stream-max-length and trim): after
// commits, when due, APPROXIMATE or ACKED (the pure half is stream_trim.*).

#include "actors/sink/writer_steps.hpp"

#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/sink/stream_trim.hpp"

namespace trib {

// One trim of `stream` (see redis_writer in the header).
void trim(redis_writer_state& st, const std::string& stream) {
  const auto& cfg = st.settings.trim;
  auto& c = *st.client;
  std::string n = std::to_string(cfg.max_length);
  if (cfg.mode == trim_mode::approximate) {
    command_or_throw(c, {"XTRIM", stream, "MAXLEN", "~", n});
    return;
  }
  if (command_or_throw(c, {"XLEN", stream}).integer <= static_cast<long long>(cfg.max_length))
    return;
  auto groups = parse_xinfo_groups(command_or_throw(c, {"XINFO", "GROUPS", stream}));
  // No group: nobody is known to have read anything.
  if (groups.empty()) return;
  for (auto& g : groups)
    if (g.pending > 0)
      g.oldest_pending = parse_xpending_oldest(command_or_throw(c, {"XPENDING", stream, g.name}));
  // A group created or set back after these reads can only ask for entries
  // a trim a moment later would have taken just the same.
  if (auto point = acked_trim_point(groups))
    command_or_throw(c, {"XTRIM", stream, "MINID", "~", point->str()});
}

// After a commit of `added` entries to `stream` (the connection idle):
// trims the stream when due. Not while the lease is not this run's: another
// run may own the streams now.
void trim_after(redis_writer_state& st, const std::string& stream, uint64_t added) {
  if (st.settings.trim.mode == trim_mode::never) return;
  auto& since = st.untrimmed[stream];
  since += added;
  if (!trim_due(st.settings.trim, since) || !st.client) return;
  try {
    check_fence(st);
    trim(st, stream);
    since = 0;
  } catch (const error& e) {
    if (e.code() == failure_code::auth) {
      log::error("cannot trim " + stream + ", and stops trimming: " + e.what());
      st.settings.trim.mode = trim_mode::never;
    } else {
      log::warn("cannot trim " + stream + " (tries again after a later write): " + e.what());
      if (!st.client->usable()) st.client.reset();
    }
  } catch (const std::exception& e) {
    log::warn("cannot trim " + stream + " (tries again after a later write): " + e.what());
    st.client.reset();
  }
}

}  // namespace trib
