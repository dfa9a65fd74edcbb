// Elementwise ops: broadcasting arithmetic, scalar forms, pointwise functions and sum_to, checked
// by hand-computed values, float64 gradcheck, PyTorch's sigmoid fixtures and their error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <xgrad/ops/elementwise_impl.hpp>

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

// Values in [0.5, 1.5): away from the poles and kinks of log, sqrt, pow and division.
Tensor positive_leaf(const Shape& shape) { return (rand(shape, kFloat64) + 0.5).detach().requires_grad_(); }


// ---- values ------------------------------------------------------------------------------------

TEST(Elementwise, BroadcastColumnWithRow) {
  const Tensor column = tensor({{1.0}, {2.0}, {3.0}}, kFloat64);          // [3, 1]
  const Tensor row = tensor({{10.0, 20.0, 30.0, 40.0}}, kFloat64);         // [1, 4]
  const Tensor sum = column + row;
  EXPECT_EQ(sum.shape(), (Shape{3, 4}));
  EXPECT_EQ(values(sum), (std::vector<double>{11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43}));
  EXPECT_EQ(values(row - column), (std::vector<double>{9, 19, 29, 39, 8, 18, 28, 38, 7, 17, 27, 37}));
}

TEST(Elementwise, BroadcastRowVectorOverMatrix) {
  const Tensor m = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64);
  const Tensor v = tensor({2.0, 4.0, 8.0}, kFloat64);
  EXPECT_EQ(values(m * v), (std::vector<double>{2, 8, 24, 8, 20, 48}));
  EXPECT_EQ(values(m / v), (std::vector<double>{0.5, 0.5, 0.375, 2, 1.25, 0.75}));
  EXPECT_EQ(values(v * m), (std::vector<double>{2, 8, 24, 8, 20, 48}));
  // A column [2, 1] broadcasts along the rows.
  EXPECT_EQ(values(m - tensor({{1.0}, {4.0}}, kFloat64)), (std::vector<double>{0, 1, 2, 0, 1, 2}));
}

TEST(Elementwise, BroadcastHigherRankAndZeroDim) {
  const Tensor a = arange(6, kFloat64);
  const Tensor block = reshape(a, {2, 1, 3});
  const Tensor col = reshape(tensor({0.0, 100.0}, kFloat64), {2, 1});
  const Tensor out = block + col;  // [2, 1, 3] + [2, 1] -> [2, 2, 3]
  EXPECT_EQ(out.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(values(out), (std::vector<double>{0, 1, 2, 100, 101, 102, 3, 4, 5, 103, 104, 105}));
  const Tensor scalar = sum(tensor({2.0}, kFloat64));  // shape {}
  EXPECT_EQ(values(a * scalar), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ((scalar + scalar).shape(), Shape{});
}

// Arguments past 2^20 * pi/2 take the long argument reduction of the vectorised sin and cos (the
// engine fuzzer reached it; cmake/sanitizer-ignorelist.txt says why its shift is not reported):
// the values are still libm's.
TEST(Elementwise, SinAndCosOfLargeArgumentsAreLibmsValues) {
  const std::vector<double> x = {1.0e7, -3.0e9, 1.0e22, 1.0e300, 7.0, -2.5e6, 4.0e15, 123456789.0};
  const Tensor t = tensor(x, kFloat64);
  const std::vector<double> sines = sin(t).to_vector<double>(), cosines = cos(t).to_vector<double>();
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(sines[i], std::sin(x[i]), 1e-15) << "sin(" << x[i] << ")";
    EXPECT_NEAR(cosines[i], std::cos(x[i]), 1e-15) << "cos(" << x[i] << ")";
  }
}

TEST(Elementwise, ScalarFormsKeepTheTensorsDtype) {
  const Tensor x = tensor({1.0f, 2.0f, 4.0f});
  EXPECT_EQ((x + 1.0).dtype(), kFloat32);
  EXPECT_EQ((x + 1.0).to_vector<float>(), (std::vector<float>{2, 3, 5}));
  EXPECT_EQ((1.0 + x).to_vector<float>(), (std::vector<float>{2, 3, 5}));
  EXPECT_EQ((x - 1.0).to_vector<float>(), (std::vector<float>{0, 1, 3}));
  EXPECT_EQ((1.0 - x).to_vector<float>(), (std::vector<float>{0, -1, -3}));
  EXPECT_EQ((x * 0.5).to_vector<float>(), (std::vector<float>{0.5f, 1, 2}));
  EXPECT_EQ((3.0 * x).to_vector<float>(), (std::vector<float>{3, 6, 12}));
  EXPECT_EQ((x / 2.0).to_vector<float>(), (std::vector<float>{0.5f, 1, 2}));
  EXPECT_EQ((4.0 / x).to_vector<float>(), (std::vector<float>{4, 2, 1}));
  EXPECT_EQ((-x).to_vector<float>(), (std::vector<float>{-1, -2, -4}));
}

// torch.sign and torch.sgn: 0 at NaN and at 0; the gradient is a defined zero (SignBackward0).
TEST(Elementwise, SignIsAStepWithAZeroGradient) {
  const double nan = std::nan("");
  const Tensor x = tensor({nan, -2.0, 0.0, 3.0}, TensorOptions(kFloat64).requires_grad(true));
  const Tensor s = sign(x);
  EXPECT_EQ(values(s.detach().slice(0, 1)), (std::vector<double>{-1, 0, 1}));
  EXPECT_EQ(values(s.detach()).front(), 0.0);
  EXPECT_STREQ(s.grad_fn()->name(), "SignBackward0");
  EXPECT_STREQ(x.sgn().grad_fn()->name(), "SgnBackward0");
  s.sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 0, 0}));
}

