// The pure parts of the binlog client and the settings check: where a stream
// starts, which server id it registers with, and what a server lacks.

#include <gtest/gtest.h>

#include <functional>

#include "actors/source/binlog_client.hpp"
#include "actors/source/binlog_settings.hpp"
#include "messages/failure.hpp"

namespace trib {
namespace {

failure_code code_of(const std::function<void()>& f, std::string* what = nullptr) {
  try {
    f();
  } catch (const error& e) {
    if (what) *what = e.what();
    return e.code();
  }
  ADD_FAILURE() << "no error thrown";
  return failure_code::internal;
}

TEST(binlog_start, a_gtid_start_position_starts_after_that_gtid) {
  start_position_config cfg;
  cfg.gtid = "0-1-35,2-7-9";
  auto s = binlog_start_from(cfg);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->gtid, "0-1-35,2-7-9");
  EXPECT_EQ(to_string(*s), "gtid 0-1-35,2-7-9");
}

TEST(binlog_start, a_log_start_position_keeps_its_file_and_offset) {
  start_position_config cfg;
  cfg.log = "mysql-bin.000042";
  cfg.position = 1337;
  auto s = binlog_start_from(cfg);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->gtid.empty());
  EXPECT_EQ(to_string(*s), "mysql-bin.000042:1337");
}

TEST(binlog_start, an_offset_inside_the_magic_number_means_the_first_event) {
  start_position_config cfg;
  cfg.log = "mysql-bin.000001";
  cfg.position = 0;
  EXPECT_EQ(binlog_start_from(cfg)->pos, 4u);
}

TEST(binlog_start, an_lsn_or_nothing_is_no_binlog_start) {
  start_position_config cfg;
  EXPECT_FALSE(binlog_start_from(cfg));
  cfg.lsn = "0/16B3748";
  EXPECT_FALSE(binlog_start_from(cfg));
}

TEST(binlog_start, a_malformed_gtid_is_a_config_error_that_shows_the_form) {
  start_position_config cfg;
  cfg.gtid = "0-1";
  std::string what;
  EXPECT_EQ(code_of([&] { binlog_start_from(cfg); }, &what), failure_code::config);
  EXPECT_NE(what.find("'0-1'"), std::string::npos) << what;
  EXPECT_NE(what.find("domain-server-sequence"), std::string::npos) << what;
}

TEST(binlog_start, a_mysql_gtid_start_takes_a_gtid_set_and_refuses_a_mariadb_list) {
  start_position_config cfg;
  cfg.gtid = "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7";
  auto s = binlog_start_from(cfg, source_kind::mysql);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->gtid, cfg.gtid);
  // The same text is no MariaDB list, and a MariaDB list no MySQL set.
  EXPECT_EQ(code_of([&] { binlog_start_from(cfg, source_kind::mariadb); }), failure_code::config);
  cfg.gtid = "0-1-35";
  std::string what;
  EXPECT_EQ(code_of([&] { binlog_start_from(cfg, source_kind::mysql); }, &what),
            failure_code::config);
  EXPECT_NE(what.find("not a MySQL GTID set"), std::string::npos) << what;
}

// COM_BINLOG_DUMP_GTID as MySQL's client/server protocol documents it
// (com_binlog_dump_gtid): [1e] command, flags(2), server-id(4),
// binlog-filename-len(4), binlog-filename, binlog-pos(8), then, with flag
// BINLOG_THROUGH_GTID (4), data-size(4) and the SID block: n_sids(8), per
// SID its 16 bytes, n_intervals(8) and each interval start(8), end(8)
// (end exclusive). All little-endian.
TEST(binlog_start, a_mysql_gtid_start_sends_com_binlog_dump_gtid_as_documented) {
  binlog_start s;
  s.gtid = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7";
  std::string sid = "\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62";
  auto le = [](uint64_t v, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
    return out;
  };
  std::string data = le(1, 8) + sid + le(2, 8) + le(1, 8) + le(6, 8) + le(7, 8) + le(8, 8);
  std::string want = "\x1e" + le(4, 2) + le(4711, 4) + le(0, 4) + le(4, 8) +
                     le(data.size(), 4) + data;
  EXPECT_EQ(mysql_gtid_dump_packet(s, 4711, false), want);
  // Non-blocking (tools, tests): flag 1 as well.
  EXPECT_EQ(mysql_gtid_dump_packet(s, 4711, true).substr(1, 2), le(5, 2));
  s.gtid = "0-1-35";
  EXPECT_EQ(code_of([&] { mysql_gtid_dump_packet(s, 1, false); }), failure_code::config);
}

