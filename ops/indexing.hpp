#pragma once
// Indexing: picking parts of a tensor (select, slice, narrow, index_select), overwriting the parts a
// mask marks (masked_fill, where), and joining tensors (cat, stack).
//
// select, slice and narrow return views, as PyTorch's: the result shares x's storage, so a write
// into either is seen by the other (ops/view.cpp). index_select, masked_fill, where, cat and stack
// return new tensors.
//
// A dim may be negative and then counts from the end; a dim, index or range out of bounds is an
// Error naming the op, the argument, its value and the shape. These ops work for every dtype (bool,
// uint8 and int64 are moved as stored); only float32 and float64 inputs are differentiable.
//
// The gradient of a pick puts the upstream gradient back where the elements were read, zeros
// elsewhere; where an index repeats, the gradients of its copies add up.
#include <cstdint>
#include <optional>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

// x with dim fixed at index: shape [2, 3, 4] with dim 1 gives [2, 4]. index may be negative
// (-1 is the last); x must have at least one dim. d/dx = g placed at index along dim, zeros elsewhere.
// x.select(dim, i) and x[i] (= select(x, 0, i)) are the same op.
Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index);

// Python's x[start:end:step] along dim: positions start, start + step, ... before end. A negative
// start or end counts from the end; either past the bounds is clamped, as Python slicing does
// (x[5:100] of 3 rows is empty, x[-100:2] is the first two). Omitted, start is 0 and end the size.
// step must be positive. The result has ceil((end - start) / step) positions along dim.
// d/dx = g placed at the read positions, zeros elsewhere.
Tensor slice(const Tensor& x, std::int64_t dim = 0, std::optional<std::int64_t> start = std::nullopt,
             std::optional<std::int64_t> end = std::nullopt, std::int64_t step = 1);

// The length positions from start along dim, checked strictly (unlike slice): start lies in
// [-size, size] (negative counts from the end) and start + length must not pass the end.
// d/dx = g placed at the read positions, zeros elsewhere.
Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length);

// The slices of x at the positions index lists along dim, in index order; index is int64, 1-D or
// 0-D (a 0-D index acts as a one-element list), each value in [0, size(dim)). The result has x's
// shape with size(dim) replaced by index.numel(). Indices may repeat. A 0-dim x takes a
// one-element index holding 0 and gives a 0-dim result.
// d/dx = index_add: each slice of g is added at its index, so a repeated index gets the sum.
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);

// x with value wherever mask is true. mask is kBool and broadcasts with x (the result has the
// broadcast shape, as PyTorch's out-of-place masked_fill). value takes x's dtype; one that does
// not fit (300 into uint8, NaN into int64, 1e300 into float32) is an Error, as in PyTorch.
// d/dx = g where the mask is false, 0 where it is true (summed back to x's shape).
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value);
// The same with a 0-dim value tensor (converted to x's dtype). When value requires grad,
// d/dvalue = the sum of g over the masked positions.
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value);

// The tensors joined along dim: all have the same number of dims and the same sizes except along
// dim; the result's size(dim) is the sum of theirs. Takes a braced list: cat({a, b}, 1).
// Mixed dtypes promote as PyTorch does (bool < uint8 < int64 < float32 < float64). As PyTorch, a
// 1-D tensor with no elements (shape [0]) is skipped whatever the other shapes are.
// d/d tensors[i] = the piece of g along dim where tensors[i] landed.
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0);

// The tensors, all of one shape, joined along a new dim at position dim (in [-(rank + 1), rank]):
// n tensors of shape [2, 3] stacked at dim 1 give [2, n, 3]. Dtypes promote as for cat.
// d/d tensors[i] = select(g, dim, i).
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0);

// a where condition is true, else b, elementwise. condition is kBool; the three shapes broadcast
// together and the result has the broadcast shape. a and b promote to a common dtype.
// d/da = g where condition holds (0 elsewhere), d/db = g where it does not, each summed back to
// its input's shape; condition gets no gradient.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
// The same with a number on one side; it takes the tensor's dtype (an integer tensor with a
// floating number gives float32, as in PyTorch).
Tensor where(const Tensor& condition, const Tensor& a, const Scalar& b);
Tensor where(const Tensor& condition, const Scalar& a, const Tensor& b);

}  // namespace xgrad
