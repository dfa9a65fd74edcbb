#pragma once
// LayerNorm and GroupNorm, as torch::nn's modules/normalization.h, and their functional forms.
//
//   nn::LayerNorm ln(nn::LayerNormOptions({64}).eps(1e-5));   // x (..., 64): each row normalised
//   nn::GroupNorm gn(nn::GroupNormOptions(4, 16));            // x (N, 16, ...): 4 groups of 4 channels
//   Tensor y = F::layer_norm(x, F::LayerNormFuncOptions({64}).weight(w).bias(b));
//
// Both normalise every sample by its own statistics, so they behave the same in training and in
// evaluation. Formulas and gradients: ops/layer_norm.hpp.
#include <cstdint>
#include <iosfwd>
#include <vector>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad::nn {

// LayerNormOptions({d}).eps(1e-5).elementwise_affine(true), as libtorch's.
class LayerNormOptions {
 public:
  LayerNormOptions(std::vector<std::int64_t> normalized_shape)  // NOLINT(google-explicit-constructor)
      : normalized_shape_(std::move(normalized_shape)) {}

  // The trailing dims normalised together.
  XGRAD_ARG(std::vector<std::int64_t>, normalized_shape);
  // Added to the variance before its square root.
  XGRAD_ARG(double, eps) = 1e-5;
  // Whether the layer learns weight (ones) and bias (zeros) of shape normalized_shape.
  XGRAD_ARG(bool, elementwise_affine) = true;
};

// Parameters "weight" (ones) and "bias" (zeros), each of shape normalized_shape, or both undefined
// without elementwise_affine. forward: (*, normalized_shape...) -> the same shape.
class LayerNormImpl : public Module {
 public:
  explicit LayerNormImpl(const LayerNormOptions& options);

  Tensor forward(const Tensor& input);
  // weight back to ones and bias to zeros, in place.
  void reset_parameters();
  void reset() { reset_parameters(); }
  // LayerNorm([8], elementwise_affine=true, eps=1e-05), libtorch's text.
  void pretty_print(std::ostream& out) const override;

  LayerNormOptions options;
  Tensor weight;
  Tensor bias;
};
XGRAD_MODULE(LayerNorm);

// GroupNormOptions(num_groups, num_channels).eps(1e-5).affine(true), as libtorch's.
class GroupNormOptions {
 public:
  GroupNormOptions(std::int64_t num_groups, std::int64_t num_channels)
      : num_groups_(num_groups), num_channels_(num_channels) {}

  XGRAD_ARG(std::int64_t, num_groups);
  XGRAD_ARG(std::int64_t, num_channels);
  XGRAD_ARG(double, eps) = 1e-5;
  // Whether the layer learns a per-channel weight (ones) and bias (zeros).
  XGRAD_ARG(bool, affine) = true;
};

// Parameters "weight" and "bias" of num_channels elements. forward: (N, C, *) -> the same shape.
// The constructor throws Error when num_channels is not divisible by num_groups (Python's message).
class GroupNormImpl : public Module {
 public:
  explicit GroupNormImpl(const GroupNormOptions& options);

  Tensor forward(const Tensor& input);
  void reset_parameters();
  void reset() { reset_parameters(); }
  // GroupNorm(2, 6, eps=1e-05, affine=true), libtorch's text.
  void pretty_print(std::ostream& out) const override;

  GroupNormOptions options;
  Tensor weight;
  Tensor bias;
};
XGRAD_MODULE(GroupNorm);

namespace functional {

// F::layer_norm's options: normalized_shape, weight and bias (undefined), eps (1e-5).
class LayerNormFuncOptions {
 public:
  LayerNormFuncOptions(std::vector<std::int64_t> normalized_shape)  // NOLINT(google-explicit-constructor)
      : normalized_shape_(std::move(normalized_shape)) {}

  XGRAD_ARG(std::vector<std::int64_t>, normalized_shape);
  XGRAD_ARG(Tensor, weight);
  XGRAD_ARG(Tensor, bias);
  XGRAD_ARG(double, eps) = 1e-5;
};

// F::group_norm's options: num_groups, weight and bias (undefined), eps (1e-5).
class GroupNormFuncOptions {
 public:
  GroupNormFuncOptions(std::int64_t num_groups) : num_groups_(num_groups) {}  // NOLINT(google-explicit-constructor)

  XGRAD_ARG(std::int64_t, num_groups);
  XGRAD_ARG(Tensor, weight);
  XGRAD_ARG(Tensor, bias);
  XGRAD_ARG(double, eps) = 1e-5;
};

// xgrad::layer_norm and xgrad::group_norm with the options unpacked.
Tensor layer_norm(const Tensor& input, const LayerNormFuncOptions& options);
Tensor group_norm(const Tensor& input, const GroupNormFuncOptions& options);

}  // namespace functional

}  // namespace xgrad::nn
