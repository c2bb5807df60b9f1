// PostgreSQL's part of `realtime` and `full`: the publication and the
// logical replication slot, prepared without actors; the snapshot of `full`
// adopts the slot's exported snapshot, and the WAL reader streams from the
// slot's consistent point (or where the slot confirmed to).

#include <algorithm>
#include <optional>

#include <boost/json.hpp>

#include "actors/apply/envelope.hpp"
#include "actors/apply/schema_dump.hpp"
#include "actors/control/change_streams.hpp"
#include "actors/control/checkpoint_math.hpp"
#include "actors/control/redis_setup.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/control/run_source.hpp"
#include "actors/control/slot_ownership.hpp"
#include "actors/control/split_plan.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/heartbeat.hpp"
#include "actors/source/incremental_snapshots.hpp"
#include "actors/source/pg_replication.hpp"
#include "actors/source/pg_text.hpp"
#include "actors/source/source_session.hpp"
#include "actors/source/wal_reader.hpp"

namespace trib {

namespace {

// The checkpoint hash field that lists the tables a run replicates, so
// that the next run tells a table added to the filter from a quiet one.
constexpr const char* tables_field = "#replicated_tables";

class pg_run_source : public run_source {
public:
  explicit pg_run_source(const run_options& opts)
    : opts_(opts), policy_(retry_policy_for(opts.source)) {
    slot_name_ = opts.source.replication_slots.empty()
                   ? default_slot_name(opts.group, opts.id)
                   : opts.source.replication_slots.begin()->first;
    publication_ = opts.source.publication.empty() ? slot_name_ : opts.source.publication;
  }

  void check_tables(const run_context& ctx) override {
    // Before anything is created or deleted: a table PostgreSQL cannot
    // publish updates of would break the source's own writes.
    with_retries(policy_, "reading the tables' replica identity", [&] {
      check_replica_identities(opts_.source, ctx.tables, publication_);
      return 0;
    });
  }

  void take_state(std::map<std::string, std::string>& checkpoints) override {
    // The slot record is not a stream's checkpoint.
    recorded_slot_.reset();
    if (auto it = checkpoints.find(slot_record_field); it != checkpoints.end()) {
      recorded_slot_ = decode_slot_record(it->second);
      checkpoints.erase(it);
    }
    recorded_tables_.reset();
    if (auto it = checkpoints.find(tables_field); it != checkpoints.end()) {
      std::vector<std::string> names;
      try {
        auto list = boost::json::parse(it->second);
        for (const auto& v : list.as_array()) names.emplace_back(v.as_string());
      } catch (const std::exception& e) {
        throw error(failure_code::bad_data, "malformed checkpoint field " +
                                              std::string(tables_field) + ": " + e.what());
      }
      recorded_tables_ = std::move(names);
      checkpoints.erase(it);
    }
  }

  // An unfinished snapshot of `full` goes on incrementally (plan_incremental).
  bool continues_snapshots() const override { return true; }

  std::string snapshot_gone() const override {
    return "the slot's exported snapshot it read from is gone";
  }

