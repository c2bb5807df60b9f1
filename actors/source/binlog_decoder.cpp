// The decoder's state machine and the bodies of the non-row events.
// Layouts: MariaDB sql/log_event.h and log_event.cc; MySQL libbinlogevents
// (control_events, statement_events, rows_event).

#include "actors/source/binlog_decoder.hpp"

#include <cstdio>

#include "actors/source/binlog_cursor.hpp"
#include "actors/source/binlog_gtid.hpp"

namespace trib::binlog {

namespace {

constexpr size_t header_size = 19;

format_description_event parse_format(const char* data, size_t size) {
  // The FORMAT_DESCRIPTION always ends in its checksum algorithm byte and
  // a 4-byte checksum (zero when the algorithm is off).
  cursor in(data + header_size, size - header_size, header_size);
  format_description_event f;
  f.binlog_version = in.u16("format description");
  std::string v = in.str(50, "server version");
  f.server_version = v.substr(0, v.find('\0'));
  f.create_timestamp = in.u32("format description");
  f.header_length = in.u8("format description");
  if (f.header_length != header_size)
    fail("format description gives a header length of " + std::to_string(f.header_length));
  if (in.left() < 5) fail("truncated format description (" + std::to_string(size) + " bytes)");
  size_t n = in.left() - 5;
  const char* lens = in.take(n, "post-header lengths");
  f.post_header_lengths.assign(reinterpret_cast<const uint8_t*>(lens),
                               reinterpret_cast<const uint8_t*>(lens) + n);
  uint8_t alg = in.u8("checksum algorithm");
  f.checksum = alg == 0   ? checksum_alg::off
               : alg == 1 ? checksum_alg::crc32
                          : checksum_alg::undefined;
  if (alg > 1 && alg != 255) fail("unknown checksum algorithm " + std::to_string(alg));
  if (f.checksum == checksum_alg::crc32) {
    uint32_t stored = in.u32("checksum");
    uint32_t computed = crc32_of(data, size - 4);
    if (stored != computed)
      fail("checksum mismatch in FORMAT_DESCRIPTION (stored " + std::to_string(stored) +
           ", computed " + std::to_string(computed) + ")");
  }
  return f;
}

query_event parse_query(cursor& in, size_t post_header, bool compressed) {
  query_event q;
  q.thread_id = in.u32("query post-header");
  q.exec_time = in.u32("query post-header");
  size_t db_len = in.u8("query post-header");
  q.error_code = in.u16("query post-header");
  size_t status_len = post_header >= 13 ? in.u16("query post-header") : 0;
  if (post_header > 13) in.skip(post_header - 13, "query post-header");
  in.skip(status_len, "query status variables");
  q.database = in.str(db_len, "query database");
  in.skip(1, "query database terminator");
  q.statement = compressed ? uncompress_mariadb(in, "compressed query") : in.rest();
  return q;
}

mysql_gtid_event parse_mysql_gtid(cursor& in, bool anonymous) {
  mysql_gtid_event g;
  g.anonymous = anonymous;
  g.flags = in.u8("GTID flags");
  g.uuid = uuid_text(in.take(16, "GTID source id"));
  g.gno = static_cast<int64_t>(in.u64("GTID number"));
  if (in.left() >= 17 && in.u8("GTID clock type") == 2) {
    g.last_committed = static_cast<int64_t>(in.u64("GTID last_committed"));
    g.sequence_number = static_cast<int64_t>(in.u64("GTID sequence_number"));
  }
  if (in.left() >= 7) {
    // 7 bytes of microseconds; the top bit says an original commit
    // timestamp (another 7 bytes) follows.
    uint64_t ts = in.le(7, "GTID commit timestamp");
    constexpr uint64_t more = uint64_t{1} << 55;
    g.immediate_commit_us = ts & ~more;
    g.original_commit_us =
      (ts & more) ? in.le(7, "GTID original commit timestamp") : g.immediate_commit_us;
    if (!in.empty()) g.transaction_length = in.packed("GTID transaction length");
  }
  if (anonymous) g.uuid.clear();
  return g;
}

previous_gtids_event parse_previous_gtids(cursor& in) {
  return previous_gtids_event{mysql_gtid_set::decode(in).text()};
}

bool is_rows(event_type t, rows_layout& out) {
  auto u = static_cast<unsigned>(t);
  if (u >= 23 && u <= 25)
    out = {static_cast<rows_kind>(u - 23), false, false, 6};
  else if (u >= 30 && u <= 32)
    out = {static_cast<rows_kind>(u - 30), true, false, 6};
  else if (u >= 166 && u <= 168)
    out = {static_cast<rows_kind>(u - 166), false, true, 6};
  else if (u >= 169 && u <= 171)
    out = {static_cast<rows_kind>(u - 169), true, true, 6};
  else
    return false;
  return true;
}

}  // namespace

uint32_t file_sequence(const std::string& file) {
  size_t dot = file.rfind('.');
  std::string ext = dot == std::string::npos ? "" : file.substr(dot + 1);
  if (ext.empty() || ext.size() > 9 || ext.find_first_not_of("0123456789") != std::string::npos)
    fail("binlog file name '" + file + "' has no numeric extension");
  return static_cast<uint32_t>(std::stoul(ext));
}

uint64_t position_key(const std::string& file, uint64_t pos) {
  return static_cast<uint64_t>(file_sequence(file)) << 32 | (pos & 0xffffffffu);
}

uint64_t transaction_facts::commit_key() const { return position_key(file, begin_pos); }
uint64_t transaction_facts::release_key() const { return position_key(file, end_pos); }

std::vector<std::pair<size_t, size_t>> split_binlog_file(const std::string& bytes) {
  if (bytes.size() < 4 || bytes.compare(0, 4,
                                        "\xfe"
                                        "bin") != 0)
    fail("not a binlog file (no \\xfebin magic)");
  std::vector<std::pair<size_t, size_t>> out;
  size_t at = 4;
  while (at < bytes.size()) {
    cursor in(bytes.data() + at, bytes.size() - at, at);
    in.skip(9, "event header");
    uint32_t size = in.u32("event size");
    if (size < header_size || size > bytes.size() - at)
      fail("event at offset " + std::to_string(at) + " claims " + std::to_string(size) +
           " bytes, " + std::to_string(bytes.size() - at) + " left in the file");
    out.emplace_back(at, size);
    at += size;
  }
  return out;
}

const table_map* decoder::table(uint64_t table_id) const {
  auto it = tables_.find(table_id);
  return it == tables_.end() ? nullptr : &it->second;
}

size_t decoder::post_header_length(event_type t, size_t fallback) const {
  auto i = static_cast<size_t>(t);
  if (has_format_ && i >= 1 && i <= format_.post_header_lengths.size())
    return format_.post_header_lengths[i - 1];
  return fallback;
}

event decoder::decode(const char* data, size_t size) {
  event ev;
  ev.header = read_header(data, size);
  if (ev.header.type == event_type::format_description) {
    auto f = parse_format(data, size);
    ev.body = f;
    format_ = f;
    has_format_ = true;
    checksum_ = f.checksum;
    track(ev);
    return ev;
  }
  size_t body_size = size - header_size;
  bool with_crc = checksum_ == checksum_alg::crc32;
  if (checksum_ == checksum_alg::undefined) {
    // Before any FORMAT_DESCRIPTION (a dump's artificial ROTATE): a
    // trailing CRC that matches is a checksum.
    with_crc = size >= header_size + 4 &&
               crc32_of(data, size - 4) == cursor(data + size - 4, 4).u32("checksum");
  }
  if (with_crc) {
    if (body_size < 4) fail("event " + to_string(ev.header.type) + " too short for its checksum");
    body_size -= 4;
    uint32_t stored = cursor(data + size - 4, 4).u32("checksum");
    uint32_t computed = crc32_of(data, size - 4);
    if (stored != computed)
      fail("checksum mismatch in " + to_string(ev.header.type) + " ending at " + file_ + ":" +
           std::to_string(ev.header.log_pos) + " (stored " + std::to_string(stored) +
           ", computed " + std::to_string(computed) + ")");
  }
  ev.body = decode_body(ev.header, data + header_size, body_size);
  if (auto* tm = std::get_if<table_map>(&ev.body)) tables_[tm->table_id] = *tm;
  if (auto* r = std::get_if<rotate_event>(&ev.body)) file_ = r->file;
  track(ev);
  return ev;
}

event_body decoder::decode_body(const event_header& h, const char* body, size_t size) {
  cursor in(body, size, header_size);
  rows_layout layout;
  switch (h.type) {
    case event_type::rotate: {
      rotate_event r;
      size_t ph = post_header_length(h.type, 8);
      r.position = ph >= 8 ? in.u64("rotate position") : 4;
      if (ph > 8) in.skip(ph - 8, "rotate post-header");
      r.file = in.rest();
      if (r.file.empty()) fail("ROTATE without a file name");
      return r;
    }
    case event_type::query:
    case event_type::query_compressed:
      return parse_query(in, post_header_length(h.type, 13),
                         h.type == event_type::query_compressed);
    case event_type::xid: return xid_event{in.u64("xid")};
    case event_type::mariadb_gtid: {
      gtid_event g;
      g.seq_no = in.u64("GTID sequence number");
      g.domain_id = in.u32("GTID domain");
      g.flags = in.u8("GTID flags");
      g.server_id = h.server_id;
      if (g.flags & gtid_event::fl_group_commit_id) g.commit_id = in.u64("GTID commit id");
      return g;
    }
    case event_type::mariadb_gtid_list: {
      gtid_list_event l;
      uint32_t n = in.u32("GTID list count") & 0x0fffffff;  // top 4 bits are flags
      if (n > in.left() / 16) fail("bad GTID list count " + std::to_string(n));
      for (uint32_t i = 0; i < n; ++i) {
        gtid_event g;
        g.domain_id = in.u32("GTID list entry");
        g.server_id = in.u32("GTID list entry");
        g.seq_no = in.u64("GTID list entry");
        l.gtids.push_back(g);
      }
      return l;
    }
    case event_type::binlog_checkpoint: {
      uint32_t n = in.u32("checkpoint file name length");
      return binlog_checkpoint_event{in.str(n, "checkpoint file name")};
    }
    case event_type::annotate_rows: return annotate_rows_event{in.rest()};
    case event_type::rows_query:
      in.skip(1, "rows query length");  // a one-byte length that long statements overflow
      return annotate_rows_event{in.rest()};
    case event_type::heartbeat: return heartbeat_event{in.rest(), h.log_pos};
    case event_type::heartbeat_v2: return heartbeat_event{"", h.log_pos};
    case event_type::mysql_gtid:
    case event_type::mysql_anonymous_gtid:
      return parse_mysql_gtid(in, h.type == event_type::mysql_anonymous_gtid);
    case event_type::mysql_previous_gtids: return parse_previous_gtids(in);
    case event_type::table_map: {
      size_t ph = post_header_length(h.type, 8);
      return parse_table_map(in, ph == 6 ? 4 : 6);
    }
    case event_type::stop: return stop_event{};
    case event_type::transaction_payload:
      throw error(failure_code::source_state,
                  "binlog: MySQL compressed the transaction ending at " + file_ + ":" +
                    std::to_string(h.log_pos) +
                    " (TRANSACTION_PAYLOAD event), which Tributary does not read: turn "
                    "binlog_transaction_compression off on the source (SET PERSIST "
                    "binlog_transaction_compression = OFF) and resume");
    case event_type::partial_update_rows:
      throw error(failure_code::source_state,
                  "binlog: MySQL logged a partial JSON update at " + file_ + ":" +
                    std::to_string(h.log_pos) +
                    " (PARTIAL_UPDATE_ROWS event), which carries no full row: set "
                    "binlog_row_value_options to '' on the source and resume");
    default: break;
  }
  if (is_rows(h.type, layout)) {
    layout.table_id_size = post_header_length(h.type, layout.v2 ? 10 : 8) == 6 ? 4 : 6;
    uint64_t id = peek_rows_table_id(body, size, layout.table_id_size);
    const table_map* map = table(id);
    if (!map)
      fail(to_string(h.type) + " ending at " + file_ + ":" + std::to_string(h.log_pos) +
           " refers to table id " + std::to_string(id) + " without a TABLE_MAP before it");
    return parse_rows(in, layout, *map);
  }
  return other_event{h.type, std::string(body, size)};
}

void decoder::track(const event& ev) {
  const auto& h = ev.header;
  auto begin = [&](std::string gtid, uint32_t server_id) {
    trx_ = transaction_facts{};
    trx_.gtid = std::move(gtid);
    trx_.server_id = server_id;
    trx_.file = file_;
    trx_.begin_pos = h.start_pos();
    trx_open_ = true;
  };
  auto commit = [&] {
    trx_.committed = true;
    trx_.end_pos = h.log_pos;
    trx_.commit_ts_ms = static_cast<int64_t>(h.timestamp) * 1000;
    trx_open_ = false;
    // Every statement logs the maps of its tables again, and table ids
    // change as tables are reopened: keeping maps past their transaction
    // would only grow the cache.
    tables_.clear();
  };
  if (auto* g = std::get_if<gtid_event>(&ev.body)) {
    begin(g->text(), h.server_id);
    in_explicit_ = false;
  } else if (auto* m = std::get_if<mysql_gtid_event>(&ev.body)) {
    begin(m->text(), h.server_id);
    in_explicit_ = false;
  } else if (auto* q = std::get_if<query_event>(&ev.body)) {
    if (q->is_begin()) {
      if (!trx_open_) begin("", h.server_id);
      in_explicit_ = true;
    } else if (q->is_commit() || q->is_rollback()) {
      commit();
      in_explicit_ = false;
    } else if (!in_explicit_) {
      // A statement outside BEGIN ... COMMIT (a DDL) is a group of its own.
      if (!trx_open_) begin("", h.server_id);
      commit();
    }
  } else if (std::holds_alternative<xid_event>(ev.body)) {
    commit();
    in_explicit_ = false;
  }
}

}  // namespace trib::binlog
