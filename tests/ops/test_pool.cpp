// max_pool2d, avg_pool2d and adaptive_avg_pool2d: PyTorch's values and gradients (stride, padding,
// dilation, ceil_mode, count_include_pad, divisor_override, ties, NaN, sizes that do not divide),
// finite-difference gradients, second and third derivatives, and every bad argument.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "compare.hpp"
#include "create_graph_checks.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::expect_differentiable_twice;
using testing::golden_cases;
using testing::golden_sizes;
using testing::Inputs;
using testing::Json;
using testing::leaf;
using testing::matches_fixture;
using testing::passes_gradcheck;
using testing::passes_third_order_check;
using testing::throws_error_containing;

void expect_fixtures(const char* fn, std::size_t count,
                     const std::function<Tensor(const Json& args, const Tensor& x)>& call) {
  const auto cases = golden_cases("conv.json", fn);
  ASSERT_EQ(cases.size(), count);
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    EXPECT_TRUE(matches_fixture(c, [&](const std::vector<Tensor>& in) { return call(c.at("args"), in[0]); }));
  }
}

TEST(MaxPool2d, MatchesPyTorch) {
  expect_fixtures("max_pool2d", 16, [](const Json& a, const Tensor& x) {
    return max_pool2d(x, golden_sizes(a, "kernel_size", {}), golden_sizes(a, "stride", {}),
                      golden_sizes(a, "padding", 0), golden_sizes(a, "dilation", 1), a.value("ceil_mode", false));
  });
}

TEST(AvgPool2d, MatchesPyTorch) {
  expect_fixtures("avg_pool2d", 16, [](const Json& a, const Tensor& x) {
    std::optional<std::int64_t> divisor;
    if (a.contains("divisor_override")) divisor = a.at("divisor_override").get<std::int64_t>();
    return avg_pool2d(x, golden_sizes(a, "kernel_size", {}), golden_sizes(a, "stride", {}),
                      golden_sizes(a, "padding", 0), a.value("ceil_mode", false), a.value("count_include_pad", true),
                      divisor);
  });
}

TEST(AdaptiveAvgPool2d, MatchesPyTorch) {
  expect_fixtures("adaptive_avg_pool2d", 10, [](const Json& a, const Tensor& x) {
    return adaptive_avg_pool2d(x, golden_sizes(a, "output_size", {}));
  });
}

TEST(MaxPool2d, FirstMaximumWinsAndGradientGoesThere) {
  Tensor x = tensor({2.0, 2.0, 1.0, 2.0}, kFloat64).reshape({1, 1, 2, 2}).requires_grad_();
  max_pool2d(x, 2).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), tensor({1.0, 0.0, 0.0, 0.0}, kFloat64).reshape({1, 1, 2, 2}), 0, 0));
}

// 2 x 2 windows at stride 2 take a shortcut (kernels/max_pool_2x2: two pairs, then the larger, 16
// windows at a time where the CPU has AVX-512); with many ties and some NaNs it must pick what
// PyTorch's sequential scan picks: the first largest value, or the last NaN. The widths give rows
// shorter than, as long as and longer than one block of 16 windows, and an odd column left out.
TEST(MaxPool2d, TwoByTwoShortcutPicksAsTheSequentialScan) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (Dtype dtype : {kFloat32, kFloat64})
    for (std::int64_t W : {8, 9, 32, 35, 66}) {
      const std::int64_t H = 7, OH = H / 2, OW = W / 2;
      std::vector<double> values(static_cast<std::size_t>(2 * H * W));
      // NaNs sparse enough to leave most blocks of windows without one, values in {0, 1, 2} for ties.
      for (std::size_t i = 0; i < values.size(); ++i)
        values[i] = (i % 97 == 5 || i % 89 == 3) ? nan : double(i * 5 % 3);
      Tensor x = from_blob(values.data(), {2, 1, H, W}, kFloat64).to(dtype).requires_grad_();
      const Tensor y = max_pool2d(x, 2);
      y.sum().backward();
      const std::vector<double> got = testing::values(y.to(kFloat64)), grad = testing::values(x.grad().to(kFloat64));
      std::vector<double> expected_grad(values.size(), 0.0);  // 1 at each window's pick, 0 elsewhere
      for (std::int64_t plane = 0; plane < 2; ++plane)
        for (std::int64_t oh = 0; oh < OH; ++oh)
          for (std::int64_t ow = 0; ow < OW; ++ow) {
            double best = -std::numeric_limits<double>::infinity();
            std::int64_t at = plane * H * W + 2 * oh * W + 2 * ow;
            for (std::int64_t h = 2 * oh; h < 2 * oh + 2; ++h)
              for (std::int64_t w = 2 * ow; w < 2 * ow + 2; ++w) {
                const std::int64_t i = plane * H * W + h * W + w;
                if (values[i] > best || std::isnan(values[i])) best = values[i], at = i;
              }
            const double out = got[plane * OH * OW + oh * OW + ow];
            const std::string where = concat(dtype_name(dtype), " W ", W, " plane ", plane, " at ", oh, ", ", ow);
            EXPECT_TRUE(std::isnan(best) ? std::isnan(out) : out == best) << where;
            expected_grad[static_cast<std::size_t>(at)] = 1.0;
          }
      EXPECT_EQ(grad, expected_grad) << dtype_name(dtype) << " W " << W;
    }
}