TEST(Elementwise, PointwiseFunctionValues) {
  const Tensor x = tensor({-2.0, 0.0, 0.5, 3.0}, kFloat64);
  EXPECT_EQ(values(relu(x)), (std::vector<double>{0, 0, 0.5, 3}));
  EXPECT_EQ(values(abs(x)), (std::vector<double>{2, 0, 0.5, 3}));
  EXPECT_EQ(values(pow(x, 2.0)), (std::vector<double>{4, 0, 0.25, 9}));
  EXPECT_TRUE(all_close(exp(x), tensor({std::exp(-2.0), 1.0, std::exp(0.5), std::exp(3.0)}, kFloat64), 1e-15, 0));
  EXPECT_TRUE(all_close(tanh(x), tensor({std::tanh(-2.0), 0.0, std::tanh(0.5), std::tanh(3.0)}, kFloat64), 1e-15, 0));
  EXPECT_TRUE(all_close(sigmoid(x), tensor({1 / (1 + std::exp(2.0)), 0.5, 1 / (1 + std::exp(-0.5)), 1 / (1 + std::exp(-3.0))}, kFloat64),
                        1e-15, 0));
  const Tensor p = tensor({0.25, 1.0, 4.0}, kFloat64);
  EXPECT_TRUE(all_close(log(p), tensor({std::log(0.25), 0.0, std::log(4.0)}, kFloat64), 1e-15, 0));
  EXPECT_TRUE(all_close(log1p(tensor({1e-10, 1.0}, kFloat64)), tensor({1e-10 - 5e-21, std::log(2.0)}, kFloat64), 1e-14, 0));
  EXPECT_EQ(values(sqrt(p)), (std::vector<double>{0.5, 1, 2}));
  EXPECT_EQ(values(pow(p, 0.5)), (std::vector<double>{0.5, 1, 2}));
  EXPECT_EQ(values(pow(p, -1.0)), (std::vector<double>{4, 1, 0.25}));
}

TEST(Elementwise, LogFollowsIeeeAtZeroAndBelow) {
  const std::vector<double> out = values(log(tensor({0.0, -1.0}, kFloat64)));
  EXPECT_EQ(out[0], -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(out[1]));
}

TEST(Elementwise, ReluKeepsNaN) {
  EXPECT_TRUE(std::isnan(relu(tensor({std::nan("")})).item<double>()));
}

TEST(Elementwise, Int64ArithmeticWithoutGrad) {
  const Tensor a = tensor({{1, 2}, {3, 4}});
  const Tensor b = tensor({10, 20});
  EXPECT_EQ((a + b).dtype(), kInt64);
  EXPECT_EQ((a + b).to_vector<std::int64_t>(), (std::vector<std::int64_t>{11, 22, 13, 24}));
  EXPECT_EQ((a - b).to_vector<std::int64_t>(), (std::vector<std::int64_t>{-9, -18, -7, -16}));
  EXPECT_EQ((a * b).to_vector<std::int64_t>(), (std::vector<std::int64_t>{10, 40, 30, 80}));
  EXPECT_EQ((a * 3.0).to_vector<std::int64_t>(), (std::vector<std::int64_t>{3, 6, 9, 12}));
  EXPECT_EQ((-b).to_vector<std::int64_t>(), (std::vector<std::int64_t>{-10, -20}));
}

// ---- sigmoid against PyTorch ----------------------------------------------------------------------

TEST(Elementwise, SigmoidMatchesPyTorchFixtures) {
  const auto cases = testing::golden_cases("activations.json", "sigmoid");
  ASSERT_EQ(cases.size(), 4u);  // two shapes, float32 and float64
  for (const auto& fixture : cases) {
    SCOPED_TRACE(fixture.at("name").get<std::string>());
    Tensor input = testing::golden_tensor(fixture.at("input")).requires_grad_();
    const Tensor out = sigmoid(input);
    EXPECT_TRUE(testing::matches_golden(out, testing::golden_tensor(fixture.at("output"))));
    out.backward(testing::golden_tensor(fixture.at("upstream")));
    EXPECT_TRUE(testing::matches_golden(input.grad(), testing::golden_tensor(fixture.at("grad_input"))));
  }
}

TEST(Elementwise, SigmoidSaturatesWithoutOverflow) {
  for (Dtype dtype : {kFloat32, kFloat64}) {
    Tensor x = to_dtype(tensor({-1e4, -50.0, 50.0, 1e4}, kFloat64), dtype).requires_grad_();
    const Tensor y = to_dtype(sigmoid(x), kFloat64);
    const std::vector<double> out = values(y);
    EXPECT_EQ(out[0], 0.0);
    EXPECT_GT(out[1], 0.0);  // 1.9e-22 in float64, still a normal float32
    EXPECT_EQ(out[3], 1.0);
    sum(y).backward();
    for (double g : values(to_dtype(x.grad(), kFloat64))) EXPECT_TRUE(std::isfinite(g));
  }
}

// ---- gradients ----------------------------------------------------------------------------------

struct ShapePair {
  Shape a, b;
};

class BroadcastGradients : public ::testing::TestWithParam<ShapePair> {};

