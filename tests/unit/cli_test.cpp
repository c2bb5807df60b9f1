#include <gtest/gtest.h>

#include <cstdio>

#include "actors/tuning.hpp"
#include "messages/failure.hpp"
#include "nodes/cli.hpp"

using namespace trib;

namespace {

std::string error_of(const std::vector<std::string>& args) {
  try {
    parse_command_line(args);
  } catch (const trib::error& e) {
    EXPECT_EQ(e.code(), failure_code::config);
    return e.what();
  }
  return "";
}

}  // namespace

TEST(cli, snapshot_takes_two_files_and_every_option) {
  auto cl = parse_command_line({"snapshot", "src.yaml", "dst.yaml", "--extractor",
                                "ex.yaml", "--applier=ap.yaml", "--filter", "f.yaml",
                                "--id", "r1", "--group", "g1", "--data-dir", "/tmp/d",
                                "--overwrite"});
  EXPECT_EQ(cl.command, "snapshot");
  ASSERT_EQ(cl.files.size(), 2u);
  EXPECT_EQ(cl.files[1], "dst.yaml");
  EXPECT_EQ(cl.extractor, "ex.yaml");
  EXPECT_EQ(cl.applier, "ap.yaml");
  EXPECT_EQ(cl.filter, "f.yaml");
  EXPECT_EQ(cl.id, "r1");
  EXPECT_EQ(cl.group, "g1");
  EXPECT_EQ(cl.data_dir, "/tmp/d");
  EXPECT_TRUE(cl.overwrite);
  EXPECT_FALSE(cl.resume);
}

TEST(cli, defaults_are_the_documented_ones) {
  auto cl = parse_command_line({"full", "a", "b"});
  EXPECT_EQ(cl.id, "default");
  EXPECT_EQ(cl.group, "default");
  EXPECT_EQ(cl.data_dir, "./data");
}

TEST(cli, misspelt_option_gets_a_suggestion) {
  auto msg = error_of({"snapshot", "a", "b", "--extracter", "x"});
  EXPECT_NE(msg.find("unknown option '--extracter'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean '--extractor'"), std::string::npos) << msg;
}

TEST(cli, misspelt_command_gets_a_suggestion) {
  auto msg = error_of({"snapshto", "a", "b"});
  EXPECT_NE(msg.find("did you mean 'snapshot'"), std::string::npos) << msg;
}

TEST(cli, wrong_number_of_files_is_named) {
  auto msg = error_of({"snapshot", "a"});
  EXPECT_NE(msg.find("takes 2 connection files, got 1"), std::string::npos) << msg;
}

TEST(cli, overwrite_and_resume_exclude_each_other) {
  auto msg = error_of({"snapshot", "a", "b", "--overwrite", "--resume"});
  EXPECT_NE(msg.find("exclude each other"), std::string::npos) << msg;
}

TEST(cli, option_without_value_is_an_error) {
  auto msg = error_of({"snapshot", "a", "b", "--id"});
  EXPECT_NE(msg.find("--id needs a value"), std::string::npos) << msg;
}

TEST(cli, fetch_schemas_needs_an_id) {
  auto msg = error_of({"fetch-schemas", "dst.yaml"});
  EXPECT_NE(msg.find("needs --id"), std::string::npos) << msg;
  auto cl = parse_command_line({"fetch-schemas", "dst.yaml", "--id", "x"});
  EXPECT_EQ(cl.id, "x");
}

TEST(cli, id_with_characters_unfit_for_key_names_is_refused) {
  auto msg = error_of({"snapshot", "a", "b", "--id", "a b"});
  EXPECT_NE(msg.find("not a valid --id"), std::string::npos) << msg;
}

