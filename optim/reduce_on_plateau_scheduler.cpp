#include <xgrad/optim/reduce_on_plateau_scheduler.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <limits>

#include <xgrad/core/error.hpp>

namespace xgrad::optim {

namespace {

constexpr const char* kName = "ReduceLROnPlateauScheduler";

std::vector<double> checked_min_lrs(const Optimizer& optimizer, const std::vector<double>& min_lr) {
  const std::size_t groups = optimizer.param_groups().size();
  check(min_lr.size() <= 1 || min_lr.size() == groups, kName, ": min_lr must hold no value, one, or one per parameter "
        "group (", groups, "), got ", min_lr.size());
  for (const double lr : min_lr) check(lr >= 0, kName, ": min_lr must be >= 0, got ", lr);
  if (min_lr.size() == groups) return min_lr;
  return std::vector<double>(groups, min_lr.empty() ? 0.0 : min_lr.front());
}

std::vector<double> current_lrs(const Optimizer& optimizer) {
  std::vector<double> lrs;
  for (const OptimizerParamGroup& group : optimizer.param_groups()) lrs.push_back(group.options().get_lr());
  return lrs;
}

}  // namespace

ReduceLROnPlateauScheduler::ReduceLROnPlateauScheduler(Optimizer& optimizer, SchedulerMode mode, double factor,
                                                       int patience, double threshold, ThresholdMode threshold_mode,
                                                       int cooldown, const std::vector<double>& min_lr, double eps,
                                                       bool verbose)
    : optimizer_(optimizer),
      mode_(mode),
      factor_(factor),
      patience_(patience),
      threshold_(threshold),
      threshold_mode_(threshold_mode),
      cooldown_(cooldown),
      min_lrs_(checked_min_lrs(optimizer, min_lr)),
      eps_(eps),
      verbose_(verbose),
      best_(mode == min ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity()),
      last_lrs_(current_lrs(optimizer)) {
  check(factor < 1.0, kName, ": factor must be < 1, got ", factor);
  check(patience >= 0, kName, ": patience must be >= 0, got ", patience);
  check(cooldown >= 0, kName, ": cooldown must be >= 0, got ", cooldown);
}

bool ReduceLROnPlateauScheduler::is_better(double metric) const {
  if (mode_ == min && threshold_mode_ == rel) return metric < best_ * (1.0 - threshold_);
  if (mode_ == min) return metric < best_ - threshold_;
  if (threshold_mode_ == rel) return metric > best_ * (threshold_ + 1.0);
  return metric > best_ + threshold_;
}

void ReduceLROnPlateauScheduler::step(double metric) {
  check(min_lrs_.size() == optimizer_.param_groups().size(), kName, ": the optimiser has ",
        optimizer_.param_groups().size(), " parameter groups, but the scheduler was made for ", min_lrs_.size());
  ++last_epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs in a cooldown do not count
  }
  if (num_bad_epochs_ > patience_) {
    reduce_lr();
    cooldown_counter_ = cooldown_;
    num_bad_epochs_ = 0;
  }
  last_lrs_ = current_lrs(optimizer_);
}

void ReduceLROnPlateauScheduler::reduce_lr() {
  auto& groups = optimizer_.param_groups();
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const double old_lr = groups[i].options().get_lr();
    const double new_lr = std::max(old_lr * factor_, min_lrs_[i]);
    if (!(old_lr - new_lr > eps_)) continue;
    groups[i].options().set_lr(new_lr);
    if (verbose_) {
      char line[128];
      std::snprintf(line, sizeof line, "Epoch %05lld: reducing learning rate of group %zu to %.4e.",
                    static_cast<long long>(last_epoch_), i, new_lr);
      std::cout << line << '\n';
    }
  }
}

std::vector<SchedulerSlot> ReduceLROnPlateauScheduler::state_slots() {
  return {{"last_epoch", &last_epoch_},
          {"best", &best_},
          {"num_bad_epochs", &num_bad_epochs_},
          {"cooldown_counter", &cooldown_counter_},
          {"_last_lr", &last_lrs_}};
}

}  // namespace xgrad::optim
