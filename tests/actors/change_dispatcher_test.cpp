// The change dispatcher on CAF's test coordinator, between a reader double
// (sends feeds, records their answers and the releases) and applier doubles
// whose acknowledgements the test gives: per-stream batches, the release
// position once every stream has a transaction, flow control by bytes, the
// reset after a lost source, the drain, and a stop that ends the run.

#include "actors/control/change_dispatcher.hpp"

#include "actors/control/supervisor.hpp"

#include "tests/actors/actor_test_env.hpp"

namespace trib::test {
namespace {

using send_atom = caf::atom_constant<caf::atom("send")>;
using answer_atom = caf::atom_constant<caf::atom("answer")>;

struct applier_log {
  std::vector<change_batch> batches;
  std::vector<caf::typed_response_promise<change_ack>> promises;
  std::vector<schema_change> schemas;
};

using applier_double_actor =
  change_applier_actor::extend<caf::reacts_to<answer_atom, uint64_t, change_ack>>;

applier_double_actor::behavior_type applier_double(applier_double_actor::pointer self,
                                                   std::shared_ptr<applier_log> log) {
  return {
    [self, log](change_batch& b) -> caf::result<change_ack> {
      log->batches.push_back(b);
      log->promises.push_back(self->make_response_promise<change_ack>());
      return log->promises.back();
    },
    [log](schema_change& c) { log->schemas.push_back(c); },
    [log](answer_atom, uint64_t i, change_ack& a) { log->promises.at(i).deliver(a); },
    [](retry_atom) {},
  };
}

struct reader_log {
  std::vector<uint64_t> answers;
  std::vector<change_release> releases;
  std::optional<uint64_t> reset;
  std::optional<uint64_t> drained;
  std::vector<failure> errors;
};

using reader_double_actor = change_reader_actor::extend<
  caf::reacts_to<send_atom, change_feed>, caf::reacts_to<reset_atom>, caf::reacts_to<drain_atom>>;

reader_double_actor::behavior_type reader_double(reader_double_actor::pointer self,
                                                 change_dispatcher_actor dispatcher,
                                                 std::shared_ptr<reader_log> log) {
  auto error = [log](caf::error& e) { log->errors.push_back(to_failure(e)); };
  return {
    [log](change_release& r) { log->releases.push_back(r); },
    [=](send_atom, change_feed& f) {
      self->request(dispatcher, caf::infinite, std::move(f))
        .then([log](uint64_t released) { log->answers.push_back(released); }, error);
    },
    [=](reset_atom) {
      self->request(dispatcher, caf::infinite, reset_atom::value)
        .then([log](uint64_t released) { log->reset = released; }, error);
    },
    [=](drain_atom) {
      self->request(dispatcher, caf::infinite, drain_atom::value)
        .then([log](uint64_t released) { log->drained = released; }, error);
    },
  };
}

table_schema table(const std::string& name) {
  table_schema t;
  t.id = table_id{"shop", "public", name};
  column_info id;
  id.name = "id";
  id.kind = value_kind::int32;
  column_info v;
  v.name = "v";
  v.kind = value_kind::text;
  t.columns = {id, v};
  t.primary_key = {"id"};
  return t;
}

row_change insert(uint32_t table, int id) {
  row_change c;
  c.table = table;
  c.has_after = true;
  c.after.cells = {make_cell(std::to_string(id)), make_cell("a value of some length")};
  return c;
}

// One transaction (or a part of one) with the given changes.
source_txn txn(uint64_t commit, std::vector<row_change> changes, bool last = true) {
  source_txn t;
  t.commit = commit;
  t.id = std::to_string(commit);
  t.commit_ms = 1700000000000;
  t.changes = std::move(changes);
  t.last = last;
  t.release = last ? commit + 50 : 0;
  return t;
}

change_feed feed(std::vector<source_txn> txns) { return change_feed{std::move(txns)}; }

class change_dispatcher_test : public actor_test {
protected:
  // Tables a and b; EVENTUAL (a stream each) or GLOBAL (one stream).
  void start(bool global = false, uint64_t budget = realtime_memory_budget_bytes,
             bool skip = true) {
    change_dispatcher_settings s;
    // The real supervisor decides what a stopped stream means.
    supervisor_settings sv;
    sv.rules.skip_tables_on_failures = skip;
    sup = sys.spawn(supervisor, sv);
    s.supervisor = sup;
    s.tables = {table("a"), table("b")};
    s.stream_of_table = global ? std::vector<uint32_t>{0, 0} : std::vector<uint32_t>{0, 1};
    s.txn_size_rows = 100;
    s.max_unwritten_bytes = budget;
    // Batches go out at a transaction's end at once: the test decides
    // when writes finish instead of waiting for a linger.
    s.linger = std::chrono::milliseconds{0};
    s.table_stopped = [this](uint32_t t, const std::string&) { stopped.push_back(t); };
    std::vector<change_applier_actor> appliers;
    for (size_t i = 0; i < (global ? 1u : 2u); ++i) {
      logs.push_back(std::make_shared<applier_log>());
      doubles.push_back(sys.spawn(applier_double, logs.back()));
      appliers.push_back(caf::actor_cast<change_applier_actor>(doubles.back()));
    }
    aut = sys.spawn(change_dispatcher, s, appliers);
    reader = sys.spawn(reader_double, aut, rlog);
    sched.run();
  }
  void send(change_feed f) {
    caf::anon_send(reader, send_atom::value, std::move(f));
    sched.run();
  }
  void ack(size_t stream, size_t i, change_ack a = {}) {
    a.stream = static_cast<uint32_t>(stream);
    a.seq = logs[stream]->batches.at(i).seq;
    caf::anon_send(doubles[stream], answer_atom::value, static_cast<uint64_t>(i), a);
    sched.run();
  }
  uint64_t released() const {
    return rlog->releases.empty() ? 0 : rlog->releases.back().position;
  }
  void TearDown() override {
    stop(reader, aut, sup);
    for (auto& d : doubles) stop(d);
  }

