#pragma once
// A deterministic actor system for actor tests: CAF's test coordinator runs
// nothing until the test calls sched.run(), so every interleaving is the one
// the test spells out.

#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/actors.hpp"
#include "actors/control/type_ids.hpp"

namespace trib::test {

struct test_config : caf::actor_system_config {
  test_config() {
    register_message_types(*this);
    set("scheduler.policy", caf::atom("testing"));
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console-verbosity", caf::atom("quiet"));
  }
};

class actor_test : public ::testing::Test {
protected:
  actor_test()
    : sys(cfg),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
  }

  /// Stops the given actors and lets them go, so that the actor system can
  /// shut down (actors holding each other, or an unanswered request, would
  /// otherwise keep it waiting forever).
  template <class... Handles>
  void stop(const Handles&... hs) {
    (caf::anon_send_exit(hs, caf::exit_reason::user_shutdown), ...);
    sched.run();
  }

  test_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
};

/// What a test coordinator double saw.
struct coordinator_log {
  std::vector<table_done> done;
};

/// A coordinator double with the full interface: records table_done.
inline coordinator_actor::behavior_type
coordinator_double(coordinator_actor::pointer, std::shared_ptr<coordinator_log> log) {
  return {
    [](run_atom) -> caf::result<snapshot_result> {
      return to_caf_error(failure{failure_code::internal, "a double does not run"});
    },
    [](stream_atom) -> caf::result<uint64_t> {
      return to_caf_error(failure{failure_code::internal, "a double does not stream"});
    },
    [log](table_done& d) { log->done.push_back(d); },
    [](stop_atom) {},
  };
}

}  // namespace trib::test
