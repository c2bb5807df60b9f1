// MariaDB source sessions against the real server of ops/servers.sh: catalog
// listing (types, keys, filters), keyset paging, one-pass reads of keyless
// tables, canonical text, binlog positions and classified connection
// failures. Each test creates its own database and drops it.

#include <gtest/gtest.h>
#include <mysql.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/source_session_fixture.hpp"

namespace {

using namespace trib;
using namespace trib::test;


class mariadb_source : public ::testing::Test {
protected:
  void SetUp() override {
    db_ = test_database("trib_src_my_");
    conn_ = mysql_init(nullptr);
    unsigned protocol = MYSQL_PROTOCOL_TCP;
    mysql_optionsv(conn_, MYSQL_OPT_PROTOCOL, &protocol);
    mysql_optionsv(conn_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    ASSERT_TRUE(mysql_real_connect(conn_, "127.0.0.1", test::source_user(),
                                   test::source_password(), nullptr,
                                   static_cast<unsigned>(test::mariadb_port()), nullptr, 0))
      << mysql_error(conn_);
    sql("DROP DATABASE IF EXISTS " + db_);
    sql("CREATE DATABASE " + db_ + " CHARACTER SET utf8mb4");
    sql("USE " + db_);
    sql("SET time_zone = '+00:00'");
  }

  void TearDown() override {
    sql("DROP DATABASE IF EXISTS " + db_);
    mysql_close(conn_);
  }

  void sql(const std::string& text) {
    EXPECT_EQ(mysql_real_query(conn_, text.data(), text.size()), 0)
      << text << ": " << mysql_error(conn_);
    // Statements such as ANALYZE TABLE answer with rows; drop them.
    if (MYSQL_RES* r = mysql_store_result(conn_)) mysql_free_result(r);
  }

  source_config config() const {
    source_config cfg;
    cfg.kind = source_kind::mariadb;
    cfg.host = "127.0.0.1";
    cfg.port = test::mariadb_port();
    cfg.username = test::source_user();
    cfg.password = test::source_password();
    return cfg;
  }

  /// Only this test's database: other tests run beside this one.
  filter_config own_database() const {
    filter_config f;
    filter_catalog fc;
    fc.catalog = db_;
    f.allow.push_back(fc);
    return f;
  }

  std::string db_;
  MYSQL* conn_ = nullptr;
};

TEST_F(mariadb_source, lists_types_keys_and_source_types) {
  sql("CREATE TABLE t_types ("
      " id int AUTO_INCREMENT PRIMARY KEY, ti tinyint, tb tinyint(1), tu tinyint unsigned,"
      " si smallint, mi mediumint unsigned, bi bigint unsigned NOT NULL, de decimal(15,2),"
      " fl float, db double, ch char(25) NOT NULL, vc varchar(152) NOT NULL DEFAULT 'it''s',"
      " tx text, bn binary(4), vb varbinary(10), bl blob, da date, tm time(3),"
      " dt datetime(6), ts timestamp(6) NULL, yr year, bt bit(10),"
      " en enum('a','b''c') , st set('x','y'), js json,"
      " gen int AS (si * 2) VIRTUAL,"
      " UNIQUE KEY uk_bi (bi), UNIQUE KEY uk_pair (ch, vc))");
  sql("CREATE TABLE t_more (a int) ");
  sql("INSERT INTO t_more VALUES (1), (2), (3)");
  sql("ANALYZE TABLE t_more");

  auto tables = open_source(config())->list_tables(own_database(), {});
  ASSERT_EQ(tables.size(), 2u);
  const auto* more = find_table(tables, "t_more");
  ASSERT_NE(more, nullptr);
  EXPECT_EQ(more->estimated_rows, 3u);
  EXPECT_EQ(tables[0].id.table, "t_more");  // sorted by table_id
  const auto* tp = find_table(tables, "t_types");
  ASSERT_NE(tp, nullptr);
  EXPECT_EQ(tp->id.catalog, db_);
  EXPECT_EQ(tp->id.schema, "");
  EXPECT_EQ(tp->primary_key, std::vector<std::string>{"id"});
  std::vector<std::vector<std::string>> uks{{"bi"}, {"ch", "vc"}};
  EXPECT_EQ(tp->unique_keys, uks);

  struct expect_col { const char* name; const char* type; value_kind kind; };
  std::vector<expect_col> want = {
    {"id", "INT", value_kind::int32},
    {"ti", "TINYINT", value_kind::int8},
    {"tb", "TINYINT", value_kind::int8},
    {"tu", "TINYINT UNSIGNED", value_kind::uint8},
    {"si", "SMALLINT", value_kind::int16},
    {"mi", "MEDIUMINT UNSIGNED", value_kind::uint32},
    {"bi", "BIGINT UNSIGNED", value_kind::uint64},
    {"de", "DECIMAL(15,2)", value_kind::decimal},
    {"fl", "FLOAT", value_kind::float32},
    {"db", "DOUBLE", value_kind::float64},
    {"ch", "CHAR(25)", value_kind::text},
    {"vc", "VARCHAR(152)", value_kind::text},
    {"tx", "TEXT", value_kind::text},
    {"bn", "BINARY(4)", value_kind::bytes},
    {"vb", "VARBINARY(10)", value_kind::bytes},
    {"bl", "BLOB", value_kind::bytes},
    {"da", "DATE", value_kind::date},
    {"tm", "TIME(3)", value_kind::time},
    {"dt", "DATETIME(6)", value_kind::timestamp},
    {"ts", "TIMESTAMP(6)", value_kind::timestamptz},
    {"yr", "YEAR", value_kind::year},
    {"bt", "BIT(10)", value_kind::bits},
    {"en", "ENUM('a','b''c')", value_kind::enumeration},
    {"st", "SET('x','y')", value_kind::set},
    {"js", "JSON", value_kind::json},
  };
  for (const auto& w : want) {
    const auto& c = column(*tp, w.name);
    EXPECT_EQ(c.source_type, w.type) << w.name;
    EXPECT_EQ(c.kind, w.kind) << w.name << " is " << to_string(c.kind);
  }
  EXPECT_EQ(column(*tp, "de").precision, 15);
  EXPECT_EQ(column(*tp, "de").scale, 2);
  EXPECT_EQ(column(*tp, "bt").precision, 10);
  EXPECT_EQ(column(*tp, "dt").precision, 6);
  EXPECT_EQ(column(*tp, "tm").precision, 3);
  EXPECT_EQ(column(*tp, "en").allowed, (std::vector<std::string>{"a", "b'c"}));
  EXPECT_EQ(column(*tp, "st").allowed, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(column(*tp, "id").identity);
  EXPECT_FALSE(column(*tp, "si").identity);
  EXPECT_TRUE(column(*tp, "gen").generated);
  EXPECT_TRUE(column(*tp, "ch").not_null);
  EXPECT_FALSE(column(*tp, "tx").not_null);
  EXPECT_TRUE(column(*tp, "vc").has_default);
  EXPECT_EQ(column(*tp, "vc").default_value, "it's");
  EXPECT_FALSE(column(*tp, "tx").has_default);
}

TEST_F(mariadb_source, filter_restricts_tables_and_columns) {
  sql("CREATE TABLE a (id int PRIMARY KEY, x text, y text, z text)");
  sql("CREATE TABLE b (id int PRIMARY KEY)");
  auto f = own_database();
  f.allow[0].tables["a"].columns = {"z"};
  auto tables = open_source(config())->list_tables(f, {});
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(names(tables[0]), (std::vector<std::string>{"id", "z"}));

  f.allow[0].tables["a"].columns = {"nope"};
  try {
    open_source(config())->list_tables(f, {});
    ADD_FAILURE() << "a missing filter column is accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::config);
  }
}

TEST_F(mariadb_source, keyset_paging_returns_every_row_once_in_key_order) {
  sql("CREATE TABLE pages (k1 bigint unsigned, k2 varchar(10), v text, PRIMARY KEY (k1, k2))");
  // Keys beyond 2^53 differ only when compared exactly.
  std::string values;
  size_t expected = 0;
  std::vector<std::string> bases = {"1", "2", "9007199254740992", "9007199254740993",
                                    "18446744073709551615"};
  for (size_t i = 0; i < bases.size(); ++i)
    for (int j = 60; j >= 0; --j) {
      values += (values.empty() ? "" : ",") + std::string("(") + bases[i] + ", 'k" +
                (j < 10 ? "0" : "") + std::to_string(j) + "', 'v')";
      ++expected;
    }
  sql("INSERT INTO pages VALUES " + values);

  auto session = open_source(config());
  auto tables = session->list_tables(own_database(), {});
  ASSERT_EQ(tables.size(), 1u);
  const auto& t = tables[0];
  for (size_t chunk : {1, 7, 1000}) {
    auto rows = read_all(*session, t, chunk);
    ASSERT_EQ(rows.size(), expected) << "chunk " << chunk;
    for (size_t i = 1; i < rows.size(); ++i) {
      auto a = std::stoull(rows[i - 1].cells[0].text), b = std::stoull(rows[i].cells[0].text);
      bool ordered = a < b || (a == b && rows[i - 1].cells[1].text < rows[i].cells[1].text);
      ASSERT_TRUE(ordered) << "chunk " << chunk << " row " << i;
    }
  }
  auto all = read_all(*session, t, 1000);
  auto rest = read_all(*session, t, 7, key_of(t, all[70]));
  ASSERT_EQ(rest.size(), all.size() - 71);
  EXPECT_TRUE(std::equal(rest.begin(), rest.end(), all.begin() + 71));
}

TEST_F(mariadb_source, enum_and_set_keys_page_in_index_order) {
  // Labels declared out of alphabetical order: ORDER BY uses the index.
  sql("CREATE TABLE e (k enum('z','a','m') NOT NULL, s set('q','b') NOT NULL, "
      "PRIMARY KEY (k, s))");
  sql("INSERT INTO e VALUES ('m','b'), ('z','q,b'), ('a',''), ('z','b'), ('m','q'), "
      "('a','q,b'), ('z',''), ('z','q')");
  auto session = open_source(config());
  auto t = session->list_tables(own_database(), {}).at(0);
  auto rows = read_all(*session, t, 1);
  std::vector<std::string> got;
  for (const auto& r : rows) got.push_back(r.cells[0].text + "/" + r.cells[1].text);
  std::vector<std::string> want = {"z/", "z/q", "z/b", "z/q,b", "a/", "a/q,b", "m/q", "m/b"};
  EXPECT_EQ(got, want);
}

TEST_F(mariadb_source, keyless_table_streams_in_one_pass) {
  sql("CREATE TABLE heap (a int, b text)");
  std::string values;
  for (int i = 1; i <= 50; ++i)
    values += (i > 1 ? "," : "") + std::string("(") + std::to_string(i) + ", 'v" +
              std::to_string(i) + "')";
  sql("INSERT INTO heap VALUES " + values + ", (1, 'v1')");
  auto session = open_source(config());
  auto t = session->list_tables(own_database(), {}).at(0);
  ASSERT_TRUE(order_columns(t).empty());
  session->begin_snapshot();
  sql("INSERT INTO heap VALUES (99, 'late')");
  auto rows = read_all(*session, t, 7);
  ASSERT_EQ(rows.size(), 51u);
  std::multiset<std::string> seen;
  for (const auto& r : rows) seen.insert(r.cells[0].text + "/" + r.cells[1].text);
  EXPECT_EQ(seen.count("1/v1"), 2u);
  EXPECT_EQ(seen.count("99/late"), 0u);
  session->end_snapshot();

  // While a stream is open the session refuses other statements.
  auto reader = session->open_table(t, {}, "");
  EXPECT_THROW(session->begin_snapshot(), error);
  reader.reset();
  EXPECT_EQ(read_all(*session, t, 1000).size(), 52u);
}

TEST_F(mariadb_source, values_come_in_canonical_text) {
  sql("CREATE TABLE vals (k varbinary(8) PRIMARY KEY, ts timestamp(6) NULL, bt bit(10), "
      "en enum('a','b''c'), st set('x','y'), t varchar(20), tb tinyint(1), "
      "js json, dt datetime, de decimal(10,3))");
  sql("INSERT INTO vals VALUES (X'00FF0041', '2024-01-02 03:04:05.123456', b'0000000101', "
      "'b''c', 'x,y', 'héllo 😀', 1, '{\"a\": [1, 2]}', '2024-01-02 03:04:05', -12.5)");
  sql("INSERT INTO vals (k) VALUES (X'00'), (X'0000'), ('')");
  auto session = open_source(config());
  auto t = session->list_tables(own_database(), {}).at(0);
  auto rows = read_all(*session, t, 1);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].cells[0].text, std::string());
  EXPECT_EQ(rows[1].cells[0].text, std::string(1, '\0'));
  EXPECT_EQ(rows[2].cells[0].text, std::string(2, '\0'));
  const auto& r = rows[3];
  EXPECT_EQ(r.cells[0].text, std::string("\0\xff\0A", 4));
  EXPECT_EQ(r.cells[1].text, "2024-01-02 03:04:05.123456+00");
  EXPECT_EQ(r.cells[2].text, "0000000101");
  EXPECT_EQ(r.cells[3].text, "b'c");
  EXPECT_EQ(r.cells[4].text, "x,y");
  EXPECT_EQ(r.cells[5].text, "héllo 😀");
  EXPECT_EQ(r.cells[6].text, "1");
  EXPECT_EQ(r.cells[7].text, "{\"a\": [1, 2]}");
  EXPECT_EQ(r.cells[8].text, "2024-01-02 03:04:05");
  EXPECT_EQ(r.cells[9].text, "-12.500");
  EXPECT_TRUE(rows[0].cells[1].null);
}

TEST_F(mariadb_source, begin_snapshot_returns_the_binlog_position) {
  auto session = open_source(config());
  auto facts = session->facts();
  EXPECT_NE(facts.version.find("MariaDB"), std::string::npos) << facts.version;
  EXPECT_GT(facts.server_id, 0);
  auto pos = session->begin_snapshot();
  EXPECT_FALSE(pos.binlog_file.empty());
  EXPECT_GE(pos.binlog_pos, 4u);
  session->end_snapshot();
  sql("CREATE TABLE moves_binlog (a int)");
  sql("INSERT INTO moves_binlog VALUES (1)");
  auto later = open_source(config())->begin_snapshot();
  EXPECT_TRUE(later.binlog_file > pos.binlog_file ||
              (later.binlog_file == pos.binlog_file && later.binlog_pos > pos.binlog_pos));
  EXPECT_FALSE(later.gtid.empty());
}

TEST_F(mariadb_source, classifies_connection_failures) {
  auto cfg = config();
  cfg.password = "wrong";
  std::string what;
  EXPECT_EQ(code_of_open(cfg, &what), failure_code::auth);
  EXPECT_NE(what.find("Access denied"), std::string::npos) << what;

  cfg = config();
  cfg.port = 1;
  EXPECT_EQ(code_of_open(cfg, &what), failure_code::connection);
  EXPECT_EQ(what.rfind("cannot connect to mariadb at 127.0.0.1:1 as user tributary: ", 0), 0u)
    << what;
  EXPECT_NE(what.find("did not accept the connection"), std::string::npos) << what;

  cfg = config();
  cfg.database = "trib_no_such_database";
  EXPECT_EQ(code_of_open(cfg, &what), failure_code::config);
}

}  // namespace
