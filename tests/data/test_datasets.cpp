// TensorDataset, a user's Dataset, map() with the transforms, and the stacking fast path against the
// generic route.
#include <gtest/gtest.h>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"

namespace {

namespace data = xgrad::data;
using data::Example;
using xgrad::Tensor;
using xgrad::testing::all_close;
using xgrad::testing::throws_error_containing;

// A dataset as a user writes one: get(index) and size().
class Squares : public data::datasets::Dataset<Squares> {
 public:
  Example<> get(size_t index) override {
    return {xgrad::tensor(static_cast<double>(index), xgrad::kFloat64), xgrad::tensor(static_cast<std::int64_t>(index * index))};
  }
  std::optional<size_t> size() const override { return 6; }
};

TEST(Datasets, UserDatasetGetBatchAndStack) {
  Squares squares;
  const std::vector<Example<>> batch = squares.get_batch({4, 1});
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].target.item<std::int64_t>(), 16);
  auto stacked = Squares().map(data::transforms::Stack<>());
  EXPECT_EQ(stacked.size().value(), 6u);
  const Example<> both = stacked.get_batch({2, 3, 5});
  EXPECT_EQ(both.data.to_vector<double>(), (std::vector<double>{2, 3, 5}));
  EXPECT_EQ(both.target.to_vector<std::int64_t>(), (std::vector<std::int64_t>{4, 9, 25}));
}

TEST(Datasets, TensorDatasetPairsRows) {
  const Tensor x = xgrad::arange(12, xgrad::kFloat).reshape({6, 2});
  const Tensor y = xgrad::arange(6) * 10;
  data::datasets::TensorDataset ds(x, y);
  EXPECT_EQ(ds.size().value(), 6u);
  const Example<> e = ds.get(4);
  EXPECT_EQ(e.data.to_vector<float>(), (std::vector<float>{8, 9}));
  EXPECT_EQ(e.target.dim(), 0);
  EXPECT_EQ(e.target.item<std::int64_t>(), 40);
  const Example<> rows = ds.stacked_batch({5, 0, 5});
  EXPECT_EQ(rows.data.sizes(), xgrad::IntArrayRef({3, 2}));
  EXPECT_EQ(rows.target.to_vector<std::int64_t>(), (std::vector<std::int64_t>{50, 0, 50}));
}

TEST(Datasets, NonContiguousTensorsThroughALoader) {
  // Rows of a transposed tensor are strided views; the stacked batches hold their values.
  const Tensor x = xgrad::arange(12, xgrad::kFloat).reshape({2, 6}).t();
  ASSERT_FALSE(x.is_contiguous());
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
      data::datasets::TensorDataset(x, xgrad::arange(6)).map(data::transforms::Stack<>()), 4);
  std::vector<float> seen;
  for (const Example<>& batch : *loader) {
    const std::vector<float> values = batch.data.contiguous().to_vector<float>();
    seen.insert(seen.end(), values.begin(), values.end());
  }
  EXPECT_EQ(seen, (std::vector<float>{0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11}));
}

TEST(Datasets, TensorDatasetErrors) {
  EXPECT_TRUE(throws_error_containing([] { data::datasets::TensorDataset(xgrad::zeros({4, 2}), xgrad::zeros({3})); },
                                      {"TensorDataset", "size mismatch", "[4, 2]", "[3]"}));
  EXPECT_TRUE(throws_error_containing([] { data::datasets::TensorDataset(xgrad::zeros({}), xgrad::zeros({3})); },
                                      {"TensorDataset", "at least one dim"}));
  EXPECT_TRUE(throws_error_containing([] { data::datasets::TensorDataset(Tensor(), xgrad::zeros({3})); },
                                      {"TensorDataset", "defined"}));
  data::datasets::TensorDataset ds(xgrad::zeros({2, 2}), xgrad::zeros({2}));
  EXPECT_TRUE(throws_error_containing([&] { ds.get(2); }, {"TensorDataset", "index 2 out of range for 2 examples"}));
}

