#pragma once
// Activation modules, as torch::nn::ReLU etc. Each holds no parameters and applies one function
// (see ops/elementwise.hpp and ops/softmax.hpp for the formulas and gradients), so they can sit in a
// Sequential between Linear layers.
#include <iosfwd>

#include "../core/tensor.hpp"
#include "module.hpp"
#include "options.hpp"

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

// exp(x_i) / sum_j exp(x_j) along options.dim(): each slice becomes a probability distribution.
// nn::Softmax(1) works too: SoftmaxOptions converts from the dim.
class Softmax : public Module {
 public:
  explicit Softmax(SoftmaxOptions options) : options(options) {}
  const char* name() const override { return "Softmax"; }
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& out) const override;
  SoftmaxOptions options;
};

// x_i - log sum_j exp(x_j) along options.dim(): log-probabilities, the input NLLLoss expects.
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(LogSoftmaxOptions options) : options(options) {}
  const char* name() const override { return "LogSoftmax"; }
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& out) const override;
  LogSoftmaxOptions options;
};

}  // namespace xgrad::nn
