// The binlog dump over mariadb-connector-c; see binlog_client.hpp. The
// connector frames the stream and tells lost connections apart from the end
// of the binlog; everything about the events' contents, checksums included,
// is left to the decoder.

#include "actors/source/binlog_client.hpp"

#include <mysql.h>
// After mysql.h, which it needs: the connector's read-ahead cache.
#include <ma_pvio.h>
#include <mysqld_error.h>
#include <mariadb_rpl.h>
#include <poll.h>

#include <cctype>
#include <cstdlib>
#include <set>

#include "actors/log.hpp"
#include "actors/source/binlog_gtid.hpp"
#include "actors/source/my_connect.hpp"
#include "actors/source/session_common.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace {

/// Size of an event's common header, and of the CRC32 trailer.
constexpr size_t header_size = 19;
constexpr size_t checksum_size = 4;

/// Parses a decimal number of at most 20 digits; false if `s` is none.
bool parse_number(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  errno = 0;
  out = std::strtoull(s.c_str(), nullptr, 10);
  return errno == 0;
}

}  // namespace

std::string to_string(const binlog_start& s) {
  if (!s.gtid.empty()) return "gtid " + s.gtid;
  return s.file + ":" + std::to_string(s.pos);
}

bool valid_gtid_list(const std::string& gtid) {
  if (gtid.empty()) return false;
  std::set<uint64_t> domains;
  size_t start = 0;
  while (start <= gtid.size()) {
    size_t comma = gtid.find(',', start);
    if (comma == std::string::npos) comma = gtid.size();
    std::string one = gtid.substr(start, comma - start);
    // Spaces after commas are what SELECT @@gtid_binlog_pos never shows,
    // but people type them.
    while (!one.empty() && one.front() == ' ') one.erase(0, 1);
    size_t d1 = one.find('-'), d2 = d1 == std::string::npos ? d1 : one.find('-', d1 + 1);
    if (d2 == std::string::npos) return false;
    uint64_t domain = 0, server = 0, seq = 0;
    if (!parse_number(one.substr(0, d1), domain) ||
        !parse_number(one.substr(d1 + 1, d2 - d1 - 1), server) ||
        !parse_number(one.substr(d2 + 1), seq) || domain > 0xffffffffu || server > 0xffffffffu)
      return false;
    if (!domains.insert(domain).second) return false;
    start = comma + 1;
  }
  return true;
}

namespace {

/// The MySQL GTID set of `text`, or a config error that names `what`.
binlog::mysql_gtid_set mysql_set(const std::string& text, const std::string& what) {
  try {
    return binlog::mysql_gtid_set::parse(text);
  } catch (const error& e) {
    throw error(failure_code::config,
                what + " '" + text + "' is not a MySQL GTID set: write uuid:first-last, e.g. "
                "'3e11fa47-71ca-11e1-9e33-c80aa9429562:1-35', several separated by commas "
                "(SELECT @@gtid_executed shows the server's current one): " + e.what());
  }
}

}  // namespace

std::string mysql_gtid_dump_packet(const binlog_start& start, uint32_t server_id,
                                   bool non_block) {
  auto set = mysql_set(start.gtid, "the binlog start gtid");
  // Flag 1: BINLOG_DUMP_NON_BLOCK; mysql_dump_gtid_command adds
  // BINLOG_THROUGH_GTID (4).
  return binlog::mysql_dump_gtid_command(server_id, set, "", 4, non_block ? 1 : 0);
}

std::optional<binlog_start> binlog_start_from(const start_position_config& cfg,
                                              source_kind kind) {
  if (!cfg.gtid.empty() && kind == source_kind::mysql) {
    mysql_set(cfg.gtid, "realtime.start-position.gtid");
    binlog_start s;
    s.gtid = cfg.gtid;
    return s;
  }
  if (!cfg.gtid.empty()) {
    if (!valid_gtid_list(cfg.gtid))
      throw error(failure_code::config,
                  "realtime.start-position.gtid '" + cfg.gtid +
                    "' is not a MariaDB GTID list: write domain-server-sequence, e.g. '0-1-35', "
                    "one per domain, separated by commas (SELECT @@gtid_binlog_pos shows the "
                    "server's current one)");
    binlog_start s;
    s.gtid = cfg.gtid;
    return s;
  }
  if (cfg.log.empty()) return std::nullopt;
  binlog_start s;
  s.file = cfg.log;
  // Offsets below 4 are inside the file's magic number: the first event.
  s.pos = cfg.position < 4 ? 4 : cfg.position;
  return s;
}