TEST(MaxPool2d, AllNegativeInfinityWindow) {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor x = tensor({-inf, -inf, -inf, -inf}, kFloat64).reshape({1, 2, 2}).requires_grad_();
  const Tensor y = max_pool2d(x, 2);
  EXPECT_EQ(y.item<double>(), -inf);
  y.sum().backward();
  EXPECT_TRUE(all_close(x.grad(), tensor({1.0, 0.0, 0.0, 0.0}, kFloat64).reshape({1, 2, 2}), 0, 0));
}

// Smooth enough for finite differences: distinct values, far apart.
Tensor spread_leaf(const Shape& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  Tensor t = (randperm(n).to(kFloat64) * 0.37 + randn({n}, kFloat64) * 0.01).reshape(shape);
  return t.detach().requires_grad_();
}

std::vector<std::function<Tensor(const Inputs&)>> pools() {
  return {
      [](const Inputs& in) { return max_pool2d(in[0], 2); },
      [](const Inputs& in) { return max_pool2d(in[0], {3, 2}, {2, 1}, {1, 1}, {1, 2}, true); },
      [](const Inputs& in) { return avg_pool2d(in[0], 2); },
      [](const Inputs& in) { return avg_pool2d(in[0], 3, 2, 1, true, false); },
      [](const Inputs& in) { return avg_pool2d(in[0], {2, 3}, 1, {1, 1}, false, true, 5); },
      [](const Inputs& in) { return adaptive_avg_pool2d(in[0], {3, 2}); },
      [](const Inputs& in) { return adaptive_avg_pool2d(in[0], 1); },
  };
}

TEST(Pool2d, Gradcheck) {
  for (const auto& fn : pools()) {
    EXPECT_TRUE(passes_gradcheck(fn, {spread_leaf({2, 2, 5, 6})}));
    EXPECT_TRUE(passes_gradcheck(fn, {spread_leaf({2, 5, 6})}));  // unbatched
  }
}

TEST(Pool2d, DifferentiableTwice) {
  for (const auto& fn : pools()) expect_differentiable_twice(fn, {spread_leaf({2, 2, 5, 6})});
}

// The pools are linear (max pooling piecewise so) in x: their gradient does not depend on x, so the
// higher derivatives that matter are those in the upstream. The gradient is dx = M^T u for the pool's
// linear map M; differentiating it in u gives du = M v, itself recorded (a third node), and the two
// must be adjoint: <M v, w> = <v, M^T w>.
TEST(Pool2d, DerivativeOfTheGradientInTheUpstream) {
  for (const auto& fn : pools()) {
    const Tensor x = spread_leaf({1, 2, 5, 6});
    const Tensor y = fn({x});
    const Tensor u = testing::leaf(y.shape()), v = testing::leaf(x.shape()), w = testing::leaf(y.shape());
    const Tensor dx = autograd::grad({y}, {x}, {u}, true, true)[0];
    const Tensor du = autograd::grad({dx}, {u}, {v}, true, true)[0];
    ASSERT_TRUE(du.grad_fn() != nullptr);
    const Tensor transposed_w = autograd::grad({fn({x})}, {x}, {w})[0];
    EXPECT_NEAR((du * w).sum().item<double>(), (v * transposed_w).sum().item<double>(), 1e-12);
  }
}

TEST(Pool2d, SecondOrderNodeNames) {
  const Tensor x = spread_leaf({1, 1, 4, 4});
  // The upstream requires grad, so the recorded gradient has history (it does not depend on x).
  auto backward_name = [&](const Tensor& y) {
    const Tensor dx = autograd::grad({y}, {x}, {testing::leaf(y.shape())}, true, true)[0];
    return dx.grad_fn() ? std::string(dx.grad_fn()->name()) : std::string("no grad_fn");
  };
  EXPECT_EQ(backward_name(max_pool2d(x, 2)), "MaxPool2DWithIndicesBackwardBackward0");
  EXPECT_EQ(backward_name(avg_pool2d(x, 2)), "AvgPool2DBackwardBackward0");
  EXPECT_EQ(backward_name(adaptive_avg_pool2d(x, 3)), "AdaptiveAvgPool2DBackwardBackward0");
}