  std::vector<std::shared_ptr<applier_log>> logs;
  std::vector<applier_double_actor> doubles;
  std::shared_ptr<reader_log> rlog = std::make_shared<reader_log>();
  std::vector<uint32_t> stopped;
  change_dispatcher_actor aut;
  reader_double_actor reader;
  supervisor_actor sup;
};

}  // namespace

TEST_F(change_dispatcher_test, releases_a_transaction_once_every_stream_has_it) {
  start();
  send(feed({txn(100, {insert(0, 1), insert(1, 1), insert(0, 2)})}));
  ASSERT_EQ(logs[0]->batches.size(), 1u);
  ASSERT_EQ(logs[1]->batches.size(), 1u);
  const auto& a = logs[0]->batches[0].changes;
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].commit, 100u);
  EXPECT_EQ(a[0].txn_id, "100");
  EXPECT_EQ(a[1].total_order, 3);
  EXPECT_EQ(a[1].index, 2u);
  EXPECT_EQ(logs[1]->batches[0].changes[0].total_order, 2);
  // The feed is answered at once: far under the budget.
  ASSERT_EQ(rlog->answers.size(), 1u);
  ack(0, 0);
  EXPECT_EQ(released(), 0u);
  ack(1, 0);
  EXPECT_EQ(released(), 150u);
  EXPECT_TRUE(rlog->releases.back().idle);
  EXPECT_EQ(rlog->releases.back().feeds, 1u);
}

TEST_F(change_dispatcher_test, a_transaction_in_parts_keeps_its_numbering_and_ends_with_its_last) {
  start(true);
  send(feed({txn(100, {insert(0, 1), insert(1, 1)}, false)}));
  send(feed({txn(100, {insert(0, 2)}, false)}));
  send(feed({txn(100, {}, true), txn(200, {})}));
  std::vector<int64_t> orders;
  for (const auto& b : logs[0]->batches)
    for (const auto& c : b.changes) orders.push_back(c.total_order);
  // Nothing went out before the end: the stream had no write in flight
  // only at that point.
  EXPECT_EQ(orders, (std::vector<int64_t>{1, 2, 3}));
  for (size_t i = 0; i < logs[0]->batches.size(); ++i) ack(0, i);
  // Transaction 200 touched no table and goes by with it.
  EXPECT_EQ(released(), 250u);
}

