#pragma once
// Learning-rate schedulers: LRScheduler, the base (as libtorch's), and StepLR.
//
//   optim::SGD opt(net.parameters(), optim::SGDOptions(0.1));
//   optim::StepLR scheduler(opt, /*step_size=*/30, /*gamma=*/0.1);
//   for (int epoch = 0; epoch < 90; ++epoch) {
//     train_one_epoch(net, opt);
//     scheduler.step();          // lr: 0.1 for epochs 0-29, 0.01 for 30-59, 0.001 for 60-89
//   }
//
// A scheduler changes every parameter group's learning rate through OptimizerOptions::set_lr, so
// it works with any optimiser. It holds a reference: the optimiser must outlive it.
#include <cstdint>
#include <vector>

#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer);
  virtual ~LRScheduler() = default;

  // Sets every group's learning rate to what get_lrs() says, then counts the step.
  void step();
  // The learning rates the last step() set, one per group; before any step, those the optimiser
  // had when the scheduler was made (Python's get_last_lr; libtorch 1.13 has none).
  const std::vector<double>& get_last_lr() const { return last_lrs_; }

 protected:
  // The rates the coming step sets, one per group. step_count_ is the number of steps taken so far.
  virtual std::vector<double> get_lrs() = 0;
  // The groups' rates now.
  std::vector<double> get_current_lrs() const;

  unsigned step_count_ = 0;

 private:
  Optimizer& optimizer_;
  std::vector<double> last_lrs_;
};

// Multiplies every group's learning rate by gamma once every step_size calls of step(), on the
// step_size-th, 2 step_size-th, ... call, as Python's torch.optim.lr_scheduler.StepLR does.
// libtorch 1.13's StepLR lowers it one call later (on the (step_size + 1)-th, ...); xgrad follows
// Python, so that a loop calling step() once per epoch trains epochs 0 to step_size - 1 at the
// initial rate, as PyTorch's documentation shows.
class StepLR : public LRScheduler {
 public:
  // Throws Error for a step_size below 1.
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1);

 private:
  std::vector<double> get_lrs() override;

  const std::int64_t step_size_;
  const double gamma_;
};

}  // namespace xgrad::optim