  // The slot: a resumed run needs the one it confirmed to; a fresh full
  // run needs a new one, whose exported snapshot the readers adopt.
  void prepare(run_context& ctx, redis_setup& redis) override {
    with_retries(policy_, "preparing the replication slot", [&] {
      rep_ = std::make_shared<pg_replication>(opts_.source);
      std::vector<table_id> ids;
      for (const auto& t : ctx.tables) ids.push_back(t.id);
      plan_incremental(ctx);
      if (!incremental_.empty() || opts_.extractor.realtime.signal_table.given()) {
        // Its changes must reach the reader (the reader drops them), so it
        // exists before the publication names it.
        make_pg_chunk_source(opts_.source, opts_.extractor, opts_.filter, replication());
        ids.push_back(watermark_table(opts_.source, opts_.extractor));
        if (opts_.extractor.realtime.signal_table.given())
          ids.push_back(signal_table(opts_.source, opts_.extractor.realtime.signal_table));
      }
      const auto& hb = opts_.extractor.realtime.heartbeat;
      if (hb.enable) {
        // PostgreSQL 15 sends no transaction that touches no published
        // table: the heartbeat's commits must be published to move the
        // slot. The reader drops their changes, since the table is not the
        // run's.
        heartbeat_writer made(opts_.source, hb);
        ids.push_back(heartbeat_table(opts_.source.kind, hb));
      }
      // The publication must predate the slot's consistent point.
      rep_->ensure_publication(publication_, ids);
      auto existing = rep_->find_slot(slot_name_);
      // --resume on an id without state simply starts.
      if (opts_.resume && !existing && !ctx.checkpoints.empty())
        throw error(failure_code::source_state,
                    "replication slot '" + slot_name_ +
                      "' no longer exists, so the changes since the last checkpoint are gone: "
                      "run with --overwrite to start over");
      slot_record ours{slot_name_, rep_->identity().database, publication_,
                       rep_->identity().system_id};
      if (opts_.resume && !ctx.state_in_redis && existing) {
        // A slot Tributary could have made, and no trace of the replication
        // in Redis: the changes before the slot's position were
        // acknowledged by a Redis that no longer has them (or by another
        // one). Streaming on would leave them missing for good. Another's
        // slot is refused below for what it is.
        auto found = rep_->describe_slot(slot_name_);
        if (found && found->type == "logical" && found->plugin == "pgoutput" &&
            found->database == ours.database)
          throw error(
            failure_code::target_lost,
            "redis holds no state of replication '" + opts_.id + "' (no checkpoint " + ctx.ckpt +
              "), yet its replication slot '" + slot_name_ +
              "' exists in the source: redis lost writes it had acknowledged "
              "(restarted without persistence, or emptied), or it is not the redis "
              "this replication wrote to. --resume stops rather than stream on from "
              "the slot's position, which would leave everything before it missing; "
              "check the target, or run with --overwrite to start over (for 'full', "
              "drop the slot first, SELECT pg_drop_replication_slot('" + slot_name_ +
              "'): redis no longer holds the record that proves it this replication's)");
      }
      if (ctx.snapshot_needed) {
        if (auto found = rep_->describe_slot(slot_name_)) {
          auto refusal = slot_drop_refusal(*found, recorded_slot_, ours);
          if (!refusal.empty()) throw error(failure_code::config, refusal);
          log::warn("drops replication slot " + slot_name_ +
                    ", which this replication created, to export a fresh snapshot");
          rep_->drop_slot(slot_name_);
        }
      }
      slot_ = rep_->ensure_slot(slot_name_);
      if (slot_.created) {
        // From now on the slot is provably this replication's own.
        redis.run("recording the replication slot", [&](redis_client& c) {
          return command_or_throw(c, {"HSET", ctx.ckpt, slot_record_field,
                                      encode_slot_record(ours)});
        });
      }
      return 0;
    });
    const auto& start = opts_.extractor.realtime.start_position;
    if (ctx.snapshot_needed)
      start_lsn_ = slot_.lsn;
    else if (!opts_.resume && start.given() && !start.lsn.empty())
      start_lsn_ = pg_parse_lsn(start.lsn);
  }

  // Every reader (every split-key range too) adopts the slot's snapshot.
  exported_snapshot snapshot_readers(const snapshot_plan&) override {
    exported_snapshot e;
    e.name = slot_.snapshot_name;
    e.at.lsn = slot_.lsn;
    return e;
  }

  void record_start(redis_client& c, const run_context& ctx) override {
    boost::json::array names;
    for (const auto& t : ctx.tables) names.emplace_back(to_string(t.id));
    command_or_throw(c, {"HSET", ctx.ckpt, tables_field, boost::json::serialize(names)});
  }

  std::string hand_over(const run_context&) override { return format_lsn(slot_.lsn); }

