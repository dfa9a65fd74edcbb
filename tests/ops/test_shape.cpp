// Shape ops: reshape, broadcast_to, gather, to_dtype, unsqueeze, squeeze, flatten: values, float64
// gradcheck and the error messages for bad shapes, dims and indices.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::leaf;
using testing::passes_gradcheck;
using testing::throws_error_containing;
using testing::values;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;


// ---- reshape and friends ---------------------------------------------------------------------------

TEST(Shape, ReshapeKeepsRowMajorOrder) {
  const Tensor x = arange(6, kFloat64);
  const Tensor m = reshape(x, {2, 3});
  EXPECT_EQ(m.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(m), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(reshape(m, {3, 2, 1}).shape(), (Shape{3, 2, 1}));
  EXPECT_EQ(reshape(tensor({7.0}), {}).shape(), Shape{});
  EXPECT_EQ(reshape(tensor({1, 2}), {2, 1}).dtype(), kInt64);
}

TEST(Shape, UnsqueezeSqueezeFlatten) {
  const Tensor x = zeros({2, 3});
  EXPECT_EQ(unsqueeze(x, 0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(unsqueeze(x, 2).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(unsqueeze(x, -1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(unsqueeze(x, -3).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(unsqueeze(sum(x), 0).shape(), (Shape{1}));
  const Tensor y = zeros({2, 1, 3});
  EXPECT_EQ(squeeze(y, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(squeeze(y, -2).shape(), (Shape{2, 3}));
  EXPECT_EQ(squeeze(y, 0).shape(), (Shape{2, 1, 3}));  // size 2: unchanged, as PyTorch
  const Tensor z = zeros({2, 3, 4, 5});
  EXPECT_EQ(flatten(z).shape(), (Shape{120}));
  EXPECT_EQ(flatten(z, 1).shape(), (Shape{2, 60}));
  EXPECT_EQ(flatten(z, 1, 2).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(flatten(z, -2, -1).shape(), (Shape{2, 3, 20}));
  EXPECT_EQ(flatten(z, 2, 2).shape(), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(flatten(sum(z)).shape(), (Shape{1}));
  EXPECT_EQ(values(flatten(reshape(arange(4, kFloat64), {2, 2}))), (std::vector<double>{0, 1, 2, 3}));
}

TEST(ShapeGradients, ReshapeFamily) {
  manual_seed(31);
  const Tensor x = leaf({2, 3, 2});
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return reshape(in[0], {3, 4}); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return unsqueeze(in[0], 1) * 2.0; }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return squeeze(unsqueeze(in[0], -1), -1); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return flatten(in[0], 1); }, {x}));
  // The reshaped result used in a broadcast: [2, 3, 2] -> [6, 2] times a row [2].
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return reshape(in[0], {6, 2}) * in[1]; }, {x, leaf({2})}));
}

// ---- broadcast_to --------------------------------------------------------------------------------

TEST(Shape, BroadcastToMaterialises) {
  const Tensor column = tensor({{1.0}, {2.0}});
  const Tensor wide = broadcast_to(column, {2, 3});
  EXPECT_EQ(values(wide), (std::vector<double>{1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(values(broadcast_to(tensor({1.0, 2.0}), {2, 2})), (std::vector<double>{1, 2, 1, 2}));
  EXPECT_EQ(broadcast_to(column, {4, 2, 5}).shape(), (Shape{4, 2, 5}));
  EXPECT_EQ(values(broadcast_to(sum(tensor({3.0})), {2})), (std::vector<double>{3, 3}));
}

TEST(ShapeGradients, BroadcastTo) {
  manual_seed(32);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return broadcast_to(in[0], {2, 3, 4}); }, {leaf({3, 1})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return broadcast_to(in[0], {2, 3}); }, {leaf({3})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return broadcast_to(in[0], {2, 3}); }, {leaf({2, 3})}));
}

// ---- gather -------------------------------------------------------------------------------------------

TEST(Shape, GatherPicksAlongDim) {
  const Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  // The loss pattern: one class per row.
  const Tensor picked = gather(x, 1, tensor({{2}, {0}}));
  EXPECT_EQ(picked.shape(), (Shape{2, 1}));
  EXPECT_EQ(values(picked), (std::vector<double>{3, 4}));
  EXPECT_EQ(values(gather(x, -1, tensor({{0, 0}, {1, 2}}))), (std::vector<double>{1, 1, 5, 6}));
  EXPECT_EQ(values(gather(x, 0, tensor({{1, 0, 1}}))), (std::vector<double>{4, 2, 6}));
  // An index smaller than the input along another dim reads only that corner.
  EXPECT_EQ(values(gather(x, 0, tensor({{1}}))), (std::vector<double>{4}));
  EXPECT_EQ(gather(tensor({{1, 2}, {3, 4}}), 1, tensor({{1}, {1}})).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{2, 4}));
}

TEST(Shape, GatherThreeDimensional) {
  const Tensor x = reshape(arange(24, kFloat64), {2, 3, 4});
  // out[i][j][k] = x[i][index[i][j][k]][k] for dim 1.
  const Tensor index = tensor({{{2, 0, 1, 2}}, {{0, 0, 2, 1}}});  // [2, 1, 4]
  EXPECT_EQ(values(gather(x, 1, index)), (std::vector<double>{8, 1, 6, 11, 12, 13, 22, 19}));
  // dim 2 with an index of shape [2, 2, 1]: x[i][j][index[i][j][0]].
  EXPECT_EQ(values(gather(x, 2, tensor({{{3}, {0}}, {{1}, {2}}}))), (std::vector<double>{3, 4, 13, 18}));
}

TEST(ShapeGradients, GatherScattersAndAddsRepeats) {
  Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}).requires_grad_();
  gather(x, 1, tensor({{2, 2}, {0, 1}})).backward(tensor({{1.0, 10.0}, {100.0, 1000.0}}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 11, 100, 1000, 0}));
  manual_seed(33);
  const Tensor index = tensor({{{2, 0, 2, 1}}, {{0, 0, 2, 1}}});
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return gather(in[0], 1, index); }, {leaf({2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return gather(in[0], 0, tensor({{1, 1, 0}, {0, 1, 1}})); },
                               {leaf({2, 3})}));
}

