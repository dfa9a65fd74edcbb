#pragma once
// Losses computed element by element, with PyTorch's values and gradients: binary_cross_entropy,
// binary_cross_entropy_with_logits, kl_div and mse_loss.
//
// The target has exactly the input's shape and dtype (no silent broadcasting of a target). With
// reduction kNone the output has the input's shape; kSum adds the element losses, kMean divides
// that sum by the number of elements (kl_div also has kBatchMean: divided by the input's first
// dimension). Gradients flow to the input and, when it requires grad, to the target (PyTorch 1.13
// differentiates all four with respect to the target). weight and pos_weight are constants,
// broadcast to the input's shape (NumPy rules). Each backward is one loop over the elements; with
// create_graph the same formulas are computed with recorded ops, so they can be differentiated again.
#include <xgrad/core/reduction.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// Every loss here takes libtorch's ATen argument order and defaults (at::binary_cross_entropy, ...).

// Binary cross-entropy of probabilities x in [0, 1] (anything else throws) against targets y:
//   loss = -w [y log(x) + (1 - y) log(1 - x)],   each log clamped at -100 as in PyTorch
// so x exactly 0 or 1 gives a finite loss. Gradients, as PyTorch computes them:
//   d/dx = w (x - y) / max(x (1 - x), 1e-12)     (about +-1e12 at x = 0 or 1 when y differs;
//                                                 the epsilon is float(1e-12), as in PyTorch)
//   d/dy = w (log(1 - x) - log(x))               (not clamped: +-inf at x = 0 or 1)
// weight: undefined, or any shape broadcasting to the input's.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            Reduction reduction = kMean);

// Binary cross-entropy of logits x, i.e. of sigmoid(x), without ever forming sigmoid(x):
//   loss = w [(1 - y) x + l softplus(-x)],   l = 1 + (pos_weight - 1) y,
// with softplus(z) = max(z, 0) + log(1 + exp(-|z|)). Without pos_weight this is the stable
// max(x, 0) - x y + log(1 + exp(-|x|)), exact for soft targets y in [0, 1] and logits of any size.
// pos_weight (usually one entry per class, along the last dimension) scales only the positive term.
//   d/dx = w [(pos_weight y + 1 - y) sigmoid(x) - pos_weight y]    (sigmoid(x) - y without pos_weight)
//   d/dy = w [(pos_weight - 1) softplus(-x) - x]
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                                        const Tensor& pos_weight = {}, Reduction reduction = kMean);

// Kullback-Leibler divergence of the target distribution from the input, which holds
// log-probabilities (the target holds probabilities, or log-probabilities when log_target):
//   loss = y (log y - x),   0 where y == 0      (log_target false)
//   loss = e^y (y - x)                           (log_target true)
// kBatchMean (sum / batch size) is the true KL divergence per sample; kMean divides by every
// element. Gradients: d/dx = -y (or -e^y); d/dy = log y + 1 - x (or e^y (y - x + 1)). As in
// PyTorch 1.13, d/dy is NaN where y == 0 with log_target false (the derivative of y log y there).
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = kMean, bool log_target = false);

// Squared error: loss = (x - y)^2; d/dx = 2 (x - y), d/dy = -2 (x - y).
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = kMean);

}  // namespace xgrad
