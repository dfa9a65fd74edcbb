// xgrad::save / xgrad::load of an optimiser with its scheduler: training resumed from the files
// follows the uninterrupted run bit for bit, rates included, for every scheduler; the file's
// scheduler entries; and files that do not fit, which must leave optimiser and scheduler untouched.
#include <gtest/gtest.h>

#include <xgrad/nn/npz_impl.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>

#include "checkpoint_files.hpp"
#include "compare.hpp"
#include "scheduler_golden.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using testing::group_lrs;
using testing::throws_error_containing;

// A fresh directory per test (checkpoint_files.hpp).
class SchedulerCheckpoint : public testing::CheckpointFiles {};

// The model's weights in one group and its biases in another, so that rates differ by group.
std::vector<optim::OptimizerParamGroup> weights_and_biases(nn::Sequential& model) {
  std::vector<Tensor> weights, biases;
  for (const Tensor& p : model->parameters()) (p.dim() >= 2 ? weights : biases).push_back(p);
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(weights);
  groups.emplace_back(biases, std::make_unique<optim::AdamOptions>(optim::AdamOptions(0.02).betas({0.9, 0.95})));
  return groups;
}

// One step on a batch that depends on the step number; returns the loss.
double train_step(nn::Sequential& model, optim::Optimizer& optimizer, int step) {
  manual_seed(1000 + static_cast<std::uint64_t>(step));
  const Tensor x = randn({16, 3});
  const Tensor y = randint(0, 4, {16});
  optimizer.zero_grad();
  const Tensor loss = F::cross_entropy(model(x), y);
  loss.backward();
  optimizer.step();
  return loss.item<double>();
}

std::vector<std::string> parameter_bytes(const nn::Sequential& model) {
  std::vector<std::string> out;
  for (const Tensor& p : model->parameters())
    out.emplace_back(reinterpret_cast<const char*>(p.data<float>()), static_cast<std::size_t>(p.numel()) * 4);
  return out;
}

// What a run records after each step: both groups' rates and beta1 (which OneCycleLR cycles).
using Trace = std::vector<std::vector<double>>;

void record(Trace& trace, optim::Optimizer& optimizer) {
  std::vector<double> row = group_lrs(optimizer);
  for (const double beta1 : testing::group_momenta(optimizer)) row.push_back(beta1);
  trace.push_back(row);
}

using MakeScheduler = std::function<std::shared_ptr<optim::LRScheduler>(optim::Optimizer&)>;

const std::map<std::string, MakeScheduler>& every_scheduler() {
  static const std::map<std::string, MakeScheduler> makers = {
      {"StepLR", [](optim::Optimizer& o) { return std::make_shared<optim::StepLR>(o, 3, 0.5); }},
      {"LambdaLR",
       [](optim::Optimizer& o) {
         return std::make_shared<optim::LambdaLR>(o, testing::golden_lambda("0.95 ** epoch"));
       }},
      {"MultiplicativeLR",
       [](optim::Optimizer& o) {
         return std::make_shared<optim::MultiplicativeLR>(o, testing::golden_lambda("0.9 if epoch % 2 else 0.99"));
       }},
      {"ExponentialLR", [](optim::Optimizer& o) { return std::make_shared<optim::ExponentialLR>(o, 0.8); }},
      {"CosineAnnealingLR",
       [](optim::Optimizer& o) { return std::make_shared<optim::CosineAnnealingLR>(o, 4, 1e-3); }},
      {"LinearLR", [](optim::Optimizer& o) { return std::make_shared<optim::LinearLR>(o, 0.1, 1.0, 8); }},
      {"SequentialLR",
       [](optim::Optimizer& o) {
         auto warmup = std::make_shared<optim::LinearLR>(o, 0.1, 1.0, 3);
         auto decay = std::make_shared<optim::CosineAnnealingLR>(o, 6, 1e-3);
         const std::vector<std::shared_ptr<optim::LRScheduler>> both{warmup, decay};
         return std::make_shared<optim::SequentialLR>(o, both, std::vector<std::int64_t>{3});
       }},
      {"OneCycleLR",
       [](optim::Optimizer& o) { return std::make_shared<optim::OneCycleLR>(o, std::vector<double>{0.05, 0.1}, 12); }},
  };
  return makers;
}

