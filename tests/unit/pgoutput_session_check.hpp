#pragma once
// The expected pgoutput stream of the session that
// tests/integration/pg_replication_test.cpp runs (and that
// tests/data/pgoutput/session.hex captures): both the live test and the
// unit test on the captured bytes check decoded messages with this, so the
// captured file and the live server are held to the same facts.

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "actors/source/pgoutput.hpp"

namespace trib::test {

/// The statements of the session, after the slot exists. `items` has
/// REPLICA IDENTITY DEFAULT (primary key id); `full_t` has FULL.
inline std::vector<std::string> pgoutput_session_statements() {
  return {
    "INSERT INTO items VALUES (2, 'a2', 12.5, '\\x00ff', '2024-01-02 05:04:05.5+02', true, "
    "'1 day 2 hours', NULL)",
    "UPDATE items SET name = 'b' WHERE id = 1",
    "UPDATE items SET id = 10 WHERE id = 2",
    "DELETE FROM items WHERE id = 10",
    "BEGIN; INSERT INTO items (id, name) VALUES (99, 'rolled back'); ROLLBACK",
    "INSERT INTO full_t VALUES (1, 'x')",
    "UPDATE full_t SET v = 'y' WHERE id = 1",
    "DELETE FROM full_t WHERE id = 1",
    "INSERT INTO items (id, name, big) VALUES (3, 'a3', repeat('z', 2500))",
    "UPDATE items SET name = 'c' WHERE id = 3",
    "TRUNCATE full_t",
  };
}

/// Tables of the session; `big` is stored out of line and uncompressed, so
/// an UPDATE that leaves it alone sends it as unchanged TOAST.
inline const char* pgoutput_session_schema() {
  return "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), data bytea, "
         "at timestamptz, flag bool, span interval, big text);"
         "ALTER TABLE items ALTER COLUMN big SET STORAGE EXTERNAL;"
         "CREATE TABLE full_t (id int PRIMARY KEY, v text);"
         "ALTER TABLE full_t REPLICA IDENTITY FULL;"
         "INSERT INTO items VALUES (1, 'a1', 1, '\\x', '2000-01-01 00:00:00+00', false, "
         "'-3 seconds', NULL)";
}

/// A transaction as decoded: its begin, what came between, its commit.
struct pg_txn {
  pg_begin begin;
  std::vector<pg_message> body;
  pg_commit commit;
};

/// Groups messages into transactions; fails the test on a change outside
/// one or an unclosed one.
inline std::vector<pg_txn> group_transactions(const std::vector<pg_message>& msgs) {
  std::vector<pg_txn> out;
  bool open = false;
  for (const auto& m : msgs) {
    if (auto b = std::get_if<pg_begin>(&m)) {
      EXPECT_FALSE(open) << "begin inside a transaction";
      out.push_back(pg_txn{*b, {}, {}});
      open = true;
    } else if (auto c = std::get_if<pg_commit>(&m)) {
      EXPECT_TRUE(open) << "commit outside a transaction";
      if (!open) continue;
      out.back().commit = *c;
      open = false;
    } else {
      EXPECT_TRUE(open) << "message outside a transaction";
      if (open) out.back().body.push_back(m);
    }
  }
  EXPECT_FALSE(open) << "unfinished transaction";
  return out;
}

/// Number of transactions of pgoutput_session_statements that commit changes.
constexpr size_t pgoutput_session_commits = 10;

inline std::vector<cell> cells(std::initializer_list<const char*> texts) {
  std::vector<cell> out;
  for (const char* t : texts) out.push_back(t ? make_cell(t) : null_cell());
  return out;
}

/// The changes (not relations) of a transaction.
inline std::vector<pg_message> changes_of(const pg_txn& t) {
  std::vector<pg_message> out;
  for (const auto& m : t.body)
    if (!std::holds_alternative<pg_relation>(m) && !std::holds_alternative<pg_type>(m))
      out.push_back(m);
  return out;
}

/// Checks the decoded stream of the session.
inline void check_pgoutput_session(const std::vector<pg_message>& msgs) {
  auto all = group_transactions(msgs);
  std::vector<pg_txn> txns;
  // PostgreSQL 15 skips empty transactions, but tolerate them anyway.
  for (auto& t : all)
    if (!changes_of(t).empty()) txns.push_back(t);
  ASSERT_EQ(txns.size(), pgoutput_session_commits);

  uint32_t items_id = 0, full_id = 0;
  for (const auto& m : msgs) {
    if (auto r = std::get_if<pg_relation>(&m)) {
      EXPECT_EQ(r->schema, "public");
      if (r->name == "items") {
        items_id = r->id;
        ASSERT_EQ(r->columns.size(), 8u);
        EXPECT_EQ(r->columns[0].name, "id");
        EXPECT_TRUE(r->columns[0].key);
        EXPECT_FALSE(r->columns[1].key);
        EXPECT_EQ(r->columns[0].type_oid, 23u);  // int4
        EXPECT_EQ(r->columns[3].type_oid, 17u);  // bytea
        EXPECT_EQ(r->columns[2].type_modifier, ((10 << 16) | 2) + 4);
        EXPECT_EQ(r->replica_identity, 'd');
      } else if (r->name == "full_t") {
        full_id = r->id;
        EXPECT_EQ(r->replica_identity, 'f');
      }
    }
  }
  ASSERT_NE(items_id, 0u);
  ASSERT_NE(full_id, 0u);

  uint64_t last_end = 0;
  for (const auto& t : txns) {
    EXPECT_EQ(t.begin.final_lsn, t.commit.commit_lsn);
    EXPECT_GT(t.commit.end_lsn, t.commit.commit_lsn);
    EXPECT_EQ(t.begin.commit_time, t.commit.commit_time);
    EXPECT_GT(t.commit.end_lsn, last_end) << "commits out of order";
    last_end = t.commit.end_lsn;
  }

  auto change = [&](size_t txn) -> pg_change {
    auto ch = changes_of(txns[txn]);
    EXPECT_EQ(ch.size(), 1u) << "transaction " << txn;
    auto c = std::get_if<pg_change>(&ch.at(0));
    EXPECT_NE(c, nullptr) << "transaction " << txn;
    return c ? *c : pg_change{};
  };

  // 0: insert with every type converted to canonical text.
  auto c = change(0);
  EXPECT_EQ(c.kind, pg_change_kind::insert);
  EXPECT_EQ(c.relation_id, items_id);
  EXPECT_FALSE(c.old_tuple);
  ASSERT_TRUE(c.new_tuple);
  auto want = cells({"2", "a2", "12.50", nullptr, "2024-01-02 03:04:05.5+00", "t", "P1DT2H",
                      nullptr});
  want[3] = make_cell(std::string("\0\xff", 2));  // raw bytes, not hex
  EXPECT_EQ(c.new_tuple->values.cells, want);
  EXPECT_FALSE(c.new_tuple->has_unchanged_toast());

  // 1: update of a non-key column under DEFAULT: no old tuple.
  c = change(1);
  EXPECT_EQ(c.kind, pg_change_kind::update);
  EXPECT_FALSE(c.old_tuple);
  ASSERT_TRUE(c.new_tuple);
  EXPECT_EQ(c.new_tuple->values.cells,
            cells({"1", "b", "1.00", "", "2000-01-01 00:00:00+00", "f", "PT-3S", nullptr}));

  // 2: key change: the old key only.
  c = change(2);
  EXPECT_EQ(c.kind, pg_change_kind::update);
  ASSERT_TRUE(c.old_tuple);
  EXPECT_TRUE(c.key_only);
  EXPECT_EQ(c.old_tuple->values.cells,
            cells({"2", nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}));
  ASSERT_TRUE(c.new_tuple);
  EXPECT_EQ(c.new_tuple->values.cells.at(0), make_cell("10"));

  // 3: delete under DEFAULT: the key only.
  c = change(3);
  EXPECT_EQ(c.kind, pg_change_kind::remove);
  EXPECT_TRUE(c.key_only);
  EXPECT_FALSE(c.new_tuple);
  ASSERT_TRUE(c.old_tuple);
  EXPECT_EQ(c.old_tuple->values.cells.at(0), make_cell("10"));

  // The rolled-back insert of id 99 is nowhere.
  for (const auto& m : msgs) {
    if (auto ch = std::get_if<pg_change>(&m); ch && ch->new_tuple) {
      EXPECT_FALSE(ch->new_tuple->values.cells.at(0) == make_cell("99"));
    }
  }

  // 4-6: REPLICA IDENTITY FULL carries whole old rows.
  c = change(4);
  EXPECT_EQ(c.kind, pg_change_kind::insert);
  EXPECT_EQ(c.relation_id, full_id);
  c = change(5);
  EXPECT_EQ(c.kind, pg_change_kind::update);
  ASSERT_TRUE(c.old_tuple);
  EXPECT_FALSE(c.key_only);
  EXPECT_EQ(c.old_tuple->values.cells, cells({"1", "x"}));
  ASSERT_TRUE(c.new_tuple);
  EXPECT_EQ(c.new_tuple->values.cells, cells({"1", "y"}));
  c = change(6);
  EXPECT_EQ(c.kind, pg_change_kind::remove);
  EXPECT_FALSE(c.key_only);
  ASSERT_TRUE(c.old_tuple);
  EXPECT_EQ(c.old_tuple->values.cells, cells({"1", "y"}));

  // 7-8: a TOASTed value is sent on insert, marked unchanged on update.
  c = change(7);
  ASSERT_TRUE(c.new_tuple);
  EXPECT_EQ(c.new_tuple->values.cells.at(7), make_cell(std::string(2500, 'z')));
  c = change(8);
  EXPECT_EQ(c.kind, pg_change_kind::update);
  ASSERT_TRUE(c.new_tuple);
  EXPECT_EQ(c.new_tuple->values.cells.at(1), make_cell("c"));
  EXPECT_TRUE(c.new_tuple->unchanged_toast.at(7));
  EXPECT_TRUE(c.new_tuple->values.cells.at(7).null);
  for (size_t i = 0; i < 7; ++i) EXPECT_FALSE(c.new_tuple->unchanged_toast.at(i));

  // 9: truncate.
  auto body = changes_of(txns[9]);
  ASSERT_EQ(body.size(), 1u);
  auto tr = std::get_if<pg_truncate>(&body[0]);
  ASSERT_NE(tr, nullptr);
  EXPECT_EQ(tr->relation_ids, std::vector<uint32_t>{full_id});
  EXPECT_FALSE(tr->cascade);
  EXPECT_FALSE(tr->restart_identity);
}

}  // namespace trib::test
