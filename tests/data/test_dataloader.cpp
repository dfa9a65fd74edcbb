// make_data_loader: batches and their order, drop_last, epochs, and the worker threads (the same
// batches as workers = 0, exceptions rethrown on the consuming thread, joined on destruction).
#include <gtest/gtest.h>

#include <numeric>

#include <xgrad/xgrad.hpp>

#include <atomic>
#include <thread>

#include "compare.hpp"

namespace {

namespace data = xgrad::data;
using data::Example;
using xgrad::Tensor;
using xgrad::testing::throws_error_containing;

data::datasets::TensorDataset numbered(int64_t n) {
  return data::datasets::TensorDataset(xgrad::arange(n, xgrad::kFloat).reshape({n, 1}) * 1.5, xgrad::arange(n));
}

// Each batch's targets (the example numbers), in order.
template <class Loader>
std::vector<std::vector<int64_t>> stacked_epoch(Loader& loader) {
  std::vector<std::vector<int64_t>> batches;
  for (auto& batch : *loader) {
    EXPECT_EQ(batch.data.size(0), batch.target.size(0));
    batches.push_back(batch.target.template to_vector<int64_t>());
  }
  return batches;
}

TEST(DataLoader, SmokeProgramOfTheContract) {
  auto ds = data::datasets::TensorDataset(xgrad::randn({10, 2}), xgrad::randint(0, 3, {10}))
                .map(data::transforms::Stack<>());
  auto loader = data::make_data_loader(std::move(ds), data::DataLoaderOptions().batch_size(4).workers(0));
  std::vector<int64_t> sizes;
  for (auto& batch : *loader) {
    EXPECT_EQ(batch.data.size(1), 2);
    sizes.push_back(batch.data.size(0));
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
}

TEST(DataLoader, SequentialBatchesOfExamples) {
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(numbered(5), 2);
  std::vector<std::vector<int64_t>> seen;
  for (std::vector<Example<>>& batch : *loader) {
    seen.emplace_back();
    for (const Example<>& e : batch) seen.back().push_back(e.target.item<int64_t>());
  }
  EXPECT_EQ(seen, (std::vector<std::vector<int64_t>>{{0, 1}, {2, 3}, {4}}));
  EXPECT_EQ(loader->options().batch_size, 2u);
}

TEST(DataLoader, DropLast) {
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
      numbered(7).map(data::transforms::Stack<>()), data::DataLoaderOptions().batch_size(3).drop_last(true));
  EXPECT_EQ(stacked_epoch(loader), (std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4, 5}}));
}

TEST(DataLoader, EachEpochIsANewPermutationFixedByManualSeed) {
  xgrad::manual_seed(7);
  auto loader = data::make_data_loader(numbered(20).map(data::transforms::Stack<>()), 6);
  const auto first = stacked_epoch(loader);
  const auto second = stacked_epoch(loader);
  EXPECT_NE(first, second);
  std::vector<int64_t> all;
  for (const auto& batch : first) all.insert(all.end(), batch.begin(), batch.end());
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(20);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
  xgrad::manual_seed(7);
  auto again = data::make_data_loader(numbered(20).map(data::transforms::Stack<>()), 6);
  EXPECT_EQ(stacked_epoch(again), first);
  EXPECT_EQ(stacked_epoch(again), second);
}

// The same seed gives the same batches, in the same order, with 0, 1, 2 or 3 workers, with a small
// and the default job queue, over several epochs.
TEST(DataLoader, WorkersGiveTheBatchesOfTheConsumingThread) {
  const auto run = [](size_t workers, std::optional<size_t> max_jobs) {
    xgrad::manual_seed(11);
    auto ds = numbered(203).map(data::transforms::Normalize<>(0.5, 2.0)).map(data::transforms::Stack<>());
    auto loader = data::make_data_loader(std::move(ds),
                                         data::DataLoaderOptions().batch_size(8).workers(workers).max_jobs(max_jobs));
    std::vector<std::vector<float>> data;
    std::vector<std::vector<int64_t>> targets;
    for (int epoch = 0; epoch < 3; ++epoch) {
      for (auto& batch : *loader) {
        data.push_back(batch.data.to_vector<float>());
        targets.push_back(batch.target.to_vector<int64_t>());
      }
    }
    return std::make_pair(data, targets);
  };
  const auto reference = run(0, std::nullopt);
  EXPECT_EQ(reference.second.size(), 3u * 26u);
  EXPECT_EQ(run(1, std::nullopt), reference);
  EXPECT_EQ(run(2, std::nullopt), reference);
  EXPECT_EQ(run(3, 1), reference);
  EXPECT_EQ(run(2, 9), reference);
}

