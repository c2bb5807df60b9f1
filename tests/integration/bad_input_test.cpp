// Bad input through the binary (design sections 1 and 7): each case ends with
// one clear message and the contract's exit code, and leaves no state behind
// that would block the next run.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <sys/mount.h>
#include <unistd.h>

#include "tests/integration/fixture.hpp"
#include "tests/integration/private_redis.hpp"

using namespace trib;
using namespace trib::test;

namespace {

std::string work_dir(const std::string& name) { return fresh_dir("trib_bad_" + name); }

// Few and short retries: the failures below are not transient.
const char* quick_retries = "max-retries: 1\nretry-wait-duration-ms: 10\n";

std::string redis_yaml(int port, const std::string& user = "", const std::string& pw = "") {
  std::string y = "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " + std::to_string(port) + "\n";
  if (!user.empty()) y += "username: " + user + "\npassword: " + pw + "\n";
  return y + quick_retries;
}

std::string pg_yaml(const std::string& db, const std::string& pw) {
  return "type: POSTGRESQL\nhost: 127.0.0.1\nport: " + std::to_string(pg_port()) +
         "\ndatabase: " + db + "\nusername: tributary\npassword: " + pw + "\n" + quick_retries;
}

// The lines of the output that are the final message ("tributary: ..."),
// as opposed to timestamped log lines.
std::vector<std::string> final_lines(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("tributary: ", 0) == 0) out.push_back(line);
  return out;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A Redis ACL user of this test only: it may touch the replication's own
// keys and the stream of table `allowed`, not that of table `denied`.
constexpr const char* skip_user = "trib_bad_skip_user";
constexpr const char* skip_password = "trib_bad_pw";

class bad_input : public ::testing::Test {
protected:
  void SetUp() override {
    r_ = redis();
    clean();
  }
  void TearDown() override {
    clean();
    r_->command({"ACL", "DELUSER", skip_user});
  }
  void clean() {
    delete_keys(*r_, "trib_bad_*");
    delete_keys(*r_, "replicate_io_*_bad_*");
  }
  // No key of replication `id` exists: a failed start leaves nothing behind.
  void expect_no_state(const std::string& id) {
    auto keys = r_->command({"KEYS", "replicate_io_*_" + id});
    EXPECT_TRUE(keys.elements.empty()) << keys.elements.size() << " keys, e.g. "
                                       << keys.elements.at(0).str;
  }
  std::unique_ptr<redis_client> r_;
};

}  // namespace

TEST_F(bad_input, wrong_postgresql_password_is_one_line_naming_the_host) {
  auto dir = work_dir("pw_pg");
  auto src = write_file(dir + "/pg.yaml", pg_yaml("postgres", "not-the-password"));
  auto dst = write_file(dir + "/redis.yaml", redis_yaml(redis_port()));
  auto res = run_tributary("snapshot " + src + " " + dst + " --id bad_pw_pg --data-dir " +
                           dir + "/data");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  auto lines = final_lines(res.output);
  ASSERT_EQ(lines.size(), 1u) << res.output;
  EXPECT_TRUE(has(lines[0], "127.0.0.1:" + std::to_string(pg_port()))) << lines[0];
  EXPECT_TRUE(has(lines[0], "password authentication failed")) << lines[0];
  EXPECT_FALSE(has(res.output, "unexpected")) << res.output;
  expect_no_state("bad_pw_pg");
}

TEST_F(bad_input, wrong_mariadb_password_is_one_line_naming_the_host) {
  auto dir = work_dir("pw_maria");
  auto src = write_file(dir + "/maria.yaml",
                        "type: MARIADB\nhost: 127.0.0.1\nport: " + std::to_string(mariadb_port()) +
                          "\nusername: tributary\npassword: not-the-password\n" + quick_retries);
  auto dst = write_file(dir + "/redis.yaml", redis_yaml(redis_port()));
  auto res = run_tributary("snapshot " + src + " " + dst + " --id bad_pw_maria --data-dir " +
                           dir + "/data");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  auto lines = final_lines(res.output);
  ASSERT_EQ(lines.size(), 1u) << res.output;
  EXPECT_TRUE(has(lines[0], "127.0.0.1:" + std::to_string(mariadb_port()))) << lines[0];
  EXPECT_TRUE(has(lines[0], "Access denied")) << lines[0];
  expect_no_state("bad_pw_maria");
}

