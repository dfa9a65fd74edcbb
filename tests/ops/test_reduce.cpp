// Reductions: sum, mean, max, logsumexp, argmax over the whole tensor and along each dim, with
// hand-computed values, float64 gradcheck on 3-D inputs and their error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::differentiates_twice;
using testing::leaf;
using testing::passes_gradcheck;
using testing::throws_error_containing;
using testing::values;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

std::vector<std::int64_t> indices(const Tensor& t) { return t.to_vector<std::int64_t>(); }

const double kInf = std::numeric_limits<double>::infinity();

// ---- values ------------------------------------------------------------------------------------

TEST(Reduce, SumAndMeanOfEverythingAreZeroDim) {
  const Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64);
  EXPECT_EQ(sum(x).shape(), Shape{});
  EXPECT_EQ(sum(x).item<double>(), 21.0);
  EXPECT_EQ(mean(x).shape(), Shape{});
  EXPECT_EQ(mean(x).item<double>(), 3.5);
  EXPECT_EQ(sum(tensor({1.5f, 2.5f})).dtype(), kFloat32);
}

TEST(Reduce, SumAndMeanAlongADim) {
  const Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64);
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
  EXPECT_EQ(values(std::get<0>(max(x, 1))), (std::vector<double>{8, 9, 10, 11, 20, 21, 22, 23}));
  EXPECT_EQ(indices(argmax(x, 0)), std::vector<std::int64_t>(12, 1));
}

TEST(Reduce, Int64SumsToInt64) {
  const Tensor labels = tensor({{1, 2}, {3, 4}});
  EXPECT_EQ(sum(labels).dtype(), kInt64);
  EXPECT_EQ(sum(labels).item<std::int64_t>(), 10);
  EXPECT_EQ(indices(sum(labels, 0)), (std::vector<std::int64_t>{4, 6}));
  EXPECT_EQ(indices(std::get<0>(max(labels, 1))), (std::vector<std::int64_t>{2, 4}));
}

