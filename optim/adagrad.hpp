#pragma once
// Adagrad, as torch.optim.Adagrad (PyTorch 1.13). For each parameter p with gradient g, at step
// t = 1, 2, ...
//   d = maximize ? -g : g
//   d = d + weight_decay * p                                  (if weight_decay != 0)
//   clr = lr / (1 + (t - 1) * lr_decay)
//   sum = sum + d * d                                         every squared gradient so far
//   p = p - clr * d / (sqrt(sum) + eps)
// so each element's rate shrinks with the gradients it has seen. sum starts at
// initial_accumulator_value and, as in PyTorch, exists from construction: state()[i] holds step (t)
// and sum.
#include <vector>

#include "optimizer.hpp"

namespace xgrad::optim {

// AdagradOptions(1e-2).lr_decay(0).weight_decay(0).initial_accumulator_value(0).eps(1e-10).
class AdagradOptions : public OptimizerCloneableOptions<AdagradOptions> {
 public:
  AdagradOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT: implicit, as libtorch

  AdagradOptions& lr(double value) { lr_ = value; return *this; }
  AdagradOptions& lr_decay(double value) { lr_decay_ = value; return *this; }
  AdagradOptions& weight_decay(double value) { weight_decay_ = value; return *this; }
  AdagradOptions& initial_accumulator_value(double value) { initial_accumulator_value_ = value; return *this; }
  AdagradOptions& eps(double value) { eps_ = value; return *this; }
  // Ascend instead of descend. Python's option; libtorch 1.13 has none.
  AdagradOptions& maximize(bool value) { maximize_ = value; return *this; }

  double lr() const { return lr_; }
  double lr_decay() const { return lr_decay_; }
  double weight_decay() const { return weight_decay_; }
  double initial_accumulator_value() const { return initial_accumulator_value_; }
  double eps() const { return eps_; }
  bool maximize() const { return maximize_; }

  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::vector<OptionSlot> option_slots() override;
  friend bool operator==(const AdagradOptions& a, const AdagradOptions& b);

 private:
  double lr_;
  double lr_decay_ = 0.0;
  double weight_decay_ = 0.0;
  double initial_accumulator_value_ = 0.0;
  double eps_ = 1e-10;
  bool maximize_ = false;
};

class Adagrad : public Optimizer {
 public:
  // Throws Error, as PyTorch does, for lr, lr_decay, weight_decay, initial_accumulator_value or eps
  // below 0. Creates every parameter's sum (the only allocation: no step allocates).
  explicit Adagrad(std::vector<OptimizerParamGroup> param_groups, AdagradOptions defaults = {});
  explicit Adagrad(std::vector<Tensor> params, AdagradOptions defaults = {});

 protected:
  bool accepts(const OptimizerOptions& options) const override;
  void check_options(const OptimizerOptions& options) const override;
  void init_state(const Tensor& parameter, ParamState& state, const OptimizerOptions& options) override;
  void update(Tensor& parameter, const Tensor& grad, ParamState& state, const OptimizerOptions& options) override;
};

}  // namespace xgrad::optim
