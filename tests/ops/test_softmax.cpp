// softmax and log_softmax: hand-checked numbers, PyTorch's values and gradients (including logits
// of magnitude 1e3 and 1e4), finite-difference gradients along every dim, second derivatives
// (create_graph), and bad dims.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "compare.hpp"
#include "create_graph_checks.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::create_graph_keeps_the_gradients;
using testing::expect_differentiable_twice;
using testing::Inputs;
using testing::passes_third_order_check;
using testing::golden_cases;
using testing::golden_tensor;
using testing::Json;
using testing::matches_golden;
using testing::throws_error_containing;

TEST(Softmax, SeedNumbersAlongDim1) {
  const Tensor x = tensor({{1.0, 2.0, 3.0}, {2.0, 4.0, 6.0}}, kFloat64);
  const Tensor expected = tensor({{0.0900, 0.2447, 0.6652}, {0.0159, 0.1173, 0.8668}}, kFloat64);
  EXPECT_TRUE(all_close(softmax(x, 1), expected, 0.0, 5e-5));
  EXPECT_TRUE(all_close(softmax(x, -1), expected, 0.0, 5e-5));
}

TEST(LogSoftmax, SeedNumbersAlongDim1) {
  const Tensor x = tensor({{1.0f, 2.0f, 3.0f}, {2.0f, 4.0f, 6.0f}});
  const Tensor expected = tensor({{-2.4076f, -1.4076f, -0.4076f}, {-4.1429f, -2.1429f, -0.1429f}});
  EXPECT_TRUE(all_close(log_softmax(x, 1), expected, 0.0, 5e-5));
}

TEST(Softmax, RowsSumToOneAlongEveryDim) {
  manual_seed(21);
  const Shape shape{2, 3, 4};
  const Tensor x = uniform(shape, -10.0, 10.0, kFloat64);
  for (int dim = 0; dim < 3; ++dim) {
    const std::vector<double> y = softmax(x, dim).to_vector<double>();
    const std::size_t inner = dim == 2 ? 1 : (dim == 1 ? 4 : 12), classes = shape[dim];
    const std::size_t outer = 24 / (inner * classes);
    for (std::size_t o = 0; o < outer; ++o)
      for (std::size_t i = 0; i < inner; ++i) {
        double total = 0.0;
        for (std::size_t c = 0; c < classes; ++c) total += y[(o * classes + c) * inner + i];
        EXPECT_NEAR(total, 1.0, 1e-12) << "dim " << dim;
      }
  }
}

