#include <xgrad/optim/one_cycle_lr.hpp>

#include <cmath>
#include <cstring>
#include <tuple>

#include <xgrad/core/error.hpp>

namespace xgrad::optim {

namespace {

// Python's math.pi.
constexpr double kPi = 3.141592653589793;

bool has_option(OptimizerOptions& options, const char* name) {
  for (const OptionSlot& slot : options.option_slots())
    if (std::strcmp(slot.name, name) == 0) return true;
  return false;
}

}  // namespace

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, std::int64_t total_steps, double pct_start,
                       AnnealStrategy anneal_strategy, bool cycle_momentum, double base_momentum,
                       double max_momentum, double div_factor, double final_div_factor, bool three_phase)
    : OneCycleLR(optimizer, std::vector<double>(optimizer.param_groups().size(), max_lr), total_steps, pct_start,
                 anneal_strategy, cycle_momentum, base_momentum, max_momentum, div_factor, final_div_factor,
                 three_phase) {}

OneCycleLR::OneCycleLR(Optimizer& optimizer, std::vector<double> max_lrs, std::int64_t total_steps, double pct_start,
                       AnnealStrategy anneal_strategy, bool cycle_momentum, double base_momentum,
                       double max_momentum, double div_factor, double final_div_factor, bool three_phase)
    : LRScheduler(optimizer, "OneCycleLR"),
      total_steps_(total_steps),
      anneal_strategy_(anneal_strategy),
      cycle_momentum_(cycle_momentum),
      base_momentum_(base_momentum),
      max_momentum_(max_momentum) {
  check(total_steps >= 1, "OneCycleLR: total_steps must be >= 1, got ", total_steps);
  check(pct_start >= 0 && pct_start <= 1, "OneCycleLR: pct_start must be in [0, 1], got ", pct_start);
  check(max_lrs.size() == optimizer.param_groups().size(),
        "OneCycleLR: max_lr must hold one rate per parameter group (", optimizer.param_groups().size(), "), got ",
        max_lrs.size());
  for (std::size_t i = 0; i < max_lrs.size(); ++i)
    check(max_lrs[i] >= 0, "OneCycleLR: max_lr must be >= 0, got ", max_lrs[i], " for group ", i);
  check(div_factor > 0, "OneCycleLR: div_factor must be > 0, got ", div_factor);
  check(final_div_factor > 0, "OneCycleLR: final_div_factor must be > 0, got ", final_div_factor);
  if (cycle_momentum) {
    use_beta1_ = has_option(optimizer.defaults(), "betas");
    check(use_beta1_ || has_option(optimizer.defaults(), "momentum"), "OneCycleLR: cycle_momentum is true but the ",
          optimizer.name(), " optimiser has neither a momentum nor a betas option (pass cycle_momentum = false)");
  }

  // Python's phases, end steps computed as Python computes them.
  const auto total = static_cast<double>(total_steps);
  const double warmup_end = pct_start * total - 1;
  // A warm-up ending at step 0 is a phase of no length that step 0 falls in: Python divides by zero.
  check(warmup_end != 0, "OneCycleLR: pct_start * total_steps must not be 1 (a warm-up of no steps), got pct_start ",
        pct_start, " and total_steps ", total_steps);
  phases_.push_back({warmup_end, Level::initial_lr, Level::max_lr, Momentum::max_momentum, Momentum::base_momentum});
  if (three_phase) {
    phases_.push_back({2 * pct_start * total - 2, Level::max_lr, Level::initial_lr, Momentum::base_momentum,
                       Momentum::max_momentum});
    phases_.push_back({total - 1, Level::initial_lr, Level::min_lr, Momentum::max_momentum, Momentum::max_momentum});
  } else {
    phases_.push_back({total - 1, Level::max_lr, Level::min_lr, Momentum::base_momentum, Momentum::max_momentum});
  }

  auto& groups = optimizer.param_groups();
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const double initial_lr = max_lrs[i] / div_factor;
    groups_.push_back({initial_lr, max_lrs[i], initial_lr / final_div_factor});
    // Python overwrites it rather than keeping an earlier scheduler's: the schedule starts there.
    groups[i].set_initial_lr(initial_lr);
    if (cycle_momentum_) set_momentum(groups[i].options(), max_momentum_);
  }
  initial_step();
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (anneal_strategy_ == AnnealStrategy::linear) return (end - start) * pct + start;
  const double cos_out = std::cos(kPi * pct) + 1;
  return end + (start - end) / 2.0 * cos_out;
}

double OneCycleLR::level(const GroupLevels& group, Level which) const {
  switch (which) {
    case Level::initial_lr: return group.initial_lr;
    case Level::max_lr: return group.max_lr;
    case Level::min_lr: break;
  }
  return group.min_lr;
}

double OneCycleLR::momentum(Momentum which) const {
  return which == Momentum::max_momentum ? max_momentum_ : base_momentum_;
}

// Through the options' slots, the one route to "momentum" or "betas" that every optimiser offers.
void OneCycleLR::set_momentum(OptimizerOptions& options, double value) const {
  for (const OptionSlot& slot : options.option_slots()) {
    if (use_beta1_ && std::strcmp(slot.name, "betas") == 0) {
      std::get<0>(*std::get<std::tuple<double, double>*>(slot.value)) = value;
      return;
    }
    if (!use_beta1_ && std::strcmp(slot.name, "momentum") == 0) {
      *std::get<double*>(slot.value) = value;
      return;
    }
  }
  throw Error(concat("OneCycleLR: a parameter group's options have no ", use_beta1_ ? "betas" : "momentum",
                     " option to cycle"));
}

std::vector<double> OneCycleLR::get_lrs() {
  const std::int64_t step_num = last_epoch();
  check(step_num <= total_steps_, "OneCycleLR: step() called ", step_num, " times, more than total_steps (",
        total_steps_, ")");
  const auto step = static_cast<double>(step_num);
  std::vector<double> lrs, momenta;
  for (const GroupLevels& group : groups_) {
    double start_step = 0;
    for (std::size_t i = 0; i < phases_.size(); ++i) {
      const Phase& phase = phases_[i];
      if (step <= phase.end_step || i + 1 == phases_.size()) {
        check(phase.end_step != start_step, "OneCycleLR: step ", step_num,
              " falls in a phase of no steps (Python divides by zero there); raise total_steps or change pct_start");
        const double pct = (step - start_step) / (phase.end_step - start_step);
        lrs.push_back(anneal(level(group, phase.start_lr), level(group, phase.end_lr), pct));
        momenta.push_back(anneal(momentum(phase.start_momentum), momentum(phase.end_momentum), pct));
        break;
      }
      start_step = phase.end_step;
    }
  }
  if (cycle_momentum_) {
    auto& groups = optimizer().param_groups();
    for (std::size_t i = 0; i < groups.size(); ++i) set_momentum(groups[i].options(), momenta[i]);
  }
  return lrs;
}

}  // namespace xgrad::optim
