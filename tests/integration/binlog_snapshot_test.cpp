// The lock-free snapshot position of MariaDB against the real binlog: while a
// writer commits without pause, each table's consistent snapshot holds
// exactly the transactions logged before its position, and the binlog from
// there holds exactly the rest, so snapshot plus kept changes is the table's
// final content, with nothing missing and nothing twice (docs/binlog.md).

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "actors/source/binlog_client.hpp"
#include "actors/source/binlog_handoff.hpp"
#include "actors/source/source_session.hpp"
#include "tests/integration/fixture.hpp"

namespace trib::test {
namespace {

using et = binlog::event_type;

source_config source() {
  source_config cfg;
  cfg.kind = source_kind::mariadb;
  cfg.host = "127.0.0.1";
  cfg.port = mariadb_port();
  cfg.username = source_user();
  cfg.password = source_password();
  cfg.slave_server_ids = {4002};
  return cfg;
}

/// Commits one-row inserts into alpha and beta in turn until stopped.
class writer {
public:
  writer() {
    m_ = mysql_init(nullptr);
    if (!mysql_real_connect(m_, "127.0.0.1", source_user(), source_password(), "binlog_snap_t",
                            static_cast<unsigned>(mariadb_port()), nullptr, 0))
      throw std::runtime_error(std::string("writer: ") + mysql_error(m_));
    thread_ = std::thread([this] { run(); });
  }
  ~writer() {
    stop();
    mysql_close(m_);
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (!error_.empty()) throw std::runtime_error("writer: " + error_);
  }
  /// Rows committed into each table so far.
  int64_t committed() const { return committed_; }

private:
  void run() {
    for (int64_t i = 1; !stop_; ++i) {
      for (const char* t : {"alpha", "beta"}) {
        std::string sql = std::string("INSERT INTO ") + t + " VALUES (" + std::to_string(i) + ")";
        if (mysql_query(m_, sql.c_str()) != 0) {
          error_ = mysql_error(m_);
          return;
        }
      }
      committed_ = i;
    }
  }

  MYSQL* m_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> committed_{0};
  std::string error_;
};

/// The ids a consistent snapshot of `table` holds, and its position.
struct table_snapshot {
  source_position at;
  std::set<int64_t> ids;
};

table_snapshot snapshot_of(const std::string& table) {
  filter_config f;
  filter_catalog c;
  c.catalog = "binlog_snap_t";
  f.allow.push_back(c);
  auto session = open_source(source());
  table_schema schema;
  for (auto& t : session->list_tables(f, {}))
    if (t.id.table == table) schema = t;
  table_snapshot out;
  out.at = session->begin_snapshot();
  auto reader = session->open_table(schema, {}, "");
  for (auto rows = reader->next(1000); !rows.empty(); rows = reader->next(1000))
    for (const auto& r : rows) out.ids.insert(std::stoll(r.cells.at(0).text));
  reader.reset();
  session->end_snapshot();
  return out;
}

/// Transactions in the binlog from `from` on that write each table, keeping
/// only those `keep` accepts (by table index and the position of the
/// transaction's GTID event).
std::map<uint32_t, int64_t> count_transactions(
  const binlog_start& from,
  const std::function<bool(uint32_t, const std::string&, uint64_t)>& keep) {
  binlog_client_options o;
  o.stop_at_end = true;
  binlog_client c(source(), from, o);
  std::map<uint32_t, int64_t> out;
  std::string txn_file;
  uint64_t txn_pos = 0;
  for (;;) {
    auto e = c.next();
    if (!e) {
      if (c.ended()) break;
      continue;
    }
    if (e->type == et::mariadb_gtid) {
      txn_file = e->file;
      txn_pos = e->pos;
    }
    if (e->type != et::table_map || e->data.find("binlog_snap_t") == std::string::npos) continue;
    uint32_t t = e->data.find("alpha") != std::string::npos ? 0 : 1;
    if (keep(t, txn_file, txn_pos)) ++out[t];
  }
  return out;
}

TEST(binlog_snapshot, each_tables_snapshot_and_the_binlog_after_its_position_meet_exactly) {
  maria_exec("DROP DATABASE IF EXISTS binlog_snap_t; CREATE DATABASE binlog_snap_t; "
             "CREATE TABLE binlog_snap_t.alpha (id BIGINT PRIMARY KEY); "
             "CREATE TABLE binlog_snap_t.beta (id BIGINT PRIMARY KEY)");
  writer w;
  ASSERT_TRUE(wait_until([&] { return w.committed() >= 30; }));
  auto alpha = snapshot_of("alpha");
  int64_t mark = w.committed();
  ASSERT_TRUE(wait_until([&] { return w.committed() >= mark + 30; }));
  auto beta = snapshot_of("beta");
  mark = w.committed();
  ASSERT_TRUE(wait_until([&] { return w.committed() >= mark + 30; }));
  w.stop();
  int64_t total = w.committed();

  // One writer commits in id order, so a consistent snapshot holds a prefix.
  ASSERT_FALSE(alpha.ids.empty());
  ASSERT_FALSE(beta.ids.empty());
  EXPECT_EQ(*alpha.ids.rbegin(), static_cast<int64_t>(alpha.ids.size()));
  EXPECT_EQ(*beta.ids.rbegin(), static_cast<int64_t>(beta.ids.size()));
  auto ka = static_cast<int64_t>(alpha.ids.size()), kb = static_cast<int64_t>(beta.ids.size());
  EXPECT_LT(ka, kb);
  EXPECT_LT(kb, total);

  snapshot_handoff h;
  h.add(0, alpha.at);
  h.add(1, beta.at);
  binlog_start from;
  from.file = h.start()->binlog_file;
  from.pos = h.start()->binlog_pos;
  EXPECT_EQ(from.file, alpha.at.binlog_file);
  EXPECT_EQ(from.pos, alpha.at.binlog_pos);
  auto kept = count_transactions(from, [&](uint32_t t, const std::string& file, uint64_t pos) {
    return !h.in_snapshot(t, file, pos);
  });
  // Snapshot plus kept changes: every committed row once.
  EXPECT_EQ(ka + kept[0], total);
  EXPECT_EQ(kb + kept[1], total);

  // The GTID the snapshot reports marks the same point.
  ASSERT_FALSE(alpha.at.gtid.empty());
  binlog_start by_gtid;
  by_gtid.gtid = alpha.at.gtid;
  auto all = count_transactions(by_gtid, [](uint32_t, const std::string&, uint64_t) {
    return true;
  });
  EXPECT_EQ(ka + all[0], total);
  maria_exec("DROP DATABASE binlog_snap_t");
}

}  // namespace
}  // namespace trib::test