TEST_F(change_dispatcher_test, a_feed_over_the_byte_budget_is_answered_once_writes_free_room) {
  auto one = change_bytes(insert(0, 1));
  start(false, 8 * one);
  std::vector<row_change> many;
  for (int i = 0; i < 12; ++i) many.push_back(insert(0, i));
  send(feed({txn(100, many)}));
  // Batches are full at a quarter of the budget: 6 of 2 changes, all out,
  // 12 changes unwritten, so the feed waits.
  ASSERT_EQ(logs[0]->batches.size(), 6u);
  EXPECT_TRUE(rlog->answers.empty());
  ack(0, 0);
  ack(0, 1);
  // 8 changes unwritten: still at the budget.
  EXPECT_TRUE(rlog->answers.empty());
  ack(0, 2);
  EXPECT_EQ(rlog->answers.size(), 1u);
  for (size_t i = 3; i < 6; ++i) ack(0, i);
  EXPECT_EQ(released(), 150u);
}

TEST_F(change_dispatcher_test, a_reset_forgets_the_open_transaction_and_answers_once_written) {
  start();
  send(feed({txn(100, {insert(0, 1)}), txn(200, {insert(0, 2)}, false)}));
  ASSERT_EQ(logs[0]->batches.size(), 1u);
  caf::anon_send(reader, reset_atom::value);
  sched.run();
  // The batch handed on is written first.
  EXPECT_FALSE(rlog->reset);
  ack(0, 0);
  ASSERT_TRUE(rlog->reset);
  EXPECT_EQ(*rlog->reset, 150u);
  // The source sends transaction 200 again, whole: it is numbered from 1.
  send(feed({txn(200, {insert(0, 2), insert(1, 3)})}));
  ASSERT_EQ(logs[0]->batches.size(), 2u);
  EXPECT_EQ(logs[0]->batches[1].changes[0].index, 1u);
  ack(0, 1);
  ack(1, 0);
  EXPECT_EQ(released(), 250u);
}

TEST_F(change_dispatcher_test, a_drain_hands_on_what_is_open_and_answers_once_written) {
  start();
  // The first write is busy, so the second transaction's batch stays open.
  send(feed({txn(100, {insert(0, 1)})}));
  send(feed({txn(200, {insert(0, 2)})}));
  ASSERT_EQ(logs[0]->batches.size(), 1u);
  caf::anon_send(reader, drain_atom::value);
  sched.run();
  ASSERT_EQ(logs[0]->batches.size(), 2u);
  ack(0, 0);
  EXPECT_FALSE(rlog->drained);
  ack(0, 1);
  ASSERT_TRUE(rlog->drained);
  EXPECT_EQ(*rlog->drained, 250u);
}

TEST_F(change_dispatcher_test, a_table_alone_in_its_stream_stops_and_the_others_go_on) {
  start();
  send(feed({txn(100, {insert(0, 1), insert(1, 1)})}));
  change_ack stop;
  stop.stopped_commit = 100;
  stop.stopped_table = 0;
  stop.stop_reason = "cannot write its change";
  ack(0, 0, stop);
  ack(1, 0);
  EXPECT_EQ(stopped, (std::vector<uint32_t>{0}));
  // The source is kept before the stopped transaction, the run goes on.
  auto asked_to_stop = [this] {
    for (const auto& r : rlog->releases)
      if (r.stop) return true;
    return false;
  };
  EXPECT_EQ(released(), 0u);
  EXPECT_FALSE(asked_to_stop());
  send(feed({txn(200, {insert(1, 2)})}));
  ASSERT_EQ(logs[1]->batches.size(), 2u);
  ack(1, 1);
  EXPECT_EQ(released(), 0u);
  EXPECT_FALSE(asked_to_stop());
}

