// run_binlog_realtime: `realtime` from MySQL/MariaDB. The binlog settings,
// the start position and the checkpoints are prepared without actors; then
// the binlog reader, the change dispatcher, the change appliers and the Redis
// writers stream until a signal asks them to stop. Where a restarted run
// reads from (the dispatcher's release position) is kept in the checkpoint
// hash, field binlog_position_field, since a binlog has no slot to keep it.

#include <algorithm>
#include <filesystem>
#include <map>

#include "actors/actors.hpp"
#include "actors/apply/envelope.hpp"
#include "actors/apply/schema_dump.hpp"
#include "actors/control/change_streams.hpp"
#include "actors/control/realtime.hpp"
#include "actors/control/redis_setup.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/control/run_lease.hpp"
#include "actors/control/stop_signals.hpp"
#include "actors/control/type_ids.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/binlog_reader.hpp"
#include "actors/source/binlog_settings.hpp"
#include "actors/source/heartbeat.hpp"
#include "actors/source/source_session.hpp"

namespace trib {

namespace {

/// "mysql-bin.000042:1337", or "gtid:0-1-35" before the first release.
std::string encode_position(const binlog_start& p) {
  if (!p.gtid.empty()) return "gtid:" + p.gtid;
  return p.file + ":" + std::to_string(p.pos);
}

binlog_start decode_position(const std::string& text) {
  binlog_start p;
  if (text.rfind("gtid:", 0) == 0) {
    p.gtid = text.substr(5);
    return p;
  }
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw error(failure_code::bad_data, "the stored binlog position '" + text + "' is malformed");
  p.file = text.substr(0, colon);
  try {
    p.pos = std::stoull(text.substr(colon + 1));
  } catch (const std::exception&) {
    throw error(failure_code::bad_data, "the stored binlog position '" + text + "' is malformed");
  }
  return p;
}

}  // namespace

run_summary run_binlog_realtime(const run_options& opts, bool& logs_open) {
  run_summary s;
  if (opts.mode == run_mode::full)
    throw error(failure_code::config,
                std::string("full replication from ") + to_string(opts.source.kind) +
                  " is not available yet; run 'snapshot', then 'realtime' with "
                  "realtime.start-position set to the snapshot's binlog position");
  stop_signals signals;
  auto dir = (std::filesystem::path{opts.data_dir} / opts.id).string();
  auto ckpt = checkpoint_key(opts.group, opts.id);
  auto source_policy = retry_policy_for(opts.source);
  // Configuration first: nothing is created or written for a run that
  // cannot read the binlog.
  binlog_server_id(opts.source);
  std::optional<binlog_start> configured;
  if (!opts.extractor.realtime.start_position.lsn.empty())
    throw error(failure_code::config,
                "realtime.start-position.lsn is PostgreSQL's; give {log, position} or {gtid}");
  configured = binlog_start_from(opts.extractor.realtime.start_position);
  redis_setup redis{opts.target};
  auto lease = hold_replication(redis, opts, ckpt);
  if (opts.overwrite) std::filesystem::remove_all(dir);
  log::open_log_files(dir);
  logs_open = true;
  log::info("starts realtime replication " + opts.id + " (group " + opts.group + ") from " +
            to_string(opts.source.kind) + " " + opts.source.host);
  with_retries(source_policy, "checking the binlog settings", [&] {
    check_binlog_settings(opts.source, false);
    return 0;
  });

  const auto& hb = opts.extractor.realtime.heartbeat;
  std::vector<table_schema> tables;
  source_facts facts;
  auto list_tables = [&opts, source_policy, hb] {
    auto t = with_retries(source_policy, "listing the source's tables", [&] {
      return open_source(opts.source)->list_tables(opts.filter, opts.extractor);
    });
    t.erase(std::remove_if(t.begin(), t.end(),
                           [&](const table_schema& x) {
                             return is_heartbeat(opts.source.kind, hb, x.id);
                           }),
            t.end());
    return t;
  };
  with_retries(source_policy, "reading the source's facts", [&] {
    facts = open_source(opts.source)->facts();
    return 0;
  });
  tables = list_tables();
  if (tables.empty())
    throw error(failure_code::config,
                "no tables to replicate: the filter matches no table the source user can read");
  auto layout = layout_for(opts, tables);

  std::map<std::string, std::string> checkpoints;
  std::optional<binlog_start> stored;
  uint64_t max_entry = default_max_bulk_bytes;
  redis.run("preparing the target", [&](redis_client& c) {
    check_write_access(c, opts.target, layout.names.front(), ckpt);
    if (opts.overwrite) {
      std::vector<std::string> argv{"DEL", ckpt, schema_stream_name(opts.group, opts.id),
                                    global_cdc_stream_name(opts.group, opts.id)};
      for (const auto& t : tables) {
        argv.push_back(snapshot_stream_name(t.id, opts.map));
        argv.push_back(cdc_stream_name(t.id, opts.map));
      }
      auto r = command_or_throw(c, argv);
      log::info("overwrites replication " + opts.id + ": deleted " + std::to_string(r.integer) +
                " keys");
    }
    max_entry = max_bulk_bytes(c);
    checkpoints.clear();
    stored.reset();
    auto r = command_or_throw(c, {"HGETALL", ckpt});
    for (size_t i = 0; i + 1 < r.elements.size(); i += 2)
      checkpoints[r.elements[i].str] = r.elements[i + 1].str;
    // The restart position is not a stream's checkpoint.
    if (auto it = checkpoints.find(binlog_position_field); it != checkpoints.end()) {
      stored = decode_position(it->second);
      checkpoints.erase(it);
    }
    return 0;
  });

  // Where to read from: where an earlier run stopped, else start-position,
  // else the binlog's end now.
  binlog_start start;
  if (stored) {
    start = *stored;
    log::info("resumes the binlog at " + to_string(start));
  } else if (configured) {
    start = *configured;
  } else {
    with_retries(source_policy, "reading the binlog position", [&] {
      auto session = open_source(opts.source);
      auto at = session->begin_snapshot();
      session->end_snapshot();
      if (at.binlog_file.empty())
        throw error(failure_code::config, "the source reports no binlog position: is log_bin on?");
      start.file = at.binlog_file;
      start.pos = at.binlog_pos;
      return 0;
    });
  }
  auto dump = schema_dump_json(tables, facts.kind);
  auto schema_stream = schema_stream_name(opts.group, opts.id);
  redis.run("writing the schema dump and the start position", [&](redis_client& c) {
    command_or_throw(c, {"XADD", schema_stream, "*", "key", "schema", "value", dump});
    // From here a crashed run resumes at this position, not at a later end.
    if (!stored) command_or_throw(c, {"HSET", ckpt, binlog_position_field, encode_position(start)});
    return 0;
  });
  redis.close();

  caf::actor_system_config cfg;
  caf::actor_system sys{configure_actor_system(cfg)};
  caf::scoped_actor self{sys};
  auto path = spawn_change_path(sys, opts, tables, layout, checkpoints, facts, max_entry);
  binlog_reader_settings bs;
  bs.source = opts.source;
  bs.extractor = opts.extractor;
  bs.start = start;
  bs.tables = tables;
  bs.stop = &signals.flag();
  bs.list_tables = list_tables;
  auto kind = facts.kind;
  // The reader's thread writes to Redis on a connection of its own.
  auto own_redis = std::make_shared<redis_setup>(opts.target);
  bs.dump_schema = [own_redis, schema_stream, kind](const std::vector<table_schema>& t) {
    auto text = schema_dump_json(t, kind);
    own_redis->run("appending a schema dump", [&](redis_client& c) {
      return command_or_throw(c, {"XADD", schema_stream, "*", "key", "schema", "value", text});
    });
  };
  bs.store_release = [own_redis, ckpt](const binlog_start& at) {
    auto text = encode_position(at);
    own_redis->run("storing the binlog position", [&](redis_client& c) {
      return command_or_throw(c, {"HSET", ckpt, binlog_position_field, text});
    });
  };
  auto reader = sys.spawn<caf::detached>(binlog_reader, bs, path.dispatcher);
  std::string failed;
  self->request(reader, caf::infinite, run_atom::value)
    .receive([&](uint64_t) {}, [&](caf::error& e) { failed = sys.render(e); });
  stop_change_path(self, path);
  if (!failed.empty()) {
    s.exit_code = 1;
    s.error = "realtime replication stopped: " + failed;
    return s;
  }
  sum_up_change_path(s, path, tables, layout);
  log::info("finishes realtime replication " + opts.id);
  return s;
}

}  // namespace trib
