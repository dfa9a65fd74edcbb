#include <xgrad/optim/lr_scheduler.hpp>

#include <algorithm>
#include <cmath>

#include <xgrad/core/error.hpp>

namespace xgrad::optim {

namespace {

// Python's math.pi.
constexpr double kPi = 3.141592653589793;

std::vector<double> initial_lrs(const Optimizer& optimizer) {
  std::vector<double> lrs;
  for (const OptimizerParamGroup& group : optimizer.param_groups())
    lrs.push_back(group.initial_lr() ? *group.initial_lr() : group.options().get_lr());
  return lrs;
}

// One function for every group, as Python repeats a single lr_lambda.
std::vector<LRLambda> one_per_group(const Optimizer& optimizer, LRLambda lr_lambda, const char* scheduler) {
  check(static_cast<bool>(lr_lambda), scheduler, ": lr_lambda is an empty function");
  return std::vector<LRLambda>(optimizer.param_groups().size(), lr_lambda);
}

std::vector<LRLambda> checked_lambdas(const Optimizer& optimizer, std::vector<LRLambda> lr_lambdas,
                                      const char* scheduler) {
  check(lr_lambdas.size() == optimizer.param_groups().size(), scheduler, ": lr_lambdas must hold one function per "
        "parameter group (", optimizer.param_groups().size(), "), got ", lr_lambdas.size());
  for (std::size_t i = 0; i < lr_lambdas.size(); ++i)
    check(static_cast<bool>(lr_lambdas[i]), scheduler, ": lr_lambdas[", i, "] is an empty function");
  return lr_lambdas;
}

}  // namespace

// ---- LRScheduler -------------------------------------------------------------------------------

LRScheduler::LRScheduler(Optimizer& optimizer) : LRScheduler(optimizer, "LRScheduler") {}

LRScheduler::LRScheduler(Optimizer& optimizer, std::string name)
    : optimizer_(optimizer), name_(std::move(name)), base_lrs_(initial_lrs(optimizer)), last_lrs_(get_current_lrs()) {}

std::vector<double> LRScheduler::get_current_lrs() const {
  std::vector<double> lrs;
  lrs.reserve(optimizer_.param_groups().size());
  for (const OptimizerParamGroup& group : optimizer_.param_groups()) lrs.push_back(group.options().get_lr());
  return lrs;
}

std::vector<double> LRScheduler::get_closed_form_lrs() { return get_lrs(); }

void LRScheduler::set_lrs(std::vector<double> lrs) {
  auto& groups = optimizer_.param_groups();
  check(lrs.size() == groups.size(), name_, "::step: get_lrs() gave ", lrs.size(), " learning rates for ",
        groups.size(), " parameter groups");
  for (std::size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(lrs[i]);
  last_lrs_ = std::move(lrs);
}

void LRScheduler::initial_step() {
  for (OptimizerParamGroup& group : optimizer_.param_groups())
    if (!group.initial_lr()) group.set_initial_lr(group.options().get_lr());
  base_lrs_ = initial_lrs(optimizer_);
  set_lrs(get_lrs());
}

void LRScheduler::step() {
  ++last_epoch_;
  try {
    set_lrs(get_lrs());
  } catch (...) {
    --last_epoch_;
    throw;
  }
  ++step_count_;
}

void LRScheduler::restart() {
  const std::int64_t previous = last_epoch_;
  last_epoch_ = 0;
  try {
    set_lrs(get_closed_form_lrs());
  } catch (...) {
    last_epoch_ = previous;
    throw;
  }
  ++step_count_;
}

std::vector<SchedulerSlot> LRScheduler::state_slots() {
  return {{"last_epoch", &last_epoch_}, {"step_count", &step_count_}, {"base_lrs", &base_lrs_},
          {"_last_lr", &last_lrs_}};
}

// ---- StepLR ------------------------------------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler(optimizer, "StepLR"), step_size_(step_size), gamma_(gamma) {
  check(step_size >= 1, "StepLR: step_size must be >= 1, got ", step_size);
  initial_step();
}

// libtorch counts the calls already made (step_count_), Python the one being made (last_epoch).
std::vector<double> StepLR::get_lrs() {
  std::vector<double> lrs = get_current_lrs();
  if (last_epoch() != 0 && last_epoch() % step_size_ == 0)
    for (double& lr : lrs) lr *= gamma_;
  return lrs;
}

std::vector<double> StepLR::get_closed_form_lrs() {
  std::vector<double> lrs = base_lrs();
  const auto drops = static_cast<double>(last_epoch() / step_size_);
  for (double& lr : lrs) lr *= std::pow(gamma_, drops);
  return lrs;
}

// ---- LambdaLR, MultiplicativeLR ----------------------------------------------------------------

LambdaLR::LambdaLR(Optimizer& optimizer, LRLambda lr_lambda)
    : LRScheduler(optimizer, "LambdaLR"), lr_lambdas_(one_per_group(optimizer, std::move(lr_lambda), "LambdaLR")) {
  initial_step();
}

LambdaLR::LambdaLR(Optimizer& optimizer, std::vector<LRLambda> lr_lambdas)
    : LRScheduler(optimizer, "LambdaLR"), lr_lambdas_(checked_lambdas(optimizer, std::move(lr_lambdas), "LambdaLR")) {
  initial_step();
}

std::vector<double> LambdaLR::get_lrs() {
  std::vector<double> lrs = base_lrs();
  for (std::size_t i = 0; i < lrs.size(); ++i) lrs[i] *= lr_lambdas_[i](last_epoch());
  return lrs;
}

MultiplicativeLR::MultiplicativeLR(Optimizer& optimizer, LRLambda lr_lambda)
    : LRScheduler(optimizer, "MultiplicativeLR"),
      lr_lambdas_(one_per_group(optimizer, std::move(lr_lambda), "MultiplicativeLR")) {
  initial_step();
}

MultiplicativeLR::MultiplicativeLR(Optimizer& optimizer, std::vector<LRLambda> lr_lambdas)
    : LRScheduler(optimizer, "MultiplicativeLR"),
      lr_lambdas_(checked_lambdas(optimizer, std::move(lr_lambdas), "MultiplicativeLR")) {
  initial_step();
}

std::vector<double> MultiplicativeLR::get_lrs() {
  std::vector<double> lrs = get_current_lrs();
  if (last_epoch() > 0)
    for (std::size_t i = 0; i < lrs.size(); ++i) lrs[i] *= lr_lambdas_[i](last_epoch());
  return lrs;
}

// ---- ExponentialLR -----------------------------------------------------------------------------

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRScheduler(optimizer, "ExponentialLR"), gamma_(gamma) {
  check(gamma > 0, "ExponentialLR: gamma must be > 0, got ", gamma);
  initial_step();
}

std::vector<double> ExponentialLR::get_lrs() {
  std::vector<double> lrs = get_current_lrs();
  if (last_epoch() != 0)
    for (double& lr : lrs) lr *= gamma_;
  return lrs;
}

std::vector<double> ExponentialLR::get_closed_form_lrs() {
  std::vector<double> lrs = base_lrs();
  for (double& lr : lrs) lr *= std::pow(gamma_, static_cast<double>(last_epoch()));
  return lrs;
}

// ---- CosineAnnealingLR -------------------------------------------------------------------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min)  // NOLINT
    : LRScheduler(optimizer, "CosineAnnealingLR"), T_max_(T_max), eta_min_(eta_min) {
  check(T_max >= 1, "CosineAnnealingLR: T_max must be >= 1, got ", T_max);
  check(eta_min >= 0, "CosineAnnealingLR: eta_min must be >= 0, got ", eta_min);
  initial_step();
}

// Python's three cases, each written in Python's order of operations so that every rounding is its.
// (Python's fourth, a scheduler resumed from last_epoch > 0 at its first step, cannot arise: xgrad's
// schedulers always start at epoch 0.)
std::vector<double> CosineAnnealingLR::get_lrs() {
  std::vector<double> lrs = get_current_lrs();
  const std::int64_t epoch = last_epoch();
  if (epoch == 0) return lrs;
  const auto t = static_cast<double>(epoch);
  const auto period = static_cast<double>(T_max_);
  const std::vector<double>& base = base_lrs();
  // The step from the trough (odd multiples of T_max) upwards, where the ratio below would divide
  // by 1 + cos(pi) = 0.
  if ((epoch - 1 - T_max_) % (2 * T_max_) == 0) {
    for (std::size_t i = 0; i < lrs.size(); ++i)
      lrs[i] = lrs[i] + (base[i] - eta_min_) * (1 - std::cos(kPi / period)) / 2;
    return lrs;
  }
  const double ratio = (1 + std::cos(kPi * t / period)) / (1 + std::cos(kPi * (t - 1) / period));
  for (double& lr : lrs) lr = ratio * (lr - eta_min_) + eta_min_;
  return lrs;
}

std::vector<double> CosineAnnealingLR::get_closed_form_lrs() {
  std::vector<double> lrs = base_lrs();
  const double cosine = std::cos(kPi * static_cast<double>(last_epoch()) / static_cast<double>(T_max_));
  for (double& lr : lrs) lr = eta_min_ + (lr - eta_min_) * (1 + cosine) / 2;
  return lrs;
}

// ---- LinearLR ----------------------------------------------------------------------------------

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, std::int64_t total_iters)
    : LRScheduler(optimizer, "LinearLR"),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  check(start_factor > 0 && start_factor <= 1, "LinearLR: start_factor must be in (0, 1], got ", start_factor);
  check(end_factor >= 0 && end_factor <= 1, "LinearLR: end_factor must be in [0, 1], got ", end_factor);
  check(total_iters >= 0, "LinearLR: total_iters must be >= 0, got ", total_iters);
  initial_step();
}