constexpr int kSaveAt = 5, kSteps = 11;

// Train kSteps, saving after kSaveAt; versus: a fresh model, optimiser and scheduler (other weights,
// other rates) load the files at kSaveAt and train the rest. The save falls inside SequentialLR's
// second scheduler and OneCycleLR's descent, and between two of StepLR's drops.
TEST_F(SchedulerCheckpoint, ResumedTrainingFollowsTheUninterruptedRunBitwise) {
  for (const auto& [name, make] : every_scheduler()) {
    SCOPED_TRACE(name);
    nn::Sequential model = testing::checkpoint_model(1);
    optim::Adam adam(weights_and_biases(model), optim::AdamOptions(0.01));
    const auto scheduler = make(adam);
    Trace uninterrupted;
    for (int step = 0; step < kSteps; ++step) {
      train_step(model, adam, step);
      scheduler->step();
      record(uninterrupted, adam);
      if (step + 1 == kSaveAt) {
        xgrad::save(model, model_path);
        xgrad::save(adam, *scheduler, optimizer_path);
      }
    }

    nn::Sequential resumed = testing::checkpoint_model(2);
    optim::Adam resumed_adam(weights_and_biases(resumed), optim::AdamOptions(0.5));
    const auto resumed_scheduler = make(resumed_adam);
    xgrad::load(resumed, model_path);
    xgrad::load(resumed_adam, *resumed_scheduler, optimizer_path);
    EXPECT_EQ(resumed_scheduler->last_epoch(), kSaveAt);
    EXPECT_EQ(resumed_scheduler->get_last_lr(), group_lrs(resumed_adam));
    Trace resumed_trace(uninterrupted.begin(), uninterrupted.begin() + kSaveAt);
    for (int step = kSaveAt; step < kSteps; ++step) {
      train_step(resumed, resumed_adam, step);
      resumed_scheduler->step();
      record(resumed_trace, resumed_adam);
    }
    EXPECT_EQ(resumed_trace, uninterrupted);
    EXPECT_EQ(parameter_bytes(resumed), parameter_bytes(model));
    // The rates did change along the way, so the comparison could fail.
    EXPECT_NE(uninterrupted[kSaveAt - 1], uninterrupted.back());
  }
}

