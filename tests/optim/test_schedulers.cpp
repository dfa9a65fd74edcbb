// The schedulers beyond their values (those are in test_scheduler_golden.cpp): argument errors,
// Python's timing at construction, the initial rate SequentialLR's schedulers share, a failed step
// that changes nothing, ReduceLROnPlateauScheduler's messages, a scheduler written as libtorch's, and
// parameter groups whose own options are kept whole.
#include <gtest/gtest.h>

#include <cmath>

#include "compare.hpp"
#include "scheduler_golden.hpp"

namespace xgrad {
namespace {

using testing::group_lrs;
using testing::throws_error_containing;

Tensor parameter() { return zeros({2}, kFloat64).requires_grad_(true); }

// Two groups at rates 0.1 and 0.03.
std::vector<optim::OptimizerParamGroup> two_groups() {
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{parameter()});
  groups.emplace_back(std::vector<Tensor>{parameter()}, std::make_unique<optim::SGDOptions>(0.03));
  return groups;
}

optim::LRLambda constant(double factor) {
  return [factor](std::int64_t) { return factor; };
}

TEST(Schedulers, ArgumentErrorsNameTheClassTheArgumentAndTheValue) {
  optim::SGD sgd(two_groups(), optim::SGDOptions(0.1).momentum(0.9));
  const auto expect = [](const std::function<void()>& make, std::initializer_list<std::string> fragments) {
    EXPECT_TRUE(throws_error_containing(make, fragments));
  };
  expect([&] { optim::LinearLR(sgd, 0.0); }, {"LinearLR: start_factor must be in (0, 1], got 0"});
  expect([&] { optim::LinearLR(sgd, 1.5); }, {"LinearLR: start_factor must be in (0, 1], got 1.5"});
  expect([&] { optim::LinearLR(sgd, 0.5, -0.25); }, {"LinearLR: end_factor must be in [0, 1], got -0.25"});
  expect([&] { optim::LinearLR(sgd, 0.5, 1.0, -1); }, {"LinearLR: total_iters must be >= 0, got -1"});
  expect([&] { optim::CosineAnnealingLR(sgd, 0); }, {"CosineAnnealingLR: T_max must be >= 1, got 0"});
  expect([&] { optim::CosineAnnealingLR(sgd, 10, -0.5); }, {"CosineAnnealingLR: eta_min must be >= 0, got -0.5"});
  expect([&] { optim::ExponentialLR(sgd, 0.0); }, {"ExponentialLR: gamma must be > 0, got 0"});
  expect([&] { optim::StepLR(sgd, 0); }, {"StepLR: step_size must be >= 1, got 0"});
  expect([&] { optim::LambdaLR(sgd, optim::LRLambda()); }, {"LambdaLR: lr_lambda is an empty function"});
  expect([&] { optim::LambdaLR(sgd, std::vector<optim::LRLambda>{constant(1)}); },
         {"LambdaLR: lr_lambdas must hold one function per parameter group (2), got 1"});
  expect([&] { optim::MultiplicativeLR(sgd, std::vector<optim::LRLambda>{constant(1), nullptr}); },
         {"MultiplicativeLR: lr_lambdas[1] is an empty function"});
  expect([&] { optim::OneCycleLR(sgd, 0.1, 0); }, {"OneCycleLR: total_steps must be >= 1, got 0"});
  expect([&] { optim::OneCycleLR(sgd, 0.1, 10, 1.5); }, {"OneCycleLR: pct_start must be in [0, 1], got 1.5"});
  expect([&] { optim::OneCycleLR(sgd, -0.1, 10); }, {"OneCycleLR: max_lr must be >= 0, got -0.1"});
  expect([&] { optim::OneCycleLR(sgd, std::vector<double>{0.1}, 10); },
         {"OneCycleLR: max_lr must hold one rate per parameter group (2), got 1"});
  expect([&] { optim::OneCycleLR(sgd, 0.1, 10, 0.3, optim::OneCycleLR::AnnealStrategy::cos, true, 0.85, 0.95, 0.0); },
         {"OneCycleLR: div_factor must be > 0, got 0"});
  // Python divides by zero here: step 0 falls in a warm-up that ends at step 0.
  expect([&] { optim::OneCycleLR(sgd, 0.1, 10, 0.1); },
         {"OneCycleLR: pct_start * total_steps must not be 1", "pct_start 0.1", "total_steps 10"});
  optim::Adagrad adagrad({parameter()}, 0.1);
  expect([&] { optim::OneCycleLR(adagrad, 0.1, 10); },
         {"OneCycleLR: cycle_momentum is true but the Adagrad optimiser has neither a momentum nor a betas option"});
  using Plateau = optim::ReduceLROnPlateauScheduler;
  expect([&] { Plateau(sgd, Plateau::min, 1.0); }, {"ReduceLROnPlateauScheduler: factor must be < 1, got 1"});
  expect([&] { Plateau(sgd, Plateau::min, 0.1, -1); }, {"ReduceLROnPlateauScheduler: patience must be >= 0, got -1"});
  expect([&] { Plateau(sgd, Plateau::min, 0.1, 10, 1e-4, Plateau::rel, -2); },
         {"ReduceLROnPlateauScheduler: cooldown must be >= 0, got -2"});
  expect([&] { Plateau(sgd, Plateau::min, 0.1, 10, 1e-4, Plateau::rel, 0, {0.1, 0.2, 0.3}); },
         {"ReduceLROnPlateauScheduler: min_lr must hold no value, one, or one per parameter group (2), got 3"});
  expect([&] { Plateau(sgd, Plateau::min, 0.1, 10, 1e-4, Plateau::rel, 0, {-0.1}); },
         {"ReduceLROnPlateauScheduler: min_lr must be >= 0, got -0.1"});
  // None of the refused schedulers touched the rates.
  EXPECT_EQ(group_lrs(sgd), (std::vector<double>{0.1, 0.03}));
  EXPECT_FALSE(sgd.param_groups()[0].initial_lr().has_value());
}

TEST(Schedulers, TheConstructorSetsTheRatesOfEpochZero) {
  optim::SGD sgd(two_groups(), 0.1);
  optim::LinearLR warmup(sgd, 0.5, 1.0, 2);
  EXPECT_EQ(group_lrs(sgd), (std::vector<double>{0.05, 0.015}));
  EXPECT_EQ(warmup.get_last_lr(), group_lrs(sgd));
  EXPECT_EQ(warmup.last_epoch(), 0);
  EXPECT_EQ(warmup.base_lrs(), (std::vector<double>{0.1, 0.03}));
  EXPECT_EQ(warmup.name(), "LinearLR");
  warmup.step();
  warmup.step();
  EXPECT_EQ(group_lrs(sgd), (std::vector<double>{0.1, 0.03}));
  warmup.step();  // past total_iters the rate stays
  EXPECT_EQ(group_lrs(sgd), (std::vector<double>{0.1, 0.03}));
  EXPECT_EQ(warmup.last_epoch(), 3);
}

// The second scheduler counts from the rate before the first lowered it (the groups' initial_lr),
// and SequentialLR goes back to it: Python's order of construction gives Python's schedule.
TEST(Schedulers, SequentialSchedulersShareTheInitialRate) {
  optim::SGD sgd({parameter()}, 1.0);
  auto warmup = std::make_shared<optim::LinearLR>(sgd, 0.25, 1.0, 2);
  EXPECT_EQ(group_lrs(sgd), std::vector<double>{0.25});
  auto decay = std::make_shared<optim::ExponentialLR>(sgd, 0.5);
  EXPECT_EQ(decay->base_lrs(), std::vector<double>{1.0});
  optim::SequentialLR schedule(sgd, {warmup, decay}, {2});
  EXPECT_EQ(sgd.param_groups()[0].initial_lr(), 1.0);
  std::vector<double> lrs{group_lrs(sgd)[0]};
  for (int i = 0; i < 4; ++i) {
    schedule.step();
    lrs.push_back(schedule.get_last_lr()[0]);
  }
  // warm-up 0.25, 0.625; at the milestone ExponentialLR starts again from 1.0, then halves.
  EXPECT_EQ(lrs, (std::vector<double>{0.25, 0.625, 1.0, 0.5, 0.25}));
  EXPECT_EQ(schedule.last_epoch(), 4);
  EXPECT_EQ(decay->last_epoch(), 2);
}

TEST(Schedulers, SequentialLRErrors) {
  optim::SGD sgd({parameter()}, 1.0);
  optim::SGD other({parameter()}, 1.0);
  auto mine = std::make_shared<optim::ExponentialLR>(sgd, 0.5);
  auto theirs = std::make_shared<optim::ExponentialLR>(other, 0.5);
  EXPECT_TRUE(throws_error_containing([&] { optim::SequentialLR(sgd, {}, {}); },
                                      {"SequentialLR: schedulers must hold at least one scheduler, got none"}));
  EXPECT_TRUE(throws_error_containing([&] { optim::SequentialLR(sgd, {mine, nullptr}, {2}); },
                                      {"SequentialLR: schedulers[1] is null"}));
  EXPECT_TRUE(throws_error_containing([&] { optim::SequentialLR(sgd, {mine, theirs}, {2}); },
                                      {"SequentialLR: schedulers[1] (ExponentialLR) was made for another optimiser"}));
  EXPECT_TRUE(throws_error_containing([&] { optim::SequentialLR(sgd, {mine, mine}, {2, 3}); },
                                      {"SequentialLR: milestones must hold one less than the 2 schedulers, got 2"}));
}

TEST(Schedulers, OneCycleLRStopsAtTotalStepsAndAFailedStepChangesNothing) {
  optim::Adam adam({parameter()}, optim::AdamOptions(0.01).betas({0.9, 0.99}));
  optim::OneCycleLR cycle(adam, 0.1, 4);
  // The momentum cycled is beta1; beta2 stays.
  auto& options = static_cast<optim::AdamOptions&>(adam.param_groups()[0].options());
  EXPECT_EQ(std::get<1>(options.betas()), 0.99);
  for (int i = 0; i < 4; ++i) cycle.step();  // as many steps as total_steps: Python allows them
  const std::vector<double> lrs = group_lrs(adam);
  const auto betas = options.betas();
  EXPECT_TRUE(throws_error_containing([&] { cycle.step(); },
                                      {"OneCycleLR: step() called 5 times, more than total_steps (4)"}));
  EXPECT_EQ(cycle.last_epoch(), 4);
  EXPECT_EQ(group_lrs(adam), lrs);
  EXPECT_EQ(options.betas(), betas);
  EXPECT_EQ(cycle.get_last_lr(), lrs);
}

TEST(Schedulers, AFunctionThatThrowsLeavesTheScheduleWhereItWas) {
  optim::SGD sgd({parameter()}, 1.0);
  optim::LambdaLR schedule(sgd, [](std::int64_t epoch) {
    if (epoch == 2) throw Error("no rate for epoch 2");
    return 1.0 / static_cast<double>(epoch + 1);
  });
  schedule.step();
  EXPECT_TRUE(throws_error_containing([&] { schedule.step(); }, {"no rate for epoch 2"}));
  EXPECT_EQ(schedule.last_epoch(), 1);
  EXPECT_EQ(group_lrs(sgd), std::vector<double>{0.5});
}

TEST(Schedulers, ReduceLROnPlateauPrintsReductionsAsPython) {
  optim::SGD sgd(two_groups(), 0.1);
  optim::ReduceLROnPlateauScheduler plateau(sgd, optim::ReduceLROnPlateauScheduler::min, 0.5, 1, 1e-4,
                                            optim::ReduceLROnPlateauScheduler::rel, 0, {0.02}, 1e-8, true);
  EXPECT_EQ(plateau.get_last_lr(), (std::vector<double>{0.1, 0.03}));
  ::testing::internal::CaptureStdout();
  for (int epoch = 0; epoch < 3; ++epoch) plateau.step(1.0);
  const std::string printed = ::testing::internal::GetCapturedStdout();
  // Group 1 would drop to 0.015 but stops at min_lr 0.02.
  EXPECT_EQ(printed,
            "Epoch 00003: reducing learning rate of group 0 to 5.0000e-02.\n"
            "Epoch 00003: reducing learning rate of group 1 to 2.0000e-02.\n");
  EXPECT_EQ(plateau.get_last_lr(), (std::vector<double>{0.05, 0.02}));
  sgd.add_param_group(optim::OptimizerParamGroup({parameter()}));
  EXPECT_TRUE(throws_error_containing([&] { plateau.step(1.0); },
                                      {"ReduceLROnPlateauScheduler: the optimiser has 3 parameter groups, but the "
                                       "scheduler was made for 2"}));
}

// A scheduler written as for libtorch: its constructor sets nothing, and get_lrs() sees
// step_count_, the calls already made.
class HalveEveryOtherStep : public optim::LRScheduler {
 public:
  explicit HalveEveryOtherStep(optim::Optimizer& optimizer) : LRScheduler(optimizer) {}

