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

#include "optimizer.hpp"

namespace xgrad::optim {

// AdamOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0).amsgrad(false), PyTorch's
// defaults; chainable setters, same-named getters.
class AdamOptions : public OptimizerCloneableOptions<AdamOptions> {
 public:
  using betas_t = std::tuple<double, double>;
  AdamOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, as libtorch

  AdamOptions& lr(double value) { lr_ = value; return *this; }
  AdamOptions& betas(const betas_t& value) { betas_ = value; return *this; }
  AdamOptions& eps(double value) { eps_ = value; return *this; }
  AdamOptions& weight_decay(double value) { weight_decay_ = value; return *this; }
  AdamOptions& amsgrad(bool value) { amsgrad_ = value; return *this; }
  // Ascend instead of descend. Python's option; libtorch 1.13 has none.
  AdamOptions& maximize(bool value) { maximize_ = value; return *this; }

  double lr() const { return lr_; }
  const betas_t& betas() const { return betas_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }
  bool amsgrad() const { return amsgrad_; }
  bool maximize() const { return maximize_; }

  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::vector<OptionSlot> option_slots() override;
  friend bool operator==(const AdamOptions& a, const AdamOptions& b);

 private:
  double lr_;
  betas_t betas_{0.9, 0.999};
  double eps_ = 1e-8;
  double weight_decay_ = 0.0;
  bool amsgrad_ = false;
  bool maximize_ = false;
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
