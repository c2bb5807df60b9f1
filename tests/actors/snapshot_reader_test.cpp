// The snapshot reader on CAF's test coordinator, reading from a source
// session double and feeding an applier double whose acknowledgements the
// test gives.

#include "actors/source/snapshot_reader.hpp"

#include <map>
#include <optional>

#include "tests/actors/actor_test_env.hpp"

namespace trib::test {
namespace {

/// The table behind the session double, and what the reader did with it.
struct fake_source {
  std::vector<row> rows;  // in key order; cell 0 is the key
  int sessions = 0;
  std::vector<std::vector<cell>> opened_after;
  int next_calls = 0;
  /// The limit of every next() call.
  std::vector<size_t> limits;
  /// next() call number (from 1) -> the failure it throws.
  std::map<int, failure> fail_next;
};

class fake_reader : public table_reader {
public:
  fake_reader(std::shared_ptr<fake_source> src, size_t pos) : src_(src), pos_(pos) {
  }
  std::vector<row> next(size_t limit) override {
    auto n = ++src_->next_calls;
    src_->limits.push_back(limit);
    if (auto it = src_->fail_next.find(n); it != src_->fail_next.end())
      throw error(it->second.code, it->second.what);
    std::vector<row> out;
    while (out.size() < limit && pos_ < src_->rows.size()) out.push_back(src_->rows[pos_++]);
    return out;
  }

private:
  std::shared_ptr<fake_source> src_;
  size_t pos_;
};

class fake_session : public source_session {
public:
  explicit fake_session(std::shared_ptr<fake_source> src) : src_(src) {
  }
  source_facts facts() override { return {}; }
  std::vector<table_schema> list_tables(const filter_config&,
                                        const extractor_config&) override {
    return {};
  }
  source_position begin_snapshot() override {
    source_position p;
    p.lsn = 42;
    return p;
  }
  std::unique_ptr<table_reader> open_table(const table_schema&,
                                           const std::vector<cell>& after,
                                           const std::string&) override {
    src_->opened_after.push_back(after);
    size_t pos = 0;
    if (!after.empty())
      while (pos < src_->rows.size() &&
             std::stoi(src_->rows[pos].cells[0].text) <= std::stoi(after[0].text))
        ++pos;
    return std::make_unique<fake_reader>(src_, pos);
  }
  void end_snapshot() override {}

private:
  std::shared_ptr<fake_source> src_;
};

using answer_atom = caf::atom_constant<caf::atom("answer")>;

/// The applier interface plus the test's control message.
using applier_double_actor = table_applier_actor::extend<
  caf::reacts_to<answer_atom, uint64_t, failure>>;

struct applier_log {
  std::vector<row_batch> batches;
  std::vector<caf::typed_response_promise<batch_ack>> promises;
};

applier_double_actor::behavior_type
applier_double(applier_double_actor::pointer self, std::shared_ptr<applier_log> log) {
  return {
    [self, log](row_batch& b) -> caf::result<batch_ack> {
      log->batches.push_back(b);
      log->promises.push_back(self->make_response_promise<batch_ack>());
      return log->promises.back();
    },
    [log](answer_atom, uint64_t index, failure& f) {
      auto& b = log->batches.at(index);
      if (f.what.empty())
        log->promises.at(index).deliver(batch_ack{b.table, b.seq, b.rows.size(), {}});
      else
        log->promises.at(index).deliver(to_caf_error(f));
    },
  };
}

table_schema keyed_table() {
  table_schema t;
  t.id = table_id{"db", "public", "t"};
  column_info id;
  id.name = "id";
  id.kind = value_kind::int32;
  id.not_null = true;
  t.columns = {id};
  t.primary_key = {"id"};
  return t;
}

std::vector<row> rows_1_to(int n) {
  std::vector<row> out;
  for (int i = 1; i <= n; ++i) out.push_back(row{{make_cell(std::to_string(i))}});
  return out;
}

/// Sets `*down` when `target` quits.
caf::behavior watcher(caf::event_based_actor* self, caf::actor target,
                      std::shared_ptr<bool> down) {
  self->monitor(target);
  self->set_down_handler([down](caf::down_msg&) { *down = true; });
  return {[](int) {}};
}

class snapshot_reader_test : public actor_test {
protected:
  void start(int rows, snapshot_position from = {},
             std::function<void(snapshot_reader_settings&)> tweak = {}) {
    if (source->rows.empty()) source->rows = rows_1_to(rows);
    snapshot_reader_settings s;
    s.source.max_retries = 2;
    s.source.retry_wait_duration_ms = 10;
    s.fetch_size_rows = 3;
    s.batch_size_rows = 5;
    s.max_in_flight = 4;
    s.start = std::move(from);
    if (tweak) tweak(s);
    auto src = source;
    s.open = [src](const source_config&) -> std::unique_ptr<source_session> {
      ++src->sessions;
      return std::make_unique<fake_session>(src);
    };
    control = sys.spawn(applier_double, applied);
    coordinator = sys.spawn(coordinator_double, coord);
    aut = sys.spawn(snapshot_reader, uint32_t{3}, keyed_table(), s,
                    table_applier_actor{control}, coordinator);
    sched.run();
  }

