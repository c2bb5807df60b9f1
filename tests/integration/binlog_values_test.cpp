// The binlog decoder against the real MariaDB: rows written with random
// values of every type of the README's MariaDB table (and text in latin1,
// ucs2, utf16 and utf32 columns), updated, key-updated and deleted, are
// read back twice: by the snapshot session (the text protocol) and from the
// binlog, fetched over the replication protocol with mariadb-connector-c and
// decoded by binlog::decoder + row_converter. Replaying the decoded changes
// must give exactly the snapshot's rows, cell for cell.

#include <gtest/gtest.h>

#include <mysql.h>
// after mysql.h, which it needs
#include <mariadb_rpl.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "actors/source/binlog_cells.hpp"
#include "actors/source/binlog_decoder.hpp"
#include "actors/source/source_session.hpp"
#include "tests/integration/fixture.hpp"

namespace trib::test {
namespace {

using namespace trib::binlog;

const char* db = "binlog_values";

/// Runs one query on its own connection; rows as text (NULL as nullopt).
std::vector<std::vector<std::string>> maria_rows(const std::string& sql) {
  MYSQL* m = mysql_init(nullptr);
  if (!mysql_real_connect(m, "127.0.0.1", source_user(), source_password(), nullptr,
                          static_cast<unsigned>(mariadb_port()), nullptr, 0))
    throw std::runtime_error(std::string("connect: ") + mysql_error(m));
  std::vector<std::vector<std::string>> out;
  if (mysql_query(m, sql.c_str()) != 0) {
    std::string e = mysql_error(m);
    mysql_close(m);
    throw std::runtime_error(e);
  }
  MYSQL_RES* r = mysql_store_result(m);
  while (MYSQL_ROW row = mysql_fetch_row(r)) {
    out.emplace_back();
    for (unsigned i = 0; i < mysql_num_fields(r); ++i) out.back().push_back(row[i] ? row[i] : "");
  }
  mysql_free_result(r);
  mysql_close(m);
  return out;
}

/// Every event of the binlog from file:pos to its current end, as raw
/// bytes, over the replication protocol.
std::vector<std::string> dump_binlog(const std::string& file, unsigned long pos) {
  MYSQL* m = mysql_init(nullptr);
  if (!mysql_real_connect(m, "127.0.0.1", source_user(), source_password(), nullptr,
                          static_cast<unsigned>(mariadb_port()), nullptr, 0))
    throw std::runtime_error(std::string("connect: ") + mysql_error(m));
  // Without these the server refuses the dump (1236) or leaves out GTIDs.
  if (mysql_query(m, "SET @master_binlog_checksum = @@global.binlog_checksum, "
                     "@mariadb_slave_capability = 4") != 0)
    throw std::runtime_error(mysql_error(m));
  MARIADB_RPL* rpl = mariadb_rpl_init(m);
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file.c_str(), file.size());
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, pos);
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, 4711u);
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, MARIADB_RPL_BINLOG_DUMP_NON_BLOCK);
  if (mariadb_rpl_open(rpl) != 0) throw std::runtime_error(std::string("rpl open: ") + mysql_error(m));
  std::vector<std::string> out;
  MARIADB_RPL_EVENT* ev = nullptr;
  while ((ev = mariadb_rpl_fetch(rpl, ev))) {
    // The packet starts with the protocol's OK byte, then the event.
    const char* p = reinterpret_cast<const char*>(ev->raw_data);
    size_t n = ev->raw_data_size;
    uint32_t size = 0;
    if (n >= 14) std::memcpy(&size, p + 1 + 9, 4);
    if (n < 20 || size != n - 1) throw std::runtime_error("unexpected packet framing");
    out.emplace_back(p + 1, n - 1);
  }
  mariadb_free_rpl_event(ev);
  mariadb_rpl_close(rpl);
  mysql_close(m);
  return out;
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string hex(const std::string& s) {
  std::string out = "X'";
  for (unsigned char c : s) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out + "'";
}

/// Random values of every type, as SQL literals; NULL now and then.
struct value_maker {
  std::mt19937_64 rng{20261203};