TEST(Reduce, MaxAndArgmaxPickTheFirstOfTies) {
  const Tensor x = tensor({{1.0, 3.0, 3.0}, {2.0, 2.0, 0.0}}, kFloat64);
  EXPECT_EQ(values(std::get<0>(max(x, 1))), (std::vector<double>{3, 2}));
  EXPECT_EQ(indices(std::get<1>(max(x, 1))), (std::vector<std::int64_t>{1, 0}));
  EXPECT_EQ(indices(argmax(x, 1)), (std::vector<std::int64_t>{1, 0}));
  EXPECT_EQ(argmax(x, 1).dtype(), kInt64);
  EXPECT_EQ(argmax(x, 1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(indices(argmax(x, 0)), (std::vector<std::int64_t>{1, 0, 0}));
}

TEST(Reduce, MaxGradientGoesToTheFirstMaximum) {
  Tensor x = tensor({{1.0, 3.0, 3.0}, {2.0, 2.0, 0.0}}, kFloat64).requires_grad_();
  std::get<0>(max(x, 1)).backward(tensor({10.0, 20.0}, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 10, 0, 20, 0, 0}));
}

TEST(Reduce, NaNIsTheMaximum) {
  const double nan = std::nan("");
  const Tensor x = tensor({{1.0, nan, 5.0, nan}}, kFloat64);
  EXPECT_TRUE(std::isnan(std::get<0>(max(x, 1)).item<double>()));
  EXPECT_EQ(std::get<1>(max(x, 1)).item<std::int64_t>(), 1);
  EXPECT_EQ(argmax(x, 1).item<std::int64_t>(), 1);
}

TEST(Reduce, ArgmaxIsNotDifferentiable) {
  Tensor x = randn({2, 3}).requires_grad_();
  EXPECT_FALSE(argmax(x, 1).requires_grad());
}

TEST(Reduce, LogsumexpIsStable) {
  const Tensor x = tensor({{1000.0, 1000.0}, {-1000.0, -1000.0}, {0.0, std::log(3.0)}}, kFloat64);
  EXPECT_TRUE(all_close(logsumexp(x, 1), tensor({1000 + std::log(2.0), -1000 + std::log(2.0), std::log(4.0)}, kFloat64), 1e-15, 0));
  EXPECT_EQ(logsumexp(x, 1, true).shape(), (Shape{3, 1}));
  // Every term -inf gives -inf (not NaN from -inf - -inf); a +inf gives +inf.
  EXPECT_EQ(values(logsumexp(tensor({{-kInf, -kInf}, {1.0, kInf}}, kFloat64), 1)), (std::vector<double>{-kInf, kInf}));
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
  const Tensor s = sum(tensor({4.0}, kFloat64));
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
  EXPECT_TRUE(passes_gradcheck([dim = dim, keepdim = keepdim](const auto& in) { return std::get<0>(max(in[0], dim, keepdim)); }, {x}));
  EXPECT_TRUE(
      passes_gradcheck([dim = dim, keepdim = keepdim](const auto& in) { return logsumexp(in[0], dim, keepdim); }, {x}));
  EXPECT_TRUE(passes_gradcheck([dim = dim, keepdim = keepdim](const auto& in) { return std::get<0>(min(in[0], dim, keepdim)); }, {x}));
  for (bool unbiased : {true, false}) {
    const auto variance = [dim = dim, keepdim = keepdim, unbiased](const auto& in) { return var(in[0], dim, unbiased, keepdim); };
    const auto deviation = [dim = dim, keepdim = keepdim, unbiased](const auto& in) { return std(in[0], dim, unbiased, keepdim); };
    EXPECT_TRUE(passes_gradcheck(variance, {x})) << unbiased;
    EXPECT_TRUE(passes_gradcheck(deviation, {x})) << unbiased;
  }
  for (double p : {2.0, 1.0, 3.0, 1.5, 0.5, -1.0, kInf, -kInf})
    EXPECT_TRUE(passes_gradcheck([dim = dim, keepdim = keepdim, p](const auto& in) { return norm(in[0], p, dim, keepdim); }, {x}))
        << "p " << p;
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
  Tensor x = tensor({{0.0, std::log(3.0)}}, kFloat64).requires_grad_();
  logsumexp(x, 1).backward(tensor({2.0}, kFloat64));
  EXPECT_TRUE(all_close(x.grad(), tensor({{0.5, 1.5}}, kFloat64), 1e-15, 0));
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

// ---- var, std, max, min, argmax, argmin, norm, all, any against PyTorch -----------------------------

std::optional<std::int64_t> optional_dim(const testing::Json& args) {
  if (!args.contains("dim")) return std::nullopt;
  return args.at("dim").get<std::int64_t>();
}

// The xgrad call a differentiable math.json case of this family names. max/min along a dim give
// their values here; the indices are checked on their own.
Tensor call_fixture_op(const std::string& fn, const testing::Json& args, const Tensor& x) {
  const auto dim = optional_dim(args);
  const bool unbiased = args.value("unbiased", true), keepdim = args.value("keepdim", false);
  const Scalar p = args.contains("p") ? testing::golden_scalar(args.at("p")) : Scalar(2);
  if (fn == "var") return dim ? var(x, *dim, unbiased, keepdim) : var(x, unbiased);
  if (fn == "std") return dim ? std(x, *dim, unbiased, keepdim) : std(x, unbiased);
  if (fn == "max") return dim ? std::get<0>(max(x, *dim, keepdim)) : max(x);
  if (fn == "min") return dim ? std::get<0>(min(x, *dim, keepdim)) : min(x);
  if (fn == "norm") return dim ? norm(x, p, *dim, keepdim) : norm(x, p);
  throw Error("no xgrad call for fixture op " + fn);
}

class ReduceFixtures : public ::testing::TestWithParam<std::pair<std::string, std::size_t>> {};

TEST_P(ReduceFixtures, ValuesGradientsAndGradFnMatchPyTorch) {
  // Named copies rather than a structured binding: C++17 lambdas cannot capture one (clang).
  const std::string fn = GetParam().first;
  const std::size_t count = GetParam().second;
  const auto cases = testing::golden_cases("math.json", fn);
  ASSERT_EQ(cases.size(), count);  // float32 and float64 of each variant
  for (const auto& fixture : cases) {
    SCOPED_TRACE(fixture.at("name").get<std::string>());
    const testing::Json& args = fixture.at("args");
    EXPECT_TRUE(testing::matches_fixture(
        fixture, [&](const std::vector<Tensor>& in) { return call_fixture_op(fn, args, in[0]); }));
    if (fixture.contains("indices")) {
      const Tensor x = testing::golden_tensor(fixture.at("inputs")[0]);
      const std::int64_t dim = *optional_dim(args);
      const bool keepdim = args.value("keepdim", false);
      const Tensor indices = fn == "max" ? std::get<1>(max(x, dim, keepdim)) : std::get<1>(min(x, dim, keepdim));
      EXPECT_TRUE(all_close(indices, testing::golden_tensor(fixture.at("indices")), 0, 0));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(MathJson, ReduceFixtures,
                         ::testing::Values(std::pair{"var", 28u}, std::pair{"std", 28u}, std::pair{"max", 28u},
                                           std::pair{"min", 28u}, std::pair{"norm", 46u}));

// Cases without gradients: argmax/argmin (any dtype) and all/any.
class PlainReduceFixtures : public ::testing::TestWithParam<std::pair<std::string, std::size_t>> {};

TEST_P(PlainReduceFixtures, ValuesMatchPyTorch) {
  // Named copies rather than a structured binding: C++17 lambdas cannot capture one (clang).
  const std::string fn = GetParam().first;
  const std::size_t count = GetParam().second;
  const auto cases = testing::golden_cases("math.json", fn);
  ASSERT_EQ(cases.size(), count);
  for (const auto& fixture : cases) {
    SCOPED_TRACE(fixture.at("name").get<std::string>());
    const testing::Json& args = fixture.at("args");
    const Tensor x = testing::golden_tensor(fixture.at("inputs")[0]);
    const bool keepdim = args.value("keepdim", false);
    const Tensor out = fn == "argmax"   ? argmax(x, optional_dim(args), keepdim)
                       : fn == "argmin" ? argmin(x, optional_dim(args), keepdim)
                       : fn == "all"    ? all(x)
                                        : any(x);
    EXPECT_TRUE(all_close(out, testing::golden_tensor(fixture.at("output")), 0, 0));
  }
}

INSTANTIATE_TEST_SUITE_P(MathJson, PlainReduceFixtures,
                         ::testing::Values(std::pair{"argmax", 8u}, std::pair{"argmin", 8u}, std::pair{"all", 10u},
                                           std::pair{"any", 10u}));

TEST(Variance, ValuesByHand) {
  const Tensor x = tensor({{1.0, 2.0, 3.0, 4.0}, {2.0, 2.0, 2.0, 2.0}}, kFloat64);
  EXPECT_DOUBLE_EQ(var(x).item<double>(), 5.5 / 7.0);  // mean 2.25, squared deviations sum to 5.5
  EXPECT_EQ(values(var(x, 1)), (std::vector<double>{5.0 / 3.0, 0.0}));
  EXPECT_EQ(values(var(x, 1, false)), (std::vector<double>{1.25, 0.0}));
  EXPECT_EQ(var(x, 1, true, true).shape(), (Shape{2, 1}));
  EXPECT_TRUE(all_close(std(x, -1), tensor({std::sqrt(5.0 / 3.0), 0.0}, kFloat64), 1e-15, 0));
  EXPECT_EQ(var(x).shape(), Shape{});
  EXPECT_EQ(var(x.to(kFloat32), 0).dtype(), kFloat32);
  // A single element: unbiased divides 0 by 0 (NaN), biased gives 0; an empty tensor gives NaN.
  EXPECT_TRUE(std::isnan(var(tensor({5.0}, kFloat64)).item<double>()));
  EXPECT_EQ(var(tensor({5.0}, kFloat64), false).item<double>(), 0.0);
  EXPECT_TRUE(std::isnan(std(zeros({0}, kFloat64)).item<double>()));
}

TEST(Variance, AnIntegerDimReducesAlongIt) {
  // var(x, 1) means dim 1, as Python's x.var(1); a bool is the unbiased flag.
  const Tensor x = tensor({{1.0, 3.0}, {2.0, 6.0}}, kFloat64);
  EXPECT_EQ(values(var(x, 1)), (std::vector<double>{2.0, 8.0}));
  EXPECT_EQ(values(x.var(1)), (std::vector<double>{2.0, 8.0}));
  EXPECT_EQ(values(x.var(1, false)), (std::vector<double>{1.0, 4.0}));
  EXPECT_EQ(values(x.std(0, true, true)), (std::vector<double>{std::sqrt(0.5), std::sqrt(4.5)}));
  EXPECT_EQ(x.std(std::int64_t{0}, true, true).shape(), (Shape{1, 2}));
  EXPECT_DOUBLE_EQ(x.var(false).item<double>(), var(x, false).item<double>());
  EXPECT_DOUBLE_EQ(x.std().item<double>(), std(x).item<double>());
}

TEST(Variance, ConstantDataHasZeroStdGradientAndOneElementNaN) {
  Tensor x = tensor({{2.0, 2.0, 2.0}, {1.0, 2.0, 3.0}}, kFloat64).requires_grad_();
  const Tensor s = std(x, 1);
  EXPECT_STREQ(s.grad_fn()->name(), "StdBackward0");
  s.backward(tensor({1.0, 1.0}, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 0, -0.5, 0, 0.5}));
  Tensor single = tensor({{4.0}}, kFloat64).requires_grad_();
  var(single, 1).backward(tensor({1.0}, kFloat64));
  EXPECT_TRUE(std::isnan(values(single.grad())[0]));
  EXPECT_STREQ(var(x).grad_fn()->name(), "VarBackward0");
}

TEST(Extremes, WholeTensorMaxSharesTheGradientAmongTies) {
  Tensor x = tensor({{1.0, 3.0}, {3.0, 2.0}}, kFloat64).requires_grad_();
  const Tensor top = max(x);
  EXPECT_EQ(top.shape(), Shape{});
  EXPECT_EQ(top.item<double>(), 3.0);
  EXPECT_STREQ(top.grad_fn()->name(), "MaxBackward1");
  top.backward(tensor(4.0, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 2, 2, 0}));
  x.zero_grad();
  const Tensor bottom = min(x);
  EXPECT_STREQ(bottom.grad_fn()->name(), "MinBackward1");
  bottom.backward(tensor(4.0, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{4, 0, 0, 0}));
  // With NaNs the result is NaN and the NaNs share the gradient.
  const double nan = std::nan("");
  Tensor y = tensor({nan, 1.0, nan}, kFloat64).requires_grad_();
  const Tensor nan_top = max(y);
  EXPECT_TRUE(std::isnan(nan_top.item<double>()));
  nan_top.backward(tensor(1.0, kFloat64));
  EXPECT_EQ(values(y.grad()), (std::vector<double>{0.5, 0, 0.5}));
}

TEST(Extremes, AlongADimReturnValuesAndIndices) {
  Tensor x = tensor({{1.0, 5.0, 5.0}, {-2.0, -2.0, 0.0}}, kFloat64).requires_grad_();
  auto [top, where] = max(x, 1);
  EXPECT_EQ(values(top), (std::vector<double>{5, 0}));
  EXPECT_EQ(indices(where), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(where.dtype(), kInt64);
  EXPECT_FALSE(where.requires_grad());
  EXPECT_STREQ(top.grad_fn()->name(), "MaxBackward0");
  auto [bottom, bottom_where] = min(x, -1, true);
  EXPECT_EQ(bottom.shape(), (Shape{2, 1}));
  EXPECT_EQ(indices(bottom_where), (std::vector<std::int64_t>{0, 0}));
  EXPECT_STREQ(bottom.grad_fn()->name(), "MinBackward0");
  bottom.backward(tensor({{1.0}, {2.0}}, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 0, 0, 2, 0, 0}));  // the first minimum only
  Tensor values_out, indices_out;
  std::tie(values_out, indices_out) = x.max(0);
  EXPECT_EQ(indices(indices_out), (std::vector<std::int64_t>{0, 0, 0}));
  EXPECT_EQ(indices(std::get<1>(x.min(0, true))), (std::vector<std::int64_t>{1, 1, 1}));
  EXPECT_EQ(x.max().item<double>(), 5.0);
  EXPECT_EQ(x.min().item<double>(), -2.0);
}

TEST(Extremes, EveryDtypeHasAMaxAndMin) {
  EXPECT_EQ(max(tensor({3, -7, 2})).item<std::int64_t>(), 3);
  EXPECT_EQ(min(tensor({3, -7, 2})).item<std::int64_t>(), -7);
  EXPECT_EQ(max(tensor({false, true})).dtype(), kBool);
  EXPECT_TRUE(max(tensor({false, true})).item<bool>());
  EXPECT_EQ(min(ones({2}, kUInt8)).dtype(), kUInt8);
  EXPECT_EQ(indices(std::get<1>(max(tensor({{1, 9}, {8, 2}}), 0))), (std::vector<std::int64_t>{1, 0}));
}

TEST(Extremes, ArgminAndArgmaxWithoutADimIndexTheFlattenedTensor) {
  const Tensor x = tensor({{4.0, 1.0, 1.0}, {0.5, 9.0, 0.5}}, kFloat64);
  EXPECT_EQ(argmin(x).item<std::int64_t>(), 3);
  EXPECT_EQ(argmax(x).item<std::int64_t>(), 4);
  EXPECT_EQ(argmin(x).shape(), Shape{});
  EXPECT_EQ(argmin(x, std::nullopt, true).shape(), (Shape{1, 1}));
  EXPECT_EQ(indices(argmin(x, 1)), (std::vector<std::int64_t>{1, 0}));
  EXPECT_EQ(indices(x.argmin(0)), (std::vector<std::int64_t>{1, 0, 1}));
  EXPECT_EQ(x.argmin().item<std::int64_t>(), 3);
  EXPECT_EQ(x.argmax(std::nullopt, true).shape(), (Shape{1, 1}));
  EXPECT_EQ(x.argmin(1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(argmin(tensor({2.0, std::nan(""), 0.0}, kFloat64)).item<std::int64_t>(), 1);  // NaN counts as smallest
}

TEST(Norm, ValuesForEachP) {
  const Tensor x = tensor({{3.0, -4.0}, {0.0, 0.0}}, kFloat64);
  EXPECT_EQ(norm(x).item<double>(), 5.0);
  EXPECT_EQ(norm(x, 1).item<double>(), 7.0);
  EXPECT_EQ(norm(x, kInf).item<double>(), 4.0);
  EXPECT_EQ(norm(x, -kInf).item<double>(), 0.0);
  EXPECT_EQ(norm(x, 0).item<double>(), 2.0);  // the number of non-zero elements
  EXPECT_DOUBLE_EQ(norm(x, 3).item<double>(), std::cbrt(91.0));
  EXPECT_EQ(values(norm(x, 2, 1)), (std::vector<double>{5, 0}));
  EXPECT_EQ(norm(x, 2, 0, true).shape(), (Shape{1, 2}));
  EXPECT_EQ(x.norm().item<double>(), 5.0);
  EXPECT_EQ(values(x.norm(1, -1)), (std::vector<double>{7, 0}));
  EXPECT_EQ(norm(zeros({0})).item<float>(), 0.0f);
}

TEST(Norm, GradientsAtZeroFollowPyTorch) {
  // The 2-norm of zeros has gradient 0, not NaN; p = 0 has gradient 0 everywhere.
  Tensor zero = zeros({3}, kFloat64).requires_grad_();
  const Tensor n = norm(zero);
  EXPECT_STREQ(n.grad_fn()->name(), "NormBackward1");
  n.backward();
  EXPECT_EQ(values(zero.grad()), std::vector<double>(3, 0.0));
  Tensor x = tensor({2.0, -1.0, -2.0}, kFloat64).requires_grad_();
  norm(x, kInf).backward(tensor(1.0, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0.5, 0, -0.5}));  // ties share, with sign
  x.zero_grad();
  norm(x, 0).backward(tensor(1.0, kFloat64));
  EXPECT_EQ(values(x.grad()), std::vector<double>(3, 0.0));
  EXPECT_STREQ(norm(x, 1, 0).grad_fn()->name(), "NormBackward1");
}

TEST(Truth, AllAndAnyOnEveryDtype) {
  EXPECT_TRUE(all(tensor({1.0f, std::nanf("")})).item<bool>());
  EXPECT_FALSE(any(tensor({0.0, -0.0}, kFloat64)).item<bool>());
  EXPECT_EQ(all(tensor({1.0}, kFloat64)).dtype(), kBool);
  EXPECT_EQ(all(tensor({1.0}, kFloat64)).shape(), Shape{});
  EXPECT_FALSE(all(tensor({3, 0})).item<bool>());
  EXPECT_TRUE(any(tensor({false, true})).item<bool>());
  EXPECT_TRUE(all(zeros({0})).item<bool>());
  EXPECT_FALSE(any(zeros({0})).item<bool>());
  EXPECT_EQ(any(ones({2}, kUInt8)).dtype(), kUInt8);  // as PyTorch 1.13
  EXPECT_TRUE(ones({2}).all().item<bool>());
  EXPECT_FALSE(zeros({2}).any().item<bool>());
  EXPECT_FALSE(all(ones({2}).requires_grad_()).requires_grad());
}

TEST(ReduceGradients, NewWholeTensorReductions) {
  manual_seed(24);
  const Tensor x = leaf({3, 4});
  for (bool unbiased : {true, false}) {
    EXPECT_TRUE(passes_gradcheck([=](const auto& in) { return var(in[0], unbiased); }, {x}));
    EXPECT_TRUE(passes_gradcheck([=](const auto& in) { return std(in[0], unbiased); }, {x}));
  }
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return max(in[0]); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return min(in[0]); }, {x}));
  for (double p : {2.0, 1.0, 3.0, 1.5, 0.5, -1.0, kInf, -kInf})
    EXPECT_TRUE(passes_gradcheck([=](const auto& in) { return norm(in[0], p); }, {x})) << "p " << p;
  // Composed: a normalisation layer's (x - mean) / std.
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return (in[0] - mean(in[0], 1, true)) / std(in[0], 1, true, true); },
                               {x}));
}

