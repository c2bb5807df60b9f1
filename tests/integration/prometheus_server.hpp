#pragma once
// A real Prometheus for the tests of the shipped configuration, alert rules
// and dashboard (Debian's prometheus 2.42): a server of the test's own on
// loopback, and the realtime fixture with ops/prometheus/prometheus.yml
// rendered for it.

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <utility>

#include "tests/integration/realtime_fixture.hpp"
#include "tests/local_http.hpp"

namespace trib::test {

const std::string prometheus_bin = "/usr/bin/prometheus";

inline std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/// A Prometheus server of the test's own: its own port, its own TSDB in
/// the test's directory; stopped (SIGTERM, then reaped) by the destructor.
class prometheus_server {
public:
  prometheus_server(const std::string& config, const std::string& dir, int port)
      : port_(port) {
    std::vector<std::string> args{prometheus_bin,
                                  "--config.file=" + config,
                                  "--storage.tsdb.path=" + dir + "/tsdb",
                                  "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                  "--log.level=warn"};
    std::string log = dir + "/prometheus.log";
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  prometheus_server(const prometheus_server&) = delete;
  prometheus_server& operator=(const prometheus_server&) = delete;
  ~prometheus_server() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }

  bool ready() { return http_get(port_, "/-/ready").find(" 200 ") != std::string::npos; }

  /// The result vector of an instant query; throws when Prometheus
  /// refuses the expression (a syntax error is a broken panel or rule).
  json::array query(const std::string& expr) {
    auto resp = http_get(port_, "/api/v1/query?query=" + url_encode(expr));
    auto body = resp.find("\r\n\r\n");
    if (body == std::string::npos) throw std::runtime_error("no answer to " + expr);
    auto v = json::parse(resp.substr(body + 4));
    if (v.at("status") != "success")
      throw std::runtime_error("query " + expr + " failed: " + json::serialize(v));
    return v.at("data").at("result").as_array();
  }

  /// The state Prometheus gives alert `name` now: "firing", "pending", or
  /// "" when it is inactive (GET /api/v1/alerts).
  std::string alert_state(const std::string& name) {
    auto resp = http_get(port_, "/api/v1/alerts");
    auto body = resp.find("\r\n\r\n");
    if (body == std::string::npos) throw std::runtime_error("no answer to /api/v1/alerts");
    auto v = json::parse(resp.substr(body + 4));
    std::string state;
    for (const auto& a : v.at("data").at("alerts").as_array()) {
      if (a.at("labels").at("alertname") != name.c_str()) continue;
      auto s = std::string(a.at("state").as_string());
      if (state != "firing") state = s;
    }
    return state;
  }

  /// The first sample's value of a query, or -1 when it returns nothing.
  double value(const std::string& expr) {
    auto r = query(expr);
    if (r.empty()) return -1;
    return std::stod(std::string(r[0].at("value").as_array()[1].as_string()));
  }

private:
  int port_;
  pid_t pid_ = -1;
};

struct alert_rule {
  std::string name, expr;
};

inline std::string ops_dir() { return std::string(TRIB_SOURCE_DIR) + "/ops"; }

/// Every `expr` of every panel (rows hold panels of their own).
inline void panel_exprs(const json::value& panels, std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& p : panels.as_array()) {
    const auto& o = p.as_object();
    std::string title = o.contains("title") ? std::string(o.at("title").as_string()) : "?";
    if (o.contains("targets"))
      for (const auto& t : o.at("targets").as_array())
        if (t.as_object().contains("expr")) {
          // The per-node row's panels select the nodes of the dashboard's
          // `node` variable: here, every node.
          std::string expr(t.at("expr").as_string());
          for (size_t at; (at = expr.find("$node")) != std::string::npos;) expr.replace(at, 5, ".+");
          out.emplace_back(title, expr);
        }
    if (o.contains("panels")) panel_exprs(o.at("panels"), out);
  }
}

/// How a test shortens the shipped alert rules so that they fire within a
/// test: every `for:` becomes `for_`, and in an alert's expression each
/// (from, to) replaces a window or a threshold. The expressions stay the
/// shipped ones otherwise; a `from` they no longer contain fails the test.
struct rule_rewrite {
  std::string for_ = "2s";
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> edits;
};

class prometheus_fixture : public realtime {
protected:
  /// ops/prometheus/prometheus.yml with this test's ports, 1 s scrapes and
  /// evaluations, and its rule files named by absolute path (with
  /// `rewrite`, copies of them in the test's directory, rewritten).
  std::string render_config(int metrics_port, const rule_rewrite* rewrite = nullptr) {
    auto cfg = YAML::LoadFile(ops_dir() + "/prometheus/prometheus.yml");
    cfg["global"]["scrape_interval"] = "1s";
    cfg["global"]["scrape_timeout"] = "1s";
    cfg["global"]["evaluation_interval"] = "1s";
    bool found = false;
    for (auto job : cfg["scrape_configs"]) {
      if (job["job_name"].as<std::string>() != "tributary") continue;
      found = true;
      YAML::Node targets;
      targets.push_back("127.0.0.1:" + std::to_string(metrics_port));
      job["static_configs"][0]["targets"] = targets;
    }
    EXPECT_TRUE(found) << "prometheus.yml has no job named tributary (the alerts select it)";
    YAML::Node files;
    for (auto f : cfg["rule_files"]) {
      rule_files_.push_back(ops_dir() + "/prometheus/" + f.as<std::string>());
      if (rewrite) rule_files_.back() = rewritten(rule_files_.back(), *rewrite);
      files.push_back(rule_files_.back());
    }
    cfg["rule_files"] = files;
    YAML::Emitter e;
    e << cfg;
    return write_file(dir_ + "/prometheus.yml", e.c_str());
  }

