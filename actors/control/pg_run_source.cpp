// PostgreSQL's part of `realtime` and `full`: the publication and the
// logical replication slot, prepared without actors; the snapshot of `full`
// adopts the slot's exported snapshot, and the WAL reader streams from the
// slot's consistent point (or where the slot confirmed to).

#include <optional>

#include "actors/apply/envelope.hpp"
#include "actors/apply/schema_dump.hpp"
#include "actors/control/redis_setup.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/control/run_source.hpp"
#include "actors/control/slot_ownership.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/heartbeat.hpp"
#include "actors/source/pg_replication.hpp"
#include "actors/source/pg_text.hpp"
#include "actors/source/source_session.hpp"
#include "actors/source/wal_reader.hpp"

namespace trib {

namespace {

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
  }

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
    // The connection that made the slot (idle since, in `full`, while the
    // snapshot adopted its export) starts streaming.
    return self->spawn<caf::detached>(wal_reader, ws, std::move(rep_), std::move(dispatcher));
  }

  std::string describe_end(uint64_t released) const override {
    return "; slot " + slot_name_ + " confirmed at " + format_lsn(released);
  }

private:
  const run_options& opts_;
  retry_policy policy_;
  std::string slot_name_;
  std::string publication_;
  std::optional<slot_record> recorded_slot_;
  std::shared_ptr<pg_replication> rep_;
  pg_slot slot_;
  uint64_t start_lsn_ = 0;
};

}  // namespace

std::unique_ptr<run_source> make_pg_run_source(const run_options& opts) {
  return std::make_unique<pg_run_source>(opts);
}

}  // namespace trib
