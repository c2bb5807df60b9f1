// Preparing a run before any actor starts: the replication's state in
// Redis (refusals, --overwrite, --resume positions, tables that vanished)
// and its lease. Shared by every mode; free of CAF.

#include "actors/control/run_setup.hpp"

#include <algorithm>
#include <map>

#include "actors/apply/envelope.hpp"
#include "actors/apply/schema_dump.hpp"
#include "actors/control/checkpoint_math.hpp"
#include "actors/control/redis_setup.hpp"
#include "actors/control/run_lease.hpp"
#include "actors/control/slot_ownership.hpp"
#include "actors/control/split_plan.hpp"
#include "actors/log.hpp"
#include "actors/sink/checkpoint_hashes.hpp"
#include "actors/sink/redis_client.hpp"

namespace trib {

namespace {

// Refuses to start over existing state without --resume or --overwrite.
void check_state(redis_client& c, const run_options& opts, const std::string& ckpt) {
  if (opts.resume || opts.overwrite) return;
  auto hashes = checkpoint_hashes(c, ckpt);
  if (!hashes.empty())
    throw error(failure_code::state_exists,
                "replication '" + opts.id + "' (group '" + opts.group +
                  "') has state in Redis (" + hashes.front() +
                  "): run with --resume to continue it or --overwrite to "
                  "delete it and start over");
}

}  // namespace

// `snapshot --overwrite` of a replication that `full` or `realtime` runs
// (its checkpoint records the slot it created): the streams would be
// rewritten from a new snapshot while the slot stays where it is, so a
// later `realtime --resume` would stream changes that do not follow that
// snapshot (some twice, or some never), and the deleted record would no
// longer prove the slot Tributary's own. Refused; `full --overwrite`
// starts such a replication over with a fresh slot.
void refuse_snapshot_over_a_slot(redis_client& c, const run_options& opts,
                                 const std::string& ckpt) {
  auto r = command_or_throw(c, {"HGET", ckpt, slot_record_field});
  if (r.type != redis_reply::kind::string) return;
  auto rec = decode_slot_record(r.str);
  throw error(failure_code::state_exists,
              "replication '" + opts.id + "' (group '" + opts.group +
                "') streams changes from replication slot '" + (rec ? rec->slot : r.str) +
                "' (recorded in " + ckpt + " as " + slot_record_field +
                "): 'snapshot --overwrite' would rewrite its streams without that slot, whose "
                "changes would then no longer follow them. Run 'full --overwrite' to start it "
                "over with a fresh slot, or use another --id");
}

std::string describe_filter(const filter_config& f) {
  if (!f.given()) return "no filter (every table the user can read)";
  std::string out = "the filter (";
  for (size_t i = 0; i < f.allow.size(); ++i) {
    const auto& c = f.allow[i];
    if (i > 0) out += ", ";
    std::string where = c.catalog;
    if (!c.schema.empty()) where += (where.empty() ? "" : ".") + c.schema;
    out += where.empty() ? "any catalog" : where;
    if (!c.tables.empty()) {
      out += " tables";
      for (const auto& [name, tf] : c.tables) out += " " + name;
    }
  }
  return out + ")";
}


// One MULTI, so that the slot record (which the run may need to drop the
// slot it proves Tributary's own) is never lost with the rest. In a cluster
// the keys live on several nodes: the streams and the per-stream checkpoint
// hashes are deleted first, one by one, then the first hash in a MULTI of
// its own (WATCH pins it to that hash's node). A failure in between leaves
// the state half deleted, which --overwrite again finishes.
void overwrite_state(redis_client& c, const run_options& opts,
                     const std::vector<table_schema>& tables, const std::string& ckpt) {
  auto kept = command_or_throw(c, {"HGET", ckpt, slot_record_field});
  std::vector<std::string> argv{"DEL", schema_stream_name(opts.group, opts.id),
                                global_cdc_stream_name(opts.group, opts.id)};
  for (const auto& t : tables) {
    argv.push_back(snapshot_stream_name(t.id, opts.map));
    argv.push_back(cdc_stream_name(t.id, opts.map));
  }
  long long deleted = 0;
  if (c.cluster()) {
    for (const auto& k : checkpoint_hashes(c, ckpt))
      if (k != ckpt) argv.push_back(k);
    deleted += command_or_throw(c, argv).integer;
    argv = {"DEL", ckpt};
    command_or_throw(c, {"WATCH", ckpt});
  } else {
    argv.push_back(ckpt);
  }
  command_or_throw(c, {"MULTI"});
  command_or_throw(c, argv);
  if (kept.type == redis_reply::kind::string)
    command_or_throw(c, {"HSET", ckpt, slot_record_field, kept.str});
  auto r = command_or_throw(c, {"EXEC"});
  deleted += r.elements.empty() ? 0 : r.elements[0].integer;
  log::info("overwrites replication " + opts.id + ": deleted " + std::to_string(deleted) +
            " keys");
}

// --resume: where each table's snapshot stands according to its checkpoint.
std::vector<snapshot_position> resume_positions(redis_client& c,
                                                const run_options& opts,
                                                const std::vector<table_schema>& tables,
                                                const std::string& ckpt) {
  std::vector<snapshot_position> start(tables.size());
  if (!opts.resume) return start;
  for (size_t i = 0; i < tables.size(); ++i) {
    auto stream = snapshot_stream_name(tables[i].id, opts.map);
    auto hash = checkpoint_hash(c, ckpt, stream);
    auto r = command_or_throw(c, {"HGET", hash, stream});
    if (r.type != redis_reply::kind::string) continue;
    auto p = decode_snapshot_checkpoint(r.str);
    if (!p.done && p.rows_done > 0 && order_columns(tables[i]).empty()) {
      // Without key columns there is no "after this row": the stream's rows
      // are deleted with the checkpoint, and the table is read again whole,
      // so nothing appears twice.
      log::warn("restarts " + to_string(tables[i].id) +
                " from the beginning: a table without key columns cannot "
                "resume in the middle");
      command_or_throw(c, {"DEL", stream});
      command_or_throw(c, {"HDEL", hash, stream});
      continue;
    }
    start[i] = std::move(p);
  }
  return start;
}

// --resume: the tables of the previous run (its newest schema dump) whose
// snapshot is unfinished but which the source no longer lists (dropped, or
// no longer allowed by the filter). Their streams hold part of a table that
// this run cannot finish: each becomes a skipped table of the summary.
std::vector<table_result> vanished_tables(redis_client& c, const run_options& opts,
                                          const std::vector<table_schema>& tables,
                                          const std::string& ckpt) {
  std::vector<table_result> out;
  if (!opts.resume) return out;
  auto last = command_or_throw(
    c, {"XREVRANGE", schema_stream_name(opts.group, opts.id), "+", "-", "COUNT", "1"});
  if (last.type != redis_reply::kind::array || last.elements.empty()) return out;
  const auto& fields = last.elements[0].elements.at(1).elements;
  std::vector<table_schema> before;
  try {
    for (size_t i = 0; i + 1 < fields.size(); i += 2)
      if (fields[i].str == "value") before = parse_schema_dump(fields[i + 1].str);
  } catch (const std::exception& e) {
    log::warn("cannot read the schema dump of replication " + opts.id +
              ", so tables dropped since its last run are not checked: " + e.what());
    return out;
  }
  auto checkpoint = read_checkpoint_fields(c, ckpt);
  for (const auto& t : before) {
    bool listed = std::any_of(tables.begin(), tables.end(),
                              [&](const table_schema& now) { return now.id == t.id; });
    auto stream = snapshot_stream_name(t.id, opts.map);
    bool started = checkpoint.count(stream) > 0 || checkpoint.count(stream + "#ranges") > 0;
    if (listed || !started || snapshot_finished(checkpoint, stream)) continue;
    table_result tr;
    tr.table = t.id;
    tr.stream = stream;
    tr.skipped = true;
    tr.reason = std::string(to_string(failure_code::source_state)) +
                ": the source no longer has this table (dropped, or no longer allowed by "
                "the filter), so its snapshot cannot finish; " + stream + " holds " +
                std::to_string(command_or_throw(c, {"XLEN", stream}).integer) +
                " entries of it";
    out.push_back(std::move(tr));
  }
  return out;
}

std::unique_ptr<run_lease> hold_replication(redis_setup& redis, const run_options& opts,
                                            const std::string& ckpt) {
  // The first check comes before the lease: a run refused for existing
  // state is told so even when another run holds the lease.
  redis.run("checking the replication's state",
            [&](redis_client& c) { check_state(c, opts, ckpt); return 0; });
  auto lease = std::make_unique<run_lease>(opts.target, opts.group, opts.id);
  redis.run("checking the replication's state",
            [&](redis_client& c) { check_state(c, opts, ckpt); return 0; });
  return lease;
}

}  // namespace trib