TEST(Transforms, NormalizeOneValueAndPerChannel) {
  const Tensor image = xgrad::arange(12, xgrad::kFloat).reshape({3, 2, 2});
  data::transforms::Normalize<> one(0.5, 2.0);
  EXPECT_TRUE(all_close(one(image), (image - 0.5) / 2.0, 0, 0));
  data::transforms::Normalize<> three({1.0, 2.0, 3.0}, {0.5, 0.25, 2.0});
  const Tensor out = three(image);
  EXPECT_EQ(out.sizes(), xgrad::IntArrayRef({3, 2, 2}));
  EXPECT_FLOAT_EQ(out[1][0][1].item<float>(), (5.0f - 2.0f) / 0.25f);
  EXPECT_FLOAT_EQ(out[2][1][1].item<float>(), (11.0f - 3.0f) / 2.0f);
  // apply() keeps the target.
  const Example<> e = three.apply({image, xgrad::tensor(7)});
  EXPECT_EQ(e.target.item<std::int64_t>(), 7);
}

// A stacked batch is normalised in one pass (contiguous) or by the two ops (a view): either way each
// example gets what normalising it alone gives, bit for bit.
TEST(Transforms, NormalizeStackedBatchAsEachExample) {
  xgrad::manual_seed(3);
  for (const bool per_channel : {false, true}) {
    data::transforms::Normalize<> normalize = per_channel
                                                  ? data::transforms::Normalize<>({0.1, 0.2, 0.3}, {0.7, 1.3, 2.9})
                                                  : data::transforms::Normalize<>(0.2860, 0.3530);
    for (const Tensor& batch :
         {xgrad::randn({4, 3, 5, 6}), xgrad::randn({2, 2, 3, 5, 6}), xgrad::randn({3, 4, 5, 6}).transpose(0, 1)}) {
      const Tensor out = data::transforms::detail::normalize_stacked(batch, normalize.mean, normalize.stddev);
      const Tensor flat = batch.reshape({-1, batch.size(-3), batch.size(-2), batch.size(-1)});
      const Tensor flat_out = out.reshape(flat.sizes());
      for (std::int64_t i = 0; i < flat.size(0); ++i)
        EXPECT_TRUE(all_close(flat_out[i], normalize(flat[i]), 0, 0))
            << per_channel << " " << batch.sizes() << " " << i;
    }
  }
}

TEST(Transforms, NormalizeErrors) {
  EXPECT_TRUE(throws_error_containing([] { data::transforms::Normalize<>({1.0, 2.0, 3.0}, {1.0, 2.0}); },
                                      {"Normalize", "mean has 3 values but stddev has 2"}));
  EXPECT_TRUE(throws_error_containing([] { data::transforms::Normalize<>(std::vector<double>{}, {1.0}); },
                                      {"Normalize", "mean needs at least one value"}));
  data::transforms::Normalize<> three({1.0, 2.0, 3.0}, {1.0, 1.0, 1.0});
  EXPECT_THROW(three(xgrad::zeros({2, 4, 4})), xgrad::Error);  // 2 channels
}

TEST(Transforms, LambdasAndStackOfDataOnlyExamples) {
  data::transforms::TensorLambda<> twice([](Tensor x) { return x * 2; });
  EXPECT_EQ(twice(xgrad::ones({2})).to_vector<float>(), (std::vector<float>{2, 2}));
  data::transforms::Lambda<Example<>> swap([](Example<> e) { return Example<>{e.target, e.data}; });
  const Example<> swapped = swap.apply({xgrad::tensor(1.0, xgrad::kFloat64), xgrad::tensor(2.0, xgrad::kFloat64)});
  EXPECT_EQ(swapped.data.item<double>(), 2.0);
  data::transforms::BatchLambda<std::vector<Example<>>, size_t> count(
      [](std::vector<Example<>> batch) { return batch.size(); });
  EXPECT_EQ(count.apply_batch(std::vector<Example<>>(3)), 3u);
  data::transforms::Stack<data::TensorExample> stack;
  const data::TensorExample stacked = stack.apply_batch({xgrad::ones({2}), xgrad::zeros({2})});
  EXPECT_EQ(stacked.data.sizes(), xgrad::IntArrayRef({2, 2}));
}