TEST_F(SchedulerCheckpoint, ReduceLROnPlateauResumesItsCounters) {
  using Plateau = optim::ReduceLROnPlateauScheduler;
  const auto make = [](optim::Optimizer& o) { return Plateau(o, Plateau::min, 0.5, 1, 0.01, Plateau::rel, 2); };
  nn::Sequential model = testing::checkpoint_model(1);
  optim::SGD sgd(model->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  Plateau plateau = make(sgd);
  std::vector<double> uninterrupted;
  // A metric that stalls at once: the rate drops after step 3, and the save falls in the cooldown.
  const auto metric = [](int step) { return step == 0 ? 1.0 : 0.9; };
  for (int step = 0; step < kSteps; ++step) {
    train_step(model, sgd, step);
    plateau.step(metric(step));
    uninterrupted.push_back(group_lrs(sgd)[0]);
    if (step + 1 == kSaveAt) {
      xgrad::save(model, model_path);
      xgrad::save(sgd, plateau, optimizer_path);
    }
  }

  nn::Sequential resumed = testing::checkpoint_model(2);
  optim::SGD resumed_sgd(resumed->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  Plateau resumed_plateau = make(resumed_sgd);
  xgrad::load(resumed, model_path);
  xgrad::load(resumed_sgd, resumed_plateau, optimizer_path);
  EXPECT_EQ(resumed_plateau.last_epoch(), kSaveAt);
  EXPECT_EQ(resumed_plateau.best(), 0.9);
  EXPECT_EQ(resumed_plateau.cooldown_counter(), 1);
  std::vector<double> resumed_lrs(uninterrupted.begin(), uninterrupted.begin() + kSaveAt);
  for (int step = kSaveAt; step < kSteps; ++step) {
    train_step(resumed, resumed_sgd, step);
    resumed_plateau.step(metric(step));
    resumed_lrs.push_back(group_lrs(resumed_sgd)[0]);
  }
  EXPECT_EQ(resumed_lrs, uninterrupted);
  EXPECT_EQ(parameter_bytes(resumed), parameter_bytes(model));
  EXPECT_LT(uninterrupted.back(), uninterrupted[kSaveAt - 1]);
  EXPECT_LT(uninterrupted[kSaveAt - 1], 0.05);
}

std::map<std::string, Tensor> read_file(const std::string& path) {
  std::map<std::string, Tensor> file;
  for (const auto& [key, value] : npz::read("test", path)) file.emplace(key, value);
  return file;
}

std::string text(const Tensor& bytes) {
  return std::string(bytes.data<std::uint8_t>(), bytes.data<std::uint8_t>() + bytes.numel());
}

TEST_F(SchedulerCheckpoint, FileHoldsTheSchedulerBesideTheOptimiser) {
  nn::Sequential model = testing::checkpoint_model(1);
  optim::Adam adam(weights_and_biases(model), optim::AdamOptions(0.01));
  const auto scheduler = every_scheduler().at("SequentialLR")(adam);
  for (int step = 0; step < 4; ++step) {
    train_step(model, adam, step);
    scheduler->step();
  }
  xgrad::save(adam, *scheduler, optimizer_path);
  std::map<std::string, Tensor> file = read_file(optimizer_path);
  std::vector<std::string> names;
  for (const auto& entry : file)
    if (entry.first.rfind("scheduler", 0) == 0) names.push_back(entry.first);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "scheduler", "scheduler._last_lr", "scheduler._schedulers.0", "scheduler._schedulers.0._last_lr",
                       "scheduler._schedulers.0.base_lrs", "scheduler._schedulers.0.last_epoch",
                       "scheduler._schedulers.0.step_count", "scheduler._schedulers.1",
                       "scheduler._schedulers.1._last_lr", "scheduler._schedulers.1.base_lrs",
                       "scheduler._schedulers.1.last_epoch", "scheduler._schedulers.1.step_count",
                       "scheduler.base_lrs", "scheduler.last_epoch", "scheduler.step_count"}));
  // libtorch's count of step() calls: the cosine schedule's restart at the milestone counts as one.
  EXPECT_EQ(file["scheduler.step_count"].item<std::int64_t>(), 4);
  EXPECT_EQ(file["scheduler._schedulers.1.step_count"].item<std::int64_t>(), 2);
  EXPECT_EQ(text(file["scheduler"]), "SequentialLR");
  EXPECT_EQ(text(file["scheduler._schedulers.1"]), "CosineAnnealingLR");
  EXPECT_EQ(file["scheduler.last_epoch"].dtype(), kInt64);
  EXPECT_EQ(file["scheduler.last_epoch"].item<std::int64_t>(), 4);
  // Restarted at the milestone (epoch 3), the cosine schedule is at its epoch 1.
  EXPECT_EQ(file["scheduler._schedulers.1.last_epoch"].item<std::int64_t>(), 1);
  EXPECT_EQ(file["scheduler.base_lrs"].to_vector<double>(), (std::vector<double>{0.01, 0.02}));
  EXPECT_EQ(file["scheduler._last_lr"].to_vector<double>(), group_lrs(adam));
  // The optimiser's entries are as without a scheduler, and load into an optimiser alone.
  EXPECT_EQ(file["param_groups.1.lr"].item<double>(), group_lrs(adam)[1]);
  nn::Sequential other = testing::checkpoint_model(2);
  optim::Adam alone(weights_and_biases(other));
  xgrad::load(alone, optimizer_path);
  EXPECT_EQ(group_lrs(alone), group_lrs(adam));
}

// The values of an optimiser and a scheduler worth comparing before and after a failed load.
std::vector<double> fingerprint(const optim::Optimizer& optimizer, const optim::LRScheduler& scheduler) {
  std::vector<double> values = group_lrs(optimizer);
  for (const auto& state : optimizer.state()) values.push_back(static_cast<double>(state.step));
  values.push_back(static_cast<double>(scheduler.last_epoch()));
  for (const double lr : scheduler.get_last_lr()) values.push_back(lr);
  return values;
}