TEST(cli, id_or_group_longer_than_the_limit_is_refused_with_both_lengths) {
  auto msg = error_of({"snapshot", "a", "b", "--id", std::string(5000, 'x')});
  EXPECT_NE(msg.find("--id is 5000 characters long: at most 64"), std::string::npos) << msg;
  msg = error_of({"snapshot", "a", "b", "--group", std::string(65, 'g')});
  EXPECT_NE(msg.find("--group is 65 characters long"), std::string::npos) << msg;
  EXPECT_EQ(parse_command_line({"snapshot", "a", "b", "--id", std::string(64, 'x')}).id.size(),
            64u);
}

TEST(cli, help_and_version_win_over_everything_else) {
  EXPECT_EQ(parse_command_line({"snapshot", "--help"}).command, "help");
  EXPECT_EQ(parse_command_line({"--version"}).command, "version");
  EXPECT_EQ(parse_command_line({"--print-tuning"}).command, "print-tuning");
}

// The benchmarks read the tuning constants from the binary (ops/bench/).
TEST(cli, print_tuning_names_every_constant_with_its_value) {
  FILE* p = popen((std::string(TRIB_BINARY) + " --print-tuning").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << out;
  EXPECT_NE(out.find("snapshot_write_bytes " + std::to_string(tuning::snapshot_write_bytes) + "\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("snapshot_writes_in_flight " +
                     std::to_string(tuning::snapshot_writes_in_flight) + "\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("redis_read_timeout_ms " + std::to_string(tuning::redis_read_timeout_ms)),
            std::string::npos) << out;
  // The realtime path's constants too, each once.
  for (auto line : {"change_feed_bytes " + std::to_string(tuning::change_feed_bytes),
                    "change_feed_linger_ms " + std::to_string(tuning::change_feed_linger.count()),
                    "change_feeds_unanswered " + std::to_string(tuning::change_feeds_unanswered),
                    "realtime_memory_budget_bytes " +
                      std::to_string(tuning::realtime_memory_budget_bytes),
                    "realtime_batch_bytes " +
                      std::to_string(tuning::realtime_memory_budget_bytes / 4),
                    "realtime_batches_in_flight " +
                      std::to_string(tuning::realtime_batches_in_flight),
                    "realtime_linger_ms " + std::to_string(tuning::realtime_linger.count()),
                    "realtime_write_bytes " + std::to_string(tuning::realtime_write_bytes),
                    "realtime_writes_in_flight " +
                      std::to_string(tuning::realtime_writes_in_flight),
                    "redis_send_chunk_bytes " + std::to_string(tuning::redis_send_chunk_bytes),
                    "redis_read_buffer_bytes " + std::to_string(tuning::redis_read_buffer_bytes)}) {
    auto at = out.find(line + "\n");
    EXPECT_NE(at, std::string::npos) << line << " missing from\n" << out;
    EXPECT_EQ(out.find(line + "\n", at + 1), std::string::npos) << line << " twice";
  }
}

TEST(cli, stats_takes_the_target_file_an_id_and_json) {
  auto cl = parse_command_line({"stats", "dst.yaml", "--id", "orders", "--json"});
  EXPECT_EQ(cl.command, "stats");
  ASSERT_EQ(cl.files.size(), 1u);
  EXPECT_EQ(cl.id, "orders");
  EXPECT_TRUE(cl.json);
  EXPECT_FALSE(parse_command_line({"stats", "dst.yaml", "--id", "orders"}).json);
}

TEST(cli, stats_needs_an_id_and_json_is_for_stats_only) {
  EXPECT_NE(error_of({"stats", "dst.yaml"}).find("stats needs --id"), std::string::npos);
  EXPECT_NE(error_of({"snapshot", "s.yaml", "d.yaml", "--json"}).find("--json applies to stats"),
            std::string::npos);
  EXPECT_NE(error_of({"stats", "--id", "x"}).find("stats takes 1 connection file"),
            std::string::npos);
}

TEST(cli, test_connection_takes_a_source_or_a_target_or_both) {
  EXPECT_EQ(parse_command_line({"test-connection", "conn.yaml"}).files.size(), 1u);
  auto both = parse_command_line({"test-connection", "src.yaml", "dst.yaml", "--id", "r1"});
  ASSERT_EQ(both.files.size(), 2u);
  EXPECT_EQ(both.id, "r1");
  EXPECT_NE(error_of({"test-connection"}).find("takes 1 connection file, got 0"), std::string::npos);
  EXPECT_NE(error_of({"test-connection", "a", "b", "c"}).find("got 3"), std::string::npos);
}

TEST(cli, coordinator_takes_a_mode_two_files_and_the_node_options) {
  auto cl = parse_command_line({"coordinator", "full", "src.yaml", "dst.yaml", "--listen",
                                "0.0.0.0:58000", "--node-tls", "/etc/n", "--workers", "3",
                                "--join-timeout", "90", "--resume"});
  EXPECT_EQ(cl.command, "coordinator");
  EXPECT_EQ(cl.mode, "full");
  ASSERT_EQ(cl.files.size(), 2u);
  EXPECT_EQ(cl.files[0], "src.yaml");
  EXPECT_EQ(cl.listen, "0.0.0.0:58000");
  EXPECT_EQ(cl.node_tls, "/etc/n");
  EXPECT_EQ(cl.workers, 3u);
  EXPECT_EQ(cl.join_timeout_s, 90);
  EXPECT_TRUE(cl.resume);
  // One worker unless told.
  EXPECT_EQ(parse_command_line({"coordinator", "snapshot", "s", "d", "--listen", "h:1",
                                "--node-tls", "n"})
              .workers,
            1u);
}

TEST(cli, worker_takes_join_and_node_tls_only) {
  auto cl = parse_command_line({"worker", "--join", "coord:58000", "--node-tls", "/etc/n"});
  EXPECT_EQ(cl.command, "worker");
  EXPECT_EQ(cl.join, "coord:58000");
  EXPECT_EQ(cl.node_tls, "/etc/n");
  EXPECT_TRUE(cl.files.empty());
}

TEST(cli, node_commands_name_what_is_missing_or_misplaced) {
  EXPECT_NE(error_of({"coordinator", "src.yaml", "dst.yaml", "--listen", "h:1", "--node-tls", "n"})
              .find("coordinator takes a mode first (snapshot, realtime or full), got 'src.yaml'"),
            std::string::npos);
  EXPECT_NE(error_of({"coordinator", "full", "s", "d", "--node-tls", "n"})
              .find("coordinator needs --listen HOST:PORT"),
            std::string::npos);
  EXPECT_NE(error_of({"coordinator", "full", "s", "d", "--listen", "h:1"})
              .find("coordinator needs --node-tls DIR"),
            std::string::npos);
  EXPECT_NE(error_of({"worker", "--join", "h:1"}).find("worker needs --node-tls DIR"),
            std::string::npos);
  EXPECT_NE(error_of({"coordinator", "full", "s", "d", "--listen", "h:1", "--node-tls", "n",
                      "--workers", "0"})
              .find("--workers wants a whole number from 1 to 1000, got '0'"),
            std::string::npos);
  EXPECT_NE(error_of({"worker", "--join", "h:1", "--node-tls", "n", "--join-timeout", "5s"})
              .find("--join-timeout wants a whole number"),
            std::string::npos);
  EXPECT_NE(error_of({"snapshot", "s", "d", "--workers", "2"})
              .find("--workers applies to coordinator only"),
            std::string::npos);
  EXPECT_NE(error_of({"snapshot", "s", "d", "--node-tls", "n"})
              .find("--node-tls applies to coordinator and worker only"),
            std::string::npos);
  EXPECT_NE(error_of({"coordinator", "full", "s", "d", "--listen", "h:1", "--node-tls", "n",
                      "--join", "h:2"})
              .find("--join applies to worker only"),
            std::string::npos);
}
