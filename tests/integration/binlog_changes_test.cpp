// Binlog events from the real MariaDB -> the change dispatcher's
// transactions (binlog_changes): what each statement becomes, what is
// dropped, and where a reader restarts.

#include <gtest/gtest.h>

#include "actors/source/binlog_changes.hpp"
#include "actors/source/source_session.hpp"
#include "tests/integration/fixture.hpp"

namespace trib::test {
namespace {

source_config source() {
  source_config cfg;
  cfg.kind = source_kind::mariadb;
  cfg.host = "127.0.0.1";
  cfg.port = mariadb_port();
  cfg.username = source_user();
  cfg.password = source_password();
  cfg.slave_server_ids = {4003};
  return cfg;
}

std::vector<table_schema> tables() {
  filter_config f;
  filter_catalog c;
  c.catalog = "binlog_changes_t";
  f.allow.push_back(c);
  return open_source(source())->list_tables(f, {});
}

/// The binlog's end now, from a consistent snapshot's position.
binlog_start end_of_binlog() {
  auto s = open_source(source());
  auto p = s->begin_snapshot();
  s->end_snapshot();
  binlog_start b;
  b.file = p.binlog_file;
  b.pos = p.binlog_pos;
  return b;
}

/// Every transaction from `from` to the end of the binlog, as whole
/// transactions (parts merged).
struct result {
  std::vector<source_txn> txns;
  std::vector<std::string> ddl;
  uint64_t last_release = 0;
  binlog_start end;
};

result read(const binlog_start& from, const std::vector<table_schema>& ts,
            snapshot_handoff handoff = {}, heartbeat_config hb = {}) {
  binlog_client_options o;
  o.stop_at_end = true;
  binlog_client c(source(), from, o);
  binlog_changes changes(ts, source_kind::mariadb, hb, std::move(handoff), c.checksum());
  result out;
  change_feed feed;
  for (auto e = c.next(); e || !c.ended(); e = c.next()) {
    if (!e) continue;
    changes.add(*e, feed);
    if (auto d = changes.take_ddl()) out.ddl.push_back(*d);
  }
  EXPECT_FALSE(changes.in_txn());
  for (auto& t : feed.txns) {
    if (!out.txns.empty() && out.txns.back().commit == t.commit && !out.txns.back().last) {
      for (auto& ch : t.changes) out.txns.back().changes.push_back(std::move(ch));
      out.txns.back().last = t.last;
      out.txns.back().release = t.release;
    } else {
      out.txns.push_back(std::move(t));
    }
  }
  if (!out.txns.empty()) {
    out.last_release = out.txns.back().release;
    out.end = *changes.position_of(out.last_release);
  }
  return out;
}

class binlog_changes_live : public ::testing::Test {
protected:
  void SetUp() override {
    maria_exec("DROP DATABASE IF EXISTS binlog_changes_t; CREATE DATABASE binlog_changes_t; "
               "CREATE TABLE binlog_changes_t.items (id INT PRIMARY KEY, name VARCHAR(20), "
               "price DECIMAL(8,2)); "
               "CREATE TABLE binlog_changes_t.other (id INT PRIMARY KEY)");
  }
};

TEST_F(binlog_changes_live, statements_become_changes_of_one_transaction_each) {
  auto ts = tables();
  ASSERT_EQ(ts.size(), 2u);
  uint32_t items = ts[0].id.table == "items" ? 0 : 1;
  auto from = end_of_binlog();
  maria_exec("INSERT INTO binlog_changes_t.items VALUES (1, 'a', 1.50), (2, 'b', 2.00); "
             "BEGIN; UPDATE binlog_changes_t.items SET name = 'z' WHERE id = 1; "
             "UPDATE binlog_changes_t.items SET id = 3 WHERE id = 2; "
             "DELETE FROM binlog_changes_t.items WHERE id = 1; COMMIT");
  auto r = read(from, ts);
  ASSERT_EQ(r.txns.size(), 2u);
  const auto& first = r.txns[0];
  ASSERT_EQ(first.changes.size(), 2u);
  EXPECT_EQ(first.changes[0].op, change_op::insert);
  EXPECT_EQ(first.changes[0].table, items);
  EXPECT_EQ(first.changes[0].after.cells.at(1).text, "a");
  EXPECT_EQ(first.changes[0].after.cells.at(2).text, "1.50");
  EXPECT_EQ(first.changes[1].source.row, 1);
  EXPECT_EQ(first.changes[1].source.position.binlog_pos, first.changes[0].source.position.binlog_pos);
  EXPECT_NE(first.changes[0].source.query.find("INSERT INTO"), std::string::npos);
  EXPECT_FALSE(first.id.empty());
  EXPECT_EQ(first.changes[0].source.position.gtid, first.id);
  const auto& second = r.txns[1];
  ASSERT_EQ(second.changes.size(), 3u);
  EXPECT_EQ(second.changes[0].op, change_op::update);
  EXPECT_EQ(second.changes[0].before.cells.at(1).text, "a");
  EXPECT_EQ(second.changes[0].after.cells.at(1).text, "z");
  // A key update keeps both images; the appliers split it.
  EXPECT_EQ(second.changes[1].op, change_op::update);
  EXPECT_EQ(second.changes[1].before.cells.at(0).text, "2");
  EXPECT_EQ(second.changes[1].after.cells.at(0).text, "3");
  EXPECT_EQ(second.changes[2].op, change_op::erase);
  EXPECT_TRUE(second.last);
  // Commit keys grow with the log; a release is where the next one starts.
  EXPECT_LT(first.commit, second.commit);
  EXPECT_LE(first.release, second.commit);
  EXPECT_EQ(r.end.file, from.file);
  EXPECT_EQ(r.end.pos, end_of_binlog().pos);
}

TEST_F(binlog_changes_live, groups_without_replicated_rows_still_move_the_release) {
  auto ts = tables();
  std::vector<table_schema> only_items;
  for (auto& t : ts)
    if (t.id.table == "items") only_items.push_back(t);
  auto from = end_of_binlog();
  maria_exec("INSERT INTO binlog_changes_t.other VALUES (1); "
             "ALTER TABLE binlog_changes_t.items ADD COLUMN note VARCHAR(10)");
  auto r = read(from, only_items);
  ASSERT_EQ(r.txns.size(), 2u);
  EXPECT_TRUE(r.txns[0].changes.empty());
  EXPECT_TRUE(r.txns[1].changes.empty());
  EXPECT_TRUE(r.txns[1].last);
  EXPECT_EQ(r.ddl, std::vector<std::string>{"binlog_changes_t"});
  EXPECT_EQ(r.end.pos, end_of_binlog().pos);
}

TEST_F(binlog_changes_live, a_rolled_back_group_leaves_nothing) {
  maria_exec("CREATE TABLE binlog_changes_t.plain (id INT PRIMARY KEY) ENGINE=MyISAM");
  auto ts = tables();
  auto from = end_of_binlog();
  // MyISAM cannot roll back, so the binlog keeps the group, ending in ROLLBACK.
  maria_exec("BEGIN; INSERT INTO binlog_changes_t.items VALUES (7, 'x', 1); "
             "INSERT INTO binlog_changes_t.plain VALUES (7); ROLLBACK");
  auto r = read(from, ts);
  for (const auto& t : r.txns)
    for (const auto& c : t.changes)
      EXPECT_NE(ts[c.table].id.table, "items") << "a rolled-back row of items went out";
}

TEST_F(binlog_changes_live, the_heartbeat_and_rows_a_snapshot_holds_are_dropped) {
  maria_exec("CREATE TABLE binlog_changes_t.replicate_io_cdc_heartbeat (`timestamp` BIGINT "
             "PRIMARY KEY)");
  auto ts = tables();
  uint32_t items = 0;
  for (uint32_t i = 0; i < ts.size(); ++i)
    if (ts[i].id.table == "items") items = i;
  heartbeat_config hb;
  hb.enable = true;
  hb.catalog = "binlog_changes_t";
  auto from = end_of_binlog();
  maria_exec("INSERT INTO binlog_changes_t.replicate_io_cdc_heartbeat VALUES (1)");
  maria_exec("INSERT INTO binlog_changes_t.items VALUES (1, 'in snapshot', 1)");
  auto snapshot_at = end_of_binlog();
  maria_exec("INSERT INTO binlog_changes_t.items VALUES (2, 'after it', 1)");
  snapshot_handoff h;
  source_position p;
  p.binlog_file = snapshot_at.file;
  p.binlog_pos = snapshot_at.pos;
  h.add(items, p);
  auto r = read(from, ts, h, hb);
  std::vector<std::string> names;
  for (const auto& t : r.txns)
    for (const auto& c : t.changes) names.push_back(c.after.cells.at(1).text);
  EXPECT_EQ(names, std::vector<std::string>{"after it"});
}

TEST_F(binlog_changes_live, a_key_moving_between_split_ranges_keeps_the_half_the_snapshot_lacks) {
  auto ts = tables();
  uint32_t items = ts[0].id.table == "items" ? 0 : 1;
  maria_exec("INSERT INTO binlog_changes_t.items VALUES (5, 'a', 1), (150, 'b', 2)");
  auto p1 = end_of_binlog();
  // Between the ranges' positions: id 5 (range below 100, read at p1) moves
  // to 105 (range from 100, read at p2), and 150 moves down to 6.
  maria_exec("UPDATE binlog_changes_t.items SET id = 105 WHERE id = 5; "
             "UPDATE binlog_changes_t.items SET id = 6 WHERE id = 150");
  auto p2 = end_of_binlog();
  maria_exec("UPDATE binlog_changes_t.items SET name = 'z' WHERE id = 6");
  snapshot_handoff h;
  auto at = [](const binlog_start& b) {
    source_position p;
    p.binlog_file = b.file;
    p.binlog_pos = b.pos;
    return p;
  };
  h.add_range(items, 0, std::nullopt, 100, at(p1));
  h.add_range(items, 0, 100, std::nullopt, at(p2));
  auto r = read(p1, ts, h);
  std::vector<std::string> got;
  for (const auto& t : r.txns)
    for (const auto& c : t.changes) {
      std::string what = c.op == change_op::insert ? "insert " + c.after.cells.at(0).text
                         : c.op == change_op::erase ? "erase " + c.before.cells.at(0).text
                                                    : "update " + c.before.cells.at(0).text +
                                                        "->" + c.after.cells.at(0).text;
      got.push_back(what);
    }
  // 5 -> 105: the old key's range was read before, so its delete is kept;
  // the new key's range was read after, so its row is in that snapshot.
  // 150 -> 6: the other way round. The last update is after both.
  EXPECT_EQ(got, (std::vector<std::string>{"erase 5", "insert 6", "update 6->6"}));
}

}  // namespace
}  // namespace trib::test
