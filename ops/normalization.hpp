#pragma once
// Batch normalisation, as ATen's at::batch_norm (what torch::nn::BatchNorm2d and
// torch::nn::functional::batch_norm call).
//
// The input is (N, C), (N, C, L) or (N, C, H, W, ...): dim 1 holds the C channels, and every
// channel is normalised over all of its N * L values (L the product of the dims after 1):
//
//   y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c
//
// Training (training = true) uses the batch's own statistics: mean_c and the biased variance
// var_c = mean((x - mean_c)^2). Evaluation uses running_mean and running_var instead. In training,
// defined running statistics are updated in place, outside the graph, as PyTorch does:
//
//   running_mean = (1 - momentum) running_mean + momentum mean_c
//   running_var  = (1 - momentum) running_var  + momentum var_c m / (m - 1)      (unbiased, m = N L)
//
// Gradients, with g the upstream, x_hat = (x - mean_c) / sqrt(var_c + eps), s = weight_c / sqrt(var_c + eps)
// (s = 1 / sqrt(var_c + eps) without a weight), and sums and means over the m values of a channel:
//   training:    dx = s (g - mean(g) - x_hat mean(g x_hat))     (the statistics depend on x too)
//   evaluation:  dx = s g
//   both:        dweight_c = sum(g x_hat),  dbias_c = sum(g)
// With create_graph the same formulas are recorded from xgrad's ops (x_hat, the means and the sums
// rebuilt from x), so the gradient can be differentiated again.
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// weight, bias (the affine transform) and running_mean, running_var may each be undefined. Each
// defined one holds C elements of the input's dtype. Errors (xgrad::Error, nothing is modified):
// an input with fewer than 2 dims or not floating; a weight, bias or running statistic whose
// element count is not C ("running_mean should contain 3 elements not 4", as PyTorch) or whose
// dtype differs; training with a single value per channel (N L = 1: "Expected more than 1 value
// per channel when training", which PyTorch raises in F::batch_norm and the modules); evaluation
// without running statistics. cudnn_enabled is accepted for libtorch's signature and ignored.
// The output has the input's shape; its grad_fn is NativeBatchNormBackward0, as in PyTorch 1.13.
Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps, bool cudnn_enabled = false);

}  // namespace xgrad