TEST_P(BroadcastGradients, AddSubMulDiv) {
  const ShapePair shapes = GetParam();
  manual_seed(7);
  const Tensor a = leaf(shapes.a), b = leaf(shapes.b), pb = positive_leaf(shapes.b), pa = positive_leaf(shapes.a);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] + in[1]; }, {a, b}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] - in[1]; }, {a, b}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] * in[1]; }, {a, b}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] / in[1]; }, {a, pb}));
  // The other way round too: the broadcast operand first.
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[1] - in[0]; }, {a, b}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[1] / in[0]; }, {pa, b}));
}

INSTANTIATE_TEST_SUITE_P(Shapes, BroadcastGradients,
                         ::testing::Values(ShapePair{{2, 3}, {2, 3}}, ShapePair{{3, 1}, {1, 4}},
                                           ShapePair{{2, 3}, {3}}, ShapePair{{2, 3}, {1, 3}},
                                           ShapePair{{2, 3}, {2, 1}}, ShapePair{{2, 3}, {}},
                                           ShapePair{{2, 1, 3}, {4, 1}}, ShapePair{{2, 3, 4}, {3, 1}}));

TEST(Elementwise, GradientWhenOnlyOneSideRequiresGrad) {
  manual_seed(8);
  const Tensor a = leaf({2, 3});
  const Tensor constant = randn({3}, kFloat64);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] * in[1]; }, {a, constant}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[1] / (in[0] * in[0] + 1.0); }, {a, constant}));
}

TEST(Elementwise, SameTensorOnBothSidesAccumulates) {
  Tensor x = tensor({3.0, -2.0}, kFloat64).requires_grad_();
  sum(x * x + x).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{7, -3}));  // 2x + 1
  manual_seed(9);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] * in[0] / (in[0] + 3.0); }, {positive_leaf({4})}));
}

TEST(Elementwise, ScalarFormGradients) {
  manual_seed(10);
  const Tensor x = leaf({2, 3}), p = positive_leaf({2, 3});
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] + 2.5; }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return 2.5 + in[0]; }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] - 2.5; }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return 2.5 - in[0]; }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] * -1.5; }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return -1.5 * in[0]; }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0] / 4.0; }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return 3.0 / in[0]; }, {p}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return -in[0]; }, {x}));
}

TEST(Elementwise, PointwiseGradients) {
  manual_seed(11);
  const Tensor x = leaf({3, 4}), p = positive_leaf({3, 4});
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return relu(in[0]); }, {x}));
  for (double exponent : {2.0, 3.0, 1.0, 0.5, -1.5, 0.0})
    EXPECT_TRUE(passes_gradcheck([exponent](const auto& in) { return pow(in[0], exponent); }, {p})) << exponent;
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return pow(in[0], 3.0); }, {x}));
}

TEST(Elementwise, KinksTakePyTorchsOneSidedGradient) {
  // relu and abs have gradient 0 at exactly 0; pow with exponent 0 has gradient 0 even at 0.
  Tensor x = tensor({-1.0, 0.0, 2.0}, kFloat64).requires_grad_();
  sum(relu(x)).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 1}));
  x.zero_grad();
  sum(abs(x)).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{-1, 0, 1}));
  x.zero_grad();
  sum(pow(x, 0.0)).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 0}));
}

// relu's backward writes its result into the incoming gradient only when nothing else holds it: the
// user's upstream gradient and a retained grad() keep their values.
TEST(Elementwise, ReluBackwardWritesOnlyIntoGradientsNothingElseHolds) {
  const Tensor x = tensor({-1.0, 2.0, -3.0, 4.0}, kFloat64).requires_grad_();
  const Tensor upstream = tensor({1.0, 1.0, 1.0, 1.0}, kFloat64);
  relu(x).backward(upstream);
  EXPECT_EQ(values(upstream), (std::vector<double>{1, 1, 1, 1}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 1, 0, 1}));
  x.zero_grad();
  Tensor y = relu(x * 1.0);
  y.retain_grad();
  (y * 2.0).backward(upstream);
  EXPECT_EQ(values(y.grad()), (std::vector<double>{2, 2, 2, 2}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 2, 0, 2}));
  x.zero_grad();
  (relu(x) * 3.0).backward(upstream);  // mul's gradient is handed over unshared
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 3, 0, 3}));
}

TEST(Elementwise, ChainedOpsBackpropagate) {
  manual_seed(12);
  const Tensor w = leaf({3, 1}), b = leaf({4}), x = leaf({1, 4});
  EXPECT_TRUE(passes_gradcheck(
      [](const auto& in) { return sigmoid(tanh(in[0] * in[2] + in[1]) * 2.0 - 0.5) / (exp(in[1]) + 1.0); }, {w, b, x}));
}

TEST(Elementwise, Float32GradientsStayFloat32) {
  Tensor a = ones({2, 3}).requires_grad_();
  Tensor b = ones({3}).requires_grad_();
  sum(a * b + sigmoid(b)).backward();
  EXPECT_EQ(a.grad().dtype(), kFloat32);
  EXPECT_EQ(b.grad().shape(), (Shape{3}));
  EXPECT_EQ(b.grad().dtype(), kFloat32);
}

TEST(Elementwise, NoGraphUnderNoGradGuard) {
  Tensor a = ones({2}).requires_grad_();
  NoGradGuard guard;
  EXPECT_FALSE((a * 2.0 + a).requires_grad());
}

// ---- sum_to -----------------------------------------------------------------------------------------