  bool coin(int one_in) { return rng() % one_in == 0; }
  int64_t between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1)); }

  std::string num(int64_t lo, int64_t hi) { return std::to_string(between(lo, hi)); }
  std::string unum(uint64_t hi) { return std::to_string(hi ? rng() % hi : rng()); }
  std::string digits(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
    return s;
  }
  std::string decimal(int intg, int frac) {
    std::string s = (coin(2) ? "-" : "") + digits(static_cast<int>(between(1, intg)));
    if (frac) s += "." + digits(static_cast<int>(between(1, frac)));
    return s;
  }
  std::string dbl() {
    for (;;) {
      uint64_t bits = rng();
      double d;
      std::memcpy(&d, &bits, 8);
      if (!std::isfinite(d)) continue;
      // Spread over magnitudes people store, and over all of them.
      if (coin(2)) d = std::ldexp(static_cast<double>(rng() % 2000000) - 1e6, static_cast<int>(between(-60, 60)));
      char b[40];
      std::snprintf(b, sizeof b, "%.17g", d);
      return b;
    }
  }
  std::string flt() {
    for (;;) {
      auto bits = static_cast<uint32_t>(rng());
      float f;
      std::memcpy(&f, &bits, 4);
      if (!std::isfinite(f) || std::fabs(f) > 3.4e38f || (f != 0 && std::fabs(f) < 1.2e-38f)) continue;
      if (coin(2)) f = static_cast<float>(between(-100000, 100000)) / static_cast<float>(1 << between(0, 12));
      char b[40];
      std::snprintf(b, sizeof b, "%.9g", static_cast<double>(f));
      return b;
    }
  }
  std::string date() {
    char b[16];
    std::snprintf(b, sizeof b, "'%04d-%02d-%02d'", static_cast<int>(between(1000, 9999)),
                  static_cast<int>(between(1, 12)), static_cast<int>(between(1, 28)));
    return b;
  }
  std::string frac(int fsp) {
    if (fsp == 0) return "";
    return "." + digits(fsp);
  }
  std::string time(int fsp) {
    char b[32];
    std::snprintf(b, sizeof b, "%s%02d:%02d:%02d", coin(3) ? "-" : "",
                  static_cast<int>(between(0, 838)), static_cast<int>(between(0, 59)),
                  static_cast<int>(between(0, 59)));
    return "'" + std::string(b) + frac(fsp) + "'";
  }
  std::string datetime(int fsp, int lo_year, int hi_year) {
    char b[40];
    std::snprintf(b, sizeof b, "%04d-%02d-%02d %02d:%02d:%02d", static_cast<int>(between(lo_year, hi_year)),
                  static_cast<int>(between(1, 12)), static_cast<int>(between(1, 28)),
                  static_cast<int>(between(0, 23)), static_cast<int>(between(0, 59)),
                  static_cast<int>(between(0, 59)));
    return "'" + std::string(b) + frac(fsp) + "'";
  }
  /// Text drawn from ASCII, Latin-1, other BMP and astral characters.
  std::string text(size_t max_chars, bool latin1_only = false, bool bmp_only = false) {
    static const std::vector<std::string> pool = {"a", "Z", " ", "'", "\\", "é", "ß", "ü", "€",
                                                  "Œ", "ÿ", "世", "界", "Ω", "😀", "𝄞"};
    size_t n = static_cast<size_t>(between(0, static_cast<int64_t>(max_chars)));
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      const std::string& c = pool[rng() % pool.size()];
      if (latin1_only && (c == "世" || c == "界" || c == "Ω" || c == "😀" || c == "𝄞")) continue;
      if (bmp_only && (c == "😀" || c == "𝄞")) continue;
      s += c;
    }
    return quote(s);
  }
  std::string bytes(size_t max) {
    std::string s;
    size_t n = static_cast<size_t>(between(0, static_cast<int64_t>(max)));
    for (size_t i = 0; i < n; ++i) s += static_cast<char>(rng());
    return hex(s);
  }
  std::string bits(int n) {
    std::string s = "b'";
    for (int i = 0; i < n; ++i) s += coin(2) ? '1' : '0';
    return s + "'";
  }
  std::string set() {
    std::vector<std::string> all = {"x", "y", "z", "w"}, on;
    for (const auto& l : all)
      if (coin(2)) on.push_back(l);
    std::string s;
    for (const auto& l : on) s += (s.empty() ? "" : ",") + l;
    return quote(s);
  }
  std::string label() {
    static const std::vector<std::string> labels = {"a", "b", "c", "dé"};
    return quote(labels[rng() % labels.size()]);
  }
  std::string json() {
    static const std::vector<std::string> docs = {"{\"k\": [1, 2]}", "[]", "{\"a\":\"é\"}", "null", "3.5"};
    return quote(docs[rng() % docs.size()]);
  }
};

