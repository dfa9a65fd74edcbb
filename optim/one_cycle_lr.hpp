#pragma once
// OneCycleLR, Python's torch.optim.lr_scheduler.OneCycleLR (the 1cycle policy): the rate climbs
// from max_lr / div_factor to max_lr over the first pct_start of total_steps, then falls to
// max_lr / div_factor / final_div_factor by the last step, while the momentum moves the other way
// between max_momentum and base_momentum. Call step() after every batch.
//
//   optim::SGD opt(net->parameters(), optim::SGDOptions(0.1).momentum(0.9));
//   optim::OneCycleLR schedule(opt, /*max_lr=*/0.5, /*total_steps=*/epochs * batches_per_epoch);
//
// The momentum is the optimiser's "momentum" option (SGD, RMSprop) or the first of its "betas"
// (Adam, AdamW), as in Python; for an optimiser with neither (Adagrad) pass cycle_momentum = false.
// Python's epochs and steps_per_epoch are left out: pass total_steps = epochs * steps_per_epoch.
#include <cstdint>
#include <vector>

#include <xgrad/optim/lr_scheduler.hpp>

namespace xgrad::optim {

class OneCycleLR : public LRScheduler {
 public:
  // Python's 'cos' and 'linear'.
  enum class AnnealStrategy { cos, linear };

  // Python's arguments, in its order and with its defaults. Throws Error for a total_steps below 1,
  // a pct_start outside [0, 1], a max_lr below 0, a div_factor or final_div_factor not above 0, or
  // cycle_momentum for an optimiser without momentum or betas. The optimiser's momentum (or beta1)
  // is set at once, as the rate is.
  OneCycleLR(Optimizer& optimizer, double max_lr, std::int64_t total_steps, double pct_start = 0.3,
             AnnealStrategy anneal_strategy = AnnealStrategy::cos, bool cycle_momentum = true,
             double base_momentum = 0.85, double max_momentum = 0.95, double div_factor = 25.0,
             double final_div_factor = 1e4, bool three_phase = false);
  // One max_lr per parameter group; throws Error unless there are as many as groups.
  OneCycleLR(Optimizer& optimizer, std::vector<double> max_lrs, std::int64_t total_steps, double pct_start = 0.3,
             AnnealStrategy anneal_strategy = AnnealStrategy::cos, bool cycle_momentum = true,
             double base_momentum = 0.85, double max_momentum = 0.95, double div_factor = 25.0,
             double final_div_factor = 1e4, bool three_phase = false);

 private:
  // The rates and momenta a phase runs between, as Python names its group keys.
  enum class Level { initial_lr, max_lr, min_lr };
  enum class Momentum { max_momentum, base_momentum };
  struct Phase {
    double end_step;
    Level start_lr, end_lr;
    Momentum start_momentum, end_momentum;
  };
  // One group's rates, fixed by the constructor.
  struct GroupLevels {
    double initial_lr, max_lr, min_lr;
  };

  // Throws Error once last_epoch() passes total_steps, as Python.
  std::vector<double> get_lrs() override;
  double anneal(double start, double end, double pct) const;
  double level(const GroupLevels& group, Level which) const;
  double momentum(Momentum which) const;
  void set_momentum(OptimizerOptions& options, double value) const;

  const std::int64_t total_steps_;
  const AnnealStrategy anneal_strategy_;
  const bool cycle_momentum_;
  const double base_momentum_, max_momentum_;
  std::vector<Phase> phases_;
  std::vector<GroupLevels> groups_;
  // Whether the momentum cycled is beta1 (the optimiser has "betas") rather than "momentum".
  bool use_beta1_ = false;
};

}  // namespace xgrad::optim
