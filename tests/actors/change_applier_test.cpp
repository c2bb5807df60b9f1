// The change applier on CAF's test coordinator, between a reader double that
// sends change batches and a writer double whose acknowledgements the test
// gives: commit order, writes built only when the writer has room, the
// checkpoint of each write,
// the skip rule after a restart, the entries of each operation, schema
// changes and write failures.

#include "actors/apply/change_applier.hpp"

#include <filesystem>
#include <fstream>

#include <boost/json.hpp>

#include "actors/apply/envelope.hpp"
#include "actors/control/supervisor.hpp"
#include "actors/sink/redis_client.hpp"
#include "tests/actors/actor_test_env.hpp"

namespace trib::test {
namespace {

struct writes_log {
  std::vector<write_batch> writes;
  std::vector<caf::typed_response_promise<write_ack>> promises;
  /// Undo requests, and what the double answers to them.
  std::vector<undo_request> undos;
  undo_result undo_answer;
  /// The attempts a failure says the writer made (0: it does not say).
  int attempts = 0;
};

using answer_atom = caf::atom_constant<caf::atom("answer")>;
using send_atom = caf::atom_constant<caf::atom("send")>;

using writer_double_actor = redis_writer_actor::extend<caf::reacts_to<answer_atom, uint64_t, failure>>;

writer_double_actor::behavior_type writer_double(writer_double_actor::pointer self,
                                                 std::shared_ptr<writes_log> log) {
  return {
    [self, log](write_batch& b) -> caf::result<write_ack> {
      // Entries arrive encoded as RESP; the log keeps them decoded, so the
      // tests read them the way Redis will.
      write_batch plain = b;
      plain.entries = batch_entries(b);
      plain.encoded.clear();
      plain.encoded_count = 0;
      log->writes.push_back(std::move(plain));
      log->promises.push_back(self->make_response_promise<write_ack>());
      return log->promises.back();
    },
    [log](answer_atom, uint64_t index, failure& f) {
      // A committed write's last entry ID: "<write number>-<entries>".
      auto n = log->writes.at(index).entries.size();
      auto id = std::to_string(index + 1) + "-" + std::to_string(n);
      if (f.what.empty()) log->promises.at(index).deliver(write_ack{n, id});
      else log->promises.at(index).deliver(to_caf_error(f, log->attempts));
    },
    [log](undo_request& u) -> undo_result {
      log->undos.push_back(u);
      return log->undo_answer;
    },
    // A real writer's self-sent flush; the double answers on command instead.
    [](flush_atom, uint64_t) {},
    [](tick_atom) {},
    [](stop_atom) {},
  };
}

struct acks_log {
  std::vector<change_ack> acks;
  std::vector<failure> errors;
};

/// Sends the batch it is given to the applier and records the answer.
using reader_double_actor = caf::typed_actor<caf::reacts_to<send_atom, change_batch>>;

reader_double_actor::behavior_type reader_double(reader_double_actor::pointer self,
                                                 change_applier_actor applier,
                                                 std::shared_ptr<acks_log> log) {
  return {
    [=](send_atom, change_batch& b) {
      self->request(applier, caf::infinite, std::move(b))
        .then([log](change_ack& a) { log->acks.push_back(a); },
              [log](caf::error& e) { log->errors.push_back(to_failure(e)); });
    },
  };
}

table_schema items() {
  table_schema t;
  t.id = table_id{"shop", "public", "items"};
  column_info id;
  id.name = "id";
  id.source_type = "int4";
  id.kind = value_kind::int32;
  id.not_null = true;
  column_info v;
  v.name = "v";
  v.source_type = "text";
  v.kind = value_kind::text;
  t.columns = {id, v};
  t.primary_key = {"id"};
  return t;
}

row make_row(int id, const std::string& v) { return row{{make_cell(std::to_string(id)), make_cell(v)}}; }

// A change as the dispatcher hands it on for a PostgreSQL source: commit key
// = commit LSN, id = xid; its place in the transaction is its index unless
// `order` says otherwise.
row_change change_of(change_op op, uint64_t commit, uint64_t index, const row* before,
                     const row* after, int64_t order = 0) {
  row_change c;
  c.op = op;
  c.commit = commit;
  c.index = index;
  c.txn_id = std::to_string(commit);
  c.source.xid = static_cast<int64_t>(commit);
  c.commit_ms = 1700000000000;
  c.source.position.lsn = commit - 8;
  c.total_order = order > 0 ? order : static_cast<int64_t>(index);
  c.data_collection_order = c.total_order;
  if (before) {
    c.has_before = true;
    c.before = *before;
  }
  if (after) {
    c.has_after = true;
    c.after = *after;
  }
  return c;
}

change_batch batch_of(uint64_t seq, std::vector<row_change> changes) {
  change_batch b;
  b.seq = seq;
  for (const auto& c : changes)
    if (b.transactions.empty() || b.transactions.back() != c.commit)
      b.transactions.push_back(c.commit);
  b.changes = std::move(changes);
  return b;
}

std::string op_of(const stream_entry& e) {
  if (e.value == "default") return "tombstone";
  return std::string(boost::json::parse(e.value).at("payload").at("op").as_string());
}

class change_applier_test : public actor_test {
protected:
  void start(stream_checkpoint from = {}, size_t max_write_bytes = 4u << 20,
             bool supervised = false, int max_retries = 2, bool skip = true) {
    change_applier_settings s;
    if (supervised) {
      supervisor_settings sv;
      sv.rules.policy.max_retries = max_retries;
      sv.rules.policy.base_wait = std::chrono::milliseconds{10};
      sv.rules.skip_tables_on_failures = skip;
      sv.in_doubt_path = in_doubt_path;
      record = sv.record;
      sup = sys.spawn(supervisor, sv);
      s.supervisor = sup;
    }
    s.max_write_bytes = max_write_bytes;
    s.max_write_rows = max_write_rows;
    s.stream = 0;
    s.stream_name = "shop_public_items_cdc_logs";
    s.checkpoint_field = s.stream_name;
    s.group = "g";
    s.id = "i";
    s.tables = {items()};
    s.facts.version = "15";
    s.facts.database = "shop";
    s.start = from;
    writer = sys.spawn(writer_double, writes);
    aut = sys.spawn(change_applier, s, caf::actor_cast<redis_writer_actor>(writer));
    reader = sys.spawn(reader_double, aut, acks);
    sched.run();
  }
  void send(change_batch b) {
    caf::anon_send(reader, send_atom::value, std::move(b));
    sched.run();
  }
  void answer(uint64_t i, failure f = {failure_code::internal, ""}) {
    caf::anon_send(writer, answer_atom::value, i, std::move(f));
    sched.run();
  }
  void TearDown() override {
    stop(reader, aut, writer);
    if (sup) stop(sup);
    std::filesystem::remove_all(dir);
  }
  /// Runs the retry that waits for the supervisor's backoff.
  void wait_out_backoff() {
    sched.trigger_timeouts();
    sched.run();
  }