TEST(SumTo, ReducesTheBroadcastDims) {
  const Tensor g = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64);
  EXPECT_EQ(values(sum_to(g, {3})), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(sum_to(g, {1, 3}).shape(), (Shape{1, 3}));
  EXPECT_EQ(values(sum_to(g, {1, 3})), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(values(sum_to(g, {2, 1})), (std::vector<double>{6, 15}));
  EXPECT_EQ(values(sum_to(g, {1})), (std::vector<double>{21}));
  EXPECT_EQ(sum_to(g, {}).shape(), Shape{});
  EXPECT_EQ(sum_to(g, {}).item<double>(), 21.0);
  const Tensor cube = reshape(arange(24, kFloat64), {2, 3, 4});
  // [2, 3, 4] -> [3, 1]: sum over dims 0 and 2.
  EXPECT_EQ(values(sum_to(cube, {3, 1})), (std::vector<double>{60, 92, 124}));
  // [2, 3, 4] -> [2, 1, 4]: sum over the middle dim only.
  EXPECT_EQ(values(sum_to(cube, {2, 1, 4})), (std::vector<double>{12, 15, 18, 21, 48, 51, 54, 57}));
}

TEST(SumTo, SameShapeReturnsTheGradientItself) {
  const Tensor g = ones({2, 3});
  const Tensor same = sum_to(g, {2, 3});
  EXPECT_EQ(same.data<float>(), g.data<float>());
}

TEST(SumTo, IsDifferentiable) {
  manual_seed(13);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return sum_to(in[0], {3, 1}); }, {leaf({2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return sum_to(in[0], {4}); }, {leaf({2, 3, 4})}));
}

// ---- errors -------------------------------------------------------------------------------------------

