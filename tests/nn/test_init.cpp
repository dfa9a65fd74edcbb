// nn::init: gains and fans against PyTorch's (torch.nn.init.calculate_gain and
// _calculate_fan_in_and_fan_out, values in the comments), the bounds and the sample mean and
// standard deviation of every random initialiser over a large tensor, eye_ and dirac_, libtorch's
// spellings (kFanOut, kReLU, ...), determinism under manual_seed, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"

namespace xgrad {
namespace {

namespace init = nn::init;
using testing::throws_error_containing;

TEST(InitGain, MatchesPyTorch) {
  EXPECT_EQ(init::calculate_gain(kLinear), 1.0);
  EXPECT_EQ(init::calculate_gain(kConv1D), 1.0);
  EXPECT_EQ(init::calculate_gain(kConv2D), 1.0);
  EXPECT_EQ(init::calculate_gain(kConv3D), 1.0);
  EXPECT_EQ(init::calculate_gain(kConvTranspose1D), 1.0);
  EXPECT_EQ(init::calculate_gain(kConvTranspose2D), 1.0);
  EXPECT_EQ(init::calculate_gain(kConvTranspose3D), 1.0);
  EXPECT_EQ(init::calculate_gain(kSigmoid), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(kTanh), 1.6666666666666667);
  EXPECT_DOUBLE_EQ(init::calculate_gain(kReLU), 1.4142135623730951);
  EXPECT_DOUBLE_EQ(init::calculate_gain(kLeakyReLU), 1.4141428569978354);  // default slope 0.01
  EXPECT_DOUBLE_EQ(init::calculate_gain(kLeakyReLU, 0.2), 1.3867504905630728);
  EXPECT_DOUBLE_EQ(init::calculate_gain(kLeakyReLU, 0), 1.4142135623730951);
  EXPECT_DOUBLE_EQ(init::calculate_gain(kLeakyReLU, std::sqrt(5.0)), 0.5773502691896257);
}

TEST(InitFans, MatchPyTorch) {
  using Fans = std::tuple<std::int64_t, std::int64_t>;
  EXPECT_EQ(init::_calculate_fan_in_and_fan_out(empty({3, 4})), Fans(4, 3));
  EXPECT_EQ(init::_calculate_fan_in_and_fan_out(empty({16, 2, 5, 5})), Fans(50, 400));
  EXPECT_EQ(init::_calculate_fan_in_and_fan_out(empty({5, 3, 2, 4, 3})), Fans(72, 120));
  EXPECT_EQ(init::_calculate_fan_in_and_fan_out(empty({7, 1, 3})), Fans(3, 21));
  EXPECT_EQ(init::_calculate_fan_in_and_fan_out(empty({0, 3, 2})), Fans(6, 0));
  EXPECT_TRUE(throws_error_containing([] { init::_calculate_fan_in_and_fan_out(empty({5})); },
                                      {"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions",
                                       "[5]"}));
  EXPECT_TRUE(throws_error_containing([] { init::_calculate_fan_in_and_fan_out(tensor(1.0, kFloat64)); }, {"[]"}));
}

// ---- random initialisers: bounds and moments --------------------------------------------------------------

struct Moments {
  double mean, std, largest;
};

Moments moments_of(const Tensor& t) {
  const std::vector<double> v = t.to(kFloat64).to_vector<double>();
  double sum = 0.0, squares = 0.0, largest = 0.0;
  for (double x : v) {
    sum += x;
    largest = std::max(largest, std::abs(x));
  }
  const double mean = sum / static_cast<double>(v.size());
  for (double x : v) squares += (x - mean) * (x - mean);
  return {mean, std::sqrt(squares / static_cast<double>(v.size() - 1)), largest};
}

// A [400, 250] weight (fan_in 250, fan_out 400, 100000 samples): the sample standard deviation is
// within 1% of the target with overwhelming probability, the mean within 1.5% of a std of 0.
void expect_moments(const Tensor& w, double expected_std, double bound) {
  const Moments m = moments_of(w);
  EXPECT_NEAR(m.mean, 0.0, 0.015 * expected_std);
  EXPECT_NEAR(m.std, expected_std, 0.01 * expected_std);
  if (bound > 0.0) {
    EXPECT_LE(m.largest, bound);
    EXPECT_GT(m.largest, 0.99 * bound);  // the whole range is used
  }
}

TEST(InitRandom, UniformAndNormal) {
  manual_seed(1);
  for (Dtype dtype : {kFloat32, kFloat64}) {
    Tensor w = empty({400, 250}, dtype);
    init::uniform_(w, -2.0, 2.0);
    expect_moments(w, 4.0 / std::sqrt(12.0), 2.0);
    init::uniform_(w);  // [0, 1)
    const Moments unit = moments_of(w);
    EXPECT_NEAR(unit.mean, 0.5, 0.01);
    EXPECT_LT(unit.largest, 1.0);
    init::normal_(w, 0.0, 0.3);
    expect_moments(w, 0.3, 0.0);
    init::normal_(w, 5.0, 2.0);
    EXPECT_NEAR(moments_of(w).mean, 5.0, 0.03);
    EXPECT_NEAR(moments_of(w).std, 2.0, 0.02);
  }
}

TEST(InitRandom, Xavier) {
  manual_seed(2);
  Tensor w = empty({400, 250});
  const double std = std::sqrt(2.0 / (250 + 400));
  init::xavier_uniform_(w);
  expect_moments(w, std, std::sqrt(3.0) * std);
  init::xavier_uniform_(w, 2.5);
  expect_moments(w, 2.5 * std, 2.5 * std::sqrt(3.0) * std);
  init::xavier_normal_(w);
  expect_moments(w, std, 0.0);
  init::xavier_normal_(w, init::calculate_gain(kTanh));
  expect_moments(w, 5.0 / 3.0 * std, 0.0);
}

TEST(InitRandom, Kaiming) {
  manual_seed(3);
  Tensor w = empty({400, 250});
  // Defaults: a = 0, kFanIn, kLeakyReLU, i.e. sqrt(2 / fan_in).
  init::kaiming_uniform_(w);
  expect_moments(w, std::sqrt(2.0 / 250), std::sqrt(6.0 / 250));
  init::kaiming_normal_(w);
  expect_moments(w, std::sqrt(2.0 / 250), 0.0);
  init::kaiming_normal_(w, 0, kFanOut, kReLU);
  expect_moments(w, std::sqrt(2.0 / 400), 0.0);
  init::kaiming_uniform_(w, 0.2, kFanIn, kLeakyReLU);
  const double leaky = std::sqrt(2.0 / (1.0 + 0.04) / 250);
  expect_moments(w, leaky, std::sqrt(3.0) * leaky);
  // torch.nn.Linear's reset: a = sqrt(5) gives a bound of 1 / sqrt(fan_in).
  init::kaiming_uniform_(w, std::sqrt(5.0));
  expect_moments(w, 1.0 / std::sqrt(3.0 * 250), 1.0 / std::sqrt(250.0));
  init::kaiming_normal_(w, 0, kFanIn, kTanh);
  expect_moments(w, 5.0 / 3.0 / std::sqrt(250.0), 0.0);
  init::kaiming_uniform_(w, 0, kFanOut, kLinear);
  expect_moments(w, 1.0 / std::sqrt(400.0), std::sqrt(3.0 / 400));
}

TEST(InitRandom, ConvolutionWeightsUseTheReceptiveField) {
  manual_seed(4);
  Tensor w = empty({64, 32, 5, 5});  // fan_in 800, fan_out 1600
  init::kaiming_normal_(w, 0, kFanOut, kReLU);
  expect_moments(w, std::sqrt(2.0 / 1600), 0.0);
  init::xavier_uniform_(w);
  const double std = std::sqrt(2.0 / 2400);
  expect_moments(w, std, std::sqrt(3.0) * std);
}

TEST(InitRandom, DeterministicUnderManualSeed) {
  const std::vector<std::function<void(Tensor)>> initialisers = {
      [](Tensor t) { init::uniform_(t, -1, 1); },     [](Tensor t) { init::normal_(t); },
      [](Tensor t) { init::xavier_uniform_(t); },     [](Tensor t) { init::xavier_normal_(t); },
      [](Tensor t) { init::kaiming_uniform_(t); },    [](Tensor t) { init::kaiming_normal_(t, 0, kFanOut, kReLU); },
  };
  for (const auto& initialise : initialisers) {
    Tensor a = empty({6, 5}), b = empty({6, 5});
    manual_seed(42);
    initialise(a);
    const std::vector<float> first = a.to_vector<float>();
    initialise(a);  // the generator moved on
    EXPECT_NE(a.to_vector<float>(), first);
    manual_seed(42);
    initialise(b);
    EXPECT_EQ(b.to_vector<float>(), first);
  }
}

// ---- deterministic initialisers ------------------------------------------------------------------------------

TEST(InitFill, ConstantZerosOnesEye) {
  Tensor w = empty({2, 3}, kFloat64);
  init::constant_(w, 0.25);
  EXPECT_EQ(testing::values(w), std::vector<double>(6, 0.25));
  init::constant_(w, 2);  // any Scalar
  EXPECT_EQ(testing::values(w), std::vector<double>(6, 2.0));
  init::zeros_(w);
  EXPECT_EQ(testing::values(w), std::vector<double>(6, 0.0));
  init::ones_(w);
  EXPECT_EQ(testing::values(w), std::vector<double>(6, 1.0));
  init::eye_(w);
  EXPECT_EQ(testing::values(w), (std::vector<double>{1, 0, 0, 0, 1, 0}));
  Tensor tall = empty({3, 2}, kFloat64);
  init::eye_(tall);
  EXPECT_EQ(testing::values(tall), (std::vector<double>{1, 0, 0, 1, 0, 0}));
}

TEST(InitFill, DiracPassesChannelsThrough) {
  Tensor w = full({4, 2, 3, 3}, 7.0);
  init::dirac_(w);
  std::vector<float> expected(4 * 2 * 3 * 3, 0.0f);
  expected[(0 * 2 + 0) * 9 + 4] = 1.0f;  // [0, 0, 1, 1], as PyTorch's nonzero() lists
  expected[(1 * 2 + 1) * 9 + 4] = 1.0f;  // [1, 1, 1, 1]
  EXPECT_EQ(w.to_vector<float>(), expected);
  Tensor w1 = full({2, 3, 3}, 7.0, kFloat64);
  init::dirac_(w1);
  EXPECT_EQ(testing::values(w1), (std::vector<double>{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}));
  // A 3-D convolution's weight: one 1 per channel passed through.
  Tensor conv3d = full({2, 2, 2, 3, 4}, 1.0);
  init::dirac_(conv3d);
  EXPECT_EQ(conv3d.sum().item<float>(), 2.0f);
}

// ---- in place, on parameters, with errors -----------------------------------------------------------------

TEST(Init, WritesInPlaceOnAParameterAndBumpsItsVersion) {
  nn::Linear fc(4, 3);
  const float* storage = fc->weight.data<float>();
  const Tensor x = ones({1, 4}, requires_grad());
  const Tensor y = fc(x);  // saved the weight, for x's gradient
  init::kaiming_normal_(fc->weight, 0, kFanOut, kReLU);
  EXPECT_EQ(fc->weight.data<float>(), storage);
  EXPECT_TRUE(fc->weight.requires_grad());
  EXPECT_TRUE(fc->weight.is_leaf());
  EXPECT_TRUE(throws_error_containing([&] { y.sum().backward(); }, {"modified by an inplace operation"}));
  fc(x).sum().backward();
  EXPECT_TRUE(fc->weight.grad().defined());
}

TEST(Init, ZeroElementTensorsAreLeftAlone) {
  Tensor w = empty({0, 3});
  init::kaiming_uniform_(w);
  init::kaiming_normal_(w);
  init::xavier_uniform_(w);
  init::xavier_normal_(w);
  EXPECT_EQ(w.numel(), 0);
}

TEST(Init, RejectsBadArguments) {
  const std::vector<std::pair<const char*, std::function<void(Tensor)>>> fan_users = {
      {"xavier_uniform_", [](Tensor t) { init::xavier_uniform_(t); }},
      {"xavier_normal_", [](Tensor t) { init::xavier_normal_(t); }},
      {"kaiming_uniform_", [](Tensor t) { init::kaiming_uniform_(t); }},
      {"kaiming_normal_", [](Tensor t) { init::kaiming_normal_(t); }},
  };
  for (const auto& [name, initialise] : fan_users) {
    const auto run = initialise;
    EXPECT_TRUE(throws_error_containing([&] { run(zeros({5})); },
                                        {name, "fewer than 2 dimensions", "[5]"}));
    EXPECT_TRUE(throws_error_containing([&] { run(zeros({2, 2}, kInt64)); }, {name, "int64"}));
    EXPECT_TRUE(throws_error_containing([&] { run(Tensor()); }, {name, "undefined"}));
  }
  EXPECT_TRUE(throws_error_containing([] { init::eye_(zeros({2, 2, 2})); },
                                      {"eye_", "Only tensors with 2 dimensions are supported", "[2, 2, 2]"}));
  EXPECT_TRUE(throws_error_containing([] { init::dirac_(zeros({2, 2})); },
                                      {"dirac_", "Only tensors with 3, 4, or 5 dimensions are supported", "[2, 2]"}));
  EXPECT_TRUE(throws_error_containing([] { init::normal_(zeros({2}), 0.0, -1.0); }, {"normal_", "std", "-1"}));
  EXPECT_TRUE(throws_error_containing([] { init::uniform_(zeros({2}), 1.0, 0.0); }, {"uniform_", "low 1"}));
  EXPECT_TRUE(throws_error_containing([] { init::constant_(zeros({2}, kInt64), 1); }, {"constant_", "int64"}));
  // An error leaves the tensor as it was.
  Tensor w = full({3}, 2.0);
  EXPECT_TRUE(throws_error_containing([&] { init::xavier_uniform_(w); }, {"xavier_uniform_"}));
  EXPECT_EQ(w.to_vector<float>(), std::vector<float>(3, 2.0f));
}

}  // namespace
}  // namespace xgrad
