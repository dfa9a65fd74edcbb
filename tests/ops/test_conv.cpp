// conv2d: PyTorch's values and gradients (stride, padding, dilation, groups, bias or none,
// unbatched, 1x1 kernels), finite-difference gradients, second and third derivatives through
// create_graph, and every bad argument.
#include <gtest/gtest.h>

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

Tensor conv_of_fixture(const Json& args, const std::vector<Tensor>& in) {
  return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), golden_sizes(args, "stride", 1),
                golden_sizes(args, "padding", 0), golden_sizes(args, "dilation", 1), args.value("groups", 1));
}

TEST(Conv2d, MatchesPyTorch) {
  const auto cases = golden_cases("conv.json", "conv2d");
  ASSERT_EQ(cases.size(), 26u);
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    EXPECT_TRUE(matches_fixture(c, [&](const std::vector<Tensor>& in) { return conv_of_fixture(c.at("args"), in); }));
  }
}

TEST(Conv2d, HandComputedCrossCorrelation) {
  // A 2x2 kernel over a 3x3 image, no flipping: y[0,0] = 1*1 + 2*0 + 4*0 + 5*(-1) = -4.
  const Tensor x = arange(1.0, 10.0, kFloat64).reshape({1, 1, 3, 3});
  const Tensor w = tensor({1.0, 0.0, 0.0, -1.0}, kFloat64).reshape({1, 1, 2, 2});
  EXPECT_TRUE(all_close(conv2d(x, w, tensor({0.5}, kFloat64)), tensor({-3.5, -3.5, -3.5, -3.5}, kFloat64).reshape({1, 1, 2, 2}), 0, 0));
}

struct ConvSetup {
  Shape x, w;
  bool bias;
  IntArrayRef stride, padding, dilation;
  std::int64_t groups;
};

const std::vector<ConvSetup>& setups() {
  static const std::vector<ConvSetup> all{
      {{2, 2, 5, 4}, {3, 2, 3, 2}, true, 1, 0, 1, 1},
      {{1, 2, 6, 5}, {2, 2, 3, 3}, false, {2, 1}, {1, 2}, 1, 1},
      {{1, 1, 7, 6}, {2, 1, 2, 3}, true, 2, 1, {2, 1}, 1},
      {{2, 4, 4, 4}, {4, 2, 2, 2}, true, 1, 1, 1, 2},
      {{2, 3, 3}, {2, 2, 2, 2}, true, 1, 1, 1, 1},  // unbatched
      {{2, 3, 3, 2}, {2, 3, 1, 1}, true, 1, 0, 1, 1},
      {{2, 2, 4, 12}, {3, 2, 2, 5}, true, 1, 0, 1, 1},  // output rows of 8: unfolded and folded as single vectors
  };
  return all;
}

Inputs conv_inputs(const ConvSetup& s) {
  Inputs in{leaf(s.x), leaf(s.w)};
  if (s.bias) in.push_back(leaf({s.w[0]}));
  return in;
}

std::function<Tensor(const Inputs&)> conv_fn(const ConvSetup& s) {
  return [s](const Inputs& in) {
    return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), s.stride, s.padding, s.dilation, s.groups);
  };
}

TEST(Conv2d, Gradcheck) {
  for (const ConvSetup& s : setups()) EXPECT_TRUE(passes_gradcheck(conv_fn(s), conv_inputs(s)));
}

TEST(Conv2d, DifferentiableTwice) {
  for (const ConvSetup& s : setups()) expect_differentiable_twice(conv_fn(s), conv_inputs(s));
}

TEST(Conv2d, ThirdOrder) {
  const ConvSetup& s = setups()[1];
  for (std::size_t k = 0; k < 2; ++k) EXPECT_TRUE(passes_third_order_check(conv_fn(s), conv_inputs(s), k));
}

TEST(Conv2d, SecondOrderNodeNames) {
  const Tensor x = leaf({1, 1, 4, 4}), w = leaf({1, 1, 2, 2});
  const Tensor y = conv2d(x, w);
  const auto grads = autograd::grad({y}, {x, w}, {ones_like(y)}, true, true);
  EXPECT_EQ(std::string(grads[0].grad_fn()->name()), "ConvolutionBackwardBackward0");
  EXPECT_EQ(std::string(grads[1].grad_fn()->name()), "ConvolutionBackwardBackward0");
}

TEST(Conv2d, OnlyTheWeightNeedsGrad) {
  const Tensor x = randn({2, 1, 5, 5}, kFloat64);
  Tensor w = leaf({2, 1, 3, 3});
  conv2d(x, w).sum().backward();
  EXPECT_EQ(w.grad().sizes(), IntArrayRef({2, 1, 3, 3}));
  EXPECT_FALSE(x.grad().defined());
}

