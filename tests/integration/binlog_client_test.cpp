// The binlog client against real MariaDB servers: the shared test server for
// reading, and a server of the suite's own for restarts, purged binary logs
// and wrong settings.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "actors/control/retry_policy.hpp"
#include "actors/source/binlog_client.hpp"
#include "actors/source/binlog_decoder.hpp"
#include "actors/source/binlog_settings.hpp"
#include "tests/integration/fixture.hpp"
#include "tests/integration/private_mariadb.hpp"

namespace trib::test {
namespace {

using et = binlog::event_type;

source_config shared_source() {
  source_config cfg;
  cfg.kind = source_kind::mariadb;
  cfg.host = "127.0.0.1";
  cfg.port = mariadb_port();
  cfg.username = source_user();
  cfg.password = source_password();
  cfg.slave_server_ids = {4001};
  return cfg;
}

/// The first column of the first row of `sql` on the shared server.
std::string maria_value(const std::string& sql) {
  MYSQL* m = mysql_init(nullptr);
  if (!mysql_real_connect(m, "127.0.0.1", source_user(), source_password(), nullptr,
                          static_cast<unsigned>(mariadb_port()), nullptr, 0) ||
      mysql_query(m, sql.c_str()) != 0) {
    std::string e = mysql_error(m);
    mysql_close(m);
    throw std::runtime_error("mariadb: " + e);
  }
  MYSQL_RES* r = mysql_store_result(m);
  MYSQL_ROW row = r ? mysql_fetch_row(r) : nullptr;
  std::string v = row && row[0] ? row[0] : "";
  if (r) mysql_free_result(r);
  mysql_close(m);
  return v;
}

/// Reads events until the end of the binlog (stop_at_end) or `limit`.
std::vector<binlog_event> read_all(binlog_client& c, size_t limit = 100000) {
  std::vector<binlog_event> out;
  while (out.size() < limit) {
    auto e = c.next();
    if (e) out.push_back(std::move(*e));
    else if (c.ended()) break;
  }
  return out;
}

/// Sequence number of a MariaDB GTID event (body: seq_no u64, domain u32).
uint64_t gtid_seq(const binlog_event& e) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(e.data[19 + i]);
  return v;
}

/// The GTID events of transactions that wrote table `table`, by sequence.
std::vector<uint64_t> gtids_touching(const std::vector<binlog_event>& events,
                                     const std::string& table) {
  std::vector<uint64_t> out;
  uint64_t current = 0;
  bool counted = false;
  for (const auto& e : events) {
    if (e.type == et::mariadb_gtid) {
      current = gtid_seq(e);
      counted = false;
    }
    if (e.type == et::table_map && !counted && e.data.find(table) != std::string::npos) {
      out.push_back(current);
      counted = true;
    }
  }
  return out;
}

/// Each in-file event starts where the one before it ended, within a file.
void expect_contiguous(const std::vector<binlog_event>& events, const binlog_start& from) {
  std::string file = from.file;
  uint64_t next = from.pos;
  for (const auto& e : events) {
    if (e.pos == 0) {
      if (e.type == et::rotate) file = e.file, next = 0;
      continue;
    }
    EXPECT_EQ(e.file, file) << "event of type " << binlog::to_string(e.type) << " at " << e.pos;
    if (next != 0) {
      EXPECT_EQ(e.pos, next) << "gap or overlap before " << e.file << ":" << e.pos;
    }
    next = e.next_pos;
    if (e.type == et::rotate) next = 0;
  }
}

class binlog_client_live : public ::testing::Test {
protected:
  void SetUp() override {
    maria_exec("DROP DATABASE IF EXISTS binlog_client_t; CREATE DATABASE binlog_client_t; "
               "CREATE TABLE binlog_client_t.items (id INT PRIMARY KEY, name VARCHAR(20))");
  }
};

binlog_start master_status() {
  MYSQL* m = mysql_init(nullptr);
  if (!mysql_real_connect(m, "127.0.0.1", source_user(), source_password(), nullptr,
                          static_cast<unsigned>(mariadb_port()), nullptr, 0) ||
      mysql_query(m, "SHOW MASTER STATUS") != 0)
    throw std::runtime_error(std::string("mariadb: ") + mysql_error(m));
  MYSQL_RES* r = mysql_store_result(m);
  MYSQL_ROW row = mysql_fetch_row(r);
  binlog_start s;
  s.file = row[0];
  s.pos = std::stoull(row[1]);
  mysql_free_result(r);
  mysql_close(m);
  return s;
}

TEST_F(binlog_client_live, reads_a_transaction_from_a_position_event_by_event) {
  auto from = master_status();
  maria_exec("BEGIN; INSERT INTO binlog_client_t.items VALUES (1, 'a'), (2, 'b'); "
             "INSERT INTO binlog_client_t.items VALUES (3, 'c'); COMMIT");
  binlog_client_options o;
  o.stop_at_end = true;
  binlog_client c(shared_source(), from, o);
  auto events = read_all(c);
  std::vector<binlog::event_type> in_file;
  for (const auto& e : events)
    if (e.pos != 0) in_file.push_back(e.type);
  std::string types;
  for (auto t : in_file) types += binlog::to_string(t) + " ";
  // GTID (MariaDB's BEGIN), then per statement its text, a table map and a
  // rows event, and XID.
  ASSERT_EQ(in_file.size(), 8u) << types;
  EXPECT_EQ(in_file.front(), et::mariadb_gtid);
  EXPECT_EQ(in_file[1], et::annotate_rows);
  EXPECT_EQ(in_file.back(), et::xid);
  EXPECT_EQ(std::count(in_file.begin(), in_file.end(), et::table_map), 2);
  expect_contiguous(events, from);
  EXPECT_EQ(gtids_touching(events, "items").size(), 1u);
  // Every event's bytes are the event as logged: the length in its header,
  // checksum trailer included.
  EXPECT_TRUE(c.checksum());
  for (const auto& e : events) {
    ASSERT_GE(e.data.size(), 19u);
    uint32_t len = 0;
    for (int i = 3; i >= 0; --i) len = len << 8 | static_cast<unsigned char>(e.data[9 + i]);
    EXPECT_EQ(len, e.data.size()) << "event type " << binlog::to_string(e.type);
    EXPECT_EQ(static_cast<binlog::event_type>(e.data[4]), e.type);
  }
  EXPECT_EQ(c.file(), from.file);
  EXPECT_EQ(c.pos(), events.back().next_pos);
}

TEST_F(binlog_client_live, the_decoder_reads_what_the_client_delivers) {
  auto from = master_status();
  maria_exec("INSERT INTO binlog_client_t.items VALUES (1, 'a'), (2, 'b'), (3, 'c'); "
             "UPDATE binlog_client_t.items SET name = 'z' WHERE id > 1; "
             "DELETE FROM binlog_client_t.items WHERE id = 1");
  binlog_client_options o;
  o.stop_at_end = true;
  binlog_client c(shared_source(), from, o);
  binlog::decoder d;
  d.set_checksum(c.checksum() ? binlog::checksum_alg::crc32 : binlog::checksum_alg::off);
  std::vector<std::pair<binlog::rows_kind, size_t>> rows;
  std::vector<std::string> gtids;
  for (auto e = c.next(); e || !c.ended(); e = c.next()) {
    if (!e) continue;
    auto ev = d.decode(e->data);
    EXPECT_EQ(ev.header.start_pos(), e->pos);
    if (auto* r = std::get_if<binlog::rows_event>(&ev.body)) {
      const auto* map = d.table(r->table_id);
      ASSERT_NE(map, nullptr);
      rows.emplace_back(r->kind, r->row_count());
      if (r->kind == binlog::rows_kind::update) {
        ASSERT_EQ(r->after.size(), 2u);
        EXPECT_EQ(r->after[0].values.at(1).text, "z");
      }
    }
    if (std::get_if<binlog::xid_event>(&ev.body)) gtids.push_back(d.transaction().gtid);
    EXPECT_EQ(d.file(), c.file());
  }
  using k = binlog::rows_kind;
  EXPECT_EQ(rows, (std::vector<std::pair<k, size_t>>{{k::write, 3}, {k::update, 2},
                                                        {k::remove, 1}}));
  ASSERT_EQ(gtids.size(), 3u);
}

TEST_F(binlog_client_live, a_gtid_start_reads_from_the_next_transaction) {
  auto before = maria_value("SELECT @@gtid_binlog_pos");
  maria_exec("INSERT INTO binlog_client_t.items VALUES (1, 'a')");
  maria_exec("INSERT INTO binlog_client_t.items VALUES (2, 'b')");
  binlog_start from;
  from.gtid = before;
  binlog_client_options o;
  o.stop_at_end = true;
  binlog_client c(shared_source(), from, o);
  auto events = read_all(c);
  auto seqs = gtids_touching(events, "items");
  ASSERT_EQ(seqs.size(), 2u);
  auto last = std::stoull(before.substr(before.rfind('-') + 1));
  EXPECT_GT(seqs[0], last);
  EXPECT_EQ(seqs[1], seqs[0] + 1);
  // The first event names the file the server found the GTID in.
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().type, et::rotate);
  EXPECT_FALSE(c.file().empty());
}