  /// A copy of the rule file `path` in the test's directory, rewritten.
  std::string rewritten(const std::string& path, const rule_rewrite& rw) {
    auto doc = YAML::LoadFile(path);
    std::set<std::string> edited;
    for (auto group : doc["groups"])
      for (auto rule : group["rules"]) {
        if (!rule["alert"]) continue;
        if (rule["for"]) rule["for"] = rw.for_;
        auto name = rule["alert"].as<std::string>();
        auto it = rw.edits.find(name);
        if (it == rw.edits.end()) continue;
        auto expr = rule["expr"].as<std::string>();
        for (const auto& [from, to] : it->second) {
          auto at = expr.find(from);
          EXPECT_NE(at, std::string::npos) << name << "'s expression has no " << from << ": " << expr;
          if (at != std::string::npos) expr.replace(at, from.size(), to);
        }
        rule["expr"] = expr;
        edited.insert(name);
      }
    for (const auto& [name, e] : rw.edits)
      EXPECT_TRUE(edited.count(name)) << "no alert rule named " << name << " in " << path;
    YAML::Emitter e;
    e << doc;
    return write_file(dir_ + "/" + std::filesystem::path(path).filename().string(), e.c_str());
  }

  std::vector<alert_rule> alerts() {
    std::vector<alert_rule> out;
    for (const auto& file : rule_files_)
      for (auto group : YAML::LoadFile(file)["groups"])
        for (auto rule : group["rules"])
          if (rule["alert"])
            out.push_back({rule["alert"].as<std::string>(), rule["expr"].as<std::string>()});
    return out;
  }

  std::string expr_of(const std::string& alert) {
    for (const auto& a : alerts())
      if (a.name == alert) return a.expr;
    ADD_FAILURE() << "no alert rule named " << alert;
    return "vector(0) == 1";
  }

  /// Whether the expression returns data within the deadline.
  bool returns_data(prometheus_server& p, const std::string& expr,
                    std::chrono::milliseconds d = 30s) {
    return wait_until([&] { return !p.query(expr).empty(); }, d, 200ms);
  }

  std::string log() { return read_text(dir_ + "/run.log"); }

  std::vector<std::string> rule_files_;
};

}  // namespace trib::test
