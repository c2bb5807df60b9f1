#pragma once
// GTID positions as the binlog reader keeps them to resume a dump: MariaDB's
// per-domain position (what @slave_connect_state takes) and MySQL's GTID set
// (what COM_BINLOG_DUMP_GTID takes, in the binary form PREVIOUS_GTIDS events
// also use). Pure values, tested on their own.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "actors/source/binlog_event.hpp"

namespace trib::binlog {

class cursor;

/// MariaDB: the last GTID of each replication domain.
class mariadb_gtid_position {
public:
  /// "0-1-35,1-2-7" (spaces allowed; empty = no position). Throws
  /// trib::error{bad_data} naming the bad part.
  static mariadb_gtid_position parse(const std::string& text);

  /// Records a transaction's GTID: it becomes its domain's position.
  void apply(const gtid_event& g);

  /// "0-1-35,1-2-7", by domain; "" when empty.
  std::string text() const;
  bool empty() const { return by_domain_.empty(); }

private:
  std::map<uint32_t, gtid_event> by_domain_;
};

/// MySQL: a set of GTIDs, per source UUID a list of closed intervals.
class mysql_gtid_set {
public:
  /// "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,uuid2:1-3" as
  /// @@gtid_executed prints it (newlines and spaces allowed, UUIDs in any
  /// case). Throws trib::error{bad_data} naming the bad part.
  static mysql_gtid_set parse(const std::string& text);

  /// The set in the binary form of PREVIOUS_GTIDS and COM_BINLOG_DUMP_GTID:
  /// 8-byte count of UUIDs, then per UUID its 16 bytes, an 8-byte count of
  /// intervals and each interval as two 8-byte numbers [start, end).
  static mysql_gtid_set decode(cursor& in);
  std::string encode() const;

  /// Adds one transaction (`uuid` as text).
  void add(const std::string& uuid, int64_t gno);
  bool contains(const std::string& uuid, int64_t gno) const;

  /// Canonical text: UUIDs sorted, lower case, intervals merged ("a-b", or
  /// "a" alone); "" when empty.
  std::string text() const;
  bool empty() const { return sets_.empty(); }

private:
  /// UUID text -> sorted, disjoint, non-adjacent closed intervals.
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> sets_;
  void add_interval(const std::string& uuid, int64_t first, int64_t last);
};

/// "3e11fa47-71ca-11e1-9e33-c80aa9429562" of 16 UUID bytes.
std::string uuid_text(const char* bytes16);

/// The packet of a COM_BINLOG_DUMP_GTID command (command byte 0x1e first:
/// drop it for a call that sends the command byte itself) that
/// asks a MySQL server, as replica `server_id`, for every transaction not in
/// `executed`. `file` and `position` may be empty and 4: the server finds
/// the start from the set. `flags` 0 blocks at the end of the binlog
/// (BINLOG_DUMP_NON_BLOCK = 1 ends the dump there instead).
std::string mysql_dump_gtid_command(uint32_t server_id, const mysql_gtid_set& executed,
                                    const std::string& file = "", uint64_t position = 4,
                                    uint16_t flags = 0);

}  // namespace trib::binlog
