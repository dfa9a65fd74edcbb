#include "optim_golden.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "compare.hpp"

namespace xgrad::testing {

namespace F = nn::functional;

GoldenMlp::GoldenMlp(const Json& fixture, Dtype dtype) {
  for (const std::string& name : names) {
    Tensor parameter = golden_tensor(fixture.at("init").at(name)).to(dtype);
    parameter.requires_grad_(true);
    params.push_back(parameter);
  }
  x = golden_tensor(fixture.at("x")).to(dtype);
  y = golden_tensor(fixture.at("y"));
}

Tensor GoldenMlp::loss() const {
  const Tensor hidden = relu(matmul(x, params[0].t()) + params[1]);
  return F::cross_entropy(matmul(hidden, params[2].t()) + params[3], y);
}

const Tensor& GoldenMlp::param(const std::string& name) const {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return params[i];
  throw Error("GoldenMlp: no parameter " + name);
}

std::unique_ptr<optim::OptimizerOptions> golden_options(const std::string& optimizer, const Json& o) {
  if (optimizer == "SGD")
    return std::make_unique<optim::SGDOptions>(optim::SGDOptions(o.at("lr").get<double>())
                                                   .momentum(o.at("momentum"))
                                                   .dampening(o.at("dampening"))
                                                   .weight_decay(o.at("weight_decay"))
                                                   .nesterov(o.at("nesterov"))
                                                   .maximize(o.at("maximize")));
  if (optimizer == "Adam")
    return std::make_unique<optim::AdamOptions>(optim::AdamOptions(o.at("lr").get<double>())
                                                    .betas({o.at("betas")[0], o.at("betas")[1]})
                                                    .eps(o.at("eps"))
                                                    .weight_decay(o.at("weight_decay"))
                                                    .amsgrad(o.at("amsgrad"))
                                                    .maximize(o.at("maximize")));
  if (optimizer == "AdamW")
    return std::make_unique<optim::AdamWOptions>(optim::AdamWOptions(o.at("lr").get<double>())
                                                     .betas({o.at("betas")[0], o.at("betas")[1]})
                                                     .eps(o.at("eps"))
                                                     .weight_decay(o.at("weight_decay"))
                                                     .amsgrad(o.at("amsgrad"))
                                                     .maximize(o.at("maximize")));
  if (optimizer == "RMSprop")
    return std::make_unique<optim::RMSpropOptions>(optim::RMSpropOptions(o.at("lr").get<double>())
                                                       .alpha(o.at("alpha"))
                                                       .eps(o.at("eps"))
                                                       .weight_decay(o.at("weight_decay"))
                                                       .momentum(o.at("momentum"))
                                                       .centered(o.at("centered"))
                                                       .maximize(o.at("maximize")));
  if (optimizer == "Adagrad")
    return std::make_unique<optim::AdagradOptions>(optim::AdagradOptions(o.at("lr").get<double>())
                                                       .lr_decay(o.at("lr_decay"))
                                                       .weight_decay(o.at("weight_decay"))
                                                       .initial_accumulator_value(o.at("initial_accumulator_value"))
                                                       .eps(o.at("eps"))
                                                       .maximize(o.at("maximize")));
  throw Error("golden_options: unknown optimiser " + optimizer);
}

std::unique_ptr<optim::Optimizer> make_golden_optimizer(const std::string& optimizer,
                                                        std::vector<optim::OptimizerParamGroup> groups,
                                                        const Json& options) {
  const auto defaults = golden_options(optimizer, options);
  if (optimizer == "SGD")
    return std::make_unique<optim::SGD>(std::move(groups), static_cast<const optim::SGDOptions&>(*defaults));
  if (optimizer == "Adam")
    return std::make_unique<optim::Adam>(std::move(groups), static_cast<const optim::AdamOptions&>(*defaults));
  if (optimizer == "AdamW")
    return std::make_unique<optim::AdamW>(std::move(groups), static_cast<const optim::AdamWOptions&>(*defaults));
  if (optimizer == "RMSprop")
    return std::make_unique<optim::RMSprop>(std::move(groups), static_cast<const optim::RMSpropOptions&>(*defaults));
  return std::make_unique<optim::Adagrad>(std::move(groups), static_cast<const optim::AdagradOptions&>(*defaults));
}

::testing::AssertionResult matches_golden_state(const optim::ParamState& state, const Json& expected) {
  const std::int64_t expected_step = expected.contains("step") ? expected.at("step").get<std::int64_t>() : 0;
  if (state.step != expected_step)
    return ::testing::AssertionFailure() << "step " << state.step << ", expected " << expected_step;
  for (const auto& [name, slot] : state.tensors()) {
    if (!expected.contains(name)) {
      if (slot->defined()) return ::testing::AssertionFailure() << name << " is defined; PyTorch has none";
      continue;
    }
    if (!slot->defined()) return ::testing::AssertionFailure() << name << " is undefined";
    auto result = matches_trajectory(*slot, golden_tensor(expected.at(name)));
    if (!result) return result << " (state " << name << ")";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult matches_trajectory(const Tensor& actual, const Tensor& expected) {
  if (expected.dtype() == kFloat64) return matches_golden(actual, expected);
  double largest = 0.0;
  for (double value : expected.to(kFloat64).to_vector<double>()) largest = std::max(largest, std::abs(value));
  return all_close(actual, expected, 0.0, 1e-4 * largest);
}

double loss_tolerance(const Tensor& like, double expected) {
  return (like.dtype() == kFloat64 ? 1e-9 : 1e-5) * std::abs(expected);
}

std::size_t expect_golden_runs(const std::string& optimizer) {
  const Json& fixture = golden_file("optim.json");
  std::size_t count = 0;
  for (const Json& run : fixture.at("runs")) {
    if (run.at("optimizer") != optimizer) continue;
    ++count;
    SCOPED_TRACE(run.at("dtype").get<std::string>() + " " + run.at("options").dump());
    const GoldenMlp mlp(fixture, run.at("dtype") == "float32" ? kFloat32 : kFloat64);
    const auto opt = make_golden_optimizer(optimizer, {optim::OptimizerParamGroup(mlp.params)}, run.at("options"));
    for (std::size_t step = 0; step < run.at("losses").size(); ++step) {
      opt->zero_grad();
      const Tensor loss = mlp.loss();
      loss.backward();
      opt->step();
      const double expected = run.at("losses")[step];
      EXPECT_NEAR(loss.item<double>(), expected, loss_tolerance(loss, expected)) << "step " << step;
      for (const std::string& name : mlp.names)
        EXPECT_TRUE(matches_trajectory(mlp.param(name), golden_tensor(run.at("params")[step].at(name))))
            << name << " after step " << step;
    }
    for (std::size_t i = 0; i < mlp.params.size(); ++i)
      EXPECT_TRUE(matches_golden_state(opt->state()[i], run.at("state")[i])) << "parameter " << i;
  }
  return count;
}

}  // namespace xgrad::testing