  void TearDown() override {
    applied->promises.clear();
    stop(aut, control, coordinator);
  }

  void ack(uint64_t index) {
    caf::anon_send(control, answer_atom::value, index, failure{});
    sched.run();
  }

  /// Acknowledges every batch as it comes until the reader sends no more.
  void ack_all() {
    for (uint64_t i = 0; i < applied->batches.size(); ++i) ack(i);
  }

  /// Keys of every row the applier received, in order.
  std::vector<int> keys() const {
    std::vector<int> out;
    for (const auto& b : applied->batches)
      for (const auto& r : b.rows) out.push_back(std::stoi(r.cells[0].text));
    return out;
  }

  std::vector<int> one_to(int n) const {
    std::vector<int> out;
    for (int i = 1; i <= n; ++i) out.push_back(i);
    return out;
  }

  std::shared_ptr<fake_source> source = std::make_shared<fake_source>();
  std::shared_ptr<applier_log> applied = std::make_shared<applier_log>();
  std::shared_ptr<coordinator_log> coord = std::make_shared<coordinator_log>();
  applier_double_actor control;
  coordinator_actor coordinator;
  snapshot_reader_actor aut;
};

TEST_F(snapshot_reader_test, keeps_at_most_four_batches_unacknowledged) {
  start(100);
  EXPECT_EQ(applied->batches.size(), 4u);
  // It read only what the four batches and one batch of look-ahead need.
  EXPECT_LE(source->next_calls * 3, 4 * 5 + 5 + 3);
  ack(0);
  EXPECT_EQ(applied->batches.size(), 5u);
  ack(1);
  ack(2);
  EXPECT_EQ(applied->batches.size(), 7u);
}

TEST_F(snapshot_reader_test, a_stop_sends_nothing_more_and_quits_once_its_batches_are_acknowledged) {
  start(100);
  ASSERT_EQ(applied->batches.size(), 4u);
  auto down = std::make_shared<bool>(false);
  auto w = sys.spawn(watcher, caf::actor_cast<caf::actor>(aut), down);
  sched.run();
  auto reads = source->next_calls;
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  ack(0);
  ack(1);
  ack(2);
  // Its batches in flight must commit before it goes: their rows are what
  // the checkpoint will say was written.
  EXPECT_FALSE(*down);
  ack(3);
  EXPECT_TRUE(*down);
  EXPECT_EQ(applied->batches.size(), 4u);
  EXPECT_EQ(source->next_calls, reads);
  EXPECT_FALSE(applied->batches.back().position.done);
  EXPECT_TRUE(coord->done.empty());
  stop(w);
}

TEST_F(snapshot_reader_test, a_stop_while_waiting_to_retry_quits_at_once) {
  source->fail_next[1] = failure{failure_code::connection, "refused"};
  start(20);
  auto down = std::make_shared<bool>(false);
  auto w = sys.spawn(watcher, caf::actor_cast<caf::actor>(aut), down);
  sched.run();
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  EXPECT_TRUE(*down);
  EXPECT_TRUE(applied->batches.empty());
  EXPECT_TRUE(coord->done.empty());
  stop(w);
}

TEST_F(snapshot_reader_test, sends_the_whole_table_in_order_and_ends_with_done) {
  start(12);
  ack_all();
  EXPECT_EQ(keys(), one_to(12));
  ASSERT_EQ(applied->batches.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(applied->batches[i].seq, i);
    EXPECT_EQ(applied->batches[i].table, 3u);
    EXPECT_EQ(applied->batches[i].position.done, i == 2);
    EXPECT_EQ(applied->batches[i].source.lsn, 42u);
  }
  EXPECT_EQ(applied->batches[1].position.rows_done, 10u);
  ASSERT_EQ(applied->batches[1].position.last_key.size(), 1u);
  EXPECT_EQ(applied->batches[1].position.last_key[0].text, "10");
  EXPECT_TRUE(coord->done.empty());
}

TEST_F(snapshot_reader_test, the_final_batch_carries_the_last_row_when_batches_divide_the_table) {
  start(10);
  ack_all();
  ASSERT_EQ(applied->batches.size(), 2u);
  EXPECT_TRUE(applied->batches[1].position.done);
  ASSERT_FALSE(applied->batches[1].rows.empty());
  EXPECT_EQ(applied->batches[1].rows.back().cells[0].text, "10");
}

TEST_F(snapshot_reader_test, an_empty_table_sends_one_empty_final_batch) {
  start(0);
  ack_all();
  ASSERT_EQ(applied->batches.size(), 1u);
  EXPECT_TRUE(applied->batches[0].rows.empty());
  EXPECT_TRUE(applied->batches[0].position.done);
}

TEST_F(snapshot_reader_test, reconnects_after_a_lost_connection_and_continues_after_the_last_row_read) {
  source->fail_next[3] = failure{failure_code::connection, "server closed the connection"};
  start(20);
  // The retry waits for the policy's backoff; nothing is read meanwhile.
  EXPECT_EQ(source->sessions, 1);
  sched.trigger_timeouts();
  sched.run();
  EXPECT_EQ(source->sessions, 2);
  ASSERT_EQ(source->opened_after.size(), 2u);
  ASSERT_EQ(source->opened_after[1].size(), 1u);
  EXPECT_EQ(source->opened_after[1][0].text, "6");
  ack_all();
  EXPECT_EQ(keys(), one_to(20));
  EXPECT_TRUE(coord->done.empty());
}

TEST_F(snapshot_reader_test, in_one_snapshot_a_lost_connection_before_any_row_begins_again) {
  source->fail_next[1] = failure{failure_code::connection, "refused"};
  start(20, {}, [](snapshot_reader_settings& s) { s.one_snapshot = true; });
  sched.trigger_timeouts();
  sched.run();
  EXPECT_EQ(source->sessions, 2);
  ack_all();
  EXPECT_EQ(keys(), one_to(20));
  EXPECT_TRUE(coord->done.empty());
}

TEST_F(snapshot_reader_test, in_one_snapshot_a_lost_connection_after_rows_skips_the_table) {
  source->fail_next[3] = failure{failure_code::connection, "server closed the connection"};
  start(20, {}, [](snapshot_reader_settings& s) { s.one_snapshot = true; });
  sched.trigger_timeouts();
  sched.run();
  ASSERT_EQ(coord->done.size(), 1u);
  EXPECT_TRUE(coord->done[0].skipped);
  EXPECT_EQ(coord->done[0].reason.code, failure_code::source_state);
  EXPECT_NE(coord->done[0].reason.what.find("--overwrite"), std::string::npos)
    << coord->done[0].reason.what;
  // No row of a later snapshot was read.
  EXPECT_EQ(source->sessions, 1);
}

TEST_F(snapshot_reader_test, skips_the_table_after_max_retries) {
  for (int i = 1; i <= 10; ++i)
    source->fail_next[i] = failure{failure_code::connection, "refused"};
  start(20);
  for (int i = 0; i < 5 && coord->done.empty(); ++i) {
    sched.trigger_timeouts();
    sched.run();
  }
  ASSERT_EQ(coord->done.size(), 1u);
  EXPECT_TRUE(coord->done[0].skipped);
  EXPECT_EQ(coord->done[0].table, 3u);
  EXPECT_EQ(coord->done[0].reason.code, failure_code::connection);
  EXPECT_EQ(source->sessions, 3);  // the first try and two retries
}

TEST_F(snapshot_reader_test, skips_the_table_at_once_on_a_permanent_failure) {
  source->fail_next[1] = failure{failure_code::auth, "permission denied for table t"};
  start(20);
  ASSERT_EQ(coord->done.size(), 1u);
  EXPECT_TRUE(coord->done[0].skipped);
  EXPECT_EQ(coord->done[0].reason.code, failure_code::auth);
  EXPECT_EQ(source->sessions, 1);
  EXPECT_TRUE(applied->batches.empty());
}

TEST_F(snapshot_reader_test, resumes_after_the_checkpointed_key) {
  snapshot_position from;
  from.last_key = {make_cell("7")};
  from.rows_done = 7;
  start(12, from);
  ack_all();
  EXPECT_EQ(source->opened_after.at(0).at(0).text, "7");
  EXPECT_EQ(keys(), (std::vector<int>{8, 9, 10, 11, 12}));
  EXPECT_EQ(applied->batches.back().position.rows_done, 12u);
  EXPECT_TRUE(applied->batches.back().position.done);
}

TEST_F(snapshot_reader_test, stops_sending_when_the_applier_refuses_a_batch) {
  start(100);
  caf::anon_send(control, answer_atom::value, uint64_t{0},
                 failure{failure_code::wrong_type, "WRONGTYPE"});
  sched.run();
  // The refusal stopped the reader: it sends nothing more, even when the
  // other batches are acknowledged.
  ack(1);
  ack(2);
  EXPECT_EQ(applied->batches.size(), 4u);
}

/// Rows 1..n, each with a text cell of `width` bytes beside its key.
std::vector<row> wide_rows(int n, size_t width) {
  auto rows = rows_1_to(n);
  for (auto& r : rows) r.cells.push_back(make_cell(std::string(width, 'x')));
  return rows;
}

TEST_F(snapshot_reader_test, bounds_the_bytes_in_flight_as_well_as_the_batches) {
  source->rows = wide_rows(100, 1000);
  size_t batch_bytes = 5 * row_bytes(source->rows[0]);
  // Room for two batches and a byte: the third goes out (the window was
  // still open), the fourth waits although a batch slot is free.
  start(0, {}, [&](snapshot_reader_settings& s) {
    s.max_in_flight_bytes = 2 * batch_bytes + 1;
  });
  EXPECT_EQ(applied->batches.size(), 3u);
  ack(0);
  EXPECT_EQ(applied->batches.size(), 4u);
  ack_all();
  EXPECT_EQ(keys(), one_to(100));
  EXPECT_TRUE(applied->batches.back().position.done);
}

TEST_F(snapshot_reader_test, one_batch_always_goes_however_wide_its_rows) {
  source->rows = wide_rows(4, 5000);
  start(0, {}, [&](snapshot_reader_settings& s) {
    s.max_in_flight_bytes = 1;
    s.max_batch_bytes = 1;
  });
  // Every batch is one row (each row passes the batch's byte limit), and
  // only one is out at a time.
  ASSERT_EQ(applied->batches.size(), 1u);
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_EQ(applied->batches.size(), i + 1);
    EXPECT_EQ(applied->batches[i].rows.size(), 1u);
    ack(i);
  }
  EXPECT_EQ(keys(), one_to(4));
  EXPECT_TRUE(applied->batches.back().position.done);
}

TEST_F(snapshot_reader_test, cuts_batches_at_max_batch_bytes) {
  source->rows = wide_rows(9, 1000);
  size_t row = row_bytes(source->rows[0]);
  start(0, {}, [&](snapshot_reader_settings& s) { s.max_batch_bytes = 2 * row; });
  ack_all();
  std::vector<size_t> sizes;
  for (const auto& b : applied->batches) sizes.push_back(b.rows.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 2, 2, 2, 1}));
  EXPECT_EQ(keys(), one_to(9));
  EXPECT_EQ(applied->batches[1].position.rows_done, 4u);
  EXPECT_TRUE(applied->batches.back().position.done);
}

