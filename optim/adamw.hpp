#pragma once
// AdamW, as torch.optim.AdamW (PyTorch 1.13): Adam with decoupled weight decay. Before the Adam step
// (optim/adam.hpp, with the gradient left as it is) the parameter shrinks by itself:
//   p = p * (1 - lr * weight_decay)
// rather than Adam's adding weight_decay * p to the gradient, where the adaptive denominator would
// rescale it. The default weight_decay is 1e-2. state()[i] holds the same tensors as Adam's.
#include <tuple>
#include <vector>

#include <xgrad/core/arg.hpp>
#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

// AdamWOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(1e-2).amsgrad(false).
class AdamWOptions : public OptimizerCloneableOptions<AdamWOptions> {
 public:
  using betas_t = std::tuple<double, double>;
  AdamWOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, as libtorch

  XGRAD_ARG(double, lr);
  XGRAD_ARG(betas_t, betas) = {0.9, 0.999};
  XGRAD_ARG(double, eps) = 1e-8;
  XGRAD_ARG(double, weight_decay) = 1e-2;
  XGRAD_ARG(bool, amsgrad) = false;
  // Ascend instead of descend. Python's option; libtorch 1.13 has none.
  XGRAD_ARG(bool, maximize) = false;

 public:
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::vector<OptionSlot> option_slots() override;
  friend bool operator==(const AdamWOptions& a, const AdamWOptions& b);
};

class AdamW : public Optimizer {
 public:
  // Throws Error, as PyTorch does, for lr, eps or weight_decay below 0 and a beta outside [0, 1).
  explicit AdamW(std::vector<OptimizerParamGroup> param_groups, AdamWOptions defaults = {});
  explicit AdamW(std::vector<Tensor> params, AdamWOptions defaults = {});

 protected:
  bool accepts(const OptimizerOptions& options) const override;
  void check_options(const OptimizerOptions& options) const override;
  void update(Tensor& parameter, const Tensor& grad, ParamState& state, const OptimizerOptions& options) override;
};

}  // namespace xgrad::optim