TEST(Softmax, HugeLogitsStayFinite) {
  // exp(1e4) overflows even in float64; subtracting the row max keeps every value exact.
  const Tensor x = tensor({{1e4f, 1e4f - 1.0f, -1e4f}});
  const std::vector<float> y = softmax(x, 1).to_vector<float>();
  EXPECT_NEAR(y[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(y[1], std::exp(-1.0) / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_EQ(y[2], 0.0f);
  const std::vector<float> log_y = log_softmax(x, 1).to_vector<float>();
  EXPECT_NEAR(log_y[0], -std::log1p(std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(log_y[2], -2e4 - std::log1p(std::exp(-1.0)), 1e-2);  // finite, not -inf
}

// Runs fn on the fixture's input, then backward with its upstream: both must match PyTorch.
void expect_matches_golden_cases(const std::string& fn_name, Tensor (*fn)(const Tensor&, std::int64_t)) {
  const std::vector<Json> cases = golden_cases("activations.json", fn_name);
  ASSERT_FALSE(cases.empty());
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor x = golden_tensor(c.at("input")).requires_grad_();
    const Tensor y = fn(x, c.at("options").at("dim").get<std::int64_t>());
    EXPECT_TRUE(matches_golden(y, golden_tensor(c.at("output"))));
    y.backward(golden_tensor(c.at("upstream")));
    EXPECT_TRUE(matches_golden(x.grad(), golden_tensor(c.at("grad_input"))));
  }
}

TEST(Softmax, MatchesPyTorchFixtures) { expect_matches_golden_cases("softmax", &softmax); }

TEST(LogSoftmax, MatchesPyTorchFixtures) { expect_matches_golden_cases("log_softmax", &log_softmax); }

// Rows of 8 or more float32 classes along the last dim take the vectorised row kernels, which the
// 4-class fixtures never reach; float64 (the scalar loops) is the reference for both directions.
TEST(Softmax, VectorisedFloat32RowsAgreeWithFloat64) {
  manual_seed(8);
  for (std::size_t classes : {8u, 13u, 1000u}) {
    for (double scale : {1.0, 30.0}) {
      SCOPED_TRACE("classes " + std::to_string(classes) + ", scale " + std::to_string(scale));
      const Tensor x64 = randn({6, classes}, kFloat64) * scale;
      const Tensor g64 = randn({6, classes}, kFloat64);
      Tensor x32 = to_dtype(x64, kFloat32).requires_grad_();
      Tensor x64_leaf = x64.detach().requires_grad_();
      for (auto op : {&softmax, &log_softmax}) {
        x32.zero_grad();  // the leaves serve both ops
        x64_leaf.zero_grad();
        const Tensor y32 = op(x32, -1), y64 = op(x64_leaf, -1);
        y32.backward(to_dtype(g64, kFloat32));
        y64.backward(g64);
        const double value_tolerance = op == &softmax ? 1e-6 : 1e-5 * scale;
        EXPECT_TRUE(all_close(to_dtype(y32, kFloat64), y64, 1e-5, value_tolerance));
        EXPECT_TRUE(all_close(to_dtype(x32.grad(), kFloat64), x64_leaf.grad(), 1e-4, 1e-5));
      }
    }
  }
}

TEST(LogSoftmax, IsTheLogOfSoftmaxForModerateLogits) {
  manual_seed(24);
  const Tensor x = randn({4, 5, 3}, kFloat64);
  for (int dim : {0, 1, 2}) {
    EXPECT_TRUE(all_close(log_softmax(x, dim), log(softmax(x, dim)), 1e-12, 1e-12)) << "dim " << dim;
    EXPECT_TRUE(all_close(exp(log_softmax(x, dim)), softmax(x, dim), 1e-12, 1e-12)) << "dim " << dim;
  }
}

TEST(Softmax, GradcheckAlongEveryDimOf2dAnd3dInputs) {
  manual_seed(22);
  for (const Shape& shape : std::vector<Shape>{{3, 4}, {2, 3, 4}}) {
    for (int dim : {0, 1, -1}) {
      SCOPED_TRACE(shape_str(shape) + " dim " + std::to_string(dim));
      const Tensor x = randn(shape, kFloat64).requires_grad_();
      const auto soft = gradcheck([&](const std::vector<Tensor>& in) { return softmax(in[0], dim); }, {x});
      EXPECT_TRUE(soft.passed) << soft.report;
      const auto log_soft = gradcheck([&](const std::vector<Tensor>& in) { return log_softmax(in[0], dim); }, {x});
      EXPECT_TRUE(log_soft.passed) << log_soft.report;
    }
  }
}

TEST(Softmax, GradcheckOfAVectorAndOfA0dTensor) {
  manual_seed(23);
  for (const Shape& shape : std::vector<Shape>{{5}, {}}) {
    const Tensor x = randn(shape, kFloat64).requires_grad_();
    const auto soft = gradcheck([](const std::vector<Tensor>& in) { return softmax(in[0], 0); }, {x});
    EXPECT_TRUE(soft.passed) << soft.report;
    const auto log_soft = gradcheck([](const std::vector<Tensor>& in) { return log_softmax(in[0], -1); }, {x});
    EXPECT_TRUE(log_soft.passed) << log_soft.report;
  }
  EXPECT_EQ(softmax(full({}, 3.0), 0).item<double>(), 1.0);
}

// ---- Second derivatives (create_graph) ----------------------------------------------------------
// With create_graph the Backward nodes recompute softmax from the input with recorded ops, so the
// gradient is differentiable again (tests/support/create_graph_checks.hpp).

TEST(Softmax, DifferentiableTwiceAlongEveryDim) {
  manual_seed(25);
  for (const Shape& shape : std::vector<Shape>{{3, 4}, {2, 3, 4}, {5}, {}}) {
    for (int dim : {0, 1, -1}) {
      if (dim == 1 && shape.size() < 2) continue;
      SCOPED_TRACE(shape_str(shape) + " dim " + std::to_string(dim));
      expect_differentiable_twice([&](const Inputs& in) { return softmax(in[0], dim); }, {testing::leaf(shape)});
      expect_differentiable_twice([&](const Inputs& in) { return log_softmax(in[0], dim); }, {testing::leaf(shape)});
    }
  }
}

TEST(Softmax, ThirdDerivatives) {
  manual_seed(27);
  for (int dim : {0, -1}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const Inputs x = {testing::leaf({3, 4})};
    EXPECT_TRUE(passes_third_order_check([&](const Inputs& in) { return softmax(in[0], dim); }, x));
    EXPECT_TRUE(passes_third_order_check([&](const Inputs& in) { return log_softmax(in[0], dim); }, x));
  }
}

TEST(Softmax, CreateGraphKeepsTheFloat32Gradients) {
  // Rows of 13 along the last dim reach the float32 SIMD kernels of the fused path.
  manual_seed(26);
  for (int dim : {0, -1}) {
    const Tensor x = (randn({6, 13}) * 5.0f).requires_grad_();
    EXPECT_TRUE(create_graph_keeps_the_gradients([&](const Inputs& in) { return softmax(in[0], dim); }, {x}, 1e-6));
    EXPECT_TRUE(create_graph_keeps_the_gradients([&](const Inputs& in) { return log_softmax(in[0], dim); }, {x}, 1e-5));
  }
}

TEST(Softmax, HessianOfLogSumExpByHand) {
  // log_softmax(x)[0] = x_0 - logsumexp(x): its Hessian is -(diag(p) - p p^T), p = softmax(x).
  const Tensor x = tensor({0.5, -1.0, 2.0}, kFloat64).requires_grad_();
  const Tensor first = autograd::grad({log_softmax(x, 0)}, {x}, {tensor({1.0, 0.0, 0.0}, kFloat64)}, true, true)[0];
  const std::vector<double> p = softmax(x, 0).detach().to_vector<double>();
  for (std::size_t j = 0; j < 3; ++j) {
    std::vector<double> unit(3, 0.0);
    unit[j] = 1.0;
    const Tensor row = autograd::grad({first}, {x}, {from_buffer(unit.data(), {3})}, /*retain_graph=*/true)[0];
    std::vector<double> expected(3);
    for (std::size_t k = 0; k < 3; ++k) expected[k] = p[j] * p[k] - (j == k ? p[j] : 0.0);
    EXPECT_TRUE(all_close(row, from_buffer(expected.data(), {3}), 1e-12, 1e-15)) << "row " << j;
  }
}

TEST(Softmax, GradientOfAllOnesUpstreamIsZero) {
  // The outputs always sum to 1, so pushing them all up together changes nothing.
  const Tensor x = tensor({{0.3, -1.0, 2.0}}, kFloat64).requires_grad_();
  softmax(x, 1).backward(ones({1, 3}, kFloat64));
  for (double g : x.grad().to_vector<double>()) EXPECT_NEAR(g, 0.0, 1e-15);
}

TEST(Softmax, BadDimNamesDimAndShape) {
  EXPECT_TRUE(throws_error_containing([] { softmax(zeros({2, 3}), 2); }, {"softmax", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([] { log_softmax(zeros({2, 3}), -3); }, {"log_softmax", "dim -3", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([] { softmax(zeros({2}, kInt64), 0); }, {"softmax", "int64"}));
  EXPECT_TRUE(throws_error_containing([] { log_softmax(Tensor(), 0); }, {"log_softmax", "undefined"}));
}

TEST(Softmax, EngineWorksAfterAnError) {
  const Tensor x = tensor({{1.0, 2.0}}, kFloat64).requires_grad_();
  EXPECT_THROW(softmax(x, 5), Error);
  log_softmax(x, 1).backward(tensor({{1.0, 0.0}}, kFloat64));
  const double p = 1.0 / (1.0 + std::exp(1.0));  // softmax(x)[0]
  EXPECT_TRUE(all_close(x.grad(), tensor({{1.0 - p, -(1.0 - p)}}, kFloat64), 1e-12, 1e-12));
}

}  // namespace
}  // namespace xgrad
