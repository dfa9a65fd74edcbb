// RMSprop: one step by hand, PyTorch trajectories (tests/golden/optim.json), the option checks, and
// steps that allocate nothing.
#include <gtest/gtest.h>

#include <cmath>

#include "allocation_count.hpp"
#include "compare.hpp"
#include "optim_golden.hpp"

namespace xgrad {
namespace {

using optim::RMSprop;
using optim::RMSpropOptions;
using testing::throws_error_containing;

// Steps of p = [1, -2] with the gradient [0.5, -1] each time.
std::vector<double> after_steps(const RMSpropOptions& options, int steps, optim::ParamState* state = nullptr) {
  Tensor p = tensor({1.0, -2.0}, kFloat64).requires_grad_(true);
  RMSprop rmsprop({p}, options);
  for (int i = 0; i < steps; ++i) {
    rmsprop.zero_grad();
    sum(p * tensor({0.5, -1.0}, kFloat64)).backward();
    rmsprop.step();
  }
  if (state) *state = rmsprop.state()[0];
  return p.to_vector<double>();
}

TEST(RMSprop, OptionsHavePyTorchDefaults) {
  const RMSpropOptions options;
  EXPECT_EQ(options.lr(), 1e-2);
  EXPECT_EQ(options.alpha(), 0.99);
  EXPECT_EQ(options.eps(), 1e-8);
  EXPECT_EQ(options.weight_decay(), 0.0);
  EXPECT_EQ(options.momentum(), 0.0);
  EXPECT_FALSE(options.centered());
  EXPECT_FALSE(options.maximize());
}

TEST(RMSprop, FirstStepDividesByTheRootMeanSquare) {
  // sq = 0.01 g^2, p -= lr g / (0.1 |g| + eps)
  optim::ParamState state;
  const std::vector<double> p = after_steps(RMSpropOptions(0.01), 1, &state);
  EXPECT_NEAR(p[0], 1.0 - 0.01 * 0.5 / (0.1 * 0.5 + 1e-8), 1e-14);
  EXPECT_NEAR(p[1], -2.0 + 0.01 * 1.0 / (0.1 * 1.0 + 1e-8), 1e-14);
  EXPECT_EQ(state.step, 1);
  EXPECT_NEAR(state.square_avg.to_vector<double>()[1], 0.01, 1e-16);
  EXPECT_FALSE(state.grad_avg.defined());
  EXPECT_FALSE(state.momentum_buffer.defined());
}

TEST(RMSprop, CenteredSubtractsTheSquaredMeanGradient) {
  // sq = 0.01 g^2, ga = 0.01 g: avg = sqrt(0.01 g^2 - 0.0001 g^2) + eps
  optim::ParamState state;
  const std::vector<double> p = after_steps(RMSpropOptions(0.01).centered(true), 1, &state);
  EXPECT_NEAR(p[0], 1.0 - 0.01 * 0.5 / (std::sqrt(0.0099) * 0.5 + 1e-8), 1e-13);
  EXPECT_NEAR(state.grad_avg.to_vector<double>()[0], 0.005, 1e-16);
}

TEST(RMSprop, MomentumAccumulatesTheScaledSteps) {
  // buf = g / avg on step 1; step 2: buf = 0.9 buf + g / avg2
  optim::ParamState state;
  const std::vector<double> p = after_steps(RMSpropOptions(0.01).momentum(0.9), 2, &state);
  const double avg1 = 0.1 * 0.5 + 1e-8, avg2 = std::sqrt(0.99 * 0.0025 + 0.0025) + 1e-8;
  const double buf2 = 0.9 * (0.5 / avg1) + 0.5 / avg2;
  EXPECT_NEAR(state.momentum_buffer.to_vector<double>()[0], buf2, 1e-12);
  EXPECT_NEAR(p[0], 1.0 - 0.01 * (0.5 / avg1) - 0.01 * buf2, 1e-13);
}

TEST(RMSprop, TrajectoriesMatchPyTorch) { EXPECT_EQ(testing::expect_golden_runs("RMSprop"), 12u); }

TEST(RMSprop, BadOptionsAreErrorsNamingTheOptionAndValue) {
  const Tensor p = tensor({1.0}, kFloat64).requires_grad_(true);
  EXPECT_TRUE(throws_error_containing([&] { RMSprop({p}, RMSpropOptions(-1)); }, {"RMSprop", "learning rate -1"}));
  EXPECT_TRUE(throws_error_containing([&] { RMSprop({p}, RMSpropOptions().eps(-1e-3)); }, {"RMSprop", "eps", "-0.001"}));
  EXPECT_TRUE(throws_error_containing([&] { RMSprop({p}, RMSpropOptions().momentum(-0.5)); },
                                      {"RMSprop", "momentum -0.5"}));
  EXPECT_TRUE(throws_error_containing([&] { RMSprop({p}, RMSpropOptions().weight_decay(-3)); },
                                      {"RMSprop", "weight_decay -3"}));
  EXPECT_TRUE(throws_error_containing([&] { RMSprop({p}, RMSpropOptions().alpha(-0.1)); }, {"RMSprop", "alpha -0.1"}));
}

TEST(RMSprop, StepsAfterTheFirstAllocateNothing) {
  testing::GoldenMlp mlp(testing::golden_file("optim.json"), kFloat32);
  mlp.loss().backward();
  RMSprop rmsprop(mlp.params, RMSpropOptions(0.01).centered(true).momentum(0.9).weight_decay(0.1));
  rmsprop.step();
  const std::size_t before = testing::allocation_count();
  for (int i = 0; i < 5; ++i) rmsprop.step();
  EXPECT_EQ(testing::allocation_count() - before, 0u);
}

}  // namespace
}  // namespace xgrad
