// The envelope builder's message format against design section 4 and
// Arcion's sample documents: schema structure, op codes, include-schema, the
// key, the source and transaction blocks, and rows of the wrong width. How
// each value kind converts is in envelope_types_test.cpp.

#include <string>

#include "tests/unit/envelope_helpers.hpp"

using namespace trib;
using namespace trib::test;

TEST(envelope, region_key_reproduces_arcions_sample_structure) {
  envelope_builder b{region_table(), message_config{}, mysql_facts()};
  auto e = b.snapshot_entry(make_row({make_cell("1"), make_cell("AMERICA"),
                                      make_cell("Replication Works!")}),
                            binlog_at("log-bin.000004", 5748188), snapshot_mark::yes,
                            1670337378446);
  auto key = json::parse(e.key);
  EXPECT_EQ(canonical(key.at("schema")), canonical(R"({
    "type": "struct", "optional": false,
    "name": "REDIS_STREAM_Connector.tpch_scale_0_01.region.Key",
    "fields": [{"type": "int32", "optional": false, "field": "r_regionkey"}]})"));
  // Typed as the schema says: a number, not Arcion's string "1".
  EXPECT_EQ(canonical(key.at("payload")), canonical(R"({"r_regionkey": 1})"));
  EXPECT_EQ(key.as_object().size(), 2u);
}

TEST(envelope, region_value_reproduces_arcions_sample_structure) {
  envelope_builder b{region_table(), message_config{}, mysql_facts()};
  auto e = b.snapshot_entry(make_row({make_cell("1"), make_cell("AMERICA"), null_cell()}),
                            binlog_at("log-bin.000004", 5748188), snapshot_mark::yes,
                            1670337378446);
  auto value = json::parse(e.value);
  const char* row_fields = R"([
    {"type": "int32", "optional": false, "field": "r_regionkey"},
    {"type": "string", "optional": false, "field": "r_name"},
    {"type": "string", "optional": true, "field": "r_comment"}])";
  std::string expected = std::string(R"({
    "type": "struct", "optional": false,
    "name": "REDIS_STREAM_Connector.tpch_scale_0_01.region.Envelope",
    "fields": [
      {"type": "struct", "optional": true, "field": "before",
       "name": "REDIS_STREAM_Connector.tpch_scale_0_01.region.Value", "fields": )")
    + row_fields + R"(},
      {"type": "struct", "optional": true, "field": "after",
       "name": "REDIS_STREAM_Connector.tpch_scale_0_01.region.Value", "fields": )"
    + row_fields + R"(},
      {"type": "struct", "optional": false, "field": "source",
       "name": "REDIS_STREAM_Connector", "fields": [
        {"type": "string", "optional": false, "field": "version"},
        {"type": "string", "optional": false, "field": "connector"},
        {"type": "string", "optional": false, "field": "name"},
        {"type": "int64", "optional": false, "field": "ts_ms"},
        {"type": "string", "optional": true, "field": "snapshot"},
        {"type": "string", "optional": false, "field": "db"},
        {"type": "string", "optional": true, "field": "sequence"},
        {"type": "string", "optional": true, "field": "table"},
        {"type": "int64", "optional": false, "field": "server_id"},
        {"type": "string", "optional": true, "field": "gtid"},
        {"type": "string", "optional": false, "field": "file"},
        {"type": "int64", "optional": false, "field": "pos"},
        {"type": "int32", "optional": false, "field": "row"},
        {"type": "int64", "optional": true, "field": "thread"},
        {"type": "string", "optional": true, "field": "query"}]},
      {"type": "struct", "optional": true, "field": "transaction",
       "name": "event.block", "fields": [
        {"type": "string", "optional": false, "field": "id"},
        {"type": "int64", "optional": false, "field": "total_order"},
        {"type": "int64", "optional": false, "field": "data_collection_order"}]},
      {"type": "string", "optional": false, "field": "op"},
      {"type": "int64", "optional": true, "field": "ts_ms"}]})";
  EXPECT_EQ(canonical(value.at("schema")), canonical(expected.c_str()));
  EXPECT_EQ(canonical(value.at("payload")), canonical(R"({
    "before": null,
    "after": {"r_regionkey": 1, "r_name": "AMERICA", "r_comment": null},
    "source": {"version": "5.7.24", "connector": "MYSQL",
               "name": "REDIS_STREAM_Connector", "ts_ms": 1670337378446,
               "snapshot": "true", "db": "tpch_scale_0_01", "sequence": null,
               "table": "region", "server_id": 1, "gtid": null,
               "file": "log-bin.000004", "pos": 5748188, "row": 0,
               "thread": null, "query": null},
    "transaction": null, "op": "r", "ts_ms": 1670337378446})"));
}