TEST(ElementwiseErrors, NonBroadcastableShapesNameOpAndShapes) {
  const Tensor a = ones({2, 3}), b = ones({4}), c = ones({3, 2});
  EXPECT_TRUE(throws_error_containing([&] { a + b; }, {"add", "[2, 3]", "[4]", "broadcast"}));
  EXPECT_TRUE(throws_error_containing([&] { a - c; }, {"sub", "[2, 3]", "[3, 2]"}));
  EXPECT_TRUE(throws_error_containing([&] { a * c; }, {"mul", "[2, 3]", "[3, 2]"}));
  EXPECT_TRUE(throws_error_containing([&] { b / a; }, {"div", "[4]", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([] { broadcast_shapes({5, 2}, {3, 1}, "my_op"); }, {"my_op", "[5, 2]", "[3, 1]"}));
  EXPECT_EQ(broadcast_shapes({5, 1}, {3}, "my_op"), (Shape{5, 3}));
}

TEST(ElementwiseErrors, MixedFloatDtypesNameBoth) {
  const Tensor f32 = ones({2}), f64 = ones({2}, kFloat64);
  EXPECT_TRUE(throws_error_containing([&] { f32 + f64; }, {"add", "float32", "float64"}));
  EXPECT_TRUE(throws_error_containing([&] { f64 * f32; }, {"mul", "float64", "float32"}));
  EXPECT_TRUE(throws_error_containing([&] { f32 / f64; }, {"div", "float32", "float64"}));
  EXPECT_TRUE(throws_error_containing([&] { f64 - ones({2}, kInt64); }, {"sub", "float64", "int64"}));
}

TEST(ElementwiseErrors, FloatingFunctionsRejectInt64) {
  const Tensor labels = tensor({1, 2});
  EXPECT_TRUE(throws_error_containing([&] { exp(labels); }, {"exp", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { sigmoid(labels); }, {"sigmoid", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { pow(labels, 2.0); }, {"pow", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { labels / labels; }, {"div", "int64", "[2]"}));
  EXPECT_TRUE(throws_error_containing([&] { labels / 2.0; }, {"div", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { labels * 2.5; }, {"mul", "int64", "2.5"}));
}

TEST(ElementwiseErrors, SumToRejectsAShapeThatDoesNotBroadcast) {
  const Tensor g = ones({2, 3});
  EXPECT_TRUE(throws_error_containing([&] { sum_to(g, {2}); }, {"sum_to", "[2]", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { sum_to(g, {1, 2, 3}); }, {"sum_to", "[1, 2, 3]", "[2, 3]"}));
}

TEST(ElementwiseErrors, UndefinedOperandIsAnError) {
  EXPECT_TRUE(throws_error_containing([] { Tensor() + ones({1}); }, {"add", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { relu(Tensor()); }, {"relu", "undefined"}));
}

TEST(ElementwiseErrors, NextOpWorksAfterAnError) {
  Tensor a = ones({2, 3}).requires_grad_();
  EXPECT_THROW(a + ones({4}), Error);
  const Tensor out = a * ones({3});
  sum(out).backward();
  EXPECT_EQ(a.grad().to_vector<float>(), std::vector<float>(6, 1.0f));
}

// ---- every pointwise function, from ops/elementwise.cpp's one table ------------------------------
// A function added to the table is checked here with no further line: PyTorch's values, gradients
// and node name (make_golden_math.py must make its fixture), float64 gradcheck and gradgradcheck
// with random upstream gradients on inputs inside its domain, both backward paths agreeing, and
// integer and storage dtypes rejected with the op's name.

class PointwiseFunctions : public ::testing::TestWithParam<PointwiseFunction> {};

TEST_P(PointwiseFunctions, MatchPyTorchDifferentiateTwiceAndRejectOtherDtypes) {
  const PointwiseFunction f = GetParam();
  const Fn call = [&f](const std::vector<Tensor>& in) { return f.function(in[0]); };
  const auto cases = testing::golden_cases("math.json", f.name);
  ASSERT_GE(cases.size(), 4u) << "make_golden_math.py has no fixture for " << f.name;
  for (const auto& fixture : cases) {
    SCOPED_TRACE(fixture.at("name").get<std::string>());
    EXPECT_TRUE(testing::matches_fixture(fixture, call));
  }
  manual_seed(17);
  const Tensor x = (rand({3, 4}, kFloat64) * (f.high - f.low) + f.low).requires_grad_();
  EXPECT_TRUE(passes_gradcheck(call, {x}));
  EXPECT_TRUE(differentiates_twice(call, {x}));
  for (Dtype other : {kInt64, kBool, kUInt8})
    EXPECT_TRUE(throws_error_containing([&] { f.function(ones({2}, other)); }, {f.name, dtype_name(other)}));
}

INSTANTIATE_TEST_SUITE_P(Table, PointwiseFunctions, ::testing::ValuesIn(pointwise_functions()),
                         [](const ::testing::TestParamInfo<PointwiseFunction>& info) { return std::string(info.param.name); });

// ---- clamp, maximum, minimum, outer ------------------------------------------------------------

std::optional<Scalar> bound(const testing::Json& args, const char* key) {
  if (!args.contains(key)) return std::nullopt;
  return testing::golden_scalar(args.at(key));
}

// The xgrad call a math.json case of this family names.
Tensor call_fixture_op(const std::string& fn, const testing::Json& args, const std::vector<Tensor>& in) {
  if (fn == "clamp") return clamp(in[0], bound(args, "min"), bound(args, "max"));
  if (fn == "clamp_min") return clamp_min(in[0], *bound(args, "min"));
  if (fn == "clamp_max") return clamp_max(in[0], *bound(args, "max"));
  if (fn == "maximum") return maximum(in[0], in[1]);
  if (fn == "minimum") return minimum(in[0], in[1]);
  if (fn == "outer") return outer(in[0], in[1]);
  throw Error("no xgrad call for fixture op " + fn);
}

class ElementwiseFixtures : public ::testing::TestWithParam<std::pair<std::string, std::size_t>> {};

TEST_P(ElementwiseFixtures, ValuesGradientsAndGradFnMatchPyTorch) {
  // Named copies rather than a structured binding: C++17 lambdas cannot capture one (clang).
  const std::string fn = GetParam().first;
  const std::size_t count = GetParam().second;
  const auto cases = testing::golden_cases("math.json", fn);
  ASSERT_EQ(cases.size(), count);  // float32 and float64 of each variant
  for (const auto& fixture : cases) {
    SCOPED_TRACE(fixture.at("name").get<std::string>());
    EXPECT_TRUE(testing::matches_fixture(
        fixture, [&](const std::vector<Tensor>& in) { return call_fixture_op(fn, fixture.at("args"), in); }));
  }
}

INSTANTIATE_TEST_SUITE_P(MathJson, ElementwiseFixtures,
                         ::testing::Values(std::pair{"clamp", 18u},
                                           std::pair{"clamp_min", 4u}, std::pair{"clamp_max", 4u},
                                           std::pair{"maximum", 8u}, std::pair{"minimum", 8u},
                                           std::pair{"outer", 4u}));

TEST(Clamp, FollowsPyTorchAtNaNAndCrossedBounds) {
  const double nan = std::nan("");
  const Tensor x = tensor({-2.0, -1.0, 0.0, 1.0, 2.0, nan}, kFloat64);
  const std::vector<double> clamped = values(clamp(x, -1, 1));
  EXPECT_EQ(std::vector<double>(clamped.begin(), clamped.end() - 1), (std::vector<double>{-1, -1, 0, 1, 1}));
  EXPECT_TRUE(std::isnan(clamped.back()));  // a NaN element passes through
  // min > max: every element becomes max, as PyTorch's min(max(x, min), max).
  const std::vector<double> crossed = values(clamp(x, 2.0, 1.0));
  EXPECT_EQ(std::vector<double>(crossed.begin(), crossed.end() - 1), std::vector<double>(5, 1.0));
  // A NaN bound makes every element NaN.
  for (double v : values(clamp(x, nan, 1.0))) EXPECT_TRUE(std::isnan(v));
  EXPECT_EQ(values(clamp(x, std::nullopt, 0.5)).front(), -2.0);
  EXPECT_EQ(values(clamp_min(x, 0.5)).front(), 0.5);
  EXPECT_TRUE(std::isnan(values(clamp_max(x, 0.5)).back()));
}

TEST(Clamp, GradientPassesOnBothBoundsInclusive) {
  Tensor x = tensor({-2.0, -1.0, 0.0, 1.0, 2.0, std::nan("")}, kFloat64).requires_grad_();
  const Tensor y = clamp(x, -1.0, 1.0);
  EXPECT_STREQ(y.grad_fn()->name(), "ClampBackward1");
  y.backward(tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 2, 3, 4, 0, 0}));
  x.zero_grad();
  clamp(x, 1.0, -1.0).backward(ones({6}, kFloat64));  // crossed bounds: no x lies inside
  EXPECT_EQ(values(x.grad()), std::vector<double>(6, 0.0));
  x.zero_grad();
  const Tensor low = clamp_min(x, 0.0);
  EXPECT_STREQ(low.grad_fn()->name(), "ClampMinBackward0");
  low.backward(ones({6}, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 1, 1, 1, 0}));
  x.zero_grad();
  const Tensor high = clamp_max(x, 0.0);
  EXPECT_STREQ(high.grad_fn()->name(), "ClampMaxBackward0");
  high.backward(ones({6}, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 1, 1, 0, 0, 0}));
  EXPECT_STREQ(clamp(x, std::nullopt, 1.0).grad_fn()->name(), "ClampBackward1");
}

TEST(Clamp, Int64TensorsTakeWholeBounds) {
  const Tensor labels = tensor({-3, 0, 7});
  EXPECT_EQ(clamp(labels, 0, 5).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 0, 5}));
  EXPECT_EQ(clamp(labels, 0.0, 5.0).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 0, 5}));
  EXPECT_EQ(clamp(labels, 0, 5).dtype(), kInt64);
  // An int64 bound beyond double's exact range is kept exactly.
  const std::int64_t big = (std::int64_t{1} << 60) + 1;
  EXPECT_EQ(clamp_min(tensor({std::int64_t{0}}), big).item<std::int64_t>(), big);
}

