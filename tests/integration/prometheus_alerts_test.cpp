// The shipped alert rules fire under the conditions they describe, in a real
// Prometheus (Debian's 2.42) scraping a real realtime replication
// (issue 15, point 1). The rules are the shipped ones, copied with their
// `for:` shortened to 2 s and, where a condition cannot last minutes in a
// test, a shorter window or a lower threshold; the expressions are
// otherwise as shipped. Each alert is checked inactive before its condition
// is brought about, then firing.

#include <cstdlib>

#include "tests/integration/private_redis.hpp"
#include "tests/integration/prometheus_server.hpp"

using namespace trib;
using namespace trib::test;

namespace {

class prometheus_alerts : public prometheus_fixture {
protected:
  std::string user() { return "trib_alerts_" + name_; }
  std::string error_log() { return read_text(dir_ + "/data/" + id_ + "/error.log"); }

  /// Whether Prometheus reports `alert` firing within the deadline.
  bool fires(prometheus_server& p, const std::string& alert, std::chrono::milliseconds d = 60s) {
    return wait_until([&] { return p.alert_state(alert) == "firing"; }, d, 200ms);
  }
};

}  // namespace

TEST_F(prometheus_alerts, retrying_source_backlog_and_in_doubt_alerts_fire) {
  ASSERT_TRUE(std::filesystem::exists(prometheus_bin))
    << prometheus_bin << " is missing: run ops/install.sh (Debian package prometheus)";
  use("alerts");
  // A Redis of the test's own: it is driven to maxmemory (noeviction).
  private_redis server({"--maxmemory-policy", "noeviction"});
  auto admin = server.connect();
  ASSERT_EQ(admin->command({"ACL", "SETUSER", user(), "reset", "on", ">pw", "~*", "&*", "+@all"}).str,
            "OK");
  // No pause before maxmemory (memory-threshold-percentage 0): writes meet
  // OOM and are retried, many times (max-retries 30, from 100 ms).
  write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                   std::to_string(server.port()) + "\nusername: " + user() +
                                   "\npassword: pw\nmax-retries: 30\nretry-wait-duration-ms: 100\n"
                                   "memory-threshold-percentage: 0\n");
  // One change per write: a transaction of two rows is a batch of two
  // writes (the in-doubt case below).
  applier("realtime:\n  batch-size-rows: 1\n");
  sql db(db_);
  db.exec("CREATE TABLE a(id int PRIMARY KEY); CREATE TABLE ok(id int PRIMARY KEY, pad text)");

  rule_rewrite rw;
  // More than one retry a second for 5 minutes, shipped; here more than
  // one in 10 s over 30 s.
  rw.edits["TributaryRetrying"] = {{"[5m]", "[30s]"}, {"> 1", "> 0.1"}};
  // 1 GB of change log for 15 minutes, shipped; here 1 MB.
  rw.edits["TributarySourceBacklog"] = {{"> 1e9", "> 1e6"}};
  int metrics_port = free_port();
  int prom_port = free_port();
  prometheus_server prom(render_config(metrics_port, &rw), dir_, prom_port);
  ASSERT_TRUE(wait_until([&] { return prom.ready(); }, 30s))
    << read_text(dir_ + "/prometheus.log");

  start("realtime", {"--metrics", "127.0.0.1:" + std::to_string(metrics_port)});
  r_ = server.connect();
  db.exec("INSERT INTO a VALUES (1)");
  db.exec("INSERT INTO ok VALUES (1, 'x')");
  ASSERT_TRUE(wait_entries(stream("a"), 1)) << log();
  ASSERT_TRUE(wait_entries(stream("ok"), 1)) << log();
  ASSERT_TRUE(returns_data(prom, "tributary_rows_written_total{phase=\"realtime\"}"))
    << read_text(dir_ + "/prometheus.log");
  ASSERT_TRUE(returns_data(prom, "tributary_source_backlog_bytes")) << log();
  for (const auto* alert : {"TributaryRetrying", "TributarySourceBacklog", "TributaryInDoubtEntries"})
    EXPECT_EQ(prom.alert_state(alert), "") << alert << " is active before its condition";

  // Redis refuses writes (OOM, retryable) while the source writes about
  // 5 MB of WAL: the writes are retried, and the slot is not confirmed.
  ASSERT_EQ(admin->command({"SET", "ballast", std::string(8u << 20, 'x')}).str, "OK");
  ASSERT_EQ(admin->command({"CONFIG", "SET", "maxmemory", "4mb"}).str, "OK");
  // Fifty transactions: the slot's confirmed position may lie inside the
  // one being decoded while the run is idle (PostgreSQL sends a transaction
  // whose commit is at or after it again), so one big transaction could
  // leave the backlog small; the ones after it count in full.
  for (int t = 0; t < 50; ++t)
    db.exec("INSERT INTO ok SELECT g, repeat('x', 1000) FROM generate_series(" +
            std::to_string(2 + t * 100) + ", " + std::to_string(101 + t * 100) + ") g");
  EXPECT_TRUE(fires(prom, "TributaryRetrying")) << log();
  EXPECT_TRUE(fires(prom, "TributarySourceBacklog"))
    << "backlog at most " << prom.value("max_over_time(tributary_source_backlog_bytes[2m])")
    << " bytes; the slot's current and confirmed positions: "
    << sql("postgres").rows("SELECT pg_current_wal_lsn()::text || ' ' || "
                            "confirmed_flush_lsn::text FROM pg_replication_slots "
                            "WHERE slot_name = '" + db_ + "'")[0][0]
    << "\n" << log();
  EXPECT_NE(error_log().find("OOM"), std::string::npos) << error_log();

  // Memory freed: every row arrives, the slot is confirmed, and the backlog
  // alert resolves.
  admin->command({"DEL", "ballast"});
  ASSERT_EQ(admin->command({"CONFIG", "SET", "maxmemory", "0"}).str, "OK");
  ASSERT_TRUE(wait_entries(stream("ok"), 5001, 120s)) << log();
  EXPECT_TRUE(wait_until([&] { return prom.alert_state("TributarySourceBacklog").empty(); }, 60s,
                         200ms))
    << "the backlog alert still fires after the backlog was written";

  // An undo that cannot delete (the scenario of realtime_failures): the
  // stream of `a` takes one more entry and refuses the next for good, and
  // XDEL is taken from the run's user.
  EXPECT_EQ(prom.alert_state("TributaryInDoubtEntries"), "");
  ASSERT_EQ(admin->command({"XSETID", stream("a"), "18446744073709551615-18446744073709551614"}).str,
            "OK");
  ASSERT_EQ(admin->command({"ACL", "SETUSER", user(), "-xdel"}).str, "OK");
  db.exec("INSERT INTO a VALUES (2), (3)");
  EXPECT_TRUE(fires(prom, "TributaryInDoubtEntries")) << log();
  EXPECT_EQ(prom.value("sum(tributary_indoubt_entries_total)"), 1.0);
  EXPECT_EQ(stop(), 3) << log();
  EXPECT_EQ(last_summary().at("in_doubt_entries").to_number<int64_t>(), 1)
    << json::serialize(last_summary());
  r_.reset();
}
