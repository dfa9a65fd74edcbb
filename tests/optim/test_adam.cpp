// Adam and AdamW: one step by hand, PyTorch trajectories (tests/golden/optim.json), the option
// checks, and steps that allocate nothing.
#include <gtest/gtest.h>

#include <cmath>

#include "allocation_count.hpp"
#include "compare.hpp"
#include "optim_golden.hpp"

namespace xgrad {
namespace {

using optim::Adam;
using optim::AdamOptions;
using optim::AdamW;
using optim::AdamWOptions;
using testing::throws_error_containing;

// p = [1, -2, 0.5] with gradient g = [0.5, -1, 0] after backward.
struct Problem {
  Tensor p = tensor({1.0, -2.0, 0.5}, kFloat64).requires_grad_(true);
  const Tensor g = tensor({0.5, -1.0, 0.0}, kFloat64);
  void backward() const { sum(p * g).backward(); }
};

void expect_values(const Tensor& actual, const std::vector<double>& expected) {
  const std::vector<double> values = actual.to_vector<double>();
  ASSERT_EQ(values.size(), expected.size());
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_NEAR(values[i], expected[i], 1e-14) << "element " << i;
}

TEST(Adam, OptionsHavePyTorchDefaults) {
  const AdamOptions options;
  EXPECT_EQ(options.lr(), 1e-3);
  EXPECT_EQ(options.betas(), std::make_tuple(0.9, 0.999));
  EXPECT_EQ(options.eps(), 1e-8);
  EXPECT_EQ(options.weight_decay(), 0.0);
  EXPECT_FALSE(options.amsgrad());
  EXPECT_FALSE(options.maximize());
  EXPECT_EQ(AdamWOptions().weight_decay(), 1e-2);
  EXPECT_EQ(AdamOptions(0.5).betas({0.8, 0.9}).betas(), std::make_tuple(0.8, 0.9));
  EXPECT_TRUE(AdamOptions(0.1).amsgrad(true) == AdamOptions(0.1).amsgrad(true));
  EXPECT_FALSE(AdamOptions(0.1) == AdamOptions(0.2));
}

// A parameter of 64K elements or more is updated in chunks on xgrad's threads; each element's
// update is its own, so two threads must give exactly what one gives. 2 * 65536 + 1 elements: a
// split that rounds the chunk down would leave the last one out.
TEST(Adam, TwoThreadsUpdateExactlyAsOne) {
  const int previous = get_num_threads();
  auto train = [](int threads) {
    set_num_threads(threads);
    manual_seed(3);
    Tensor w = randn({2 * 65536 + 1}).requires_grad_();
    Adam adam({w}, AdamOptions(1e-2).weight_decay(0.1).amsgrad(true));
    for (int step = 0; step < 3; ++step) {
      adam.zero_grad();
      (w * w * w).sum().backward();
      adam.step();
    }
    return w.detach();
  };
  const Tensor one = train(1), two = train(2);
  set_num_threads(previous);
  EXPECT_TRUE(equal(one, two));
}

TEST(Adam, FirstStepMovesEachElementByAboutLr) {
  // t = 1: m = 0.1 g, v = 0.001 g^2; m / (1 - 0.9) = g, sqrt(v) / sqrt(1 - 0.999) = |g|, so
  // p -= lr g / (|g| + eps): lr times the sign of g, and nothing where g = 0.
  Problem problem;
  Adam adam({problem.p}, AdamOptions(0.1));
  problem.backward();
  adam.step();
  const double bc2 = std::sqrt(1.0 - 0.999);
  auto moved = [&](double g) { return 0.1 / (1.0 - 0.9) * (0.1 * g) / (std::sqrt(0.001 * g * g) / bc2 + 1e-8); };
  expect_values(problem.p, {1.0 - moved(0.5), -2.0 - moved(-1.0), 0.5});
  EXPECT_EQ(adam.state()[0].step, 1);
  expect_values(adam.state()[0].exp_avg, {0.05, -0.1, 0.0});
  expect_values(adam.state()[0].exp_avg_sq, {0.001 * 0.25, 0.001, 0.0});
  EXPECT_FALSE(adam.state()[0].max_exp_avg_sq.defined());
}

TEST(Adam, WeightDecayIsAddedToTheGradient) {
  // d = g + 0.5 p = [1, -2, 0.25]; on a first step the move is lr d / (|d| + eps).
  Problem problem;
  Adam adam({problem.p}, AdamOptions(0.1).weight_decay(0.5));
  problem.backward();
  adam.step();
  expect_values(adam.state()[0].exp_avg, {0.1, -0.2, 0.025});
  EXPECT_NEAR(problem.p.to_vector<double>()[2], 0.5 - 0.1, 1e-7);
}

TEST(AdamW, WeightDecayShrinksTheParameterItself) {
  // With a zero gradient Adam's part does nothing and the parameter shrinks by 1 - lr * wd exactly.
  Tensor p = tensor({1.0, -2.0}, kFloat64).requires_grad_(true);
  AdamW adamw({p}, AdamWOptions(0.1).weight_decay(0.5));
  sum(p * 0.0).backward();
  adamw.step();
  expect_values(p, {0.95, -1.9});
  expect_values(adamw.state()[0].exp_avg, {0.0, 0.0});
}

TEST(Adam, AmsgradKeepsTheLargestSecondMoment) {
  // Step 1 with g = 2, then step 2 with g = 0: v falls to 0.999 v, v_max keeps step 1's 0.004.
  Tensor p = tensor({1.0}, kFloat64).requires_grad_(true);
  Adam adam({p}, AdamOptions(0.1).amsgrad(true));
  for (double g : {2.0, 0.0}) {
    adam.zero_grad();
    sum(p * g).backward();
    adam.step();
  }
  expect_values(adam.state()[0].exp_avg_sq, {0.999 * 0.004});
  expect_values(adam.state()[0].max_exp_avg_sq, {0.004});
}

TEST(Adam, MaximizeAscends) {
  Problem problem;
  Adam adam({problem.p}, AdamOptions(0.1).maximize(true));
  problem.backward();
  adam.step();
  EXPECT_GT(problem.p.to_vector<double>()[0], 1.0);
  EXPECT_LT(problem.p.to_vector<double>()[1], -2.0);
}

TEST(Adam, TrajectoriesMatchPyTorch) { EXPECT_EQ(testing::expect_golden_runs("Adam"), 12u); }

TEST(AdamW, TrajectoriesMatchPyTorch) { EXPECT_EQ(testing::expect_golden_runs("AdamW"), 8u); }

TEST(Adam, Float32ParametersUpdateInFloat32) {
  Tensor p = tensor({1.0f, -2.0f}).requires_grad_(true);
  Adam adam({p}, AdamOptions(0.1));
  sum(p * tensor({3.0f, -4.0f})).backward();
  adam.step();
  EXPECT_EQ(adam.state()[0].exp_avg.dtype(), kFloat32);
  const std::vector<float> values = p.to_vector<float>();
  EXPECT_NEAR(values[0], 0.9f, 1e-6f);
  EXPECT_NEAR(values[1], -1.9f, 1e-6f);
}

TEST(Adam, BadOptionsAreErrorsNamingTheOptionAndValue) {
  const Tensor p = tensor({1.0}, kFloat64).requires_grad_(true);
  EXPECT_TRUE(throws_error_containing([&] { Adam({p}, AdamOptions(-0.1)); }, {"Adam", "learning rate -0.1"}));
  EXPECT_TRUE(throws_error_containing([&] { Adam({p}, AdamOptions(0.1).eps(-1)); }, {"Adam", "eps", "-1"}));
  EXPECT_TRUE(throws_error_containing([&] { Adam({p}, AdamOptions(0.1).betas({1.0, 0.999})); },
                                      {"Adam", "beta parameter at index 0: 1", "betas"}));
  EXPECT_TRUE(throws_error_containing([&] { Adam({p}, AdamOptions(0.1).betas({0.9, -0.5})); },
                                      {"Adam", "beta parameter at index 1: -0.5"}));
  EXPECT_TRUE(throws_error_containing([&] { Adam({p}, AdamOptions(0.1).weight_decay(-2)); },
                                      {"Adam", "weight_decay -2"}));
  EXPECT_TRUE(throws_error_containing([&] { AdamW({p}, AdamWOptions(0.1).betas({0.9, 1.5})); },
                                      {"AdamW", "beta parameter at index 1: 1.5"}));
  EXPECT_TRUE(throws_error_containing([&] { AdamW({p}, AdamWOptions(std::nan(""))); }, {"AdamW", "learning rate nan"}));
  EXPECT_TRUE(throws_error_containing([] { Adam(std::vector<Tensor>{}); }, {"Adam", "empty parameter list"}));
}

TEST(Adam, StepsAfterTheFirstAllocateNothing) {
  testing::GoldenMlp mlp(testing::golden_file("optim.json"), kFloat32);
  mlp.loss().backward();
  for (const AdamOptions& options : {AdamOptions(0.01), AdamOptions(0.01).amsgrad(true).weight_decay(0.1)}) {
    Adam adam(mlp.params, options);
    const std::size_t at_start = testing::allocation_count();
    adam.step();  // creates exp_avg and exp_avg_sq (and max_exp_avg_sq)
    const std::size_t before = testing::allocation_count();
    for (int i = 0; i < 5; ++i) adam.step();
    EXPECT_EQ(testing::allocation_count() - before, 0u);
    EXPECT_GT(before - at_start, 0u);
  }
  AdamW adamw(mlp.params, AdamWOptions(0.01).amsgrad(true));
  adamw.step();
  const std::size_t before = testing::allocation_count();
  for (int i = 0; i < 5; ++i) adamw.step();
  EXPECT_EQ(testing::allocation_count() - before, 0u);
}

}  // namespace
}  // namespace xgrad
