#pragma once
// Reductions: sum, mean, max, logsumexp and argmax over the whole tensor or along one dim.
//
// `dim` may be negative and then counts from the end (-1 is the last dim); a dim out of range is an
// Error naming the op, the dim and the shape. With keepdim the reduced dim stays with size 1, so the
// result broadcasts against the input; without it the dim is removed. Whole-tensor reductions give
// a 0-dim tensor (shape {}), as in PyTorch.
#include <cstdint>

#include "../core/tensor.hpp"

namespace xgrad {

// Sum of every element, shape {}; d/dx = g everywhere. int64 sums to int64 (not differentiable).
Tensor sum(const Tensor& x);
// Sum along dim; d/dx = g copied along dim. An empty dim sums to 0.
Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim = false);
// Mean of every element, shape {}; d/dx = g / numel. Floating only; the mean of nothing is NaN.
Tensor mean(const Tensor& x);
// Mean along dim; d/dx = g / size(dim) copied along dim.
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim = false);
// Largest value along dim (the values of torch.max(x, dim)). The gradient goes to the first maximal
// element of each slice only, as PyTorch routes it through max's indices. A NaN is the maximum.
// The dim must not be empty.
Tensor max(const Tensor& x, std::int64_t dim, bool keepdim = false);
// log(sum(exp(x))) along dim, computed as m + log(sum(exp(x - m))) with m the slice's max so that
// nothing overflows; d/dx = g softmax(x) along dim.
Tensor logsumexp(const Tensor& x, std::int64_t dim, bool keepdim = false);
// Index of the largest value along dim (the first one on ties; a NaN counts as largest), int64,
// not differentiable. The dim must not be empty.
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);

}  // namespace xgrad
