// Incremental snapshots on PostgreSQL (docs/incremental-snapshots.md): a
// table added to the filter is snapshotted on --resume while changes flow, a
// signal row snapshots a table without a restart (and again: its rows are
// appended again), and a `full` run killed during its snapshot continues it
// with --resume. A workload of inserts, updates, key updates and deletes runs
// during each; after it, each table rebuilt from its streams equals the
// source, and no change and no snapshot row appears twice in one pass.

#include "tests/integration/realtime_fixture.hpp"

using namespace trib;
using namespace trib::test;

namespace {

/// Random traffic on tables of (id int PRIMARY KEY, v int) whose first
/// `rows` ids exist: inserts, updates, key updates, deletes, multi-row
/// transactions and rolled-back ones, until told to stop.
class workload {
public:
  workload(const std::string& db, std::vector<std::string> tables, int rows, unsigned seed)
    : db_(db), tables_(std::move(tables)), next_id_(rows + 1), rng_(seed) {}

  void run(const std::atomic<bool>& stop) {
    sql c(db_);
    while (!stop) {
      ++rounds;
      int pick = static_cast<int>(rng_() % 10);
      if (pick < 2) {
        c.exec(insert());
      } else if (pick < 4) {
        std::string txn = "BEGIN;";
        int n = 2 + static_cast<int>(rng_() % 8);
        for (int i = 0; i < n; ++i) txn += (rng_() % 2 ? update() : insert()) + ";";
        c.exec(txn + "COMMIT");
      } else if (pick < 6) {
        c.exec(update());
      } else if (pick < 7) {
        c.exec(key_update());
      } else if (pick < 9) {
        c.exec(erase());
      } else {
        // Never committed: must never appear.
        c.exec("BEGIN; UPDATE " + table() + " SET v = -1 WHERE id = " + some_id() + "; ROLLBACK");
      }
    }
  }

  std::atomic<long> rounds{0};

private:
  std::string table() { return tables_[rng_() % tables_.size()]; }
  std::string insert() {
    return "INSERT INTO " + table() + " VALUES (" + std::to_string(next_id_++) + ", " +
           std::to_string(rng_() % 1000) + ")";
  }
  std::string some_id() { return std::to_string(1 + rng_() % static_cast<unsigned>(next_id_)); }
  std::string update() { return "UPDATE " + table() + " SET v = v + 1 WHERE id = " + some_id(); }
  std::string key_update() {
    return "UPDATE " + table() + " SET id = " + std::to_string(next_id_++) +
           " WHERE id = " + some_id();
  }
  std::string erase() { return "DELETE FROM " + table() + " WHERE id = " + some_id(); }

  std::string db_;
  std::vector<std::string> tables_;
  int next_id_;
  std::mt19937 rng_;
};

class incremental : public realtime {
protected:
  void tables(int rows) {
    db_exec("CREATE TABLE x(id int PRIMARY KEY, v int); CREATE TABLE y(id int PRIMARY KEY, v int);"
            "INSERT INTO x SELECT g, g % 1000 FROM generate_series(1, " + std::to_string(rows) +
            ") g; INSERT INTO y SELECT g, g % 997 FROM generate_series(1, " +
            std::to_string(rows) + ") g");
  }
  void db_exec(const std::string& q) { sql(db_).exec(q); }