TEST(Extremes, MaximumAndMinimumPropagateNaNAndBroadcast) {
  const double nan = std::nan("");
  const std::vector<double> larger = values(maximum(tensor({1.0, 4.0, nan}, kFloat64), tensor({2.0, 3.0, 0.0}, kFloat64)));
  EXPECT_EQ(larger[0], 2.0);
  EXPECT_EQ(larger[1], 4.0);
  EXPECT_TRUE(std::isnan(larger[2]));
  EXPECT_TRUE(std::isnan(values(minimum(tensor({0.0}, kFloat64), tensor({nan}, kFloat64)))[0]));
  const Tensor grid = maximum(tensor({{0.0}, {2.0}}, kFloat64), tensor({1.0, 3.0}, kFloat64));  // [2, 1] with [2]
  EXPECT_EQ(grid.shape(), (Shape{2, 2}));
  EXPECT_EQ(values(grid), (std::vector<double>{1, 3, 2, 3}));
  EXPECT_EQ(maximum(tensor({1, 5}), tensor({3, 2})).to_vector<std::int64_t>(), (std::vector<std::int64_t>{3, 5}));
  // libtorch's two-tensor max and min are the same ops.
  EXPECT_EQ(values(max(tensor({1.0, 4.0}, kFloat64), tensor({2.0, 3.0}, kFloat64))), (std::vector<double>{2, 4}));
  EXPECT_EQ(values(min(tensor({1.0, 4.0}, kFloat64), tensor({2.0, 3.0}, kFloat64))), (std::vector<double>{1, 3}));
}

TEST(Extremes, TiesSplitTheGradientAndNaNSendsItToBoth) {
  const double nan = std::nan("");
  Tensor a = tensor({1.0, 2.0, 3.0, nan}, kFloat64).requires_grad_();
  Tensor b = tensor({2.0, 2.0, 1.0, 1.0}, kFloat64).requires_grad_();
  const Tensor larger = max(a, b);
  EXPECT_STREQ(larger.grad_fn()->name(), "MaximumBackward0");
  larger.backward(tensor({4.0, 4.0, 4.0, 4.0}, kFloat64));
  EXPECT_EQ(values(a.grad()), (std::vector<double>{0, 2, 4, 4}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{4, 2, 0, 4}));
  a.zero_grad();
  b.zero_grad();
  const Tensor smaller = minimum(a, b);
  EXPECT_STREQ(smaller.grad_fn()->name(), "MinimumBackward0");
  smaller.backward(tensor({4.0, 4.0, 4.0, 4.0}, kFloat64));
  EXPECT_EQ(values(a.grad()), (std::vector<double>{4, 2, 0, 4}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{0, 2, 4, 4}));
}

TEST(Outer, IsAColumnTimesARow) {
  const Tensor product = outer(tensor({1.0, 2.0}, kFloat64), tensor({3.0, 4.0, 5.0}, kFloat64));
  EXPECT_EQ(product.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(product), (std::vector<double>{3, 4, 5, 6, 8, 10}));
  Tensor a = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  EXPECT_STREQ(outer(a, tensor({3.0, 4.0, 5.0}, kFloat64)).grad_fn()->name(), "MulBackward0");
}

TEST(ElementwiseMethods, ForwardToTheFreeFunctions) {
  const Tensor x = tensor({-1.0, 0.5, 2.0}, kFloat64);
  EXPECT_TRUE(all_close(x.sin(), sin(x), 0, 0));
  EXPECT_TRUE(all_close(x.cos(), cos(x), 0, 0));
  EXPECT_EQ(values(x.clamp(0.0, 1.0)), (std::vector<double>{0, 0.5, 1}));
  EXPECT_EQ(values(x.clamp(0)), (std::vector<double>{0, 0.5, 2}));
  EXPECT_EQ(values(x.clamp(std::nullopt, 1)), (std::vector<double>{-1, 0.5, 1}));
  EXPECT_EQ(values(x.clamp_min(0)), (std::vector<double>{0, 0.5, 2}));
  EXPECT_EQ(values(x.clamp_max(0)), (std::vector<double>{-1, 0, 0}));
  EXPECT_EQ(values(x.maximum(tensor({0.0}, kFloat64))), (std::vector<double>{0, 0.5, 2}));
  EXPECT_EQ(values(x.minimum(tensor({0.0}, kFloat64))), (std::vector<double>{-1, 0, 0}));
}

TEST(ElementwiseGradients, ClampExtremesOuter) {
  manual_seed(14);
  const Tensor x = leaf({3, 4}), y = leaf({3, 4}), row = leaf({4}), column = leaf({3, 1});
  // Random normal values are never within eps of the bounds, so the kinks are not crossed.
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return clamp(in[0], -0.5, 0.7); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return clamp(in[0], 0.1); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return clamp(in[0], std::nullopt, 0.1); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return clamp_min(in[0], -0.3); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return clamp_max(in[0], 0.3); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return maximum(in[0], in[1]); }, {x, y}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return minimum(in[0], in[1]); }, {x, y}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return maximum(in[0], in[1]); }, {x, row}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return minimum(in[1], in[0]); }, {x, column}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return outer(in[0], in[1]); }, {leaf({3}), row}));
}

