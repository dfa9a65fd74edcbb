#pragma once
// softmax and log_softmax along one dimension, numerically stable for logits of any magnitude.
// Backward is one fused pass over the saved output; with create_graph it is instead composed of
// recorded ops on softmax(x) recomputed from x, so the gradient can be differentiated again.
#include <cstdint>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

// y_i = exp(x_i - m) / sum_j exp(x_j - m) along `dim` (negative counts from the end), with m the
// maximum along dim, so logits of magnitude 1e4 neither overflow nor lose the distribution.
// Same shape and dtype as x. Gradient, with upstream g: dx = y * (g - sum_j g_j y_j).
Tensor softmax(const Tensor& x, std::int64_t dim);

// log y_i = x_i - m - log(sum_j exp(x_j - m)) along `dim`, computed directly rather than as
// log(softmax(x)) so a tiny probability stays a finite, accurate log-probability.
// Gradient, with upstream g: dx = g - softmax(x) * sum_j g_j.
Tensor log_softmax(const Tensor& x, std::int64_t dim);

}  // namespace xgrad