  std::string dir = ::testing::TempDir() + "trib_applier_" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::string in_doubt_path = in_doubt_log_path(dir);
  /// realtime.batch-size-rows (set before start()).
  size_t max_write_rows = SIZE_MAX;
  supervisor_actor sup;
  std::shared_ptr<supervision_record> record;

  std::shared_ptr<writes_log> writes = std::make_shared<writes_log>();
  std::shared_ptr<acks_log> acks = std::make_shared<acks_log>();
  writer_double_actor writer;
  change_applier_actor aut;
  reader_double_actor reader;
};

}  // namespace

TEST_F(change_applier_test, keeps_two_writes_in_flight_and_acknowledges_after_the_writer) {
  start();
  auto r1 = make_row(1, "a");
  auto r2 = make_row(2, "b");
  auto r3 = make_row(3, "c");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r1)}));
  send(batch_of(1, {change_of(change_op::insert, 200, 1, nullptr, &r2)}));
  send(batch_of(2, {change_of(change_op::insert, 300, 1, nullptr, &r3)}));
  // The third write is built only once the writer has room.
  ASSERT_EQ(writes->writes.size(), 2u);
  EXPECT_TRUE(acks->acks.empty());
  EXPECT_EQ(writes->writes[0].checkpoint_key, "replicate_io_checkpoint_g_i");
  EXPECT_EQ(writes->writes[0].checkpoint_field, "shop_public_items_cdc_logs");
  EXPECT_EQ(writes->writes[0].checkpoint_value, encode_stream_checkpoint({100, 1}));
  EXPECT_EQ(writes->writes[1].checkpoint_value, encode_stream_checkpoint({200, 1}));
  answer(0);
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].seq, 0u);
  EXPECT_EQ(acks->acks[0].entries, 1u);
  ASSERT_EQ(writes->writes.size(), 3u);
  EXPECT_EQ(writes->writes[2].checkpoint_value, encode_stream_checkpoint({300, 1}));
  answer(1);
  answer(2);
  ASSERT_EQ(acks->acks.size(), 3u);
  EXPECT_EQ(acks->acks[1].seq, 1u);
  EXPECT_EQ(acks->acks[2].seq, 2u);
}

