// Shape ops: reshape, broadcast_to, expand, permute, gather, to_dtype, unsqueeze, squeeze, flatten:
// values, float64 gradcheck and the error messages for bad shapes, dims and indices. The PyTorch
// fixtures of permute and expand are checked in test_indexing.cpp, with the other indexing.json cases.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::differentiates_twice;
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
  EXPECT_EQ(reshape(tensor({7.0}, kFloat64), {}).shape(), Shape{});
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
  const Tensor column = tensor({{1.0}, {2.0}}, kFloat64);
  const Tensor wide = broadcast_to(column, {2, 3});
  EXPECT_EQ(values(wide), (std::vector<double>{1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(values(broadcast_to(tensor({1.0, 2.0}, kFloat64), {2, 2})), (std::vector<double>{1, 2, 1, 2}));
  EXPECT_EQ(broadcast_to(column, {4, 2, 5}).shape(), (Shape{4, 2, 5}));
  EXPECT_EQ(values(broadcast_to(sum(tensor({3.0}, kFloat64)), {2})), (std::vector<double>{3, 3}));
}

TEST(ShapeGradients, BroadcastTo) {
  manual_seed(32);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return broadcast_to(in[0], {2, 3, 4}); }, {leaf({3, 1})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return broadcast_to(in[0], {2, 3}); }, {leaf({3})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return broadcast_to(in[0], {2, 3}); }, {leaf({2, 3})}));
}

// ---- expand --------------------------------------------------------------------------------------

TEST(Shape, ExpandRepeatsSizeOneDims) {
  const Tensor column = tensor({{1.0}, {2.0}}, kFloat64);
  EXPECT_EQ(values(expand(column, {2, 3})), (std::vector<double>{1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(values(column.expand({-1, 2})), (std::vector<double>{1, 1, 2, 2}));
  EXPECT_EQ(expand(column, {4, 2, 5}).shape(), (Shape{4, 2, 5}));
  EXPECT_EQ(expand(column, {2, 0}).shape(), (Shape{2, 0}));
  EXPECT_EQ(expand(tensor(3.0, kFloat64), {}).shape(), Shape{});
  EXPECT_EQ(values(tensor(3.0, kFloat64).expand({2})), (std::vector<double>{3, 3}));
  EXPECT_EQ(values(expand_as(tensor({1.0, 2.0}, kFloat64), zeros({2, 2}))), (std::vector<double>{1, 2, 1, 2}));
  EXPECT_EQ(tensor({1.0, 2.0}, kFloat64).expand_as(zeros({3, 2})).shape(), (Shape{3, 2}));
  const std::int64_t n = 3;
  const int m = 2;
  EXPECT_EQ(expand(tensor({{5}}), {n, m}).to_vector<std::int64_t>(), (std::vector<std::int64_t>(6, 5)));
  EXPECT_EQ(expand(tensor({1}).to(kBool), {2}).to_vector<bool>(), (std::vector<bool>{true, true}));
}

TEST(ShapeGradients, ExpandSumsBack) {
  Tensor x = tensor({{1.0}, {2.0}}, kFloat64).requires_grad_();
  const Tensor out = expand(x, {3, 2, 2});
  EXPECT_EQ(std::string(out.grad_fn()->name()), "ExpandBackward0");
  EXPECT_EQ(std::string(x.expand_as(zeros({2, 2})).grad_fn()->name()), "ExpandBackward0");
  out.backward(reshape(arange(12, kFloat64), {3, 2, 2}));
  // Row 0 collects 0+1, 4+5, 8+9; row 1 collects 2+3, 6+7, 10+11.
  EXPECT_EQ(values(x.grad()), (std::vector<double>{27, 39}));
  manual_seed(35);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return expand(in[0], {2, -1, 4}); }, {leaf({3, 1})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return expand(in[0], {2, 3}); }, {leaf({})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0].expand_as(in[1]) * in[1]; }, {leaf({1, 4}), leaf({3, 4})}));
}