TEST(Pool2d, RejectsWrongRank) {
  EXPECT_TRUE(throws_error_containing([] { max_pool2d(randn({4, 4}), 2); }, {"max_pool2d", "3-D", "[4, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { avg_pool2d(randn({1, 1, 1, 4, 4}), 2); }, {"avg_pool2d", "[1, 1, 1, 4, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { adaptive_avg_pool2d(randn({4}), 2); }, {"adaptive_avg_pool2d", "[4]"}));
  EXPECT_TRUE(throws_error_containing([] { max_pool2d(randn({1, 0, 4, 4}), 2); }, {"max_pool2d", "non-empty"}));
}

TEST(Pool2d, RejectsNonPositiveKernelStrideDilation) {
  const Tensor x = randn({1, 1, 4, 4});
  EXPECT_TRUE(throws_error_containing([&] { max_pool2d(x, 0); }, {"max_pool2d", "kernel_size must be positive"}));
  EXPECT_TRUE(throws_error_containing([&] { max_pool2d(x, 2, 0); }, {"max_pool2d", "stride must be positive"}));
  EXPECT_TRUE(throws_error_containing([&] { max_pool2d(x, 2, 2, 0, {1, 0}); }, {"max_pool2d", "dilation"}));
  EXPECT_TRUE(throws_error_containing([&] { avg_pool2d(x, 2, -1); }, {"avg_pool2d", "stride must be positive"}));
  EXPECT_TRUE(throws_error_containing([&] { max_pool2d(x, {2, 2, 2}); }, {"max_pool2d", "kernel_size", "pair"}));
}

TEST(Pool2d, RejectsPaddingAboveHalfTheKernel) {
  const Tensor x = randn({1, 1, 6, 6});
  EXPECT_TRUE(throws_error_containing([&] { max_pool2d(x, 3, 1, 2); }, {"max_pool2d", "padding", "half"}));
  EXPECT_TRUE(throws_error_containing([&] { avg_pool2d(x, 2, 1, {0, 2}); }, {"avg_pool2d", "padding", "half"}));
  EXPECT_TRUE(throws_error_containing([&] { avg_pool2d(x, 2, 1, -1); }, {"avg_pool2d", "padding"}));
}

TEST(Pool2d, RejectsKernelLargerThanInput) {
  EXPECT_TRUE(throws_error_containing([] { max_pool2d(randn({1, 1, 3, 3}), 4); }, {"max_pool2d", "too small"}));
  EXPECT_TRUE(throws_error_containing([] { avg_pool2d(randn({1, 2, 2}), {1, 3}); }, {"avg_pool2d", "too small"}));
}

TEST(Pool2d, RejectsBadDivisorAndOutputSize) {
  EXPECT_TRUE(throws_error_containing([] { avg_pool2d(randn({1, 1, 4, 4}), 2, {}, 0, false, true, 0); },
                                      {"avg_pool2d", "divisor_override"}));
  EXPECT_TRUE(throws_error_containing([] { adaptive_avg_pool2d(randn({1, 1, 4, 4}), {2, -1}); },
                                      {"adaptive_avg_pool2d", "output_size"}));
  EXPECT_TRUE(throws_error_containing([] { adaptive_avg_pool2d(randn({1, 1, 4, 4}), {1, 2, 3}); },
                                      {"adaptive_avg_pool2d", "output_size"}));
}

TEST(Pool2d, RejectsIntegerInput) {
  EXPECT_TRUE(throws_error_containing([] { max_pool2d(zeros({1, 4, 4}).to(kLong), 2); }, {"max_pool2d", "int64"}));
}

}  // namespace
}  // namespace xgrad

namespace xgrad {
namespace {

// Large enough to be split among two threads (blocks of planes for the pooling, blocks of elements
// for relu); planes and elements are independent, so the results must be the same bit for bit.
TEST(MaxPool2d, TwoThreadsAgreeWithOneExactly) {
  const Tensor x0 = randn({64, 16, 24, 24});
  const Tensor up = randn({64, 16, 12, 12});
  EXPECT_TRUE(testing::same_on_one_and_two_threads([&] {
    Tensor x = x0.clone().requires_grad_();
    const Tensor y = max_pool2d(relu(x), {2, 2});
    y.backward(up);
    return std::vector<Tensor>{y.detach(), x.grad()};
  }));
}

// relu alone on 2 * 65536 + 1 elements: the last element is in no block unless the blocks are
// rounded up.
TEST(Relu, TwoThreadsCoverEveryElement) {
  const Tensor x = randn({2 * 65536 + 1});
  EXPECT_TRUE(testing::same_on_one_and_two_threads([&] { return std::vector<Tensor>{relu(x)}; }));
}

}  // namespace
}  // namespace xgrad
