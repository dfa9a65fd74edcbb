#pragma once
// Dropout, as ATen's at::dropout and at::feature_dropout (what torch::nn::Dropout, Dropout2d and
// their functional forms call).
//
// In training each element (dropout) or each whole channel (feature_dropout) is zeroed with
// probability p, drawn from the global generator (manual_seed makes a run reproducible), and what
// is kept is scaled by 1 / (1 - p), so the expected value of every element is unchanged and
// evaluation needs no rescaling:
//
//   y = x * mask,   mask = 1 / (1 - p) with probability 1 - p, else 0
//
// The gradient is the same multiplication, dx = g * mask: the op is recorded as a product with a
// saved mask (grad_fn MulBackward0, as PyTorch 1.13 on the CPU), so create_graph works through it.
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// Elementwise dropout. When !train, p == 0 or x is empty, x itself is returned (no new node, as in
// PyTorch); p == 1 gives x * 0 (zeros, NaN where x is infinite or NaN). p outside [0, 1] (or NaN)
// is an Error naming p; x must be floating.
Tensor dropout(const Tensor& x, double p, bool train);

// Channel dropout: x is (N, C, d1, ...) with at least 2 dims, and each (n, c) slice is kept or
// zeroed as a whole (one draw per channel of each sample, the mask has shape (N, C, 1, ...)), which
// suits feature maps whose neighbouring values are strongly correlated. Otherwise as dropout.
Tensor feature_dropout(const Tensor& x, double p, bool train);

// The same written into x's storage (x.mul_(mask), so the in-place rules of Tensor::mul_ apply: a
// leaf that requires grad is refused). Returns x.
Tensor& dropout_(Tensor& x, double p, bool train);
Tensor& feature_dropout_(Tensor& x, double p, bool train);

// The mask itself: 1 / (1 - p) with probability 1 - p, else 0, for every element of `shape`, in
// `dtype` (floating), drawn from the global generator. p must lie in [0, 1). For masks of other
// layouts, such as one draw per channel of a single (C, H, W) image (shape (C, 1, 1)).
Tensor dropout_mask(const Shape& shape, double p, Dtype dtype);

}  // namespace xgrad