TEST(ShapeErrors, Expand) {
  const Tensor x = zeros({3, 4});
  EXPECT_TRUE(throws_error_containing([&] { expand(x, {3, 5}); },
                                      {"expand", "size 5", "existing size 4", "dim 1", "[3, 5]", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { expand(x, {4}); }, {"expand", "number of sizes (1)", "(2)", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { expand(x, {-1, 3, 4}); }, {"expand", "-1", "leading dim 0"}));
  EXPECT_TRUE(throws_error_containing([&] { expand(x, {2, -2, 4}); }, {"expand", "-2", "existing size 3"}));
  EXPECT_TRUE(throws_error_containing([&] { expand(zeros({3, 1}), {3, -2}); }, {"expand", "-2", "existing size 1"}));
  EXPECT_TRUE(throws_error_containing([&] { expand_as(x, zeros({2, 4})); }, {"expand", "[2, 4]", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { expand(Tensor(), {2}); }, {"expand", "undefined"}));
}

// ---- permute -------------------------------------------------------------------------------------

TEST(Shape, PermuteReordersDims) {
  const Tensor x = reshape(arange(24, kFloat64), {2, 3, 4});
  const Tensor p = permute(x, {2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  // p[k][i][j] = x[i][j][k]
  EXPECT_EQ(values(select(p, 0, 1)), (std::vector<double>{1, 5, 9, 13, 17, 21}));
  EXPECT_EQ(values(x.permute({1, 0, 2})),
            (std::vector<double>{0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23}));
  EXPECT_EQ(values(permute(x, {0, 1, 2})), values(x));
  EXPECT_EQ(values(permute(x, {-1, -3, -2})), values(p));
  EXPECT_EQ(values(permute(permute(x, {2, 0, 1}), {1, 2, 0})), values(x));
  EXPECT_EQ(values(permute(reshape(arange(6, kFloat64), {2, 3}), {1, 0})), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  // Size-1 dims and a 0-dim tensor.
  EXPECT_EQ(values(permute(reshape(arange(6, kFloat64), {1, 2, 3, 1}), {3, 2, 0, 1})),
            (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(permute(tensor(2.0, kFloat64), {}).item<double>(), 2.0);
  EXPECT_EQ(permute(zeros({2, 0, 3}), {2, 1, 0}).shape(), (Shape{3, 0, 2}));
  EXPECT_EQ(permute(tensor({{1, 2}}), {1, 0}).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 2}));
  const std::vector<std::int64_t> order{1, 0};
  EXPECT_EQ(permute(zeros({2, 5}), order).shape(), (Shape{5, 2}));
}

TEST(ShapeGradients, Permute) {
  Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64).requires_grad_();
  const Tensor p = x.permute({1, 0});
  EXPECT_EQ(std::string(p.grad_fn()->name()), "PermuteBackward0");
  p.backward(tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 3, 5, 2, 4, 6}));
  manual_seed(36);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return permute(in[0], {2, 0, 1}); }, {leaf({2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return permute(in[0], {0, 2, 1, 3}); }, {leaf({2, 3, 2, 2})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return permute(in[0], {3, 1, 0, 2}) * 2.0; }, {leaf({2, 1, 3, 2})}));
}

TEST(ShapeErrors, Permute) {
  const Tensor x = zeros({2, 3, 4});
  EXPECT_TRUE(throws_error_containing([&] { permute(x, {0, 0, 1}); }, {"permute", "dim 0", "more than once", "[0, 0, 1]"}));
  EXPECT_TRUE(throws_error_containing([&] { permute(x, {2, -1, 0}); }, {"permute", "dim -1", "more than once"}));
  EXPECT_TRUE(throws_error_containing([&] { permute(x, {1, 0}); }, {"permute", "[1, 0]", "2 entries", "3 dims", "[2, 3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { permute(x, {0, 1, 3}); }, {"permute", "dim 3", "[2, 3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { permute(Tensor(), {0}); }, {"permute", "undefined"}));
}

// ---- gather -------------------------------------------------------------------------------------------

TEST(Shape, GatherPicksAlongDim) {
  const Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64);
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
  Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64).requires_grad_();
  gather(x, 1, tensor({{2, 2}, {0, 1}})).backward(tensor({{1.0, 10.0}, {100.0, 1000.0}}, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 11, 100, 1000, 0}));
  manual_seed(33);
  const Tensor index = tensor({{{2, 0, 2, 1}}, {{0, 0, 2, 1}}});
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return gather(in[0], 1, index); }, {leaf({2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return gather(in[0], 0, tensor({{1, 1, 0}, {0, 1, 1}})); },
                               {leaf({2, 3})}));
}

// ---- to_dtype ---------------------------------------------------------------------------------------

