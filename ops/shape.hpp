#pragma once
// Shape ops: the same elements seen with another shape, broadcast, picked by index, or cast.
// Negative dims count from the end; a dim out of range is an Error naming the op, dim and shape.
#include <cstdint>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

// The elements in row-major order with a new shape of the same element count (else an Error
// naming both shapes). One size may be -1: it is inferred from the others. d/dx = g reshaped back
// to x's shape.
Tensor reshape(const Tensor& x, IntArrayRef shape);
// The same elements with a new shape, sharing x's storage; an Error (PyTorch's, which suggests
// reshape) when x's strides cannot express it, as for most transposed tensors. reshape returns
// such a view when it can and a copy otherwise.
Tensor view(const Tensor& x, IntArrayRef shape);
// x broadcast (NumPy rules) to `shape`, materialised; x's shape must broadcast to exactly `shape`.
// d/dx = sum_to(g, x.shape).
Tensor broadcast_to(const Tensor& x, const Shape& shape);
// x's dims reordered: result dim k is x's dim dims[k], so a [2, 3, 4] tensor permuted by {2, 0, 1}
// has shape [4, 2, 3]. dims holds each of x's dims exactly once (negative ones count from the end).
// A view of x's storage (ops/view.cpp). d/dx = permute(g, inverse of dims).
Tensor permute(const Tensor& x, IntArrayRef dims);
// x repeated along its size-1 dims (and along new leading dims) to `sizes`, as a view whose
// repeated dims have stride 0: [3, 1] expanded to {2, 3, 4} reads each value 8 times. -1 keeps a dim's size (not allowed for a new
// leading dim); a dim whose size is not 1 cannot change. d/dx = g summed back to x's shape.
Tensor expand(const Tensor& x, IntArrayRef sizes);
// expand(x, other.sizes()).
Tensor expand_as(const Tensor& x, const Tensor& other);
// torch.gather: out[i][j][k] = input[i][index[i][j][k]][k] for dim = 1 (likewise for any dim).
// index is int64 with input's number of dims and index.size(d) <= input.size(d) for every d != dim;
// the result has index's shape. Each index value must lie in [0, input.size(dim)).
// d/dinput = g scattered (added) back to the gathered positions; index gets no gradient.
Tensor gather(const Tensor& input, std::int64_t dim, const Tensor& index);
// The elements converted to dtype (floating to int64 truncates towards zero). Returns x itself when
// the dtype already matches. Between float32 and float64 it is differentiable: d/dx = g cast back.
Tensor to_dtype(const Tensor& x, Dtype dtype);
// A size-1 dim inserted at position dim (-x.dim() - 1 <= dim <= x.dim()); d/dx = g reshaped back.
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
// dim removed if its size is 1, else the shape is unchanged (as PyTorch); d/dx = g reshaped back.
Tensor squeeze(const Tensor& x, std::int64_t dim);
// Every dim of size 1 removed; d/dx = g reshaped back.
Tensor squeeze(const Tensor& x);
// Dims start_dim..end_dim (inclusive) merged into one; a 0-dim tensor becomes shape {1}.
// d/dx = g reshaped back.
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);

}  // namespace xgrad