// MNIST-shaped rows through Normalize and Stack: the fast path (rows gathered into the batch, one
// broadcast) gives exactly what the generic route (a tensor per example, then stack) gives. A
// TensorLambda identity keeps the generic route, since it offers no apply_stacked.
TEST(Datasets, StackedFastPathMatchesGenericRoute) {
  xgrad::manual_seed(3);
  const Tensor images = xgrad::rand({20, 1, 28, 28});
  const Tensor labels = xgrad::randint(0, 10, {20});
  auto fast = data::datasets::TensorDataset(images, labels)
                  .map(data::transforms::Normalize<>(0.2860, 0.3530))
                  .map(data::transforms::Stack<>());
  auto generic = data::datasets::TensorDataset(images, labels)
                     .map(data::transforms::Normalize<>(0.2860, 0.3530))
                     .map(data::transforms::TensorLambda<>([](Tensor x) { return x; }))
                     .map(data::transforms::Stack<>());
  static_assert(data::datasets::detail::has_stacked_batch<
                data::datasets::MapDataset<data::datasets::TensorDataset, data::transforms::Normalize<>>>::value);
  static_assert(!data::datasets::detail::has_stacked_batch<data::datasets::MapDataset<
                    data::datasets::TensorDataset, data::transforms::TensorLambda<>>>::value);
  const std::vector<size_t> indices{7, 0, 19, 7, 3};
  const Example<> a = fast.get_batch(indices);
  const Example<> b = generic.get_batch(indices);
  EXPECT_EQ(a.data.sizes(), xgrad::IntArrayRef({5, 1, 28, 28}));
  EXPECT_EQ(a.target.sizes(), xgrad::IntArrayRef({5}));
  EXPECT_TRUE(all_close(a.data, b.data, 0, 0));
  EXPECT_TRUE(all_close(a.target, b.target, 0, 0));
}

// A batch of 101 three-channel images (950 KB; the second block starts inside an image) is gathered
// and normalised in blocks at two threads;
// every element is the same as at one thread and as the generic route's.
TEST(Datasets, TwoThreadsGatherAndNormaliseAsOne) {
  xgrad::manual_seed(4);
  const Tensor images = xgrad::rand({150, 3, 28, 28});
  const Tensor labels = xgrad::randint(0, 10, {150});
  const std::vector<double> mean{0.4, 0.5, 0.6}, stddev{0.2, 0.25, 0.3};
  auto fast = data::datasets::TensorDataset(images, labels)
                  .map(data::transforms::Normalize<>(mean, stddev))
                  .map(data::transforms::Stack<>());
  auto generic = data::datasets::TensorDataset(images, labels)
                     .map(data::transforms::Normalize<>(mean, stddev))
                     .map(data::transforms::TensorLambda<>([](Tensor x) { return x; }))
                     .map(data::transforms::Stack<>());
  std::vector<size_t> indices;
  for (size_t i = 0; i < 101; ++i) indices.push_back((i * 37) % 150);
  EXPECT_TRUE(xgrad::testing::same_on_one_and_two_threads([&] {
    const Example<> batch = fast.get_batch(indices);
    return std::vector<Tensor>{batch.data, batch.target};
  }));
  const int threads = xgrad::get_num_threads();
  xgrad::set_num_threads(2);
  const Example<> a = fast.get_batch(indices);
  xgrad::set_num_threads(threads);
  EXPECT_TRUE(all_close(a.data, generic.get_batch(indices).data, 0, 0));
}

// Examples of fewer than 3 dims broadcast against Normalize's (C, 1, 1) into a higher rank (as in
// libtorch); the fast path reproduces that too.
TEST(Datasets, StackedFastPathMatchesForLowRankExamples) {
  const Tensor x = xgrad::arange(8, xgrad::kFloat).reshape({4, 2});
  auto fast = data::datasets::TensorDataset(x, xgrad::arange(4))
                  .map(data::transforms::Normalize<>(1.0, 2.0))
                  .map(data::transforms::Stack<>());
  auto generic = data::datasets::TensorDataset(x, xgrad::arange(4))
                     .map(data::transforms::Normalize<>(1.0, 2.0))
                     .map(data::transforms::TensorLambda<>([](Tensor t) { return t; }))
                     .map(data::transforms::Stack<>());
  const Example<> a = fast.get_batch({1, 2});
  const Example<> b = generic.get_batch({1, 2});
  EXPECT_EQ(a.data.sizes(), b.data.sizes());
  EXPECT_TRUE(all_close(a.data, b.data, 0, 0));
}

TEST(Datasets, RowsOfATensorThatRequiresGradKeepTheGraph) {
  const Tensor x = xgrad::ones({3, 2}, xgrad::requires_grad());
  auto ds = data::datasets::TensorDataset(x, xgrad::arange(3)).map(data::transforms::Stack<>());
  const Example<> batch = ds.get_batch({2, 2});
  batch.data.sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 0, 0, 0, 2, 2}));
}

}  // namespace
