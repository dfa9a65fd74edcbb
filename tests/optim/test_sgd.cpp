// SGD: one step by hand for each option, PyTorch trajectories, and the argument checks.
#include <gtest/gtest.h>

#include "allocation_count.hpp"
#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using optim::SGD;
using optim::SGDOptions;
using testing::all_close;
using testing::allocation_count;
using testing::throws_error_containing;

// A parameter p = [1, -2] whose gradient after backward is g = [0.5, -1].
struct Problem {
  Tensor p = tensor({1.0, -2.0}, kFloat64).requires_grad_(true);
  const Tensor g = tensor({0.5, -1.0}, kFloat64);
  void backward() { sum(p * g).backward(); }
};

// Runs `steps` steps of zero_grad / backward / step with the same gradient g each time.
std::vector<double> after_steps(const SGDOptions& options, int steps) {
  Problem problem;
  SGD sgd({problem.p}, options);
  for (int i = 0; i < steps; ++i) {
    sgd.zero_grad();
    problem.backward();
    sgd.step();
  }
  return problem.p.to_vector<double>();
}

void expect_values(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-12) << "element " << i;
}

TEST(SGD, PlainStepIsParameterMinusLrTimesGradient) {
  // p - 0.1 g
  expect_values(after_steps(SGDOptions(0.1), 1), {0.95, -1.9});
}

TEST(SGD, WeightDecayAddsTheParameterToTheGradient) {
  // d = g + 0.1 p = [0.6, -1.2]
  expect_values(after_steps(SGDOptions(0.1).weight_decay(0.1), 1), {0.94, -1.88});
}

TEST(SGD, MomentumBufferStartsAsTheFirstGradient) {
  // step 1: buf = g, p -= 0.1 g; step 2: buf = 0.9 g + g = 1.9 g, p -= 0.19 g
  expect_values(after_steps(SGDOptions(0.1).momentum(0.9), 1), {0.95, -1.9});
  expect_values(after_steps(SGDOptions(0.1).momentum(0.9), 2), {1.0 - 0.29 * 0.5, -2.0 + 0.29});
}

TEST(SGD, DampeningIsSkippedOnTheFirstStep) {
  // step 1: buf = g (not 0.5 g); step 2: buf = 0.9 g + 0.5 g = 1.4 g, p -= 0.14 g
  expect_values(after_steps(SGDOptions(0.1).momentum(0.9).dampening(0.5), 1), {0.95, -1.9});
  expect_values(after_steps(SGDOptions(0.1).momentum(0.9).dampening(0.5), 2), {1.0 - 0.24 * 0.5, -2.0 + 0.24});
}

TEST(SGD, NesterovLooksAheadAlongTheBuffer) {
  // step 1: buf = g, d = g + 0.9 buf = 1.9 g; step 2: buf = 1.9 g, d = g + 0.9 * 1.9 g = 2.71 g
  expect_values(after_steps(SGDOptions(0.1).momentum(0.9).nesterov(true), 1), {1.0 - 0.19 * 0.5, -2.0 + 0.19});
  expect_values(after_steps(SGDOptions(0.1).momentum(0.9).nesterov(true), 2), {1.0 - 0.461 * 0.5, -2.0 + 0.461});
}

TEST(SGD, MaximizeNegatesTheGradientBeforeWeightDecay) {
  expect_values(after_steps(SGDOptions(0.1).maximize(true), 1), {1.05, -2.1});
  // PyTorch 1.13: d = -g + 0.1 p = [-0.4, 0.8], p -= 0.1 d
  expect_values(after_steps(SGDOptions(0.1).maximize(true).weight_decay(0.1), 1), {1.04, -2.08});
}

TEST(SGD, Float32ParametersUpdateToo) {
  Tensor p = tensor({1.0f, -2.0f}).requires_grad_(true);
  SGD sgd({p}, SGDOptions(0.5).momentum(0.5));
  sum(p * tensor({2.0f, 4.0f})).backward();
  sgd.step();
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{0.0f, -4.0f}));
}

TEST(SGD, StepWritesIntoTheParameterStorage) {
  nn::Linear layer(2, 2);
  const float* storage = layer->weight.data<float>();
  SGD sgd(layer->parameters(), SGDOptions(0.1).momentum(0.9));
  for (int i = 0; i < 3; ++i) {
    sgd.zero_grad();
    sum(layer(ones({3, 2}))).backward();
    sgd.step();
  }
  EXPECT_EQ(layer->weight.data<float>(), storage);
}

TEST(SGD, StepsAfterTheFirstAllocateNothing) {
  auto model = nn::Sequential(nn::Linear(3, 5), nn::ReLU(), nn::Linear(5, 2));
  sum(model(ones({4, 3}))).backward();
  for (const auto& options : {SGDOptions(0.1), SGDOptions(0.1).momentum(0.9).weight_decay(0.01).nesterov(true)}) {
    SGD sgd(model->parameters(), options);
    const std::size_t at_start = allocation_count();
    sgd.step();  // allocates the momentum buffers, if any
    const std::size_t before = allocation_count();
    for (int i = 0; i < 5; ++i) sgd.step();
    EXPECT_EQ(allocation_count() - before, 0u);
    // The counter does see the buffers of the first step, so zero above means zero.
    if (options.momentum() != 0.0) EXPECT_GT(before - at_start, 0u);
  }
}

TEST(SGD, ParametersWithoutGradientAreSkipped) {
  Problem problem;
  Tensor untouched = tensor({3.0, 4.0}, kFloat64).requires_grad_(true);
  SGD sgd({problem.p, untouched}, SGDOptions(0.1).momentum(0.9).weight_decay(0.5));
  problem.backward();
  sgd.step();
  EXPECT_EQ(untouched.to_vector<double>(), (std::vector<double>{3.0, 4.0}));
  EXPECT_NE(problem.p.to_vector<double>(), (std::vector<double>{1.0, -2.0}));
}