TEST_F(bad_input, unreachable_redis_is_a_runtime_failure_naming_it) {
  auto dir = work_dir("redis_down");
  auto src = write_file(dir + "/pg.yaml", pg_yaml("postgres", source_password()));
  auto dst = write_file(dir + "/redis.yaml", redis_yaml(1));
  auto res = run_tributary("snapshot " + src + " " + dst + " --id bad_redis_down --data-dir " +
                           dir + "/data");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  auto lines = final_lines(res.output);
  ASSERT_EQ(lines.size(), 1u) << res.output;
  EXPECT_TRUE(has(lines[0], "redis at 127.0.0.1:1")) << lines[0];
}

TEST_F(bad_input, redis_user_without_access_to_the_checkpoint_stops_naming_the_key) {
  // The servers' ACL user may only touch acl_* keys: the state check is refused.
  auto dir = work_dir("acl_ckpt");
  auto src = write_file(dir + "/pg.yaml", pg_yaml("postgres", source_password()));
  auto dst = write_file(dir + "/redis.yaml",
                        redis_yaml(redis_port(), redis_acl_user(), redis_acl_password()));
  auto res = run_tributary("snapshot " + src + " " + dst + " --id bad_acl_ckpt --data-dir " +
                           dir + "/data");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  auto lines = final_lines(res.output);
  ASSERT_EQ(lines.size(), 1u) << res.output;
  EXPECT_TRUE(has(lines[0], "NOPERM")) << lines[0];
  EXPECT_TRUE(has(lines[0], "replicate_io_checkpoint_default_bad_acl_ckpt")) << lines[0];
}

TEST_F(bad_input, redis_user_without_access_to_one_table_stream_skips_that_table) {
  pg_fresh_database("trib_bad_acl");
  pg_exec("trib_bad_acl",
          "CREATE TABLE allowed(id int PRIMARY KEY); INSERT INTO allowed SELECT generate_series(1, 500);"
          "CREATE TABLE denied(id int PRIMARY KEY); INSERT INTO denied SELECT generate_series(1, 500);");
  auto set = r_->command({"ACL", "SETUSER", skip_user, "reset", "on",
                          std::string(">") + skip_password, "~replicate_io_*_bad_acl_skip",
                          "~trib_bad_acl_public_allowed", "+@all"});
  ASSERT_EQ(set.type, redis_reply::kind::status) << set.str;
  auto dir = work_dir("acl_skip");
  auto src = write_file(dir + "/pg.yaml", pg_yaml("trib_bad_acl", source_password()));
  auto dst = write_file(dir + "/redis.yaml", redis_yaml(redis_port(), skip_user, skip_password));
  auto filter = write_file(dir + "/filter.yaml",
                           "allow:\n- catalog: trib_bad_acl\n  schema: public\n  types: [TABLE]\n");
  auto res = run_tributary("snapshot " + src + " " + dst + " --filter " + filter +
                           " --id bad_acl_skip --data-dir " + dir + "/data");
  EXPECT_EQ(res.exit_code, 3) << res.output;
  EXPECT_EQ(stream_length(*r_, "trib_bad_acl_public_allowed"), 500);
  EXPECT_EQ(stream_length(*r_, "trib_bad_acl_public_denied"), 0);
  EXPECT_TRUE(has(res.output, "skipped  trib_bad_acl.public.denied")) << res.output;
  auto errors = read_text(dir + "/data/bad_acl_skip/error.log");
  EXPECT_TRUE(has(errors, "trib_bad_acl.public.denied")) << errors;
  EXPECT_TRUE(has(errors, "NOPERM")) << errors;
  EXPECT_FALSE(has(errors, "trib_bad_acl.public.allowed")) << errors;
}

TEST_F(bad_input, filter_naming_a_missing_column_is_a_configuration_error) {
  pg_fresh_database("trib_bad_col");
  pg_exec("trib_bad_col", "CREATE TABLE t(id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 2);");
  auto dir = work_dir("col");
  auto src = write_file(dir + "/pg.yaml", pg_yaml("trib_bad_col", source_password()));
  auto dst = write_file(dir + "/redis.yaml", redis_yaml(redis_port()));
  auto filter = write_file(dir + "/filter.yaml",
                           "allow:\n- catalog: trib_bad_col\n  schema: public\n  types: [TABLE]\n"
                           "  allow:\n    t:\n      allow: [id, no_such_column]\n");
  auto res = run_tributary("snapshot " + src + " " + dst + " --filter " + filter +
                           " --id bad_filter_col --data-dir " + dir + "/data");
  EXPECT_EQ(res.exit_code, 2) << res.output;
  auto lines = final_lines(res.output);
  ASSERT_EQ(lines.size(), 1u) << res.output;
  EXPECT_TRUE(has(lines[0], "no_such_column")) << lines[0];
  EXPECT_TRUE(has(lines[0], "trib_bad_col.public.t")) << lines[0];
  EXPECT_EQ(stream_length(*r_, "trib_bad_col_public_t"), 0);
  expect_no_state("bad_filter_col");
}