uint32_t binlog_server_id(const source_config& cfg) {
  if (cfg.slave_server_ids.empty())
    throw error(failure_code::config,
                "the " + source_detail::kind_name(cfg.kind) +
                  " connection has no slave-server-ids: realtime replication reads the binlog as "
                  "a replica and needs a server id that no other replica of the server uses; "
                  "add e.g. 'slave-server-ids: [101]' to the connection file");
  return static_cast<uint32_t>(cfg.slave_server_ids.front());
}

binlog_client::binlog_client(const source_config& cfg, const binlog_start& start,
                             binlog_client_options options)
  : kind_(source_detail::kind_name(cfg.kind)), where_(my_where(cfg)), start_(start),
    options_(options), server_id_(binlog_server_id(cfg)), file_(start.file),
    pos_(start.gtid.empty() ? start.pos : 0) {
  bool mysql_gtid = !start.gtid.empty() && cfg.kind == source_kind::mysql;
  std::string gtid_dump;
  if (mysql_gtid)
    gtid_dump = mysql_gtid_dump_packet(start, server_id_, options_.stop_at_end);
  else if (!start.gtid.empty() && !valid_gtid_list(start.gtid))
    throw error(failure_code::config, "cannot start the binlog at gtid '" + start.gtid +
                                        "': not a MariaDB GTID list");
  if (start.gtid.empty() && start.file.empty())
    throw error(failure_code::internal, "starts the binlog without a file or gtid");
  auto timeout_s = static_cast<unsigned>((options_.read_timeout.count() + 999) / 1000);
  mysql_ = my_connect(cfg, timeout_s < 1 ? 1 : timeout_s);
  try {
    auto run = [&](const std::string& sql, const std::string& doing) {
      if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) fail(doing);
    };
    // The stream carries checksums only for a replica that says it can
    // check them; without this a server with CRC32 refuses the dump (1236).
    std::string checksum = "NONE";
    run("SELECT @@global.binlog_checksum", "read binlog_checksum");
    if (MYSQL_RES* r = mysql_store_result(mysql_)) {
      if (MYSQL_ROW row = mysql_fetch_row(r); row && row[0]) checksum = row[0];
      mysql_free_result(r);
    }
    for (char c : checksum)
      if (!std::isalnum(static_cast<unsigned char>(c)))
        throw error(failure_code::source_state,
                    kind_ + " at " + where_ + " reports an odd binlog_checksum: " + checksum);
    checksum_ = checksum != "NONE";
    run("SET @master_binlog_checksum = '" + checksum + "'", "announce checksum support");
    // Capability 4 (MARIA_SLAVE_CAPABILITY_GTID): MariaDB sends GTID events
    // (and accepts a GTID start) only to replicas that announce it.
    run("SET @mariadb_slave_capability = 4", "announce GTID support");
    auto period_ns = static_cast<long long>(options_.heartbeat.count()) * 1000000LL;
    run("SET @master_heartbeat_period = " + std::to_string(period_ns), "set the heartbeat period");
    if (!start.gtid.empty() && !mysql_gtid) {
      // Strict mode: a GTID the binlog lacks (purged, or never written, say
      // a sequence number ahead of the server's) is an error, not a silent
      // start at the next GTID the server has.
      run("SET @slave_connect_state = '" + start.gtid + "'", "set the GTID start");
      run("SET @slave_gtid_strict_mode = 1", "set the GTID start");
    }
    rpl_ = mariadb_rpl_init(mysql_);
    if (!rpl_) fail("set up the binlog stream");
    const char* file = start.gtid.empty() ? start.file.c_str() : "";
    size_t file_len = start.gtid.empty() ? start.file.size() : 0;
    // A GTID start names no file: the server finds the transaction.
    unsigned long from = start.gtid.empty() ? static_cast<unsigned long>(start.pos) : 4;
    // ANNOTATE_ROWS carries the statement's text (the `query` of a change's
    // source block), and with it the stream has no holes: each event starts
    // where the one before it ended.
    unsigned int flags = MARIADB_RPL_BINLOG_SEND_ANNOTATE_ROWS |
                         (options_.stop_at_end ? MARIADB_RPL_BINLOG_DUMP_NON_BLOCK : 0);
    unsigned int server_id = server_id_;
    // The decoder verifies every checksum; twice would cost a CRC per byte.
    unsigned int verify = 0;
    if (mariadb_rpl_optionsv(rpl_, MARIADB_RPL_FILENAME, file, file_len) != 0 ||
        mariadb_rpl_optionsv(rpl_, MARIADB_RPL_START, from) != 0 ||
        mariadb_rpl_optionsv(rpl_, MARIADB_RPL_SERVER_ID, server_id) != 0 ||
        mariadb_rpl_optionsv(rpl_, MARIADB_RPL_FLAGS, flags) != 0 ||
        mariadb_rpl_optionsv(rpl_, MARIADB_RPL_VERIFY_CHECKSUM, verify) != 0)
      fail("set up the binlog stream");
    if (mysql_gtid) {
      // The connector sends only COM_BINLOG_DUMP; its fetch reads any dump's
      // events, so COM_BINLOG_DUMP_GTID goes out through the command call
      // (without the command byte, which the call writes).
      if (mysql_->methods->db_command(mysql_, static_cast<enum_server_command>(gtid_dump[0]),
                                      gtid_dump.data() + 1, gtid_dump.size() - 1, 1,
                                      nullptr) != 0)
        fail("start reading the binlog at " + to_string(start));
    } else if (mariadb_rpl_open(rpl_) != 0) {
      fail("start reading the binlog at " + to_string(start));
    }
  } catch (...) {
    if (rpl_) mariadb_rpl_close(rpl_);
    mysql_close(mysql_);
    throw;
  }
  log::info("reads the binlog of " + kind_ + " at " + where_ + " from " + to_string(start) +
            " as replica " + std::to_string(server_id_));
}