TEST_F(change_applier_test, a_large_batch_becomes_writes_cut_between_transactions) {
  // One byte per write at most: every write ends at the first transaction
  // boundary, and no write is built ahead of a write that large.
  start({}, 1);
  auto r = make_row(1, "a");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r),
                    change_of(change_op::insert, 100, 2, nullptr, &r),
                    change_of(change_op::insert, 200, 1, nullptr, &r)}));
  ASSERT_EQ(writes->writes.size(), 1u);
  EXPECT_EQ(writes->writes[0].entries.size(), 2u);
  EXPECT_EQ(writes->writes[0].checkpoint_value, encode_stream_checkpoint({100, 2}));
  answer(0);
  EXPECT_TRUE(acks->acks.empty());
  ASSERT_EQ(writes->writes.size(), 2u);
  EXPECT_EQ(writes->writes[1].entries.size(), 1u);
  EXPECT_EQ(writes->writes[1].checkpoint_value, encode_stream_checkpoint({200, 1}));
  answer(1);
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].entries, 3u);
}

TEST_F(change_applier_test, batch_size_rows_cuts_writes_even_inside_a_transaction) {
  // Two changes per write at most: the transaction of three changes takes
  // two writes, the second in flight while the first is (two at a time).
  max_write_rows = 2;
  start();
  auto r = make_row(1, "a");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r),
                    change_of(change_op::insert, 100, 2, nullptr, &r),
                    change_of(change_op::insert, 100, 3, nullptr, &r),
                    change_of(change_op::erase, 200, 1, &r, nullptr)}));
  ASSERT_EQ(writes->writes.size(), 2u);
  EXPECT_EQ(writes->writes[0].entries.size(), 2u);
  EXPECT_EQ(writes->writes[0].checkpoint_value, encode_stream_checkpoint({100, 2}));
  // A delete is one change of two entries (the change and its tombstone).
  EXPECT_EQ(writes->writes[1].entries.size(), 3u);
  EXPECT_EQ(writes->writes[1].checkpoint_value, encode_stream_checkpoint({200, 1}));
  answer(0);
  EXPECT_TRUE(acks->acks.empty());
  answer(1);
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].entries, 5u);
}

TEST_F(change_applier_test, a_schema_change_waits_for_the_batches_before_it) {
  // The writer is busy: the batch before the DDL is built after the schema
  // change arrived, yet with the old columns.
  start({}, 1);
  auto r = make_row(1, "a");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r)}));
  send(batch_of(1, {change_of(change_op::insert, 200, 1, nullptr, &r)}));
  auto t = items();
  column_info extra;
  extra.name = "extra";
  extra.source_type = "int4";
  extra.kind = value_kind::int32;
  t.columns.push_back(extra);
  caf::anon_send(aut, schema_change{0, t});
  sched.run();
  row wide{{make_cell("2"), make_cell("b"), make_cell("42")}};
  send(batch_of(2, {change_of(change_op::insert, 300, 1, nullptr, &wide)}));
  answer(0);
  answer(1);
  ASSERT_EQ(writes->writes.size(), 3u);
  auto before = boost::json::parse(writes->writes[1].entries[0].value);
  EXPECT_FALSE(before.at("payload").at("after").as_object().contains("extra"));
  auto after = boost::json::parse(writes->writes[2].entries[0].value);
  EXPECT_EQ(after.at("payload").at("after").at("extra"), 42);
}

