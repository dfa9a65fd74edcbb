// Adagrad: one step by hand, PyTorch trajectories (tests/golden/optim.json), the option checks, and
// steps that allocate nothing.
#include <gtest/gtest.h>

#include <cmath>

#include "allocation_count.hpp"
#include "compare.hpp"
#include "optim_golden.hpp"

namespace xgrad {
namespace {

using optim::Adagrad;
using optim::AdagradOptions;
using testing::throws_error_containing;

TEST(Adagrad, OptionsHavePyTorchDefaults) {
  const AdagradOptions options;
  EXPECT_EQ(options.lr(), 1e-2);
  EXPECT_EQ(options.lr_decay(), 0.0);
  EXPECT_EQ(options.weight_decay(), 0.0);
  EXPECT_EQ(options.initial_accumulator_value(), 0.0);
  EXPECT_EQ(options.eps(), 1e-10);
  EXPECT_FALSE(options.maximize());
}

TEST(Adagrad, SumExistsFromConstructionAndAccumulatesSquares) {
  Tensor p = tensor({1.0, -2.0}, kFloat64).requires_grad_(true);
  Adagrad adagrad({p}, AdagradOptions(0.1).initial_accumulator_value(0.5).lr_decay(0.5));
  EXPECT_EQ(adagrad.state()[0].sum.to_vector<double>(), (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(adagrad.state()[0].step, 0);
  // step 1: sum = 0.5 + g^2, clr = 0.1; step 2: sum += g^2, clr = 0.1 / (1 + 0.5)
  const double g = 0.5;
  double expected = 1.0, accumulated = 0.5;
  for (int step = 1; step <= 2; ++step) {
    adagrad.zero_grad();
    sum(p * tensor({g, -1.0}, kFloat64)).backward();
    adagrad.step();
    accumulated += g * g;
    expected -= 0.1 / (1.0 + (step - 1) * 0.5) * g / (std::sqrt(accumulated) + 1e-10);
  }
  EXPECT_EQ(adagrad.state()[0].step, 2);
  EXPECT_NEAR(adagrad.state()[0].sum.to_vector<double>()[0], accumulated, 1e-15);
  EXPECT_NEAR(p.to_vector<double>()[0], expected, 1e-14);
}

TEST(Adagrad, TrajectoriesMatchPyTorch) { EXPECT_EQ(testing::expect_golden_runs("Adagrad"), 12u); }

TEST(Adagrad, BadOptionsAreErrorsNamingTheOptionAndValue) {
  const Tensor p = tensor({1.0}, kFloat64).requires_grad_(true);
  EXPECT_TRUE(throws_error_containing([&] { Adagrad({p}, AdagradOptions(-1)); }, {"Adagrad", "learning rate -1"}));
  EXPECT_TRUE(throws_error_containing([&] { Adagrad({p}, AdagradOptions().lr_decay(-1)); }, {"Adagrad", "lr_decay -1"}));
  EXPECT_TRUE(throws_error_containing([&] { Adagrad({p}, AdagradOptions().weight_decay(-1)); },
                                      {"Adagrad", "weight_decay -1"}));
  EXPECT_TRUE(throws_error_containing([&] { Adagrad({p}, AdagradOptions().initial_accumulator_value(-1)); },
                                      {"Adagrad", "initial_accumulator_value -1"}));
  EXPECT_TRUE(throws_error_containing([&] { Adagrad({p}, AdagradOptions().eps(-1)); }, {"Adagrad", "eps", "-1"}));
}

TEST(Adagrad, NoStepAllocates) {
  testing::GoldenMlp mlp(testing::golden_file("optim.json"), kFloat64);
  mlp.loss().backward();
  Adagrad adagrad(mlp.params, AdagradOptions(0.1).weight_decay(0.1));
  const std::size_t before = testing::allocation_count();
  for (int i = 0; i < 5; ++i) adagrad.step();
  EXPECT_EQ(testing::allocation_count() - before, 0u);
}

}  // namespace
}  // namespace xgrad