  void filter(const std::string& tables) {
    write_file(dir_ + "/filter.yaml", "allow:\n- catalog: " + db_ +
                                        "\n  schema: public\n  types: [TABLE]\n  allow: [" +
                                        tables + "]\n");
  }
  // Chunks of `rows` rows: a longer window catches more of the workload's
  // changes inside it.
  void extractor(const std::string& more = "", int rows = 100) {
    write_file(dir_ + "/extractor.yaml",
               "snapshot:\n  fetch-size-rows: " + std::to_string(rows) + "\n" + more);
  }
  std::vector<std::string> files(std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"--extractor", dir_ + "/extractor.yaml", "--filter",
                               dir_ + "/filter.yaml"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::vector<std::vector<std::string>> source_rows(const std::string& table) {
    auto r = sql(db_).rows("SELECT id::text, v::text FROM " + table);
    std::sort(r.begin(), r.end());
    return r;
  }

  // Waits until the table rebuilt from `streams` equals the source (the
  // workload has stopped), then checks it once more.
  void expect_rebuilt(const std::string& table, const std::vector<std::string>& streams) {
    auto source = source_rows(table);
    auto replayed = [&] {
      replay_state st;
      for (const auto& s : streams)
        for (const auto& e : read_stream(*r_, s)) replay_entry(st, e.key, e.value);
      return replay_rows(st.tables[table], {"id", "v"});
    };
    wait_until([&] { return replayed() == source; }, 60s);
    EXPECT_EQ(replayed(), source) << table;
  }

  // No change twice in the stream, and no snapshot row twice in one pass
  // (`passes`: how many snapshots wrote rows into these streams).
  void expect_once(const std::vector<std::string>& streams, int passes = 1) {
    std::map<std::string, int> reads;
    for (const auto& s : streams) {
      std::vector<change> changes_only;
      for (auto& c : changes(s)) {
        if (c.op == "r")
          ++reads[key_payload(c.key)];
        else
          changes_only.push_back(std::move(c));
      }
      expect_each_change_once(changes_only, s);
    }
    size_t over = 0;
    for (const auto& [k, n] : reads)
      if (n > passes) ++over;
    EXPECT_EQ(over, 0u) << "keys with more snapshot rows than passes";
    EXPECT_FALSE(reads.empty());
  }

  size_t count_in_log(const std::string& text) {
    auto log = read_text(dir_ + "/run.log");
    size_t n = 0;
    for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  }
};

}  // namespace

TEST_F(incremental, a_table_added_to_the_filter_is_snapshotted_on_resume_while_changes_flow) {
  use("incr_add");
  tables(3000);
  filter("x");
  extractor("", 700);
  start("realtime", files());
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("workload seed " + std::to_string(seed));
  workload w(db_, {"x", "y"}, 3000, seed);
  std::atomic<bool> stop_writes{false};
  std::thread writer([&] { w.run(stop_writes); });
  ASSERT_TRUE(wait_until([&] { return w.rounds > 200; }, 60s));
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  // y joins the filter; its rows are read in chunks while both tables change.
  filter("x, y");
  start("realtime", files({"--resume"}));
  EXPECT_TRUE(wait_until([&] { return count_in_log("finishes the incremental snapshot of") > 0; },
                         120s))
    << read_text(dir_ + "/run.log");
  stop_writes = true;
  writer.join();
  expect_rebuilt("y", {stream("y")});
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  expect_once({stream("y")});
  // The table's progress committed with its rows, and says done.
  auto progress = command_or_throw(*r_, {"HGET", ckpt(), stream("y")}).str;
  EXPECT_NE(progress.find("\"snapshots\":{\"" + db_ + ".public.y\":{"), std::string::npos)
    << progress;
  EXPECT_NE(progress.find("\"done\":true"), std::string::npos) << progress;
  // x was replicated all along and is not snapshotted.
  for (const auto& c : changes(stream("x"))) EXPECT_NE(c.op, "r");
  EXPECT_GT(w.rounds.load(), 200);
}

TEST_F(incremental, a_signal_snapshots_a_table_without_a_restart_and_again_appends_its_rows) {
  use("incr_signal");
  tables(2000);
  // Made by a DBA beforehand: listed with every table, yet not replicated.
  db_exec("CREATE TABLE signals(id text PRIMARY KEY, type text NOT NULL, data text);"
          "CREATE TABLE replicate_io_cdc_watermark(id text PRIMARY KEY, mark text NOT NULL)");
  extractor("realtime:\n  signal-table:\n    table-name: signals\n", 500);
  // No filter: every table.
  start("realtime", {"--extractor", dir_ + "/extractor.yaml"});
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("workload seed " + std::to_string(seed));
  workload w(db_, {"y"}, 2000, seed);
  std::atomic<bool> stop_writes{false};
  std::thread writer([&] { w.run(stop_writes); });
  auto signal = [&](const std::string& id) {
    db_exec("INSERT INTO signals VALUES ('" + id + "', 'execute-snapshot', "
            "'{\"data-collections\": [\"" + db_ + ".public.y\"]}')");
  };
  signal("s1");
  EXPECT_TRUE(wait_until([&] { return count_in_log("finishes the incremental snapshot of") == 1; },
                         120s))
    << read_text(dir_ + "/run.log");
  signal("s2");
  EXPECT_TRUE(wait_until([&] { return count_in_log("finishes the incremental snapshot of") == 2; },
                         120s))
    << read_text(dir_ + "/run.log");
  stop_writes = true;
  writer.join();
  expect_rebuilt("y", {stream("y")});
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  // Two passes: a key has at most two snapshot rows, and most have two.
  expect_once({stream("y")}, 2);
  size_t reads = 0;
  for (const auto& c : changes(stream("y"))) reads += c.op == "r";
  EXPECT_GT(reads, 2000u);
  // The signal and watermark tables are not replicated, nor is x snapshotted.
  for (const auto& c : changes(stream("x"))) EXPECT_NE(c.op, "r");
  EXPECT_EQ(stream_length(*r_, stream("signals")), 0);
  EXPECT_EQ(stream_length(*r_, stream("replicate_io_cdc_watermark")), 0);
  EXPECT_EQ(read_text(dir_ + "/run.log").find("replicate_io_cdc_watermark"), std::string::npos);
}

TEST_F(incremental, a_full_run_killed_during_its_snapshot_continues_it_with_resume) {
  use("incr_full");
  tables(0);
  db_exec("INSERT INTO y SELECT g, g % 997 FROM generate_series(1, 30000) g");
  filter("x, y");
  extractor();
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  workload w(db_, {"y"}, 30000, seed);
  std::atomic<bool> stop_writes{false};
  std::thread writer([&] { w.run(stop_writes); });
  std::string snap = db_ + "_public_y";
  auto written = [&] { return stream_length(*r_, snap) + stream_length(*r_, stream("y")); };
  std::filesystem::remove(dir_ + "/run.log");
  child_ = std::make_unique<child_process>(args("full", files()), dir_ + "/run.log");
  // Killed during the snapshot, then (resumed incrementally) again.
  for (int kill = 0; kill < 4; ++kill) {
    auto target = written() + 500 + static_cast<long long>(rng() % 4000);
    ASSERT_TRUE(wait_until([&] { return written() >= target || !child_->running(); }, 120s));
    ASSERT_TRUE(child_->running()) << read_text(dir_ + "/run.log");
    child_->kill_now();
    child_ = std::make_unique<child_process>(args("full", files({"--resume"})),
                                             dir_ + "/run.log");
  }
  EXPECT_TRUE(wait_until([&] { return count_in_log("finishes the incremental snapshot of") > 0; },
                         300s))
    << read_text(dir_ + "/run.log");
  stop_writes = true;
  writer.join();
  expect_rebuilt("y", {snap, stream("y")});
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  // Chunks written before a kill are not read again: one snapshot row per
  // key across the snapshot stream and the change stream.
  expect_once({snap, stream("y")});
}