TEST_F(change_applier_test, skips_what_its_checkpoint_covers_after_a_restart) {
  // The stream holds transaction 200 up to its 2nd change.
  start(stream_checkpoint{200, 2});
  auto r = make_row(1, "a");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r),
                    change_of(change_op::insert, 200, 1, nullptr, &r),
                    change_of(change_op::insert, 200, 2, nullptr, &r)}));
  // Everything covered: acknowledged at once, nothing written.
  EXPECT_TRUE(writes->writes.empty());
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].entries, 0u);
  send(batch_of(1, {change_of(change_op::insert, 200, 2, nullptr, &r),
                    change_of(change_op::insert, 200, 3, nullptr, &r),
                    change_of(change_op::insert, 300, 1, nullptr, &r)}));
  ASSERT_EQ(writes->writes.size(), 1u);
  EXPECT_EQ(writes->writes[0].entries.size(), 2u);
  EXPECT_EQ(writes->writes[0].checkpoint_value, encode_stream_checkpoint({300, 1}));
  // A batch sent again (a reconnected slot) is covered by what is queued.
  send(batch_of(2, {change_of(change_op::insert, 300, 1, nullptr, &r)}));
  EXPECT_EQ(writes->writes.size(), 1u);
  EXPECT_EQ(acks->acks.size(), 2u);
}

TEST_F(change_applier_test, writes_each_operation_as_the_contract_says) {
  start();
  auto old_row = make_row(1, "a");
  auto same_key = make_row(1, "b");
  auto new_key = make_row(9, "b");
  // The key update is two events: the dispatcher gave it places 3 and 4.
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &old_row),
                    change_of(change_op::update, 100, 2, &old_row, &same_key),
                    change_of(change_op::update, 100, 3, &same_key, &new_key),
                    change_of(change_op::erase, 100, 4, &new_key, nullptr, 5),
                    change_of(change_op::truncate, 100, 5, nullptr, nullptr, 6)}));
  ASSERT_EQ(writes->writes.size(), 1u);
  std::vector<std::string> ops;
  for (const auto& e : writes->writes[0].entries) ops.push_back(op_of(e));
  EXPECT_EQ(ops, (std::vector<std::string>{"c", "u", "d", "tombstone", "c", "d", "tombstone", "t"}));
  const auto& e = writes->writes[0].entries;
  EXPECT_NE(e[2].key.find("\"id\":1"), std::string::npos);
  EXPECT_EQ(e[3].key, e[2].key);
  EXPECT_NE(e[4].key.find("\"id\":9"), std::string::npos);
  EXPECT_EQ(e[7].key, "default");
  auto v = boost::json::parse(e[0].value).at("payload");
  EXPECT_EQ(v.at("transaction").at("id"), "100");
  EXPECT_EQ(v.at("source").at("txId"), 100);
  EXPECT_EQ(v.at("source").at("lsn"), 92);
  EXPECT_EQ(v.at("source").at("ts_ms"), 1700000000000);
  EXPECT_EQ(writes->writes[0].checkpoint_value, encode_stream_checkpoint({100, 5}));
  // Each event has its own place in the transaction, as Debezium numbers
  // them: the key update's delete and insert are consecutive.
  std::vector<int64_t> total, per_table;
  for (const auto& entry : e) {
    if (entry.value == "default") continue;
    auto tx = boost::json::parse(entry.value).at("payload").at("transaction");
    total.push_back(tx.at("total_order").to_number<int64_t>());
    per_table.push_back(tx.at("data_collection_order").to_number<int64_t>());
  }
  EXPECT_EQ(total, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(per_table, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
}

TEST_F(change_applier_test, a_schema_change_rebuilds_the_messages_of_later_changes) {
  start();
  auto t = items();
  column_info extra;
  extra.name = "extra";
  extra.source_type = "int4";
  extra.kind = value_kind::int32;
  t.columns.push_back(extra);
  caf::anon_send(aut, schema_change{0, t});
  sched.run();
  row r{{make_cell("1"), make_cell("a"), make_cell("42")}};
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r)}));
  ASSERT_EQ(writes->writes.size(), 1u);
  auto v = boost::json::parse(writes->writes[0].entries[0].value);
  EXPECT_EQ(v.at("payload").at("after").at("extra"), 42);
}

