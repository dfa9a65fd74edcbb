#pragma once
// Learning-rate schedulers: LRScheduler, the base (as libtorch's), and the schedules of Python's
// torch.optim.lr_scheduler with its timing and defaults: StepLR, LambdaLR, MultiplicativeLR,
// ExponentialLR, CosineAnnealingLR, LinearLR and SequentialLR. OneCycleLR is in one_cycle_lr.hpp,
// ReduceLROnPlateauScheduler in reduce_on_plateau_scheduler.hpp.
//
//   optim::SGD opt(net.parameters(), optim::SGDOptions(0.1));
//   optim::StepLR scheduler(opt, /*step_size=*/30, /*gamma=*/0.1);
//   for (int epoch = 0; epoch < 90; ++epoch) {
//     train_one_epoch(net, opt);
//     scheduler.step();          // lr: 0.1 for epochs 0-29, 0.01 for 30-59, 0.001 for 60-89
//   }
//
// Python's timing: a scheduler's constructor sets the rate of epoch 0 (LinearLR lowers it to
// start_factor times the optimiser's at once), and the k-th call of step() sets the rate of epoch k,
// last_epoch(). A scheduler changes every parameter group's learning rate through
// OptimizerOptions::set_lr, so it works with any optimiser. It holds a reference: the optimiser must
// outlive it. Its state goes into a checkpoint with the optimiser's: xgrad::save(opt, scheduler,
// path) (nn/serialize.hpp).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

// One value a scheduler keeps between steps, as a checkpoint sees it (xgrad::save with a scheduler,
// nn/serialize.hpp): the key Python's scheduler.state_dict() gives it and the member that holds it.
// A checkpoint writes each slot and, to restore, assigns to it; a name (const std::string*) is not
// assigned but compared, so that a file made by another kind of scheduler is refused.
struct SchedulerSlot {
  std::string name;
  std::variant<std::int64_t*, unsigned*, double*, std::vector<double>*, const std::string*> value;
};

class LRScheduler {
 public:
  // For schedulers written outside xgrad, as libtorch's: the constructor changes nothing, and
  // get_lrs() is called by step() with step_count_ (libtorch's count) and last_epoch() (Python's).
  explicit LRScheduler(Optimizer& optimizer);
  virtual ~LRScheduler() = default;

  // Counts the epoch (last_epoch() goes up by one), then sets every group's learning rate to what
  // get_lrs() says. If get_lrs() throws, the scheduler and the rates stay as they were.
  void step();
  // The learning rates the last step() set, one per group; before any step, those the constructor
  // left (Python's get_last_lr; libtorch 1.13 has none).
  const std::vector<double>& get_last_lr() const { return last_lrs_; }
  // The epoch the rates were last set for (Python's last_epoch): 0 after the constructor, k after
  // k calls of step().
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  // Each group's rate at the start of the schedule (Python's base_lrs): its initial_lr.
  const std::vector<double>& base_lrs() const noexcept { return base_lrs_; }
  // The scheduler's class name as PyTorch spells it ("CosineAnnealingLR"), for files and messages.
  const std::string& name() const noexcept { return name_; }
  Optimizer& optimizer() const noexcept { return optimizer_; }

  // Every value the scheduler keeps between steps, for checkpoints: last_epoch, base_lrs and
  // _last_lr under Python's keys, step_count (libtorch's count, step_count_), and a derived
  // scheduler's own. A scheduler with state of its own overrides this and appends to the base's list.
  virtual std::vector<SchedulerSlot> state_slots();

 protected:
  // For xgrad's schedulers: `name` is the class name.
  LRScheduler(Optimizer& optimizer, std::string name);

  // The rates the coming step sets, one per group. step_count_ is the number of steps taken so far,
  // last_epoch() the epoch the rates are for.
  virtual std::vector<double> get_lrs() = 0;
  // The rates of epoch last_epoch() computed from base_lrs() alone (Python's _get_closed_form_lr),
  // which SequentialLR uses to start a scheduler again at epoch 0. The default is get_lrs(), as in
  // Python for schedulers without a closed form.
  virtual std::vector<double> get_closed_form_lrs();
  // The groups' rates now.
  std::vector<double> get_current_lrs() const;
  // What Python's base constructor does, for a derived constructor to call once its arguments are
  // checked: gives each group without an initial_lr its current rate as one, takes the initial_lrs
  // as base_lrs(), and sets the rates of epoch 0 (not counted as a step).
  void initial_step();

  unsigned step_count_ = 0;

 private:
  friend class SequentialLR;

  // Sets every group's rate; throws, changing nothing, unless there is one rate per group.
  void set_lrs(std::vector<double> lrs);
  // Starts the schedule again at epoch 0 from the closed form (Python's step(0)).
  void restart();

