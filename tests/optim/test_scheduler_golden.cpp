// The schedulers against PyTorch (tests/golden/schedulers.json): every group's learning rate, and
// the momentum OneCycleLR cycles, after the constructor and after each step, equal to the last bit;
// ReduceLROnPlateau's rates and counters; and training runs with a scheduler, among them AdamW with
// nanoGPT's parameter groups.
#include <gtest/gtest.h>

#include "compare.hpp"
#include "optim_golden.hpp"
#include "scheduler_golden.hpp"

namespace xgrad {
namespace {

using testing::Json;

const Json& fixture() { return testing::golden_file("schedulers.json"); }

// One float64 parameter per group, each group with the fixture's options at its own rate.
struct ScheduleSetup {
  explicit ScheduleSetup(const Json& run) {
    std::vector<optim::OptimizerParamGroup> groups;
    for (const Json& lr : run.at("group_lrs")) {
      Json options = run.at("options");
      options["lr"] = lr;
      groups.emplace_back(std::vector<Tensor>{zeros({2}, kFloat64).requires_grad_(true)},
                          testing::golden_options(run.at("optimizer"), options));
    }
    optimizer = testing::make_golden_optimizer(run.at("optimizer"), groups, run.at("options"));
  }
  std::unique_ptr<optim::Optimizer> optimizer;
};

TEST(SchedulersGolden, RatesAndMomentaMatchPyTorchBitForBit) {
  ASSERT_EQ(fixture().at("schedules").size(), 18u);
  for (const Json& run : fixture().at("schedules")) {
    SCOPED_TRACE(run.at("optimizer").get<std::string>() + " " + run.at("scheduler").dump());
    ScheduleSetup setup(run);
    optim::Optimizer& optimizer = *setup.optimizer;
    const auto scheduler = testing::make_golden_scheduler(run.at("scheduler"), optimizer);
    const Json& lrs = run.at("lrs");
    for (std::size_t epoch = 0; epoch < lrs.size(); ++epoch) {
      if (epoch > 0) scheduler->step();
      EXPECT_EQ(scheduler->last_epoch(), static_cast<std::int64_t>(epoch));
      const auto expected = lrs[epoch].get<std::vector<double>>();
      EXPECT_TRUE(testing::same_doubles(testing::group_lrs(optimizer), expected)) << "epoch " << epoch;
      EXPECT_TRUE(testing::same_doubles(scheduler->get_last_lr(), expected)) << "epoch " << epoch;
      if (run.contains("momenta"))
        EXPECT_TRUE(testing::same_doubles(testing::group_momenta(optimizer),
                                          run.at("momenta")[epoch].get<std::vector<double>>()))
            << "epoch " << epoch;
    }
  }
}

optim::ReduceLROnPlateauScheduler make_plateau(optim::Optimizer& optimizer, const Json& args) {
  using Plateau = optim::ReduceLROnPlateauScheduler;
  std::vector<double> min_lr;
  if (args.contains("min_lr"))
    min_lr = args.at("min_lr").is_array() ? args.at("min_lr").get<std::vector<double>>()
                                          : std::vector<double>{args.at("min_lr").get<double>()};
  return Plateau(optimizer, args.value("mode", std::string("min")) == "max" ? Plateau::max : Plateau::min,
                 args.value("factor", 0.1), args.value("patience", 10), args.value("threshold", 1e-4),
                 args.value("threshold_mode", std::string("rel")) == "abs" ? Plateau::abs : Plateau::rel,
                 args.value("cooldown", 0), min_lr, args.value("eps", 1e-8));
}

TEST(SchedulersGolden, ReduceLROnPlateauMatchesPyTorch) {
  ASSERT_EQ(fixture().at("plateaus").size(), 6u);
  for (const Json& run : fixture().at("plateaus")) {
    SCOPED_TRACE(run.at("args").dump());
    std::vector<optim::OptimizerParamGroup> groups;
    for (const Json& lr : run.at("group_lrs"))
      groups.emplace_back(std::vector<Tensor>{zeros({2}, kFloat64).requires_grad_(true)},
                          std::make_unique<optim::SGDOptions>(lr.get<double>()));
    optim::SGD sgd(groups, 0.1);
    auto plateau = make_plateau(sgd, run.at("args"));
    for (std::size_t epoch = 0; epoch < run.at("metrics").size(); ++epoch) {
      plateau.step(run.at("metrics")[epoch].get<double>());
      const auto expected = run.at("lrs")[epoch].get<std::vector<double>>();
      EXPECT_TRUE(testing::same_doubles(testing::group_lrs(sgd), expected)) << "epoch " << epoch;
      EXPECT_TRUE(testing::same_doubles(plateau.get_last_lr(), expected)) << "epoch " << epoch;
      EXPECT_EQ(plateau.best(), testing::golden_number(run.at("best")[epoch])) << "epoch " << epoch;
      EXPECT_EQ(plateau.num_bad_epochs(), run.at("num_bad_epochs")[epoch].get<std::int64_t>()) << "epoch " << epoch;
      EXPECT_EQ(plateau.cooldown_counter(), run.at("cooldown_counter")[epoch].get<std::int64_t>()) << "epoch " << epoch;
      EXPECT_EQ(plateau.last_epoch(), run.at("last_epoch")[epoch].get<std::int64_t>()) << "epoch " << epoch;
    }
  }
}

// Trains as the fixture's run did, with the optimiser over `groups`, and compares each step's loss,
// parameters and rates, and the final state.
void expect_trajectory(const Json& run, const testing::GoldenMlp& mlp, std::vector<optim::OptimizerParamGroup> groups) {
  const auto optimizer = testing::make_golden_optimizer(run.at("optimizer"), std::move(groups), run.at("options"));
  std::shared_ptr<optim::LRScheduler> scheduler;
  if (!run.at("scheduler").is_null()) scheduler = testing::make_golden_scheduler(run.at("scheduler"), *optimizer);
  for (std::size_t step = 0; step < run.at("losses").size(); ++step) {
    optimizer->zero_grad();
    const Tensor loss = mlp.loss();
    loss.backward();
    optimizer->step();
    if (scheduler) scheduler->step();
    const double expected = run.at("losses")[step];
    EXPECT_NEAR(loss.item<double>(), expected, testing::loss_tolerance(loss, expected)) << "step " << step;
    EXPECT_TRUE(testing::same_doubles(testing::group_lrs(*optimizer), run.at("lrs")[step].get<std::vector<double>>()))
        << "step " << step;
    for (const std::string& param : mlp.names)
      EXPECT_TRUE(testing::matches_trajectory(mlp.param(param),
                                              testing::golden_tensor(run.at("params")[step].at(param))))
          << param << " after step " << step;
  }
  std::size_t index = 0;
  for (const auto& group : optimizer->param_groups())
    for (std::size_t k = 0; k < group.params().size(); ++k, ++index)
      EXPECT_TRUE(testing::matches_golden_state(optimizer->state()[index], run.at("state")[index]))
          << "parameter " << index;
}

Dtype dtype_of_run(const Json& run) { return run.at("dtype") == "float32" ? kFloat32 : kFloat64; }

// A group given options keeps them whole (as libtorch's), where Python fills in the defaults' other
// keys: so each group here gets the defaults with the group's overrides, as PyTorch saw them.
std::unique_ptr<optim::OptimizerOptions> group_options(const Json& run, const Json& group) {
  Json options = run.at("options");
  options.update(group.at("options"));
  return testing::golden_options(run.at("optimizer"), options);
}

TEST(SchedulersGolden, TrainingWithOneCycleMatchesPyTorch) {
  std::size_t runs = 0;
  for (const Json& run : fixture().at("trajectories")) {
    if (run.at("scheduler").is_null() || run.at("scheduler").at("type") != "OneCycleLR") continue;
    ++runs;
    SCOPED_TRACE(run.at("optimizer").get<std::string>() + " " + run.at("dtype").get<std::string>());
    const testing::GoldenMlp mlp(fixture(), dtype_of_run(run));
    std::vector<optim::OptimizerParamGroup> groups;
    for (const Json& group : run.at("groups")) {
      std::vector<Tensor> params;
      for (const Json& name : group.at("params")) params.push_back(mlp.param(name));
      groups.emplace_back(params, group_options(run, group));
    }
    expect_trajectory(run, mlp, std::move(groups));
  }
  EXPECT_EQ(runs, 4u);
}

// nanoGPT's configure_optimizers, in xgrad: every parameter of dim >= 2 (the matrices) in a group
// that decays, the rest (biases, norms) in one that does not. Each group gets whole AdamWOptions.
std::vector<optim::OptimizerParamGroup> nanogpt_groups(const testing::GoldenMlp& mlp, const optim::AdamWOptions& base,
                                                       std::vector<std::string>& decay_names,
                                                       std::vector<std::string>& no_decay_names) {
  std::vector<Tensor> decay, no_decay;
  for (const std::string& name : mlp.names) {
    const Tensor& p = mlp.param(name);
    (p.dim() >= 2 ? decay : no_decay).push_back(p);
    (p.dim() >= 2 ? decay_names : no_decay_names).push_back(name);
  }
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<optim::AdamWOptions>(optim::AdamWOptions(base).weight_decay(0.1)));
  groups.emplace_back(no_decay, std::make_unique<optim::AdamWOptions>(optim::AdamWOptions(base).weight_decay(0.0)));
  return groups;
}

TEST(SchedulersGolden, AdamWWithNanoGPTGroupsMatchesPyTorch) {
  std::size_t runs = 0;
  for (const Json& run : fixture().at("trajectories")) {
    if (run.at("optimizer") != "AdamW") continue;
    ++runs;
    SCOPED_TRACE(run.at("dtype").get<std::string>() + " " + run.at("scheduler").dump());
    const testing::GoldenMlp mlp(fixture(), dtype_of_run(run));
    const optim::AdamWOptions base = optim::AdamWOptions(0.01).betas({0.9, 0.95});
    std::vector<std::string> decay, no_decay;
    auto groups = nanogpt_groups(mlp, base, decay, no_decay);
    // The split is PyTorch's, and it is not all or nothing.
    EXPECT_EQ(decay, run.at("groups")[0].at("params").get<std::vector<std::string>>());
    EXPECT_EQ(no_decay, run.at("groups")[1].at("params").get<std::vector<std::string>>());
    EXPECT_EQ(decay, (std::vector<std::string>{"0.weight", "2.weight"}));
    expect_trajectory(run, mlp, std::move(groups));
  }
  EXPECT_EQ(runs, 4u);
}

// Without the split (weight decay 0.1 on the biases too) the trajectory is another one: the test
// above could fail.
TEST(SchedulersGolden, DecayingTheBiasesTooChangesTheTrajectory) {
  const Json& run = fixture().at("trajectories")[4];
  ASSERT_EQ(run.at("optimizer"), "AdamW");
  ASSERT_TRUE(run.at("scheduler").is_null());
  const testing::GoldenMlp mlp(fixture(), dtype_of_run(run));
  optim::AdamW adamw(mlp.params, optim::AdamWOptions(0.01).betas({0.9, 0.95}).weight_decay(0.1));
  for (std::size_t step = 0; step < run.at("losses").size(); ++step) {
    adamw.zero_grad();
    mlp.loss().backward();
    adamw.step();
  }
  const Tensor pytorch_bias = testing::golden_tensor(run.at("params").back().at("0.bias"));
  EXPECT_FALSE(testing::matches_trajectory(mlp.param("0.bias"), pytorch_bias));
}

}  // namespace
}  // namespace xgrad