TEST_F(change_applier_test, a_failed_write_fails_it_and_every_later_batch) {
  start();
  auto r = make_row(1, "a");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r)}));
  send(batch_of(1, {change_of(change_op::insert, 200, 1, nullptr, &r)}));
  answer(0, failure{failure_code::wrong_type, "WRONGTYPE"});
  ASSERT_EQ(acks->errors.size(), 2u);
  EXPECT_EQ(acks->errors[0].code, failure_code::wrong_type);
  send(batch_of(2, {change_of(change_op::insert, 300, 1, nullptr, &r)}));
  EXPECT_EQ(acks->errors.size(), 3u);
  // The second write was at the writer already (a real writer refuses it:
  // its field failed); nothing is built after the failure.
  EXPECT_EQ(writes->writes.size(), 2u);
}

TEST_F(change_applier_test, a_change_the_builder_rejects_stops_the_stream_before_it) {
  start();
  auto good = make_row(1, "a");
  row bad{{make_cell("not a number"), make_cell("b")}};
  auto later = make_row(3, "c");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &good),
                    change_of(change_op::insert, 200, 1, nullptr, &bad),
                    change_of(change_op::insert, 200, 2, nullptr, &later)}));
  // What came before the change is written; its checkpoint stays before it.
  ASSERT_EQ(writes->writes.size(), 1u);
  EXPECT_EQ(writes->writes[0].entries.size(), 1u);
  EXPECT_EQ(writes->writes[0].checkpoint_value, encode_stream_checkpoint({100, 1}));
  answer(0);
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].stopped_commit, 200u);
  EXPECT_EQ(acks->acks[0].stopped_table, 0u);
  EXPECT_NE(acks->acks[0].stop_reason.find("not a number"), std::string::npos)
    << acks->acks[0].stop_reason;
  // Later batches write nothing and keep saying where the stream stopped.
  send(batch_of(1, {change_of(change_op::insert, 300, 1, nullptr, &later)}));
  EXPECT_EQ(writes->writes.size(), 1u);
  ASSERT_EQ(acks->acks.size(), 2u);
  EXPECT_EQ(acks->acks[1].entries, 0u);
  EXPECT_EQ(acks->acks[1].stopped_commit, 200u);
}

TEST_F(change_applier_test, a_rejected_first_change_writes_nothing_and_says_so_at_once) {
  start();
  row bad{{make_cell("not a number"), make_cell("b")}};
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &bad)}));
  EXPECT_TRUE(writes->writes.empty());
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].stopped_commit, 100u);
}


// The seed's realtime rule (design section 7): the entries of a failed batch
// that did commit are deleted again and its checkpoint written back, then
// the whole batch is written again, in order.
TEST_F(change_applier_test, a_failed_write_undoes_its_batch_and_writes_it_again_whole) {
  start({}, 1, true);
  auto r1 = make_row(1, "a");
  auto r2 = make_row(2, "b");
  auto r3 = make_row(3, "c");
  // One byte per write: a write per transaction.
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r1),
                    change_of(change_op::insert, 200, 1, nullptr, &r2)}));
  send(batch_of(1, {change_of(change_op::insert, 300, 1, nullptr, &r3)}));
  ASSERT_EQ(writes->writes.size(), 1u);
  answer(0);
  ASSERT_EQ(writes->writes.size(), 2u);
  answer(1, failure{failure_code::server_busy, "OOM command not allowed"});
  // The committed write is taken back: its entry, and the checkpoint as it
  // was before the batch (none).
  ASSERT_EQ(writes->undos.size(), 1u);
  const auto& u = writes->undos[0];
  EXPECT_EQ(u.stream, "shop_public_items_cdc_logs");
  EXPECT_EQ(u.last_ids, (std::vector<std::string>{"1-1"}));
  EXPECT_EQ(u.counts, (std::vector<uint64_t>{1}));
  EXPECT_FALSE(u.had_checkpoint);
  EXPECT_TRUE(acks->acks.empty());
  EXPECT_TRUE(acks->errors.empty());
  // Nothing is written before the backoff is over.
  EXPECT_EQ(writes->writes.size(), 2u);
  wait_out_backoff();
  ASSERT_EQ(writes->writes.size(), 3u);
  EXPECT_EQ(writes->writes[2].checkpoint_value, encode_stream_checkpoint({100, 1}));
  EXPECT_EQ(writes->writes[2].entries.size(), 1u);
  answer(2);
  answer(3);
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].seq, 0u);
  EXPECT_EQ(acks->acks[0].entries, 2u);
  EXPECT_EQ(acks->acks[0].stopped_commit, 0u);
  ASSERT_EQ(writes->writes.size(), 5u);
  EXPECT_EQ(writes->writes[4].checkpoint_value, encode_stream_checkpoint({300, 1}));
  answer(4);
  ASSERT_EQ(acks->acks.size(), 2u);
  std::lock_guard<std::mutex> g{record->lock};
  EXPECT_EQ(record->retries, 1u);
}