const char* create_sql = R"(
CREATE TABLE vals (
  id INT PRIMARY KEY,
  ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT,
  mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
  d38 DECIMAL(38,10), d65 DECIMAL(65,30), d5 DECIMAL(5,0), f FLOAT, f73 FLOAT(7,3), db DOUBLE,
  dt DATE, t0 TIME, t3 TIME(3), t6 TIME(6), dtm DATETIME, dtm2 DATETIME(2), dtm6 DATETIME(6),
  ts TIMESTAMP NULL DEFAULT NULL, ts4 TIMESTAMP(4) NULL DEFAULT NULL, y YEAR,
  c CHAR(10), vc VARCHAR(100), vl VARCHAR(400), la VARCHAR(20) CHARACTER SET latin1,
  lc CHAR(5) CHARACTER SET latin1, u2 VARCHAR(20) CHARACTER SET ucs2,
  u16 VARCHAR(20) CHARACTER SET utf16, u32 TEXT CHARACTER SET utf32,
  bn BINARY(6), vb VARBINARY(30), tx TEXT, mt MEDIUMTEXT, bl BLOB, lb LONGBLOB, j JSON,
  e ENUM('a','b','c','dé'), s SET('x','y','z','w'), b1 BIT(1), b9 BIT(9), b64 BIT(64)
) DEFAULT CHARSET = utf8mb4)";

std::string random_row(value_maker& v, int id) {
  std::vector<std::string> vals = {
    std::to_string(id), v.num(-128, 127), v.num(0, 255), v.num(-32768, 32767), v.num(0, 65535),
    v.num(-8388608, 8388607), v.num(0, 16777215), v.num(INT32_MIN, INT32_MAX), v.unum(4294967296u),
    std::to_string(static_cast<int64_t>(v.rng())), v.unum(0), v.decimal(28, 10),
    v.decimal(35, 30), v.decimal(5, 0), v.flt(), v.decimal(4, 3), v.dbl(), v.date(), v.time(0),
    v.time(3), v.time(6), v.datetime(0, 1000, 9999), v.datetime(2, 1000, 9999),
    v.datetime(6, 1000, 9999), v.datetime(0, 1971, 2037), v.datetime(4, 1971, 2037),
    v.num(1901, 2155), v.text(10), v.text(100), v.text(400), v.text(20, true), v.text(5, true),
    v.text(20, false, true), v.text(20), v.text(30), v.bytes(6), v.bytes(30), v.text(200),
    v.text(300), v.bytes(100), v.bytes(300), v.json(), v.label(),
    v.set(), v.bits(1), v.bits(9), v.bits(64)};
  std::string out = "(";
  for (size_t i = 0; i < vals.size(); ++i) {
    bool null = i > 0 && v.coin(12);
    out += (i ? ", " : "") + (null ? std::string("NULL") : vals[i]);
  }
  return out + ")";
}

/// Rows as text for messages.
std::string show(const row& r) {
  std::string out;
  for (const auto& c : r.cells) out += (out.empty() ? "" : " | ") + (c.null ? std::string("NULL") : c.text);
  return out;
}