std::vector<double> LinearLR::get_lrs() {
  std::vector<double> lrs = get_current_lrs();
  const std::int64_t epoch = last_epoch();
  if (epoch == 0) {
    for (double& lr : lrs) lr *= start_factor_;
    return lrs;
  }
  if (epoch > total_iters_) return lrs;
  const double span = end_factor_ - start_factor_;
  const double factor =
      1.0 + span / (static_cast<double>(total_iters_) * start_factor_ + static_cast<double>(epoch - 1) * span);
  for (double& lr : lrs) lr *= factor;
  return lrs;
}

// With total_iters 0 the schedule is start_factor throughout (Python divides by zero here).
std::vector<double> LinearLR::get_closed_form_lrs() {
  std::vector<double> lrs = base_lrs();
  const double progress =
      total_iters_ == 0 ? 0.0
                        : (end_factor_ - start_factor_) * static_cast<double>(std::min(total_iters_, last_epoch())) /
                              static_cast<double>(total_iters_);
  for (double& lr : lrs) lr *= start_factor_ + progress;
  return lrs;
}

// ---- SequentialLR ------------------------------------------------------------------------------

namespace {

std::vector<std::shared_ptr<LRScheduler>> checked_schedulers(const Optimizer& optimizer,
                                                             std::vector<std::shared_ptr<LRScheduler>> schedulers,
                                                             std::size_t milestones) {
  check(!schedulers.empty(), "SequentialLR: schedulers must hold at least one scheduler, got none");
  for (std::size_t i = 0; i < schedulers.size(); ++i) {
    check(schedulers[i] != nullptr, "SequentialLR: schedulers[", i, "] is null");
    check(&schedulers[i]->optimizer() == &optimizer, "SequentialLR: schedulers[", i, "] (", schedulers[i]->name(),
          ") was made for another optimiser than the one given");
  }
  check(milestones + 1 == schedulers.size(), "SequentialLR: milestones must hold one less than the ",
        schedulers.size(), " schedulers, got ", milestones);
  return schedulers;
}

}  // namespace

