#pragma once
// Stochastic gradient descent with momentum, as torch.optim.SGD (PyTorch 1.13), for each parameter p
// with gradient g:
//   d = maximize ? -g : g
//   d = d + weight_decay * p                           (if weight_decay != 0)
//   if momentum != 0:
//     buf = d on the first step, else buf = momentum * buf + (1 - dampening) * d
//     d = nesterov ? d + momentum * buf : buf
//   p = p - lr * d
// The first step copies d into the buffer without dampening, exactly as PyTorch does. The buffer is
// state()[i].momentum_buffer; SGD keeps no step count.
#include <vector>

#include <xgrad/core/arg.hpp>
#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

// SGDOptions(0.1).momentum(0.9).nesterov(true); chainable setters, same-named getters. A double
// converts to SGDOptions, so SGD(params, 0.01) works, as in libtorch.
class SGDOptions : public OptimizerCloneableOptions<SGDOptions> {
 public:
  SGDOptions(double lr) : lr_(lr) {}  // NOLINT: implicit on purpose

  XGRAD_ARG(double, lr);
  XGRAD_ARG(double, momentum) = 0.0;
  XGRAD_ARG(double, dampening) = 0.0;
  XGRAD_ARG(double, weight_decay) = 0.0;
  XGRAD_ARG(bool, nesterov) = false;
  // Ascend instead of descend (for objectives to be maximised). Python's option; libtorch 1.13 has none.
  XGRAD_ARG(bool, maximize) = false;

 public:
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::vector<OptionSlot> option_slots() override;
  friend bool operator==(const SGDOptions& a, const SGDOptions& b);
};

class SGD : public Optimizer {
 public:
  // Throws Error for a negative lr, momentum or weight_decay, and for nesterov without momentum or
  // with dampening (PyTorch's checks), in the defaults or in any group's options.
  explicit SGD(std::vector<OptimizerParamGroup> param_groups, SGDOptions defaults);
  explicit SGD(std::vector<Tensor> params, SGDOptions defaults);

  // The defaults, and a way to replace them and every group's options at once between steps
  // (checked like the constructor's). xgrad's own; libtorch programs use param_groups().
  const SGDOptions& options() const { return static_cast<const SGDOptions&>(defaults()); }
  void set_options(const SGDOptions& options);

 protected:
  bool accepts(const OptimizerOptions& options) const override;
  void check_options(const OptimizerOptions& options) const override;
  // In place and outside the graph. After the first step (which allocates the momentum buffers) a
  // step allocates nothing.
  void update(Tensor& parameter, const Tensor& grad, ParamState& state, const OptimizerOptions& options) override;
};

}  // namespace xgrad::optim
