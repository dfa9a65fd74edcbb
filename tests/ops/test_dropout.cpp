// dropout and feature_dropout: the fraction kept, the exact scale of what is kept, whole channels,
// reproducibility under manual_seed and across thread counts, independent neighbours, the identity
// cases, the gradient (the same mask), second derivatives, and bad p.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "compare.hpp"
#include "create_graph_checks.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::expect_differentiable_twice;
using testing::Inputs;
using testing::leaf;
using testing::throws_error_containing;

double fraction_nonzero(const Tensor& t) {
  const std::vector<float> v = t.to(kFloat32).to_vector<float>();
  std::size_t kept = 0;
  for (float value : v) kept += value != 0.0f;
  return static_cast<double>(kept) / static_cast<double>(v.size());
}

TEST(Dropout, KeepsAboutOneMinusPAndScalesExactly) {
  manual_seed(1);
  const Tensor x = uniform({200, 500}, 1.0, 2.0);  // never 0, so a 0 in the output was dropped
  for (double p : {0.1, 0.5, 0.8}) {
    const Tensor y = dropout(x, p, true);
    // 100000 draws: the kept fraction's standard deviation is below 0.0016.
    EXPECT_NEAR(fraction_nonzero(y), 1.0 - p, 0.01) << "p = " << p;
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    const std::vector<float> in = x.to_vector<float>(), out = y.to_vector<float>();
    for (std::size_t i = 0; i < in.size(); ++i)
      if (out[i] != 0.0f) ASSERT_EQ(out[i], in[i] * scale) << "element " << i << ", p = " << p;
  }
}

TEST(Dropout, Float64KeepsTheScaleExactly) {
  manual_seed(2);
  const Tensor x = uniform({1000}, 1.0, 2.0, kFloat64);
  const Tensor y = dropout(x, 0.3, true);
  const std::vector<double> in = x.to_vector<double>(), out = y.to_vector<double>();
  for (std::size_t i = 0; i < in.size(); ++i)
    if (out[i] != 0.0) ASSERT_EQ(out[i], in[i] * (1.0 / 0.7));
  EXPECT_NEAR(fraction_nonzero(y), 0.7, 0.06);
}

TEST(Dropout, ReproducibleUnderManualSeed) {
  const Tensor x = ones({50, 40});
  manual_seed(7);
  const Tensor a = dropout(x, 0.5, true);
  const Tensor b = dropout(x, 0.5, true);
  manual_seed(7);
  const Tensor c = dropout(x, 0.5, true);
  EXPECT_TRUE(all_close(a, c, 0.0, 0.0));
  EXPECT_FALSE(all_close(a, b, 0.0, 0.0));  // the generator moved on
}

TEST(Dropout, TwoThreadsAgreeWithOneExactly) {
  // 200,000 elements: at two threads the mask is made in two blocks.
  const Tensor x = ones({400, 500});
  EXPECT_TRUE(testing::same_on_one_and_two_threads([&] {
    manual_seed(11);
    return std::vector<Tensor>{dropout(x, 0.3, true)};
  }));
}

TEST(Dropout, NeighboursAreDroppedIndependently) {
  // Each decision comes from its element's own position: two neighbours, or two elements a row
  // apart, are both kept with probability keep^2 = 0.25 (standard deviation below 0.0014 here).
  manual_seed(12);
  const std::vector<float> kept = dropout(ones({200, 500}), 0.5, true).to_vector<float>();
  const std::size_t row = 500;
  std::size_t both_neighbours = 0, both_rows = 0;
  for (std::size_t i = 0; i + row < kept.size(); ++i) {
    both_neighbours += kept[i] != 0.0f && kept[i + 1] != 0.0f;
    both_rows += kept[i] != 0.0f && kept[i + row] != 0.0f;
  }
  const double pairs = static_cast<double>(kept.size() - row);
  EXPECT_NEAR(static_cast<double>(both_neighbours) / pairs, 0.25, 0.006);
  EXPECT_NEAR(static_cast<double>(both_rows) / pairs, 0.25, 0.006);
}

TEST(Dropout, IdentityCasesReturnTheInputItself) {
  const Tensor x = randn({3, 4}).requires_grad_();
  EXPECT_EQ(dropout(x, 0.5, false).impl(), x.impl());
  EXPECT_EQ(dropout(x, 0.0, true).impl(), x.impl());
  EXPECT_EQ(feature_dropout(x, 0.5, false).impl(), x.impl());
  const Tensor empty = zeros({0, 3});
  EXPECT_EQ(dropout(empty, 0.5, true).impl(), empty.impl());
}

TEST(Dropout, POneGivesZerosThroughAMultiplication) {
  const Tensor x = randn({3, 4}).requires_grad_();
  const Tensor y = dropout(x, 1.0, true);
  EXPECT_TRUE(all_close(y, zeros({3, 4}), 0.0, 0.0));
  ASSERT_TRUE(y.grad_fn());
  EXPECT_STREQ(y.grad_fn()->name(), "MulBackward0");
  y.backward(randn({3, 4}));
  EXPECT_TRUE(all_close(x.grad(), zeros({3, 4}), 0.0, 0.0));
}

