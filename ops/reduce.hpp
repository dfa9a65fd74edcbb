#pragma once
// Reductions over the whole tensor or along one dim: sum, mean, logsumexp, var, std, max, min,
// argmax, argmin, norm, all, any.
//
// `dim` may be negative and then counts from the end (-1 is the last dim); a dim out of range is an
// Error naming the op, the dim and the shape. With keepdim the reduced dim stays with size 1, so the
// result broadcasts against the input; without it the dim is removed. Whole-tensor reductions give
// a 0-dim tensor (shape {}), as in PyTorch.
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>

#include <xgrad/core/scalar.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// Sum of every element, shape {}; d/dx = g everywhere. int64 sums to int64 (not differentiable).
Tensor sum(const Tensor& x);
// Sum along dim; d/dx = g copied along dim. An empty dim sums to 0.
Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim = false);
// Mean of every element, shape {}; d/dx = g / numel. Floating only; the mean of nothing is NaN.
Tensor mean(const Tensor& x);
// Mean along dim; d/dx = g / size(dim) copied along dim.
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim = false);
// log(sum(exp(x))) along dim, computed as m + log(sum(exp(x - m))) with m the slice's max so that
// nothing overflows; d/dx = g softmax(x) along dim.
Tensor logsumexp(const Tensor& x, std::int64_t dim, bool keepdim = false);

// ---- variance and standard deviation --------------------------------------------------------------
// var = sum((x - mean)^2) / (n - 1) over the n reduced elements, or / n when unbiased is false.
// d var/dx = g 2 (x - mean) / (n - 1) (or / n). std = sqrt(var); d std/dx = g (x - mean) / ((n - 1) std),
// and 0 where std is 0 (PyTorch's rule: constant data gets no gradient rather than NaN).
// Floating only. With a single element the unbiased forms divide 0 by 0: value and gradient are NaN
// (PyTorch 1.13 raises an error in the whole-tensor backward there; xgrad gives NaN as the dim form
// does). An empty input gives NaN.
Tensor var(const Tensor& x, bool unbiased = true);
Tensor var(const Tensor& x, std::int64_t dim, bool unbiased = true, bool keepdim = false);
Tensor std(const Tensor& x, bool unbiased = true);
Tensor std(const Tensor& x, std::int64_t dim, bool unbiased = true, bool keepdim = false);
// var(x, 1) and std(x, 1) with an int reduce along dim 1, as Python's x.var(1) does, instead of
// converting the 1 to the unbiased flag (which is what libtorch's overloads would pick).
template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool> &&
                                        !std::is_same_v<I, std::int64_t>, int> = 0>
Tensor var(const Tensor& x, I dim, bool unbiased = true, bool keepdim = false) {
  return var(x, static_cast<std::int64_t>(dim), unbiased, keepdim);
}
template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool> &&
                                        !std::is_same_v<I, std::int64_t>, int> = 0>
Tensor std(const Tensor& x, I dim, bool unbiased = true, bool keepdim = false) {
  return std(x, static_cast<std::int64_t>(dim), unbiased, keepdim);
}

// ---- largest and smallest -------------------------------------------------------------------------
// A NaN counts as larger (for max) and smaller (for min) than everything, so a slice with a NaN
// gives NaN, as in PyTorch. These work on every dtype; only floating ones carry gradients.

// The largest / smallest element of the whole tensor, shape {}. The gradient is shared evenly by
// every element equal to the result (every NaN when the result is NaN): max of [1, 3, 3] sends g/2
// to each 3, as PyTorch 1.13 does. An empty tensor is an Error (there is no largest element).
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
// (values, indices) along dim, as torch.max(x, dim): the largest value of each slice and the int64
// index of its first occurrence (the first NaN if there is one). The gradient goes to that one
// element only. The dim must not be empty. Use it as `auto [values, indices] = max(x, 1);`.
std::tuple<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim = false);
std::tuple<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim = false);
// The index of the largest / smallest value along dim (the first one on ties; a NaN counts as
// largest and as smallest), int64, not differentiable. Without a dim: the index into the flattened
// tensor (shape {}, or all ones with keepdim). The reduced dim (or the tensor) must not be empty.
Tensor argmax(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false);

// ---- norms ----------------------------------------------------------------------------------------
// The p-norm (sum |x|^p)^(1/p) of the whole tensor (shape {}) or along dim; floating only.
// p = inf gives max |x| and -inf min |x|; p = 0 counts the non-zero elements. With n = the norm and
// g the upstream gradient, PyTorch 1.13's gradients, which these follow exactly:
//   p = 2:      g x / n, and 0 where n = 0 (so the norm of zeros has gradient 0, not NaN)
//   p = 1:      g sign(x) (0 at x = 0)
//   p = +-inf:  g sign(x) / k at the k elements with |x| = n, 0 elsewhere
//   p > 2:      g x |x|^(p-2) / n^(p-1);  1 < p < 2: g sign(x) |x|^(p-1) / n^(p-1);  both 0 where n = 0
//   p < 1:      g sign(x) |x|^(p-1) n^(1-p), and 0 at x = 0;  p = 0: 0 everywhere
Tensor norm(const Tensor& x, const Scalar& p = 2);
Tensor norm(const Tensor& x, const Scalar& p, std::int64_t dim, bool keepdim = false);

// ---- truth ----------------------------------------------------------------------------------------
// True when every / some element is non-zero (NaN is non-zero), shape {}, not differentiable. Any
// dtype. The result is kBool, except for a kUInt8 input where it is kUInt8 (0 or 1), as in PyTorch.
// all of an empty tensor is true and any is false.
Tensor all(const Tensor& x);
Tensor any(const Tensor& x);

}  // namespace xgrad
