// The coordinator's realtime phase on CAF's test coordinator: it makes the
// change path through its factories (the supervisor first), runs the change
// reader, and ends the path on a stop message or a failed reader.

#include "actors/control/supervisor.hpp"
#include "tests/actors/coordinator_fixture.hpp"

namespace trib::test {
namespace {

/// What the change path's doubles saw.
struct change_log {
  size_t appliers = 0;
  /// Per stream: the index of the writer its applier got (writers are
  /// counted from those the snapshot phase made).
  std::vector<redis_writer_actor> applier_writer;
  size_t dispatchers = 0;
  size_t dispatcher_appliers = 0;
  size_t readers = 0;
  size_t runs = 0;
  size_t stops = 0;
  /// The reader's answer to a stop: this position, or (fail) an error.
  bool fail = false;
  /// Change-path stages that ended.
  size_t exited = 0;
  size_t supervisors = 0;
  bool supervisor_first = false;
};

void count_exit(caf::abstract_actor* a, std::shared_ptr<change_log> log) {
  a->attach_functor([log](const caf::error&) { ++log->exited; });
}

change_applier_actor::behavior_type change_applier_double(change_applier_actor::pointer) {
  return {[](change_batch& b) { return change_ack{b.stream, b.seq, 0, 0, 0, {}}; },
          [](schema_change&) {}, [](retry_atom) {}};
}

change_dispatcher_actor::behavior_type change_dispatcher_double(change_dispatcher_actor::pointer) {
  return {[](change_feed&) -> uint64_t { return 0; }, [](schema_change&) {},
          [](reset_atom) -> uint64_t { return 0; }, [](drain_atom) -> uint64_t { return 0; },
          [](tick_atom) {}};
}

struct reader_double_state {
  caf::typed_response_promise<uint64_t> promise;
};

streaming_reader_actor::behavior_type
change_reader_double(streaming_reader_actor::stateful_pointer<reader_double_state> self,
                     std::shared_ptr<change_log> log) {
  return {
    [self, log](run_atom) -> caf::result<uint64_t> {
      ++log->runs;
      self->state.promise = self->make_response_promise<uint64_t>();
      return self->state.promise;
    },
    [self, log](stop_atom) {
      // Drains and answers, as a change reader does.
      ++log->stops;
      if (log->fail)
        self->state.promise.deliver(
          to_caf_error(failure{failure_code::source_state, "slot dropped"}));
      else
        self->state.promise.deliver(uint64_t{42});
      self->quit();
    },
    [](change_release&) {},
  };
}

/// Asks the coordinator to stream and keeps its answer.
struct stream_answer {
  std::optional<uint64_t> released;
  std::optional<failure> error;
};

caf::behavior stream_client(caf::event_based_actor* self, coordinator_actor coordinator,
                            std::shared_ptr<stream_answer> log) {
  self->request(coordinator, caf::infinite, stream_atom::value)
    .then([log](uint64_t r) { log->released = r; },
          [log](caf::error& e) { log->error = to_failure(e); });
  return {};
}

class coordinator_realtime_test : public coordinator_test {
protected:
  /// A coordinator whose change path has `streams` streams and `writers`
  /// writers, all doubles; no snapshot phase runs.
  void spawn_streaming(size_t streams, size_t writers) {
    auto f = doubles(stages);
    auto log = changes;
    auto all = stages;
    f.changes.streams = streams;
    f.changes.writers = writers;
    f.changes.applier = [log, all](caf::local_actor* self, uint32_t stream,
                              redis_writer_actor writer) {
      ++log->appliers;
      if (log->applier_writer.size() <= stream) log->applier_writer.resize(stream + 1);
      log->applier_writer[stream] = writer;
      auto h = self->spawn(change_applier_double);
      count_exit(caf::actor_cast<caf::abstract_actor*>(h), log);
      all->all.push_back(caf::actor_cast<caf::actor>(h));
      return h;
    };
    f.changes.dispatcher = [log, all](caf::local_actor* self,
                                 std::vector<change_applier_actor> appliers) {
      ++log->dispatchers;
      log->dispatcher_appliers = appliers.size();
      auto h = self->spawn(change_dispatcher_double);
      count_exit(caf::actor_cast<caf::abstract_actor*>(h), log);
      all->all.push_back(caf::actor_cast<caf::actor>(h));
      return h;
    };
    if (supervised)
      f.changes.supervisor = [log, all](caf::local_actor* self) {
        ++log->supervisors;
        log->supervisor_first = log->appliers == 0 && log->dispatchers == 0;
        auto h = self->spawn(supervisor, supervisor_settings{});
        count_exit(caf::actor_cast<caf::abstract_actor*>(h), log);
        all->all.push_back(caf::actor_cast<caf::actor>(h));
        return h;
      };
    f.changes.reader = [log, all](caf::local_actor* self, change_dispatcher_actor) {
      ++log->readers;
      streaming_reader_actor h = self->spawn(change_reader_double, log);
      count_exit(caf::actor_cast<caf::abstract_actor*>(h), log);
      all->all.push_back(caf::actor_cast<caf::actor>(h));
      return h;
    };
    aut = sys.spawn(coordinator, plan_of(0), threads(1), std::move(f));
    sched.run();
  }