// A dataset that fails on one index, and counts the threads it ran on.
class Failing : public data::datasets::Dataset<Failing> {
 public:
  explicit Failing(size_t bad) : bad_(bad) {}
  Example<> get(size_t index) override {
    if (index == bad_) throw xgrad::Error("Failing: example " + std::to_string(index) + " is broken");
    return {xgrad::tensor(static_cast<double>(index)), xgrad::tensor(static_cast<int64_t>(index))};
  }
  std::optional<size_t> size() const override { return 12; }

 private:
  size_t bad_;
};

TEST(DataLoader, WorkerExceptionIsRethrownOnTheConsumingThread) {
  for (size_t workers : {0, 2}) {
    auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
        Failing(5), data::DataLoaderOptions().batch_size(2).workers(workers));
    std::vector<size_t> batches_before;
    EXPECT_TRUE(throws_error_containing(
        [&] {
          for (auto& batch : *loader) batches_before.push_back(batch.size());
        },
        {"Failing: example 5 is broken"}))
        << workers << " workers";
    EXPECT_EQ(batches_before.size(), 2u);  // indices 0-1 and 2-3 came first
    // The loader still works: a new epoch fails at the same place again.
    size_t seen = 0;
    try {
      for (auto& batch : *loader) seen += batch.size();
    } catch (const xgrad::Error&) {
    }
    EXPECT_EQ(seen, 4u);
  }
}

TEST(DataLoader, LeavingAnEpochEarlyAndDestroyingJoins) {
  for (int round = 0; round < 5; ++round) {
    auto loader = data::make_data_loader(numbered(500).map(data::transforms::Stack<>()),
                                         data::DataLoaderOptions().batch_size(4).workers(3));
    int taken = 0;
    for (auto& batch : *loader) {
      EXPECT_EQ(batch.data.size(0), 4);
      if (++taken == 3) break;
    }
    // A new epoch after an abandoned one starts from its own first batch.
    taken = 0;
    for (auto& batch : *loader) taken += static_cast<int>(batch.data.size(0));
    EXPECT_EQ(taken, 500);
    // Destroyed mid-epoch, with jobs queued.
    auto it = loader->begin();
    ++it;
  }
}

TEST(DataLoader, BadOptions) {
  EXPECT_TRUE(throws_error_containing(
      [] { data::make_data_loader(numbered(3), data::DataLoaderOptions().batch_size(0)); },
      {"batch_size must be positive"}));
  EXPECT_TRUE(throws_error_containing(
      [] { data::make_data_loader(numbered(3), data::DataLoaderOptions().workers(2).max_jobs(0)); },
      {"max_jobs must be positive"}));
  auto loader = data::make_data_loader(numbered(3), 2);
  auto end = loader->end();
  EXPECT_TRUE(throws_error_containing([&] { *end; }, {"Dereferencing the DataLoader's past-the-end iterator"}));
  EXPECT_TRUE(throws_error_containing([&] { ++end; }, {"Incrementing the DataLoader's past-the-end iterator"}));
  // An iterator that ran off the end of its epoch says so in libtorch's words.
  auto it = loader->begin();
  ++it;
  ++it;
  EXPECT_TRUE(throws_error_containing([&] { ++it; }, {"Attempted to increment iterator past the end"}));
  EXPECT_TRUE(throws_error_containing([&] { *it; }, {"Attempted to dereference iterator that was past the end"}));
}

// A worker that takes longer than the timeout.
class Slow : public data::datasets::Dataset<Slow> {
 public:
  Example<> get(size_t index) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return {xgrad::tensor(static_cast<double>(index)), xgrad::tensor(static_cast<int64_t>(index))};
  }
  std::optional<size_t> size() const override { return 2; }
};

TEST(DataLoader, TimeoutWaitingForAWorker) {
  auto loader = data::make_data_loader(
      Slow(), data::DataLoaderOptions().batch_size(1).workers(1).timeout(std::chrono::milliseconds(5)));
  EXPECT_TRUE(throws_error_containing([&] { loader->begin(); }, {"Timeout", "5 ms"}));
}

}  // namespace
