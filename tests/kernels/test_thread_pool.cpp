// The worker pool behind xgrad's own split work: every task runs once, errors come back to the
// caller, nested and concurrent calls finish, and the workers are made once and kept.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include <xgrad/kernels/thread_pool.hpp>

namespace {

using xgrad::thread_pool::parallel_for;

TEST(ThreadPool, RunsEveryTaskOnceWhateverTheThreadCount) {
  for (int threads : {1, 2, 3}) {
    std::vector<std::atomic<int>> runs(100);
    parallel_for(100, threads, [&](std::int64_t task) { runs[static_cast<std::size_t>(task)].fetch_add(1); });
    for (std::size_t task = 0; task < runs.size(); ++task) EXPECT_EQ(runs[task].load(), 1) << "task " << task;
  }
}

TEST(ThreadPool, KeepsItsWorkersAcrossCalls) {
  parallel_for(8, 2, [](std::int64_t) {});
  const int workers = xgrad::thread_pool::workers();
  EXPECT_GE(workers, 1);
  for (int call = 0; call < 50; ++call) parallel_for(8, 2, [](std::int64_t) {});
  EXPECT_EQ(xgrad::thread_pool::workers(), workers);
}

TEST(ThreadPool, RethrowsATasksErrorAfterTheOthersFinish) {
  std::atomic<int> finished{0};
  EXPECT_THROW(parallel_for(16, 2,
                            [&](std::int64_t task) {
                              if (task == 5) throw std::runtime_error("task 5");
                              finished.fetch_add(1);
                            }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 15);
  // The pool still works afterwards.
  std::atomic<int> after{0};
  parallel_for(4, 2, [&](std::int64_t) { after.fetch_add(1); });
  EXPECT_EQ(after.load(), 4);
}

TEST(ThreadPool, ANestedCallRunsInsideItsTask) {
  std::atomic<int> inner{0};
  parallel_for(4, 2, [&](std::int64_t) { parallel_for(3, 2, [&](std::int64_t) { inner.fetch_add(1); }); });
  EXPECT_EQ(inner.load(), 12);
}

TEST(ThreadPool, CallsFromSeveralThreadsAllComplete) {
  std::atomic<int> total{0};
  std::vector<std::thread> callers;
  for (int caller = 0; caller < 4; ++caller)
    callers.emplace_back([&] {
      for (int call = 0; call < 20; ++call) parallel_for(10, 2, [&](std::int64_t) { total.fetch_add(1); });
    });
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(total.load(), 4 * 20 * 10);
}

}  // namespace
