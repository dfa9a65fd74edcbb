// nn::utils::clip_grad_norm_ and clip_grad_value_ against PyTorch (tests/golden/clip_grad.json):
// every norm type, parameters without a gradient, NaN and infinite gradients, float32 and float64.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::Json;
using testing::throws_error_containing;
namespace utils = nn::utils;

// One parameter per fixture entry; a null entry is a parameter without a gradient. Each gradient is
// put in place by a backward of sum(p * g).
std::vector<Tensor> parameters_with_grads(const Json& grads, Dtype dtype) {
  std::vector<Tensor> params;
  for (const Json& grad : grads) {
    if (grad.is_null()) {
      params.push_back(zeros({2}, dtype).requires_grad_());
      continue;
    }
    const Tensor g = testing::golden_tensor(grad);
    Tensor p = zeros({g.numel()}, dtype).requires_grad_();
    sum(p * g).backward();
    params.push_back(p);
  }
  return params;
}

::testing::AssertionResult grads_match(const std::vector<Tensor>& params, const Json& expected) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (expected[i].is_null()) {
      if (params[i].grad().defined()) return ::testing::AssertionFailure() << "parameter " << i << " got a gradient";
      continue;
    }
    auto result = testing::matches_golden(params[i].grad(), testing::golden_tensor(expected[i]));
    if (!result) return result << " (gradient " << i << ")";
  }
  return ::testing::AssertionSuccess();
}

TEST(ClipGradNorm, MatchesPyTorch) {
  const auto cases = testing::golden_cases("clip_grad.json", "clip_grad_norm_");
  ASSERT_EQ(cases.size(), 32u);
  for (const Json& fixture : cases) {
    SCOPED_TRACE(fixture.at("name").get<std::string>());
    const Dtype dtype = fixture.at("dtype") == "float32" ? kFloat32 : kFloat64;
    const std::vector<Tensor> params = parameters_with_grads(fixture.at("grads"), dtype);
    const double total = utils::clip_grad_norm_(params, fixture.at("max_norm").get<double>(),
                                                testing::golden_number(fixture.at("norm_type")));
    const double expected = testing::golden_number(fixture.at("total_norm"));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(total));
    } else if (std::isinf(expected)) {
      EXPECT_EQ(total, expected);
    } else {
      EXPECT_NEAR(total, expected, (dtype == kFloat64 ? 1e-12 : 1e-6) * std::abs(expected));
    }
    EXPECT_TRUE(grads_match(params, fixture.at("clipped")));
  }
}

TEST(ClipGradValue, MatchesPyTorch) {
  const auto cases = testing::golden_cases("clip_grad.json", "clip_grad_value_");
  ASSERT_EQ(cases.size(), 8u);
  for (const Json& fixture : cases) {
    SCOPED_TRACE(fixture.at("name").get<std::string>());
    const Dtype dtype = fixture.at("dtype") == "float32" ? kFloat32 : kFloat64;
    const std::vector<Tensor> params = parameters_with_grads(fixture.at("grads"), dtype);
    utils::clip_grad_value_(params, fixture.at("clip_value").get<double>());
    EXPECT_TRUE(grads_match(params, fixture.at("clipped")));
  }
}

TEST(ClipGradNorm, OneTensorOrABracedListToo) {
  // g = [3, -4]: norm 5, scaled by 1 / (5 + 1e-6).
  Tensor p = zeros({2}, kFloat64).requires_grad_();
  sum(p * tensor({3.0, -4.0}, kFloat64)).backward();
  EXPECT_EQ(utils::clip_grad_norm_(p, 1.0), 5.0);
  EXPECT_NEAR(p.grad().to_vector<double>()[0], 3.0 / (5.0 + 1e-6), 1e-15);
  Tensor q = zeros({2}, kFloat64).requires_grad_();
  const std::vector<double> g = p.grad().to_vector<double>();
  EXPECT_NEAR(utils::clip_grad_norm_({p, q}, 10.0), std::hypot(g[0], g[1]), 1e-15);
  EXPECT_EQ(p.grad().to_vector<double>(), g);  // below max_norm: scaled by exactly 1
  utils::clip_grad_value_({p, q}, 0.1);
  EXPECT_EQ(p.grad().to_vector<double>(), (std::vector<double>{0.1, -0.1}));
  utils::clip_grad_value_(p, 0.05);
  EXPECT_EQ(p.grad().to_vector<double>(), (std::vector<double>{0.05, -0.05}));
}

TEST(ClipGradNorm, NoGradientsMeansZeroAndNothingChanges) {
  Tensor p = zeros({2}).requires_grad_();
  EXPECT_EQ(utils::clip_grad_norm_(std::vector<Tensor>{p}, 1.0), 0.0);
  EXPECT_EQ(utils::clip_grad_norm_(std::vector<Tensor>{}, 1.0), 0.0);
  EXPECT_FALSE(p.grad().defined());
}

TEST(ClipGradNorm, NonFiniteNormIsAnErrorOnlyWhenAskedFor) {
  Tensor p = zeros({2}, kFloat64).requires_grad_();
  sum(p * tensor({std::numeric_limits<double>::quiet_NaN(), 1.0}, kFloat64)).backward();
  EXPECT_TRUE(throws_error_containing([&] { utils::clip_grad_norm_(p, 1.0, 2.0, true); },
                                      {"clip_grad_norm_", "non-finite", "nan"}));
  EXPECT_EQ(p.grad().to_vector<double>()[1], 1.0);
  EXPECT_TRUE(std::isnan(utils::clip_grad_norm_(p, 1.0)));
  EXPECT_TRUE(std::isnan(p.grad().to_vector<double>()[1]));
}

TEST(ClipGradNorm, ClippingCountsAsAnInPlaceChangeOfTheGradient) {
  Tensor p = zeros({2}, kFloat64).requires_grad_();
  sum(p * tensor({3.0, -4.0}, kFloat64)).backward();
  const std::int64_t version = p.grad()._version();
  utils::clip_grad_norm_(p, 1.0);
  EXPECT_GT(p.grad()._version(), version);
}

TEST(ClipGrad, UndefinedParametersAreErrors) {
  EXPECT_TRUE(throws_error_containing([] { utils::clip_grad_norm_(std::vector<Tensor>{Tensor()}, 1.0); },
                                      {"clip_grad_norm_", "parameter 0", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { utils::clip_grad_value_(std::vector<Tensor>{Tensor()}, 1.0); },
                                      {"clip_grad_value_", "parameter 0", "undefined"}));
}

}  // namespace
}  // namespace xgrad
