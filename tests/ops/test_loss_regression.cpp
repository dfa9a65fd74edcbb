// l1_loss, smooth_l1_loss, huber_loss: values, gradients (input and target) and grad_fn names
// against PyTorch's fixtures (loss_regression.json: every reduction, differences exactly on the
// beta/delta corners and at 0, beta = 0, NaN, empty and 0-dim inputs), float64 gradcheck and
// second derivatives with random upstreams, and the errors for bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "compare.hpp"
#include "create_graph_checks.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::Json;
using testing::passes_gradcheck;
using testing::throws_error_containing;

Tensor call_fixture_op(const std::string& fn, const Json& args, const std::vector<Tensor>& in) {
  const Reduction reduction = testing::golden_reduction(args);
  if (fn == "l1_loss") return l1_loss(in[0], in[1], reduction);
  if (fn == "smooth_l1_loss") return smooth_l1_loss(in[0], in[1], reduction, args.value("beta", 1.0));
  if (fn == "huber_loss") return huber_loss(in[0], in[1], reduction, args.value("delta", 1.0));
  throw Error("test_loss_regression: no call for fixture fn " + fn);
}

class RegressionLossFixtures : public ::testing::TestWithParam<std::string> {};

TEST_P(RegressionLossFixtures, MatchPyTorch) {
  const std::string fn = GetParam();
  const auto cases = testing::golden_cases("loss_regression.json", fn);
  ASSERT_GE(cases.size(), 10u);
  for (const auto& fixture : cases) {
    SCOPED_TRACE(fixture.at("name").get<std::string>());
    EXPECT_TRUE(testing::matches_fixture(
        fixture, [&](const std::vector<Tensor>& in) { return call_fixture_op(fn, fixture.at("args"), in); }));
  }
}

INSTANTIATE_TEST_SUITE_P(LossRegressionJson, RegressionLossFixtures,
                         ::testing::Values("l1_loss", "smooth_l1_loss", "huber_loss"));

// ---- gradients ----------------------------------------------------------------------------------

using LossFn = std::function<Tensor(const Tensor&, const Tensor&)>;

struct Named {
  std::string name;
  LossFn fn;
};

std::vector<Named> losses() {
  std::vector<Named> all;
  for (Reduction reduction : {kNone, kSum, kMean}) {
    const std::string r = reduction_name(reduction);
    all.push_back({"l1_loss/" + r, [=](const Tensor& x, const Tensor& y) { return l1_loss(x, y, reduction); }});
    all.push_back({"smooth_l1_loss/" + r,
                   [=](const Tensor& x, const Tensor& y) { return smooth_l1_loss(x, y, reduction); }});
    all.push_back({"smooth_l1_loss(beta=0.7)/" + r,
                   [=](const Tensor& x, const Tensor& y) { return smooth_l1_loss(x, y, reduction, 0.7); }});
    all.push_back({"smooth_l1_loss(beta=0)/" + r,
                   [=](const Tensor& x, const Tensor& y) { return smooth_l1_loss(x, y, reduction, 0.0); }});
    all.push_back({"huber_loss/" + r, [=](const Tensor& x, const Tensor& y) { return huber_loss(x, y, reduction); }});
    all.push_back({"huber_loss(delta=0.6)/" + r,
                   [=](const Tensor& x, const Tensor& y) { return huber_loss(x, y, reduction, 0.6); }});
  }
  return all;
}

TEST(RegressionLoss, PassesGradcheckInInputAndTarget) {
  manual_seed(21);
  for (const Named& loss : losses()) {
    SCOPED_TRACE(loss.name);
    EXPECT_TRUE(passes_gradcheck([&](const std::vector<Tensor>& in) { return loss.fn(in[0], in[1]); },
                                 {testing::leaf({3, 4}), testing::leaf({3, 4})}));
  }
}

TEST(RegressionLoss, DifferentiatesTwice) {
  manual_seed(22);
  for (const Named& loss : losses()) {
    SCOPED_TRACE(loss.name);
    testing::expect_differentiable_twice([&](const std::vector<Tensor>& in) { return loss.fn(in[0], in[1]); },
                                         {testing::leaf({2, 3}), testing::leaf({2, 3})});
  }
}

TEST(RegressionLoss, DifferentiatesThreeTimes) {
  manual_seed(23);
  for (const Named& loss : losses()) {
    SCOPED_TRACE(loss.name);
    EXPECT_TRUE(testing::passes_third_order_check(
        [&](const std::vector<Tensor>& in) { return loss.fn(in[0] * in[0], in[1]); },
        {testing::leaf({4}), testing::leaf({4})}));
  }
}

// A gradient penalty through a linear layer: the loss's recorded backward feeds another op.
TEST(RegressionLoss, GradientPenaltyThroughLinear) {
  manual_seed(24);
  for (const Named& loss : losses()) {
    SCOPED_TRACE(loss.name);
    EXPECT_TRUE(testing::passes_gradgradcheck(
        [&](const std::vector<Tensor>& in) { return loss.fn(matmul(in[0], in[1]), in[2]); },
        {testing::leaf({3, 2}), testing::leaf({2, 4}), testing::leaf({3, 4})}));
  }
}