// ---- to_dtype ---------------------------------------------------------------------------------------

TEST(Shape, ToDtypeConverts) {
  const Tensor x = tensor({1.5, -1.7, 2.0});
  EXPECT_EQ(to_dtype(x, kFloat32).to_vector<float>(), (std::vector<float>{1.5f, -1.7f, 2.0f}));
  EXPECT_EQ(to_dtype(x, kInt64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, -1, 2}));
  EXPECT_EQ(to_dtype(tensor({3, -4}), kFloat64).to_vector<double>(), (std::vector<double>{3, -4}));
  EXPECT_EQ(to_dtype(x, kFloat64).impl(), x.impl());  // already float64: the same tensor
  const auto broken = to_dtype(tensor({std::nan(""), 1e30}), kInt64).to_vector<std::int64_t>();
  EXPECT_EQ(broken[0], std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(broken[1], std::numeric_limits<std::int64_t>::min());
}

TEST(ShapeGradients, ToDtypeCastsTheGradientBack) {
  Tensor x = tensor({1.5f, -2.0f}).requires_grad_();
  const Tensor y = to_dtype(x, kFloat64);
  sum(y * y).backward();
  EXPECT_EQ(x.grad().dtype(), kFloat32);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{3.0f, -4.0f}));
  EXPECT_FALSE(to_dtype(x, kInt64).requires_grad());
  manual_seed(34);
  // float64 -> float32 -> float64 loses precision, so gradcheck the float64 path only through ops.
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return to_dtype(in[0], kFloat64) * 3.0; }, {leaf({3})}));
}

// ---- errors -------------------------------------------------------------------------------------------

TEST(ShapeErrors, ReshapeCountMismatchNamesBothShapes) {
  EXPECT_TRUE(throws_error_containing([] { reshape(zeros({2, 3}), {4}); }, {"reshape", "[2, 3]", "[4]", "6", "4"}));
  EXPECT_TRUE(throws_error_containing([] { reshape(Tensor(), {4}); }, {"reshape", "undefined"}));
}

TEST(ShapeErrors, BroadcastToNamesBothShapes) {
  EXPECT_TRUE(throws_error_containing([] { broadcast_to(zeros({2, 3}), {3}); }, {"broadcast_to", "[2, 3]", "[3]"}));
  EXPECT_TRUE(throws_error_containing([] { broadcast_to(zeros({2}), {2, 3}); }, {"broadcast_to", "[2]", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([] { broadcast_to(zeros({3, 1}), {1, 4}); }, {"broadcast_to", "[3, 1]", "[1, 4]"}));
}

TEST(ShapeErrors, DimsOutOfRange) {
  const Tensor x = zeros({2, 3});
  EXPECT_TRUE(throws_error_containing([&] { unsqueeze(x, 3); }, {"unsqueeze", "dim 3", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { unsqueeze(x, -4); }, {"unsqueeze", "dim -4", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { squeeze(x, 2); }, {"squeeze", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { flatten(x, 0, 2); }, {"flatten", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { flatten(x, 1, 0); }, {"flatten", "start_dim 1", "end_dim 0", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { gather(x, 2, tensor({{0}})); }, {"gather", "dim 2", "[2, 3]"}));
}

TEST(ShapeErrors, GatherBadIndex) {
  const Tensor x = zeros({2, 3});
  EXPECT_TRUE(throws_error_containing([&] { gather(x, 1, tensor({{0.0}, {1.0}})); }, {"gather", "int64", "float64"}));
  EXPECT_TRUE(throws_error_containing([&] { gather(x, 1, tensor({0, 1})); }, {"gather", "[2]", "[2, 3]", "number of dims"}));
  EXPECT_TRUE(throws_error_containing([&] { gather(x, 1, tensor({{0}, {3}})); },
                                      {"gather", "index value 3", "[1, 0]", "dim 1", "size 3", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { gather(x, 1, tensor({{-1}, {0}})); }, {"gather", "index value -1", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { gather(x, 1, tensor({{0}, {0}, {0}})); },
                                      {"gather", "[3, 1]", "[2, 3]", "dim 0"}));
  EXPECT_TRUE(throws_error_containing([&] { gather(x, 1, Tensor()); }, {"gather", "index", "undefined"}));
}

TEST(ShapeErrors, NextOpWorksAfterAnError) {
  Tensor x = leaf({2, 3});
  EXPECT_THROW(gather(x, 1, tensor({{5}, {0}})), Error);
  EXPECT_THROW(reshape(x, {5}), Error);
  sum(gather(x, 1, tensor({{2}, {0}}))).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 1, 1, 0, 0}));
}

}  // namespace
}  // namespace xgrad
