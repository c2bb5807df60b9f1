#include "nodes/cli.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "conf/loader.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace {

const std::vector<std::string> replication_commands{"snapshot", "realtime", "full"};
const std::vector<std::string> all_commands{
  "snapshot", "realtime", "full", "fetch-schemas", "stats", "test-connection",
  "coordinator", "worker", "help", "version", "print-tuning"};

[[noreturn]] void usage_error(const std::string& msg) {
  throw error(failure_code::config, msg + " (see tributary --help)");
}

bool is_one_of(const std::string& s, const std::vector<std::string>& v) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// How many connection files each command takes.
size_t expected_files(const std::string& cmd) {
  if (is_one_of(cmd, replication_commands) || cmd == "coordinator") return 2;
  if (cmd == "fetch-schemas" || cmd == "stats" || cmd == "test-connection") return 1;
  return 0;
}

}  // namespace

const char* usage_text() {
  return R"(usage:
  tributary snapshot|realtime|full SRC_CONN.yaml DST_CONN.yaml
            [--extractor FILE] [--applier FILE] [--filter FILE] [--map FILE]
            [--id ID] [--group NAME] [--overwrite | --resume]
            [--terminate-post-snapshot] [--data-dir DIR] [--metrics HOST:PORT]
            [--node-name NAME]
  tributary fetch-schemas DST_CONN.yaml --id ID [--group NAME] [--filter FILE]
            [--output-file FILE]
  tributary stats DST_CONN.yaml --id ID [--group NAME] [--json]
  tributary test-connection CONN.yaml | SRC_CONN.yaml DST_CONN.yaml
            [--id ID] [--group NAME] [--filter FILE] [--map FILE]
  tributary coordinator snapshot|realtime|full SRC_CONN.yaml DST_CONN.yaml
            --listen HOST:PORT --node-tls DIR [--workers N] [--join-timeout S]
            [the options of snapshot|realtime|full]
  tributary worker --join HOST:PORT --node-tls DIR [--join-timeout S]
            [--metrics HOST:PORT] [--node-name NAME]
  tributary --help | --version | --print-tuning

modes:
  snapshot   copy the existing rows of every table the filter allows, then exit
  realtime   replay committed changes from the current source position
  full       snapshot, then realtime from exactly where the snapshot stopped
  stats      print a replication's run statistics: rows per table and op,
             first and last write, lag
  coordinator  run a replication over several nodes: waits for --workers N
             (default 1) workers, places table work on them, reads changes
             itself (docs/nodes.md)
  worker     join a coordinator and run the table work it places here

test-connection prints one line per right or setting the replication needs
(ok / MISSING and what to grant) and exits 1 when one is missing.

exit codes: 0 success, 1 runtime failure, 2 usage or configuration error,
            3 finished but tables were skipped or in-doubt entries were written
)";
}

