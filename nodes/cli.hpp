#pragma once
// Command-line parsing (design section 1), kept apart from main() so that it
// can be tested as a pure function.

#include <cstddef>
#include <string>
#include <vector>

namespace trib {

/// What the user asked for, before any file is read.
struct command_line {
  /// snapshot, realtime, full, fetch-schemas, stats, test-connection,
  /// coordinator, worker, help, version.
  std::string command;
  std::vector<std::string> files;  // positional connection files
  std::string extractor, applier, filter, map;
  std::string id = "default";
  std::string group = "default";
  std::string data_dir = "./data";
  std::string metrics;
  std::string output_file;
  /// coordinator: the replication mode (snapshot, realtime, full), the
  /// first positional argument.
  std::string mode;
  /// coordinator --listen HOST:PORT; worker --join HOST:PORT; both
  /// --node-tls DIR and --join-timeout SECONDS (0: the default).
  std::string listen;
  std::string join;
  std::string node_tls;
  /// --node-name NAME: this process's `node` label in the metrics.
  std::string node_name;
  size_t workers = 1;
  int join_timeout_s = 0;
  bool overwrite = false;
  bool resume = false;
  bool terminate_post_snapshot = false;
  bool id_given = false;
  /// stats: JSON instead of a table.
  bool json = false;
};

/// The longest --id or --group accepted: they name Redis keys, the data
/// directory data/<id>/ and (with the prefix tributary_) the replication slot.
constexpr size_t max_name_length = 64;

/// Parses argv (without the program name). Throws trib::error{config} with
/// one line naming the offending argument, and a suggestion for a misspelt
/// option.
command_line parse_command_line(const std::vector<std::string>& args);

/// The --help text.
const char* usage_text();

}  // namespace trib
