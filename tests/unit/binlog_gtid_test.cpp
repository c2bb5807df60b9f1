// GTID positions (MariaDB) and GTID sets (MySQL) as the binlog reader keeps
// them to resume a dump, and the COM_BINLOG_DUMP_GTID command built from a
// set, on the documented layouts.

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "actors/source/binlog_cursor.hpp"
#include "actors/source/binlog_gtid.hpp"
#include "messages/failure.hpp"

namespace trib::test {
namespace {

using namespace trib::binlog;
using namespace std::string_literals;

const std::string a = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const std::string b = "00000000-0000-0000-0000-000000000001";

void expect_bad(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "accepts it; expected: " << part;
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data);
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(mariadb_gtid_position, keeps_the_last_gtid_of_each_domain) {
  auto p = mariadb_gtid_position::parse(" 1-2-7, 0-1-35 ");
  EXPECT_EQ(p.text(), "0-1-35,1-2-7");
  gtid_event g;
  g.domain_id = 0;
  g.server_id = 3;
  g.seq_no = 36;
  p.apply(g);
  g.domain_id = 5;
  g.seq_no = 1;
  p.apply(g);
  EXPECT_EQ(p.text(), "0-3-36,1-2-7,5-3-1");
  EXPECT_TRUE(mariadb_gtid_position::parse("").empty());
  expect_bad([] { mariadb_gtid_position::parse("0-1"); }, "bad MariaDB GTID '0-1'");
  expect_bad([] { mariadb_gtid_position::parse("0-1-x"); }, "bad MariaDB GTID '0-1-x'");
  expect_bad([] { mariadb_gtid_position::parse("0-1-2,0-2-3"); }, "names domain 0 twice");
}

TEST(mysql_gtid_set, parses_merges_and_prints_as_mysql_does) {
  auto s = mysql_gtid_set::parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7,\n" + b + ":3:1-2");
  EXPECT_EQ(s.text(), b + ":1-3," + a + ":1-5:7");
  s.add(a, 6);
  EXPECT_EQ(s.text(), b + ":1-3," + a + ":1-7");
  s.add(a, 9);
  EXPECT_TRUE(s.contains(a, 9));
  EXPECT_FALSE(s.contains(a, 8));
  EXPECT_FALSE(s.contains(b, 4));
  EXPECT_EQ(s.text(), b + ":1-3," + a + ":1-7:9");
  EXPECT_TRUE(mysql_gtid_set::parse(" ").empty());
  expect_bad([] { mysql_gtid_set::parse("not-a-uuid:1-2"); }, "bad MySQL GTID set part");
  expect_bad([&] { mysql_gtid_set::parse(a + ":5-2"); }, "bad interval '5-2'");
  expect_bad([&] { mysql_gtid_set::parse(a + ":0"); }, "bad interval '0'");
  expect_bad([&] { mysql_gtid_set::parse(a); }, "uuid:interval expected");
}

TEST(mysql_gtid_set, encodes_the_binary_form_and_reads_it_back) {
  auto s = mysql_gtid_set::parse(a + ":1-5:7");
  std::string bin = s.encode();
  // count, uuid, interval count, [1, 6), [7, 8)
  std::string want = "\x01\0\0\0\0\0\0\0"s +
                     "\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62"s +
                     "\x02\0\0\0\0\0\0\0"s + "\x01\0\0\0\0\0\0\0"s + "\x06\0\0\0\0\0\0\0"s +
                     "\x07\0\0\0\0\0\0\0"s + "\x08\0\0\0\0\0\0\0"s;
  EXPECT_EQ(bin, want);
  cursor in(bin.data(), bin.size());
  EXPECT_EQ(mysql_gtid_set::decode(in).text(), a + ":1-5:7");
  for (size_t len = 0; len < bin.size(); ++len) {
    cursor cut(bin.data(), len);
    EXPECT_THROW(mysql_gtid_set::decode(cut), error) << len;
  }
}

TEST(mysql_gtid_set, builds_the_dump_command) {
  auto s = mysql_gtid_set::parse(a + ":1-5");
  std::string cmd = mysql_dump_gtid_command(4711, s);
  std::string set = s.encode();
  std::string want = "\x1e"s + "\x04\0"s + "\x67\x12\0\0"s + "\0\0\0\0"s + "\x04\0\0\0\0\0\0\0"s +
                     std::string(1, static_cast<char>(set.size())) + "\0\0\0"s + set;
  EXPECT_EQ(cmd, want);
  std::string named = mysql_dump_gtid_command(1, s, "binlog.000003", 120, 1);
  EXPECT_EQ(named.substr(1, 2), "\x05\0"s);  // non-block and through-GTID
  EXPECT_EQ(named.substr(7, 4), "\x0d\0\0\0"s);
  EXPECT_EQ(named.substr(11, 13), "binlog.000003");
}

}  // namespace
}  // namespace trib::test