TEST(binlog_start, gtid_lists_are_triples_of_numbers_one_per_domain) {
  EXPECT_TRUE(valid_gtid_list("0-1-35"));
  EXPECT_TRUE(valid_gtid_list("0-1-35,1-2-7"));
  EXPECT_TRUE(valid_gtid_list("0-1-35, 1-2-7"));
  EXPECT_FALSE(valid_gtid_list(""));
  EXPECT_FALSE(valid_gtid_list("0-1-35,0-2-7"));  // one per domain
  EXPECT_FALSE(valid_gtid_list("0-1-x"));
  EXPECT_FALSE(valid_gtid_list("0--1-2"));
  EXPECT_FALSE(valid_gtid_list("0-1-2-3"));
  EXPECT_FALSE(valid_gtid_list("3E11FA47-71CA-11E1-9E33-C80AA9429562:23"));  // MySQL's form
  EXPECT_FALSE(valid_gtid_list("0-4294967296-1"));
}

TEST(binlog_server_id, is_the_first_slave_server_id) {
  source_config cfg;
  cfg.kind = source_kind::mariadb;
  cfg.slave_server_ids = {101, 102};
  EXPECT_EQ(binlog_server_id(cfg), 101u);
}

TEST(binlog_server_id, none_given_is_a_config_error_that_says_how_to_add_one) {
  source_config cfg;
  cfg.kind = source_kind::mariadb;
  std::string what;
  EXPECT_EQ(code_of([&] { binlog_server_id(cfg); }, &what), failure_code::config);
  EXPECT_NE(what.find("slave-server-ids: [101]"), std::string::npos) << what;
}

TEST(global_privileges, reads_the_privileges_granted_on_everything) {
  auto p = global_privileges(
    {"GRANT SELECT, RELOAD, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `t`@`%` IDENTIFIED BY "
     "PASSWORD '*ABC'",
     "GRANT ALL PRIVILEGES ON `shop`.* TO `t`@`%`", "GRANT `reader` TO `t`@`%`"});
  EXPECT_EQ(p, (std::vector<std::string>{"SELECT", "RELOAD", "REPLICATION SLAVE",
                                         "BINLOG MONITOR"}));
}

TEST(global_privileges, reads_all_privileges_and_mysqls_replica_spelling) {
  EXPECT_EQ(global_privileges({"GRANT ALL PRIVILEGES ON *.* TO 'root'@'localhost' WITH GRANT "
                               "OPTION"}),
            std::vector<std::string>{"ALL PRIVILEGES"});
  EXPECT_EQ(global_privileges({"grant replication replica on *.* to 'r'@'%'"}),
            std::vector<std::string>{"REPLICATION SLAVE"});
}

binlog_settings good() {
  binlog_settings s;
  s.version = "10.11.6-MariaDB";
  s.account = "'tributary'@'%'";
  s.log_bin = true;
  s.binlog_format = "ROW";
  s.binlog_row_image = "FULL";
  s.binlog_row_metadata = "FULL";
  s.privileges = {"SELECT", "REPLICATION SLAVE"};
  return s;
}

TEST(binlog_settings, a_row_binlog_with_full_images_and_the_grant_is_enough) {
  EXPECT_TRUE(binlog_settings_problems(good(), true).empty());
  auto s = good();
  s.privileges = {"ALL PRIVILEGES"};
  s.binlog_row_metadata = "";  // older servers: names come from information_schema
  EXPECT_TRUE(binlog_settings_problems(s, true).empty());
}

TEST(binlog_settings, names_each_missing_setting_with_its_fix) {
  auto s = good();
  s.binlog_format = "MIXED";
  s.binlog_row_image = "MINIMAL";
  s.privileges = {"SELECT"};
  auto p = binlog_settings_problems(s, false);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_NE(p[0].find("binlog_format is MIXED"), std::string::npos) << p[0];
  EXPECT_NE(p[0].find("SET GLOBAL binlog_format = 'ROW'"), std::string::npos) << p[0];
  EXPECT_NE(p[1].find("SET GLOBAL binlog_row_image = 'FULL'"), std::string::npos) << p[1];
  EXPECT_NE(p[2].find("GRANT REPLICATION SLAVE ON *.* TO 'tributary'@'%'"), std::string::npos)
    << p[2];
}

TEST(binlog_settings, a_server_without_binlog_is_told_to_start_with_log_bin) {
  auto s = good();
  s.log_bin = false;
  s.binlog_format = "STATEMENT";  // moot without a binlog
  auto p = binlog_settings_problems(s, false);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("--log-bin"), std::string::npos) << p[0];
}

TEST(binlog_settings, a_mysql_full_run_needs_reload_for_its_snapshot_position) {
  auto s = good();
  s.version = "8.0.36";
  EXPECT_TRUE(binlog_settings_problems(s, false).empty());
  auto p = binlog_settings_problems(s, true);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("GRANT RELOAD"), std::string::npos) << p[0];
  // MariaDB reads its snapshot position without a lock.
  EXPECT_TRUE(binlog_settings_problems(good(), true).empty());
}

}  // namespace
}  // namespace trib
