// The Optimizer base, shared by every optimiser: parameter groups and their options, the
// per-parameter state (what a checkpoint saves), step with a closure, and the checks.
#include <gtest/gtest.h>

#include <memory>

#include "compare.hpp"
#include "optim_golden.hpp"

namespace xgrad {
namespace {

using optim::Adam;
using optim::AdamOptions;
using optim::OptimizerParamGroup;
using optim::SGD;
using optim::SGDOptions;
using testing::Json;
using testing::throws_error_containing;

// A function written against the base class, as training loops are.
void train_step(optim::Optimizer& optimizer, const std::function<Tensor()>& loss_fn) {
  optimizer.zero_grad();
  loss_fn().backward();
  optimizer.step();
}

TEST(Optimizer, AnyOptimiserBindsToTheBase) {
  const testing::GoldenMlp mlp(testing::golden_file("optim.json"), kFloat64);
  std::vector<std::unique_ptr<optim::Optimizer>> optimizers;
  optimizers.push_back(std::make_unique<SGD>(mlp.params, 0.01));
  optimizers.push_back(std::make_unique<Adam>(mlp.params));
  optimizers.push_back(std::make_unique<optim::AdamW>(mlp.params));
  optimizers.push_back(std::make_unique<optim::RMSprop>(mlp.params));
  optimizers.push_back(std::make_unique<optim::Adagrad>(mlp.params));
  for (auto& optimizer : optimizers) {
    const double before = mlp.loss().item<double>();
    for (int i = 0; i < 20; ++i) train_step(*optimizer, [&] { return mlp.loss(); });
    EXPECT_LT(mlp.loss().item<double>(), before) << optimizer->name();
  }
}

// An optimiser written outside xgrad, as libtorch code writes one: options of its own and either a
// step() of its own or, shorter, update() for one parameter.
struct SignOptions : optim::OptimizerCloneableOptions<SignOptions> {
  explicit SignOptions(double lr) : lr(lr) {}
  double get_lr() const override { return lr; }
  void set_lr(double value) override { lr = value; }
  double lr;
};

struct SignDescent : optim::Optimizer {
  SignDescent(std::vector<Tensor> params, double lr) : Optimizer(std::move(params), std::make_unique<SignOptions>(lr)) {}
  void update(Tensor& parameter, const Tensor& grad, optim::ParamState& state,
              const optim::OptimizerOptions& options) override {
    const double lr = options.get_lr();
    double* p = parameter.mutable_data<double>();
    const double* g = grad.data<double>();
    for (std::int64_t i = 0; i < parameter.numel(); ++i) p[i] -= lr * (g[i] > 0 ? 1.0 : g[i] < 0 ? -1.0 : 0.0);
    ++state.step;
  }
};

TEST(Optimizer, OptimisersWrittenOutsideXgradUseTheBase) {
  Tensor p = tensor({1.0, -2.0, 3.0}, kFloat64).requires_grad_(true);
  SignDescent optimizer({p}, 0.5);
  sum(p * tensor({2.0, -3.0, 0.0}, kFloat64)).backward();
  optimizer.step();
  EXPECT_EQ(p.to_vector<double>(), (std::vector<double>{0.5, -1.5, 3.0}));
  EXPECT_EQ(optimizer.state()[0].step, 1);
  optim::StepLR scheduler(optimizer, 1, 0.5);
  scheduler.step();
  EXPECT_EQ(optimizer.param_groups()[0].options().get_lr(), 0.25);
}

TEST(Optimizer, ADoubleIsAnSGDOptions) {
  Tensor p = tensor({1.0}, kFloat64).requires_grad_(true);
  SGD sgd({p}, 0.25);
  EXPECT_EQ(sgd.options().lr(), 0.25);
}

TEST(Optimizer, LibtorchProgramsSpellingsWork) {
  Tensor p = tensor({1.0, 2.0}, kFloat64).requires_grad_(true);
  optim::Adam adam({p}, optim::AdamOptions(2e-4).betas(std::make_tuple(0.5, 0.999)));
  for (auto& group : adam.param_groups()) static_cast<optim::AdamOptions&>(group.options()).lr(1e-4);
  adam.param_groups()[0].options().set_lr(adam.param_groups()[0].options().get_lr() * 0.5);
  EXPECT_EQ(static_cast<const optim::AdamOptions&>(adam.param_groups()[0].options()).lr(), 5e-5);
  EXPECT_EQ(std::get<0>(static_cast<const optim::AdamOptions&>(adam.defaults()).betas()), 0.5);
  optim::SGD sgd({p}, /*lr=*/0.01);
  optim::Optimizer& any = sgd;
  EXPECT_EQ(any.size(), 1u);
}

TEST(Optimizer, GroupsWithoutOptionsGetACopyOfTheDefaults) {
  const testing::GoldenMlp mlp(testing::golden_file("optim.json"), kFloat64);
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{mlp.params[0], mlp.params[1]});
  groups.emplace_back(std::vector<Tensor>{mlp.params[2], mlp.params[3]}, std::make_unique<AdamOptions>(0.05));
  Adam adam(groups, AdamOptions(0.01).amsgrad(true));
  ASSERT_EQ(adam.param_groups().size(), 2u);
  EXPECT_EQ(adam.size(), 4u);
  EXPECT_EQ(adam.parameters().size(), 2u);  // libtorch's meaning: the first group's
  EXPECT_EQ(adam.param_groups()[0].options().get_lr(), 0.01);
  EXPECT_TRUE(static_cast<AdamOptions&>(adam.param_groups()[0].options()).amsgrad());
  EXPECT_EQ(adam.param_groups()[1].options().get_lr(), 0.05);
  EXPECT_FALSE(static_cast<AdamOptions&>(adam.param_groups()[1].options()).amsgrad());
  // Each group owns its options: changing one leaves the defaults and the other group alone.
  static_cast<AdamOptions&>(adam.param_groups()[0].options()).lr(1e-4);
  EXPECT_EQ(adam.param_groups()[0].options().get_lr(), 1e-4);
  EXPECT_EQ(adam.defaults().get_lr(), 0.01);
  adam.param_groups()[1].options().set_lr(0.5);
  EXPECT_EQ(static_cast<AdamOptions&>(adam.param_groups()[1].options()).lr(), 0.5);
  // The caller's groups were copied, not taken.
  EXPECT_EQ(groups[1].options().get_lr(), 0.05);
}

TEST(Optimizer, GroupOptionsDriveTheUpdate) {
  // Two parameters with the same gradient; the group with lr 0 does not move.
  Tensor a = tensor({1.0}, kFloat64).requires_grad_(true), b = tensor({1.0}, kFloat64).requires_grad_(true);
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{a});
  groups.emplace_back(std::vector<Tensor>{b}, std::make_unique<SGDOptions>(0.0));
  SGD sgd(groups, SGDOptions(0.5));
  (a + b).backward();
  sgd.step();
  EXPECT_EQ(a.item<double>(), 0.5);
  EXPECT_EQ(b.item<double>(), 1.0);
}