TEST_F(change_applier_test, out_of_retries_the_stream_stops_before_the_batch) {
  start({200, 1}, 1, true, 1);
  auto r1 = make_row(1, "a");
  auto r2 = make_row(2, "b");
  // The change at 200 is covered by the checkpoint: the batch starts at 300.
  send(batch_of(0, {change_of(change_op::insert, 200, 1, nullptr, &r1),
                    change_of(change_op::insert, 300, 1, nullptr, &r1),
                    change_of(change_op::insert, 400, 1, nullptr, &r2)}));
  answer(0);
  answer(1, failure{failure_code::connection, "connection lost"});
  ASSERT_EQ(writes->undos.size(), 1u);
  EXPECT_TRUE(writes->undos[0].had_checkpoint);
  EXPECT_EQ(writes->undos[0].checkpoint_value, encode_stream_checkpoint({200, 1}));
  wait_out_backoff();
  ASSERT_EQ(writes->writes.size(), 3u);
  answer(2, failure{failure_code::connection, "connection lost"});
  // Out of retries (one): undone again, and the stream stops at the
  // batch's first change the checkpoint does not cover.
  ASSERT_EQ(writes->undos.size(), 2u);
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].stopped_commit, 300u);
  EXPECT_TRUE(acks->acks[0].stop_decided);
  EXPECT_EQ(acks->acks[0].entries, 0u);
  EXPECT_NE(acks->acks[0].stop_reason.find("connection lost"), std::string::npos)
    << acks->acks[0].stop_reason;
  // Later batches write nothing and say where the stream stopped.
  send(batch_of(1, {change_of(change_op::insert, 500, 1, nullptr, &r2)}));
  ASSERT_EQ(acks->acks.size(), 2u);
  EXPECT_EQ(acks->acks[1].stopped_commit, 300u);
  EXPECT_EQ(writes->writes.size(), 3u);
  EXPECT_FALSE(std::filesystem::exists(in_doubt_path));
}

// One max-retries (issue 12): a writer that tried a write three times under
// the policy already leaves a max-retries of 3 one batch retry, and one of
// 2 none, so that a retryable failure is tried max-retries + 1 times in all.
TEST_F(change_applier_test, the_writers_own_attempts_count_against_max_retries) {
  start({}, 4u << 20, true, 3);
  writes->attempts = 3;
  auto r1 = make_row(1, "a");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r1)}));
  answer(0, failure{failure_code::server_busy, "OOM command not allowed"});
  // Three of four attempts spent: one batch retry is left.
  wait_out_backoff();
  ASSERT_EQ(writes->writes.size(), 2u);
  writes->attempts = 1;
  answer(1, failure{failure_code::server_busy, "OOM command not allowed"});
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].stopped_commit, 100u);
  EXPECT_EQ(writes->writes.size(), 2u);
  std::lock_guard<std::mutex> g{record->lock};
  EXPECT_EQ(record->retries, 1u);
}

TEST_F(change_applier_test, a_writer_out_of_retries_is_not_retried_again) {
  start({}, 4u << 20, true, 2);
  writes->attempts = 3;
  auto r1 = make_row(1, "a");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r1)}));
  answer(0, failure{failure_code::connection, "connection lost"});
  wait_out_backoff();
  EXPECT_EQ(writes->writes.size(), 1u);
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].stopped_commit, 100u);
  std::lock_guard<std::mutex> g{record->lock};
  EXPECT_EQ(record->retries, 0u);
}

TEST_F(change_applier_test, a_permanent_failure_is_not_retried) {
  start({}, 4u << 20, true, 10);
  auto r1 = make_row(1, "a");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r1)}));
  answer(0, failure{failure_code::auth, "NOPERM this user has no permissions to access the key"});
  ASSERT_EQ(writes->undos.size(), 1u);
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].stopped_commit, 100u);
  EXPECT_EQ(writes->writes.size(), 1u);
}

