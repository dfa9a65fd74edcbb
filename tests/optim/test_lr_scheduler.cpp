// StepLR: when the learning rate drops (Python's rule, one step earlier than libtorch 1.13's),
// every group, get_last_lr, and PyTorch's trajectories with a schedule (tests/golden/optim.json).
#include <gtest/gtest.h>

#include "compare.hpp"
#include "optim_golden.hpp"

namespace xgrad {
namespace {

using optim::StepLR;
using testing::Json;
using testing::throws_error_containing;

TEST(StepLR, LowersTheRateOnEveryStepSizeThCall) {
  Tensor p = tensor({1.0}, kFloat64).requires_grad_(true);
  optim::SGD sgd({p}, 1.0);
  StepLR scheduler(sgd, 3, 0.5);
  EXPECT_EQ(scheduler.get_last_lr(), (std::vector<double>{1.0}));
  std::vector<double> lrs;
  for (int epoch = 0; epoch < 7; ++epoch) {
    scheduler.step();
    lrs.push_back(sgd.param_groups()[0].options().get_lr());
    EXPECT_EQ(scheduler.get_last_lr(), (std::vector<double>{lrs.back()}));
  }
  // Python: epochs 0-2 at 1, 3-5 at 0.5, then 0.25 (libtorch 1.13 would start one call later).
  EXPECT_EQ(lrs, (std::vector<double>{1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25}));
}

TEST(StepLR, DefaultGammaIsOneTenthAndEveryGroupIsScaled) {
  Tensor a = tensor({1.0}, kFloat64).requires_grad_(true), b = tensor({1.0}, kFloat64).requires_grad_(true);
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{a});
  groups.emplace_back(std::vector<Tensor>{b}, std::make_unique<optim::RMSpropOptions>(0.5));
  optim::RMSprop rmsprop(groups, optim::RMSpropOptions(0.2));
  StepLR scheduler(rmsprop, 1);
  scheduler.step();
  EXPECT_NEAR(rmsprop.param_groups()[0].options().get_lr(), 0.02, 1e-17);
  EXPECT_NEAR(static_cast<optim::RMSpropOptions&>(rmsprop.param_groups()[1].options()).lr(), 0.05, 1e-17);
  EXPECT_EQ(scheduler.get_last_lr().size(), 2u);
}

TEST(StepLR, BadStepSizeIsAnError) {
  Tensor p = tensor({1.0}, kFloat64).requires_grad_(true);
  optim::SGD sgd({p}, 1.0);
  EXPECT_TRUE(throws_error_containing([&] { StepLR(sgd, 0); }, {"StepLR", "step_size must be >= 1, got 0"}));
}

// optim.json's "schedules": PyTorch's StepLR over SGD with momentum and over Adam with two groups.
TEST(StepLR, SchedulesMatchPyTorch) {
  const Json& fixture = testing::golden_file("optim.json");
  ASSERT_EQ(fixture.at("schedules").size(), 4u);
  for (const Json& run : fixture.at("schedules")) {
    SCOPED_TRACE(run.at("optimizer").get<std::string>() + " " + run.at("dtype").get<std::string>());
    const testing::GoldenMlp mlp(fixture, run.at("dtype") == "float32" ? kFloat32 : kFloat64);
    const std::string name = run.at("optimizer");
    std::vector<optim::OptimizerParamGroup> groups;
    for (const Json& group : run.at("groups")) {
      std::vector<Tensor> params;
      for (const Json& param : group.at("params")) params.push_back(mlp.param(param));
      Json options = run.at("options");
      options.update(group.at("options"));
      groups.emplace_back(params, testing::golden_options(name, options));
    }
    const auto optimizer = testing::make_golden_optimizer(name, groups, run.at("options"));
    StepLR scheduler(*optimizer, run.at("step_size").get<std::int64_t>(), run.at("gamma").get<double>());
    for (std::size_t step = 0; step < run.at("losses").size(); ++step) {
      optimizer->zero_grad();
      const Tensor loss = mlp.loss();
      loss.backward();
      optimizer->step();
      scheduler.step();
      const double expected = run.at("losses")[step];
      EXPECT_NEAR(loss.item<double>(), expected, testing::loss_tolerance(loss, expected)) << "step " << step;
      EXPECT_EQ(scheduler.get_last_lr(), run.at("lrs")[step].get<std::vector<double>>()) << "step " << step;
      for (const std::string& param : mlp.names)
        EXPECT_TRUE(testing::matches_trajectory(mlp.param(param), testing::golden_tensor(run.at("params")[step].at(param))))
            << param << " after step " << step;
    }
    for (std::size_t i = 0; i < mlp.params.size(); ++i)
      EXPECT_TRUE(testing::matches_golden_state(optimizer->state()[i], run.at("state")[i])) << "parameter " << i;
  }
}

}  // namespace
}  // namespace xgrad
