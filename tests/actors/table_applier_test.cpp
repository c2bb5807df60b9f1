// The table applier on CAF's test coordinator, between a reader double that
// sends batches and a writer double whose acknowledgements the test gives.

#include "actors/apply/table_applier.hpp"

#include <boost/json.hpp>

#include "actors/apply/envelope.hpp"
#include "actors/sink/redis_client.hpp"
#include "tests/actors/actor_test_env.hpp"

namespace trib::test {
namespace {

/// What the writer double received, with the promises the test fulfils.
struct writer_log {
  std::vector<write_batch> writes;
  std::vector<caf::typed_response_promise<write_ack>> promises;
};

// The test tells the writer double to answer a write; a promise must be
// delivered from inside its actor.
using answer_atom = caf::atom_constant<caf::atom("answer")>;

/// The writer interface plus the test's control message.
using writer_double_actor = redis_writer_actor::extend<
  caf::reacts_to<answer_atom, uint64_t, failure>>;

writer_double_actor::behavior_type
writer_double(writer_double_actor::pointer self, std::shared_ptr<writer_log> log) {
  return {
    [self, log](write_batch& b) -> caf::result<write_ack> {
      log->writes.push_back(b);
      // The applier sends its entries pre-encoded; the tests read them back.
      auto& w = log->writes.back();
      w.entries = batch_entries(w);
      w.encoded.clear();
      w.encoded_count = 0;
      log->promises.push_back(self->make_response_promise<write_ack>());
      return log->promises.back();
    },
    // Answers write `index`: acknowledged when `f` is the default failure,
    // else with `f`.
    [log](answer_atom, uint64_t index, failure& f) {
      auto& p = log->promises.at(index);
      if (f.what.empty())
        p.deliver(write_ack{1, "1-" + std::to_string(index)});
      else
        p.deliver(to_caf_error(f));
    },
    // Snapshots never undo (only realtime batches are taken back).
    [](undo_request&) { return undo_result{}; },
    // A real writer's self-sent flush; the double answers on command instead.
    [](flush_atom, uint64_t) {},
    [](tick_atom) {},
    [](stop_atom) {},
  };
}

/// What the reader double got back.
struct reader_log {
  std::vector<batch_ack> acks;
  std::vector<failure> errors;
};

/// A reader double: every read_atom sends the next of its batches.
struct reader_double_state {
  std::vector<row_batch> batches;
  size_t next = 0;
};

snapshot_reader_actor::behavior_type
reader_double(snapshot_reader_actor::stateful_pointer<reader_double_state> self,
              std::vector<row_batch> batches, table_applier_actor applier,
              std::shared_ptr<reader_log> log) {
  self->state.batches = std::move(batches);
  return {
    [=](read_atom) {
      auto& st = self->state;
      if (st.next >= st.batches.size()) return;
      self->request(applier, caf::infinite, st.batches[st.next++])
        .then([log](batch_ack& a) { log->acks.push_back(a); },
              [log](caf::error& e) { log->errors.push_back(to_failure(e)); });
    },
    [](stop_atom) {},
  };
}

table_schema orders() {
  table_schema t;
  t.id = table_id{"shop", "public", "orders"};
  column_info id;
  id.name = "id";
  id.source_type = "int4";
  id.kind = value_kind::int32;
  id.not_null = true;
  column_info note;
  note.name = "note";
  note.source_type = "text";
  note.kind = value_kind::text;
  t.columns = {id, note};
  t.primary_key = {"id"};
  return t;
}

row make_row(int id) {
  return row{{make_cell(std::to_string(id)), make_cell("note " + std::to_string(id))}};
}

/// Batches of the given sizes with ids 1.., the last one final.
std::vector<row_batch> batches_of(std::vector<size_t> sizes) {
  std::vector<row_batch> out;
  int id = 0;
  uint64_t done = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    row_batch b;
    b.table = 0;
    b.seq = i;
    for (size_t j = 0; j < sizes[i]; ++j) b.rows.push_back(make_row(++id));
    done += sizes[i];
    b.position.rows_done = done;
    if (!b.rows.empty()) b.position.last_key = {b.rows.back().cells[0]};
    b.position.done = i + 1 == sizes.size();
    b.source.lsn = 0x1000;
    out.push_back(std::move(b));
  }
  return out;
}

std::string snapshot_mark_of(const stream_entry& e) {
  auto v = boost::json::parse(e.value);
  return std::string{v.at("payload").at("source").at("snapshot").as_string()};
}

int64_t id_of(const stream_entry& e) {
  auto v = boost::json::parse(e.value);
  return v.at("payload").at("after").at("id").as_int64();
}

class table_applier_test : public actor_test {
protected:
  void start(std::vector<row_batch> batches, bool log_row_errors = false,
             size_t max_write_bytes = 4u << 20, size_t max_writes = 1) {
    table_applier_settings s;
    s.max_write_bytes = max_write_bytes;
    s.max_writes_in_flight = max_writes;
    s.group = "g";
    s.id = "i";
    s.applier.snapshot.log_row_level_errors = log_row_errors;
    s.facts.kind = source_kind::postgresql;
    s.facts.version = "15";
    s.facts.database = "shop";
    control = sys.spawn(writer_double, writes);
    writer = control;
    coordinator = sys.spawn(coordinator_double, coord);
    aut = sys.spawn(table_applier, uint32_t{0}, orders(), s, writer, coordinator);
    reader = sys.spawn(reader_double, std::move(batches), aut, reads);
    sched.run();
  }