  streaming_reader_actor spawn_reader(caf::local_actor* self, change_dispatcher_actor dispatcher,
                                      const run_context& ctx) override {
    wal_reader_settings ws;
    ws.source = opts_.source;
    ws.filter = opts_.filter;
    ws.extractor = opts_.extractor;
    ws.slot = slot_name_;
    ws.publication = publication_;
    ws.start_lsn = start_lsn_;
    ws.tables = ctx.tables;
    ws.list_tables = ctx.list_tables;
    ws.dump_schema = ctx.dump_schema;
    ws.incremental = incremental_;
    ws.replication = replication();
    ws.chunk_rows = static_cast<size_t>(opts_.extractor.snapshot.fetch_size_rows);
    // The connection that made the slot (idle since, in `full`, while the
    // snapshot adopted its export) starts streaming.
    return self->spawn<caf::detached>(wal_reader, ws, std::move(rep_), std::move(dispatcher));
  }

  std::string describe_end(uint64_t released) const override {
    return "; slot " + slot_name_ + " confirmed at " + format_lsn(released);
  }

private:
  std::string replication() const { return opts_.group + "/" + opts_.id; }

  // Which tables this run snapshots incrementally, and after which key
  // (docs/incremental-snapshots.md): one whose incremental snapshot an
  // earlier run left unfinished (its progress rides in its change stream's
  // checkpoint); with `full`, one whose snapshot an earlier run left
  // unfinished (after the last key its snapshot checkpoint holds) or never
  // began; and one the filter allows now that the last run did not
  // replicate.
  void plan_incremental(const run_context& ctx) {
    incremental_.clear();
    if (!opts_.resume || !ctx.state_in_redis || ctx.snapshot_needed) return;
    auto layout = layout_for(opts_, ctx.tables);
    const bool full = opts_.mode == run_mode::full;
    for (size_t i = 0; i < ctx.tables.size(); ++i) {
      const auto& t = ctx.tables[i];
      auto name = to_string(t.id);
      wal_reader_settings::incremental_start start{static_cast<uint32_t>(i), {}};
      // A table the last run did not replicate missed changes, if it was
      // ever replicated: its rows are read again (its stream's changes
      // before stay, like a re-snapshot's).
      bool known = !recorded_tables_ ||
                   std::find(recorded_tables_->begin(), recorded_tables_->end(), name) !=
                     recorded_tables_->end();
      if (!known) {
        log::info("finds " + name + " new to the replication; snapshots it incrementally");
        incremental_.push_back(std::move(start));
        continue;
      }
      auto change = ctx.checkpoints.find(layout.fields[layout.stream_of_table[i]]);
      if (change != ctx.checkpoints.end()) {
        auto c = decode_stream_checkpoint(change->second);
        if (auto p = c.snapshots.find(name); p != c.snapshots.end()) {
          if (p->second.done) continue;
          start.after = p->second.after;
          incremental_.push_back(std::move(start));
          continue;
        }
      }
      if (!full) continue;
      auto snap_field = snapshot_stream_name(t.id, opts_.map);
      if (snapshot_finished(ctx.checkpoints, snap_field)) continue;
      if (auto snap = ctx.checkpoints.find(snap_field); snap != ctx.checkpoints.end()) {
        auto p = decode_snapshot_checkpoint(snap->second);
        for (const auto& k : p.last_key) start.after.push_back(k.text);
        log::info("continues the snapshot of " + name + " incrementally after the " +
                  std::to_string(p.rows_done) + " rows written before");
      } else if (ctx.checkpoints.count(snap_field + "#ranges") > 0) {
        log::info("snapshots " + name + " again incrementally from its first row: its "
                  "split-key ranges cannot continue one by one");
      }
      incremental_.push_back(std::move(start));
    }
  }

  const run_options& opts_;
  retry_policy policy_;
  std::string slot_name_;
  std::string publication_;
  std::optional<slot_record> recorded_slot_;
  std::optional<std::vector<std::string>> recorded_tables_;
  std::vector<wal_reader_settings::incremental_start> incremental_;
  std::shared_ptr<pg_replication> rep_;
  pg_slot slot_;
  uint64_t start_lsn_ = 0;
};

}  // namespace

std::unique_ptr<run_source> make_pg_run_source(const run_options& opts) {
  return std::make_unique<pg_run_source>(opts);
}

}  // namespace trib
