#include "actors/control/change_streams.hpp"

#include <algorithm>
#include <filesystem>

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

std::vector<change_applier_settings> change_applier_settings_for(
  const run_options& opts, const std::vector<table_schema>& tables, const stream_layout& layout,
  const std::map<std::string, std::string>& checkpoints, const source_facts& facts,
  uint64_t max_entry_bytes) {
  std::vector<change_applier_settings> per_stream;
  for (size_t i = 0; i < layout.names.size(); ++i) {
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
    for (uint32_t t = 0; t < layout.stream_of_table.size(); ++t)
      if (layout.stream_of_table[t] == i) as.carries.push_back(t);
    if (auto it = checkpoints.find(layout.fields[i]); it != checkpoints.end())
      as.start = decode_stream_checkpoint(it->second);
    per_stream.push_back(std::move(as));
  }
  return per_stream;
}

change_factories change_path_factories(const run_options& opts,
                                       const std::vector<table_schema>& tables,
                                       const stream_layout& layout,
                                       const std::map<std::string, std::string>& checkpoints,
                                       const source_facts& facts, uint64_t max_entry_bytes,
                                       std::shared_ptr<stopped_tables> stopped) {
  change_factories f;
  f.streams = layout.names.size();
  f.writers = std::max<size_t>(
    1, std::min<size_t>({static_cast<size_t>(std::max(opts.target.max_connections, 1)),
                         static_cast<size_t>(std::max(opts.applier.realtime.threads, 1)),
                         f.streams}));
  // The retry/undo supervisor is made first (the coordinator asks for it
  // before the appliers); the appliers and the dispatcher ask it.
  supervisor_settings sv;
  sv.rules.policy = retry_policy_for(opts.target);
  sv.rules.skip_tables_on_failures = opts.applier.realtime.skip_tables_on_failures;
  sv.in_doubt_path =
    in_doubt_log_path((std::filesystem::path{opts.data_dir} / opts.id).string());
  sv.record = std::shared_ptr<supervision_record>(stopped, &stopped->supervision);
  auto sup = std::make_shared<supervisor_actor>();
  f.supervisor = [sup, sv](caf::local_actor* self) {
    *sup = self->spawn(supervisor, sv);
    return *sup;
  };
  auto per_stream =
    change_applier_settings_for(opts, tables, layout, checkpoints, facts, max_entry_bytes);
  f.applier = [per_stream, sup](caf::local_actor* self, uint32_t stream,
                                redis_writer_actor writer) {
    auto as = per_stream.at(stream);
    as.supervisor = *sup;
    return self->spawn(change_applier, std::move(as), std::move(writer));
  };
  change_dispatcher_settings ds;
  ds.tables = tables;
  ds.stream_of_table = layout.stream_of_table;
  ds.stream_names = layout.names;
  ds.txn_size_rows = static_cast<size_t>(std::max(opts.applier.realtime.txn_size_rows, 1));
  ds.kind = facts.kind;
  ds.table_stopped = [stopped](uint32_t t, const std::string& why) {
    std::lock_guard<std::mutex> g{stopped->lock};
    stopped->list.emplace_back(t, why);
  };
  f.dispatcher = [ds, sup](caf::local_actor* self, std::vector<change_applier_actor> appliers) {
    auto d = ds;
    d.supervisor = *sup;
    return self->spawn(change_dispatcher, std::move(d), std::move(appliers));
  };
  return f;
}

void sum_up_change_path(run_summary& s, stopped_tables& stopped,
                        const std::vector<table_schema>& tables, const stream_layout& layout) {
  std::lock_guard<std::mutex> g{stopped.lock};
  for (const auto& [t, why] : stopped.list) {
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
  std::lock_guard<std::mutex> r{stopped.supervision.lock};
  s.undone_entries = stopped.supervision.undone;
  s.in_doubt_entries = stopped.supervision.in_doubt;
  s.exit_code = any_skipped || s.in_doubt_entries > 0 ? 3 : 0;
}

}  // namespace trib
