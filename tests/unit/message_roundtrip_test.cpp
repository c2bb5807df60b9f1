// Every value that travels between actors survives CAF's binary
// serialization unchanged, so that it can cross a node boundary.

#include <gtest/gtest.h>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actors/actors.hpp"
#include "actors/control/type_ids.hpp"

namespace trib {

// Field-by-field equality for the tests only; the messages themselves need
// none.
bool operator==(const column_info& a, const column_info& b) {
  return a.name == b.name && a.source_type == b.source_type &&
         a.kind == b.kind && a.precision == b.precision && a.scale == b.scale &&
         a.not_null == b.not_null && a.identity == b.identity &&
         a.generated == b.generated && a.has_default == b.has_default &&
         a.default_value == b.default_value &&
         a.element_kind == b.element_kind && a.allowed == b.allowed &&
         a.type_oid == b.type_oid && a.type_modifier == b.type_modifier;
}
bool operator==(const table_schema& a, const table_schema& b) {
  return a.id == b.id && a.columns == b.columns &&
         a.primary_key == b.primary_key && a.unique_keys == b.unique_keys &&
         a.row_identifier_key == b.row_identifier_key &&
         a.split_key == b.split_key && a.estimated_rows == b.estimated_rows;
}
bool operator==(const source_position& a, const source_position& b) {
  return a.lsn == b.lsn && a.binlog_file == b.binlog_file &&
         a.binlog_pos == b.binlog_pos && a.gtid == b.gtid;
}
bool operator==(const snapshot_position& a, const snapshot_position& b) {
  return a.last_key == b.last_key && a.rows_done == b.rows_done &&
         a.done == b.done;
}
bool operator==(const failure& a, const failure& b) {
  return a.code == b.code && a.what == b.what;
}
bool operator==(const row_batch& a, const row_batch& b) {
  return a.table == b.table && a.seq == b.seq && a.rows == b.rows &&
         a.position == b.position && a.source == b.source;
}
bool operator==(const batch_ack& a, const batch_ack& b) {
  return a.table == b.table && a.seq == b.seq &&
         a.rows_written == b.rows_written;
}
bool operator==(const stream_entry& a, const stream_entry& b) {
  return a.key == b.key && a.value == b.value;
}
bool operator==(const write_batch& a, const write_batch& b) {
  return a.stream == b.stream && a.entries == b.entries &&
         a.checkpoint_key == b.checkpoint_key &&
         a.checkpoint_field == b.checkpoint_field &&
         a.checkpoint_value == b.checkpoint_value;
}
bool operator==(const write_ack& a, const write_ack& b) {
  return a.entries == b.entries && a.last_id == b.last_id;
}
bool operator==(const table_done& a, const table_done& b) {
  return a.table == b.table && a.rows_written == b.rows_written &&
         a.skipped == b.skipped && a.reason == b.reason;
}
bool operator==(const snapshot_result& a, const snapshot_result& b) {
  return a.tables == b.tables && a.aborted == b.aborted &&
         a.reason == b.reason && a.stopped == b.stopped;
}
bool operator==(const change_source& a, const change_source& b) {
  return a.position == b.position && a.xid == b.xid && a.row == b.row &&
         a.thread == b.thread && a.query == b.query;
}
bool operator==(const row_change& a, const row_change& b) {
  return a.table == b.table && a.op == b.op && a.has_before == b.has_before &&
         a.before == b.before && a.has_after == b.has_after && a.after == b.after &&
         a.source == b.source && a.commit == b.commit && a.txn_id == b.txn_id &&
         a.commit_ms == b.commit_ms && a.total_order == b.total_order &&
         a.data_collection_order == b.data_collection_order && a.index == b.index;
}
bool operator==(const source_txn& a, const source_txn& b) {
  return a.commit == b.commit && a.id == b.id && a.commit_ms == b.commit_ms &&
         a.changes == b.changes && a.last == b.last && a.release == b.release;
}
bool operator==(const change_feed& a, const change_feed& b) { return a.txns == b.txns; }
bool operator==(const change_release& a, const change_release& b) {
  return a.position == b.position && a.feeds == b.feeds && a.idle == b.idle && a.stop == b.stop;
}
bool operator==(const change_batch& a, const change_batch& b) {
  return a.stream == b.stream && a.seq == b.seq && a.changes == b.changes &&
         a.transactions == b.transactions && a.bytes == b.bytes;
}
bool operator==(const change_ack& a, const change_ack& b) {
  return a.stream == b.stream && a.seq == b.seq && a.entries == b.entries &&
         a.stopped_commit == b.stopped_commit && a.stopped_table == b.stopped_table &&
         a.stop_reason == b.stop_reason && a.stop_decided == b.stop_decided;
}

namespace {

class message_roundtrip : public ::testing::Test {
protected:
  static caf::actor_system_config& config() {
    static caf::actor_system_config cfg;
    static bool registered = false;
    if (!registered) {
      register_message_types(cfg);
      registered = true;
    }
    return cfg;
  }