TEST_F(change_applier_test, entries_the_undo_could_not_delete_go_to_the_in_doubt_log) {
  start({}, 1, true, 10);
  writes->undo_answer.failed = true;
  writes->undo_answer.error = "NOPERM this user has no permissions to run the 'xdel' command";
  writes->undo_answer.not_deleted = {"1-0"};
  auto r1 = make_row(1, "a");
  auto r2 = make_row(2, "b");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r1),
                    change_of(change_op::insert, 200, 1, nullptr, &r2)}));
  answer(0);
  answer(1, failure{failure_code::server_busy, "BUSY"});
  // Retryable, retries left, yet not retried: the entry left would be doubled.
  ASSERT_EQ(acks->acks.size(), 1u);
  EXPECT_EQ(acks->acks[0].stopped_commit, 100u);
  wait_out_backoff();
  EXPECT_EQ(writes->writes.size(), 2u);
  std::ifstream in(in_doubt_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "XDEL shop_public_items_cdc_logs 1-0\n");
  std::lock_guard<std::mutex> g{record->lock};
  EXPECT_EQ(record->in_doubt, 1u);
  EXPECT_EQ(record->events.size(), 1u);
}

TEST_F(change_applier_test, without_skipping_a_failed_write_stops_the_run) {
  start({}, 4u << 20, true, 0, false);
  auto r1 = make_row(1, "a");
  send(batch_of(0, {change_of(change_op::insert, 100, 1, nullptr, &r1)}));
  send(batch_of(1, {change_of(change_op::insert, 200, 1, nullptr, &r1)}));
  answer(0, failure{failure_code::wrong_type, "WRONGTYPE Operation against a key"});
  answer(1, failure{failure_code::internal, "refuses a write: an earlier write failed"});
  ASSERT_EQ(writes->undos.size(), 1u);
  ASSERT_EQ(acks->errors.size(), 2u);
  EXPECT_EQ(acks->errors[0].code, failure_code::wrong_type);
  EXPECT_TRUE(acks->acks.empty());
}


TEST_F(change_applier_test, incremental_snapshot_rows_are_op_r_and_their_progress_commits_with_them) {
  start();
  auto r1 = make_row(1, "a");
  auto r2 = make_row(2, "b");
  auto r3 = make_row(3, "c");
  // A chunk at its high watermark (commit 500): two rows, then the marker of
  // its last key read (row 3, which a change in the window touched).
  send(batch_of(0, {change_of(change_op::read, 500, 1, nullptr, &r1),
                    change_of(change_op::read, 500, 2, nullptr, &r2),
                    change_of(change_op::read, 500, 3, &r3, nullptr)}));
  ASSERT_EQ(writes->writes.size(), 1u);
  ASSERT_EQ(writes->writes[0].entries.size(), 2u);
  EXPECT_EQ(op_of(writes->writes[0].entries[0]), "r");
  EXPECT_EQ(op_of(writes->writes[0].entries[1]), "r");
  stream_checkpoint want{500, 3, {}};
  want.snapshots["shop.public.items"] = snapshot_progress{{"3"}, false};
  EXPECT_EQ(writes->writes[0].checkpoint_value, encode_stream_checkpoint(want));
  answer(0);
  // The table's last chunk read nothing: a write with no entry moves the
  // checkpoint to done.
  send(batch_of(1, {change_of(change_op::read, 600, 1, nullptr, nullptr)}));
  ASSERT_EQ(writes->writes.size(), 2u);
  EXPECT_TRUE(writes->writes[1].entries.empty());
  want = stream_checkpoint{600, 1, {}};
  want.snapshots["shop.public.items"] = snapshot_progress{{"3"}, true};
  EXPECT_EQ(writes->writes[1].checkpoint_value, encode_stream_checkpoint(want));
  answer(1);
  ASSERT_EQ(acks->acks.size(), 2u);
  // Later changes carry the progress on.
  auto r4 = make_row(4, "d");
  send(batch_of(2, {change_of(change_op::insert, 700, 1, nullptr, &r4)}));
  ASSERT_EQ(writes->writes.size(), 3u);
  EXPECT_EQ(decode_stream_checkpoint(writes->writes[2].checkpoint_value).snapshots,
            want.snapshots);
}

}  // namespace trib::test
