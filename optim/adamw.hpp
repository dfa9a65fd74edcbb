#pragma once
// AdamW, as torch.optim.AdamW (PyTorch 1.13): Adam with decoupled weight decay. Before the Adam step
// (optim/adam.hpp, with the gradient left as it is) the parameter shrinks by itself:
//   p = p * (1 - lr * weight_decay)
// rather than Adam's adding weight_decay * p to the gradient, where the adaptive denominator would
// rescale it. The default weight_decay is 1e-2. state()[i] holds the same tensors as Adam's.
#include <tuple>
#include <vector>

#include "optimizer.hpp"

namespace xgrad::optim {

// AdamWOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(1e-2).amsgrad(false).
class AdamWOptions : public OptimizerCloneableOptions<AdamWOptions> {
 public:
  using betas_t = std::tuple<double, double>;
  AdamWOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, as libtorch

  AdamWOptions& lr(double value) { lr_ = value; return *this; }
  AdamWOptions& betas(const betas_t& value) { betas_ = value; return *this; }
  AdamWOptions& eps(double value) { eps_ = value; return *this; }
  AdamWOptions& weight_decay(double value) { weight_decay_ = value; return *this; }
  AdamWOptions& amsgrad(bool value) { amsgrad_ = value; return *this; }
  // Ascend instead of descend. Python's option; libtorch 1.13 has none.
  AdamWOptions& maximize(bool value) { maximize_ = value; return *this; }

  double lr() const { return lr_; }
  const betas_t& betas() const { return betas_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }
  bool amsgrad() const { return amsgrad_; }
  bool maximize() const { return maximize_; }

  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::vector<OptionSlot> option_slots() override;
  friend bool operator==(const AdamWOptions& a, const AdamWOptions& b);

 private:
  double lr_;
  betas_t betas_{0.9, 0.999};
  double eps_ = 1e-8;
  double weight_decay_ = 1e-2;
  bool amsgrad_ = false;
  bool maximize_ = false;
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
