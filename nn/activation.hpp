#pragma once
// Activation modules, as torch::nn::ReLU etc.: each a FooImpl module and its holder Foo. They hold
// no parameters and apply one function (see ops/elementwise.hpp, ops/softmax.hpp and
// ops/activation.hpp for the formulas and gradients), so they can sit in a Sequential between
// Linear layers:
//
//   nn::Sequential net(nn::Linear(2, 16), nn::ReLU(), nn::Linear(16, 3), nn::LogSoftmax(1));
#include <cstdint>
#include <iosfwd>

#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/activation_options.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>
#include <xgrad/nn/options.hpp>

namespace xgrad::nn {

// max(x, 0); with ReLUOptions().inplace(true) the input is overwritten with the result.
class ReLUImpl : public Module {
 public:
  explicit ReLUImpl(const ReLUOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& out) const override;
  ReLUOptions options;
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

// x where x > 0, else negative_slope x. nn::LeakyReLU() or nn::LeakyReLU(LeakyReLUOptions().negative_slope(0.2)).
class LeakyReLUImpl : public Module {
 public:
  explicit LeakyReLUImpl(const LeakyReLUOptions& options = {});
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& out) const override;
  LeakyReLUOptions options;
};
XGRAD_MODULE(LeakyReLU);

// x Phi(x), Phi the standard normal distribution function (or its tanh approximation).
class GELUImpl : public Module {
 public:
  explicit GELUImpl(GELUOptions options = {});
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& out) const override;
  GELUOptions options;
};
XGRAD_MODULE(GELU);

// x where x > 0, else alpha (exp(x) - 1).
class ELUImpl : public Module {
 public:
  explicit ELUImpl(const ELUOptions& options = {});
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& out) const override;
  ELUOptions options;
};
XGRAD_MODULE(ELU);

// x sigmoid(x).
class SiLUImpl : public Module {
 public:
  Tensor forward(const Tensor& input);
};
XGRAD_MODULE(SiLU);

// log(1 + exp(beta x)) / beta, and x itself where beta x > threshold.
class SoftplusImpl : public Module {
 public:
  explicit SoftplusImpl(const SoftplusOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& out) const override;
  SoftplusOptions options;
};
XGRAD_MODULE(Softplus);

}  // namespace xgrad::nn
