// The Redis writer's undo: of a write that failed halfway (Redis runs the
// rest of a transaction when one command fails), and of the committed
// writes of a failed batch (undo_request from the retry/undo supervisor) so
// that the whole batch can be written again.

#include <algorithm>

#include "actors/sink/writer_steps.hpp"

#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"

namespace trib {

// Takes back what a failed transaction applied, so the batch is all or
// nothing. The checkpoint goes back first: should the deletes then fail,
// the entries left are after it (kept for the undo that follows, which
// reports them in doubt), never skipped by a checkpoint ahead of them. A
// failure here is a permanent failure of the table.
void undo_partial(redis_writer_state& st, const write_batch& b,
                  const write_outcome& o) {
  auto added = o.added_ids();
  bool restored = !o.checkpoint_written;
  try {
    if (o.checkpoint_written) {
      const auto& before = st.committed[b.checkpoint_field];
      if (before)
        command_or_throw(*st.client, {"HSET", b.checkpoint_key, b.checkpoint_field, *before});
      else
        command_or_throw(*st.client, {"HDEL", b.checkpoint_key, b.checkpoint_field});
      restored = true;
    }
    if (!added.empty()) {
      std::vector<std::string> argv{"XDEL", b.stream};
      argv.insert(argv.end(), added.begin(), added.end());
      command_or_throw(*st.client, argv);
    }
    if (!added.empty() || o.checkpoint_written)
      log::warn("undoes a partial write to " + b.stream + ": " +
                std::to_string(added.size()) + " entries deleted" +
                (o.checkpoint_written ? ", checkpoint restored" : ""));
  } catch (const std::exception& e) {
    if (restored && !b.checkpoint_field.empty()) {
      auto& left = st.partial_in_doubt[b.checkpoint_field];
      left.insert(left.end(), added.begin(), added.end());
    }
    throw error(failure_code::internal,
                "cannot undo a partial write to " + b.stream + " (entries " +
                  "may be in doubt): " + e.what());
  }
}

// Takes back a failed batch's committed writes (undo_request). The
// checkpoint goes back first: should the deletes then fail, the entries
// left are after the checkpoint, and deleting them by hand (the in-doubt
// log) makes the stream whole; the other way round, a checkpoint left ahead
// of deleted entries would skip them on --resume.
undo_result undo_writes(redis_writer_state& st, const undo_request& u) {
  undo_result res;
  settle(st);
  // Entries a failed write added and could not delete: tried again here,
  // after the checkpoint (which went back before them already).
  std::vector<std::string> ids;
  if (auto p = st.partial_in_doubt.find(u.checkpoint_field); p != st.partial_in_doubt.end()) {
    ids = std::move(p->second);
    st.partial_in_doubt.erase(p);
  }
  // No write of the batch committed: the checkpoint is as before the batch
  // already (a failed write's partial effects were taken back when it
  // failed), so it is not written -- it would only meet the same refusal
  // (an OOM refuses the checkpoint's HSET too). The field may be written
  // again.
  bool committed = false;
  for (auto n : u.counts) committed = committed || n > 0;
  if (!committed && ids.empty()) {
    st.failed_fields.erase(u.checkpoint_field);
    return res;
  }
  bool restored = !committed;
  try {
    route(st, u.stream);
    if (!st.client) connect(st);
    auto& c = *st.client;
    if (committed) {
      if (u.had_checkpoint)
        command_or_throw(c, {"HSET", u.checkpoint_key, u.checkpoint_field, u.checkpoint_value});
      else
        command_or_throw(c, {"HDEL", u.checkpoint_key, u.checkpoint_field});
    }
    st.checkpoint_keys[u.checkpoint_field] = u.checkpoint_key;
    st.checkpoint_streams[u.checkpoint_field] = u.stream;
    st.committed[u.checkpoint_field] =
      u.had_checkpoint ? std::optional<std::string>(u.checkpoint_value) : std::nullopt;
    st.failed_fields.erase(u.checkpoint_field);
    restored = true;
    for (size_t i = 0; i < u.last_ids.size() && i < u.counts.size(); ++i) {
      if (u.counts[i] == 0) continue;
      if (u.last_ids[i].empty())
        throw error(failure_code::internal,
                    "a write of the batch was found committed after a lost connection, so its "
                    "entry IDs are unknown");
      auto r = command_or_throw(c, {"XREVRANGE", u.stream, u.last_ids[i], "-", "COUNT",
                                    std::to_string(u.counts[i])});
      for (const auto& e : r.elements)
        if (!e.elements.empty()) ids.push_back(e.elements[0].str);
    }
    if (!ids.empty()) {
      std::vector<std::string> argv{"XDEL", u.stream};
      argv.insert(argv.end(), ids.begin(), ids.end());
      auto r = command_or_throw(c, argv);
      res.deleted = static_cast<uint64_t>(std::max(r.integer, 0LL));
    }
  } catch (const std::exception& e) {
    res.failed = true;
    // Before the checkpoint went back, the stream and its checkpoint still
    // agree (the committed writes are in, and counted): nothing is in doubt.
    res.error = restored ? e.what()
                         : std::string("the checkpoint could not be written back, so the "
                                       "committed writes stay and count as written: ") +
                             e.what();
    res.not_deleted = std::move(ids);
    if (st.client && !st.client->usable()) st.client.reset();
  }
  return res;
}

}  // namespace trib
