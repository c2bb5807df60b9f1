// The shipped Prometheus configuration, alert rules and Grafana dashboard
// work against a real Prometheus (Debian's 2.42) scraping a real `full`
// replication from PostgreSQL: every panel's expression returns data, every
// alert rule's expression returns data once its condition holds (a stalled
// replication, a skipped table, ...; prometheus_alerts_test makes the
// others fire), and the rows counter equals the entries in the streams.

#include "tests/integration/prometheus_server.hpp"

using namespace trib;
using namespace trib::test;

namespace {

class prometheus_test : public prometheus_fixture {};

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

  // Every alert rule was exercised above or is named here with the test
  // that makes it fire; its expression is valid PromQL either way.
  std::set<std::string> fired{"TributaryDown", "TributaryTableSkipped", "TributaryHighLag",
                              "TributaryRowsSkipped"};
  // prometheus_alerts_test drives Redis to OOM (retries, an unconfirmed
  // slot) and an undo that cannot delete, with the rules' `for:` shortened.
  std::map<std::string, std::string> fired_elsewhere{
    {"TributaryInDoubtEntries", "prometheus_alerts_test"},
    {"TributaryRetrying", "prometheus_alerts_test"},
    {"TributarySourceBacklog", "prometheus_alerts_test"}};
  auto rules = alerts();
  ASSERT_FALSE(rules.empty());
  for (const auto& a : rules) {
    EXPECT_TRUE(fired.count(a.name) || fired_elsewhere.count(a.name))
      << "alert " << a.name << " is made to fire by no test";
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