TEST_F(binlog_client_live, an_idle_stream_answers_with_heartbeats) {
  binlog_client_options o;
  o.heartbeat = std::chrono::milliseconds(100);
  binlog_client c(shared_source(), master_status(), o);
  // The fake rotate and the format description come first; then nothing
  // happens, and next() comes back empty instead of blocking for good.
  bool idle = false;
  for (int i = 0; i < 50 && !idle; ++i) idle = !c.next();
  EXPECT_TRUE(idle);
  EXPECT_FALSE(c.ended());
}

TEST_F(binlog_client_live, a_file_the_server_never_wrote_asks_for_overwrite) {
  binlog_start from;
  from.file = "mysql-bin.999999";
  from.pos = 4;
  binlog_client_options o;
  o.stop_at_end = true;
  try {
    binlog_client c(shared_source(), from, o);
    read_all(c);
    FAIL() << "read a binlog file that does not exist";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::source_state) << e.what();
    EXPECT_NE(std::string(e.what()).find("--overwrite"), std::string::npos) << e.what();
  }
}

TEST_F(binlog_client_live, a_second_replica_with_the_same_server_id_is_a_config_error) {
  binlog_client_options o;
  o.heartbeat = std::chrono::milliseconds(100);
  auto from = master_status();
  binlog_client first(shared_source(), from, o);
  binlog_client second(shared_source(), from, o);
  // The server ends the older stream.
  try {
    for (int i = 0; i < 1000; ++i) first.next();
    FAIL() << "two replicas with one server id both kept reading";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::config) << e.what();
    EXPECT_NE(std::string(e.what()).find("slave-server-ids"), std::string::npos) << e.what();
  }
}