TEST(envelope, verbose_op_codes_write_read) {
  message_config m;
  m.codes = op_codes::verbose;
  envelope_builder b{region_table(), m, mysql_facts()};
  auto e = b.snapshot_entry(make_row({make_cell("1"), make_cell("A"), null_cell()}),
                            binlog_at("f", 4), snapshot_mark::yes, 5);
  EXPECT_EQ(json::parse(e.value).at("payload").at("op"), "READ");
}

TEST(envelope, last_snapshot_row_is_marked_last) {
  envelope_builder b{region_table(), message_config{}, mysql_facts()};
  auto e = b.snapshot_entry(make_row({make_cell("1"), make_cell("A"), null_cell()}),
                            binlog_at("f", 4), snapshot_mark::last, 5);
  EXPECT_EQ(json::parse(e.value).at("payload").at("source").at("snapshot"), "last");
}

TEST(envelope, without_schema_key_and_value_are_bare_payloads) {
  message_config m;
  m.include_schema = false;
  envelope_builder b{region_table(), m, mysql_facts()};
  source_position pos = binlog_at("mysql-bin.000042", 1337);
  pos.gtid = "0-1-35";
  auto e = b.snapshot_entry(make_row({make_cell("7"), make_cell("ASIA"), make_cell("x")}),
                            pos, snapshot_mark::yes, 99);
  EXPECT_EQ(canonical(json::parse(e.key)), canonical(R"({"r_regionkey": 7})"));
  auto v = json::parse(e.value);
  EXPECT_FALSE(v.as_object().contains("schema"));
  EXPECT_FALSE(v.as_object().contains("payload"));
  EXPECT_EQ(canonical(v.at("after")), canonical(R"({"r_regionkey":7,"r_name":"ASIA","r_comment":"x"})"));
  EXPECT_EQ(v.at("source").at("gtid"), "0-1-35");
  EXPECT_EQ(v.at("source").at("file"), "mysql-bin.000042");
  EXPECT_EQ(v.at("source").at("pos"), 1337);
  EXPECT_EQ(b.key(make_row({make_cell("7"), make_cell("ASIA"), make_cell("x")})), e.key);
  // Several times fewer bytes than with the schema halves.
  envelope_builder full{region_table(), message_config{}, mysql_facts()};
  auto f = full.snapshot_entry(make_row({make_cell("7"), make_cell("ASIA"), make_cell("x")}),
                               pos, snapshot_mark::yes, 99);
  EXPECT_GT(f.value.size(), 3 * e.value.size());
}

TEST(envelope, table_without_key_columns_has_the_plain_key_default) {
  table_schema t = region_table();
  t.primary_key.clear();
  envelope_builder b{t, message_config{}, mysql_facts()};
  auto r = make_row({make_cell("1"), make_cell("A"), null_cell()});
  EXPECT_EQ(b.snapshot_entry(r, binlog_at("f", 4), snapshot_mark::yes, 5).key, "default");
  EXPECT_EQ(b.key(r), "default");
}

TEST(envelope, key_uses_not_null_unique_key_then_row_identifier_key) {
  table_schema t = region_table();
  t.primary_key.clear();
  t.unique_keys = {{"r_comment"}, {"r_name"}};  // r_comment may be null
  message_config m;
  m.include_schema = false;
  envelope_builder b{t, m, mysql_facts()};
  auto r = make_row({make_cell("3"), make_cell("EUROPE"), make_cell("c")});
  EXPECT_EQ(canonical(json::parse(b.key(r))), canonical(R"({"r_name":"EUROPE"})"));
  t.unique_keys.clear();
  t.row_identifier_key = {"r_comment", "r_regionkey"};
  envelope_builder b2{t, message_config{}, mysql_facts()};
  auto key = json::parse(b2.key(r));
  EXPECT_EQ(canonical(key.at("payload")), canonical(R"({"r_comment":"c","r_regionkey":3})"));
  // In a key every field is required, even a nullable column's.
  EXPECT_EQ(key.at("schema").at("fields").at(0).at("optional"), false);
}