TEST(RegressionLoss, OnlyTheTargetMayRequireGrad) {
  const Tensor x = randn({5}, kFloat64);
  const Tensor y = testing::leaf({5});
  smooth_l1_loss(x, y).backward();
  huber_loss(x, y, kSum).backward();
  EXPECT_TRUE(y.grad().defined());
  EXPECT_FALSE(x.grad().defined());
}

TEST(RegressionLoss, GradFnNamesFollowPyTorch) {
  const Tensor x = testing::leaf({3}), y = testing::leaf({3});
  EXPECT_STREQ(smooth_l1_loss(x, y).grad_fn()->name(), "SmoothL1LossBackward0");
  EXPECT_STREQ(huber_loss(x, y).grad_fn()->name(), "HuberLossBackward0");
  // l1_loss is composite in PyTorch 1.13: |x - y| then the reduction.
  EXPECT_STREQ(l1_loss(x, y).grad_fn()->name(), "MeanBackward0");
  EXPECT_STREQ(l1_loss(x, y, kSum).grad_fn()->name(), "SumBackward0");
  EXPECT_STREQ(l1_loss(x, y, kNone).grad_fn()->name(), "AbsBackward0");
}

// beta = 0 is the L1 loss in value; at a difference of exactly 0 the gradient is PyTorch's -1 for
// input and target alike (its d <= -beta comparison holds for d = 0).
TEST(RegressionLoss, SmoothL1WithBetaZeroIsL1) {
  const Tensor x = tensor({0.0, 1.5, -2.0}, TensorOptions(kFloat64).requires_grad(true));
  const Tensor y = tensor({0.0, 0.5, 1.0}, TensorOptions(kFloat64).requires_grad(true));
  const Tensor loss = smooth_l1_loss(x, y, kSum, 0.0);
  EXPECT_DOUBLE_EQ(loss.item<double>(), l1_loss(x, y, kSum).item<double>());
  loss.backward();
  EXPECT_EQ(testing::values(x.grad()), (std::vector<double>{-1.0, 1.0, -1.0}));
  EXPECT_EQ(testing::values(y.grad()), (std::vector<double>{-1.0, -1.0, 1.0}));
}

TEST(RegressionLoss, HuberIsSmoothL1TimesDelta) {
  const Tensor x = randn({20}, kFloat64) * 3.0, y = randn({20}, kFloat64);
  EXPECT_TRUE(testing::all_close(huber_loss(x, y, kNone, 0.5), 0.5 * smooth_l1_loss(x, y, kNone, 0.5), 1e-15, 1e-15));
}

// ---- errors -------------------------------------------------------------------------------------

TEST(RegressionLoss, RejectsBadArguments) {
  const Tensor x = ones({2, 3}), y = zeros({2, 3});
  const std::vector<std::pair<const char*, LossFn>> all = {
      {"l1_loss", [](const Tensor& a, const Tensor& b) { return l1_loss(a, b); }},
      {"smooth_l1_loss", [](const Tensor& a, const Tensor& b) { return smooth_l1_loss(a, b); }},
      {"huber_loss", [](const Tensor& a, const Tensor& b) { return huber_loss(a, b); }},
  };
  for (const auto& [name, fn] : all) {
    SCOPED_TRACE(name);
    const LossFn loss = fn;
    EXPECT_TRUE(throws_error_containing([&] { loss(x, zeros({3, 2})); },
                                        {name, "target shape [3, 2]", "input shape [2, 3]"}));
    EXPECT_TRUE(throws_error_containing([&] { loss(x, zeros({3})); }, {name, "[3]", "[2, 3]"}));
    EXPECT_TRUE(throws_error_containing([&] { loss(x, zeros({2, 3}, kFloat64)); }, {name, "float32", "float64"}));
    EXPECT_TRUE(throws_error_containing([&] { loss(x, zeros({2, 3}, kInt64)); }, {name, "int64"}));
    EXPECT_TRUE(throws_error_containing([&] { loss(zeros({2}, kInt64), zeros({2}, kInt64)); }, {name, "int64"}));
    EXPECT_TRUE(throws_error_containing([&] { loss(Tensor(), y); }, {name, "defined"}));
  }
  EXPECT_TRUE(throws_error_containing([&] { l1_loss(x, y, kBatchMean); }, {"l1_loss", "batchmean"}));
  EXPECT_TRUE(throws_error_containing([&] { smooth_l1_loss(x, y, kBatchMean); }, {"smooth_l1_loss", "batchmean"}));
  EXPECT_TRUE(throws_error_containing([&] { huber_loss(x, y, kBatchMean); }, {"huber_loss", "batchmean"}));
  EXPECT_TRUE(throws_error_containing([&] { smooth_l1_loss(x, y, kMean, -0.5); },
                                      {"smooth_l1_loss", "beta", "non-negative", "-0.5"}));
  EXPECT_TRUE(throws_error_containing([&] { smooth_l1_loss(x, y, kMean, std::nan("")); },
                                      {"smooth_l1_loss", "beta", "nan"}));
  EXPECT_TRUE(throws_error_containing([&] { huber_loss(x, y, kMean, 0.0); }, {"huber_loss", "delta", "positive", "0"}));
  EXPECT_TRUE(throws_error_containing([&] { huber_loss(x, y, kMean, -1.0); }, {"huber_loss", "delta", "-1"}));
}

}  // namespace
}  // namespace xgrad
