// The single-node command line: parses arguments, loads and validates every
// configuration file before anything connects, then hands over to the runtime.

#include <cstdio>
#include <iostream>
#include <string>
#include <variant>
#include <vector>

#include "actors/log.hpp"
#include "actors/runtime.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/source_session.hpp"
#include "conf/loader.hpp"
#include "messages/failure.hpp"
#include "nodes/cli.hpp"

namespace {

using namespace trib;

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

int exit_code_for(failure_code c) {
  return c == failure_code::config || c == failure_code::state_exists ? exit_usage
                                                                       : exit_failure;
}

run_options load_run_options(const command_line& cl) {
  run_options o;
  if (cl.command == "snapshot") o.mode = run_mode::snapshot;
  else if (cl.command == "realtime") o.mode = run_mode::realtime;
  else o.mode = run_mode::full;
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

int test_connection(const std::string& file) {
  auto conn = load_connection(file);
  if (auto* src = std::get_if<source_config>(&conn)) {
    auto session = open_source(*src);
    auto f = session->facts();
    std::cout << "connected to " << to_string(f.kind) << " " << f.version << " at "
              << src->host << ":" << src->port << "\n";
  } else {
    auto& dst = std::get<redis_config>(conn);
    auto client = redis_client::connect(dst);
    auto info = client->command({"INFO", "server"});
    std::string version = "?";
    if (auto pos = info.str.find("redis_version:"); pos != std::string::npos)
      version = info.str.substr(pos + 14, info.str.find('\r', pos) - pos - 14);
    std::cout << "connected to redis " << version << " at " << dst.host << ":"
              << dst.port << "\n";
  }
  return exit_ok;
}

void print_summary(const run_summary& s) {
  for (const auto& t : s.tables) {
    if (t.skipped)
      std::cout << "skipped  " << to_string(t.table) << ": " << t.reason << "\n";
    else
      std::cout << "wrote    " << t.rows_written << " rows of " << to_string(t.table)
                << " to " << t.stream << "\n";
  }
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
  if (cl.command == "test-connection") return test_connection(cl.files[0]);
  if (cl.command == "snapshot" || cl.command == "realtime" || cl.command == "full") {
    run_options opts = load_run_options(cl);
    run_summary s = run_replication(opts);
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
    return exit_code_for(e.code());
  } catch (const std::exception& e) {
    std::cerr << "tributary: unexpected failure: " << e.what() << "\n";
    return exit_failure;
  }
}