// |actual - expected| within `relative` of expected's largest magnitude.
::testing::AssertionResult close_on_scale(const Tensor& actual, const Tensor& expected, double relative) {
  return all_close(actual.to(kFloat64), expected, 0, relative * expected.abs().max().item<double>());
}

// A float32 convolution that goes through Winograd (3x3 or 5x5, at least 8 channels on each side,
// stride 1) against the same values in float64 through im2col: the forward, every gradient (the
// input gradient as a convolution of its own), and a second derivative through create_graph.
// Winograd rounds to a few 1e-6 of the terms' size.
TEST(Conv2d, Float32ByWinogradMatchesFloat64) {
  // A padding of 3 leaves the 3x3 kernel's input gradient on im2col (its transposed convolution would
  // need a padding of -1).
  const std::vector<std::vector<std::int64_t>> paddings = {{0}, {2, 1}, {3}};
  for (const std::int64_t kernel : {5, 3})
    for (const std::vector<std::int64_t>& padding : paddings) {
      SCOPED_TRACE(std::to_string(kernel) + ", padding " + std::to_string(padding[0]) + ", " +
                   std::to_string(padding.back()));
      const Tensor x64 = randn({3, 16, 11, 13}, kFloat64), w64 = randn({32, 16, kernel, kernel}, kFloat64) * 0.1;
      const Tensor b64 = randn({32}, kFloat64);
      Tensor x = x64.to(kFloat32).requires_grad_(), w = w64.to(kFloat32).requires_grad_();
      Tensor b = b64.to(kFloat32).requires_grad_();
      Tensor x_ref = x64.clone().requires_grad_(), w_ref = w64.clone().requires_grad_();
      Tensor b_ref = b64.clone().requires_grad_();
      const Tensor y = conv2d(x, w, b, 1, padding), y_ref = conv2d(x_ref, w_ref, b_ref, 1, padding);
      EXPECT_TRUE(close_on_scale(y, y_ref, 1e-5));
      const Tensor up64 = randn(y_ref.sizes(), kFloat64), v64 = randn(w64.sizes(), kFloat64);
      const auto grads = autograd::grad({y}, {x, w, b}, {up64.to(kFloat32)}, true, true);
      const auto grads_ref = autograd::grad({y_ref}, {x_ref, w_ref, b_ref}, {up64}, true, true);
      for (std::size_t i = 0; i < grads.size(); ++i) EXPECT_TRUE(close_on_scale(grads[i], grads_ref[i], 1e-5)) << i;
      (grads[1] * v64.to(kFloat32)).sum().backward();
      (grads_ref[1] * v64).sum().backward();
      EXPECT_TRUE(close_on_scale(x.grad(), x_ref.grad(), 1e-5));
    }
}

// A batch big enough to be shared between two threads (each image's forward is 0.8 M multiply-adds):
// every image goes through the same kernels whichever thread takes it, but the weight gradient's
// per-thread partial sums are added in another order, which Winograd's transforms amplify to about
// 1e-5 of the largest value; an image left out or counted twice would move the sums by percents.
TEST(Conv2d, TwoThreadsAgreeWithOne) {
  const Tensor x0 = randn({16, 16, 12, 12}), w0 = randn({32, 16, 5, 5}) * 0.1, b0 = randn({32});
  const Tensor up = randn({16, 32, 8, 8});
  const int previous = get_num_threads();
  const auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
    const Tensor y = conv2d(x, w, b);
    y.backward(up);
    return std::vector<Tensor>{y, x.grad(), w.grad(), b.grad()};
  };
  const std::vector<Tensor> one = run(1), two = run(2);
  set_num_threads(previous);
  for (std::size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(close_on_scale(two[i], one[i].to(kFloat64), 1e-4)) << i;
}

TEST(Conv2d, EmptyBatch) {
  Tensor x = leaf({0, 2, 5, 5}), w = leaf({3, 2, 3, 3}), b = leaf({3});
  const Tensor y = conv2d(x, w, b);
  EXPECT_EQ(y.sizes(), IntArrayRef({0, 3, 3, 3}));
  y.sum().backward();
  EXPECT_EQ(x.grad().sizes(), IntArrayRef({0, 2, 5, 5}));
  EXPECT_TRUE(all_close(w.grad(), zeros({3, 2, 3, 3}, kFloat64), 0, 0));
  EXPECT_TRUE(all_close(b.grad(), zeros({3}, kFloat64), 0, 0));
}

