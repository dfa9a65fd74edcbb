// Reductions: sum, mean, max, logsumexp, argmax over the whole tensor and along each dim, with
// hand-computed values, float64 gradcheck on 3-D inputs and their error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::leaf;
using testing::passes_gradcheck;
using testing::throws_error_containing;
using testing::values;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

std::vector<std::int64_t> indices(const Tensor& t) { return t.to_vector<std::int64_t>(); }

const double kInf = std::numeric_limits<double>::infinity();

// ---- values ------------------------------------------------------------------------------------

TEST(Reduce, SumAndMeanOfEverythingAreZeroDim) {
  const Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  EXPECT_EQ(sum(x).shape(), Shape{});
  EXPECT_EQ(sum(x).item<double>(), 21.0);
  EXPECT_EQ(mean(x).shape(), Shape{});
  EXPECT_EQ(mean(x).item<double>(), 3.5);
  EXPECT_EQ(sum(tensor({1.5f, 2.5f})).dtype(), kFloat32);
}

TEST(Reduce, SumAndMeanAlongADim) {
  const Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  EXPECT_EQ(values(sum(x, 0)), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(sum(x, 0).shape(), (Shape{3}));
  EXPECT_EQ(values(sum(x, 1)), (std::vector<double>{6, 15}));
  EXPECT_EQ(values(sum(x, -1)), (std::vector<double>{6, 15}));
  EXPECT_EQ(sum(x, -1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(sum(x, 0, true).shape(), (Shape{1, 3}));
  EXPECT_EQ(values(mean(x, 0)), (std::vector<double>{2.5, 3.5, 4.5}));
  EXPECT_EQ(values(mean(x, -1, true)), (std::vector<double>{2, 5}));
  EXPECT_EQ(mean(x, -1, true).shape(), (Shape{2, 1}));
}

TEST(Reduce, ThreeDimensionalAlongEachDim) {
  const Tensor x = reshape(arange(24, kFloat64), {2, 3, 4});
  EXPECT_EQ(sum(x, 0).shape(), (Shape{3, 4}));
  EXPECT_EQ(values(sum(x, 0))[0], 12.0);   // 0 + 12
  EXPECT_EQ(values(sum(x, 1)), (std::vector<double>{12, 15, 18, 21, 48, 51, 54, 57}));
  EXPECT_EQ(values(sum(x, 2)), (std::vector<double>{6, 22, 38, 54, 70, 86}));
  EXPECT_EQ(values(max(x, 1)), (std::vector<double>{8, 9, 10, 11, 20, 21, 22, 23}));
  EXPECT_EQ(indices(argmax(x, 0)), std::vector<std::int64_t>(12, 1));
}

TEST(Reduce, Int64SumsToInt64) {
  const Tensor labels = tensor({{1, 2}, {3, 4}});
  EXPECT_EQ(sum(labels).dtype(), kInt64);
  EXPECT_EQ(sum(labels).item<std::int64_t>(), 10);
  EXPECT_EQ(indices(sum(labels, 0)), (std::vector<std::int64_t>{4, 6}));
  EXPECT_EQ(indices(max(labels, 1)), (std::vector<std::int64_t>{2, 4}));
}

TEST(Reduce, MaxAndArgmaxPickTheFirstOfTies) {
  const Tensor x = tensor({{1.0, 3.0, 3.0}, {2.0, 2.0, 0.0}});
  EXPECT_EQ(values(max(x, 1)), (std::vector<double>{3, 2}));
  EXPECT_EQ(indices(argmax(x, 1)), (std::vector<std::int64_t>{1, 0}));
  EXPECT_EQ(argmax(x, 1).dtype(), kInt64);
  EXPECT_EQ(argmax(x, 1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(indices(argmax(x, 0)), (std::vector<std::int64_t>{1, 0, 0}));
}

TEST(Reduce, MaxGradientGoesToTheFirstMaximum) {
  Tensor x = tensor({{1.0, 3.0, 3.0}, {2.0, 2.0, 0.0}}).requires_grad_();
  max(x, 1).backward(tensor({10.0, 20.0}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 10, 0, 20, 0, 0}));
}

TEST(Reduce, NaNIsTheMaximum) {
  const double nan = std::nan("");
  const Tensor x = tensor({{1.0, nan, 5.0, nan}});
  EXPECT_TRUE(std::isnan(max(x, 1).item<double>()));
  EXPECT_EQ(argmax(x, 1).item<std::int64_t>(), 1);
}

TEST(Reduce, ArgmaxIsNotDifferentiable) {
  Tensor x = randn({2, 3}).requires_grad_();
  EXPECT_FALSE(argmax(x, 1).requires_grad());
}

TEST(Reduce, LogsumexpIsStable) {
  const Tensor x = tensor({{1000.0, 1000.0}, {-1000.0, -1000.0}, {0.0, std::log(3.0)}});
  EXPECT_TRUE(all_close(logsumexp(x, 1), tensor({1000 + std::log(2.0), -1000 + std::log(2.0), std::log(4.0)}), 1e-15, 0));
  EXPECT_EQ(logsumexp(x, 1, true).shape(), (Shape{3, 1}));
  // Every term -inf gives -inf (not NaN from -inf - -inf); a +inf gives +inf.
  EXPECT_EQ(values(logsumexp(tensor({{-kInf, -kInf}, {1.0, kInf}}), 1)), (std::vector<double>{-kInf, kInf}));
  const Tensor f = tensor({{100.0f, 100.0f}});
  EXPECT_EQ(logsumexp(f, -1).dtype(), kFloat32);
  EXPECT_TRUE(all_close(logsumexp(f, -1), tensor({100.0f + static_cast<float>(std::log(2.0))}), 1e-6, 0));
}

TEST(Reduce, EmptyDims) {
  const Tensor empty = zeros({2, 0});
  EXPECT_EQ(sum(empty, 1).to_vector<float>(), (std::vector<float>{0, 0}));
  EXPECT_EQ(sum(empty).item<float>(), 0.0f);
  EXPECT_TRUE(std::isnan(mean(empty).item<float>()));
  EXPECT_EQ(sum(empty, 0).shape(), (Shape{0}));
  EXPECT_EQ(logsumexp(empty, 1).to_vector<float>()[0], -std::numeric_limits<float>::infinity());
}

TEST(Reduce, ZeroDimInputAcceptsDimZeroAndMinusOne) {
  const Tensor s = sum(tensor({4.0}));
  EXPECT_EQ(sum(s, 0).item<double>(), 4.0);
  EXPECT_EQ(sum(s, -1, true).shape(), Shape{});
  EXPECT_EQ(argmax(s, 0).item<std::int64_t>(), 0);
}

// ---- gradients ----------------------------------------------------------------------------------

TEST(ReduceGradients, WholeTensor) {
  manual_seed(21);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return sum(in[0]); }, {leaf({2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return mean(in[0]); }, {leaf({2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return mean(in[0] * in[0]); }, {leaf({5})}));
}

class DimGradients : public ::testing::TestWithParam<std::tuple<std::int64_t, bool>> {};

TEST_P(DimGradients, AlongEachDimOfA3DInput) {
  const auto [dim, keepdim] = GetParam();
  manual_seed(22);
  const Tensor x = leaf({2, 3, 4});
  EXPECT_TRUE(passes_gradcheck([dim = dim, keepdim = keepdim](const auto& in) { return sum(in[0], dim, keepdim); }, {x}));
  EXPECT_TRUE(passes_gradcheck([dim = dim, keepdim = keepdim](const auto& in) { return mean(in[0], dim, keepdim); }, {x}));
  EXPECT_TRUE(passes_gradcheck([dim = dim, keepdim = keepdim](const auto& in) { return max(in[0], dim, keepdim); }, {x}));
  EXPECT_TRUE(
      passes_gradcheck([dim = dim, keepdim = keepdim](const auto& in) { return logsumexp(in[0], dim, keepdim); }, {x}));
}

INSTANTIATE_TEST_SUITE_P(DimsAndKeepdim, DimGradients,
                         ::testing::Combine(::testing::Values(0, 1, 2, -1, -3), ::testing::Bool()));

TEST(ReduceGradients, KeepdimResultBroadcastsBack) {
  // x - mean(x, -1, keepdim) is the centring every normalisation layer does.
  manual_seed(23);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] - mean(in[0], -1, true); }, {leaf({3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] - logsumexp(in[0], 0, true); }, {leaf({3, 4})}));
}

TEST(ReduceGradients, LogsumexpGradientIsSoftmax) {
  Tensor x = tensor({{0.0, std::log(3.0)}}).requires_grad_();
  logsumexp(x, 1).backward(tensor({2.0}));
  EXPECT_TRUE(all_close(x.grad(), tensor({{0.5, 1.5}}), 1e-15, 0));
}

TEST(ReduceGradients, Float32StaysFloat32) {
  Tensor x = ones({2, 3}).requires_grad_();
  sum(mean(x, 0)).backward();
  EXPECT_EQ(x.grad().dtype(), kFloat32);
  EXPECT_TRUE(all_close(x.grad(), full({2, 3}, 0.5), 0, 0));
}

// ---- errors -------------------------------------------------------------------------------------

TEST(ReduceErrors, DimOutOfRangeNamesOpDimAndShape) {
  const Tensor x = ones({2, 3});
  EXPECT_TRUE(throws_error_containing([&] { sum(x, 2); }, {"sum", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { sum(x, -3); }, {"sum", "dim -3", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { mean(x, 5, true); }, {"mean", "dim 5", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { max(x, 2); }, {"max", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { logsumexp(x, -3); }, {"logsumexp", "dim -3", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { argmax(x, 7); }, {"argmax", "dim 7", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { sum(sum(x), 1); }, {"sum", "dim 1", "[]"}));
}

TEST(ReduceErrors, MaxOfAnEmptyDim) {
  const Tensor empty = zeros({2, 0});
  EXPECT_TRUE(throws_error_containing([&] { max(empty, 1); }, {"max", "size 0", "[2, 0]"}));
  EXPECT_TRUE(throws_error_containing([&] { argmax(empty, -1); }, {"argmax", "size 0", "[2, 0]"}));
}

TEST(ReduceErrors, FloatingOnlyReductionsRejectInt64) {
  const Tensor labels = tensor({1, 2});
  EXPECT_TRUE(throws_error_containing([&] { mean(labels); }, {"mean", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { mean(labels, 0); }, {"mean", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { logsumexp(labels, 0); }, {"logsumexp", "int64"}));
}

TEST(ReduceErrors, UndefinedInput) {
  EXPECT_TRUE(throws_error_containing([] { sum(Tensor()); }, {"sum", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { argmax(Tensor(), 0); }, {"argmax", "undefined"}));
}

TEST(ReduceErrors, NextOpWorksAfterAnError) {
  Tensor x = ones({2, 3}).requires_grad_();
  EXPECT_THROW(sum(x, 3), Error);
  sum(x, 1).backward(ones({2}));
  EXPECT_EQ(x.grad().to_vector<float>(), std::vector<float>(6, 1.0f));
}

}  // namespace
}  // namespace xgrad