TEST(envelope, postgres_source_block_has_schema_txid_and_lsn) {
  table_schema t;
  t.id = {"shop", "public", "orders"};
  t.columns = {col("id", value_kind::int64, true)};
  t.primary_key = {"id"};
  envelope_builder b{t, message_config{}, postgres_facts()};
  source_position pos;
  pos.lsn = 0x16B3748;
  auto v = json::parse(b.snapshot_entry(make_row({make_cell("42")}), pos,
                                        snapshot_mark::yes, 1700000000000)
                         .value);
  EXPECT_EQ(canonical(v.at("payload").at("source")), canonical(R"({
    "version": "15.18", "connector": "POSTGRESQL", "name": "REDIS_STREAM_Connector",
    "ts_ms": 1700000000000, "snapshot": "true", "db": "shop", "sequence": null,
    "schema": "public", "table": "orders", "txId": null, "lsn": 23803720})"));
  auto fields = v.at("schema").at("fields").at(2);
  EXPECT_EQ(canonical(fields.at("fields")), canonical(R"([
    {"type": "string", "optional": false, "field": "version"},
    {"type": "string", "optional": false, "field": "connector"},
    {"type": "string", "optional": false, "field": "name"},
    {"type": "int64", "optional": false, "field": "ts_ms"},
    {"type": "string", "optional": true, "field": "snapshot"},
    {"type": "string", "optional": false, "field": "db"},
    {"type": "string", "optional": true, "field": "sequence"},
    {"type": "string", "optional": false, "field": "schema"},
    {"type": "string", "optional": false, "field": "table"},
    {"type": "int64", "optional": true, "field": "txId"},
    {"type": "int64", "optional": true, "field": "lsn"}])"));
  EXPECT_EQ(v.at("schema").at("name"), "REDIS_STREAM_Connector.shop.public.orders.Envelope");
}

TEST(envelope, mariadb_source_names_its_connector_and_server_id) {
  source_facts f = mysql_facts();
  f.kind = source_kind::mariadb;
  f.version = "10.11.6-MariaDB";
  f.server_id = 7;
  message_config m;
  m.connector_name = "my_conn";
  m.include_schema = false;
  table_schema t = region_table();
  envelope_builder b{t, m, f};
  auto v = json::parse(b.snapshot_entry(make_row({make_cell("1"), make_cell("A"), null_cell()}),
                                        binlog_at("mariadb-bin.000001", 330),
                                        snapshot_mark::yes, 5)
                         .value);
  EXPECT_EQ(v.at("source").at("connector"), "MARIADB");
  EXPECT_EQ(v.at("source").at("name"), "my_conn");
  EXPECT_EQ(v.at("source").at("server_id"), 7);
  EXPECT_EQ(v.at("source").at("version"), "10.11.6-MariaDB");
  EXPECT_FALSE(v.at("source").as_object().contains("lsn"));
  message_config with_schema;
  with_schema.connector_name = "my_conn";
  envelope_builder b2{t, with_schema, f};
  auto key = json::parse(b2.key(make_row({make_cell("1"), make_cell("A"), null_cell()})));
  EXPECT_EQ(key.at("schema").at("name"), "my_conn.tpch_scale_0_01.region.Key");
}

TEST(envelope, row_with_wrong_width_is_bad_data) {
  envelope_builder b{region_table(), message_config{}, mysql_facts()};
  try {
    b.snapshot_entry(make_row({make_cell("1")}), binlog_at("f", 4), snapshot_mark::yes, 1);
    FAIL() << "no error";
  } catch (const trib::error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data);
  }
}

TEST(envelope, builder_moves) {
  envelope_builder a{region_table(), message_config{}, mysql_facts()};
  envelope_builder b{std::move(a)};
  EXPECT_EQ(json::parse(b.key(make_row({make_cell("5"), make_cell("A"), null_cell()})))
              .at("payload").at("r_regionkey"),
            5);
}

