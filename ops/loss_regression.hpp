#pragma once
// Regression losses on the difference d = x - y of input and target, with PyTorch's values and
// gradients: l1_loss, smooth_l1_loss and huber_loss (mse_loss is in loss_pointwise.hpp).
//
// The target has exactly the input's shape and dtype (no silent broadcasting of a target: PyTorch
// only warns). With reduction kNone the output has the input's shape; kSum adds the element
// losses, kMean divides that sum by the number of elements (NaN for an empty input, as PyTorch).
// Gradients flow to the input and, when it requires grad, to the target. Each backward is one loop
// over the elements; with create_graph the same derivative is computed with recorded ops, so it
// can be differentiated again. Argument order and defaults are ATen's (at::smooth_l1_loss, ...).
#include <xgrad/core/reduction.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// |d|, reduced. Composed of abs and mean/sum, as PyTorch 1.13 composes it, so its grad_fn is
// AbsBackward0 (kNone), MeanBackward0 or SumBackward0, and d/dx = g sign(d) (0 at d = 0).
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = kMean);

// Quadratic near 0, linear beyond beta (beta >= 0, else an Error):
//   loss = d^2 / (2 beta) where |d| < beta, else |d| - beta / 2
//   d/dx = -g where d <= -beta, g where d >= beta, else g d / beta;   d/dy likewise with -d
// beta = 0 is the L1 loss; its gradient at d = 0 is then -g for input and target alike, which is
// what PyTorch's comparisons give there (d <= -0 holds).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = kMean, double beta = 1.0);

// smooth_l1_loss times delta (delta > 0, else an Error): quadratic near 0, linear with slope delta
// beyond it, so large errors pull with a bounded force:
//   loss = d^2 / 2 where |d| < delta, else delta (|d| - delta / 2)
//   d/dx = g clamp(d, -delta, delta);   d/dy likewise with -d
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = kMean, double delta = 1.0);

}  // namespace xgrad
