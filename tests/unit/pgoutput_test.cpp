// The pgoutput decoder on bytes captured from PostgreSQL 15 (no server
// needed), on every truncation of them, and on hand-made malformed messages.

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "actors/source/pg_text.hpp"
#include "actors/source/pgoutput.hpp"
#include "messages/failure.hpp"
#include "messages/position.hpp"
#include "tests/unit/pgoutput_session_check.hpp"

namespace trib::test {
namespace {

/// The captured payloads, one per hex line of tests/data/pgoutput/session.hex.
std::vector<std::string> captured_session() {
  std::ifstream in(std::string(TRIB_SOURCE_DIR) + "/tests/data/pgoutput/session.hex");
  EXPECT_TRUE(in) << "missing tests/data/pgoutput/session.hex";
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::string raw;
    for (size_t i = 0; i + 1 < line.size(); i += 2)
      raw += static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16));
    out.push_back(raw);
  }
  return out;
}

/// Big-endian pieces for hand-made messages.
std::string be16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
std::string be32(uint32_t v) { return be16(static_cast<uint16_t>(v >> 16)) + be16(static_cast<uint16_t>(v)); }
std::string str(const std::string& s) { return s + std::string(1, '\0'); }
std::string text_col(const std::string& v) { return "t" + be32(static_cast<uint32_t>(v.size())) + v; }

/// A Relation message: relation `id` "public.t" with columns (name, type oid).
std::string relation_msg(uint32_t id, const std::vector<std::pair<std::string, uint32_t>>& cols) {
  std::string m = "R" + be32(id) + str("public") + str("t") + "d" +
                  be16(static_cast<uint16_t>(cols.size()));
  for (size_t i = 0; i < cols.size(); ++i)
    m += std::string(1, i == 0 ? '\1' : '\0') + str(cols[i].first) + be32(cols[i].second) +
         be32(0xffffffff);
  return m;
}

/// Expects decode(bytes) to fail with bad_data and a message naming `what`.
void expect_bad(pgoutput_decoder& d, const std::string& bytes, const std::string& what) {
  try {
    d.decode(bytes);
    ADD_FAILURE() << "decodes a bad message; expected: " << what;
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data);
    EXPECT_EQ(std::string(e.what()), what);
  }
}

TEST(pgoutput, decodes_a_captured_session_to_canonical_cells) {
  auto raw = captured_session();
  ASSERT_FALSE(raw.empty());
  pgoutput_decoder d;
  std::vector<pg_message> msgs;
  for (const auto& m : raw) msgs.push_back(d.decode(m));
  check_pgoutput_session(msgs);
}

TEST(pgoutput, keeps_the_latest_description_of_each_relation) {
  pgoutput_decoder d;
  uint32_t items = 0;
  for (const auto& m : captured_session()) {
    auto msg = d.decode(m);
    if (auto r = std::get_if<pg_relation>(&msg); r && r->name == "items") items = r->id;
  }
  ASSERT_NE(d.relation(items), nullptr);
  EXPECT_EQ(d.relation(items)->columns.size(), 8u);
  EXPECT_EQ(d.relation(items + 100000), nullptr);

  // A schema change arrives as a new Relation message for the same id.
  d.decode(relation_msg(items, {{"id", 23}, {"extra", 25}}));
  ASSERT_EQ(d.relation(items)->columns.size(), 2u);
  auto msg = d.decode("I" + be32(items) + "N" + be16(2) + text_col("5") + text_col("e"));
  EXPECT_EQ(std::get<pg_change>(msg).new_tuple->values.cells, cells({"5", "e"}));
}

TEST(pgoutput, rejects_every_truncation_of_every_captured_message) {
  auto raw = captured_session();
  pgoutput_decoder d;
  size_t checked = 0;
  for (const auto& m : raw) {
    for (size_t len = 0; len < m.size(); ++len) {
      pgoutput_decoder copy = d;  // the state this message was decoded in
      try {
        copy.decode(m.data(), len);
        ADD_FAILURE() << "decodes " << len << " of " << m.size() << " bytes of '" << m[0] << "'";
      } catch (const error& e) {
        EXPECT_EQ(e.code(), failure_code::bad_data);
        std::string what = e.what();
        EXPECT_EQ(what.rfind("pgoutput: ", 0), 0u) << what;
        EXPECT_NE(what.find(" at offset "), std::string::npos) << what;
      }
      ++checked;
    }
    // One byte too many is as wrong as one too few.
    pgoutput_decoder copy = d;
    EXPECT_THROW(copy.decode(m + std::string(1, '\0')), error);
    d.decode(m);
  }
  EXPECT_GT(checked, 1000u);
}

TEST(pgoutput, a_failed_relation_message_leaves_the_cache_alone) {
  pgoutput_decoder d;
  d.decode(relation_msg(7, {{"id", 23}}));
  auto longer = relation_msg(7, {{"id", 23}, {"v", 25}});
  EXPECT_THROW(d.decode(longer.substr(0, longer.size() - 1)), error);
  EXPECT_EQ(d.relation(7)->columns.size(), 1u);
}

