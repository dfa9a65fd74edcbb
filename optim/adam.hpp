#pragma once
// Adam, as torch.optim.Adam (PyTorch 1.13). For each parameter p with gradient g, at step t = 1, 2, ...
//   d = maximize ? -g : g
//   d = d + weight_decay * p                                  (if weight_decay != 0: L2, not AdamW's)
//   m = beta1 * m + (1 - beta1) * d                           running average of the gradient
//   v = beta2 * v + (1 - beta2) * d * d                       running average of its square
//   v_max = max(v_max, v)                                     (amsgrad only)
//   denom = sqrt(amsgrad ? v_max : v) / sqrt(1 - beta2^t) + eps
//   p = p - lr / (1 - beta1^t) * m / denom
// m, v and v_max start at zero, and the divisions by 1 - beta^t undo that start's pull towards
// zero. state()[i] holds step (t), exp_avg (m), exp_avg_sq (v) and max_exp_avg_sq (v_max).
#include <tuple>
#include <vector>

#include <xgrad/core/arg.hpp>
#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

// AdamOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0).amsgrad(false), PyTorch's
// defaults; chainable setters, same-named getters.
class AdamOptions : public OptimizerCloneableOptions<AdamOptions> {
 public:
  using betas_t = std::tuple<double, double>;
  AdamOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, as libtorch

  XGRAD_ARG(double, lr);
  XGRAD_ARG(betas_t, betas) = {0.9, 0.999};
  XGRAD_ARG(double, eps) = 1e-8;
  XGRAD_ARG(double, weight_decay) = 0.0;
  XGRAD_ARG(bool, amsgrad) = false;
  // Ascend instead of descend. Python's option; libtorch 1.13 has none.
  XGRAD_ARG(bool, maximize) = false;

 public:
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::vector<OptionSlot> option_slots() override;
  friend bool operator==(const AdamOptions& a, const AdamOptions& b);
};

class Adam : public Optimizer {
 public:
  // Throws Error, as PyTorch does, for lr, eps or weight_decay below 0 and a beta outside [0, 1),
  // in the defaults or in any group's options.
  explicit Adam(std::vector<OptimizerParamGroup> param_groups, AdamOptions defaults = {});
  explicit Adam(std::vector<Tensor> params, AdamOptions defaults = {});

 protected:
  bool accepts(const OptimizerOptions& options) const override;
  void check_options(const OptimizerOptions& options) const override;
  // In place, one loop over the elements. A parameter's first step allocates its state; later
  // steps allocate nothing.
  void update(Tensor& parameter, const Tensor& grad, ParamState& state, const OptimizerOptions& options) override;
};

}  // namespace xgrad::optim
