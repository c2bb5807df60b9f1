#include <algorithm>
#include <thread>

#include "actors/control/type_ids.hpp"

#include "actors/actors.hpp"

namespace trib {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<table_id>("trib::table_id");
  cfg.add_message_type<column_info>("trib::column_info");
  cfg.add_message_type<table_schema>("trib::table_schema");
  cfg.add_message_type<std::vector<table_schema>>("std::vector<trib::table_schema>");
  cfg.add_message_type<cell>("trib::cell");
  cfg.add_message_type<row>("trib::row");
  cfg.add_message_type<std::vector<row>>("std::vector<trib::row>");
  cfg.add_message_type<source_position>("trib::source_position");
  cfg.add_message_type<snapshot_position>("trib::snapshot_position");
  cfg.add_message_type<failure>("trib::failure");
  cfg.add_message_type<row_batch>("trib::row_batch");
  cfg.add_message_type<batch_ack>("trib::batch_ack");
  cfg.add_message_type<stream_entry>("trib::stream_entry");
  cfg.add_message_type<write_batch>("trib::write_batch");
  cfg.add_message_type<write_ack>("trib::write_ack");
  cfg.add_message_type<undo_request>("trib::undo_request");
  cfg.add_message_type<undo_result>("trib::undo_result");
  cfg.add_message_type<table_done>("trib::table_done");
  cfg.add_message_type<std::vector<table_done>>("std::vector<trib::table_done>");
  cfg.add_message_type<snapshot_result>("trib::snapshot_result");
  cfg.add_message_type<row_change>("trib::row_change");
  cfg.add_message_type<std::vector<row_change>>("std::vector<trib::row_change>");
  cfg.add_message_type<change_batch>("trib::change_batch");
  cfg.add_message_type<change_ack>("trib::change_ack");
  cfg.add_message_type<schema_change>("trib::schema_change");
  cfg.add_message_type<change_source>("trib::change_source");
  cfg.add_message_type<source_txn>("trib::source_txn");
  cfg.add_message_type<std::vector<source_txn>>("std::vector<trib::source_txn>");
  cfg.add_message_type<change_feed>("trib::change_feed");
  cfg.add_message_type<change_release>("trib::change_release");
  cfg.add_message_type<failure_report>("trib::failure_report");
  cfg.add_message_type<failure_verdict>("trib::failure_verdict");
  // Nodes (design section 11): what a coordinator and its workers tell
  // each other, and the handles of stages that live on another node.
  cfg.add_message_type<node_hello>("trib::node_hello");
  cfg.add_message_type<node_setup>("trib::node_setup");
  cfg.add_message_type<lease_tick>("trib::lease_tick");
  cfg.add_message_type<writer_order>("trib::writer_order");
  cfg.add_message_type<table_applier_order>("trib::table_applier_order");
  cfg.add_message_type<snapshot_reader_order>("trib::snapshot_reader_order");
  cfg.add_message_type<change_applier_order>("trib::change_applier_order");
  cfg.add_message_type<snapshot_reader_actor>("trib::snapshot_reader_actor");
  cfg.add_message_type<table_applier_actor>("trib::table_applier_actor");
  cfg.add_message_type<redis_writer_actor>("trib::redis_writer_actor");
  cfg.add_message_type<change_applier_actor>("trib::change_applier_actor");
  cfg.add_message_type<supervisor_actor>("trib::supervisor_actor");
  cfg.add_message_type<coordinator_actor>("trib::coordinator_actor");
  cfg.add_message_type<worker_actor>("trib::worker_actor");
  // Renders wrapped failures as "connection: <what>" in CAF's messages.
  cfg.add_error_category(failure_category,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           std::string out =
                             to_string(static_cast<failure_code>(code));
                           if (ctx.match_elements<std::string>())
                             out += ": " + ctx.get_as<std::string>(0);
                           return out;
                         });
}

caf::actor_system_config& configure_actor_system(caf::actor_system_config& cfg) {
  register_message_types(cfg);
  // CAF starts 4 workers by default whatever the machine has; blocking work
  // runs in detached actors, so the scheduler only needs the cores.
  cfg.set("scheduler.max-threads",
          static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
  // Work stealing polls idle workers with short sleeps, which cost a
  // snapshot about a tenth of its CPU and an idle realtime run CPU at every
  // quiet moment; the sharing policy's workers wait on a condition variable.
  // Few actors run on the scheduler, so one shared queue is enough.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  return cfg;
}

}  // namespace trib
