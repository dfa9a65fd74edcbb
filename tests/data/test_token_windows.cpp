// TokenWindows: each example's context and next tokens, its size and errors, and its batches
// through make_data_loader with Stack<> (the direct gather against stacking single examples, in
// order and shuffled, with worker threads).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"

namespace {

namespace data = xgrad::data;
using data::Example;
using data::datasets::TokenWindows;
using xgrad::Tensor;
using xgrad::testing::throws_error_containing;

// Tokens 100, 101, ..., so that a token's value names its position.
Tensor numbered_tokens(std::int64_t n) { return xgrad::arange(n) + 100; }

std::vector<std::int64_t> range(std::int64_t first, std::int64_t count) {
  std::vector<std::int64_t> values(static_cast<std::size_t>(count));
  std::iota(values.begin(), values.end(), first);
  return values;
}

TEST(TokenWindows, EachExampleIsAContextAndItsNextTokens) {
  TokenWindows windows(numbered_tokens(10), 4);
  EXPECT_EQ(windows.size().value(), 6u);
  EXPECT_EQ(windows.block_size(), 4);
  const Example<> first = windows.get(0);
  EXPECT_EQ(first.data.dtype(), xgrad::kInt64);
  EXPECT_EQ(first.data.to_vector<std::int64_t>(), (std::vector<std::int64_t>{100, 101, 102, 103}));
  EXPECT_EQ(first.target.to_vector<std::int64_t>(), (std::vector<std::int64_t>{101, 102, 103, 104}));
  // The last window ends with the last token as its last target.
  const Example<> last = windows.get(5);
  EXPECT_EQ(last.data.to_vector<std::int64_t>(), range(105, 4));
  EXPECT_EQ(last.target.to_vector<std::int64_t>(), range(106, 4));
  // block_size numel - 1 leaves exactly one window.
  TokenWindows one(numbered_tokens(3), 2);
  EXPECT_EQ(one.size().value(), 1u);
  EXPECT_EQ(one.get(0).target.to_vector<std::int64_t>(), (std::vector<std::int64_t>{101, 102}));
}

TEST(TokenWindows, Errors) {
  EXPECT_TRUE(throws_error_containing([] { TokenWindows(numbered_tokens(12).reshape({3, 4}), 2); },
                                      {"TokenWindows: tokens must be 1-dim, got shape [3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { TokenWindows(xgrad::zeros({10}), 2); },
                                      {"TokenWindows: tokens must be int64, got float32"}));
  EXPECT_TRUE(throws_error_containing([] { TokenWindows(Tensor(), 2); }, {"TokenWindows: tokens must be a defined"}));
  EXPECT_TRUE(throws_error_containing([] { TokenWindows(numbered_tokens(5), 5); },
                                      {"TokenWindows: block_size 5 leaves no window in 5 tokens"}));
  EXPECT_TRUE(throws_error_containing([] { TokenWindows(numbered_tokens(5), 0); },
                                      {"TokenWindows: block_size must be >= 1, got 0"}));
  TokenWindows windows(numbered_tokens(5), 3);
  EXPECT_TRUE(throws_error_containing([&] { windows.get(2); }, {"TokenWindows: index 2 out of range for 2 examples"}));
  EXPECT_TRUE(throws_error_containing([&] { windows.stacked_batch({0, 2}); }, {"index 2 out of range"}));
}

TEST(TokenWindows, StackedBatchEqualsStackingTheExamples) {
  TokenWindows windows(numbered_tokens(20), 5);
  const std::vector<std::size_t> indices{14, 0, 7, 7};
  const Example<> direct = windows.stacked_batch(indices);
  const Example<> stacked = data::transforms::Stack<>().apply_batch(windows.get_batch(indices));
  EXPECT_EQ(direct.data.sizes(), xgrad::IntArrayRef({4, 5}));
  EXPECT_EQ(direct.data.to_vector<std::int64_t>(), stacked.data.to_vector<std::int64_t>());
  EXPECT_EQ(direct.target.to_vector<std::int64_t>(), stacked.target.to_vector<std::int64_t>());
  EXPECT_EQ(direct.data.dtype(), stacked.data.dtype());
}

TEST(TokenWindows, SequentialLoaderGivesConsecutiveWindows) {
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
      TokenWindows(numbered_tokens(11), 3).map(data::transforms::Stack<>()), 3);
  std::vector<std::int64_t> starts;
  for (Example<>& batch : *loader) {
    ASSERT_EQ(batch.data.dim(), 2);
    EXPECT_EQ(batch.data.size(1), 3);
    EXPECT_EQ(batch.target.sizes(), batch.data.sizes());
    for (std::int64_t row = 0; row < batch.data.size(0); ++row) {
      const std::vector<std::int64_t> x = batch.data[row].to_vector<std::int64_t>();
      EXPECT_EQ(x, range(x.front(), 3));
      EXPECT_EQ(batch.target[row].to_vector<std::int64_t>(), range(x.front() + 1, 3));
      starts.push_back(x.front() - 100);
    }
  }
  EXPECT_EQ(starts, range(0, 8));
}

// Shuffled, with two workers: each epoch covers every window once, each target still the context
// moved on by one token.
TEST(TokenWindows, ShuffledEpochsCoverEveryWindowOnce) {
  xgrad::manual_seed(7);
  auto loader = data::make_data_loader(TokenWindows(numbered_tokens(40), 8).map(data::transforms::Stack<>()),
                                       data::DataLoaderOptions().batch_size(5).workers(2));
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<std::int64_t> starts;
    for (Example<>& batch : *loader) {
      const Tensor x = batch.data, y = batch.target;
      for (std::int64_t row = 0; row < x.size(0); ++row) {
        const std::vector<std::int64_t> context = x[row].to_vector<std::int64_t>();
        EXPECT_EQ(y[row].to_vector<std::int64_t>(), range(context.front() + 1, 8));
        starts.push_back(context.front() - 100);
      }
    }
    EXPECT_NE(starts, range(0, 32)) << "epoch " << epoch << " was not shuffled";
    std::sort(starts.begin(), starts.end());
    EXPECT_EQ(starts, range(0, 32)) << "epoch " << epoch;
  }
}

}  // namespace