  message_roundtrip() : sys(config()) {
  }

  /// Serializes `x`, deserializes into a default value and returns that.
  template <class T>
  T roundtrip(T x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    auto err = sink(x);
    EXPECT_FALSE(err) << sys.render(err);
    EXPECT_FALSE(buf.empty());
    T y;
    caf::binary_deserializer source{sys, buf};
    err = source(y);
    EXPECT_FALSE(err) << sys.render(err);
    EXPECT_EQ(source.remaining(), 0u);
    return y;
  }

  caf::actor_system sys;
};

table_id sample_table() { return table_id{"shop", "public", "orders"}; }

column_info sample_column() {
  column_info c;
  c.name = "status";
  c.source_type = "ENUM('new','paid')";
  c.kind = value_kind::enumeration;
  c.precision = 38;
  c.scale = 10;
  c.not_null = true;
  c.identity = true;
  c.generated = true;
  c.has_default = true;
  c.default_value = "'new'";
  c.element_kind = value_kind::decimal;
  c.allowed = {"new", "paid"};
  c.type_oid = 1700;
  c.type_modifier = 2621448;
  return c;
}

row sample_row() {
  return row{{make_cell("42"), null_cell(), make_cell(std::string("a\0b", 3))}};
}

snapshot_position sample_snapshot_position() {
  snapshot_position p;
  p.last_key = {make_cell("42"), make_cell("x")};
  p.rows_done = 123456789012ull;
  p.done = true;
  return p;
}

source_position sample_source_position() {
  source_position p;
  p.lsn = 0x16B3748ull << 8;
  p.binlog_file = "mysql-bin.000042";
  p.binlog_pos = 1337;
  p.gtid = "0-1-35";
  return p;
}

failure sample_failure() {
  return failure{failure_code::wrong_type, "WRONGTYPE Operation against a key"};
}

table_done sample_done() {
  return table_done{7, 999, true, sample_failure()};
}

TEST_F(message_roundtrip, table_id) {
  EXPECT_EQ(roundtrip(sample_table()), sample_table());
}

TEST_F(message_roundtrip, column_info) {
  EXPECT_EQ(roundtrip(sample_column()), sample_column());
}

TEST_F(message_roundtrip, table_schema) {
  table_schema t;
  t.id = sample_table();
  t.columns = {sample_column(), sample_column()};
  t.columns[1].name = "id";
  t.primary_key = {"id"};
  t.unique_keys = {{"status", "id"}, {"id"}};
  t.row_identifier_key = {"status"};
  t.split_key = "id";
  t.estimated_rows = 1u << 20;
  EXPECT_EQ(roundtrip(t), t);
  std::vector<table_schema> plan{t, t};
  plan[1].id.table = "lines";
  EXPECT_EQ(roundtrip(plan), plan);
}

TEST_F(message_roundtrip, cell_and_row) {
  EXPECT_EQ(roundtrip(make_cell("text")), make_cell("text"));
  cell empty_not_null = make_cell("");
  EXPECT_EQ(roundtrip(empty_not_null).null, false);
  EXPECT_EQ(roundtrip(sample_row()), sample_row());
}

TEST_F(message_roundtrip, positions) {
  EXPECT_EQ(roundtrip(sample_source_position()), sample_source_position());
  EXPECT_EQ(roundtrip(sample_snapshot_position()), sample_snapshot_position());
}

TEST_F(message_roundtrip, failure) {
  EXPECT_EQ(roundtrip(sample_failure()), sample_failure());
}

TEST_F(message_roundtrip, row_batch) {
  row_batch b;
  b.table = 3;
  b.seq = 17;
  b.rows = {sample_row(), sample_row()};
  b.position = sample_snapshot_position();
  b.source = sample_source_position();
  EXPECT_EQ(roundtrip(b), b);
}

TEST_F(message_roundtrip, batch_ack) {
  batch_ack a{3, 17, 5000, {}};
  EXPECT_EQ(roundtrip(a), a);
}

TEST_F(message_roundtrip, write_batch_and_ack) {
  write_batch w;
  w.stream = "shop_public_orders";
  w.entries = {{"{\"k\":1}", "{\"v\":1}"}, {"{\"k\":2}", "default"}};
  w.checkpoint_key = "replicate_io_checkpoint_g_i";
  w.checkpoint_field = "shop_public_orders";
  w.checkpoint_value = "{\"rows_done\":2}";
  EXPECT_EQ(roundtrip(w), w);
  write_ack a{2, "1700000000000-1"};
  EXPECT_EQ(roundtrip(a), a);
}

TEST_F(message_roundtrip, table_done_and_result) {
  EXPECT_EQ(roundtrip(sample_done()), sample_done());
  snapshot_result r;
  r.tables = {sample_done(), table_done{1, 10, false, {}}};
  r.aborted = true;
  r.reason = failure{failure_code::auth, "NOPERM"};
  EXPECT_EQ(roundtrip(r), r);
  r.stopped = true;
  EXPECT_EQ(roundtrip(r), r);
}

// A binlog change: every field of change_source set.
row_change sample_change() {
  row_change c;
  c.table = 4;
  c.op = change_op::update;
  c.has_before = true;
  c.before = sample_row();
  c.has_after = true;
  c.after = sample_row();
  c.source.position = sample_source_position();
  c.source.xid = 771;
  c.source.row = 2;
  c.source.thread = 1533;
  c.source.query = "UPDATE t SET v = 1";
  c.commit = (42ull << 32) | 5748188;
  c.txn_id = "0-1-35";
  c.commit_ms = 1670357178000;
  c.total_order = 3;
  c.data_collection_order = 2;
  c.index = 9;
  return c;
}

TEST_F(message_roundtrip, realtime_values) {
  auto c = sample_change();
  EXPECT_EQ(roundtrip(c), c);
  source_txn t{c.commit, "0-1-35", 1670357178000, {c, c}, true, c.commit + 27};
  EXPECT_EQ(roundtrip(t), t);
  change_feed f{{t, source_txn{}}};
  EXPECT_EQ(roundtrip(f), f);
  change_release r{123456789012ull, 17, true, true};
  EXPECT_EQ(roundtrip(r), r);
  change_batch b{1, 99, {c}, {c.commit}, change_bytes(c)};
  EXPECT_EQ(roundtrip(b), b);
  change_ack a{1, 99, 3, c.commit, 4, "cannot write its change"};
  EXPECT_EQ(roundtrip(a), a);
}

TEST_F(message_roundtrip, registered_types_have_readable_names_in_messages) {
  // A message holding our types renders through inspect(), which is what
  // CAF's diagnostics print.
  auto msg = caf::make_message(sample_done());
  EXPECT_NE(caf::to_string(msg).find("table_done"), std::string::npos);
}

TEST_F(message_roundtrip, failures_survive_the_trip_through_caf_error) {
  auto f = sample_failure();
  auto back = to_failure(to_caf_error(f));
  EXPECT_EQ(back, f);
  EXPECT_NE(sys.render(to_caf_error(f)).find("wrong_type"), std::string::npos);
  EXPECT_EQ(to_failure(caf::make_error(caf::sec::request_timeout)).code,
            failure_code::internal);
}

}  // namespace
}  // namespace trib