TEST_F(SchedulerCheckpoint, FilesThatDoNotFitAreErrorsAndChangeNothing) {
  nn::Sequential model = testing::checkpoint_model(1);
  optim::Adam adam(weights_and_biases(model), optim::AdamOptions(0.01));
  const auto sequential = every_scheduler().at("SequentialLR")(adam);
  for (int step = 0; step < 4; ++step) {
    train_step(model, adam, step);
    sequential->step();
  }
  xgrad::save(adam, *sequential, optimizer_path);

  nn::Sequential other = testing::checkpoint_model(2);
  optim::Adam target(weights_and_biases(other), optim::AdamOptions(0.125));
  train_step(other, target, 0);
  const auto expect_rejected = [&](optim::LRScheduler& scheduler, const std::vector<std::string>& fragments) {
    const auto before = fingerprint(target, scheduler);
    std::vector<std::string> expected{"load: ", optimizer_path};
    expected.insert(expected.end(), fragments.begin(), fragments.end());
    EXPECT_TRUE(throws_error_containing([&] { xgrad::load(target, scheduler, optimizer_path); }, expected));
    EXPECT_EQ(fingerprint(target, scheduler), before);
  };

  // Another kind of scheduler, at the top or inside SequentialLR.
  optim::CosineAnnealingLR cosine(target, 6);
  expect_rejected(cosine, {"entry \"scheduler\" says the file holds the state of a SequentialLR scheduler, not of a "
                           "CosineAnnealingLR one"});
  auto first = std::make_shared<optim::LinearLR>(target, 0.1, 1.0, 3);
  auto second = std::make_shared<optim::ExponentialLR>(target, 0.5);
  optim::SequentialLR reordered(target, {first, second}, {3});
  expect_rejected(reordered, {"entry \"scheduler._schedulers.1\"", "a CosineAnnealingLR scheduler, not of a "
                              "ExponentialLR one"});

  // A file of the optimiser alone has no scheduler.
  const auto matching = every_scheduler().at("SequentialLR")(target);
  xgrad::save(adam, optimizer_path);
  expect_rejected(*matching, {"no entry \"scheduler\""});

  // An entry missing, left over, or of another shape.
  xgrad::save(adam, *sequential, optimizer_path);
  std::vector<npz::Entry> entries = npz::read("test", optimizer_path);
  const auto rewrite = [&](const std::function<void(std::vector<npz::Entry>&)>& change) {
    std::vector<npz::Entry> changed = entries;
    change(changed);
    npz::write("test", optimizer_path, changed);
  };
  rewrite([](auto& e) {
    e.erase(std::find_if(e.begin(), e.end(), [](const auto& x) { return x.first == "scheduler.base_lrs"; }));
  });
  expect_rejected(*matching, {"no entry \"scheduler.base_lrs\""});
  rewrite([](auto& e) { e.emplace_back("scheduler.T_max", tensor(std::int64_t{6})); });
  expect_rejected(*matching, {"entry \"scheduler.T_max\" matches nothing in the Adam optimiser",
                              "or the SequentialLR scheduler"});
  rewrite([](auto& e) {
    for (auto& [key, value] : e)
      if (key == "scheduler._schedulers.0.base_lrs") value = tensor({0.1}, kFloat64);
  });
  expect_rejected(*matching, {"entry \"scheduler._schedulers.0.base_lrs\"", "float64 of shape [1]",
                              "the scheduler's _schedulers.0.base_lrs is float64 of shape [2]"});
  // The optimiser's entries are checked as before, and a bad one changes the scheduler neither.
  rewrite([](auto& e) {
    for (auto& [key, value] : e)
      if (key == "state.0.exp_avg") value = zeros({2, 2});
  });
  expect_rejected(*matching, {"entry \"state.0.exp_avg\""});

  // A scheduler made for another optimiser.
  xgrad::save(adam, *sequential, optimizer_path);
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(adam, *matching, optimizer_path); },
                                      {"load: ", "the SequentialLR scheduler was made for another optimiser"}));
  EXPECT_TRUE(throws_error_containing([&] { xgrad::save(adam, *matching, optimizer_path); },
                                      {"save: ", "the SequentialLR scheduler was made for another optimiser"}));
}

}  // namespace
}  // namespace xgrad
