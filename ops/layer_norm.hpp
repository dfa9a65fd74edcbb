#pragma once
// Layer and group normalisation, as ATen's at::layer_norm and at::group_norm (what
// torch::nn::LayerNorm, torch::nn::GroupNorm and their functional forms call).
//
// Both normalise each sample by statistics of its own values, never of the batch, so training and
// evaluation compute the same thing and there are no running statistics.
//
// layer_norm: the trailing dims given by normalized_shape form one row of D values; each row is
// normalised over its D values and then scaled elementwise by weight and shifted by bias (both of
// shape normalized_shape):
//
//   y = (x - mean_row) / sqrt(var_row + eps) * weight + bias      (var biased: mean((x - mean)^2))
//
// group_norm: the input is (N, C, *); the C channels fall into num_groups groups of C / num_groups
// consecutive channels, each (sample, group) is normalised over all its values, and the affine
// transform is per channel (weight and bias of shape (C)).
//
// Gradients, with g the upstream, x_hat the normalised input, rstd = 1 / sqrt(var + eps), gw = g
// weight (g without a weight), and means over the values normalised together:
//   dx = rstd (gw - mean(gw) - x_hat mean(gw x_hat))
//   dweight = sum over the other values of g x_hat,  dbias = sum over the other values of g
// That formula, in xgrad's own ops with mean and rstd rebuilt from x, is the derivative of both ops
// (so a create_graph backward can be differentiated again). layer_norm, which a transformer runs
// on every residual step, also has a fused row kernel for its forward and, when create_graph is
// off, for its backward, which reads the per-row mean and rstd the forward kept.
#include <xgrad/core/int_array_ref.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// input (*, normalized_shape...) -> the same shape; weight and bias undefined or of shape
// normalized_shape. Errors (xgrad::Error, PyTorch's wording, prefixed "layer_norm: "): an empty
// normalized_shape, an input whose trailing dims are not normalized_shape, a weight or bias of
// another shape or dtype, an input that is not floating. cudnn_enable is accepted for ATen's
// signature and ignored. grad_fn: NativeLayerNormBackward0, as in PyTorch 1.13.
Tensor layer_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5, bool cudnn_enable = true);

// input (N, C, *) -> the same shape; weight and bias undefined or of C elements. Errors: an input
// with fewer than 2 dims, C not divisible by num_groups (PyTorch's message), a weight or bias
// without C elements. grad_fn: NativeGroupNormBackward0.
Tensor group_norm(const Tensor& input, std::int64_t num_groups, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5, bool cudnn_enabled = true);

}  // namespace xgrad