TEST(Dropout, GradientIsTheMaskOverOneMinusP) {
  manual_seed(3);
  const Tensor x = uniform({40, 30}, 1.0, 2.0, kFloat64).requires_grad_();
  const Tensor y = dropout(x, 0.25, true);
  EXPECT_STREQ(y.grad_fn()->name(), "MulBackward0");  // as PyTorch 1.13 on the CPU
  const Tensor g = randn({40, 30}, kFloat64);
  y.backward(g);
  // y = x * mask, so the mask is y / x, and the gradient must be g * mask.
  const Tensor mask = y.detach() / x.detach();
  EXPECT_TRUE(all_close(x.grad(), g * mask, 1e-15, 0.0));
  for (double m : mask.to_vector<double>()) ASSERT_TRUE(m == 0.0 || std::abs(m - 1.0 / 0.75) < 1e-14) << m;
}

TEST(Dropout, SecondDerivativesThroughTheSavedMask) {
  manual_seed(4);
  // Reseeding inside fn draws the same mask at every call, so fn is a fixed function of x.
  expect_differentiable_twice(
      [](const Inputs& in) {
        manual_seed(9);
        return dropout(in[0] * in[0], 0.4, true);
      },
      {leaf({4, 5})});
  // The recorded node itself: the gradient of (x * mask)^2 twice.
  manual_seed(5);
  const Tensor z = leaf({6});
  const Tensor out = dropout(z, 0.5, true);
  const Tensor g = autograd::grad({(out * out).sum()}, {z}, {}, true, true)[0];
  const Tensor gg = autograd::grad({g.sum()}, {z})[0];
  const Tensor mask = out.detach() / z.detach();
  EXPECT_TRUE(all_close(gg, 2.0 * mask * mask, 1e-12, 1e-12));
}

TEST(FeatureDropout, ZeroesWholeChannels) {
  manual_seed(5);
  const Tensor x = uniform({8, 16, 5, 5}, 1.0, 2.0);
  const Tensor y = feature_dropout(x, 0.5, true);
  const std::vector<float> out = y.to_vector<float>(), in = x.to_vector<float>();
  std::size_t dropped = 0;
  for (std::size_t channel = 0; channel < 8 * 16; ++channel) {
    const bool zero = out[channel * 25] == 0.0f;
    dropped += zero;
    for (std::size_t k = 0; k < 25; ++k) {
      const std::size_t i = channel * 25 + k;
      ASSERT_EQ(out[i], zero ? 0.0f : in[i] * 2.0f) << "channel " << channel;
    }
  }
  EXPECT_GT(dropped, 30u);  // 128 channels at p = 0.5
  EXPECT_LT(dropped, 98u);
  EXPECT_STREQ(y.grad_fn() ? y.grad_fn()->name() : "none", "none");  // x needs no grad
}

TEST(FeatureDropout, GradientFollowsTheChannelMask) {
  manual_seed(6);
  const Tensor x = uniform({2, 3, 4}, 1.0, 2.0, kFloat64).requires_grad_();
  const Tensor y = feature_dropout(x, 0.5, true);
  EXPECT_STREQ(y.grad_fn()->name(), "MulBackward0");
  y.sum().backward();
  EXPECT_TRUE(all_close(x.grad(), y.detach() / x.detach(), 1e-15, 0.0));
}

TEST(Dropout, InPlaceWritesIntoTheInput) {
  manual_seed(8);
  Tensor x = uniform({10, 10}, 1.0, 2.0);
  const Tensor before = x.clone();
  Tensor& same = dropout_(x, 0.5, true);
  EXPECT_EQ(&same, &x);
  EXPECT_EQ(x._version(), 1);
  const std::vector<float> out = x.to_vector<float>(), in = before.to_vector<float>();
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_TRUE(out[i] == 0.0f || out[i] == in[i] * 2.0f);
  Tensor w = randn({3, 4}).requires_grad_();
  EXPECT_TRUE(throws_error_containing([&] { dropout_(w, 0.5, true); }, {"leaf", "in-place"}));
  Tensor images = ones({2, 3, 2, 2});
  feature_dropout_(images, 0.5, true);
  EXPECT_EQ(images._version(), 1);
}

TEST(Dropout, BadArguments) {
  const Tensor x = randn({3, 4});
  for (double p : {-0.1, 1.5, std::nan("")})
    EXPECT_TRUE(throws_error_containing([&] { dropout(x, p, true); },
                                        {"dropout", "dropout probability has to be between 0 and 1, but got"}));
  EXPECT_TRUE(throws_error_containing([&] { dropout(x, 1.5, false); }, {"but got 1.5"}));
  EXPECT_TRUE(throws_error_containing([&] { feature_dropout(x, -1.0, true); }, {"feature_dropout", "but got -1"}));
  EXPECT_TRUE(throws_error_containing([&] { feature_dropout(randn({5}), 0.5, true); },
                                      {"feature_dropout", "at least 2 dimensions", "[5]"}));
  EXPECT_TRUE(throws_error_containing([&] { dropout(x.to(kInt64), 0.5, true); }, {"dropout", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { dropout(Tensor(), 0.5, true); }, {"dropout", "undefined"}));
  EXPECT_TRUE(throws_error_containing([&] { dropout_mask({2}, 1.0, kFloat32); }, {"dropout_mask", "below 1"}));
}

}  // namespace
}  // namespace xgrad
