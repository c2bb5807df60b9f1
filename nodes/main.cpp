// The single-node command line: parses arguments, loads and validates every
// configuration file before anything connects, then hands over to the runtime.

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <fstream>

#include "actors/apply/envelope.hpp"
#include "actors/apply/schema_dump.hpp"
#include "actors/control/connection_checks.hpp"
#include "actors/control/run_stats_recorder.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/node/node_system.hpp"
#include "actors/node/node_tls.hpp"
#include "actors/node/worker_node.hpp"
#include "actors/runtime.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/source_session.hpp"
#include "actors/tuning.hpp"
#include "conf/loader.hpp"
#include "messages/failure.hpp"
#include "nodes/cli.hpp"

namespace {

using namespace trib;

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;

run_options load_run_options(const command_line& cl) {
  run_options o;
  // `coordinator MODE ...` runs MODE with its table work on workers.
  const auto& mode = cl.command == "coordinator" ? cl.mode : cl.command;
  if (mode == "snapshot") o.mode = run_mode::snapshot;
  else if (mode == "realtime") o.mode = run_mode::realtime;
  else o.mode = run_mode::full;
  if (cl.command == "coordinator") {
    o.cluster.tls = check_node_tls(cl.node_tls);
    parse_node_address(cl.listen, "--listen");
    o.cluster.listen = cl.listen;
    o.cluster.workers = cl.workers;
    if (cl.join_timeout_s > 0) o.cluster.join_timeout = std::chrono::seconds(cl.join_timeout_s);
  }
  o.source = load_source(cl.files[0]);
  o.target = load_target(cl.files[1]);
  if (!cl.extractor.empty()) o.extractor = load_extractor(cl.extractor);
  if (!cl.applier.empty()) o.applier = load_applier(cl.applier);
  if (!cl.filter.empty()) o.filter = load_filter(cl.filter);
  if (!cl.map.empty()) o.map = load_map(cl.map);
  o.id = cl.id;
  o.group = cl.group;
  o.data_dir = cl.data_dir;
  o.overwrite = cl.overwrite;
  o.resume = cl.resume;
  o.terminate_post_snapshot = cl.terminate_post_snapshot;
  return o;
}

// One line per check; 0 when everything the replication needs is there.
int test_connection(const command_line& cl) {
  std::optional<source_config> source;
  std::optional<redis_config> target;
  if (cl.files.size() == 2) {
    source = load_source(cl.files[0]);
    target = load_target(cl.files[1]);
  } else if (auto conn = load_connection(cl.files[0]);
             auto* src = std::get_if<source_config>(&conn)) {
    source = *src;
  } else {
    target = std::get<redis_config>(conn);
  }
  connection_test_options opts;
  opts.id = cl.id;
  opts.group = cl.group;
  if (!cl.filter.empty()) opts.filter = load_filter(cl.filter);
  if (!cl.map.empty()) opts.map = load_map(cl.map);
  auto checks = test_connections(source, target, opts);
  for (const auto& c : checks) std::cout << to_string(c) << "\n";
  return all_ok(checks) ? exit_ok : exit_failure;
}

// Reads the newest schema dump of a replication and writes schemas.yaml.
int fetch_schemas(const command_line& cl) {
  redis_config target = load_target(cl.files[0]);
  filter_config filter;
  if (!cl.filter.empty()) filter = load_filter(cl.filter);
  std::string stream = schema_stream_name(cl.group, cl.id);
  auto client = redis_client::connect(target);
  auto reply = client->command({"XREVRANGE", stream, "+", "-", "COUNT", "1"});
  if (reply.type == redis_reply::kind::error)
    throw error(classify_redis_error(reply.str), "cannot read " + stream + ": " + reply.str);
  if (reply.type != redis_reply::kind::array || reply.elements.empty())
    throw error(failure_code::config, "no schema dump in " + stream +
                                        ": has a replication with --id " + cl.id +
                                        " and --group " + cl.group + " run yet?");
  // An entry is [id, [field, value, field, value]]; the dump is under "value".
  const auto& fields = reply.elements[0].elements.at(1).elements;
  const std::string* dump = nullptr;
  for (size_t i = 0; i + 1 < fields.size(); i += 2)
    if (fields[i].str == "value") dump = &fields[i + 1].str;
  if (!dump) throw error(failure_code::bad_data, "the newest entry of " + stream + " has no value field");
  source_kind kind{};
  auto tables = parse_schema_dump(*dump, &kind);
  std::string out_path = cl.output_file.empty() ? "schemas.yaml" : cl.output_file;
  std::ofstream out(out_path);
  if (!out) throw error(failure_code::config, "cannot write " + out_path);
  out << schemas_yaml(tables, kind, filter);
  out.close();
  if (!out) throw error(failure_code::internal, "cannot write " + out_path);
  std::cout << "wrote " << out_path << " from " << stream << "\n";
  return exit_ok;
}

// Prints a replication's run statistics (the hash the run stats recorder
// keeps) as a table or JSON.
int print_stats(const command_line& cl) {
  redis_config target = load_target(cl.files[0]);
  auto key = stats_key(cl.group, cl.id);
  auto client = redis_client::connect(target);
  auto reply = command_or_throw(*client, {"HGETALL", key});
  std::vector<std::string> flat;
  for (auto& e : reply.elements) flat.push_back(std::move(e.str));
  if (flat.empty())
    throw error(failure_code::config, "no run statistics in " + key +
                                        ": has a replication with --id " + cl.id +
                                        " and --group " + cl.group + " written rows yet?");
  auto stats = parse_stats_hash(flat);
  std::cout << (cl.json ? stats_json(key, stats) + "\n" : format_stats_table(stats));
  return exit_ok;
}

void print_summary(const run_summary& s) {
  for (const auto& t : s.tables) {
    if (t.skipped)
      std::cout << "skipped  " << to_string(t.table) << ": " << t.reason << "\n";
    else if (!t.finished)
      std::cout << "stopped  " << to_string(t.table) << ": not finished\n";
    else
      std::cout << "wrote    " << t.rows_written << " rows of " << to_string(t.table)
                << " to " << t.stream << "\n";
  }
}

// The constants of actors/tuning.hpp as "name value" lines (bytes,
// milliseconds), for the benchmarks under ops/bench/ to read.
void print_tuning() {
  std::cout << "snapshot_write_bytes " << tuning::snapshot_write_bytes << "\n"
            << "snapshot_writes_in_flight " << tuning::snapshot_writes_in_flight << "\n"
            << "snapshot_memory_budget_bytes " << tuning::snapshot_memory_budget_bytes << "\n"
            << "snapshot_min_reader_window_bytes " << tuning::snapshot_min_reader_window_bytes
            << "\n"
            << "snapshot_min_batch_bytes " << tuning::snapshot_min_batch_bytes << "\n"
            << "snapshot_min_range_window_bytes " << tuning::snapshot_min_range_window_bytes
            << "\n"
            << "snapshot_min_fetch_rows " << tuning::snapshot_min_fetch_rows << "\n"
            << "snapshot_reader_batches_in_flight " << tuning::snapshot_reader_batches_in_flight
            << "\n"
            << "change_feed_bytes " << tuning::change_feed_bytes << "\n"
            << "change_feed_linger_ms " << tuning::change_feed_linger.count() << "\n"
            << "change_feeds_unanswered " << tuning::change_feeds_unanswered << "\n"
            << "realtime_memory_budget_bytes " << tuning::realtime_memory_budget_bytes << "\n"
            << "realtime_batch_bytes " << tuning::realtime_memory_budget_bytes / 4 << "\n"
            << "realtime_batches_in_flight " << tuning::realtime_batches_in_flight << "\n"
            << "realtime_linger_ms " << tuning::realtime_linger.count() << "\n"
            << "realtime_write_bytes " << tuning::realtime_write_bytes << "\n"
            << "realtime_writes_in_flight " << tuning::realtime_writes_in_flight << "\n"
            << "writer_linger_ms " << tuning::writer_linger.count() << "\n"
            << "redis_read_timeout_ms " << tuning::redis_read_timeout_ms << "\n"
            << "redis_connect_timeout_ms " << tuning::redis_connect_timeout_ms << "\n"
            << "redis_send_chunk_bytes " << tuning::redis_send_chunk_bytes << "\n"
            << "redis_read_buffer_bytes " << tuning::redis_read_buffer_bytes << "\n"
            << "redis_memory_headroom_share " << tuning::redis_memory_headroom_share << "\n"
            << "redis_memory_check_interval_ms " << tuning::redis_memory_check_interval.count()
            << "\n"
            << "redis_memory_poll_interval_ms " << tuning::redis_memory_poll_interval.count()
            << "\n";
}

// The `node` label of every metric: --node-name, else the common name of
// a coordinator's or worker's certificate (ops/node-certs.sh names the node
// there), else the host name (metrics.cpp's default).
void name_this_node(const command_line& cl) {
  std::string name = cl.node_name;
  if (name.empty() && !cl.node_tls.empty()) name = node_name_of(check_node_tls(cl.node_tls));
  if (!name.empty()) metrics::set_node_name(name);
}

int run(const std::vector<std::string>& args) {
  command_line cl = parse_command_line(args);
  if (cl.command == "help") {
    std::cout << usage_text();
    return exit_ok;
  }
  if (cl.command == "version") {
    std::cout << "tributary " << TRIBUTARY_VERSION << "\n";
    return exit_ok;
  }
  if (cl.command == "print-tuning") {
    print_tuning();
    return exit_ok;
  }
  if (cl.command == "test-connection") return test_connection(cl);
  if (cl.command == "fetch-schemas") return fetch_schemas(cl);
  if (cl.command == "stats") return print_stats(cl);
  name_this_node(cl);
  if (cl.command == "worker") {
    if (!cl.metrics.empty()) metrics::serve(cl.metrics);
    worker_options w;
    w.join = cl.join;
    w.node_tls = cl.node_tls;
    if (cl.join_timeout_s > 0) w.join_timeout = std::chrono::seconds(cl.join_timeout_s);
    return run_worker(w);
  }
  if (cl.command == "snapshot" || cl.command == "realtime" || cl.command == "full" ||
      cl.command == "coordinator") {
    run_options opts = load_run_options(cl);
    if (!cl.metrics.empty()) metrics::serve(cl.metrics);
    // The coordinator's node and its workers; a single-node run is one.
    metrics::set_nodes(opts.cluster.enabled() ? 1 + opts.cluster.workers : 1);
    // Rows written go to the run statistics every 10 s and at the end.
    auto stats = std::make_shared<run_stats_recorder>(opts.target, opts.group, opts.id,
                                                      opts.data_dir, opts.overwrite,
                                                      std::chrono::seconds(10));
    run_summary s;
    {
      run_stats_scope recording{stats};
      s = run_replication(opts);
    }
    stats.reset();  // sends the last statistics
    print_summary(s);
    if (!s.error.empty()) std::cerr << "tributary: " << s.error << "\n";
    return s.exit_code;
  }
  throw error(failure_code::config,
              "'" + cl.command + "' is not available yet in this version");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return run(args);
  } catch (const trib::error& e) {
    std::cerr << "tributary: " << e.what() << "\n";
    return trib::exit_code_for(e.code());
  } catch (const std::exception& e) {
    std::cerr << "tributary: unexpected failure: " << e.what() << "\n";
    return exit_failure;
  }
}
