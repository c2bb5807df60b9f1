// The shipped Prometheus configuration, alert rules and Grafana dashboard
// work against a real Prometheus (Debian's 2.42) scraping a real `full`
// replication from PostgreSQL: every panel's expression returns data, every
// alert rule's expression returns data once its condition holds (a stalled
// replication, a skipped table, ...), and the rows counter equals the
// entries in the streams.

#include <yaml-cpp/yaml.h>

#include "tests/integration/realtime_fixture.hpp"
#include "tests/local_http.hpp"

using namespace trib;
using namespace trib::test;

namespace {

const std::string prometheus_bin = "/usr/bin/prometheus";

std::string url_encode(const std::string& s) {
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

std::string ops_dir() { return std::string(TRIB_SOURCE_DIR) + "/ops"; }

/// Every `expr` of every panel (rows hold panels of their own).
void panel_exprs(const json::value& panels, std::vector<std::pair<std::string, std::string>>& out) {
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

class prometheus_test : public realtime {
protected:
  /// ops/prometheus/prometheus.yml with this test's ports, 1 s scrapes and
  /// evaluations, and its rule files named by absolute path.
  std::string render_config(int metrics_port) {
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
      files.push_back(rule_files_.back());
    }
    cfg["rule_files"] = files;
    YAML::Emitter e;
    e << cfg;
    return write_file(dir_ + "/prometheus.yml", e.c_str());
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

}  // namespace

TEST_F(prometheus_test, panels_and_alerts_answer_from_a_real_prometheus) {
  ASSERT_TRUE(std::filesystem::exists(prometheus_bin))
    << prometheus_bin << " is missing: run ops/install.sh (Debian package prometheus)";
  use("prom");
  write_source(200);
  sql db(db_);
  db.exec("CREATE TABLE orders(id int PRIMARY KEY, v int);"
          "INSERT INTO orders SELECT g, g FROM generate_series(1, 1000) g;"
          "CREATE TABLE rt1(id int PRIMARY KEY, v numeric(10,2)); INSERT INTO rt1 VALUES (1, 1)");
  // A snapshot row that cannot be converted (NaN under PRECISE decimals):
  // the snapshot skips that row and goes on (TributaryRowsSkipped).
  db.exec("INSERT INTO rt1 VALUES (0, 'NaN')");
  db.exec("ANALYZE orders, rt1");
  // PRECISE decimals are scaled integers, which a numeric NaN has none of.
  applier("message:\n  decimal-handling: PRECISE\n");
  int metrics_port = free_port();
  int prom_port = free_port();
  prometheus_server prom(render_config(metrics_port), dir_, prom_port);
  ASSERT_TRUE(wait_until([&] { return prom.ready(); }, 30s))
    << read_text(dir_ + "/prometheus.log");

  // Snapshot, then realtime.
  start("full", {"--metrics", "127.0.0.1:" + std::to_string(metrics_port)});
  int inserted = 0;
  for (int i = 0; i < 20; ++i, ++inserted)
    db.exec("INSERT INTO orders VALUES (" + std::to_string(2000 + inserted) + ", 1)");
  ASSERT_TRUE(wait_entries(stream("orders"), inserted)) << log();
  ASSERT_TRUE(returns_data(prom, "tributary_rows_written_total{phase=\"realtime\"}"))
    << read_text(dir_ + "/prometheus.log");

  EXPECT_TRUE(returns_data(prom, expr_of("TributaryRowsSkipped"))) << log();

  // A lost replication connection is retried.
  db.exec("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" +
          db_ + "' AND active_pid IS NOT NULL");
  ASSERT_TRUE(returns_data(prom, "tributary_retries_total")) << log();
  db.exec("INSERT INTO orders VALUES (" + std::to_string(2000 + inserted++) + ", 1)");
  ASSERT_TRUE(wait_entries(stream("orders"), inserted)) << log();

  // A skipped table: a change that cannot be converted stops rt1 (a NaN
  // under PRECISE decimals), orders goes on.
  db.exec("INSERT INTO rt1 VALUES (2, 'NaN')");
  EXPECT_TRUE(returns_data(prom, expr_of("TributaryTableSkipped"))) << log();

  // A stalled replication: the process stops answering (SIGSTOP) while
  // changes commit. Prometheus sees it down; once no scrape has succeeded
  // for 7 s (the last success came at most a scrape interval before the
  // stop) it goes on, and those changes arrive more than 5 s late. The
  // stall stays under the 10 s run lease, so the run keeps its lease.
  child_->signal(SIGSTOP);
  for (int i = 0; i < 20; ++i, ++inserted)
    db.exec("INSERT INTO orders VALUES (" + std::to_string(2000 + inserted) + ", 1)");
  bool stalled = wait_until([&] {
    return !prom.query("max_over_time(up{job=\"tributary\"}[7s]) == 0").empty();
  }, 30s, 100ms);
  EXPECT_FALSE(prom.query(expr_of("TributaryDown")).empty());
  child_->signal(SIGCONT);
  ASSERT_TRUE(stalled) << read_text(dir_ + "/prometheus.log");
  ASSERT_TRUE(wait_entries(stream("orders"), inserted)) << log();
  EXPECT_TRUE(returns_data(prom, expr_of("TributaryHighLag"))) << log();
  // While the process stood still its slot was not confirmed and the WAL
  // of those changes piled up: the first backlog sample after it went on
  // (taken before the reader reads them) shows it.
  EXPECT_TRUE(returns_data(prom, "max_over_time(tributary_source_backlog_bytes[1m]) > 0")) << log();

  // Checkpoint ages per stream (snapshot and change streams), rows by op,
  // and the process's own resources.
  EXPECT_TRUE(returns_data(prom, "tributary_checkpoint_age_seconds{stream=\"" + stream("orders") +
                                   "\"} >= 0"));
  EXPECT_TRUE(returns_data(prom, "tributary_checkpoint_age_seconds{stream=\"" + db_ +
                                   "_public_orders\"} >= 0"));
  EXPECT_TRUE(returns_data(prom, "tributary_rows_written_total{phase=\"realtime\",op=\"c\"}"));
  EXPECT_TRUE(returns_data(prom, "process_resident_memory_bytes{job=\"tributary\"} > 1e6"));
  EXPECT_TRUE(returns_data(prom, "process_cpu_seconds_total{job=\"tributary\"} > 0"));
  EXPECT_TRUE(returns_data(prom, "process_open_fds{job=\"tributary\"} > 0"));

  // Every panel returns data.
  std::vector<std::pair<std::string, std::string>> exprs;
  panel_exprs(json::parse(read_text(ops_dir() + "/grafana/tributary.json")).at("panels"), exprs);
  ASSERT_GE(exprs.size(), 8u);
  for (const auto& [title, expr] : exprs)
    EXPECT_TRUE(returns_data(prom, expr, 15s)) << "panel '" << title << "': " << expr;

  // Every alert rule was exercised above or is named here with the reason
  // it cannot be; its expression is valid PromQL either way.
  std::set<std::string> fired{"TributaryDown", "TributaryTableSkipped", "TributaryHighLag",
                              "TributaryRowsSkipped"};
  std::map<std::string, std::string> not_exercised{
    // In-doubt entries need an undo that cannot delete after a batch's
    // second write failed; realtime_failures and the writer's undo test
    // provoke their parts, not this run.
    {"TributaryInDoubtEntries", "needs an undo that cannot delete"},
    // More than one retry a second for five minutes: a run that long.
    {"TributaryRetrying", "needs 300 retries within 5 minutes"},
    {"TributarySourceBacklog", "needs 1 GB of unconfirmed WAL for 15 minutes"}};
  auto rules = alerts();
  ASSERT_FALSE(rules.empty());
  for (const auto& a : rules) {
    EXPECT_TRUE(fired.count(a.name) || not_exercised.count(a.name))
      << "alert " << a.name << " is not exercised by this test";
    EXPECT_NO_THROW(prom.query(a.expr)) << a.name;
  }

  // The rows counter equals the entries in the streams (no deletes, so
  // one entry per row).
  long long entries = 0;
  for (const auto& t : {"orders", "rt1"})
    entries += stream_length(*r_, db_ + "_public_" + t) + stream_length(*r_, stream(t));
  EXPECT_EQ(entries, 1000 + 1 + inserted);
  EXPECT_TRUE(wait_until([&] {
    return prom.value("sum(tributary_rows_written_total)") == static_cast<double>(entries);
  }, 15s, 200ms)) << prom.value("sum(tributary_rows_written_total)") << " rows counted, "
                  << entries << " entries";
  EXPECT_EQ(stop(), 3) << log();  // 3: a table was skipped
}