TEST(pgoutput, names_what_is_wrong_and_where) {
  pgoutput_decoder d;
  expect_bad(d, "", "pgoutput: empty message at offset 0");
  expect_bad(d, "S" + be32(1) + "\1", "pgoutput: unsupported message type 'S' at offset 0");
  expect_bad(d, "I" + be32(9) + "N" + be16(0), "pgoutput: change of unknown relation 9 at offset 1");
  d.decode(relation_msg(9, {{"id", 23}, {"b", 17}}));
  expect_bad(d, "I" + be32(9) + "N" + be16(1) + text_col("1"),
             "pgoutput: tuple of 1 columns for relation 9 of 2 at offset 6");
  expect_bad(d, "I" + be32(9) + "X" + be16(2) + text_col("1") + "n",
             "pgoutput: insert without a new tuple at offset 5");
  expect_bad(d, "I" + be32(9) + "N" + be16(2) + text_col("1") + text_col("\\xZZ"),
             "pgoutput: reads bad hex in bytea in column b at offset 14");
  expect_bad(d, "I" + be32(9) + "N" + be16(2) + text_col("1") + "b" + be32(0),
             "pgoutput: unsupported tuple column kind 'b' at offset 14");
  expect_bad(d, "D" + be32(9) + "N" + be16(2) + "nn",
             "pgoutput: delete without an old tuple at offset 5");
  expect_bad(d, "U" + be32(9) + "K" + be16(2) + "nn",
             "pgoutput: truncated update new tuple tag at offset 10");
  // A huge relation count fails on length before anything is allocated.
  expect_bad(d, "T" + be32(0xffffffff) + "\0" + be32(9),
             "pgoutput: truncated truncate relation ids at offset 6");
  expect_bad(d, "Y" + be32(1) + "public", "pgoutput: unterminated type schema at offset 5");
}

TEST(pgoutput, decodes_the_rarer_messages) {
  pgoutput_decoder d;
  auto t = std::get<pg_truncate>(d.decode("T" + be32(2) + "\3" + be32(4) + be32(5)));
  EXPECT_EQ(t.relation_ids, (std::vector<uint32_t>{4, 5}));
  EXPECT_TRUE(t.cascade);
  EXPECT_TRUE(t.restart_identity);

  auto o = std::get<pg_origin>(d.decode("O" + be32(0) + be32(0x10) + str("node_a")));
  EXPECT_EQ(o.commit_lsn, 0x10u);
  EXPECT_EQ(o.name, "node_a");

  auto y = std::get<pg_type>(d.decode("Y" + be32(50000) + str("public") + str("mood")));
  EXPECT_EQ(y.oid, 50000u);
  EXPECT_EQ(y.name, "mood");

  auto m = std::get<pg_logical_message>(
    d.decode("M\1" + be32(0) + be32(0x20) + str("trib") + be32(3) + "abc"));
  EXPECT_TRUE(m.transactional);
  EXPECT_EQ(m.prefix, "trib");
  EXPECT_EQ(m.content, "abc");
}

TEST(pgoutput, converts_user_types_by_the_kind_it_is_told) {
  pgoutput_decoder d;
  d.decode(relation_msg(3, {{"id", 23}, {"blob", 50001}}));
  auto before = std::get<pg_change>(d.decode("I" + be32(3) + "N" + be16(2) + text_col("1") +
                                             text_col("\\x41")));
  EXPECT_EQ(before.new_tuple->values.cells.at(1), make_cell("\\x41"));
  d.set_type_kind(50001, value_kind::bytes);  // a domain over bytea
  auto after = std::get<pg_change>(d.decode("I" + be32(3) + "N" + be16(2) + text_col("1") +
                                            text_col("\\x41")));
  EXPECT_EQ(after.new_tuple->values.cells.at(1), make_cell("A"));
}

TEST(pg_text, parses_lsns_as_format_lsn_prints_them) {
  EXPECT_EQ(pg_parse_lsn("16/B374D848"), 0x16B374D848u);
  EXPECT_EQ(pg_parse_lsn("0/0"), 0u);
  EXPECT_EQ(format_lsn(pg_parse_lsn("FFFFFFFF/1")), "FFFFFFFF/1");
  for (const char* bad : {"", "12", "1/", "/1", "1/2/3", "g/1", "123456789/0", " 1/2"})
    EXPECT_THROW(pg_parse_lsn(bad), error) << bad;
}

TEST(pg_text, decodes_hex_bytea_to_raw_bytes) {
  EXPECT_EQ(pg_canonical_text(value_kind::bytes, "\\x", 2), "");
  EXPECT_EQ(pg_canonical_text(value_kind::bytes, "\\x00Ff", 6), std::string("\0\xff", 2));
  EXPECT_EQ(pg_canonical_text(value_kind::text, "\\x00", 4), "\\x00");
  EXPECT_THROW(pg_decode_bytea("\\x0", 3), error);
  EXPECT_THROW(pg_decode_bytea("00", 2), error);
  EXPECT_EQ(pg_builtin_kind(17), value_kind::bytes);
  EXPECT_EQ(pg_builtin_kind(25), value_kind::text);
}

}  // namespace
}  // namespace trib::test
