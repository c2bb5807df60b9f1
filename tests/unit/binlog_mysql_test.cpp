// MySQL 8's binlog differences, on event bytes built from the documented
// layouts (MySQL has no Debian package, so no server wrote these): the
// binary JSON format, GTID / ANONYMOUS_GTID / PREVIOUS_GTIDS events, v2 rows
// events with their extra data, ROWS_QUERY, and the TRANSACTION_PAYLOAD
// event Tributary refuses with the setting to change.

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "actors/source/binlog_cells.hpp"
#include "actors/source/binlog_changes.hpp"
#include "actors/source/binlog_cursor.hpp"
#include "actors/source/binlog_decoder.hpp"
#include "actors/source/binlog_json.hpp"
#include "messages/failure.hpp"

namespace trib::test {
namespace {

using namespace trib::binlog;
using namespace std::string_literals;

std::string le(uint64_t v, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
std::string be(uint64_t v, size_t n) {
  std::string out;
  for (size_t i = n; i-- > 0;) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
std::string packed(uint64_t v) { return v < 251 ? le(v, 1) : "\xfc"s + le(v, 2); }
std::string lenstr(const std::string& s) { return packed(s.size()) + s; }

// ---------------------------------------------------------------- JSON

/// A binary JSON value: its type byte and its bytes.
struct jval {
  uint8_t type;
  std::string data;
};

std::string varlen(size_t n) {
  std::string out;
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    out += static_cast<char>(n ? b | 0x80 : b);
  } while (n);
  return out;
}

jval jlit(uint8_t v) { return {0x04, std::string(1, static_cast<char>(v))}; }
jval jint16(int16_t v) { return {0x05, le(static_cast<uint16_t>(v), 2)}; }
jval jint32(int32_t v) { return {0x07, le(static_cast<uint32_t>(v), 4)}; }
jval jint64(int64_t v) { return {0x09, le(static_cast<uint64_t>(v), 8)}; }
jval juint64(uint64_t v) { return {0x0a, le(v, 8)}; }
jval jdouble(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return {0x0b, le(bits, 8)};
}
jval jstr(const std::string& s) { return {0x0c, varlen(s.size()) + s}; }

/// An object (keys given) or array, small (2-byte offsets) or large.
jval jcontainer(bool object, bool large, const std::vector<std::pair<std::string, jval>>& items) {
  size_t w = large ? 4 : 2, n = items.size();
  auto inlined = [&](uint8_t t) {
    return t == 0x04 || t == 0x05 || t == 0x06 || (large && (t == 0x07 || t == 0x08));
  };
  size_t offset = 2 * w + (object ? n * (w + 2) : 0) + n * (1 + w);
  std::string key_entries, value_entries, keys, values;
  for (const auto& [k, v] : items) {
    if (!object) continue;
    key_entries += le(offset, w) + le(k.size(), 2);
    keys += k;
    offset += k.size();
  }
  for (const auto& [k, v] : items) {
    value_entries += static_cast<char>(v.type);
    if (inlined(v.type)) {
      std::string d = v.data;
      d.resize(w, '\0');
      value_entries += d;
    } else {
      value_entries += le(offset, w);
      values += v.data;
      offset += v.data.size();
    }
  }
  std::string body = le(n, w) + le(offset, w) + key_entries + value_entries + keys + values;
  return {static_cast<uint8_t>(object ? (large ? 0x01 : 0x00) : (large ? 0x03 : 0x02)), body};
}

std::string doc(const jval& v) { return std::string(1, static_cast<char>(v.type)) + v.data; }

std::string json_text(const std::string& bytes) {
  cursor in(bytes.data(), bytes.size());
  return mysql_json_text(in);
}

TEST(mysql_json, prints_scalars_as_mysql_does) {
  EXPECT_EQ(json_text(""), "null");
  EXPECT_EQ(json_text(doc(jlit(0))), "null");
  EXPECT_EQ(json_text(doc(jlit(1))), "true");
  EXPECT_EQ(json_text(doc(jlit(2))), "false");
  EXPECT_EQ(json_text(doc(jint16(-5))), "-5");
  EXPECT_EQ(json_text(doc({0x06, le(65535, 2)})), "65535");
  EXPECT_EQ(json_text(doc(jint32(-2147483647 - 1))), "-2147483648");
  EXPECT_EQ(json_text(doc({0x08, le(4294967295u, 4)})), "4294967295");
  EXPECT_EQ(json_text(doc(jint64(INT64_MIN))), "-9223372036854775808");
  EXPECT_EQ(json_text(doc(juint64(UINT64_MAX))), "18446744073709551615");
  EXPECT_EQ(json_text(doc(jdouble(1.5))), "1.5");
  EXPECT_EQ(json_text(doc(jdouble(3))), "3.0");
  EXPECT_EQ(json_text(doc(jdouble(1e300))), "1e300");
  EXPECT_EQ(json_text(doc(jdouble(-0.000025))), "-0.000025");
  EXPECT_EQ(json_text(doc(jstr("a\"b\\c\n\t\x01 ü"))), "\"a\\\"b\\\\c\\n\\t\\u0001 ü\"");
  std::string long_text(300, 'x');  // a two-byte length
  EXPECT_EQ(json_text(doc(jstr(long_text))), "\"" + long_text + "\"");
}

TEST(mysql_json, prints_opaque_decimals_and_temporals) {
  // DECIMAL(4,2) 12.34: precision, scale, then the binary decimal.
  std::string dec = "\x04\x02"s + "\x8c\x22"s;
  EXPECT_EQ(json_text("\x0f\xf6"s + varlen(dec.size()) + dec), "12.34");
  // DATE 2024-05-06 and DATETIME 2024-05-06 07:08:09.5, packed as
  // (((year*13+month) << 5 | day) << 17 | hour << 12 | minute << 6 | second) << 24 | micros.
  uint64_t ymd = (uint64_t{2024} * 13 + 5) << 5 | 6;
  uint64_t date = (ymd << 17) << 24;
  uint64_t dt = ((ymd << 17) | (7 << 12) | (8 << 6) | 9) << 24 | 500000;
  EXPECT_EQ(json_text("\x0f\x0a"s + varlen(8) + le(date, 8)), "\"2024-05-06\"");
  EXPECT_EQ(json_text("\x0f\x0c"s + varlen(8) + le(dt, 8)), "\"2024-05-06 07:08:09.500000\"");
  EXPECT_EQ(json_text("\x0f\xfc"s + varlen(2) + "\x01\x02"s), "\"base64:type252:AQI=\"");
}

TEST(mysql_json, prints_objects_and_arrays_small_and_large_and_nested) {
  jval arr = jcontainer(false, false, {{"", jlit(1)}, {"", jlit(0)}, {"", jstr("x")}});
  jval inner = jcontainer(true, false, {{"deep", jcontainer(false, false, {{"", jint16(7)}})}});
  std::vector<std::pair<std::string, jval>> items = {
    {"a", jint16(1)}, {"bb", arr}, {"c", jdouble(1.5)}, {"n", inner}, {"big", jint32(100000)}};
  std::string expected =
    "{\"a\": 1, \"bb\": [true, null, \"x\"], \"c\": 1.5, \"n\": {\"deep\": [7]}, \"big\": "
    "100000}";
  EXPECT_EQ(json_text(doc(jcontainer(true, false, items))), expected);
  EXPECT_EQ(json_text(doc(jcontainer(true, true, items))), expected);
  EXPECT_EQ(json_text(doc(jcontainer(false, true, {{"", jint32(-3)}, {"", jstr("")}}))),
            "[-3, \"\"]");
  EXPECT_EQ(json_text(doc(jcontainer(false, false, {}))), "[]");
  EXPECT_EQ(json_text(doc(jcontainer(true, false, {}))), "{}");
}

void expect_bad_json(const std::string& bytes, const std::string& part) {
  try {
    json_text(bytes);
    ADD_FAILURE() << "decodes bad JSON; expected: " << part;
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data);
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(mysql_json, malformed_values_are_errors_not_reads_past_the_end) {
  std::string obj = doc(jcontainer(true, false, {{"a", jstr("hello")}}));
  for (size_t len = 1; len < obj.size(); ++len) EXPECT_THROW(json_text(obj.substr(0, len)), error);
  std::string bad_offset = obj;
  bad_offset[1 + 4 + 4 + 1] = '\x7f';  // the value's offset
  expect_bad_json(bad_offset, "past its container's end");
  expect_bad_json("\x0d"s, "bad JSON type 0x0d");
  expect_bad_json("\x04\x07"s, "bad JSON literal 7");
  expect_bad_json("\x0c\xff\xff\xff\xff\xff"s, "JSON length longer than 5 bytes");
  jval deep = jint16(1);
  for (int i = 0; i < 200; ++i) deep = jcontainer(false, true, {{"", deep}});
  expect_bad_json(doc(deep), "nested deeper than 150");
}

// ---------------------------------------------------------------- events

/// A MySQL 8 event: header, body, CRC32.
std::string event(event_type type, const std::string& body, uint32_t log_pos,
                  uint32_t timestamp = 1704164645) {
  std::string ev = le(timestamp, 4) + static_cast<char>(type) + le(1, 4) +
                   le(19 + body.size() + 4, 4) + le(log_pos, 4) + le(0, 2) + body;
  return ev + le(crc32_of(ev.data(), ev.size()), 4);
}

/// MySQL 8.0's FORMAT_DESCRIPTION: 41 post-header lengths.
std::string format_description() {
  std::string lens(41, '\0');
  lens[2 - 1] = 13;   // QUERY
  lens[4 - 1] = 8;    // ROTATE
  lens[15 - 1] = 98;  // FORMAT_DESCRIPTION
  lens[19 - 1] = 8;   // TABLE_MAP
  for (int t : {23, 24, 25}) lens[t - 1] = 8;
  for (int t : {30, 31, 32}) lens[t - 1] = 10;
  lens[33 - 1] = lens[34 - 1] = 42;
  lens[40 - 1] = 40;
  std::string version = "8.0.36";
  version.resize(50, '\0');
  std::string body = le(4, 2) + version + le(0, 4) + "\x13"s + lens;
  // The algorithm byte, then the checksum of everything before it (event()
  // appends it; the FORMAT_DESCRIPTION counts its algorithm byte in).
  return event(event_type::format_description, body + "\x01"s, 120);
}

const char* sid = "\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62";

std::string gtid_body(uint8_t flags, const std::string& source, int64_t gno) {
  uint64_t more = uint64_t{1} << 55;
  return std::string(1, static_cast<char>(flags)) + source + le(static_cast<uint64_t>(gno), 8) +
         "\x02"s + le(7, 8) + le(8, 8) + le(1704164645123456u | more, 7) +
         le(1704164645000001u, 7) + packed(300) + le(80036, 4);
}

TEST(mysql_events, decodes_gtid_anonymous_gtid_and_previous_gtids) {
  decoder d;
  d.set_file("binlog.000003");
  auto f = d.decode(format_description());
  const auto& fd = std::get<format_description_event>(f.body);
  EXPECT_FALSE(fd.mariadb());
  EXPECT_EQ(fd.server_version, "8.0.36");
  EXPECT_EQ(fd.checksum, checksum_alg::crc32);

  auto g = d.decode(event(event_type::mysql_gtid, gtid_body(1, sid, 23), 500));
  const auto& gt = std::get<mysql_gtid_event>(g.body);
  EXPECT_EQ(gt.text(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
  EXPECT_EQ(gt.last_committed, 7);
  EXPECT_EQ(gt.sequence_number, 8);
  EXPECT_EQ(gt.immediate_commit_us, 1704164645123456u);
  EXPECT_EQ(gt.original_commit_us, 1704164645000001u);
  EXPECT_EQ(gt.transaction_length, 300u);
  EXPECT_EQ(d.transaction().gtid, "3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
  EXPECT_EQ(d.transaction().begin_pos, 500u - 19 - 4 - gtid_body(1, sid, 23).size());

  auto a =
    d.decode(event(event_type::mysql_anonymous_gtid, gtid_body(0, std::string(16, '\0'), 0), 900));
  EXPECT_TRUE(std::get<mysql_gtid_event>(a.body).anonymous);
  EXPECT_EQ(std::get<mysql_gtid_event>(a.body).text(), "");

  // An old-style GTID event without the logical clock still decodes.
  auto old = d.decode(event(event_type::mysql_gtid, "\x01"s + sid + le(9, 8), 1000));
  EXPECT_EQ(std::get<mysql_gtid_event>(old.body).text(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:9");

  std::string prev = le(2, 8) + sid + le(2, 8) + le(1, 8) + le(6, 8) + le(7, 8) + le(8, 8) +
                     std::string(15, '\0') + "\x01"s + le(1, 8) + le(1, 8) + le(4, 8);
  auto p = d.decode(event(event_type::mysql_previous_gtids, prev, 1200));
  EXPECT_EQ(std::get<previous_gtids_event>(p.body).gtid_set,
            "00000000-0000-0000-0000-000000000001:1-3,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7");
}

TEST(mysql_events, a_transaction_payload_asks_to_turn_compression_off) {
  decoder d;
  d.set_file("binlog.000003");
  d.decode(format_description());
  try {
    d.decode(event(event_type::transaction_payload, "\x02\x01\x00\x03\x01\x00"s + "zstd!", 4000));
    FAIL() << "reads a compressed transaction";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::source_state);
    std::string what = e.what();
    EXPECT_NE(what.find("binlog.000003:4000"), std::string::npos) << what;
    EXPECT_NE(what.find("SET PERSIST binlog_transaction_compression = OFF"), std::string::npos)
      << what;
  }
}

/// TABLE_MAP of shop.orders: id INT, name VARCHAR(40) utf8mb4, doc JSON,
/// ts TIMESTAMP(3), amount DECIMAL(10,2), big BIGINT UNSIGNED, with MySQL
/// 8's full optional metadata.
std::string orders_map(uint64_t table_id) {
  std::string types = "\x03\x0f\xf5\x11\xf6\x08"s;
  std::string meta = le(160, 2) + "\x04"s + "\x03"s + "\x0a\x02"s;
  std::string optional;
  auto tlv = [&](uint8_t t, const std::string& v) {
    optional += static_cast<char>(t) + packed(v.size()) + v;
  };
  tlv(1, "\x20"s);      // signedness of id, amount, big: unsigned big only
  tlv(2, packed(255));  // default charset utf8mb4_0900_ai_ci
  tlv(4, lenstr("id") + lenstr("name") + lenstr("doc") + lenstr("ts") + lenstr("amount") +
           lenstr("big"));
  tlv(8, packed(0));  // primary key: id
  tlv(12, "\xfc"s);   // column visibility (ignored)
  return le(table_id, 6) + le(1, 2) + "\x04shop\0"s + "\x06orders\0"s + packed(6) + types +
         packed(meta.size()) + meta + "\x3e"s + optional;
}

/// One row of orders, every column present.
std::string orders_row(int32_t id, const std::string& name, const std::string& json, uint32_t secs,
                       uint16_t frac, const std::string& decimal, uint64_t big,
                       bool name_null = false) {
  std::string nulls(1, name_null ? '\x02' : '\x00');
  std::string out = nulls + le(static_cast<uint32_t>(id), 4);
  if (!name_null) out += le(name.size(), 1) + name;
  return out + le(json.size(), 4) + json + be(secs, 4) + be(frac, 2) + decimal + le(big, 8);
}

TEST(mysql_events, decodes_v2_rows_events_with_extra_data_and_json_columns) {
  decoder d;
  d.set_file("binlog.000003");
  d.decode(format_description());
  d.decode(event(event_type::mysql_gtid, gtid_body(1, sid, 24), 300));
  d.decode(event(event_type::query,
                 le(9, 4) + le(0, 4) + "\x04"s + le(0, 2) + le(0, 2) + "shop\0BEGIN"s, 400));
  auto rq = d.decode(event(event_type::rows_query, "\x20INSERT INTO orders VALUES (...)"s, 500));
  EXPECT_EQ(std::get<annotate_rows_event>(rq.body).statement, "INSERT INTO orders VALUES (...)");
  auto tm = d.decode(event(event_type::table_map, orders_map(91), 600));
  const auto& map = std::get<table_map>(tm.body);
  EXPECT_EQ(map.table, "orders");
  EXPECT_EQ(map.columns[2].real_type, column_type::json);
  EXPECT_EQ(map.columns[5].unsigned_flag, 1);
  EXPECT_EQ(map.columns[1].collation, 255u);
  EXPECT_EQ(map.primary_key, (std::vector<uint32_t>{0}));

  std::string doc1 = doc(
    jcontainer(true, false, {{"k", jcontainer(false, false, {{"", jint16(1)}, {"", jint16(2)}})}}));
  std::string pos_dec = "\x80\x00\x04\xd2\x32"s;  // 1234.50
  std::string neg_dec = "\x7f\xff\xfb\x2d\xcd"s;  // -1234.50
  std::string head = le(91, 6) + le(1, 2) + le(2 + 3, 2) + "\x00\x01\x02"s + packed(6);
  std::string write = head + "\x3f"s +
                      orders_row(1, "Grüße", doc1, 1704164645, 1230, pos_dec, UINT64_MAX) +
                      orders_row(2, "", doc(jlit(0)), 0, 0, neg_dec, 0, true);
  auto w = d.decode(event(event_type::write_rows_v2, write, 900));
  const auto& wr = std::get<rows_event>(w.body);
  ASSERT_EQ(wr.after.size(), 2u);

  table_schema s;
  s.id = table_id{"shop", "", "orders"};
  auto add = [&](const char* name, value_kind k, int32_t p = 0, int32_t sc = 0) {
    column_info c;
    c.name = name;
    c.kind = k;
    c.precision = p;
    c.scale = sc;
    s.columns.push_back(c);
  };
  add("id", value_kind::int32);
  add("name", value_kind::text);
  add("doc", value_kind::json);
  add("ts", value_kind::timestamptz, 3);
  add("amount", value_kind::decimal, 10, 2);
  add("big", value_kind::uint64);
  row_converter conv(s, map);
  row r0 = conv.convert(wr.after[0]);
  std::vector<std::string> want0 = {"1",
                                    "Grüße",
                                    "{\"k\": [1, 2]}",
                                    "2024-01-02 03:04:05.123+00",
                                    "1234.50",
                                    "18446744073709551615"};
  for (size_t i = 0; i < want0.size(); ++i) EXPECT_EQ(r0.cells[i], make_cell(want0[i])) << i;
  row r1 = conv.convert(wr.after[1]);
  EXPECT_TRUE(r1.cells[1].null);
  EXPECT_EQ(r1.cells[2], make_cell("null"));
  EXPECT_EQ(r1.cells[3], make_cell("0000-00-00 00:00:00.000"));
  EXPECT_EQ(r1.cells[4], make_cell("-1234.50"));

  // An UPDATE with both images, then a DELETE.
  std::string upd = le(91, 6) + le(1, 2) + le(2, 2) + packed(6) + "\x3f\x3f"s +
                    orders_row(1, "Grüße", doc1, 1704164645, 1230, pos_dec, UINT64_MAX) +
                    orders_row(1, "new", doc(jstr("s")), 1704164645, 0, pos_dec, 5);
  auto u = d.decode(event(event_type::update_rows_v2, upd, 1100));
  const auto& ur = std::get<rows_event>(u.body);
  ASSERT_EQ(ur.before.size(), 1u);
  EXPECT_EQ(conv.convert(ur.after[0]).cells[1], make_cell("new"));
  EXPECT_EQ(conv.convert(ur.after[0]).cells[2], make_cell("\"s\""));
  std::string del = le(91, 6) + le(1, 2) + le(2, 2) + packed(6) + "\x3f"s +
                    orders_row(2, "", doc(jlit(0)), 0, 0, neg_dec, 0, true);
  auto x = d.decode(event(event_type::delete_rows_v2, del, 1300));
  EXPECT_EQ(std::get<rows_event>(x.body).kind, rows_kind::remove);
  EXPECT_EQ(conv.convert(std::get<rows_event>(x.body).before[0]).cells[0], make_cell("2"));

  auto xid = d.decode(event(event_type::xid, le(77, 8), 1400, 1704164646));
  EXPECT_EQ(std::get<xid_event>(xid.body).xid, 77u);
  EXPECT_TRUE(d.transaction().committed);
  EXPECT_EQ(d.transaction().gtid, "3e11fa47-71ca-11e1-9e33-c80aa9429562:24");
  EXPECT_EQ(d.transaction().commit_ts_ms, 1704164646000);
  // The commit key is the first event's place, the release key the end's.
  EXPECT_EQ(d.transaction().commit_key(),
            (uint64_t{3} << 32) | (300 - 19 - 4 - gtid_body(1, sid, 24).size()));
  EXPECT_EQ(d.transaction().release_key(), (uint64_t{3} << 32) | 1400);
}

TEST(mysql_events, commit_keys_order_across_files) {
  EXPECT_LT(position_key("binlog.000003", 4000000000u), position_key("binlog.000004", 4));
  EXPECT_EQ(file_sequence("mysql-bin.000042"), 42u);
  EXPECT_THROW(file_sequence("mysql-bin"), error);
  EXPECT_THROW(file_sequence("mysql-bin.x1"), error);
}

// What the dispatcher and the checkpoints rely on: binlog_changes keys each
// transaction by its first event, strictly growing across a ROTATE too, and
// its release (its end) lies between its own commit key and the next one's.
TEST(mysql_events, commit_keys_grow_strictly_across_a_rotate) {
  binlog_changes changes({}, source_kind::mysql, heartbeat_config{}, snapshot_handoff{}, true);
  change_feed feed;
  auto add = [&](const std::string& bytes) {
    binlog_event e;
    e.data = bytes;
    changes.add(e, feed);
  };
  auto begin = [](uint32_t at) {
    return event(event_type::query,
                 le(9, 4) + le(0, 4) + "\x04"s + le(0, 2) + le(0, 2) + "shop\0BEGIN"s, at);
  };
  // The dump's made-up ROTATE names the first file.
  add(event(event_type::rotate, le(4, 8) + "binlog.000003"s, 0));
  add(format_description());
  add(event(event_type::mysql_gtid, gtid_body(1, sid, 30), 300));
  add(begin(400));
  add(event(event_type::xid, le(1, 8), 500));
  add(event(event_type::mysql_gtid, gtid_body(1, sid, 31), 600));
  add(begin(700));
  add(event(event_type::xid, le(2, 8), 800));
  // The file ends; the next starts again at small offsets.
  add(event(event_type::rotate, le(4, 8) + "binlog.000004"s, 900));
  add(format_description());
  add(event(event_type::mysql_gtid, gtid_body(1, sid, 32), 200));
  add(begin(300));
  add(event(event_type::xid, le(3, 8), 400));

  ASSERT_EQ(feed.txns.size(), 3u);
  uint64_t gtid_size = 19 + gtid_body(1, sid, 30).size() + 4;
  EXPECT_EQ(feed.txns[0].commit, (uint64_t{3} << 32) | (300 - gtid_size));
  EXPECT_EQ(feed.txns[0].release, (uint64_t{3} << 32) | 500);
  EXPECT_EQ(feed.txns[2].commit, (uint64_t{4} << 32) | (200 - gtid_size));
  EXPECT_EQ(feed.txns[2].release, (uint64_t{4} << 32) | 400);
  for (size_t i = 0; i < feed.txns.size(); ++i) {
    EXPECT_TRUE(feed.txns[i].last);
    EXPECT_LT(feed.txns[i].commit, feed.txns[i].release);
    if (i == 0) continue;
    EXPECT_LT(feed.txns[i - 1].commit, feed.txns[i].commit);
    EXPECT_LE(feed.txns[i - 1].release, feed.txns[i].commit);
  }
  // A release names where to restart, in either file.
  auto at = changes.position_of(feed.txns[1].release);
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(at->file, "binlog.000003");
  EXPECT_EQ(at->pos, 800u);
}

}  // namespace
}  // namespace trib::test