TEST(SGD, ZeroGradDropsGradients) {
  Problem problem;
  SGD sgd({problem.p}, SGDOptions(0.1));
  problem.backward();
  ASSERT_TRUE(problem.p.grad().defined());
  sgd.zero_grad();
  EXPECT_FALSE(problem.p.grad().defined());
}

TEST(SGD, OptionsHaveGettersAndPyTorchDefaults) {
  const SGDOptions options(0.25);
  EXPECT_EQ(options.lr(), 0.25);
  EXPECT_EQ(options.momentum(), 0.0);
  EXPECT_EQ(options.dampening(), 0.0);
  EXPECT_EQ(options.weight_decay(), 0.0);
  EXPECT_FALSE(options.nesterov());
  EXPECT_FALSE(options.maximize());
  Problem problem;
  SGD sgd({problem.p}, options);
  sgd.set_options(SGDOptions(0.5).momentum(0.1));
  EXPECT_EQ(sgd.options().momentum(), 0.1);
}

TEST(SGD, ALearningRateAloneConvertsToOptions) {
  // libtorch programs write optim::SGD(net->parameters(), 0.01).
  nn::Linear layer(2, 1);
  SGD sgd(layer->parameters(), 0.01);
  EXPECT_EQ(sgd.options().lr(), 0.01);
  EXPECT_EQ(sgd.options().momentum(), 0.0);
}

TEST(SGD, BadOptionsAndParametersAreErrors) {
  const Tensor p = tensor({1.0}, kFloat64).requires_grad_(true);
  EXPECT_TRUE(throws_error_containing([&] { SGD({p}, SGDOptions(-0.1)); }, {"SGD", "learning rate -0.1"}));
  EXPECT_TRUE(throws_error_containing([&] { SGD({p}, SGDOptions(0.1).momentum(-1)); }, {"SGD", "momentum -1"}));
  EXPECT_TRUE(throws_error_containing([&] { SGD({p}, SGDOptions(0.1).weight_decay(-2)); }, {"SGD", "weight_decay -2"}));
  EXPECT_TRUE(throws_error_containing([&] { SGD({p}, SGDOptions(0.1).nesterov(true)); }, {"SGD", "nesterov", "momentum 0"}));
  EXPECT_TRUE(throws_error_containing([&] { SGD({p}, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)); },
                                      {"SGD", "nesterov", "dampening 0.1"}));
  EXPECT_TRUE(throws_error_containing([] { SGD(std::vector<Tensor>{}, SGDOptions(0.1)); }, {"SGD", "empty parameter list"}));
  EXPECT_TRUE(throws_error_containing([] { SGD({Tensor()}, SGDOptions(0.1)); }, {"SGD", "parameter 0", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { SGD({tensor({1, 2})}, SGDOptions(0.1)); }, {"SGD", "parameter 0", "int64"}));
  const Tensor not_leaf = p * 2.0;
  EXPECT_TRUE(throws_error_containing([&] { SGD({p, not_leaf}, SGDOptions(0.1)); }, {"SGD", "parameter 1", "leaf"}));
  Problem problem;
  SGD sgd({problem.p}, SGDOptions(0.1));
  EXPECT_TRUE(throws_error_containing([&] { sgd.set_options(SGDOptions(-1)); }, {"SGD", "learning rate -1"}));
}

// tests/golden/sgd.json: torch.optim.SGD on Linear(2,4)-ReLU-Linear(4,3) in float64, 6 steps per
// option set, loss = cross_entropy(model(x), y). Losses are those before each step, params after.
TEST(SGD, TrajectoriesMatchPyTorch) {
  const auto& fixture = testing::golden_file("sgd.json");
  const Tensor x = testing::golden_tensor(fixture["x"]);
  const Tensor y = testing::golden_tensor(fixture["y"]);
  ASSERT_EQ(fixture["runs"].size(), 7u);
  for (const auto& run : fixture["runs"]) {
    const auto& o = run["options"];
    SCOPED_TRACE(o.dump());
    auto model = nn::Sequential(nn::Linear(nn::LinearOptions(2, 4).dtype(kFloat64)), nn::ReLU(),
                                nn::Linear(nn::LinearOptions(4, 3).dtype(kFloat64)));
    for (auto& [name, parameter] : model->named_parameters()) {
      const Tensor init = testing::golden_tensor(fixture["init"][name]);
      ASSERT_EQ(init.shape(), parameter.shape()) << name;
      std::copy(init.data<double>(), init.data<double>() + init.numel(), parameter.mutable_data<double>());
    }
    SGD sgd(model->parameters(), SGDOptions(o["lr"].get<double>())
                                    .momentum(o["momentum"].get<double>())
                                    .dampening(o["dampening"].get<double>())
                                    .weight_decay(o["weight_decay"].get<double>())
                                    .nesterov(o["nesterov"].get<bool>())
                                    .maximize(o["maximize"].get<bool>()));
    for (std::size_t step = 0; step < run["losses"].size(); ++step) {
      sgd.zero_grad();
      const Tensor loss = F::cross_entropy(model(x), y);
      loss.backward();
      sgd.step();
      EXPECT_NEAR(loss.item<double>(), run["losses"][step].get<double>(),
                  1e-9 * std::abs(run["losses"][step].get<double>()))
          << "step " << step;
      for (const auto& [name, parameter] : model->named_parameters())
        EXPECT_TRUE(testing::matches_golden(parameter, testing::golden_tensor(run["params"][step][name])))
            << name << " after step " << step;
    }
  }
}

}  // namespace
}  // namespace xgrad