TEST_F(bad_input, jks_store_is_refused_with_the_keytool_command) {
  auto dir = work_dir("jks");
  auto src = write_file(dir + "/pg.yaml", pg_yaml("postgres", source_password()));
  auto dst = write_file(dir + "/redis.yaml",
                        "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                          std::to_string(redis_tls_port()) +
                          "\nssl:\n  enable: true\n  trust-store:\n    path: " + dir +
                          "/trust.jks\n    password: changeit\n    ssl-store-type: JKS\n");
  auto res = run_tributary("snapshot " + src + " " + dst + " --id bad_jks --data-dir " + dir +
                           "/data");
  EXPECT_EQ(res.exit_code, 2) << res.output;
  auto lines = final_lines(res.output);
  ASSERT_EQ(lines.size(), 1u) << res.output;
  EXPECT_TRUE(has(lines[0], dst)) << lines[0];
  EXPECT_TRUE(has(lines[0], "keytool -importkeystore -srckeystore " + dir + "/trust.jks")) << lines[0];
  EXPECT_TRUE(has(lines[0], "PKCS12")) << lines[0];
  // Refused while validating, before anything connected or was created.
  EXPECT_FALSE(std::filesystem::exists(dir + "/data"));
}

TEST_F(bad_input, id_of_5000_characters_is_a_usage_error_before_anything_is_touched) {
  auto dir = work_dir("long_id");
  auto src = write_file(dir + "/pg.yaml", pg_yaml("postgres", source_password()));
  auto dst = write_file(dir + "/redis.yaml", redis_yaml(redis_port()));
  std::string id(5000, 'x');
  auto res = run_tributary("snapshot " + src + " " + dst + " --id " + id + " --data-dir " + dir +
                           "/data");
  EXPECT_EQ(res.exit_code, 2) << res.output.substr(0, 500);
  auto lines = final_lines(res.output);
  ASSERT_EQ(lines.size(), 1u) << res.output.substr(0, 500);
  EXPECT_TRUE(has(lines[0], "--id is 5000 characters long")) << lines[0].substr(0, 300);
  EXPECT_FALSE(std::filesystem::exists(dir + "/data"));
  expect_no_state(id);
}

TEST_F(bad_input, a_full_disk_under_the_data_dir_is_a_warning_and_exit_1) {
  // A tmpfs of 64 KB, filled up, stands for a full disk; mounting needs root.
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  pg_fresh_database("trib_bad_disk");
  pg_exec("trib_bad_disk", "CREATE TABLE t(id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);");
  auto dir = work_dir("disk");
  auto data = dir + "/data";
  std::filesystem::create_directories(data);
  ASSERT_EQ(mount("tmpfs", data.c_str(), "tmpfs", 0, "size=64k"), 0) << std::strerror(errno);
  struct unmount {
    std::string path;
    ~unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount_at_end{data};
  {
    std::ofstream filler(data + "/filler");
    std::string block(4096, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size())).flush()) {
    }
  }
  auto src = write_file(dir + "/pg.yaml", pg_yaml("trib_bad_disk", source_password()));
  auto dst = write_file(dir + "/redis.yaml", redis_yaml(redis_port()));
  auto filter = write_file(dir + "/filter.yaml",
                           "allow:\n- catalog: trib_bad_disk\n  schema: public\n  types: [TABLE]\n");
  auto res = run_tributary("snapshot " + src + " " + dst + " --filter " + filter +
                           " --id bad_disk --data-dir " + data);
  // The rows are written; what could not be recorded is said, and the exit
  // code says the run was not clean.
  EXPECT_EQ(stream_length(*r_, "trib_bad_disk_public_t"), 2);
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_TRUE(has(res.output, "warning: cannot write " + data + "/bad_disk/trace.log: No space left on device"))
    << res.output;
  EXPECT_FALSE(has(res.output, "wrote the run summary")) << res.output;
  // The exit code is said once it is known, after the summary.
  EXPECT_FALSE(has(res.output, "exit code 0")) << res.output;
  EXPECT_TRUE(has(res.output, "exits with code 1")) << res.output;
  auto lines = final_lines(res.output);
  ASSERT_FALSE(lines.empty()) << res.output;
  EXPECT_TRUE(has(lines.back(), "No space left on device")) << lines.back();
}

