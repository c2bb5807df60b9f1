// The systemd units of ops/cluster/ run command lines that Tributary takes:
// each ExecStart, with the variables of the example env files put in as
// systemd would, parses as design section 11's coordinator and worker
// commands.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "nodes/cli.hpp"

using namespace trib;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << path;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string cluster(const std::string& file) {
  return std::string(TRIB_SOURCE_DIR) + "/ops/cluster/" + file;
}

/// KEY=value lines of an EnvironmentFile.
std::map<std::string, std::string> env_file(const std::string& path) {
  std::map<std::string, std::string> env;
  std::istringstream in{slurp(path)};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

/// ExecStart's words as systemd makes them: continuation lines joined,
/// ${NAME} one word, $NAME split at blanks.
std::vector<std::string> exec_start(const std::string& unit,
                                    const std::map<std::string, std::string>& env) {
  auto text = slurp(unit);
  auto at = text.find("\nExecStart=");
  EXPECT_NE(at, std::string::npos) << unit;
  std::string line;
  for (size_t i = at + 11; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (text[i] == '\n') break;
    line += text[i];
  }
  std::vector<std::string> words;
  std::istringstream in{line};
  std::regex braced(R"(\$\{([A-Z_]+)\})"), bare(R"(^\$([A-Z_]+)$)");
  for (std::string w; in >> w;) {
    std::smatch m;
    if (std::regex_match(w, m, bare)) {
      auto it = env.find(m[1].str());
      std::istringstream split{it == env.end() ? "" : it->second};
      for (std::string part; split >> part;) words.push_back(part);
      continue;
    }
    std::string out;
    auto begin = w.cbegin();
    for (std::sregex_iterator r(w.begin(), w.end(), braced), end; r != end; ++r) {
      out.append(begin, w.cbegin() + r->position());
      auto it = env.find((*r)[1].str());
      EXPECT_NE(it, env.end()) << (*r)[1].str() << " is not in the env file";
      if (it != env.end()) out += it->second;
      begin = w.cbegin() + r->position() + r->length();
    }
    out.append(begin, w.cend());
    words.push_back(out);
  }
  return words;
}

}  // namespace

TEST(cluster_units, the_coordinator_unit_runs_section_11s_coordinator_command) {
  auto words = exec_start(cluster("systemd/tributary-coordinator.service"),
                          env_file(cluster("coordinator/env")));
  ASSERT_GE(words.size(), 2u);
  EXPECT_EQ(words[0], "/usr/bin/tributary");
  auto cl = parse_command_line({words.begin() + 1, words.end()});
  EXPECT_EQ(cl.command, "coordinator");
  EXPECT_EQ(cl.mode, "full");
  EXPECT_EQ(cl.listen, "0.0.0.0:58001");
  EXPECT_EQ(cl.node_tls, "/etc/tributary/node-tls");
  EXPECT_EQ(cl.workers, 2u);
  EXPECT_TRUE(cl.resume);
  EXPECT_EQ(cl.metrics, "0.0.0.0:9464");
  EXPECT_EQ(cl.files, (std::vector<std::string>{"/etc/tributary/coordinator/source.yaml",
                                                 "/etc/tributary/coordinator/target.yaml"}));
}

TEST(cluster_units, the_worker_unit_runs_section_11s_worker_command) {
  auto words = exec_start(cluster("systemd/tributary-worker.service"),
                          env_file(cluster("worker/env")));
  ASSERT_GE(words.size(), 2u);
  auto cl = parse_command_line({words.begin() + 1, words.end()});
  EXPECT_EQ(cl.command, "worker");
  EXPECT_EQ(cl.join, "coordinator.example.internal:58001");
  EXPECT_EQ(cl.node_tls, "/etc/tributary/node-tls");
  EXPECT_EQ(cl.metrics, "0.0.0.0:9464");
}
