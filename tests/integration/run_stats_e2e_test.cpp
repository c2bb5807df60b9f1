// Run statistics end to end: a `full` run from PostgreSQL (snapshot, then
// inserts, updates and deletes), then `tributary stats` prints per table the
// counts that equal what the streams hold, in Redis and in
// data/<id>/stats.json; a resumed run adds to them.

#include "tests/integration/realtime_fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

struct op_counts {
  long long snapshot = 0, inserts = 0, updates = 0, deletes = 0;
};

class run_stats_e2e : public realtime {
protected:
  /// What the streams of `table` hold.
  op_counts in_streams(const std::string& table) {
    op_counts c;
    c.snapshot = stream_length(*r_, db_ + "_public_" + table);
    for (const auto& ch : changes(stream(table))) {
      if (ch.op == "c") ++c.inserts;
      else if (ch.op == "u") ++c.updates;
      else if (ch.op == "d") ++c.deletes;
    }
    return c;
  }

  /// `tributary stats --json`'s tables, by name.
  std::map<std::string, json::object> stats_json() {
    auto r = run_tributary("stats " + dir_ + "/dst.yaml --id " + id_ + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::map<std::string, json::object> out;
    auto v = json::parse(r.output);
    for (const auto& t : v.at("tables").as_array())
      out[std::string(t.at("table").as_string())] = t.as_object();
    return out;
  }

  void expect_counts(const json::object& o, const op_counts& want, const std::string& table) {
    EXPECT_EQ(o.at("snapshot_rows").to_number<long long>(), want.snapshot) << table;
    EXPECT_EQ(o.at("inserts").to_number<long long>(), want.inserts) << table;
    EXPECT_EQ(o.at("updates").to_number<long long>(), want.updates) << table;
    EXPECT_EQ(o.at("deletes").to_number<long long>(), want.deletes) << table;
  }

  std::string log() { return read_text(dir_ + "/run.log"); }
};

}  // namespace

TEST_F(run_stats_e2e, stats_equal_the_streams_after_a_snapshot_and_changes) {
  use("stats");
  sql db(db_);
  db.exec("CREATE TABLE orders(id int PRIMARY KEY, v int);"
          "INSERT INTO orders SELECT g, g FROM generate_series(1, 300) g;"
          "CREATE TABLE region(id int PRIMARY KEY, name text);"
          "INSERT INTO region SELECT g, 'r' || g FROM generate_series(1, 5) g");
  start("full");
  db.exec("INSERT INTO orders SELECT g, g FROM generate_series(1001, 1010) g");
  db.exec("UPDATE orders SET v = -v WHERE id <= 4");
  db.exec("DELETE FROM orders WHERE id BETWEEN 5 AND 7");
  db.exec("UPDATE region SET name = 'north' WHERE id = 1");
  // 17 changes, and a tombstone after each delete.
  ASSERT_TRUE(wait_entries(stream("orders"), 20)) << log();
  ASSERT_TRUE(wait_entries(stream("region"), 1)) << log();
  EXPECT_EQ(stop(), 0) << log();

  auto orders = in_streams("orders");
  auto region = in_streams("region");
  ASSERT_EQ(orders.snapshot, 300);
  ASSERT_EQ(orders.inserts + orders.updates + orders.deletes, 17);
  auto stats = stats_json();
  std::string o = db_ + ".public.orders", r = db_ + ".public.region";
  ASSERT_EQ(stats.count(o), 1u) << "no statistics for " << o;
  ASSERT_EQ(stats.count(r), 1u) << "no statistics for " << r;
  expect_counts(stats[o], orders, o);
  expect_counts(stats[r], region, r);
  EXPECT_FALSE(stats[o].at("start").is_null());
  EXPECT_FALSE(stats[o].at("end").is_null());
  EXPECT_GE(stats[o].at("elapsed_ms").to_number<long long>(), 0);
  EXPECT_FALSE(stats[o].at("lag_ms").is_null()) << "realtime writes carry the commit time";

  // The same statistics in data/<id>/stats.json.
  auto file = read_text(dir_ + "/data/" + id_ + "/stats.json");
  ASSERT_FALSE(file.empty());
  std::map<std::string, json::object> from_file;
  auto v = json::parse(file);
  for (const auto& t : v.at("tables").as_array())
    from_file[std::string(t.at("table").as_string())] = t.as_object();
  EXPECT_EQ(from_file, stats);

  // The table for people.
  auto table = run_tributary("stats " + dir_ + "/dst.yaml --id " + id_);
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("snapshot rows  inserts  updates  deletes"), std::string::npos)
    << table.output;
  EXPECT_NE(table.output.find(o + "            300       10        4        3"), std::string::npos)
    << table.output;

  // A resumed run adds to them.
  start("full", {"--resume"});
  db.exec("INSERT INTO orders VALUES (2001, 1), (2002, 2)");
  ASSERT_TRUE(wait_entries(stream("orders"), 22)) << log();
  EXPECT_EQ(stop(), 0) << log();
  stats = stats_json();
  expect_counts(stats[o], in_streams("orders"), o);
  EXPECT_EQ(stats[o].at("inserts").to_number<long long>(), 12);

  // --overwrite starts them over with the streams.
  start("full", {"--overwrite"});
  EXPECT_EQ(stop(), 0) << log();
  stats = stats_json();
  auto fresh = in_streams("orders");
  EXPECT_EQ(fresh.snapshot, 309);  // 300 + 12 inserted - 3 deleted
  expect_counts(stats[o], fresh, o);
  EXPECT_EQ(stats[o].at("inserts").to_number<long long>(), 0);

}

TEST_F(run_stats_e2e, a_replication_without_statistics_is_named) {
  use("nostats");
  auto r = run_tributary("stats " + dir_ + "/dst.yaml --id " + id_);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no run statistics in replicate_io_stats_default_" + id_),
            std::string::npos)
    << r.output;
}
