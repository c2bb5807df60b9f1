// run_realtime: the slot, the publication and the checkpoints are prepared
// without actors; the snapshot of `full` runs on the coordinator, then the
// WAL reader, the change appliers and the Redis writers stream until a
// signal asks them to stop.

#include "actors/control/realtime.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "actors/actors.hpp"
#include "actors/apply/change_applier.hpp"
#include "actors/apply/envelope.hpp"
#include "actors/apply/schema_dump.hpp"
#include "actors/control/change_dispatcher.hpp"
#include "actors/control/change_streams.hpp"
#include "actors/control/checkpoint_math.hpp"
#include "actors/control/coordinator.hpp"
#include "actors/control/progress.hpp"
#include "actors/control/realtime_board.hpp"
#include "actors/control/redis_setup.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/control/run_lease.hpp"
#include "actors/control/slot_ownership.hpp"
#include "actors/control/split_plan.hpp"
#include "actors/control/stop_signals.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/sink/redis_writer.hpp"
#include "actors/source/heartbeat.hpp"
#include "actors/source/pg_replication.hpp"
#include "actors/source/pg_text.hpp"
#include "actors/source/snapshot_reader.hpp"
#include "actors/source/source_session.hpp"
#include "actors/source/wal_reader.hpp"

namespace trib {

namespace {

// The coordinator's stages for the snapshot of `full`: the default ones,
// except that readers adopt the slot's exported snapshot.
stage_factories full_snapshot_factories(const run_options& opts, const source_facts& facts,
                                        const pg_slot& slot,
                                        std::shared_ptr<progress_board> progress,
                                        uint64_t max_entry_bytes) {
  exported_snapshot exported;
  exported.name = slot.snapshot_name;
  exported.at.lsn = slot.lsn;
  return default_factories(opts, facts, std::move(progress), exported, max_entry_bytes);
}

}  // namespace

void request_realtime_stop() { stop_signals::request(); }

run_summary run_realtime(const run_options& opts, bool& logs_open) {
  run_summary s;
  bool full = opts.mode == run_mode::full;
  const char* mode = full ? "full" : "realtime";
  if (opts.source.kind != source_kind::postgresql) return run_binlog_realtime(opts, logs_open);
  stop_signals signals;
  auto dir = (std::filesystem::path{opts.data_dir} / opts.id).string();
  auto ckpt = checkpoint_key(opts.group, opts.id);
  auto source_policy = retry_policy_for(opts.source);
  redis_setup redis{opts.target};
  auto lease = hold_replication(redis, opts, ckpt);
  if (opts.overwrite) std::filesystem::remove_all(dir);
  log::open_log_files(dir);
  logs_open = true;
  log::info("starts " + std::string(mode) + " replication " + opts.id + " (group " + opts.group +
            ") from " + to_string(opts.source.kind) + " " + opts.source.host);

  std::vector<table_schema> tables;
  source_facts facts;
  // The heartbeat table is written, not replicated.
  auto without_heartbeat = [&opts](std::vector<table_schema> t) {
    t.erase(std::remove_if(t.begin(), t.end(),
                           [&](const table_schema& x) {
                             return is_heartbeat(opts.source.kind,
                                                 opts.extractor.realtime.heartbeat, x.id);
                           }),
            t.end());
    return t;
  };
  auto list_tables = [&opts, source_policy, without_heartbeat] {
    return without_heartbeat(with_retries(source_policy, "listing the source's tables", [&] {
      return open_source(opts.source)->list_tables(opts.filter, opts.extractor);
    }));
  };
  with_retries(source_policy, "listing the source's tables", [&] {
    auto catalog = open_source(opts.source);
    facts = catalog->facts();
    tables = without_heartbeat(catalog->list_tables(opts.filter, opts.extractor));
    return 0;
  });
  if (tables.empty())
    throw error(failure_code::config,
                "no tables to replicate: the filter matches no table the source user can read");
  auto layout = layout_for(opts, tables);
  std::string slot_name = opts.source.replication_slots.empty()
                            ? default_slot_name(opts.group, opts.id)
                            : opts.source.replication_slots.begin()->first;
  std::string publication = opts.source.publication.empty() ? slot_name : opts.source.publication;
  // Before anything is created or deleted: a table PostgreSQL cannot
  // publish updates of would break the source's own writes.
  with_retries(source_policy, "reading the tables' replica identity", [&] {
    check_replica_identities(opts.source, tables, publication);
    return 0;
  });

  std::map<std::string, std::string> checkpoints;
  std::optional<slot_record> recorded_slot;
  bool state_in_redis = false;  // the checkpoint hash exists
  uint64_t max_entry = default_max_bulk_bytes;
  redis.run("preparing the target", [&](redis_client& c) {
    check_write_access(c, opts.target, layout.names.front(), ckpt);
    if (opts.overwrite) {
      // The record of the slot this replication created survives: the slot
      // does too, and the run may have to drop it.
      auto kept = command_or_throw(c, {"HGET", ckpt, slot_record_field});
      std::vector<std::string> argv{"DEL", ckpt, schema_stream_name(opts.group, opts.id),
                                    global_cdc_stream_name(opts.group, opts.id)};
      for (const auto& t : tables) {
        argv.push_back(snapshot_stream_name(t.id, opts.map));
        argv.push_back(cdc_stream_name(t.id, opts.map));
      }
      command_or_throw(c, {"MULTI"});
      command_or_throw(c, argv);
      if (kept.type == redis_reply::kind::string)
        command_or_throw(c, {"HSET", ckpt, slot_record_field, kept.str});
      auto r = command_or_throw(c, {"EXEC"});
      log::info("overwrites replication " + opts.id + ": deleted " +
                std::to_string(r.elements.empty() ? 0 : r.elements[0].integer) + " keys");
    }
    max_entry = max_bulk_bytes(c);
    checkpoints.clear();
    auto r = command_or_throw(c, {"HGETALL", ckpt});
    state_in_redis = !r.elements.empty();
    for (size_t i = 0; i + 1 < r.elements.size(); i += 2)
      checkpoints[r.elements[i].str] = r.elements[i + 1].str;
    // The slot record is not a stream's checkpoint.
    if (auto it = checkpoints.find(slot_record_field); it != checkpoints.end()) {
      recorded_slot = decode_slot_record(it->second);
      checkpoints.erase(it);
    }
    return 0;
  });

  // The slot: a resumed run needs the one it confirmed to; a fresh full
  // run needs a new one, whose exported snapshot the readers adopt.
  bool snapshot_needed = false;
  if (full) {
    bool all_done = true;
    for (const auto& t : tables)
      all_done = all_done && snapshot_finished(checkpoints, snapshot_stream_name(t.id, opts.map));
    if (opts.resume && !all_done && !checkpoints.empty())
      throw error(failure_code::source_state,
                  "the snapshot of full replication '" + opts.id +
                    "' did not finish, and the slot's exported snapshot it read from is gone: "
                    "run with --overwrite to start over");
    snapshot_needed = !all_done;
  }
  std::shared_ptr<pg_replication> rep;
  pg_slot slot;
  with_retries(source_policy, "preparing the replication slot", [&] {
    rep = std::make_shared<pg_replication>(opts.source);
    std::vector<table_id> ids;
    for (const auto& t : tables) ids.push_back(t.id);
    const auto& hb = opts.extractor.realtime.heartbeat;
    if (hb.enable) {
      // PostgreSQL 15 sends no transaction that touches no published table:
      // the heartbeat's commits must be published to move the slot. The
      // reader drops their changes, since the table is not the run's.
      heartbeat_writer made(opts.source, hb);
      ids.push_back(heartbeat_table(opts.source.kind, hb));
    }
    // The publication must predate the slot's consistent point.
    rep->ensure_publication(publication, ids);
    auto existing = rep->find_slot(slot_name);
    // --resume on an id without state simply starts.
    if (opts.resume && !existing && !checkpoints.empty())
      throw error(failure_code::source_state,
                  "replication slot '" + slot_name +
                    "' no longer exists, so the changes since the last checkpoint are gone: "
                    "run with --overwrite to start over");
    slot_record ours{slot_name, rep->identity().database, publication, rep->identity().system_id};
    if (opts.resume && !state_in_redis && existing) {
      // A slot Tributary could have made, and no trace of the replication
      // in Redis: the changes before the slot's position were acknowledged
      // by a Redis that no longer has them (or by another one). Streaming
      // on would leave them missing for good. Another's slot is refused
      // below for what it is.
      auto found = rep->describe_slot(slot_name);
      if (found && found->type == "logical" && found->plugin == "pgoutput" &&
          found->database == ours.database)
        throw error(failure_code::target_lost,
                    "redis holds no state of replication '" + opts.id + "' (no checkpoint " +
                      ckpt + "), yet its replication slot '" + slot_name +
                      "' exists in the source: redis lost writes it had acknowledged "
                      "(restarted without persistence, or emptied), or it is not the redis "
                      "this replication wrote to. --resume stops rather than stream on from "
                      "the slot's position, which would leave everything before it missing; "
                      "check the target, or run with --overwrite to start over (for 'full', "
                      "drop the slot first, SELECT pg_drop_replication_slot('" + slot_name +
                      "'): redis no longer holds the record that proves it this replication's)");
    }
    if (snapshot_needed) {
      if (auto found = rep->describe_slot(slot_name)) {
        auto refusal = slot_drop_refusal(*found, recorded_slot, ours);
        if (!refusal.empty()) throw error(failure_code::config, refusal);
        log::warn("drops replication slot " + slot_name + ", which this replication created, to "
                  "export a fresh snapshot");
        rep->drop_slot(slot_name);
      }
    }
    slot = rep->ensure_slot(slot_name);
    if (slot.created) {
      // From now on the slot is provably this replication's own.
      redis.run("recording the replication slot", [&](redis_client& c) {
        return command_or_throw(c, {"HSET", ckpt, slot_record_field, encode_slot_record(ours)});
      });
    }
    return 0;
  });

  // A table with a split-key is read in key ranges, as in `snapshot`; the
  // ranges are open-ended, so bounds from the current data serve the
  // exported snapshot as well. Sources without exported snapshots read it
  // whole (splits_in_full).
  snapshot_plan plan;
  if (snapshot_needed) {
    plan.tables = tables;
    if (splits_in_full(opts.source.kind)) plan_split_ranges(opts, ckpt, plan, redis);
  }

  auto dump = schema_dump_json(tables, facts.kind);
  auto schema_stream = schema_stream_name(opts.group, opts.id);
  redis.run("writing the schema dump", [&](redis_client& c) {
    command_or_throw(c, {"XADD", schema_stream, "*", "key", "schema", "value", dump});
    return 0;
  });
  redis.close();

  caf::actor_system_config cfg;
  caf::actor_system sys{configure_actor_system(cfg)};
  caf::scoped_actor self{sys};
  if (snapshot_needed) {
    auto progress = snapshot_progress_board();
    auto settings = settings_for(opts, tables.size());
    settings.progress = progress;
    auto coord = sys.spawn(coordinator, plan, settings,
                           full_snapshot_factories(opts, facts, slot, progress, max_entry));
    snapshot_result result;
    std::string failed;
    bool answered = false;
    // A signal during the snapshot stops it the way it stops `snapshot`.
    signals.on_stop([coord] { caf::anon_send(coord, stop_atom::value); });
    self->request(coord, caf::infinite, run_atom::value)
      .receive(
        [&](snapshot_result& r) {
          result = std::move(r);
          answered = true;
        },
        [&](caf::error& e) { failed = sys.render(e); });
    signals.on_stop(nullptr);
    if (!answered) throw error(failure_code::internal, "the snapshot stopped unexpectedly: " + failed);
    bool skipped = false;
    s.tables = table_results(result, tables, opts.map, skipped);
    if (result.stopped) {
      s.stopped_by = signals.signal();
      s.exit_code = exit_code_for_stop(s.stopped_by);
      s.error = std::string("stopped by ") + stop_signal_name(s.stopped_by) +
                " before the snapshot of full replication '" + opts.id +
                "' finished; its exported snapshot is gone, so run it again with --overwrite";
      log::warn("stops full replication " + opts.id + " during the snapshot; nothing streamed");
      return s;
    }
    if (result.aborted)
      throw error(result.reason.code, "the snapshot stopped: " + result.reason.what);
    if (skipped)
      log::warn("finishes the snapshot with skipped tables; their changes are streamed anyway");
    log::info("finishes the snapshot at " + format_lsn(slot.lsn) + "; streams from there");
    if (opts.terminate_post_snapshot) {
      log::info("stops after the snapshot (--terminate-post-snapshot); 'full --resume' streams "
                "from " + format_lsn(slot.lsn));
      s.exit_code = skipped ? 3 : 0;
      return s;
    }
  }

  uint64_t start_lsn = 0;
  if (!opts.resume && !snapshot_needed && opts.extractor.realtime.start_position.given() &&
      !opts.extractor.realtime.start_position.lsn.empty())
    start_lsn = pg_parse_lsn(opts.extractor.realtime.start_position.lsn);
  if (snapshot_needed) start_lsn = slot.lsn;

  auto path = spawn_change_path(sys, opts, tables, layout, checkpoints, facts, max_entry);
  wal_reader_settings ws;
  ws.source = opts.source;
  ws.filter = opts.filter;
  ws.extractor = opts.extractor;
  ws.slot = slot_name;
  ws.publication = publication;
  ws.start_lsn = start_lsn;
  ws.tables = tables;
  ws.stop = &signals.flag();
  ws.list_tables = list_tables;
  auto target = opts.target;
  auto kind = facts.kind;
  // The WAL reader's thread appends dumps on a connection of its own.
  auto dump_redis = std::make_shared<redis_setup>(target);
  ws.dump_schema = [dump_redis, schema_stream, kind](const std::vector<table_schema>& t) {
    auto text = schema_dump_json(t, kind);
    dump_redis->run("appending a schema dump", [&](redis_client& c) {
      return command_or_throw(c, {"XADD", schema_stream, "*", "key", "schema", "value", text});
    });
  };
  auto reader = sys.spawn<caf::detached>(wal_reader, ws, rep, path.dispatcher);
  rep.reset();
  std::string failed;
  uint64_t confirmed = 0;
  install_realtime_board(make_realtime_board());
  self->request(reader, caf::infinite, run_atom::value)
    .receive([&](uint64_t lsn) { confirmed = lsn; },
             [&](caf::error& e) { failed = sys.render(e); });
  install_realtime_board(nullptr);
  stop_change_path(self, path);
  if (!failed.empty()) {
    s.exit_code = 1;
    s.error = "realtime replication stopped: " + failed;
    return s;
  }
  sum_up_change_path(s, path, tables, layout);
  log::info("finishes " + std::string(mode) + " replication " + opts.id + "; slot " + slot_name +
            " confirmed at " + format_lsn(confirmed));
  return s;
}

}  // namespace trib