TEST(binlog_values, replaying_decoded_changes_gives_the_snapshot_s_rows) {
  maria_exec(std::string("DROP DATABASE IF EXISTS ") + db + "; CREATE DATABASE " + db);
  auto status = maria_rows("SHOW MASTER STATUS");
  ASSERT_EQ(status.size(), 1u);
  std::string file = status[0][0];
  unsigned long pos = std::stoul(status[0][1]);

  maria_exec(std::string("USE ") + db + "; SET time_zone = '+00:00'; " + create_sql);
  value_maker v;
  const int rows = 300;
  for (int start = 1; start <= rows; start += 50) {
    std::string sql = std::string("USE ") + db + "; SET time_zone = '+00:00'; INSERT INTO vals VALUES ";
    for (int id = start; id < start + 50; ++id) sql += (id > start ? ", " : "") + random_row(v, id);
    maria_exec(sql);
  }
  // Updates of values, key updates, deletes; one transaction with all.
  maria_exec(std::string("USE ") + db + "; SET time_zone = '+00:00'; BEGIN; "
             "UPDATE vals SET db = -db, vc = CONCAT(vc, 'ü'), e = 'c' WHERE id % 7 = 0; "
             "UPDATE vals SET id = id + 1000 WHERE id % 11 = 0; "
             "DELETE FROM vals WHERE id % 13 = 0; COMMIT; "
             "UPDATE vals SET f = f * 3, t6 = NULL, ts4 = '2038-01-19 03:14:07.9999' WHERE id % 5 = 0");

  // What the snapshot reads.
  source_config cfg;
  cfg.kind = source_kind::mariadb;
  cfg.host = "127.0.0.1";
  cfg.port = mariadb_port();
  cfg.username = source_user();
  cfg.password = source_password();
  auto session = open_source(cfg);
  filter_config filter;
  filter.allow.push_back(filter_catalog{});
  filter.allow.back().catalog = db;
  auto tables = session->list_tables(filter, extractor_config{});
  ASSERT_EQ(tables.size(), 1u);
  const table_schema& schema = tables[0];
  std::map<int64_t, row> snapshot;
  {
    auto reader = session->open_table(schema, {}, "");
    for (auto batch = reader->next(1000); !batch.empty(); batch = reader->next(1000))
      for (auto& r : batch) snapshot[std::stoll(r.cells[0].text)] = r;
  }
  ASSERT_EQ(snapshot.size(), static_cast<size_t>(rows - rows / 13));

  // What the binlog says, replayed.
  auto events = dump_binlog(file, pos);
  decoder d;
  std::map<int64_t, row> replayed;
  size_t changes = 0;
  for (const auto& bytes : events) {
    auto ev = d.decode(bytes);
    auto* r = std::get_if<rows_event>(&ev.body);
    if (!r) continue;
    const table_map* map = d.table(r->table_id);
    ASSERT_NE(map, nullptr);
    if (map->database != db) continue;
    row_converter conv(schema, *map);
    for (size_t i = 0; i < r->row_count(); ++i, ++changes) {
      if (r->kind != rows_kind::write) {
        row old = conv.convert(r->before[i]);
        int64_t key = std::stoll(old.cells[0].text);
        ASSERT_TRUE(replayed.count(key)) << "a change of a row never inserted: " << key;
        EXPECT_EQ(show(replayed[key]), show(old)) << "the before image of row " << key;
        replayed.erase(key);
      }
      if (r->kind != rows_kind::remove) {
        row now = conv.convert(r->after[i]);
        replayed[std::stoll(now.cells[0].text)] = now;
      }
    }
  }
  EXPECT_GT(changes, static_cast<size_t>(rows));
  ASSERT_EQ(replayed.size(), snapshot.size());
  size_t differing = 0;
  for (const auto& [key, want] : snapshot) {
    ASSERT_TRUE(replayed.count(key)) << "row " << key << " is missing from the binlog";
    const row& got = replayed[key];
    for (size_t c = 0; c < want.cells.size(); ++c) {
      if (got.cells[c] == want.cells[c]) continue;
      if (++differing > 20) break;
      ADD_FAILURE() << "row " << key << " column " << schema.columns[c].name << " ("
                    << schema.columns[c].source_type << "): snapshot "
                    << (want.cells[c].null ? "NULL" : "'" + want.cells[c].text + "'")
                    << ", binlog "
                    << (got.cells[c].null ? "NULL" : "'" + got.cells[c].text + "'");
    }
  }
  maria_exec(std::string("DROP DATABASE ") + db);
}


TEST(binlog_values, types_logged_in_a_binary_form_are_refused_by_name) {
  maria_exec(std::string("DROP DATABASE IF EXISTS ") + db + "; CREATE DATABASE " + db);
  auto status = maria_rows("SHOW MASTER STATUS");
  ASSERT_EQ(status.size(), 1u);
  maria_exec(std::string("USE ") + db + "; CREATE TABLE addr (id INT PRIMARY KEY, ip INET6); "
             "INSERT INTO addr VALUES (1, '::1')");
  source_config cfg;
  cfg.kind = source_kind::mariadb;
  cfg.host = "127.0.0.1";
  cfg.port = mariadb_port();
  cfg.username = source_user();
  cfg.password = source_password();
  filter_config filter;
  filter.allow.push_back(filter_catalog{});
  filter.allow.back().catalog = db;
  auto tables = open_source(cfg)->list_tables(filter, extractor_config{});
  ASSERT_EQ(tables.size(), 1u);
  decoder d;
  bool refused = false;
  for (const auto& bytes : dump_binlog(status[0][0], std::stoul(status[0][1]))) {
    auto ev = d.decode(bytes);
    auto* m = std::get_if<table_map>(&ev.body);
    if (!m || m->table != "addr") continue;
    try {
      row_converter conv(tables[0], *m);
    } catch (const error& e) {
      EXPECT_EQ(std::string(e.what()),
                "binlog: column ip of binlog_values.addr (INET6) is logged in a binary form the "
                "binlog decoder does not turn into the snapshot's text");
      refused = true;
    }
  }
  EXPECT_TRUE(refused);
  maria_exec(std::string("DROP DATABASE ") + db);
}

}  // namespace
}  // namespace trib::test