binlog_client::~binlog_client() {
  if (event_) mariadb_free_rpl_event(event_);
  if (rpl_) mariadb_rpl_close(rpl_);
  if (mysql_) mysql_close(mysql_);
}

void binlog_client::fail(const std::string& doing) {
  unsigned code = mysql_errno(mysql_);
  std::string msg = mysql_error(mysql_);
  if (code == 0 && rpl_ && mariadb_rpl_errno(rpl_) != 0) {
    code = mariadb_rpl_errno(rpl_);
    msg = mariadb_rpl_error(rpl_);
  }
  std::string head = "cannot " + doing + ": " + kind_ + " at " + where_;
  std::string detail = code == 0 ? "the server ended the binlog stream"
                                 : msg + " (" + std::to_string(code) + ")";
  // MariaDB ends the older of two streams with one replica id (4052); MySQL
  // says so with 1236.
  if (code == ER_SLAVE_SAME_ID ||
      (code == ER_MASTER_FATAL_ERROR_READING_BINLOG &&
       msg.find("same server") != std::string::npos))
    throw error(failure_code::config,
                head + " handed the binlog stream to another replica with server id " +
                  std::to_string(server_id_) +
                  ": give every replica of the server its own slave-server-ids (" + detail + ")");
  if (code == ER_MASTER_FATAL_ERROR_READING_BINLOG) {
    throw error(failure_code::source_state,
                head + " no longer has that binlog position (purged binary logs, or a file or "
                       "GTID it never wrote): " + detail +
                       "; the changes from there on cannot be read, so run with --overwrite to "
                       "start over from a fresh snapshot or position");
  }
  if (code == ER_SPECIFIC_ACCESS_DENIED_ERROR || code == ER_ACCESS_DENIED_ERROR)
    throw error(failure_code::config,
                head + " refuses the binlog: " + detail +
                  "; the user needs GRANT REPLICATION SLAVE ON *.* TO the connection's user");
  auto fc = my_classify(code);
  if (fc == failure_code::connection || code == 0)
    throw error(failure_code::connection, head + ": the connection is lost: " + detail);
  throw error(fc, head + " refuses: " + detail);
}