TEST_F(snapshot_reader_test, a_range_reader_labels_its_batches) {
  start(7, {}, [](snapshot_reader_settings& s) {
    s.range = 2;
    s.ranges = 3;
  });
  ack_all();
  ASSERT_FALSE(applied->batches.empty());
  for (const auto& b : applied->batches) {
    EXPECT_EQ(b.range, 2u);
    EXPECT_EQ(b.ranges, 3u);
  }
}

TEST_F(snapshot_reader_test, fetches_a_few_rows_first_then_no_more_than_fill_a_batch) {
  // Every row of this table has the same row_bytes: keys up to 15
  // characters live inside the string.
  auto one = row_bytes(row{{make_cell("1")}});
  start(2000, {}, [one](snapshot_reader_settings& s) {
    s.fetch_size_rows = 5000;
    s.batch_size_rows = 5000;
    s.max_batch_bytes = 300 * one;
    s.max_in_flight_bytes = 64u << 20;
  });
  ack_all();
  ASSERT_GE(source->limits.size(), 3u);
  // The first fetch measures the rows; later ones hold one batch's bytes.
  EXPECT_EQ(source->limits[0], tuning::snapshot_min_fetch_rows);
  for (size_t i = 1; i < source->limits.size(); ++i) EXPECT_EQ(source->limits[i], 300u) << i;
  auto k = keys();
  ASSERT_EQ(k.size(), 2000u);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(k[i], i + 1);
}

}  // namespace
}  // namespace trib::test
