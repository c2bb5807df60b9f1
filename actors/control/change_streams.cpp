#include "actors/control/change_streams.hpp"

#include <algorithm>

#include "actors/apply/change_applier.hpp"
#include "actors/apply/envelope.hpp"
#include "actors/control/change_dispatcher.hpp"
#include "actors/control/checkpoint_math.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_writer.hpp"

namespace trib {

stream_layout layout_for(const run_options& opts, const std::vector<table_schema>& tables) {
  stream_layout l;
  if (opts.applier.realtime.consistency == replay_consistency::global) {
    l.names.push_back(global_cdc_stream_name(opts.group, opts.id));
    l.fields.push_back(l.names.back());
    l.stream_of_table.assign(tables.size(), 0);
    return l;
  }
  for (size_t i = 0; i < tables.size(); ++i) {
    if (opts.applier.split_stream) {
      l.names.push_back(cdc_stream_name(tables[i].id, opts.map));
      l.fields.push_back(l.names.back());
    } else {
      // The plain field holds the snapshot's checkpoint of the same stream.
      l.names.push_back(snapshot_stream_name(tables[i].id, opts.map));
      l.fields.push_back(l.names.back() + ":realtime");
    }
    l.stream_of_table.push_back(static_cast<uint32_t>(i));
  }
  return l;
}

change_path spawn_change_path(caf::actor_system& sys, const run_options& opts,
                              const std::vector<table_schema>& tables,
                              const stream_layout& layout,
                              const std::map<std::string, std::string>& checkpoints,
                              const source_facts& facts, uint64_t max_entry_bytes) {
  change_path p;
  size_t streams = layout.names.size();
  size_t writers = std::max<size_t>(
    1, std::min<size_t>({static_cast<size_t>(std::max(opts.target.max_connections, 1)),
                         static_cast<size_t>(std::max(opts.applier.realtime.threads, 1)), streams}));
  redis_writer_settings writer_settings;
  writer_settings.trim = opts.applier.trim;
  writer_settings.max_consumer_lag = opts.applier.max_consumer_lag;
  for (size_t w = 0; w < writers; ++w)
    p.writers.push_back(sys.spawn<caf::detached>(redis_writer, opts.target, writer_settings));
  for (size_t i = 0; i < streams; ++i) {
    change_applier_settings as;
    as.stream = static_cast<uint32_t>(i);
    as.stream_name = layout.names[i];
    as.checkpoint_field = layout.fields[i];
    as.group = opts.group;
    as.id = opts.id;
    as.tables = tables;
    as.message = opts.applier.message;
    as.facts = facts;
    as.max_entry_bytes = max_entry_bytes;
    if (auto it = checkpoints.find(layout.fields[i]); it != checkpoints.end())
      as.start = decode_stream_checkpoint(it->second);
    p.appliers.push_back(sys.spawn(change_applier, as, p.writers[i % writers]));
  }
  change_dispatcher_settings ds;
  ds.tables = tables;
  ds.stream_of_table = layout.stream_of_table;
  ds.txn_size_rows = static_cast<size_t>(std::max(opts.applier.realtime.txn_size_rows, 1));
  ds.skip_tables_on_failures = opts.applier.realtime.skip_tables_on_failures;
  ds.kind = facts.kind;
  auto stopped = p.stopped;
  ds.table_stopped = [stopped](uint32_t t, const std::string& why) {
    std::lock_guard<std::mutex> g{stopped->lock};
    stopped->list.emplace_back(t, why);
  };
  p.dispatcher = sys.spawn(change_dispatcher, ds, p.appliers);
  return p;
}

void stop_change_path(caf::scoped_actor& self, change_path& path) {
  self->send_exit(path.dispatcher, caf::exit_reason::user_shutdown);
  for (auto& a : path.appliers) self->send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& w : path.writers) self->send_exit(w, caf::exit_reason::user_shutdown);
}

void sum_up_change_path(run_summary& s, change_path& path, const std::vector<table_schema>& tables,
                        const stream_layout& layout) {
  std::lock_guard<std::mutex> g{path.stopped->lock};
  for (const auto& [t, why] : path.stopped->list) {
    auto it = std::find_if(s.tables.begin(), s.tables.end(),
                           [&](const table_result& r) { return r.table == tables[t].id; });
    if (it == s.tables.end()) {
      table_result r;
      r.table = tables[t].id;
      r.stream = layout.names[layout.stream_of_table[t]];
      s.tables.push_back(std::move(r));
      it = std::prev(s.tables.end());
    }
    it->skipped = true;
    it->reason = "stopped in realtime: " + why + "; --resume continues it there";
    log::warn("skipped " + to_string(tables[t].id) + ": " + it->reason);
  }
  bool any_skipped = std::any_of(s.tables.begin(), s.tables.end(),
                                 [](const table_result& r) { return r.skipped; });
  s.exit_code = any_skipped ? 3 : 0;
}

}  // namespace trib
