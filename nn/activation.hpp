#pragma once
// Activation modules, as torch::nn::ReLU etc. Each holds no parameters and applies one function
// (see ops/elementwise.hpp and ops/softmax.hpp for the formulas and gradients), so they can sit in a
// Sequential between Linear layers.
#include <iosfwd>

#include "../core/tensor.hpp"
#include "module.hpp"

namespace xgrad::nn {

// max(x, 0)
class ReLU : public Module {
 public:
  const char* name() const override { return "ReLU"; }
  Tensor forward(const Tensor& input) override;
};

// tanh(x)
class Tanh : public Module {
 public:
  const char* name() const override { return "Tanh"; }
  Tensor forward(const Tensor& input) override;
};

// 1 / (1 + exp(-x))
class Sigmoid : public Module {
 public:
  const char* name() const override { return "Sigmoid"; }
  Tensor forward(const Tensor& input) override;
};

}  // namespace xgrad::nn