bool binlog_client::readable(std::chrono::milliseconds wait) {
  // The connector reads ahead into its own cache: events may wait there
  // while the socket is empty.
  if (const MARIADB_PVIO* p = mysql_->net.pvio;
      p && p->cache && p->cache_pos < p->cache + p->cache_size)
    return true;
  pollfd pfd{};
  pfd.fd = static_cast<int>(mysql_get_socket(mysql_));
  pfd.events = POLLIN;
  // An error or a closed socket counts as readable: next() reports it.
  return ::poll(&pfd, 1, static_cast<int>(wait.count())) != 0;
}

std::optional<binlog_event> binlog_client::next() {
  if (ended_) return std::nullopt;
  // A fresh event each time: what the connector does with a reused one
  // after a failed fetch is not documented.
  if (event_) mariadb_free_rpl_event(event_);
  event_ = nullptr;
  MARIADB_RPL_EVENT* ev = mariadb_rpl_fetch(rpl_, nullptr);
  if (!ev) {
    bool failed = mysql_errno(mysql_) != 0 || mariadb_rpl_errno(rpl_) != 0;
    if (!failed && options_.stop_at_end) {
      ended_ = true;
      return std::nullopt;
    }
    // Without NON_BLOCK the server never ends the stream on its own: an end
    // is a server going away.
    fail("read the binlog after " + file_ + ":" + std::to_string(pos_));
  }
  event_ = ev;
  if (ev->event_type == HEARTBEAT_LOG_EVENT) return std::nullopt;
  binlog_event out;
  out.type = static_cast<binlog::event_type>(ev->event_type);
  out.server_id = ev->server_id;
  out.timestamp = ev->timestamp;
  // raw_data starts with the packet's OK byte, then the event as logged.
  size_t size = ev->event_length;
  if (ev->raw_data_size < size + 1 || size < header_size + (checksum_ ? checksum_size : 0))
    throw error(failure_code::bad_data, "cannot read the binlog after " + file_ + ":" +
                                          std::to_string(pos_) + ": a truncated event of type " +
                                          binlog::to_string(out.type));
  out.data.assign(reinterpret_cast<const char*>(ev->raw_data) + 1, size);
  // Events the server makes up for this stream (flag LOG_EVENT_ARTIFICIAL_F,
  // or no end offset) are in no file.
  bool in_file = ev->next_event_pos != 0 && !(ev->flags & LOG_EVENT_ARTIFICIAL_F);
  if (in_file) {
    out.file = file_;
    out.next_pos = ev->next_event_pos;
    out.pos = ev->next_event_pos >= ev->event_length ? ev->next_event_pos - ev->event_length : 0;
    pos_ = out.next_pos;
  }
  if (ev->event_type == ROTATE_EVENT) {
    // The file the following events are in. Read from the bytes: the body is
    // the position (8 bytes, little-endian) and the name up to the end, and
    // the connector's parsed name is wrong for some rotates.
    constexpr size_t body = header_size + 8;
    size_t end = out.data.size() - (checksum_ ? checksum_size : 0);
    if (end <= body)
      throw error(failure_code::bad_data, "cannot read the binlog after " + file_ + ":" +
                                            std::to_string(pos_) + ": a ROTATE without a file");
    uint64_t next = 0;
    for (size_t i = 0; i < 8; ++i)
      next |= uint64_t{static_cast<unsigned char>(out.data[header_size + i])} << (8 * i);
    file_ = out.data.substr(body, end - body);
    pos_ = next;
    if (!in_file) out.file = file_;
  }
  return out;
}

}  // namespace trib
