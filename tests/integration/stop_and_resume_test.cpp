// Stopping a run and resuming it (docs/guarantees.md, docs/failures.md): SIGTERM
// or SIGINT during a snapshot stops reading, lets what is in flight commit,
// writes the run summary and exits 128 + the signal within seconds; `--resume`
// then finishes with every row exactly once. A table dropped between an
// interrupted run and its `--resume` is named as skipped (exit 3).

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <iostream>

#include <boost/json.hpp>

#include "tests/integration/fixture.hpp"

using namespace trib;
using namespace trib::test;
namespace json = boost::json;

namespace {

// The files of one replication: source, target, applier, filter, data dir.
struct setup {
  std::string dir, src, dst, applier, filter, id;

  std::vector<std::string> args(const std::string& mode, const std::string& flag = "") const {
    std::vector<std::string> a{mode,     src, dst,  "--applier", applier, "--filter",
                               filter,   "--id", id, "--data-dir", dir + "/data"};
    if (!flag.empty()) a.push_back(flag);
    return a;
  }
  std::string line(const std::string& mode, const std::string& flag = "") const {
    std::string out;
    for (const auto& a : args(mode, flag)) out += (out.empty() ? "" : " ") + a;
    return out;
  }
  std::string data() const { return dir + "/data/" + id; }
};

void delete_keys_of(redis_client& r, const std::string& name) {
  delete_keys(r, "trib_sr_" + name + "*");
  delete_keys(r, "replicate_io_*_sr_" + name);
}

// Payloads only and small batches: many commits, each a moment a signal
// can land between.
setup make_setup(const std::string& name, const std::string& source_yaml,
                 const std::string& filter_yaml) {
  delete_keys_of(*redis(), name);
  setup s;
  s.dir = fresh_dir("trib_sr_" + name);
  s.id = "sr_" + name;
  s.src = write_file(s.dir + "/src.yaml", source_yaml);
  s.dst = redis_conn(s.dir);
  s.applier = write_file(s.dir + "/applier.yaml",
                         "snapshot:\n  batch-size-rows: 1000\nmessage:\n  include-schema: false\n");
  s.filter = write_file(s.dir + "/filter.yaml", filter_yaml);
  return s;
}

// Entries of a stream and how many different `id` key values (1..rows) they
// carry; paged, so that large streams never sit in memory at once.
struct census {
  long long entries = 0;
  long long distinct = 0;
  long long out_of_range = 0;
};

census count_ids(redis_client& r, const std::string& stream, long long rows) {
  census c;
  std::vector<bool> seen(static_cast<size_t>(rows) + 1, false);
  std::string from = "-";
  for (;;) {
    auto reply = r.command({"XRANGE", stream, from, "+", "COUNT", "20000"});
    if (reply.type != redis_reply::kind::array) throw std::runtime_error(reply.str);
    if (reply.elements.empty()) break;
    for (const auto& e : reply.elements) {
      ++c.entries;
      const auto& f = e.elements.at(1).elements;
      for (size_t i = 0; i + 1 < f.size(); i += 2) {
        if (f[i].str != "key") continue;
        long long n = json::parse(f[i + 1].str).at("id").to_number<long long>();
        if (n < 1 || n > rows) ++c.out_of_range;
        else if (!seen[static_cast<size_t>(n)]) {
          seen[static_cast<size_t>(n)] = true;
          ++c.distinct;
        }
      }
    }
    from = "(" + reply.elements.back().elements.at(0).str;
  }
  return c;
}

// Once `stream` holds at least `at` entries, sends `sig` while Redis holds
// writes (so a fast run cannot race past the point, and the signal lands
// while a MULTI/EXEC waits). False when the run ended before that point.
bool signal_when(child_process& p, redis_client& r, const std::string& stream, long long at,
                 int sig, const std::string& log) {
  bool ended = false;
  bool reached = wait_until(
    [&] {
      r.command({"CLIENT", "PAUSE", "5000", "WRITE"});
      bool there = stream_length(r, stream) >= at;
      if (there) p.signal(sig);
      r.command({"CLIENT", "UNPAUSE"});
      ended = !there && !p.running();
      return there || ended;
    },
    std::chrono::seconds(60), std::chrono::milliseconds(2));
  if (ended) {
    ADD_FAILURE() << "the run ended (exit " << p.wait() << ") before " << stream << " reached "
                  << at << " entries: " << read_text(log);
    return false;
  }
  if (!reached) {
    ADD_FAILURE() << stream << " did not reach " << at << " entries: " << read_text(log);
    return false;
  }
  return true;
}

// The run ends by itself (no kill) within `deadline` of the signal, and its
// exit code.
int exit_within(child_process& p, std::chrono::seconds deadline, const std::string& log) {
  bool ended = wait_until([&] { return !p.running(); }, deadline);
  EXPECT_TRUE(ended) << "still running " << deadline.count() << " s after the signal: "
                     << read_text(log);
  if (!ended) p.kill_now();
  EXPECT_FALSE(p.killed()) << read_text(log);
  return p.wait();
}

// The newest run summary of a data dir, parsed (null when there is none).
json::value last_summary(const setup& s) {
  auto texts = run_summaries(s.data());
  if (texts.empty()) return nullptr;
  return json::parse(texts.back());
}

// Stops a snapshot of `rows` rows with `sig` once a fifth of it is written,
// checks the stop, then resumes and checks every row is there once.
void stop_and_resume(const setup& s, redis_client& r, const std::string& stream,
                     long long rows, int sig, const std::string& name) {
  auto log = s.dir + "/run.log";
  {
    child_process p(s.args("snapshot"), log);
    ASSERT_TRUE(signal_when(p, r, stream, rows / 5, sig, log));
    int code = exit_within(p, std::chrono::seconds(20), log);
    EXPECT_EQ(code, 128 + sig) << read_text(log);
  }
  long long written = stream_length(r, stream);
  std::cout << "stopped at " << written << " of " << rows << " entries\n";
  EXPECT_LT(written, rows) << "stopped after the end";
  // What was written is whole: no entry twice, nothing out of the table.
  auto before = count_ids(r, stream, rows);
  EXPECT_EQ(before.distinct, before.entries);
  EXPECT_EQ(before.out_of_range, 0);

  auto summary = last_summary(s);
  ASSERT_TRUE(summary.is_object()) << "no run summary in " << s.data();
  EXPECT_EQ(summary.at("exit_code").to_number<int>(), 128 + sig) << summary;
  EXPECT_EQ(summary.at("stopped_by"), json::value(name)) << summary;
  EXPECT_EQ(summary.at("tables").at(0).at("finished"), json::value(false)) << summary;
  auto output = read_text(log);
  EXPECT_NE(output.find("--resume"), std::string::npos) << output;
  EXPECT_NE(read_text(s.data() + "/trace.log").find("stops reading"), std::string::npos);

  auto res = run_tributary(s.line("snapshot", "--resume"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto after = count_ids(r, stream, rows);
  EXPECT_EQ(after.entries, rows);
  EXPECT_EQ(after.distinct, rows);
  EXPECT_EQ(after.out_of_range, 0);
}

class stop_and_resume_test : public ::testing::Test {
protected:
  void SetUp() override { r_ = redis(); }
  std::unique_ptr<redis_client> r_;
};

}  // namespace

TEST_F(stop_and_resume_test, sigterm_stops_a_postgresql_snapshot_that_resume_finishes_once) {
  constexpr long long rows = 400000;
  pg_fresh_database("trib_sr_pg");
  pg_exec("trib_sr_pg",
          "CREATE TABLE big(id bigint PRIMARY KEY, note text);"
          "INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, " +
            std::to_string(rows) + ") g; ANALYZE big;");
  auto s = make_setup("pg", pg_source("trib_sr_pg"),
                      "allow:\n- catalog: trib_sr_pg\n  schema: public\n  types: [TABLE]\n");
  stop_and_resume(s, *r_, "trib_sr_pg_public_big", rows, SIGTERM, "SIGTERM");
  delete_keys_of(*r_, "pg");
}

TEST_F(stop_and_resume_test, sigint_stops_a_mariadb_snapshot_that_resume_finishes_once) {
  constexpr long long rows = 400000;
  maria_exec("DROP DATABASE IF EXISTS trib_sr_maria; CREATE DATABASE trib_sr_maria;"
             "CREATE TABLE trib_sr_maria.big(id bigint PRIMARY KEY, note varchar(20));"
             "INSERT INTO trib_sr_maria.big SELECT seq, CONCAT('row ', seq) "
             "FROM trib_sr_maria.seq_1_to_" + std::to_string(rows) + ";");
  auto s = make_setup("maria", maria_source(), "allow:\n- catalog: trib_sr_maria\n  types: [TABLE]\n");
  stop_and_resume(s, *r_, "trib_sr_maria_big", rows, SIGINT, "SIGINT");
  delete_keys_of(*r_, "maria");
}

TEST_F(stop_and_resume_test, sigterm_stops_the_snapshot_of_full_and_says_how_to_go_on) {
  constexpr long long rows = 400000;
  auto drop_slot = [] {
    pg_exec("postgres", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                        "WHERE slot_name = 'tributary_default_sr_full'");
  };
  drop_slot();  // a slot of a failed earlier run would block DROP DATABASE
  pg_fresh_database("trib_sr_full");
  pg_exec("trib_sr_full",
          "CREATE TABLE big(id bigint PRIMARY KEY, note text);"
          "INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, " +
            std::to_string(rows) + ") g; ANALYZE big;");
  auto s = make_setup("full", pg_source("trib_sr_full"),
                      "allow:\n- catalog: trib_sr_full\n  schema: public\n  types: [TABLE]\n");
  const std::string stream = "trib_sr_full_public_big";
  auto log = s.dir + "/run.log";
  {
    child_process p(s.args("full"), log);
    ASSERT_TRUE(signal_when(p, *r_, stream, rows / 5, SIGTERM, log));
    EXPECT_EQ(exit_within(p, std::chrono::seconds(20), log), 143) << read_text(log);
  }
  EXPECT_LT(stream_length(*r_, stream), rows);
  auto summary = last_summary(s);
  ASSERT_TRUE(summary.is_object()) << "no run summary in " << s.data();
  EXPECT_EQ(summary.at("exit_code").to_number<int>(), 143) << summary;
  EXPECT_EQ(summary.at("stopped_by"), json::value("SIGTERM")) << summary;
  // --resume would read the rest incrementally while changes stream
  // (incremental_snapshot_test); --overwrite copies every row once.
  EXPECT_NE(read_text(log).find("--resume"), std::string::npos) << read_text(log);
  auto res = run_tributary(s.line("full", "--overwrite") + " --terminate-post-snapshot");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto c = count_ids(*r_, stream, rows);
  EXPECT_EQ(c.entries, rows);
  EXPECT_EQ(c.distinct, rows);
  drop_slot();
  delete_keys_of(*r_, "full");
}

TEST_F(stop_and_resume_test, a_table_dropped_before_resume_is_named_as_skipped_with_exit_3) {
  constexpr long long rows = 400000;
  pg_fresh_database("trib_sr_drop");
  pg_exec("trib_sr_drop",
          "CREATE TABLE big(id bigint PRIMARY KEY, note text);"
          "INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, " +
            std::to_string(rows) + ") g; ANALYZE big;"
            "CREATE TABLE small(id int PRIMARY KEY); INSERT INTO small VALUES (1), (2);");
  auto s = make_setup("drop", pg_source("trib_sr_drop"),
                      "allow:\n- catalog: trib_sr_drop\n  schema: public\n  types: [TABLE]\n");
  const std::string stream = "trib_sr_drop_public_big";
  auto log = s.dir + "/run.log";
  {
    child_process p(s.args("snapshot"), log);
    ASSERT_TRUE(signal_when(p, *r_, stream, rows / 5, SIGKILL, log));
    p.wait();
  }
  long long left = stream_length(*r_, stream);
  ASSERT_LT(left, rows);
  pg_exec("trib_sr_drop", "DROP TABLE big");

  auto res = run_tributary(s.line("snapshot", "--resume"));
  EXPECT_EQ(res.exit_code, 3) << res.output;
  EXPECT_NE(res.output.find("skipped  trib_sr_drop.public.big"), std::string::npos)
    << res.output;
  auto errors = read_text(s.data() + "/error.log");
  EXPECT_NE(errors.find("trib_sr_drop.public.big"), std::string::npos) << errors;
  EXPECT_NE(errors.find("no longer has this table"), std::string::npos) << errors;
  auto summary = last_summary(s);
  ASSERT_TRUE(summary.is_object());
  EXPECT_EQ(summary.at("exit_code").to_number<int>(), 3) << summary;
  const auto& skipped = summary.at("skipped").as_array();
  ASSERT_EQ(skipped.size(), 1u) << summary;
  EXPECT_EQ(skipped[0].at("table"), json::value("trib_sr_drop.public.big")) << summary;
  EXPECT_NE(json::value_to<std::string>(skipped[0].at("reason"))
              .find(std::to_string(left) + " entries"),
            std::string::npos)
    << summary;
  // The stream is left as it was, for the operator to judge.
  EXPECT_EQ(stream_length(*r_, stream), left);
  delete_keys_of(*r_, "drop");
}

TEST_F(stop_and_resume_test, a_second_signal_ends_a_run_that_is_waiting_to_retry) {
  // Redis is unreachable and the run waits a minute before its retry: the
  // first SIGTERM asks for a stop the setup does not see yet; the next one
  // ends the process at once.
  auto dir = fresh_dir("trib_sr_second");
  auto src = write_file(dir + "/pg.yaml", pg_source("postgres"));
  auto dst = write_file(dir + "/redis.yaml",
                        "type: REDIS_STREAM\nhost: 127.0.0.1\nport: 1\nmax-retries: 3\n"
                        "retry-wait-duration-ms: 60000\n");
  auto log = dir + "/run.log";
  child_process p({"snapshot", src, dst, "--id", "sr_second", "--data-dir", dir + "/data"}, log);
  ASSERT_TRUE(wait_until([&] { return read_text(log).find("retries") != std::string::npos; }))
    << read_text(log);
  bool ended = wait_until([&] {
    p.signal(SIGTERM);
    return !p.running();
  }, std::chrono::seconds(10));
  EXPECT_TRUE(ended) << read_text(log);
  if (!ended) p.kill_now();
  EXPECT_TRUE(p.killed());
  EXPECT_EQ(p.wait(), 143);
}
