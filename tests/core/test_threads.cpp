// Threads and the engine: two threads training at once, and thread-count changes between steps,
// give exactly what one thread running alone gives. The ThreadSanitizer build runs these.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace xgrad {
namespace {

// A two-layer classifier with its Adam and its data. Made on the main thread: the global generator
// is one per process, so models drawn on two threads at once would depend on the interleaving.
struct Training {
  Training(std::uint64_t seed, std::int64_t batch, std::int64_t width)
      : model((manual_seed(seed), nn::Sequential(nn::Linear(width, width), nn::ReLU(), nn::Linear(width, 10)))),
        adam(model->parameters(), optim::AdamOptions(1e-3)),
        inputs(randn({batch, width})),
        targets(randint(0, 10, {batch}, kInt64)) {}

  // The losses of `steps` steps; before step i, set_num_threads(threads[i]) when given.
  std::vector<float> run(int steps, const std::vector<int>& threads = {}) {
    std::vector<float> losses;
    for (int step = 0; step < steps; ++step) {
      if (!threads.empty()) set_num_threads(threads[static_cast<std::size_t>(step)]);
      adam.zero_grad();
      Tensor loss = nn::functional::cross_entropy(model->forward(inputs), targets);
      loss.backward();
      adam.step();
      losses.push_back(loss.item<float>());
    }
    return losses;
  }

  nn::Sequential model;
  optim::Adam adam;
  Tensor inputs;
  Tensor targets;
};

TEST(Threads, TwoThreadsTrainSeparateModelsAsEachWouldAlone) {
  constexpr int kSteps = 30;
  const std::vector<float> alone_a = Training(1, 32, 64).run(kSteps);
  const std::vector<float> alone_b = Training(2, 48, 40).run(kSteps);
  Training a(1, 32, 64);
  Training b(2, 48, 40);
  std::vector<float> threaded_a, threaded_b;
  std::thread first([&] { threaded_a = a.run(kSteps); });
  std::thread second([&] { threaded_b = b.run(kSteps); });
  first.join();
  second.join();
  EXPECT_EQ(threaded_a, alone_a);
  EXPECT_EQ(threaded_b, alone_b);
}

TEST(Threads, ChangingTheThreadCountBetweenStepsChangesNoResult) {
  // Products of 256 x 512 x 512: large enough that OpenBLAS runs them on its threads.
  constexpr int kSteps = 6;
  const int before = get_num_threads();
  set_num_threads(1);
  const std::vector<float> one_thread = Training(3, 256, 512).run(kSteps);
  const std::vector<float> alternating = Training(3, 256, 512).run(kSteps, {2, 1, 2, 2, 1, 2});
  set_num_threads(before);
  ASSERT_EQ(alternating.size(), one_thread.size());
  for (std::size_t step = 0; step < one_thread.size(); ++step)
    EXPECT_NEAR(alternating[step], one_thread[step], 1e-5f * std::abs(one_thread[step])) << "step " << step;
}

// Threads drawing from the global generator at once each hold it for a whole draw, so each takes
// a run of the one stream: all the words drawn are the stream's first words, each exactly once. (An
// unguarded engine raced here: ThreadSanitizer reports it, and torn state repeats or skips words.)
TEST(Threads, DrawsFromTheGlobalGeneratorAreDisjointRunsOfItsStream) {
  constexpr std::size_t kThreads = 4, kCalls = 200, kWords = 64;
  manual_seed(11);
  std::vector<std::uint64_t> expected(kThreads * kCalls * kWords);
  random_words(expected.data(), expected.size());
  manual_seed(11);
  std::vector<std::vector<std::uint64_t>> drawn(kThreads, std::vector<std::uint64_t>(kCalls * kWords));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t)
    threads.emplace_back([&drawn, t] {
      for (std::size_t call = 0; call < kCalls; ++call) random_words(drawn[t].data() + call * kWords, kWords);
    });
  for (std::thread& thread : threads) thread.join();
  std::vector<std::uint64_t> all;
  for (const auto& words : drawn) all.insert(all.end(), words.begin(), words.end());
  std::sort(all.begin(), all.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(all, expected);
}

}  // namespace
}  // namespace xgrad