TEST(envelope, change_entries_carry_op_source_and_transaction) {
  message_config m;
  m.include_schema = false;
  envelope_builder b{region_table(), m, mysql_facts()};
  row old_row = make_row({make_cell("1"), make_cell("AMERICA"), make_cell("TestReplication")});
  row new_row = make_row({make_cell("1"), make_cell("AMERICA"), make_cell("Replication Works!")});
  change_origin o;
  o.source.position = binlog_at("log-bin.000004", 5748188);
  o.commit_ms = 1670357178000;
  o.txn_id = "0-1-35";
  o.total_order = 2;
  o.data_collection_order = 1;
  o.source.row = 1;
  o.source.thread = 1533;
  o.source.query = "UPDATE region SET r_comment='Replication Works!' WHERE r_regionkey=1";
  auto e = b.change_entry(change_op::update, &old_row, &new_row, o, 1670337378446);
  EXPECT_EQ(canonical(json::parse(e.key)), canonical(R"({"r_regionkey":1})"));
  EXPECT_EQ(canonical(json::parse(e.value)), canonical(R"({
    "before": {"r_regionkey": 1, "r_name": "AMERICA", "r_comment": "TestReplication"},
    "after": {"r_regionkey": 1, "r_name": "AMERICA", "r_comment": "Replication Works!"},
    "source": {"version": "5.7.24", "connector": "MYSQL", "name": "REDIS_STREAM_Connector",
               "ts_ms": 1670357178000, "snapshot": "false", "db": "tpch_scale_0_01",
               "sequence": null, "table": "region", "server_id": 1, "gtid": null,
               "file": "log-bin.000004", "pos": 5748188, "row": 1, "thread": 1533,
               "query": "UPDATE region SET r_comment='Replication Works!' WHERE r_regionkey=1"},
    "transaction": {"id": "0-1-35", "total_order": 2, "data_collection_order": 1},
    "op": "u", "ts_ms": 1670337378446})"));
  EXPECT_FALSE(b.key_changed(old_row, new_row));
  row moved = make_row({make_cell("2"), make_cell("AMERICA"), null_cell()});
  EXPECT_TRUE(b.key_changed(old_row, moved));
}

TEST(envelope, every_op_has_its_debezium_and_verbose_code) {
  row r = make_row({make_cell("9"), make_cell("X"), null_cell()});
  change_origin o;
  o.source.position = binlog_at("f", 4);
  struct expect_op {
    change_op op;
    const row* before;
    const row* after;
    const char* debezium;
    const char* verbose;
  };
  const expect_op ops[] = {{change_op::insert, nullptr, &r, "c", "INSERT"},
                           {change_op::update, &r, &r, "u", "UPDATE"},
                           {change_op::erase, &r, nullptr, "d", "DELETE"},
                           {change_op::truncate, nullptr, nullptr, "t", "TRUNCATE"}};
  for (auto codes : {op_codes::debezium, op_codes::verbose}) {
    message_config m;
    m.codes = codes;
    envelope_builder b{region_table(), m, mysql_facts()};
    for (const auto& x : ops) {
      auto v = json::parse(b.change_entry(x.op, x.before, x.after, o, 1).value);
      EXPECT_EQ(v.at("payload").at("op"), codes == op_codes::verbose ? x.verbose : x.debezium);
      EXPECT_EQ(v.at("payload").at("before").is_null(), x.before == nullptr);
      EXPECT_EQ(v.at("payload").at("after").is_null(), x.after == nullptr);
    }
  }
}

TEST(envelope, delete_key_comes_from_before_and_tombstone_value_is_default) {
  envelope_builder b{region_table(), message_config{}, mysql_facts()};
  row r = make_row({make_cell("4"), make_cell("EUROPE"), null_cell()});
  change_origin o;
  auto d = b.change_entry(change_op::erase, &r, nullptr, o, 1);
  auto t = b.tombstone(r);
  EXPECT_EQ(t.key, d.key);
  EXPECT_EQ(json::parse(t.key).at("payload").at("r_regionkey"), 4);
  EXPECT_EQ(t.value, "default");
  EXPECT_EQ(b.change_entry(change_op::truncate, nullptr, nullptr, o, 1).key, "default");
}

TEST(envelope, postgres_change_source_has_txid_and_lsn) {
  table_schema t;
  t.id = {"shop", "public", "orders"};
  t.columns = {col("id", value_kind::int64, true), col("note", value_kind::text)};
  t.primary_key = {"id"};
  message_config m;
  m.include_schema = false;
  envelope_builder b{t, m, postgres_facts()};
  row r = make_row({make_cell("42"), make_cell("hi")});
  change_origin o;
  o.source.position.lsn = 0x16B3748;
  o.commit_ms = 1700000000123;
  o.source.xid = 771;
  o.txn_id = "771";
  auto v = json::parse(b.change_entry(change_op::insert, nullptr, &r, o, 1700000000200).value);
  EXPECT_EQ(canonical(v.at("source")), canonical(R"({
    "version": "15.18", "connector": "POSTGRESQL", "name": "REDIS_STREAM_Connector",
    "ts_ms": 1700000000123, "snapshot": "false", "db": "shop", "sequence": null,
    "schema": "public", "table": "orders", "txId": 771, "lsn": 23803720})"));
  EXPECT_EQ(v.at("transaction").at("id"), "771");
  EXPECT_EQ(v.at("op"), "c");
}