TEST(ElementwiseErrors, ClampNeedsABoundAndWholeBoundsForInt64) {
  EXPECT_TRUE(throws_error_containing([] { clamp(ones({2}), std::nullopt, std::nullopt); }, {"clamp", "min", "max"}));
  EXPECT_TRUE(throws_error_containing([] { clamp(tensor({1, 2}), 0.5, 2); }, {"clamp", "int64", "0.5"}));
  EXPECT_TRUE(throws_error_containing([] { clamp_min(tensor({1, 2}), 0.5); }, {"clamp_min", "int64", "0.5"}));
  EXPECT_TRUE(throws_error_containing([] { clamp_max(Tensor(), 1); }, {"clamp_max", "undefined"}));
}

TEST(ElementwiseErrors, ExtremesNameOpShapesAndDtypes) {
  EXPECT_TRUE(throws_error_containing([] { maximum(ones({2, 3}), ones({4})); }, {"maximum", "[2, 3]", "[4]"}));
  EXPECT_TRUE(throws_error_containing([] { minimum(ones({3}), ones({2, 2})); }, {"minimum", "[3]", "[2, 2]"}));
  EXPECT_TRUE(throws_error_containing([] { maximum(ones({2}), ones({2}, kFloat64)); }, {"maximum", "float32", "float64"}));
  EXPECT_TRUE(throws_error_containing([] { minimum(Tensor(), ones({2})); }, {"minimum", "undefined"}));
}

TEST(ElementwiseErrors, OuterTakesTwoVectorsOfOneDtype) {
  EXPECT_TRUE(throws_error_containing([] { outer(ones({2, 2}), ones({3})); }, {"outer", "1-D", "[2, 2]", "[3]"}));
  EXPECT_TRUE(throws_error_containing([] { outer(ones({2}), ones({})); }, {"outer", "[2]", "[]"}));
  EXPECT_TRUE(throws_error_containing([] { outer(ones({2}), ones({2}, kFloat64)); }, {"outer", "float32", "float64"}));
}

TEST(ElementwiseErrors, TrigonometryIsFloatingOnly) {
}

TEST(ElementwiseErrors, StorageDtypesAreRejectedByArithmetic) {
  for (Dtype storage : {kBool, kUInt8}) {
    const Tensor t = ones({2}, storage);
    const std::string dtype = dtype_name(storage);
    SCOPED_TRACE(dtype);
    EXPECT_TRUE(throws_error_containing([&] { t + t; }, {"add", dtype}));
    EXPECT_TRUE(throws_error_containing([&] { t - t; }, {"sub", dtype}));
    EXPECT_TRUE(throws_error_containing([&] { t * t; }, {"mul", dtype}));
    EXPECT_TRUE(throws_error_containing([&] { t * 2.0; }, {"mul", dtype}));
    EXPECT_TRUE(throws_error_containing([&] { -t; }, {"neg", dtype}));
    EXPECT_TRUE(throws_error_containing([&] { exp(t); }, {"exp", dtype}));
    EXPECT_TRUE(throws_error_containing([&] { clamp(t, 0, 1); }, {"clamp", dtype}));
    EXPECT_TRUE(throws_error_containing([&] { clamp_min(t, 0); }, {"clamp_min", dtype}));
    EXPECT_TRUE(throws_error_containing([&] { maximum(t, t); }, {"maximum", dtype}));
    EXPECT_TRUE(throws_error_containing([&] { minimum(t, t); }, {"minimum", dtype}));
    EXPECT_TRUE(throws_error_containing([&] { outer(t, t); }, {"outer", dtype}));
  }
}

// ---- second order (create_graph) ------------------------------------------------------------------
//
// differentiates_twice runs gradgradcheck (second derivatives against finite differences of the
// first) and checks that create_graph's first derivatives equal the fast path's. An op whose
// gradient is linear in its input has no second derivative of its own; squaring its result makes
// the second derivative go through its recorded backward.

Tensor squared(const Tensor& t) { return t * t; }

TEST(ElementwiseSecondOrder, TensorArithmeticWithBroadcasting) {
  manual_seed(60);
  const Tensor a = leaf({3, 4}), row = leaf({4}), column = leaf({3, 1}), p = positive_leaf({4});
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return in[0] * in[1]; }, {a, row}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return in[1] * in[0]; }, {a, column}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return in[0] * in[0]; }, {a}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return in[0] / in[1]; }, {a, p}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return in[1] / in[0]; }, {(p + 1.0).detach().requires_grad_(), column}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(in[0] + in[1]); }, {a, row}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(in[1] - in[0]); }, {a, column}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return (in[0] + in[1]) * (in[0] - in[2]); }, {a, row, column}));
}

TEST(ElementwiseSecondOrder, ScalarForms) {
  manual_seed(61);
  const Tensor x = leaf({2, 3}), p = positive_leaf({2, 3});
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(in[0] + 2.5); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(2.5 + in[0]); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(in[0] - 2.5); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(2.5 - in[0]); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(in[0] * -1.5); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(-1.5 * in[0]); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(in[0] / 4.0); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return 3.0 / in[0]; }, {p}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(-in[0]); }, {x}));
}