TEST(ReduceErrors, NewReductionsNameOpDimAndShape) {
  const Tensor x = ones({2, 3});
  EXPECT_TRUE(throws_error_containing([&] { var(x, 2); }, {"var", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { std(x, -3); }, {"std", "dim -3", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { min(x, 2); }, {"min", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { argmin(x, 4); }, {"argmin", "dim 4", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { norm(x, 2, 2); }, {"norm", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { x.var(5); }, {"var", "dim 5", "[2, 3]"}));
}

TEST(ReduceErrors, EmptyInputsHaveNoExtremes) {
  const Tensor empty = zeros({2, 0});
  EXPECT_TRUE(throws_error_containing([&] { max(empty); }, {"max", "empty", "[2, 0]"}));
  EXPECT_TRUE(throws_error_containing([&] { min(empty); }, {"min", "empty", "[2, 0]"}));
  EXPECT_TRUE(throws_error_containing([&] { min(empty, 1); }, {"min", "size 0", "[2, 0]"}));
  EXPECT_TRUE(throws_error_containing([&] { argmin(empty); }, {"argmin", "empty", "[2, 0]"}));
  EXPECT_TRUE(throws_error_containing([&] { argmax(empty); }, {"argmax", "empty", "[2, 0]"}));
  EXPECT_TRUE(throws_error_containing([&] { argmin(empty, -1); }, {"argmin", "size 0", "[2, 0]"}));
}

TEST(ReduceErrors, FloatingOnlyNewReductionsRejectOtherDtypes) {
  for (Dtype dtype : {kInt64, kBool, kUInt8}) {
    const Tensor t = ones({2}, dtype);
    const std::string name = dtype_name(dtype);
    EXPECT_TRUE(throws_error_containing([&] { var(t); }, {"var", name}));
    EXPECT_TRUE(throws_error_containing([&] { std(t, 0); }, {"std", name}));
    EXPECT_TRUE(throws_error_containing([&] { norm(t); }, {"norm", name}));
    EXPECT_TRUE(throws_error_containing([&] { norm(t, 1, 0); }, {"norm", name}));
  }
  EXPECT_TRUE(throws_error_containing([] { norm(ones({2}), std::nan("")); }, {"norm", "nan"}));
}

TEST(ReduceErrors, NewReductionsRejectUndefinedInputs) {
  EXPECT_TRUE(throws_error_containing([] { var(Tensor()); }, {"var", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { max(Tensor()); }, {"max", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { min(Tensor(), 0); }, {"min", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { argmin(Tensor()); }, {"argmin", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { norm(Tensor()); }, {"norm", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { all(Tensor()); }, {"all", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { any(Tensor()); }, {"any", "undefined"}));
}

// ---- second order (create_graph) ------------------------------------------------------------------
//
// differentiates_twice: gradgradcheck, and create_graph's first derivatives equal to the fast path's.
// Sums, means and the values of max/min are linear in x: squaring them makes the second derivative
// go through their recorded backward.

Tensor squared(const Tensor& t) { return t * t; }

TEST(ReduceSecondOrder, WholeTensor) {
  manual_seed(70);
  const Tensor x = leaf({3, 4});
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(sum(in[0])); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(mean(in[0])); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return mean(in[0] * in[0] * in[0]); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(max(in[0])); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(min(in[0])); }, {x}));
  for (bool unbiased : {true, false}) {
    EXPECT_TRUE(differentiates_twice([=](const auto& in) { return var(in[0], unbiased); }, {x})) << unbiased;
    EXPECT_TRUE(differentiates_twice([=](const auto& in) { return std(in[0], unbiased); }, {x})) << unbiased;
  }
  for (double p : {2.0, 1.0, 3.0, 1.5, 0.5, -1.0, kInf, -kInf, 0.0})
    EXPECT_TRUE(differentiates_twice([=](const auto& in) { return squared(norm(in[0], p)); }, {x})) << "p " << p;
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(sum(in[0])); }, {leaf({})}));
  // A normalisation layer's (x - mean) / std, as a gradient penalty would differentiate it again.
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return (in[0] - mean(in[0], 1, true)) / std(in[0], 1, true, true); },
                                   {x}));
}

class DimSecondOrder : public ::testing::TestWithParam<std::tuple<std::int64_t, bool>> {};

TEST_P(DimSecondOrder, AlongEachDimOfA3DInput) {
  const auto [dim, keepdim] = GetParam();
  manual_seed(71);
  const Tensor x = leaf({2, 3, 4});
  const auto along = [dim = dim, keepdim = keepdim](std::function<Tensor(const Tensor&, std::int64_t, bool)> op) {
    return [=](const std::vector<Tensor>& in) { return op(in[0], dim, keepdim); };
  };
  EXPECT_TRUE(differentiates_twice(along([](const Tensor& t, std::int64_t d, bool k) { return squared(sum(t, d, k)); }), {x}));
  EXPECT_TRUE(differentiates_twice(along([](const Tensor& t, std::int64_t d, bool k) { return squared(mean(t, d, k)); }), {x}));
  EXPECT_TRUE(differentiates_twice(
      along([](const Tensor& t, std::int64_t d, bool k) { return squared(std::get<0>(max(t, d, k))); }), {x}));
  EXPECT_TRUE(differentiates_twice(
      along([](const Tensor& t, std::int64_t d, bool k) { return squared(std::get<0>(min(t, d, k))); }), {x}));
  EXPECT_TRUE(differentiates_twice(along([](const Tensor& t, std::int64_t d, bool k) { return logsumexp(t, d, k); }), {x}));
  for (bool unbiased : {true, false}) {
    EXPECT_TRUE(differentiates_twice(
        along([=](const Tensor& t, std::int64_t d, bool k) { return var(t, d, unbiased, k); }), {x})) << unbiased;
    EXPECT_TRUE(differentiates_twice(
        along([=](const Tensor& t, std::int64_t d, bool k) { return std(t, d, unbiased, k); }), {x})) << unbiased;
  }
  for (double p : {2.0, 1.0, 3.0, 1.5, 0.5, -1.0, kInf, -kInf})
    EXPECT_TRUE(differentiates_twice(
        along([=](const Tensor& t, std::int64_t d, bool k) { return squared(norm(t, p, d, k)); }), {x})) << "p " << p;
}

INSTANTIATE_TEST_SUITE_P(DimsAndKeepdim, DimSecondOrder,
                         ::testing::Combine(::testing::Values(0, 1, 2, -1, -3), ::testing::Bool()));

TEST(ReduceSecondOrder, SecondDerivativesByHand) {
  // var(x) = sum((x - mean)^2) / (n - 1): its Hessian is 2 (I - 1/n) / (n - 1), so the Hessian times
  // a vector v is 2 (v - mean(v)) / (n - 1).
  const Tensor x = tensor({0.5, -1.0, 2.0, 0.25}, kFloat64).requires_grad_();
  const Tensor v = tensor({1.0, 2.0, -1.0, 0.5}, kFloat64);
  const Tensor first = autograd::grad({var(x)}, {x}, {}, true, true)[0];
  const Tensor hvp = autograd::grad({(first * v).sum()}, {x})[0];
  EXPECT_TRUE(all_close(hvp, (v - mean(v)) * (2.0 / 3.0), 1e-15, 1e-15));
  // logsumexp: the Hessian is diag(s) - s s^T with s = softmax(x).
  const Tensor s = exp(x - logsumexp(x, 0)).detach();
  const Tensor lse_first = autograd::grad({logsumexp(x, 0)}, {x}, {}, true, true)[0];
  const Tensor lse_hvp = autograd::grad({(lse_first * v).sum()}, {x})[0];
  EXPECT_TRUE(all_close(lse_hvp, s * v - s * sum(s * v), 1e-14, 1e-15));
  // The whole max: the gradient goes to the largest element only and is constant, so the Hessian of
  // max(x)^2 is 2 e e^T.
  const Tensor max_first = autograd::grad({squared(max(x))}, {x}, {}, true, true)[0];
  EXPECT_EQ(values(autograd::grad({(max_first * v).sum()}, {x})[0]), (std::vector<double>{0, 0, -2, 0}));
}

TEST(ReduceSecondOrder, ConstantSlicesGiveZerosNotNaN) {
  // The std of a constant slice is 0; its gradient is 0 (as PyTorch's), and so is the second
  // derivative (where PyTorch's formula divides 0 by 0).
  const Tensor x = tensor({{1.0, 1.0, 1.0}, {1.0, 2.0, 4.0}}, kFloat64).requires_grad_();
  const Tensor first = autograd::grad({std(x, 1).sum()}, {x}, {}, true, true)[0];
  const Tensor second = autograd::grad({first.sum()}, {x})[0];
  for (double value : values(second)) EXPECT_TRUE(std::isfinite(value));
  EXPECT_EQ(values(select(second, 0, 0)), (std::vector<double>{0, 0, 0}));
  // The same for the 2-norm of zeros, and for p < 1 at zero elements.
  const Tensor zero = zeros({3}, kFloat64).requires_grad_();
  const Tensor norm_first = autograd::grad({norm(zero)}, {zero}, {}, true, true)[0];
  EXPECT_EQ(values(norm_first), std::vector<double>(3, 0.0));
  for (double value : values(autograd::grad({norm_first.sum()}, {zero}, {}, std::nullopt, false, true)[0]))
    EXPECT_EQ(value, 0.0);
  const Tensor some_zero = tensor({0.0, 1.0, -2.0}, kFloat64).requires_grad_();
  const Tensor half_first = autograd::grad({norm(some_zero, 0.5)}, {some_zero}, {}, true, true)[0];
  for (double value : values(autograd::grad({half_first.sum()}, {some_zero})[0])) EXPECT_TRUE(std::isfinite(value));
}

}  // namespace
}  // namespace xgrad
