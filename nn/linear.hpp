#pragma once
// Linear: the fully connected layer y = x W^T + b, as torch::nn::Linear.
#include <cstdint>
#include <iosfwd>

#include "../core/tensor.hpp"
#include "module.hpp"

namespace xgrad::nn {

// LinearOptions(in_features, out_features).bias(false); chainable setters, same-named getters.
class LinearOptions {
 public:
  LinearOptions(std::int64_t in_features, std::int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}

  LinearOptions& in_features(std::int64_t value) { in_features_ = value; return *this; }
  LinearOptions& out_features(std::int64_t value) { out_features_ = value; return *this; }
  // Whether the layer learns an additive bias (default true).
  LinearOptions& bias(bool value) { bias_ = value; return *this; }
  // Element type of the parameters (default float32).
  LinearOptions& dtype(Dtype value) { dtype_ = value; return *this; }

  std::int64_t in_features() const { return in_features_; }
  std::int64_t out_features() const { return out_features_; }
  bool bias() const { return bias_; }
  Dtype dtype() const { return dtype_; }

 private:
  std::int64_t in_features_;
  std::int64_t out_features_;
  bool bias_ = true;
  Dtype dtype_ = kFloat32;
};

// Parameters "weight" [out, in] and, unless options.bias(false), "bias" [out]; both drawn uniformly
// from +-1/sqrt(in_features) by the global generator, as libtorch does.
// forward: input [*, in] -> [*, out] (see xgrad::linear for the gradients).
class Linear : public Module {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features);
  explicit Linear(const LinearOptions& options);

  const char* name() const override { return "Linear"; }
  Tensor forward(const Tensor& input) override;
  // Draws new weight and bias values (libtorch's reset_parameters).
  void reset_parameters();
  void pretty_print(std::ostream& out) const override;

  LinearOptions options;
  Tensor weight;
  Tensor bias;  // undefined without a bias
};

}  // namespace xgrad::nn
