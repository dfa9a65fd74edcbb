#pragma once
// Stochastic gradient descent with momentum, as torch.optim.SGD (PyTorch 1.13), for each parameter p
// with gradient g:
//   d = maximize ? -g : g
//   d = d + weight_decay * p                           (if weight_decay != 0)
//   if momentum != 0:
//     buf = d on the first step, else buf = momentum * buf + (1 - dampening) * d
//     d = nesterov ? d + momentum * buf : buf
//   p = p - lr * d
// The first step copies d into the buffer without dampening, exactly as PyTorch does.
#include <vector>

#include "optimizer.hpp"

namespace xgrad::optim {

// SGDOptions(0.1).momentum(0.9).nesterov(true); chainable setters, same-named getters. Converts
// from the learning rate alone, as libtorch's, so `optim::SGD sgd(net->parameters(), 0.01);` works.
class SGDOptions {
 public:
  SGDOptions(double lr) : lr_(lr) {}  // NOLINT(google-explicit-constructor)

  SGDOptions& lr(double value) { lr_ = value; return *this; }
  SGDOptions& momentum(double value) { momentum_ = value; return *this; }
  SGDOptions& dampening(double value) { dampening_ = value; return *this; }
  SGDOptions& weight_decay(double value) { weight_decay_ = value; return *this; }
  SGDOptions& nesterov(bool value) { nesterov_ = value; return *this; }
  // Ascend instead of descend (for objectives to be maximised).
  SGDOptions& maximize(bool value) { maximize_ = value; return *this; }

  double lr() const { return lr_; }
  double momentum() const { return momentum_; }
  double dampening() const { return dampening_; }
  double weight_decay() const { return weight_decay_; }
  bool nesterov() const { return nesterov_; }
  bool maximize() const { return maximize_; }

 private:
  double lr_;
  double momentum_ = 0.0;
  double dampening_ = 0.0;
  double weight_decay_ = 0.0;
  bool nesterov_ = false;
  bool maximize_ = false;
};

class SGD : public Optimizer {
 public:
  // Throws Error for a negative lr, momentum or weight_decay, and for nesterov without momentum or
  // with dampening (PyTorch's checks).
  SGD(std::vector<Tensor> parameters, const SGDOptions& options);

  // Updates every parameter that has a gradient, in place and outside the graph. After the first
  // step (which allocates the momentum buffers) a step allocates nothing.
  void step() override;

  const SGDOptions& options() const { return options_; }
  // Changes the hyper-parameters between steps (learning-rate schedules); checked like the constructor.
  void set_options(const SGDOptions& options);

 private:
  SGDOptions options_;
  // One per parameter, undefined until that parameter's first momentum step.
  std::vector<Tensor> momentum_buffers_;
};

}  // namespace xgrad::optim