// The interleavings that could release past a stopped change: later
// transactions written first by the other stream, one of no replicated
// table (done at once), feeds after the stop, and the drain. The release
// stays before the stopped transaction, and no release says idle (which
// would let a reader release the source up to where it has read).
TEST_F(change_dispatcher_test, nothing_releases_past_a_stopped_transaction_whatever_is_written_first) {
  start();
  send(feed({txn(100, {insert(0, 1)}), txn(200, {insert(1, 1)}), txn(300, {})}));
  ASSERT_EQ(logs[1]->batches.size(), 1u);
  ack(1, 0);
  EXPECT_EQ(released(), 0u);
  change_ack stop;
  stop.stopped_commit = 100;
  stop.stop_reason = "cannot write its change";
  ack(0, 0, stop);
  send(feed({txn(400, {insert(1, 2)}), txn(500, {})}));
  ASSERT_EQ(logs[1]->batches.size(), 2u);
  ack(1, 1);
  caf::anon_send(reader, drain_atom::value);
  sched.run();
  ASSERT_TRUE(rlog->drained);
  EXPECT_EQ(*rlog->drained, 0u);
  EXPECT_EQ(released(), 0u);
  for (const auto& r : rlog->releases) EXPECT_FALSE(r.idle) << "at feed " << r.feeds;
  for (auto a : rlog->answers) EXPECT_EQ(a, 0u);
}

// Under GLOBAL the stream is every table's: skipping the failing table
// stops them all, one checkpoint before the change; with no stream left the
// run drains and ends without an error (the stopped tables make exit code 3).
TEST_F(change_dispatcher_test, under_global_every_table_stops_with_the_stream_and_the_run_ends) {
  start(true);
  send(feed({txn(100, {insert(0, 1), insert(1, 1)})}));
  change_ack stop;
  stop.stopped_commit = 100;
  stop.stop_reason = "cannot write its change";
  ack(0, 0, stop);
  EXPECT_EQ(stopped, (std::vector<uint32_t>{0, 1}));
  ASSERT_FALSE(rlog->releases.empty());
  EXPECT_TRUE(rlog->releases.back().stop);
  EXPECT_EQ(released(), 0u);
  caf::anon_send(reader, drain_atom::value);
  sched.run();
  EXPECT_TRUE(rlog->errors.empty());
  ASSERT_TRUE(rlog->drained);
  EXPECT_EQ(*rlog->drained, 0u);
}

TEST_F(change_dispatcher_test, without_skipping_a_stopped_table_ends_the_run_with_its_error) {
  start(false, realtime_memory_budget_bytes, false);
  send(feed({txn(100, {insert(0, 1), insert(1, 1)})}));
  change_ack stop;
  stop.stopped_commit = 100;
  stop.stop_reason = "cannot write its change";
  ack(0, 0, stop);
  ack(1, 0);
  ASSERT_FALSE(rlog->releases.empty());
  EXPECT_TRUE(rlog->releases.back().stop);
  EXPECT_EQ(released(), 0u);
  EXPECT_TRUE(stopped.empty());
  caf::anon_send(reader, drain_atom::value);
  sched.run();
  EXPECT_FALSE(rlog->drained);
  ASSERT_EQ(rlog->errors.size(), 1u);
  EXPECT_EQ(rlog->errors[0].code, failure_code::bad_data);
  EXPECT_NE(rlog->errors[0].what.find("shop.public.a"), std::string::npos) << rlog->errors[0].what;
}

// A stop the supervisor already decided (the applier asked it about a failed
// write) is not asked again: the table stops at once.
TEST_F(change_dispatcher_test, a_decided_stop_is_followed_without_asking_again) {
  start(false, realtime_memory_budget_bytes, false);
  send(feed({txn(100, {insert(0, 1), insert(1, 1)})}));
  change_ack stop;
  stop.stopped_commit = 100;
  stop.stop_reason = "cannot be written: NOPERM";
  stop.stop_decided = true;
  ack(0, 0, stop);
  ack(1, 0);
  EXPECT_EQ(stopped, (std::vector<uint32_t>{0}));
  EXPECT_EQ(released(), 0u);
  for (const auto& r : rlog->releases) EXPECT_FALSE(r.stop);
}

TEST_F(change_dispatcher_test, a_schema_change_follows_the_batch_before_it) {
  start();
  send(feed({txn(100, {insert(0, 1)})}));
  send(feed({txn(200, {insert(0, 2)}, false)}));
  caf::anon_send(aut, schema_change{0, table("a")});
  sched.run();
  // The open batch of the table's stream went out before the schema change.
  ASSERT_EQ(logs[0]->batches.size(), 2u);
  ASSERT_EQ(logs[0]->schemas.size(), 1u);
}

}  // namespace trib::test