TEST_F(bad_input, a_refused_server_certificate_is_not_retried) {
  auto dir = work_dir("cert");
  auto src = write_file(dir + "/pg.yaml", pg_yaml("postgres", source_password()));
  // The client certificate is no CA of the server's: verification fails,
  // and would fail every time.
  auto dst = write_file(dir + "/redis.yaml",
                        "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                          std::to_string(redis_tls_port()) +
                          "\nmax-retries: 3\nretry-wait-duration-ms: 10\nssl:\n  enable: true\n"
                          "  trust-store:\n    path: " + tls_dir() + "/client.crt\n"
                          "    ssl-store-type: PEM\n  key-store:\n    path: [" + tls_dir() +
                          "/client.crt, " + tls_dir() + "/client.key]\n    ssl-store-type: PEM\n");
  auto res = run_tributary("snapshot " + src + " " + dst + " --id bad_cert --data-dir " + dir +
                           "/data");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_FALSE(has(res.output, "retries")) << res.output;
  auto lines = final_lines(res.output);
  ASSERT_EQ(lines.size(), 1u) << res.output;
  EXPECT_TRUE(has(lines[0], "certificate")) << lines[0];
  EXPECT_TRUE(has(lines[0], "127.0.0.1:" + std::to_string(redis_tls_port()))) << lines[0];
}

TEST_F(bad_input, a_plain_connection_file_for_the_tls_port_asks_whether_it_is_one) {
  auto dir = work_dir("plain_tls");
  auto src = write_file(dir + "/pg.yaml", pg_yaml("postgres", source_password()));
  auto dst = write_file(dir + "/redis.yaml", redis_yaml(redis_tls_port()));
  auto res = run_tributary("snapshot " + src + " " + dst + " --id bad_plain_tls --data-dir " +
                           dir + "/data");
  EXPECT_EQ(res.exit_code, 1) << res.output;
  auto lines = final_lines(res.output);
  ASSERT_EQ(lines.size(), 1u) << res.output;
  EXPECT_TRUE(has(lines[0], "is this a TLS port?")) << lines[0];
}

TEST_F(bad_input, a_missing_trust_store_file_is_named_with_the_reason) {
  auto dir = work_dir("no_trust");
  auto src = write_file(dir + "/pg.yaml", pg_yaml("postgres", source_password()));
  auto dst = write_file(dir + "/redis.yaml",
                        "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                          std::to_string(redis_tls_port()) + "\nssl:\n  enable: true\n"
                          "  trust-store:\n    path: " + dir + "/missing-ca.crt\n"
                          "    ssl-store-type: PEM\n");
  auto res = run_tributary("snapshot " + src + " " + dst + " --id bad_no_trust --data-dir " +
                           dir + "/data");
  EXPECT_EQ(res.exit_code, 2) << res.output;
  auto lines = final_lines(res.output);
  ASSERT_EQ(lines.size(), 1u) << res.output;
  EXPECT_TRUE(has(lines[0], dir + "/missing-ca.crt: cannot read the file: No such file or directory"))
    << lines[0];
  EXPECT_FALSE(has(lines[0], "error:")) << lines[0];
}

TEST_F(bad_input, an_entry_over_the_redis_argument_limit_skips_its_row_naming_it) {
  // A server of its own with the smallest limit Redis takes, so that a 1.5
  // MB value passes it.
  private_redis small({"--proto-max-bulk-len", "1mb"});
  pg_fresh_database("trib_bad_big");
  pg_exec("trib_bad_big",
          "CREATE TABLE t(id int PRIMARY KEY, v text);"
          "INSERT INTO t VALUES (1, 'small'), (2, repeat('x', 1500000)), (3, 'small');");
  auto dir = work_dir("big");
  auto src = write_file(dir + "/pg.yaml", pg_yaml("trib_bad_big", source_password()));
  auto dst = write_file(dir + "/redis.yaml", redis_yaml(small.port()));
  auto filter = write_file(dir + "/filter.yaml",
                           "allow:\n- catalog: trib_bad_big\n  schema: public\n  types: [TABLE]\n");
  auto res = run_tributary("snapshot " + src + " " + dst + " --filter " + filter +
                           " --id bad_big --data-dir " + dir + "/data");
  // The other rows are written; the long one could never be, so it is not
  // retried and does not cost the table.
  EXPECT_EQ(res.exit_code, 0) << res.output;
  EXPECT_EQ(stream_length(small.client(), "trib_bad_big_public_t"), 2);
  EXPECT_FALSE(has(res.output, "retries")) << res.output;
  auto errors = read_text(dir + "/data/bad_big/error.log");
  EXPECT_TRUE(has(errors, "skips row 2 of trib_bad_big.public.t")) << errors;
  EXPECT_TRUE(has(errors, "over the 1048576 bytes Redis accepts (proto-max-bulk-len)")) << errors;
}