TEST(Conv2d, RejectsWrongRank) {
  EXPECT_TRUE(throws_error_containing([] { conv2d(randn({1, 1, 1, 5, 5}), randn({1, 1, 3, 3})); },
                                      {"conv2d", "3-D", "4-D", "[1, 1, 1, 5, 5]"}));
  EXPECT_TRUE(throws_error_containing([] { conv2d(randn({5, 5}), randn({1, 1, 3, 3})); }, {"conv2d", "[5, 5]"}));
  EXPECT_TRUE(throws_error_containing([] { conv2d(randn({1, 1, 5, 5}), randn({1, 3, 3})); },
                                      {"conv2d", "weight must be 4-D", "[1, 3, 3]"}));
}

TEST(Conv2d, RejectsChannelMismatch) {
  EXPECT_TRUE(throws_error_containing([] { conv2d(randn({64, 1, 28, 28}), randn({16, 2, 5, 5})); },
                                      {"conv2d", "expects 2 input channels", "[64, 1, 28, 28]", "[16, 2, 5, 5]"}));
}

TEST(Conv2d, RejectsKernelLargerThanPaddedInput) {
  EXPECT_TRUE(throws_error_containing([] { conv2d(randn({1, 1, 4, 4}), randn({1, 1, 5, 5})); },
                                      {"conv2d", "4 x 4", "5 x 5", "kernel"}));
  EXPECT_TRUE(throws_error_containing([] { conv2d(randn({1, 1, 4, 4}), randn({1, 1, 3, 3}), {}, 1, 0, 2); },
                                      {"conv2d", "5 x 5"}));
  EXPECT_NO_THROW(conv2d(randn({1, 1, 4, 4}), randn({1, 1, 5, 5}), {}, 1, 1));
}

TEST(Conv2d, RejectsNonPositiveStrideAndDilationAndNegativePadding) {
  const Tensor x = randn({1, 1, 5, 5}), w = randn({1, 1, 3, 3});
  EXPECT_TRUE(throws_error_containing([&] { conv2d(x, w, {}, 0); }, {"conv2d", "stride must be positive"}));
  EXPECT_TRUE(throws_error_containing([&] { conv2d(x, w, {}, {1, -1}); }, {"conv2d", "stride", "[1, -1]"}));
  EXPECT_TRUE(throws_error_containing([&] { conv2d(x, w, {}, 1, -1); }, {"conv2d", "padding must not be negative"}));
  EXPECT_TRUE(throws_error_containing([&] { conv2d(x, w, {}, 1, 0, 0); }, {"conv2d", "dilation must be positive"}));
  EXPECT_TRUE(throws_error_containing([&] { conv2d(x, w, {}, {1, 1, 1}); }, {"conv2d", "stride", "pair"}));
}

TEST(Conv2d, RejectsGroupsThatDoNotDivideTheChannels) {
  EXPECT_TRUE(throws_error_containing([] { conv2d(randn({1, 4, 5, 5}), randn({3, 2, 3, 3}), {}, 1, 0, 1, 2); },
                                      {"conv2d", "out_channels 3", "groups 2"}));
  EXPECT_TRUE(throws_error_containing([] { conv2d(randn({1, 3, 5, 5}), randn({4, 1, 3, 3}), {}, 1, 0, 1, 2); },
                                      {"conv2d", "3 channels are not divisible by groups 2"}));
  EXPECT_TRUE(throws_error_containing([] { conv2d(randn({1, 4, 5, 5}), randn({4, 2, 3, 3}), {}, 1, 0, 1, 0); },
                                      {"conv2d", "groups must be positive"}));
}

TEST(Conv2d, RejectsBadBiasAndDtypes) {
  const Tensor x = randn({1, 2, 5, 5}), w = randn({3, 2, 3, 3});
  EXPECT_TRUE(throws_error_containing([&] { conv2d(x, w, randn({2})); }, {"conv2d", "bias must have shape [3]", "[2]"}));
  EXPECT_TRUE(throws_error_containing([&] { conv2d(x, randn({3, 2, 3, 3}, kFloat64)); },
                                      {"conv2d", "weight", "float32"}));
  EXPECT_TRUE(throws_error_containing([&] { conv2d(x.to(kLong), w); }, {"conv2d", "input", "int64"}));
}

TEST(Conv2d, EngineKeepsWorkingAfterAnError) {
  Tensor w = leaf({1, 1, 2, 2});
  EXPECT_THROW(conv2d(leaf({1, 2, 3, 3}), w), Error);
  conv2d(leaf({1, 1, 3, 3}), w).sum().backward();
  EXPECT_TRUE(w.grad().defined());
}

}  // namespace
}  // namespace xgrad