TEST_F(binlog_client_live, the_shared_server_has_what_realtime_needs) {
  EXPECT_NO_THROW(check_binlog_settings(shared_source(), true));
  auto s = read_binlog_settings(shared_source());
  EXPECT_EQ(s.binlog_format, "ROW");
  EXPECT_NE(s.account.find("tributary"), std::string::npos) << s.account;
}

/// Restarts, purges and settings on a server of the suite's own (starting
/// one takes seconds, so the suite shares it).
class binlog_client_own_server : public ::testing::Test {
protected:
  static void SetUpTestSuite() { server_ = new private_mariadb(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    server_->admin("DROP DATABASE IF EXISTS t; CREATE DATABASE t; "
                   "CREATE TABLE t.items (id INT PRIMARY KEY, name VARCHAR(20))");
  }
  static binlog_start end_of_binlog() {
    auto row = server_->admin_row("SHOW MASTER STATUS");
    binlog_start s;
    s.file = row.at(0);
    s.pos = std::stoull(row.at(1));
    return s;
  }
  static private_mariadb* server_;
};
private_mariadb* binlog_client_own_server::server_ = nullptr;

TEST_F(binlog_client_own_server, resumes_after_a_server_restart_without_loss_or_repeat) {
  auto from = end_of_binlog();
  binlog_client_options o;
  o.heartbeat = std::chrono::milliseconds(200);
  auto c = std::make_unique<binlog_client>(server_->source(), from, o);
  server_->admin("INSERT INTO t.items VALUES (1, 'before')");
  std::vector<binlog_event> seen;
  while (seen.empty() || seen.back().type != et::xid)
    if (auto e = c->next()) seen.push_back(std::move(*e));

  server_->stop();
  // The stream ends with a retryable error, not with a silent end.
  try {
    while (true) c->next();
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::connection) << e.what();
    EXPECT_TRUE(is_retryable(e.code()));
  }
  binlog_start resume;
  resume.file = c->file();
  resume.pos = c->pos();
  c.reset();
  // While the server is down, a new client fails the same retryable way.
  try {
    binlog_client down(server_->source(), resume, o);
    ADD_FAILURE() << "connected to a stopped server";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::connection) << e.what();
  }
  server_->start();
  server_->admin("INSERT INTO t.items VALUES (2, 'after')");
  o.stop_at_end = true;
  // As the reader does: retried under the source's policy.
  retry_policy policy;
  policy.base_wait = std::chrono::milliseconds(50);
  auto again = with_retries(policy, "reconnecting", [&] {
    return std::make_unique<binlog_client>(server_->source(), resume, o);
  });
  auto rest = read_all(*again);
  expect_contiguous(rest, resume);
  auto before = gtids_touching(seen, "items");
  auto after = gtids_touching(rest, "items");
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(after.size(), 1u) << "the insert before the restart came again, or the one after "
                                 "it is missing";
  EXPECT_EQ(after[0], before[0] + 1);
  // The restart began a new binlog file, and the stream moved into it.
  EXPECT_NE(again->file(), resume.file);
}

