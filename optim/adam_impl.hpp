#pragma once
// Library-internal: the one update loop Adam and AdamW share (optim/adam.cpp).
#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

// The hyper-parameters of one step, as both optimisers' options reduce to them.
struct AdamRule {
  double lr;
  double beta1;
  double beta2;
  double eps;
  double l2_weight_decay;  // Adam's weight_decay, added to the gradient; 0 for AdamW
  double shrink;           // AdamW's 1 - lr * weight_decay, multiplying the parameter first; 1 for Adam
  bool amsgrad;
  bool maximize;
};

// Counts the step in state and updates the parameter in place (optim/adam.hpp's rule), creating
// the state tensors on the parameter's first step.
void adam_update(Tensor& parameter, const Tensor& grad, ParamState& state, const AdamRule& rule);

// PyTorch's constructor checks, shared by Adam and AdamW; `optimizer` names the one in messages.
void check_adam_options(const char* optimizer, double lr, double beta1, double beta2, double eps, double weight_decay);

}  // namespace xgrad::optim
