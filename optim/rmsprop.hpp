#pragma once
// RMSprop, as torch.optim.RMSprop (PyTorch 1.13). For each parameter p with gradient g:
//   d = maximize ? -g : g
//   d = d + weight_decay * p                                  (if weight_decay != 0)
//   sq = alpha * sq + (1 - alpha) * d * d                     running average of the squared gradient
//   centered:  ga = alpha * ga + (1 - alpha) * d, avg = sqrt(sq - ga * ga) + eps   (an estimate of
//              the gradient's variance rather than its raw second moment)
//   otherwise: avg = sqrt(sq) + eps
//   momentum > 0: buf = momentum * buf + d / avg, p = p - lr * buf
//   otherwise:    p = p - lr * d / avg
// sq, ga and buf start at zero. state()[i] holds step (counted, unused by the rule), square_avg
// (sq), grad_avg (ga, centered only) and momentum_buffer (buf, momentum > 0 only).
#include <vector>

#include <xgrad/core/arg.hpp>
#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

// RMSpropOptions(1e-2).alpha(0.99).eps(1e-8).weight_decay(0).momentum(0).centered(false).
class RMSpropOptions : public OptimizerCloneableOptions<RMSpropOptions> {
 public:
  RMSpropOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT: implicit, as libtorch

  XGRAD_ARG(double, lr);
  XGRAD_ARG(double, alpha) = 0.99;
  XGRAD_ARG(double, eps) = 1e-8;
  XGRAD_ARG(double, weight_decay) = 0.0;
  XGRAD_ARG(double, momentum) = 0.0;
  XGRAD_ARG(bool, centered) = false;
  // Ascend instead of descend. Python's option; libtorch 1.13 has none.
  XGRAD_ARG(bool, maximize) = false;

 public:
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::vector<OptionSlot> option_slots() override;
  friend bool operator==(const RMSpropOptions& a, const RMSpropOptions& b);
};

class RMSprop : public Optimizer {
 public:
  // Throws Error, as PyTorch does, for lr, eps, momentum, weight_decay or alpha below 0.
  explicit RMSprop(std::vector<OptimizerParamGroup> param_groups, RMSpropOptions defaults = {});
  explicit RMSprop(std::vector<Tensor> params, RMSpropOptions defaults = {});

 protected:
  bool accepts(const OptimizerOptions& options) const override;
  void check_options(const OptimizerOptions& options) const override;
  // In place, one loop over the elements; only a parameter's first step allocates.
  void update(Tensor& parameter, const Tensor& grad, ParamState& state, const OptimizerOptions& options) override;
};

}  // namespace xgrad::optim
