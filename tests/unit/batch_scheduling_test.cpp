// The snapshot's scheduling guard: SCHED_BATCH while it lives, inherited by
// threads started meanwhile, the normal policy back afterwards.

#include <gtest/gtest.h>

#include <sched.h>

#include <thread>

#include "actors/control/batch_scheduling.hpp"

using namespace trib;

TEST(batch_scheduling, threads_started_under_the_guard_run_batch_and_the_caller_gets_its_policy_back) {
  ASSERT_EQ(sched_getscheduler(0), SCHED_OTHER);
  {
    batch_scheduling guard;
    ASSERT_TRUE(guard.active());
    EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH);
    int in_thread = -1;
    std::thread t([&] { in_thread = sched_getscheduler(0); });
    t.join();
    EXPECT_EQ(in_thread, SCHED_BATCH);
  }
  EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
}

TEST(batch_scheduling, leaves_a_policy_other_than_the_normal_one_alone) {
  sched_param p{};
  ASSERT_EQ(sched_setscheduler(0, SCHED_IDLE, &p), 0);
  {
    batch_scheduling guard;
    EXPECT_FALSE(guard.active());
    EXPECT_EQ(sched_getscheduler(0), SCHED_IDLE);
  }
  EXPECT_EQ(sched_getscheduler(0), SCHED_IDLE);
  sched_setscheduler(0, SCHED_OTHER, &p);
}
