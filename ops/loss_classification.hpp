#pragma once
// Losses over class scores: nll_loss and cross_entropy, with PyTorch's values and gradients.
//
// Shapes: the input holds scores for C classes along dimension 1 (dimension 0 for a single sample):
//   input (C)                  target ()                  one sample
//   input (N, C)               target (N)                 a batch
//   input (N, C, d1, ..., dk)  target (N, d1, ..., dk)    a score per class at every position
// A class-index target is int64 with values in [0, C) or equal to ignore_index. With reduction kNone
// the output has the target's shape; kSum and kMean give a 0-dim tensor.
//
// weight (optional, one entry per class, the input's dtype) scales each position's loss by the weight
// of its target class. kMean divides by the sum of those weights over the non-ignored positions (the
// number of non-ignored positions without weight), so when every target is ignored the mean is 0/0 =
// NaN, as in PyTorch, while the input's gradient is all zeros.
//
// Gradients flow to the input (and to a class-probability target); the weight is a constant. The
// backward of cross_entropy is one fused pass per row, softmax minus the (smoothed, weighted) one-hot,
// not a chain of recorded log_softmax / gather / mean nodes. With create_graph (second derivatives:
// Hessian-vector products, gradient penalties) the same gradient is composed of recorded ops instead:
// d loss / d logp for the nll and smoothing terms, through log_softmax's backward.
// Bad arguments (target out of range, shapes that do not match, weight not of size C, wrong dtypes)
// throw xgrad::Error naming the op, the argument and the shapes or values.
#include <cstdint>

#include <xgrad/core/reduction.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// Negative log-likelihood of the target class, given log-probabilities (any real scores are accepted):
//   loss_p = -w[t_p] * input[p, t_p],   0 where t_p == ignore_index
// ignore_index may be a real class. Gradient: d loss_p / d input[p, c] = -w[t_p] where c == t_p, else 0.
// Arguments in libtorch's ATen order (at::nll_loss): xgrad::nll_loss(logp, target) works as is.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {}, Reduction reduction = kMean,
                std::int64_t ignore_index = -100);

// Cross-entropy of raw scores (logits): log_softmax over the class dimension followed by nll_loss,
// fused into one stable pass. With label_smoothing e in [0, 1] the target becomes
// (1 - e) * one_hot(t) + e / C, which with weights w gives, per non-ignored position,
//   loss_p = -(1 - e) w[t_p] logp[p, t_p] - (e / C) sum_c w[c] logp[p, c]
// and kMean divides both terms by the same summed weights of the non-ignored targets. Gradient
// (p = softmax(input)):
//   d loss_p / d input[p, c] = p[p, c] ((1 - e) w[t_p] + (e / C) sum_k w[k]) - (1 - e) w[t_p] [c == t_p] - (e / C) w[c]
// which without weight or smoothing is softmax minus one-hot.
//
// The target may also hold class probabilities: same shape and floating dtype as the input (then
// ignore_index must stay negative, as by default). Then, with y~ = (1 - e) y + e / C,
//   loss_p = -sum_c w[c] y~[p, c] logp[p, c]
// and kMean divides by the number of positions N * d1 * ... * dk whatever the weights. Gradients:
//   d loss_p / d input[p, c] = p[p, c] sum_k w[k] y~[p, k] - w[c] y~[p, c]
//   d loss_p / d target[p, c] = -(1 - e) w[c] logp[p, c]
// Arguments in libtorch's ATen order (at::cross_entropy_loss).
Tensor cross_entropy_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                          Reduction reduction = kMean, std::int64_t ignore_index = -100, double label_smoothing = 0.0);

}  // namespace xgrad