TEST(ElementwiseSecondOrder, PointwiseFunctions) {
  manual_seed(62);
  const Tensor x = leaf({3, 4}), p = positive_leaf({3, 4});
  // relu and abs are linear away from 0 (normal values are never within eps of it).
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(relu(in[0])); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return abs(in[0]) * in[0]; }, {x}));
  for (double exponent : {2.0, 3.0, 1.0, 0.5, -1.5, 0.0})
    EXPECT_TRUE(differentiates_twice([exponent](const auto& in) { return pow(in[0], exponent); }, {p})) << exponent;
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return pow(in[0], 3.0); }, {x}));
}

TEST(ElementwiseSecondOrder, ClampAndExtremes) {
  manual_seed(63);
  const Tensor x = leaf({3, 4}), y = leaf({3, 4}), row = leaf({4}), column = leaf({3, 1});
  // Normal values are never within eps of the bounds or of each other.
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(clamp(in[0], -0.5, 0.7)); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(clamp(in[0], 0.1)); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(clamp(in[0], std::nullopt, 0.1)); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(clamp_min(in[0], -0.3)); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(clamp_max(in[0], 0.3)); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(maximum(in[0], in[1])); }, {x, y}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(minimum(in[0], in[1])); }, {x, y}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return maximum(in[0], in[1]) * in[0]; }, {x, row}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return minimum(in[1], in[0]) * in[1]; }, {x, column}));
}

TEST(ElementwiseSecondOrder, OuterSumToAndAChain) {
  manual_seed(64);
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return outer(in[0], in[1]); }, {leaf({3}), leaf({4})}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(sum_to(in[0], {1, 4})); }, {leaf({3, 4})}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(sum_to(in[0], {3, 1})); }, {leaf({2, 3, 4})}));
  EXPECT_TRUE(differentiates_twice(
      [](const auto& in) { return sigmoid(tanh(in[0] * in[2] + in[1]) * 2.0 - 0.5) / (exp(in[1]) + 1.0); },
      {leaf({3, 1}), leaf({4}), leaf({1, 4})}));
}

TEST(ElementwiseSecondOrder, SecondDerivativesByHand) {
  // d2/dx2 of exp, tanh, sigmoid, sqrt and x^3 at a few points: the recorded backward of each node,
  // differentiated once more with autograd::grad.
  const Tensor x = tensor({0.25, 1.0, 2.0}, kFloat64).requires_grad_();
  const auto second = [&](const std::function<Tensor(const Tensor&)>& f) {
    const Tensor first = autograd::grad({f(x).sum()}, {x}, {}, true, true)[0];
    return autograd::grad({first.sum()}, {x})[0];
  };
  const Tensor t = tanh(x).detach(), s = sigmoid(x).detach();
  EXPECT_TRUE(all_close(second([](const Tensor& v) { return exp(v); }), exp(x).detach(), 1e-15, 0.0));
  EXPECT_TRUE(all_close(second([](const Tensor& v) { return tanh(v); }), -2.0 * t * (1.0 - t * t), 1e-14, 0.0));
  EXPECT_TRUE(all_close(second([](const Tensor& v) { return sigmoid(v); }), s * (1.0 - s) * (1.0 - 2.0 * s), 1e-14, 0.0));
  EXPECT_TRUE(all_close(second([](const Tensor& v) { return sqrt(v); }), -0.25 * pow(x.detach(), -1.5), 1e-14, 0.0));
  EXPECT_TRUE(all_close(second([](const Tensor& v) { return pow(v, 3.0); }), 6.0 * x.detach(), 1e-15, 0.0));
  EXPECT_TRUE(all_close(second([](const Tensor& v) { return log(v); }), -1.0 / (x.detach() * x.detach()), 1e-15, 0.0));
}

TEST(ElementwiseSecondOrder, Float32StaysFloat32) {
  const Tensor x = tensor({0.5f, -1.0f}).requires_grad_();
  const Tensor first = autograd::grad({(tanh(x) * exp(x)).sum()}, {x}, {}, true, true)[0];
  EXPECT_EQ(first.dtype(), kFloat32);
  const Tensor second = autograd::grad({first.sum()}, {x})[0];
  EXPECT_EQ(second.dtype(), kFloat32);
}

// exp, tanh, sigmoid and sqrt keep only their output, as in PyTorch, and their create_graph formula
// is written with it: changing the input in place afterwards changes neither derivative.
TEST(ElementwiseSecondOrder, NodesThatKeepTheirOutputIgnoreLaterChangesToTheInput) {
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
      {"exp", [](const Tensor& v) { return exp(v); }},
      {"tanh", [](const Tensor& v) { return tanh(v); }},
      {"sigmoid", [](const Tensor& v) { return sigmoid(v); }},
      {"sqrt", [](const Tensor& v) { return sqrt(v); }}};
  for (const auto& [name, op] : ops) {
    SCOPED_TRACE(name);
    const Tensor x = tensor({0.5, 2.0}, kFloat64).requires_grad_();
    Tensor hidden = x * 1.0;
    const Tensor out = op(hidden).sum();
    const auto derivatives = [&] {
      const Tensor first = autograd::grad({out}, {x}, {}, true, true)[0];
      // The second pass goes through the op's node again, so it keeps the graph for the next call.
      return std::pair{first.detach(), autograd::grad({first.sum()}, {x}, {}, /*retain_graph=*/true)[0]};
    };
    const auto [first, second] = derivatives();
    hidden.add_(1.0);
    const auto [first_after, second_after] = derivatives();
    EXPECT_TRUE(all_close(first_after, first, 0.0, 0.0));
    EXPECT_TRUE(all_close(second_after, second, 0.0, 0.0));
  }
}

}  // namespace
}  // namespace xgrad
