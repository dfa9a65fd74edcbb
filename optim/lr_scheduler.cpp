#include <xgrad/optim/lr_scheduler.hpp>

#include <xgrad/core/error.hpp>

namespace xgrad::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer), last_lrs_(get_current_lrs()) {}

std::vector<double> LRScheduler::get_current_lrs() const {
  std::vector<double> lrs;
  lrs.reserve(optimizer_.param_groups().size());
  for (const OptimizerParamGroup& group : optimizer_.param_groups()) lrs.push_back(group.options().get_lr());
  return lrs;
}

void LRScheduler::step() {
  std::vector<double> lrs = get_lrs();
  auto& groups = optimizer_.param_groups();
  check(lrs.size() == groups.size(), "LRScheduler::step: get_lrs() gave ", lrs.size(), " learning rates for ",
        groups.size(), " parameter groups");
  for (std::size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(lrs[i]);
  last_lrs_ = std::move(lrs);
  ++step_count_;
}

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  check(step_size >= 1, "StepLR: invalid step_size ", step_size, " (must be >= 1)");
}

// Python counts the call being made (its last_epoch after the increment), libtorch the calls
// already made: step_count_ + 1 is Python's count.
std::vector<double> StepLR::get_lrs() {
  std::vector<double> lrs = get_current_lrs();
  if ((static_cast<std::int64_t>(step_count_) + 1) % step_size_ == 0)
    for (double& lr : lrs) lr *= gamma_;
  return lrs;
}

}  // namespace xgrad::optim
