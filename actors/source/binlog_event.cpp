// The common header, checksums and the texts of GTID events.

#include "actors/source/binlog_event.hpp"

#include <zlib.h>

#include "actors/source/binlog_cursor.hpp"

namespace trib::binlog {

void fail(const std::string& what) { throw error(failure_code::bad_data, "binlog: " + what); }

std::string to_string(event_type t) {
  switch (t) {
    case event_type::unknown: return "UNKNOWN";
    case event_type::start_v3: return "START_V3";
    case event_type::query: return "QUERY";
    case event_type::stop: return "STOP";
    case event_type::rotate: return "ROTATE";
    case event_type::intvar: return "INTVAR";
    case event_type::rand: return "RAND";
    case event_type::user_var: return "USER_VAR";
    case event_type::format_description: return "FORMAT_DESCRIPTION";
    case event_type::xid: return "XID";
    case event_type::table_map: return "TABLE_MAP";
    case event_type::write_rows_v1: return "WRITE_ROWS_V1";
    case event_type::update_rows_v1: return "UPDATE_ROWS_V1";
    case event_type::delete_rows_v1: return "DELETE_ROWS_V1";
    case event_type::incident: return "INCIDENT";
    case event_type::heartbeat: return "HEARTBEAT";
    case event_type::ignorable: return "IGNORABLE";
    case event_type::rows_query: return "ROWS_QUERY";
    case event_type::write_rows_v2: return "WRITE_ROWS";
    case event_type::update_rows_v2: return "UPDATE_ROWS";
    case event_type::delete_rows_v2: return "DELETE_ROWS";
    case event_type::mysql_gtid: return "GTID";
    case event_type::mysql_anonymous_gtid: return "ANONYMOUS_GTID";
    case event_type::mysql_previous_gtids: return "PREVIOUS_GTIDS";
    case event_type::transaction_context: return "TRANSACTION_CONTEXT";
    case event_type::view_change: return "VIEW_CHANGE";
    case event_type::xa_prepare: return "XA_PREPARE";
    case event_type::partial_update_rows: return "PARTIAL_UPDATE_ROWS";
    case event_type::transaction_payload: return "TRANSACTION_PAYLOAD";
    case event_type::heartbeat_v2: return "HEARTBEAT_V2";
    case event_type::annotate_rows: return "ANNOTATE_ROWS";
    case event_type::binlog_checkpoint: return "BINLOG_CHECKPOINT";
    case event_type::mariadb_gtid: return "MARIADB_GTID";
    case event_type::mariadb_gtid_list: return "MARIADB_GTID_LIST";
    case event_type::start_encryption: return "START_ENCRYPTION";
    case event_type::query_compressed: return "QUERY_COMPRESSED";
    case event_type::write_rows_compressed_v1: return "WRITE_ROWS_COMPRESSED_V1";
    case event_type::update_rows_compressed_v1: return "UPDATE_ROWS_COMPRESSED_V1";
    case event_type::delete_rows_compressed_v1: return "DELETE_ROWS_COMPRESSED_V1";
    case event_type::write_rows_compressed: return "WRITE_ROWS_COMPRESSED";
    case event_type::update_rows_compressed: return "UPDATE_ROWS_COMPRESSED";
    case event_type::delete_rows_compressed: return "DELETE_ROWS_COMPRESSED";
  }
  return "EVENT_" + std::to_string(static_cast<unsigned>(t));
}

event_header read_header(const char* data, size_t size) {
  cursor in(data, size);
  event_header h;
  h.timestamp = in.u32("event header");
  h.type = static_cast<event_type>(in.u8("event header"));
  h.server_id = in.u32("event header");
  h.event_size = in.u32("event header");
  h.log_pos = in.u32("event header");
  h.flags = in.u16("event header");
  if (h.event_size != size)
    fail("event header of " + to_string(h.type) + " gives a size of " +
         std::to_string(h.event_size) + " for an event of " + std::to_string(size) + " bytes");
  return h;
}

uint32_t crc32_of(const char* data, size_t size) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  while (size > 0) {
    auto chunk = static_cast<uInt>(size > (1u << 30) ? (1u << 30) : size);
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

std::string gtid_event::text() const {
  return std::to_string(domain_id) + "-" + std::to_string(server_id) + "-" +
         std::to_string(seq_no);
}

std::string gtid_list_event::text() const {
  std::string out;
  for (const auto& g : gtids) out += (out.empty() ? "" : ",") + g.text();
  return out;
}

std::string mysql_gtid_event::text() const {
  if (anonymous) return "";
  return uuid + ":" + std::to_string(gno);
}

}  // namespace trib::binlog