 private:
  std::vector<double> get_lrs() override {
    std::vector<double> lrs = get_current_lrs();
    if (step_count_ % 2 == 1)
      for (double& lr : lrs) lr /= 2;
    return lrs;
  }
};

TEST(Schedulers, ASchedulerWrittenAsForLibtorch) {
  optim::SGD sgd({parameter()}, 1.0);
  HalveEveryOtherStep schedule(sgd);
  EXPECT_EQ(schedule.name(), "LRScheduler");
  EXPECT_FALSE(sgd.param_groups()[0].initial_lr().has_value());
  std::vector<double> lrs;
  for (int i = 0; i < 4; ++i) {
    schedule.step();
    lrs.push_back(group_lrs(sgd)[0]);
  }
  EXPECT_EQ(lrs, (std::vector<double>{1.0, 0.5, 0.5, 0.25}));
  EXPECT_EQ(schedule.last_epoch(), 4);
}

// libtorch's rule, which Python's differs from: a group given its own options keeps all of them, not
// only those set; a group given none gets the optimiser's defaults whole.
TEST(ParamGroups, OptionsGivenToAGroupAreKeptWhole) {
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{parameter()});
  groups.emplace_back(std::vector<Tensor>{parameter()}, std::make_unique<optim::AdamWOptions>(0.05));
  const auto defaults = optim::AdamWOptions(0.001).betas({0.8, 0.9}).weight_decay(0.1).amsgrad(true);
  optim::AdamW adamw(groups, defaults);
  const auto& first = static_cast<const optim::AdamWOptions&>(adamw.param_groups()[0].options());
  const auto& second = static_cast<const optim::AdamWOptions&>(adamw.param_groups()[1].options());
  EXPECT_TRUE(first == defaults);
  // Not the defaults' betas, weight_decay or amsgrad (Python would take them): AdamWOptions' own.
  EXPECT_TRUE(second == optim::AdamWOptions(0.05));
  EXPECT_EQ(second.weight_decay(), 1e-2);
  EXPECT_EQ(second.betas(), (std::tuple<double, double>{0.9, 0.999}));
  EXPECT_FALSE(second.amsgrad());
  // Each group owns its copy: changing the defaults later changes neither.
  static_cast<optim::AdamWOptions&>(adamw.defaults()).weight_decay(0.5);
  EXPECT_EQ(first.weight_decay(), 0.1);
  EXPECT_EQ(second.weight_decay(), 1e-2);
  // A scheduler changes only the rate of each group.
  optim::ExponentialLR decay(adamw, 0.5);
  decay.step();
  EXPECT_EQ(second.lr(), 0.025);
  EXPECT_EQ(second.weight_decay(), 1e-2);
}

}  // namespace
}  // namespace xgrad
