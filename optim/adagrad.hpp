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

#include <xgrad/core/arg.hpp>
#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

// AdagradOptions(1e-2).lr_decay(0).weight_decay(0).initial_accumulator_value(0).eps(1e-10).
class AdagradOptions : public OptimizerCloneableOptions<AdagradOptions> {
 public:
  AdagradOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT: implicit, as libtorch

  XGRAD_ARG(double, lr);
  XGRAD_ARG(double, lr_decay) = 0.0;
  XGRAD_ARG(double, weight_decay) = 0.0;
  XGRAD_ARG(double, initial_accumulator_value) = 0.0;
  XGRAD_ARG(double, eps) = 1e-10;
  // Ascend instead of descend. Python's option; libtorch 1.13 has none.
  XGRAD_ARG(bool, maximize) = false;

 public:
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::vector<OptionSlot> option_slots() override;
  friend bool operator==(const AdagradOptions& a, const AdagradOptions& b);
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