TEST(Optimizer, AddParamGroupAndAddParametersExtendTheState) {
  Tensor a = tensor({1.0}, kFloat64).requires_grad_(true), b = tensor({2.0}, kFloat64).requires_grad_(true);
  Tensor c = tensor({3.0}, kFloat64).requires_grad_(true);
  Adam adam({a}, AdamOptions(0.1));
  adam.add_param_group(OptimizerParamGroup({b}, std::make_unique<AdamOptions>(0.2)));
  adam.add_parameters({c});
  ASSERT_EQ(adam.state().size(), 3u);
  EXPECT_EQ(adam.parameters().size(), 2u);
  (a + b * 2.0 + c).backward();
  adam.step();
  // The state is numbered as the groups list the parameters: group 0 is {a, c}, group 1 is {b}.
  EXPECT_EQ(adam.state()[0].exp_avg.item<double>(), (1.0 - 0.9) * 1.0);
  EXPECT_EQ(adam.state()[1].exp_avg.item<double>(), (1.0 - 0.9) * 1.0);
  EXPECT_EQ(adam.state()[2].exp_avg.item<double>(), (1.0 - 0.9) * 2.0);
  EXPECT_NEAR(b.item<double>(), 2.0 - 0.2, 1e-7);
}

TEST(Optimizer, ParametersMustBeDistinctFloatingLeaves) {
  const Tensor p = tensor({1.0}, kFloat64).requires_grad_(true);
  EXPECT_TRUE(throws_error_containing([&] { Adam({p, p}); }, {"Adam", "parameter 1", "same tensor as parameter 0"}));
  Adam adam({p});
  EXPECT_TRUE(throws_error_containing([&] { adam.add_param_group(OptimizerParamGroup({p})); },
                                      {"Adam", "parameter 1", "same tensor as parameter 0"}));
  EXPECT_EQ(adam.param_groups().size(), 1u);
  EXPECT_EQ(adam.state().size(), 1u);
  EXPECT_TRUE(throws_error_containing([&] { adam.add_parameters({tensor({1, 2})}); }, {"Adam", "parameter 1", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { Adam({p * 2.0}); }, {"Adam", "parameter 0", "leaf"}));
  EXPECT_TRUE(throws_error_containing([] { Adam({Tensor()}); }, {"Adam", "parameter 0", "undefined"}));
  // The usual cause of an empty list, a layer never passed to register_module, is named.
  struct Forgetful : nn::Module {
    nn::Linear fc{2, 2};  // a member, not registered
  };
  EXPECT_TRUE(Forgetful().parameters().empty());
  EXPECT_TRUE(throws_error_containing([] { Adam(Forgetful().parameters()); },
                                      {"Adam", "optimizer got an empty parameter list", "register_module"}));
}

TEST(Optimizer, GroupOptionsAreCheckedAndMustBeTheOptimisersOwn) {
  const Tensor p = tensor({1.0}, kFloat64).requires_grad_(true), q = tensor({2.0}, kFloat64).requires_grad_(true);
  EXPECT_TRUE(throws_error_containing(
      [&] { Adam({OptimizerParamGroup({p}, std::make_unique<AdamOptions>(-1.0))}); }, {"Adam", "learning rate -1"}));
  EXPECT_TRUE(throws_error_containing([&] { SGD({OptimizerParamGroup({p}, std::make_unique<AdamOptions>())}, 0.1); },
                                      {"SGD", "parameter group 0", "another optimiser", "SGDOptions"}));
  // Swapped in later, it is caught by step() before any parameter changes.
  SGD sgd({OptimizerParamGroup({p}), OptimizerParamGroup({q})}, 0.1);
  sgd.param_groups()[1].set_options(std::make_unique<AdamOptions>());
  (p + q).backward();
  EXPECT_TRUE(throws_error_containing([&] { sgd.step(); }, {"SGD", "parameter group 1", "SGDOptions"}));
  EXPECT_EQ(p.item<double>(), 1.0);
}

TEST(Optimizer, ABadRestoredStateIsCaughtBeforeAnyParameterChanges) {
  Tensor p = tensor({1.0, 2.0}, kFloat64).requires_grad_(true), q = tensor({1.0, 2.0}, kFloat64).requires_grad_(true);
  Adam adam({p, q});
  sum(p + q).backward();
  adam.state()[1].exp_avg = zeros({3}, kFloat64);
  EXPECT_TRUE(throws_error_containing([&] { adam.step(); }, {"Adam", "state 'exp_avg' of parameter 1", "[3]", "[2]"}));
  adam.state()[1].exp_avg = zeros({2}, kFloat32);
  EXPECT_TRUE(throws_error_containing([&] { adam.step(); }, {"Adam", "exp_avg", "float32", "float64"}));
  EXPECT_EQ(p.to_vector<double>(), (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(adam.state()[0].step, 0);
  EXPECT_FALSE(adam.state()[0].exp_avg.defined());
}

TEST(Optimizer, StateCanBeSavedAndRestoredThroughItsNamedTensors) {
  // Three Adam steps, then the state copied by name into a fresh optimiser (as a checkpoint would):
  // three more steps of each must give the same parameters.
  const Json& fixture = testing::golden_file("optim.json");
  testing::GoldenMlp first(fixture, kFloat64), second(fixture, kFloat64);
  Adam adam(first.params, AdamOptions(0.01).amsgrad(true));
  for (int i = 0; i < 3; ++i) train_step(adam, [&] { return first.loss(); });
  for (std::size_t i = 0; i < first.params.size(); ++i)
    std::copy(first.params[i].data<double>(), first.params[i].data<double>() + first.params[i].numel(),
              second.params[i].mutable_data<double>());
  Adam restored(second.params, AdamOptions(0.01).amsgrad(true));
  for (std::size_t i = 0; i < adam.state().size(); ++i) {
    restored.state()[i].step = adam.state()[i].step;
    const auto saved = adam.state()[i].tensors();
    const auto slots = restored.state()[i].tensors();
    for (std::size_t k = 0; k < slots.size(); ++k) {
      EXPECT_STREQ(slots[k].first, saved[k].first);
      if (saved[k].second->defined()) *slots[k].second = saved[k].second->clone();
    }
  }
  for (int i = 0; i < 3; ++i) {
    train_step(adam, [&] { return first.loss(); });
    train_step(restored, [&] { return second.loss(); });
  }
  for (std::size_t i = 0; i < first.params.size(); ++i)
    EXPECT_EQ(first.params[i].to_vector<double>(), second.params[i].to_vector<double>()) << i;
}

TEST(Optimizer, StateTensorsHavePyTorchNames) {
  optim::ParamState state;
  std::vector<std::string> names;
  for (const auto& [name, slot] : state.tensors()) {
    names.push_back(name);
    EXPECT_FALSE(slot->defined());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq",
                                             "square_avg", "grad_avg", "sum"}));
}

TEST(Optimizer, StepWithAClosureReturnsItsLossAndRecordsTheGraph) {
  Tensor p = tensor({1.0, -2.0}, kFloat64).requires_grad_(true);
  SGD sgd({p}, 0.1);
  int calls = 0;
  NoGradGuard no_grad;  // the closure still records: step turns grad mode on for it
  const Tensor loss = sgd.step([&] {
    ++calls;
    sgd.zero_grad();
    Tensor value = sum(p * p);
    value.backward();
    return value;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(loss.item<double>(), 5.0);
  EXPECT_EQ(p.to_vector<double>(), (std::vector<double>{0.8, -1.6}));
  EXPECT_FALSE(sgd.step().defined());
}

TEST(Optimizer, StepCountsAsAnInPlaceChangeOfTheParameter) {
  // As in PyTorch: a graph that saved a parameter cannot run backward after a step changed it.
  Tensor p = tensor({1.0, 2.0}, kFloat64).requires_grad_(true);
  Adam adam({p});
  const Tensor saved_p = sum(p * p);
  sum(p).backward();
  const std::int64_t version = p._version();
  adam.step();
  EXPECT_GT(p._version(), version);
  EXPECT_TRUE(throws_error_containing([&] { saved_p.backward(); }, {"modified by an inplace operation"}));
}

TEST(Optimizer, ParametersWithoutGradientAreSkippedAndKeepNoState) {
  Tensor used = tensor({1.0}, kFloat64).requires_grad_(true), unused = tensor({3.0}, kFloat64).requires_grad_(true);
  for (int kind = 0; kind < 4; ++kind) {
    std::unique_ptr<optim::Optimizer> optimizer;
    if (kind == 0) optimizer = std::make_unique<Adam>(std::vector<Tensor>{used, unused});
    if (kind == 1) optimizer = std::make_unique<optim::AdamW>(std::vector<Tensor>{used, unused});
    if (kind == 2) optimizer = std::make_unique<optim::RMSprop>(std::vector<Tensor>{used, unused});
    if (kind == 3) optimizer = std::make_unique<SGD>(std::vector<Tensor>{used, unused}, SGDOptions(0.1).momentum(0.9));
    optimizer->zero_grad();
    (used * 2.0).backward();
    optimizer->step();
    EXPECT_EQ(unused.item<double>(), 3.0) << optimizer->name();
    EXPECT_EQ(optimizer->state()[1].step, 0) << optimizer->name();
    for (const auto& [name, slot] : optimizer->state()[1].tensors()) EXPECT_FALSE(slot->defined()) << name;
  }
}

}  // namespace
}  // namespace xgrad
