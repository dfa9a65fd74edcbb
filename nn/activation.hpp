#pragma once
// Activation modules, as torch::nn::ReLU etc.: each a FooImpl module and its holder Foo. They hold
// no parameters and apply one function (see ops/elementwise.hpp and ops/softmax.hpp for the
// formulas and gradients), so they can sit in a Sequential between Linear layers:
//
//   nn::Sequential net(nn::Linear(2, 16), nn::ReLU(), nn::Linear(16, 3), nn::LogSoftmax(1));
#include <cstdint>
#include <iosfwd>

#include "../core/tensor.hpp"
#include "module.hpp"
#include "module_holder.hpp"
#include "options.hpp"

namespace xgrad::nn {

// max(x, 0)
class ReLUImpl : public Module {
 public:
  Tensor forward(const Tensor& input);
};
XGRAD_MODULE(ReLU);

// tanh(x)
class TanhImpl : public Module {
 public:
  Tensor forward(const Tensor& input);
};
XGRAD_MODULE(Tanh);

// 1 / (1 + exp(-x))
class SigmoidImpl : public Module {
 public:
  Tensor forward(const Tensor& input);
};
XGRAD_MODULE(Sigmoid);

// exp(x_i) / sum_j exp(x_j) along options.dim(): each slice becomes a probability distribution.
// nn::Softmax(1) or nn::Softmax(nn::SoftmaxOptions(1)).
class SoftmaxImpl : public Module {
 public:
  explicit SoftmaxImpl(std::int64_t dim) : options(dim) {}
  explicit SoftmaxImpl(const SoftmaxOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& out) const override;
  SoftmaxOptions options;
};
XGRAD_MODULE(Softmax);

// x_i - log sum_j exp(x_j) along options.dim(): log-probabilities, the input NLLLoss expects.
class LogSoftmaxImpl : public Module {
 public:
  explicit LogSoftmaxImpl(std::int64_t dim) : options(dim) {}
  explicit LogSoftmaxImpl(const LogSoftmaxOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& out) const override;
  LogSoftmaxOptions options;
};
XGRAD_MODULE(LogSoftmax);

}  // namespace xgrad::nn