command_line parse_command_line(const std::vector<std::string>& args) {
  command_line cl;
  if (args.empty()) usage_error("missing command");
  // Options that take a value, and where the value goes.
  std::map<std::string, std::string*> valued{
    {"--extractor", &cl.extractor}, {"--applier", &cl.applier},
    {"--filter", &cl.filter},       {"--map", &cl.map},
    {"--id", &cl.id},               {"--group", &cl.group},
    {"--data-dir", &cl.data_dir},   {"--metrics", &cl.metrics},
    {"--output-file", &cl.output_file}, {"--join", &cl.join},
    {"--listen", &cl.listen},       {"--node-tls", &cl.node_tls}};
  // Options with a number; checked once every argument is read.
  std::string workers, join_timeout;
  valued["--workers"] = &workers;
  valued["--join-timeout"] = &join_timeout;
  // The `node` label of the metrics (default: the certificate's common name
  // on a coordinator or worker, the host name otherwise).
  valued["--node-name"] = &cl.node_name;
  std::map<std::string, bool*> flags{
    {"--overwrite", &cl.overwrite}, {"--resume", &cl.resume},
    {"--terminate-post-snapshot", &cl.terminate_post_snapshot}, {"--json", &cl.json}};
  std::vector<std::string> known;
  for (auto& [k, _] : valued) known.push_back(k);
  for (auto& [k, _] : flags) known.push_back(k);
  known.push_back("--help");
  known.push_back("--version");
  known.push_back("--print-tuning");

  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--help" || a == "-h") {
      cl.command = "help";
      return cl;
    }
    if (a == "--version") {
      cl.command = "version";
      return cl;
    }
    if (a == "--print-tuning") {
      cl.command = "print-tuning";
      return cl;
    }
    if (a.rfind("--", 0) == 0) {
      std::string value;
      bool inline_value = false;
      if (auto eq = a.find('='); eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        inline_value = true;
      }
      if (auto it = valued.find(a); it != valued.end()) {
        if (!inline_value) {
          if (i + 1 >= args.size()) usage_error("option " + a + " needs a value");
          value = args[++i];
        }
        if (value.empty()) usage_error("option " + a + " needs a non-empty value");
        *it->second = value;
        if (a == "--id") cl.id_given = true;
        continue;
      }
      if (auto it = flags.find(a); it != flags.end()) {
        if (inline_value) usage_error("option " + a + " takes no value");
        *it->second = true;
        continue;
      }
      std::string msg = "unknown option '" + a + "'";
      if (auto near = nearest_key(a, known); !near.empty())
        msg += " (did you mean '" + near + "'?)";
      usage_error(msg);
    }
    if (cl.command == "coordinator" && cl.mode.empty()) {
      if (!is_one_of(a, replication_commands))
        usage_error("coordinator takes a mode first (snapshot, realtime or full), got '" + a +
                    "'");
      cl.mode = a;
      continue;
    }
    if (cl.command.empty()) {
      if (!is_one_of(a, all_commands)) {
        std::string msg = "unknown command '" + a + "'";
        if (auto near = nearest_key(a, all_commands); !near.empty())
          msg += " (did you mean '" + near + "'?)";
        usage_error(msg);
      }
      cl.command = a;
      continue;
    }
    cl.files.push_back(a);
  }
  if (cl.command.empty()) usage_error("missing command");
  if (cl.command == "help" || cl.command == "version") return cl;
  size_t want = expected_files(cl.command);
  // test-connection takes a source or a target, or both (SRC DST).
  if (cl.command == "test-connection" && cl.files.size() == 2) want = 2;
  if (cl.files.size() != want) {
    if (cl.command == "worker" && cl.files.empty()) {
      // the worker takes only --join
    } else {
      usage_error(cl.command + " takes " + std::to_string(want) +
                  " connection file" + (want == 1 ? "" : "s") + ", got " +
                  std::to_string(cl.files.size()));
    }
  }
  if (cl.overwrite && cl.resume)
    usage_error("--overwrite and --resume exclude each other");
  if (cl.command == "fetch-schemas" && !cl.id_given)
    usage_error("fetch-schemas needs --id ID (the replication whose schema dump to read)");
  if (cl.command == "stats" && !cl.id_given)
    usage_error("stats needs --id ID (the replication whose statistics to print)");
  if (cl.json && cl.command != "stats") usage_error("--json applies to stats only");
  if (cl.command == "worker" && cl.join.empty())
    usage_error("worker needs --join HOST:PORT");
  if (cl.command == "coordinator") {
    if (cl.mode.empty()) usage_error("coordinator takes a mode first: snapshot, realtime or full");
    if (cl.listen.empty()) usage_error("coordinator needs --listen HOST:PORT");
  }
  bool node = cl.command == "coordinator" || cl.command == "worker";
  if (node && cl.node_tls.empty())
    usage_error(cl.command + " needs --node-tls DIR (ca.pem, node.pem, node.key): nodes talk "
                             "only over mutual TLS");
  for (auto [option, given] : {std::pair{"--listen", !cl.listen.empty()},
                               std::pair{"--workers", !workers.empty()}})
    if (given && cl.command != "coordinator")
      usage_error(std::string(option) + " applies to coordinator only");
  for (auto [option, given] : {std::pair{"--node-tls", !cl.node_tls.empty()},
                               std::pair{"--join-timeout", !join_timeout.empty()}})
    if (given && !node) usage_error(std::string(option) + " applies to coordinator and worker only");
  if (!cl.join.empty() && cl.command != "worker") usage_error("--join applies to worker only");
  auto count = [](const std::string& option, const std::string& text, long max) {
    long n = 0;
    try {
      size_t used = 0;
      n = std::stol(text, &used);
      if (used != text.size()) n = 0;
    } catch (const std::exception&) {
      n = 0;
    }
    if (n < 1 || n > max)
      usage_error(option + " wants a whole number from 1 to " + std::to_string(max) + ", got '" +
                  text + "'");
    return n;
  };
  if (!workers.empty()) cl.workers = static_cast<size_t>(count("--workers", workers, 1000));
  if (!join_timeout.empty())
    cl.join_timeout_s = static_cast<int>(count("--join-timeout", join_timeout, 86400));
  for (auto [option, name] : {std::pair{"--id", &cl.id}, std::pair{"--group", &cl.group}}) {
    bool ok = std::all_of(name->begin(), name->end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    if (!ok)
      usage_error("'" + *name + "' is not a valid --id/--group: use letters, digits, '_' and '-'");
    // Both name stream keys and the data directory data/<id>/, whose name
    // the file system limits.
    if (name->size() > max_name_length)
      usage_error(std::string(option) + " is " + std::to_string(name->size()) +
                  " characters long: at most " + std::to_string(max_name_length) +
                  " are allowed");
  }
  return cl;
}

}  // namespace trib