TEST_F(binlog_client_own_server, a_purged_binlog_ends_with_a_message_that_suggests_overwrite) {
  auto old = end_of_binlog();
  server_->admin("INSERT INTO t.items VALUES (1, 'gone')");
  server_->admin("FLUSH BINARY LOGS");
  auto now = end_of_binlog();
  ASSERT_NE(now.file, old.file);
  // The server keeps a file until its binlog checkpoint passed it; purge
  // until it is gone.
  ASSERT_TRUE(wait_until([&] {
    server_->admin("PURGE BINARY LOGS TO '" + now.file + "'");
    return server_->admin("SHOW BINARY LOGS") != old.file;
  }));
  binlog_client_options o;
  o.stop_at_end = true;
  try {
    binlog_client c(server_->source(), old, o);
    read_all(c);
    FAIL() << "read from a purged binlog";
  } catch (const error& e) {
    std::string what = e.what();
    EXPECT_EQ(e.code(), failure_code::source_state) << what;
    EXPECT_NE(what.find("no longer has that binlog position"), std::string::npos) << what;
    EXPECT_NE(what.find("--overwrite"), std::string::npos) << what;
  }
}

TEST_F(binlog_client_own_server, a_statement_binlog_is_refused_with_its_fix) {
  server_->admin("SET GLOBAL binlog_format = 'MIXED'");
  std::string what;
  try {
    check_binlog_settings(server_->source(), false);
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::config);
    what = e.what();
  }
  server_->admin("SET GLOBAL binlog_format = 'ROW'");
  EXPECT_NE(what.find("binlog_format is MIXED"), std::string::npos) << what;
  EXPECT_NE(what.find("SET GLOBAL binlog_format = 'ROW'"), std::string::npos) << what;
  EXPECT_NO_THROW(check_binlog_settings(server_->source(), false));
}

TEST_F(binlog_client_own_server, a_user_without_replication_slave_is_told_the_grant) {
  server_->admin("DROP USER IF EXISTS 'plain'@'127.0.0.1'; "
                 "CREATE USER 'plain'@'127.0.0.1' IDENTIFIED BY 'pw'; "
                 "GRANT SELECT ON *.* TO 'plain'@'127.0.0.1'");
  auto cfg = server_->source("plain", "pw");
  try {
    check_binlog_settings(cfg, true);
    ADD_FAILURE() << "accepted a user without REPLICATION SLAVE";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::config);
    EXPECT_NE(std::string(e.what()).find("GRANT REPLICATION SLAVE ON *.* TO 'plain'@'127.0.0.1'"),
              std::string::npos)
      << e.what();
  }
  // The dump itself says the same, should the grant go away later.
  binlog_client_options o;
  o.stop_at_end = true;
  try {
    binlog_client c(cfg, end_of_binlog(), o);
    read_all(c);
    ADD_FAILURE() << "read the binlog without REPLICATION SLAVE";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::config) << e.what();
    EXPECT_NE(std::string(e.what()).find("REPLICATION SLAVE"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace trib::test
