#include "scheduler_golden.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

namespace xgrad::testing {

optim::LRLambda golden_lambda(const std::string& name) {
  // Python's int ** and / convert the epoch to a double first, as here.
  static const std::map<std::string, optim::LRLambda> lambdas = {
      {"0.95 ** epoch", [](std::int64_t epoch) { return std::pow(0.95, static_cast<double>(epoch)); }},
      {"1 / (epoch + 1)", [](std::int64_t epoch) { return 1.0 / static_cast<double>(epoch + 1); }},
      {"min(1.0, (epoch + 1) / 4)",
       [](std::int64_t epoch) { return std::min(1.0, static_cast<double>(epoch + 1) / 4); }},
      {"0.9 if epoch % 2 else 0.99", [](std::int64_t epoch) { return epoch % 2 ? 0.9 : 0.99; }},
      {"1.0 - 0.05 * epoch", [](std::int64_t epoch) { return 1.0 - 0.05 * static_cast<double>(epoch); }},
  };
  return lambdas.at(name);
}

namespace {

template <class Scheduler>
std::shared_ptr<optim::LRScheduler> with_lambdas(const Json& spec, optim::Optimizer& optimizer) {
  if (spec.contains("lr_lambda"))
    return std::make_shared<Scheduler>(optimizer, golden_lambda(spec.at("lr_lambda")));
  std::vector<optim::LRLambda> lambdas;
  for (const Json& name : spec.at("lr_lambdas")) lambdas.push_back(golden_lambda(name));
  return std::make_shared<Scheduler>(optimizer, lambdas);
}

std::shared_ptr<optim::LRScheduler> one_cycle(const Json& spec, optim::Optimizer& optimizer) {
  const Json& max_lr = spec.at("max_lr");
  const std::vector<double> max_lrs = max_lr.is_array()
                                          ? max_lr.get<std::vector<double>>()
                                          : std::vector<double>(optimizer.param_groups().size(), max_lr.get<double>());
  const auto strategy = spec.value("anneal_strategy", std::string("cos")) == "linear"
                            ? optim::OneCycleLR::AnnealStrategy::linear
                            : optim::OneCycleLR::AnnealStrategy::cos;
  return std::make_shared<optim::OneCycleLR>(
      optimizer, max_lrs, spec.at("total_steps").get<std::int64_t>(), spec.value("pct_start", 0.3), strategy,
      spec.value("cycle_momentum", true), spec.value("base_momentum", 0.85), spec.value("max_momentum", 0.95),
      spec.value("div_factor", 25.0), spec.value("final_div_factor", 1e4), spec.value("three_phase", false));
}

std::shared_ptr<optim::LRScheduler> sequential(const Json& spec, optim::Optimizer& optimizer) {
  std::vector<std::shared_ptr<optim::LRScheduler>> schedulers;
  for (const Json& inner : spec.at("schedulers")) schedulers.push_back(make_golden_scheduler(inner, optimizer));
  return std::make_shared<optim::SequentialLR>(optimizer, schedulers,
                                               spec.at("milestones").get<std::vector<std::int64_t>>());
}

}  // namespace

std::shared_ptr<optim::LRScheduler> make_golden_scheduler(const Json& spec, optim::Optimizer& optimizer) {
  const std::string type = spec.at("type");
  if (type == "LambdaLR") return with_lambdas<optim::LambdaLR>(spec, optimizer);
  if (type == "MultiplicativeLR") return with_lambdas<optim::MultiplicativeLR>(spec, optimizer);
  if (type == "ExponentialLR") return std::make_shared<optim::ExponentialLR>(optimizer, spec.at("gamma").get<double>());
  if (type == "StepLR")
    return std::make_shared<optim::StepLR>(optimizer, spec.at("step_size").get<std::int64_t>(),
                                           spec.value("gamma", 0.1));
  if (type == "CosineAnnealingLR")
    return std::make_shared<optim::CosineAnnealingLR>(optimizer, spec.at("T_max").get<std::int64_t>(),
                                                      spec.value("eta_min", 0.0));
  if (type == "LinearLR")
    return std::make_shared<optim::LinearLR>(optimizer, spec.value("start_factor", 1.0 / 3),
                                             spec.value("end_factor", 1.0), spec.value("total_iters", 5));
  if (type == "SequentialLR") return sequential(spec, optimizer);
  if (type == "OneCycleLR") return one_cycle(spec, optimizer);
  throw Error("make_golden_scheduler: unknown scheduler " + type);
}

std::vector<double> group_momenta(optim::Optimizer& optimizer) {
  std::vector<double> momenta;
  for (auto& group : optimizer.param_groups()) {
    const auto slots = group.options().option_slots();
    const auto named = [&](const char* name) {
      return std::find_if(slots.begin(), slots.end(),
                          [&](const auto& slot) { return std::strcmp(slot.name, name) == 0; });
    };
    if (named("betas") != slots.end())
      momenta.push_back(std::get<0>(*std::get<std::tuple<double, double>*>(named("betas")->value)));
    else
      momenta.push_back(*std::get<double*>(named("momentum")->value));
  }
  return momenta;
}

std::vector<double> group_lrs(const optim::Optimizer& optimizer) {
  std::vector<double> lrs;
  for (const auto& group : optimizer.param_groups()) lrs.push_back(group.options().get_lr());
  return lrs;
}

::testing::AssertionResult same_doubles(const std::vector<double>& actual, const std::vector<double>& expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  const auto list = [](const std::vector<double>& values) {
    std::ostringstream out;
    out.precision(17);
    for (const double value : values) out << value << ' ';
    return out.str();
  };
  return ::testing::AssertionFailure() << "got " << list(actual) << "expected " << list(expected);
}

}  // namespace xgrad::testing
