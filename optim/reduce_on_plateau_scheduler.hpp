#pragma once
// ReduceLROnPlateauScheduler, libtorch 2.x's name and arguments for Python's ReduceLROnPlateau:
// lowers every group's learning rate by `factor` once a metric has not improved for more than
// `patience` calls of step(metric).
//
//   optim::ReduceLROnPlateauScheduler plateau(opt, optim::ReduceLROnPlateauScheduler::min,
//                                             /*factor=*/0.5, /*patience=*/3);
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//     train_one_epoch(net, opt);
//     plateau.step(validation_loss(net));
//   }
//
// A metric is better than the best so far when it is below best * (1 - threshold) (mode min,
// threshold_mode rel), below best - threshold (min, abs), above best * (1 + threshold) (max, rel) or
// above best + threshold (max, abs). After a reduction the scheduler waits `cooldown` steps before
// counting bad ones again. A group's rate never goes below its min_lr, and a reduction smaller than
// eps is skipped. The values are Python's: factor and min_lr are doubles (libtorch 2.x's floats
// would round 0.1 and lower rates to float precision).
//
// As libtorch's, it is not an LRScheduler (its step takes the metric); it saves and loads with the
// optimiser as the others do: xgrad::save(opt, plateau, path) (nn/serialize.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include <xgrad/optim/lr_scheduler.hpp>
#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

class ReduceLROnPlateauScheduler {
 public:
  enum SchedulerMode { min, max };
  enum ThresholdMode { rel, abs };

  // min_lr: empty for 0 in every group, one value for every group (Python's scalar), or one per
  // group. Throws Error for a factor of 1 or more, a negative patience or cooldown, a negative
  // min_lr or a min_lr list of another length.
  explicit ReduceLROnPlateauScheduler(Optimizer& optimizer, SchedulerMode mode = min, double factor = 0.1,
                                      int patience = 10, double threshold = 1e-4, ThresholdMode threshold_mode = rel,
                                      int cooldown = 0, const std::vector<double>& min_lr = {}, double eps = 1e-8,
                                      bool verbose = false);
  virtual ~ReduceLROnPlateauScheduler() = default;

  // Counts the epoch and judges `metric` against the best so far; after more than `patience` bad
  // epochs in a row (outside a cooldown) lowers the rates. With verbose, prints each reduction as
  // Python does ("Epoch 00012: reducing learning rate of group 0 to 1.0000e-03.").
  void step(double metric);

  // The groups' rates after the last step (before any, those of the optimiser when it was made).
  const std::vector<double>& get_last_lr() const noexcept { return last_lrs_; }
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  // The best metric so far (inf in mode min, -inf in mode max, before the first step).
  double best() const noexcept { return best_; }
  std::int64_t num_bad_epochs() const noexcept { return num_bad_epochs_; }
  std::int64_t cooldown_counter() const noexcept { return cooldown_counter_; }
  const std::string& name() const noexcept { return name_; }
  Optimizer& optimizer() const noexcept { return optimizer_; }

  // For checkpoints, as LRScheduler::state_slots: last_epoch, best, num_bad_epochs,
  // cooldown_counter and _last_lr.
  virtual std::vector<SchedulerSlot> state_slots();

 private:
  bool is_better(double metric) const;
  void reduce_lr();

  Optimizer& optimizer_;
  const std::string name_ = "ReduceLROnPlateauScheduler";
  const SchedulerMode mode_;
  const double factor_;
  const int patience_;
  const double threshold_;
  const ThresholdMode threshold_mode_;
  const int cooldown_;
  std::vector<double> min_lrs_;
  const double eps_;
  const bool verbose_;

  double best_;
  std::int64_t num_bad_epochs_ = 0;
  std::int64_t cooldown_counter_ = 0;
  std::int64_t last_epoch_ = 0;
  std::vector<double> last_lrs_;
};

}  // namespace xgrad::optim