  Optimizer& optimizer_;
  std::string name_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lrs_;
  std::int64_t last_epoch_ = 0;
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
  std::vector<double> get_closed_form_lrs() override;

  const std::int64_t step_size_;
  const double gamma_;
};

// A function of the epoch (0, 1, 2, ...) giving a factor, for LambdaLR and MultiplicativeLR.
using LRLambda = std::function<double(std::int64_t epoch)>;

// lr = base_lr * lr_lambda(epoch), from the constructor on (epoch 0). One function for every group,
// or one per group. The functions are not saved with the scheduler: give the resumed scheduler the
// same ones.
//
//   optim::LambdaLR warmup(opt, [](std::int64_t epoch) { return std::min(1.0, (epoch + 1) / 10.0); });
class LambdaLR : public LRScheduler {
 public:
  // Throws Error for an empty function, or a list whose length is not the number of groups.
  LambdaLR(Optimizer& optimizer, LRLambda lr_lambda);
  LambdaLR(Optimizer& optimizer, std::vector<LRLambda> lr_lambdas);

 private:
  std::vector<double> get_lrs() override;

  const std::vector<LRLambda> lr_lambdas_;
};

// lr = lr * lr_lambda(epoch) at each step (epochs 1, 2, ...); the constructor leaves the rate alone.
class MultiplicativeLR : public LRScheduler {
 public:
  // Throws Error as LambdaLR's.
  MultiplicativeLR(Optimizer& optimizer, LRLambda lr_lambda);
  MultiplicativeLR(Optimizer& optimizer, std::vector<LRLambda> lr_lambdas);

 private:
  std::vector<double> get_lrs() override;

  const std::vector<LRLambda> lr_lambdas_;
};

// lr = lr * gamma at every step.
class ExponentialLR : public LRScheduler {
 public:
  // Throws Error unless gamma > 0.
  ExponentialLR(Optimizer& optimizer, double gamma);

 private:
  std::vector<double> get_lrs() override;
  std::vector<double> get_closed_form_lrs() override;

  const double gamma_;
};

// Cosine annealing from each group's base rate down to eta_min over T_max steps, and back up over
// the next T_max (a cosine of period 2 T_max), as Python's CosineAnnealingLR. Its rates come, as
// Python's, from the recursive form, each from the previous rate:
//   lr_t = (1 + cos(pi t / T_max)) / (1 + cos(pi (t - 1) / T_max)) * (lr_{t-1} - eta_min) + eta_min
// so they are Python's to the last bit; they differ from the closed form
//   eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2
// in the last bits, and they follow a rate changed from outside (another scheduler) as Python's do.
class CosineAnnealingLR : public LRScheduler {
 public:
  // Throws Error for a T_max below 1 or an eta_min below 0.
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min = 0.0);  // NOLINT: Python's names

 private:
  std::vector<double> get_lrs() override;
  std::vector<double> get_closed_form_lrs() override;

  const std::int64_t T_max_;
  const double eta_min_;
};

// The rate goes linearly from start_factor to end_factor times the base rate over total_iters steps,
// then stays (Python's LinearLR: a warm-up with the defaults, 1/3 of the rate rising to all of it
// by step 5). Its rates, as Python's, come from the recursive form.
class LinearLR : public LRScheduler {
 public:
  // Throws Error for a start_factor outside (0, 1], an end_factor outside [0, 1] or a negative
  // total_iters.
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0, std::int64_t total_iters = 5);

 private:
  std::vector<double> get_lrs() override;
  std::vector<double> get_closed_form_lrs() override;

  const double start_factor_;
  const double end_factor_;
  const std::int64_t total_iters_;
};

// One scheduler after another: schedulers[0] until epoch milestones[0], then schedulers[1] started
// afresh at its epoch 0 (from its closed form, where it has one), and so on, as Python's
// SequentialLR. Make the schedulers first, then the SequentialLR, and call only its step():
//
//   auto warmup = std::make_shared<optim::LinearLR>(opt, 0.01, 1.0, 100);
//   auto decay = std::make_shared<optim::CosineAnnealingLR>(opt, 900);
//   optim::SequentialLR schedule(opt, {warmup, decay}, {100});
//
// Its constructor sets the rates back to the groups' initial_lr and lets schedulers[0] set
// those of epoch 0. It saves and loads the state of every scheduler it holds.
class SequentialLR : public LRScheduler {
 public:
  // Throws Error for no schedulers, a null one, one made for another optimiser, or a number of
  // milestones other than one less than the number of schedulers.
  SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
               std::vector<std::int64_t> milestones);

  std::vector<SchedulerSlot> state_slots() override;

 private:
  std::vector<double> get_lrs() override;

  const std::vector<std::shared_ptr<LRScheduler>> schedulers_;
  const std::vector<std::int64_t> milestones_;
};

}  // namespace xgrad::optim
