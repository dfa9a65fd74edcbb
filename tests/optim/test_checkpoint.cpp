// xgrad::save / xgrad::load for optimisers: training resumed from a checkpoint follows the
// trajectory it would have followed without stopping, bit for bit, for every optimiser; the file's
// layout; and files that do not fit the optimiser, which must leave it untouched.
#include <gtest/gtest.h>

#include <xgrad/nn/npz_impl.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "checkpoint_files.hpp"
#include "compare.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using testing::throws_error_containing;

// A fresh directory per test (checkpoint_files.hpp).
class OptimizerCheckpoint : public testing::CheckpointFiles {};

// One step on a fixed batch that depends on the step number, so every step sees other data.
void train(nn::Sequential& model, optim::Optimizer& optimizer, optim::StepLR* scheduler, int first, int steps) {
  for (int step = first; step < first + steps; ++step) {
    manual_seed(1000 + static_cast<std::uint64_t>(step));
    const Tensor x = randn({16, 3});
    const Tensor y = randint(0, 4, {16});
    optimizer.zero_grad();
    F::cross_entropy(model(x), y).backward();
    optimizer.step();
    if (scheduler) scheduler->step();
  }
}

std::vector<std::string> parameter_bytes(const nn::Sequential& model) {
  std::vector<std::string> out;
  for (const Tensor& p : model->parameters())
    out.emplace_back(reinterpret_cast<const char*>(p.data<float>()), static_cast<std::size_t>(p.numel()) * 4);
  return out;
}

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

const std::map<std::string, MakeOptimizer>& every_optimizer() {
  static const std::map<std::string, MakeOptimizer> makers = {
      {"Adam", [](std::vector<Tensor> p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions(0.01)); }},
      {"Adam amsgrad",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::Adam>(p, optim::AdamOptions(0.01).amsgrad(true).weight_decay(0.1));
       }},
      {"AdamW", [](std::vector<Tensor> p) { return std::make_unique<optim::AdamW>(p, optim::AdamWOptions(0.01)); }},
      {"SGD",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::SGD>(p, optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
       }},
      {"RMSprop",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::RMSprop>(p, optim::RMSpropOptions(0.01).momentum(0.5).centered(true));
       }},
      {"Adagrad",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::Adagrad>(p, optim::AdagradOptions(0.1).lr_decay(0.01));
       }},
  };
  return makers;
}

// Train 6 steps, save, train 5 more; versus: a fresh model and optimiser (other weights, other
// learning rate) load the files and train the same 5. StepLR(step_size 3) lowers the rate at steps
// 3, 6 (before the save: only the checkpoint knows it) and 9 (after). A new scheduler counts from
// the load, and 6 is a multiple of 3, so it lowers the rate at the same steps as the old one.
TEST_F(OptimizerCheckpoint, ResumedTrainingFollowsTheSameTrajectoryBitwise) {
  for (const auto& [name, make] : every_optimizer()) {
    nn::Sequential model = testing::checkpoint_model(1);
    auto optimizer = make(model->parameters());
    optim::StepLR scheduler(*optimizer, 3, 0.5);
    train(model, *optimizer, &scheduler, 0, 6);
    xgrad::save(model, model_path);
    xgrad::save(*optimizer, optimizer_path);
    train(model, *optimizer, &scheduler, 6, 5);

    nn::Sequential resumed = testing::checkpoint_model(2);
    auto resumed_optimizer = make(resumed->parameters());
    resumed_optimizer->param_groups()[0].options().set_lr(0.5);
    xgrad::load(resumed, model_path);
    xgrad::load(*resumed_optimizer, optimizer_path);
    EXPECT_EQ(resumed_optimizer->param_groups()[0].options().get_lr(),
              optimizer->param_groups()[0].options().get_lr() * 2.0) << name;  // lowered once more since the save
    optim::StepLR resumed_scheduler(*resumed_optimizer, 3, 0.5);
    train(resumed, *resumed_optimizer, &resumed_scheduler, 6, 5);
    EXPECT_EQ(parameter_bytes(resumed), parameter_bytes(model)) << name;
  }
}