SequentialLR::SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<std::int64_t> milestones)
    : LRScheduler(optimizer, "SequentialLR"),
      schedulers_(checked_schedulers(optimizer, std::move(schedulers), milestones.size())),
      milestones_(std::move(milestones)) {
  // Python's constructor: back to the initial rates, every scheduler one epoch back (so that the
  // later ones are not yet started), then the first one's epoch 0 once more.
  for (OptimizerParamGroup& group : optimizer.param_groups())
    if (group.initial_lr()) group.options().set_lr(*group.initial_lr());
  for (const auto& scheduler : schedulers_) --scheduler->last_epoch_;
  LRScheduler& first = *schedulers_.front();
  ++first.last_epoch_;
  first.set_lrs(first.get_lrs());
  last_lrs_ = first.get_last_lr();
}

// Python's bisect_right: the scheduler whose stretch holds the epoch, restarted on its milestone.
std::vector<double> SequentialLR::get_lrs() {
  const auto index = static_cast<std::size_t>(
      std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch()) - milestones_.begin());
  LRScheduler& scheduler = *schedulers_[index];
  if (index > 0 && milestones_[index - 1] == last_epoch())
    scheduler.restart();
  else
    scheduler.step();
  return scheduler.get_last_lr();
}

std::vector<SchedulerSlot> SequentialLR::state_slots() {
  std::vector<SchedulerSlot> slots = LRScheduler::state_slots();
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    const std::string prefix = concat("_schedulers.", i);
    slots.push_back({prefix, &schedulers_[i]->name_});
    for (SchedulerSlot& slot : schedulers_[i]->state_slots()) slots.push_back({prefix + "." + slot.name, slot.value});
  }
  return slots;
}

}  // namespace xgrad::optim
