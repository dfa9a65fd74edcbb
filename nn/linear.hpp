#pragma once
// Linear, Identity and Flatten, as torch::nn's modules/linear.h: each a FooImpl module and its
// holder Foo (see nn/module_holder.hpp).
//
//   nn::Linear fc(784, 64);                                  // or nn::Linear(nn::LinearOptions(784, 64))
//   Tensor y = fc(x);                                        // x W^T + b
//   fc->weight, fc->bias, fc->options.in_features()
//   nn::Flatten flatten;                                     // [N, C, H, W] -> [N, C*H*W]
#include <cstdint>
#include <iosfwd>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad::nn {

// LinearOptions(in_features, out_features).bias(false); chainable setters, same-named getters.
class LinearOptions {
 public:
  LinearOptions(std::int64_t in_features, std::int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}

  XGRAD_ARG(std::int64_t, in_features);
  XGRAD_ARG(std::int64_t, out_features);
  // Whether the layer learns an additive bias (default true).
  XGRAD_ARG(bool, bias) = true;
  // Element type of the parameters (default float32). Not in libtorch, which uses module->to().
  XGRAD_ARG(Dtype, dtype) = kFloat32;
};

// Parameters "weight" [out, in] and, unless options.bias(false), "bias" [out]; both drawn uniformly
// from +-1/sqrt(in_features) by the global generator, as libtorch does.
// forward: input [*, in] -> [*, out] (see xgrad::linear for the gradients).
class LinearImpl : public Module {
 public:
  LinearImpl(std::int64_t in_features, std::int64_t out_features)
      : LinearImpl(LinearOptions(in_features, out_features)) {}
  explicit LinearImpl(const LinearOptions& options);

  Tensor forward(const Tensor& input);
  // Draws new weight and bias values (libtorch's reset_parameters).
  void reset_parameters();
  void pretty_print(std::ostream& out) const override;

  LinearOptions options;
  Tensor weight;
  Tensor bias;  // undefined without a bias
};
XGRAD_MODULE(Linear);

// Returns its input: a placeholder where a layer is optional (nn::Identity() instead of a
// projection).
class IdentityImpl : public Module {
 public:
  Tensor forward(const Tensor& input);
};
XGRAD_MODULE(Identity);

// FlattenOptions().start_dim(1).end_dim(-1): the dims merged, inclusive; the defaults keep the
// batch dimension, as libtorch's.
class FlattenOptions {
  XGRAD_ARG(std::int64_t, start_dim) = 1;
  XGRAD_ARG(std::int64_t, end_dim) = -1;
};

// Merges dims start_dim..end_dim into one (see xgrad::flatten): [N, C, H, W] -> [N, C*H*W].
class FlattenImpl : public Module {
 public:
  explicit FlattenImpl(const FlattenOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& out) const override;

  FlattenOptions options;
};
XGRAD_MODULE(Flatten);

}  // namespace xgrad::nn