TEST_F(OptimizerCheckpoint, FileLaysOutGroupsOptionsAndState) {
  nn::Sequential model = testing::checkpoint_model(1);
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(model[0]->parameters());
  groups.emplace_back(model[2]->parameters(),
                      std::make_unique<optim::AdamOptions>(optim::AdamOptions(0.5).amsgrad(true)));
  optim::Adam adam(groups, optim::AdamOptions(0.01).betas({0.8, 0.9}));
  // Only the first layer gets a gradient: the others have no state yet.
  model[0]->parameters()[0].sum().backward();
  adam.step();
  xgrad::save(adam, optimizer_path);

  std::map<std::string, Tensor> file;
  for (const auto& [key, value] : npz::read("test", optimizer_path)) file.emplace(key, value);
  std::vector<std::string> names;
  for (const auto& entry : file) names.push_back(entry.first);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "optimizer",
                       "param_groups.0.amsgrad", "param_groups.0.betas", "param_groups.0.eps", "param_groups.0.lr",
                       "param_groups.0.maximize", "param_groups.0.params", "param_groups.0.weight_decay",
                       "param_groups.1.amsgrad", "param_groups.1.betas", "param_groups.1.eps", "param_groups.1.lr",
                       "param_groups.1.maximize", "param_groups.1.params", "param_groups.1.weight_decay",
                       "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step",
                       "state.1.step", "state.2.step", "state.3.step"}));
  const Tensor name = file["optimizer"];
  EXPECT_EQ(std::string(name.data<std::uint8_t>(), name.data<std::uint8_t>() + name.numel()), "Adam");
  EXPECT_EQ(file["param_groups.0.params"].to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(file["param_groups.1.params"].to_vector<std::int64_t>(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(file["param_groups.0.betas"].to_vector<double>(), (std::vector<double>{0.8, 0.9}));
  EXPECT_EQ(file["param_groups.0.lr"].dim(), 0);
  EXPECT_EQ(file["param_groups.0.lr"].item<double>(), 0.01);
  EXPECT_EQ(file["param_groups.1.lr"].item<double>(), 0.5);
  EXPECT_EQ(file["param_groups.1.amsgrad"].dtype(), kBool);
  EXPECT_TRUE(file["param_groups.1.amsgrad"].item<bool>());
  EXPECT_EQ(file["state.0.step"].dtype(), kInt64);
  EXPECT_EQ(file["state.0.step"].item<std::int64_t>(), 1);
  EXPECT_EQ(file["state.1.step"].item<std::int64_t>(), 0);
  EXPECT_EQ(file["state.0.exp_avg"].to_vector<float>(), adam.state()[0].exp_avg.to_vector<float>());

  // The groups' options come back with the state.
  nn::Sequential other = testing::checkpoint_model(2);
  std::vector<optim::OptimizerParamGroup> other_groups;
  other_groups.emplace_back(other[0]->parameters());
  other_groups.emplace_back(other[2]->parameters());
  optim::Adam restored(other_groups);
  xgrad::load(restored, optimizer_path);
  EXPECT_TRUE(static_cast<optim::AdamOptions&>(restored.param_groups()[1].options()) ==
              optim::AdamOptions(0.5).amsgrad(true));
  EXPECT_TRUE(static_cast<optim::AdamOptions&>(restored.param_groups()[0].options()) ==
              optim::AdamOptions(0.01).betas({0.8, 0.9}));
  EXPECT_EQ(restored.state()[0].step, 1);
  EXPECT_FALSE(restored.state()[1].exp_avg.defined());
}

// An optimiser's values worth comparing before and after a failed load.
std::vector<double> fingerprint(const optim::Optimizer& optimizer) {
  std::vector<double> values;
  for (const auto& group : optimizer.param_groups()) values.push_back(group.options().get_lr());
  for (const auto& state : optimizer.state()) {
    values.push_back(static_cast<double>(state.step));
    for (const auto& [slot, tensor] : state.tensors())
      if (tensor->defined())
        for (float v : tensor->to_vector<float>()) values.push_back(v);
  }
  return values;
}

// Rewrites the optimiser file with `change` applied to its entries.
void rewrite(const std::string& path, const std::function<void(std::vector<npz::Entry>&)>& change) {
  std::vector<npz::Entry> entries = npz::read("test", path);
  change(entries);
  npz::write("test", path, entries);
}

TEST_F(OptimizerCheckpoint, FilesThatDoNotFitAreErrorsAndChangeNothing) {
  nn::Sequential model = testing::checkpoint_model(1);
  optim::Adam adam(model->parameters(), optim::AdamOptions(0.01));
  train(model, adam, nullptr, 0, 2);
  const std::string saved = optimizer_path;

  auto expect_rejected = [&](optim::Optimizer& target, const std::vector<std::string>& fragments) {
    const auto before = fingerprint(target);
    std::vector<std::string> expected{"load: ", saved};
    expected.insert(expected.end(), fragments.begin(), fragments.end());
    EXPECT_TRUE(throws_error_containing([&] { xgrad::load(target, saved); }, expected));
    EXPECT_EQ(fingerprint(target), before);
  };

  // Another optimiser type: AdamW's entries have Adam's names, the saved name tells them apart.
  xgrad::save(adam, saved);
  nn::Sequential other = testing::checkpoint_model(2);
  optim::AdamW adamw(other->parameters());
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(adamw, saved); },
                                      {"load: ", saved, "entry \"optimizer\"", "Adam optimiser", "AdamW"}));
  optim::SGD sgd(other->parameters(), 0.1);
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(sgd, saved); }, {"entry \"optimizer\"", "not of a SGD"}));

  // Other parameter counts or groups.
  nn::Sequential bigger{nn::Linear(3, 8), nn::Tanh(), nn::Linear(8, 4), nn::Linear(4, 2)};
  optim::Adam too_many(bigger->parameters());
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(too_many, saved); },
                                      {"1 parameter groups with 4 parameters", "Adam optimiser 1 with 6"}));
  nn::Sequential same = testing::checkpoint_model(3);
  std::vector<optim::OptimizerParamGroup> split;
  split.emplace_back(same[0]->parameters());
  split.emplace_back(same[2]->parameters());
  optim::Adam two_groups(split);
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(two_groups, saved); }, {"1 parameter groups", "2 with 4"}));

  // Other shapes.
  manual_seed(3);
  nn::Sequential wider{nn::Linear(3, 9), nn::Tanh(), nn::Linear(9, 4)};
  optim::Adam wide(wider->parameters());
  wide.param_groups()[0].options().set_lr(0.25);
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(wide, saved); },
                                      {"entry \"state.0.exp_avg\"", "[8, 3]", "parameter 0", "[9, 3]"}));
  EXPECT_EQ(wide.param_groups()[0].options().get_lr(), 0.25);

  // Entries missing, left over, of another kind.
  optim::Adam target(other->parameters(), optim::AdamOptions(0.125));
  train(other, target, nullptr, 0, 1);  // state worth keeping
  rewrite(saved, [](auto& entries) { entries.erase(entries.begin() + 3); });  // param_groups.0.betas
  expect_rejected(target, {"no entry \"param_groups.0.betas\""});
  xgrad::save(adam, saved);
  rewrite(saved, [](auto& entries) { entries.emplace_back("state.0.velocity", zeros({8, 3})); });
  expect_rejected(target, {"entry \"state.0.velocity\" matches nothing"});
  xgrad::save(adam, saved);
  rewrite(saved, [](auto& entries) {
    for (auto& [key, value] : entries)
      if (key == "param_groups.0.lr") value = tensor({0.1f});
  });
  expect_rejected(target, {"entry \"param_groups.0.lr\"", "float32 of shape [1]", "float64 of shape []"});
  xgrad::save(adam, saved);
  rewrite(saved, [](auto& entries) {
    for (auto& [key, value] : entries)
      if (key == "state.1.exp_avg_sq") value = value.to(kFloat64);
  });
  expect_rejected(target, {"entry \"state.1.exp_avg_sq\"", "float64", "float32"});
  xgrad::save(adam, saved);
  rewrite(saved, [](auto& entries) {
    for (auto& [key, value] : entries)
      if (key == "param_groups.0.params") value = tensor({0L, 2L, 1L, 3L});
  });
  expect_rejected(target, {"entry \"param_groups.0.params\"", "numbers the group's parameters differently"});

  // A module file is no optimiser file, and a bad file is reported as for modules.
  xgrad::save(model, saved);
  expect_rejected(target, {"no entry \"optimizer\""});
  std::ofstream(saved, std::ios::trunc) << "not a zip";
  expect_rejected(target, {"zip"});
}

}  // namespace
}  // namespace xgrad
