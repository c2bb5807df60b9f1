// Binlog bytes behind: the rest of the released position's file and every
// later file that SHOW BINARY LOGS lists.

#include <gtest/gtest.h>

#include "actors/source/source_backlog.hpp"

using namespace trib;

namespace {

const std::vector<std::pair<std::string, uint64_t>> logs{
  {"mysql-bin.000040", 1000}, {"mysql-bin.000041", 5000}, {"mysql-bin.000042", 700}};

}  // namespace

TEST(source_backlog, counts_the_rest_of_the_file_and_the_later_files) {
  EXPECT_EQ(binlog_bytes_behind(logs, "mysql-bin.000041", 1337), 5000u - 1337u + 700u);
  EXPECT_EQ(binlog_bytes_behind(logs, "mysql-bin.000040", 4), 996u + 5000u + 700u);
}

TEST(source_backlog, is_zero_at_the_end_of_the_newest_file) {
  EXPECT_EQ(binlog_bytes_behind(logs, "mysql-bin.000042", 700), 0u);
  // A position past the size a moment-old listing gave is not negative.
  EXPECT_EQ(binlog_bytes_behind(logs, "mysql-bin.000042", 900), 0u);
}

TEST(source_backlog, knows_nothing_of_a_file_the_server_does_not_list) {
  EXPECT_FALSE(binlog_bytes_behind(logs, "mysql-bin.000039", 4));
  EXPECT_FALSE(binlog_bytes_behind({}, "mysql-bin.000042", 4));
}