TEST(Shape, ToDtypeConverts) {
  const Tensor x = tensor({1.5, -1.7, 2.0}, kFloat64);
  EXPECT_EQ(to_dtype(x, kFloat32).to_vector<float>(), (std::vector<float>{1.5f, -1.7f, 2.0f}));
  EXPECT_EQ(to_dtype(x, kInt64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, -1, 2}));
  EXPECT_EQ(to_dtype(tensor({3, -4}), kFloat64).to_vector<double>(), (std::vector<double>{3, -4}));
  EXPECT_EQ(to_dtype(x, kFloat64).impl(), x.impl());  // already float64: the same tensor
  const auto broken = to_dtype(tensor({std::nan(""), 1e30}, kFloat64), kInt64).to_vector<std::int64_t>();
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
  // view reports as view, the op the program called.
  EXPECT_TRUE(throws_error_containing([] { zeros({2, 3}).view({4}); }, {"view: shape [4] is invalid for input of size 6"}));
  EXPECT_TRUE(throws_error_containing([] { zeros({2, 3}).view({-1, -1}); }, {"view", "only one dimension"}));
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
  EXPECT_TRUE(throws_error_containing([&] { gather(x, 1, tensor({{0.0}, {1.0}}, kFloat64)); }, {"gather", "int64", "float64"}));
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

// ---- second order (create_graph) ------------------------------------------------------------------
//
// differentiates_twice: gradgradcheck, and create_graph's first derivatives equal to the fast path's.
// Every shape op is linear: squaring its result makes the second derivative go through its
// recorded backward.

Tensor squared(const Tensor& t) { return t * t; }

TEST(ShapeSecondOrder, ReshapeFamily) {
  manual_seed(80);
  const Tensor x = leaf({2, 1, 3});
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(reshape(in[0], {3, -1})); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(in[0].view({6})); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(unsqueeze(in[0], -1)); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(squeeze(in[0])); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(squeeze(in[0], 1)); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(flatten(in[0], 1)); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(flatten(in[0])); }, {leaf({})}));
}

TEST(ShapeSecondOrder, BroadcastExpandPermute) {
  manual_seed(81);
  const Tensor column = leaf({3, 1});
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(broadcast_to(in[0], {2, 3, 4})); }, {column}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(expand(in[0], {2, -1, 4})); }, {column}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(expand_as(in[0], in[1])) * in[1]; },
                                   {column, leaf({3, 2})}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(permute(in[0], {2, 0, 1})); }, {leaf({2, 3, 4})}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return permute(in[0], {1, 0}) * in[1]; },
                                   {leaf({3, 2}), leaf({2, 3})}));
}

TEST(ShapeSecondOrder, GatherWithRepeatedIndices) {
  manual_seed(82);
  const Tensor index = tensor({{{2, 0, 2, 1}}, {{0, 0, 2, 1}}});
  EXPECT_TRUE(differentiates_twice([&](const auto& in) { return squared(gather(in[0], 1, index)); }, {leaf({2, 3, 4})}));
  EXPECT_TRUE(differentiates_twice([&](const auto& in) { return squared(gather(in[0], 0, tensor({{1, 1, 0}, {0, 1, 1}}))); },
                                   {leaf({2, 3})}));
  // The gradient is recorded as PyTorch records it: a scatter_add, whose own gradient is a gather.
  const Tensor x = leaf({2, 3});
  const Tensor upstream = leaf({2, 2});
  const Tensor g = autograd::grad({gather(x, 1, tensor({{2, 2}, {0, 1}}))}, {x}, {upstream}, true, true)[0];
  EXPECT_STREQ(g.grad_fn()->name(), "ScatterAddBackward0");
  const Tensor v = leaf({2, 3});
  const Tensor back = autograd::grad({(g * v).sum()}, {upstream})[0];
  EXPECT_TRUE(all_close(back, gather(v, 1, tensor({{2, 2}, {0, 1}})).detach(), 0.0, 0.0));
}

TEST(ShapeSecondOrder, ToDtypeBothWays) {
  // float32 rounding spoils finite differences through a cast, so the second derivative of
  // sum(float32(x)^3) (6 x) is checked by hand; the gradients come back in x's dtype.
  const Tensor x = tensor({0.5, -1.25, 2.0}, kFloat64).requires_grad_();
  const Tensor y = to_dtype(x, kFloat32);
  const Tensor first = autograd::grad({(y * y * y).sum()}, {x}, {}, true, true)[0];
  EXPECT_EQ(first.dtype(), kFloat64);
  EXPECT_STREQ(first.grad_fn()->name(), "ToCopyBackward0");
  const Tensor second = autograd::grad({first.sum()}, {x})[0];
  EXPECT_EQ(second.dtype(), kFloat64);
  EXPECT_EQ(values(second), (std::vector<double>{3.0, -7.5, 12.0}));
}

}  // namespace
}  // namespace xgrad