  void stream() {
    streamer = sys.spawn(stream_client, aut, streamed);
    sched.run();
  }

  void TearDown() override {
    stop(streamer);
    coordinator_test::TearDown();
  }

  std::shared_ptr<change_log> changes = std::make_shared<change_log>();
  std::shared_ptr<stream_answer> streamed = std::make_shared<stream_answer>();
  caf::actor streamer;
  /// Whether the change path has a retry/undo supervisor.
  bool supervised = false;
};

TEST_F(coordinator_realtime_test, makes_the_supervisor_first_and_ends_it_with_the_change_path) {
  supervised = true;
  spawn_streaming(2, 1);
  stream();
  EXPECT_EQ(changes->supervisors, 1u);
  EXPECT_TRUE(changes->supervisor_first);
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  ASSERT_TRUE(streamed->released.has_value());
  // Two appliers, the dispatcher, the reader and the supervisor.
  EXPECT_EQ(changes->exited, 5u);
}

TEST_F(coordinator_realtime_test, makes_the_change_path_through_its_factories_and_runs_the_reader) {
  spawn_streaming(3, 2);
  stream();
  EXPECT_EQ(changes->appliers, 3u);
  EXPECT_EQ(stages->writers.size(), 2u);
  ASSERT_EQ(changes->applier_writer.size(), 3u);
  // Streams share the writers round-robin.
  EXPECT_EQ(changes->applier_writer[0], stages->writers[0]);
  EXPECT_EQ(changes->applier_writer[1], stages->writers[1]);
  EXPECT_EQ(changes->applier_writer[2], stages->writers[0]);
  EXPECT_EQ(changes->dispatchers, 1u);
  EXPECT_EQ(changes->dispatcher_appliers, 3u);
  EXPECT_EQ(changes->readers, 1u);
  EXPECT_EQ(changes->runs, 1u);
  EXPECT_FALSE(streamed->released.has_value());
  EXPECT_FALSE(streamed->error.has_value());
}

TEST_F(coordinator_realtime_test, a_stop_message_drains_the_reader_and_ends_the_change_path) {
  spawn_streaming(2, 1);
  stream();
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  EXPECT_EQ(changes->stops, 1u);
  ASSERT_TRUE(streamed->released.has_value());
  EXPECT_EQ(*streamed->released, 42u);
  // Two appliers, the dispatcher and the reader.
  EXPECT_EQ(changes->exited, 4u);
}

TEST_F(coordinator_realtime_test, a_stop_before_the_phase_lets_the_reader_start_and_drain_at_once) {
  spawn_streaming(1, 1);
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  stream();
  EXPECT_EQ(changes->runs, 1u);
  EXPECT_EQ(changes->stops, 1u);
  ASSERT_TRUE(streamed->released.has_value());
  EXPECT_EQ(*streamed->released, 42u);
}

TEST_F(coordinator_realtime_test, a_failed_reader_fails_the_phase_and_ends_the_change_path) {
  spawn_streaming(2, 1);
  changes->fail = true;
  stream();
  caf::anon_send(aut, stop_atom::value);
  sched.run();
  ASSERT_TRUE(streamed->error.has_value());
  EXPECT_EQ(streamed->error->code, failure_code::source_state);
  EXPECT_EQ(streamed->error->what, "slot dropped");
  EXPECT_EQ(changes->exited, 4u);
}

TEST_F(coordinator_realtime_test, refuses_to_stream_without_a_change_reader) {
  aut = sys.spawn(coordinator, plan_of(0), threads(1), doubles(stages));
  sched.run();
  stream();
  ASSERT_TRUE(streamed->error.has_value());
  EXPECT_EQ(streamed->error->code, failure_code::internal);
  EXPECT_TRUE(stages->writers.empty());
}

}  // namespace
}  // namespace trib::test
