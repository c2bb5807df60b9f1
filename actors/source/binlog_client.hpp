#pragma once
// A blocking client for the MySQL/MariaDB binlog dump protocol, over
// mariadb-connector-c's replication API (mariadb_rpl_*). No CAF: the binlog
// reader actor (detached, since every call here may block) owns one and
// feeds the events it returns to the binlog decoder.
//
// The client registers as a replica with the server id from the connection's
// `slave-server-ids`, starts at a {file, position} or after a MariaDB GTID
// list, and returns each event's raw bytes with the binlog file and offset it
// came from. It neither decodes rows nor retries: a lost connection throws
// failure_code::connection, and the reader opens a new client at the
// position it has safely written (the source's retry_policy paces that).
// Failures: connection (lost, refused, server shutting down), config (missing
// slave-server-ids, a server id another replica uses, no REPLICATION SLAVE),
// source_state (the position is gone: purged binary logs, an unknown file or
// GTID; the message suggests --overwrite). The server's settings are checked
// before a run starts (binlog_settings.hpp).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/source/binlog_event.hpp"
#include "conf/config.hpp"

struct st_mysql;
struct st_mariadb_rpl;
struct st_mariadb_rpl_event;

namespace trib {

/// Where a binlog stream starts.
struct binlog_start {
  /// A binlog file and the offset of the first event to read in it (4 is the
  /// first event of a file). Used when `gtid` is empty.
  std::string file;
  uint64_t pos = 4;
  /// MariaDB: a GTID list ("0-1-35" or "0-1-35,1-2-7"), the last
  /// transaction already read in each domain; the stream starts after them
  /// (@slave_connect_state). MySQL: a GTID set ("uuid:1-35"), the
  /// transactions already read; the stream sends every other one
  /// (COM_BINLOG_DUMP_GTID).
  std::string gtid;
};

/// "mysql-bin.000042:1337" or "gtid 0-1-35".
std::string to_string(const binlog_start& s);

/// The start the extractor's `realtime.start-position` asks for: `{log,
/// position}` (position 0 or missing means the file's first event, 4) or
/// `{gtid}`; nothing when it names neither (an `lsn` is PostgreSQL's). A
/// GTID that is not a MariaDB GTID list (kind mariadb) or a MySQL GTID set
/// (kind mysql) is a config error naming it.
std::optional<binlog_start> binlog_start_from(const start_position_config& cfg,
                                              source_kind kind = source_kind::mariadb);

/// The COM_BINLOG_DUMP_GTID packet, command byte first, that starts a MySQL
/// dump after the GTID set `start.gtid` as replica `server_id` (file empty,
/// position 4: the server finds the start from the set); `non_block` ends
/// the dump at the end of the binlog. Throws config for a malformed set.
std::string mysql_gtid_dump_packet(const binlog_start& start, uint32_t server_id,
                                   bool non_block);

/// Whether `gtid` is a MariaDB GTID list: domain-server-sequence triples of
/// decimal numbers, separated by commas, at most one per domain.
bool valid_gtid_list(const std::string& gtid);

/// The server id this replication registers with: the first of
/// `slave-server-ids`. None given is a config error that says how to set one.
uint32_t binlog_server_id(const source_config& cfg);

/// One event as the server sent it.
struct binlog_event {
  /// Event type (byte 4 of the header; any code the server sends).
  binlog::event_type type = binlog::event_type::unknown;
  /// The server that wrote it and when (seconds since the epoch).
  uint32_t server_id = 0;
  uint32_t timestamp = 0;
  /// The binlog file the event is in, and its offset there; pos is 0 for
  /// events the server made up for this stream (the ROTATE that names the
  /// first file, the FORMAT_DESCRIPTION sent when starting inside a file).
  std::string file;
  uint64_t pos = 0;
  /// The offset after the event (where the next one starts); 0 when pos is.
  uint64_t next_pos = 0;
  /// The event's bytes as logged: the common header (19 bytes), the body,
  /// and the CRC32 trailer when the binlog has checksums (checksum()); the
  /// binlog decoder verifies and strips it (binlog_decoder.hpp).
  std::string data;
};

/// Tunables of a client; the defaults suit the binlog reader.
struct binlog_client_options {
  /// How often an idle server sends a heartbeat: the longest next() blocks
  /// while nothing is written, so the reader sees stop requests in time.
  std::chrono::milliseconds heartbeat{1000};
  /// A server silent this long (no event, no heartbeat) is lost.
  std::chrono::milliseconds read_timeout{30000};
  /// Stop at the end of the binlog instead of waiting for more
  /// (MARIADB_RPL_BINLOG_DUMP_NON_BLOCK), for tools and tests.
  bool stop_at_end = false;
};

class binlog_client {
public:
  /// Connects, sets the replica session variables (checksum, GTID
  /// capability, heartbeat period, the GTID start) and starts the dump at
  /// `start`.
  binlog_client(const source_config& cfg, const binlog_start& start,
                binlog_client_options options = {});
  ~binlog_client();
  binlog_client(const binlog_client&) = delete;
  binlog_client& operator=(const binlog_client&) = delete;

  /// The next event; nothing after a heartbeat (the server is idle) or, with
  /// stop_at_end, once the end of the binlog is reached (ended() then holds).
  std::optional<binlog_event> next();

  /// Whether next() would return without waiting for the network: the
  /// connector has bytes of the stream read ahead, or the socket has some
  /// within `wait`. Lets a reader hand on what it decoded before it blocks,
  /// and look at its mailbox while the server is idle. Over TLS, bytes the
  /// TLS layer holds are not seen, so a reader may wait until the next
  /// heartbeat for them.
  bool readable(std::chrono::milliseconds wait);

  /// The stream reached the end of the binlog (stop_at_end only).
  bool ended() const { return ended_; }

  /// The binlog file being read and the offset after the last event
  /// returned: a new client started there continues with the next event.
  const std::string& file() const { return file_; }
  uint64_t pos() const { return pos_; }

  /// Whether events end in a CRC32 (binlog_checksum=CRC32): the decoder
  /// needs to know for the first, artificial ROTATE.
  bool checksum() const { return checksum_; }

  /// The server id this client registered with.
  uint32_t server_id() const { return server_id_; }

private:
  [[noreturn]] void fail(const std::string& doing);

  std::string kind_;
  std::string where_;
  binlog_start start_;
  binlog_client_options options_;
  uint32_t server_id_ = 0;
  bool checksum_ = false;
  st_mysql* mysql_ = nullptr;
  st_mariadb_rpl* rpl_ = nullptr;
  /// The event last fetched, freed at the next fetch.
  st_mariadb_rpl_event* event_ = nullptr;
  std::string file_;
  uint64_t pos_ = 0;
  bool ended_ = false;
};

}  // namespace trib