  void TearDown() override {
    writes->promises.clear();
    stop(reader, aut, coordinator, control);
  }

  /// Makes the reader double send its next batch.
  void read_next() {
    caf::anon_send(reader, read_atom::value);
    sched.run();
  }

  /// Acknowledges write `index`.
  void ack_write(uint64_t index) {
    ASSERT_LT(index, writes->promises.size());
    caf::anon_send(control, answer_atom::value, index, failure{});
    sched.run();
  }

  /// Fails write `index` with `f`.
  void fail_write(uint64_t index, failure f) {
    ASSERT_LT(index, writes->promises.size());
    caf::anon_send(control, answer_atom::value, index, std::move(f));
    sched.run();
  }

  std::shared_ptr<writer_log> writes = std::make_shared<writer_log>();
  std::shared_ptr<reader_log> reads = std::make_shared<reader_log>();
  std::shared_ptr<coordinator_log> coord = std::make_shared<coordinator_log>();
  writer_double_actor control;
  redis_writer_actor writer;
  coordinator_actor coordinator;
  table_applier_actor aut;
  snapshot_reader_actor reader;
};

TEST_F(table_applier_test, keeps_one_write_in_flight_and_writes_in_batch_order) {
  start(batches_of({2, 2, 1}));
  read_next();
  read_next();
  read_next();
  // Three batches arrived, but only the first went to the writer.
  ASSERT_EQ(writes->writes.size(), 1u);
  ack_write(0);
  ASSERT_EQ(writes->writes.size(), 2u);
  ack_write(1);
  ASSERT_EQ(writes->writes.size(), 3u);
  ack_write(2);
  std::vector<int64_t> ids;
  for (const auto& w : writes->writes)
    for (const auto& e : w.entries) ids.push_back(id_of(e));
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

TEST_F(table_applier_test, acknowledges_the_reader_only_after_the_writer) {
  start(batches_of({2, 1}));
  read_next();
  EXPECT_EQ(writes->writes.size(), 1u);
  EXPECT_TRUE(reads->acks.empty());
  ack_write(0);
  ASSERT_EQ(reads->acks.size(), 1u);
  EXPECT_EQ(reads->acks[0].seq, 0u);
  EXPECT_EQ(reads->acks[0].rows_written, 2u);
}

TEST_F(table_applier_test, writes_each_batch_with_the_checkpoint_it_reaches) {
  auto batches = batches_of({2, 1});
  start(batches);
  read_next();
  ASSERT_EQ(writes->writes.size(), 1u);
  const auto& w = writes->writes[0];
  EXPECT_EQ(w.stream, "shop_public_orders");
  EXPECT_EQ(w.checkpoint_key, checkpoint_key("g", "i"));
  EXPECT_EQ(w.checkpoint_field, "shop_public_orders");
  EXPECT_EQ(w.checkpoint_value, encode_snapshot_checkpoint(batches[0].position));
  auto back = decode_snapshot_checkpoint(w.checkpoint_value);
  EXPECT_EQ(back.rows_done, 2u);
  EXPECT_FALSE(back.done);
}

TEST_F(table_applier_test, marks_only_the_final_row_of_the_table_last) {
  start(batches_of({2, 2}));
  read_next();
  read_next();
  ack_write(0);
  ack_write(1);
  std::vector<std::string> marks;
  for (const auto& w : writes->writes)
    for (const auto& e : w.entries) marks.push_back(snapshot_mark_of(e));
  EXPECT_EQ(marks, (std::vector<std::string>{"true", "true", "true", "last"}));
}

TEST_F(table_applier_test, reports_the_table_done_after_the_final_write) {
  start(batches_of({2, 1}));
  read_next();
  read_next();
  ack_write(0);
  EXPECT_TRUE(coord->done.empty());
  ack_write(1);
  ASSERT_EQ(coord->done.size(), 1u);
  EXPECT_EQ(coord->done[0].table, 0u);
  EXPECT_EQ(coord->done[0].rows_written, 3u);
  EXPECT_FALSE(coord->done[0].skipped);
}

TEST_F(table_applier_test, an_empty_table_still_commits_its_final_checkpoint) {
  start(batches_of({0}));
  read_next();
  ASSERT_EQ(writes->writes.size(), 1u);
  EXPECT_TRUE(writes->writes[0].entries.empty());
  EXPECT_TRUE(decode_snapshot_checkpoint(writes->writes[0].checkpoint_value).done);
  ack_write(0);
  ASSERT_EQ(coord->done.size(), 1u);
  EXPECT_EQ(coord->done[0].rows_written, 0u);
}

TEST_F(table_applier_test, skips_a_row_the_envelope_rejects_and_goes_on) {
  auto batches = batches_of({3});
  batches[0].rows[1].cells.pop_back();  // one value short of the columns
  start(batches, true);
  read_next();
  ASSERT_EQ(writes->writes.size(), 1u);
  ASSERT_EQ(writes->writes[0].entries.size(), 2u);
  EXPECT_EQ(id_of(writes->writes[0].entries[0]), 1);
  EXPECT_EQ(id_of(writes->writes[0].entries[1]), 3);
  ack_write(0);
  ASSERT_EQ(coord->done.size(), 1u);
  EXPECT_EQ(coord->done[0].rows_written, 2u);
  EXPECT_FALSE(coord->done[0].skipped);
}

TEST_F(table_applier_test, a_failed_write_skips_the_table_and_refuses_the_rest) {
  start(batches_of({2, 2, 1}));
  read_next();
  read_next();
  fail_write(0, failure{failure_code::wrong_type, "WRONGTYPE"});
  ASSERT_EQ(coord->done.size(), 1u);
  EXPECT_TRUE(coord->done[0].skipped);
  EXPECT_EQ(coord->done[0].reason.code, failure_code::wrong_type);
  // Both outstanding batches were answered with the failure.
  ASSERT_EQ(reads->errors.size(), 2u);
  EXPECT_EQ(reads->errors[0].code, failure_code::wrong_type);
  read_next();
  EXPECT_EQ(reads->errors.size(), 3u);
  EXPECT_EQ(writes->writes.size(), 1u);
  EXPECT_TRUE(reads->acks.empty());
}

TEST_F(table_applier_test, splits_a_batch_into_writes_of_max_write_bytes_checkpointed_at_row_keys) {
  auto batches = batches_of({5});
  // One entry is a few hundred bytes: a limit of one byte makes a write per
  // row (a write always takes at least one entry).
  start(batches, false, 1);
  read_next();
  ASSERT_EQ(writes->writes.size(), 1u);
  for (uint64_t i = 0; i < 5; ++i) {
    ASSERT_EQ(writes->writes.size(), i + 1);
    const auto& w = writes->writes[i];
    ASSERT_EQ(w.entries.size(), 1u);
    EXPECT_EQ(id_of(w.entries[0]), static_cast<int64_t>(i + 1));
    auto p = decode_snapshot_checkpoint(w.checkpoint_value);
    EXPECT_EQ(p.rows_done, i + 1);
    ASSERT_EQ(p.last_key.size(), 1u);
    EXPECT_EQ(p.last_key[0].text, std::to_string(i + 1));
    EXPECT_EQ(p.done, i == 4);
    // The reader hears of its batch only after the last of its writes.
    EXPECT_TRUE(reads->acks.empty());
    ack_write(i);
  }
  ASSERT_EQ(reads->acks.size(), 1u);
  EXPECT_EQ(reads->acks[0].rows_written, 5u);
  EXPECT_EQ(snapshot_mark_of(writes->writes[4].entries[0]), "last");
  EXPECT_EQ(snapshot_mark_of(writes->writes[3].entries[0]), "true");
  ASSERT_EQ(coord->done.size(), 1u);
  EXPECT_EQ(coord->done[0].rows_written, 5u);
}

TEST_F(table_applier_test, keeps_two_writes_at_the_writer_when_allowed_and_acks_in_order) {
  start(batches_of({2, 2, 1}), false, 4u << 20, 2);
  read_next();
  read_next();
  read_next();
  ASSERT_EQ(writes->writes.size(), 2u);
  ack_write(0);
  ASSERT_EQ(reads->acks.size(), 1u);
  EXPECT_EQ(reads->acks[0].seq, 0u);
  ASSERT_EQ(writes->writes.size(), 3u);
  ack_write(1);
  ack_write(2);
  ASSERT_EQ(reads->acks.size(), 3u);
  EXPECT_EQ(reads->acks[2].seq, 2u);
  ASSERT_EQ(coord->done.size(), 1u);
  EXPECT_EQ(coord->done[0].rows_written, 5u);
}

TEST_F(table_applier_test, with_two_writes_out_a_failure_answers_every_batch_once) {
  start(batches_of({2, 2, 1}), false, 4u << 20, 2);
  read_next();
  read_next();
  fail_write(0, failure{failure_code::wrong_type, "WRONGTYPE"});
  // The writer refuses the second write after the first failed.
  fail_write(1, failure{failure_code::internal, "refused"});
  ASSERT_EQ(coord->done.size(), 1u);
  EXPECT_TRUE(coord->done[0].skipped);
  EXPECT_EQ(coord->done[0].reason.code, failure_code::wrong_type);
  EXPECT_EQ(reads->errors.size(), 2u);
  EXPECT_TRUE(reads->acks.empty());
}

TEST_F(table_applier_test, ranges_checkpoint_apart_and_the_table_ends_with_the_last_range) {
  // Two split-key ranges, each with one final batch: range 2's arrives first.
  auto r1 = batches_of({2});
  auto r2 = batches_of({1});
  r1[0].range = 1;
  r2[0].range = 2;
  r1[0].ranges = r2[0].ranges = 2;
  start({r2[0], r1[0]});
  read_next();
  read_next();
  ASSERT_EQ(writes->writes.size(), 1u);
  EXPECT_EQ(writes->writes[0].checkpoint_field, "shop_public_orders#2");
  ack_write(0);
  // Range 2 is done, the table is not.
  EXPECT_TRUE(coord->done.empty());
  ASSERT_EQ(writes->writes.size(), 2u);
  EXPECT_EQ(writes->writes[1].checkpoint_field, "shop_public_orders#1");
  ack_write(1);
  ASSERT_EQ(coord->done.size(), 1u);
  EXPECT_EQ(coord->done[0].rows_written, 3u);
  // Only the table's last written row is marked last.
  std::vector<std::string> marks;
  for (const auto& w : writes->writes)
    for (const auto& e : w.entries) marks.push_back(snapshot_mark_of(e));
  EXPECT_EQ(marks, (std::vector<std::string>{"true", "true", "last"}));
}

}  // namespace
}  // namespace trib::test
