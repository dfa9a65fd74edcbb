#pragma once
// Linear algebra: matrix products (one BLAS gemm per product) and transposition.
//
// Both operands of an op must have the same floating dtype (float32 or float64); int64 tensors and
// mixed dtypes are an Error naming both. Results are always fresh row-major contiguous tensors.
// Gradients are gemm calls on raw buffers; with create_graph they are recorded matmuls, transposes
// and sums instead, so they can be differentiated again.
#include <cstdint>

#include <xgrad/core/scalar.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// The matrix product, as torch.matmul:
//   [m, k]    x [k, n]    -> [m, n]
//   [k]       x [k, n]    -> [n]        (a is a row vector, its dimension is dropped again)
//   [m, k]    x [k]       -> [m]        (b is a column vector)
//   [k]       x [k]       -> []         (dot product, a 0-dim tensor)
//   [*, m, k] x [k, n]    -> [*, m, n]  (one gemm over all the leading dimensions' rows)
//   [*a, m, k] x [*b, k, n] -> [*, m, n] (batched; the batch dimensions *a and *b broadcast as
//                                        NumPy's: (B, H, T, D) x (B, H, D, T), (B, 1, T, D) x
//                                        (H, D, T) -> (B, H, T, T); a 1-D operand has none)
// Gradient, for C = A B with upstream dC: dA = dC B^T and dB = A^T dC (summed over the batch
// entries that shared an operand's matrix).
Tensor matmul(const Tensor& a, const Tensor& b);

// The product of two matrices, [m, k] x [k, n] -> [m, n] (both exactly 2-D, else an Error); the
// gradient is matmul's.
Tensor mm(const Tensor& a, const Tensor& b);

// Batched matrix products, as torch.bmm: batch1 [B, n, m] x batch2 [B, m, p] -> [B, n, p], both
// exactly 3-D with equal B (no broadcasting, unlike matmul). Gradient: matmul's.
Tensor bmm(const Tensor& batch1, const Tensor& batch2);
// beta self + alpha bmm(batch1, batch2), as torch.baddbmm; self broadcasts to [B, n, p]. With beta
// = 0 self is ignored (NaN and infinity in it do not reach the result). Gradients: d self = beta g
// (summed to self's shape), d batch1 = alpha g batch2^T, d batch2 = alpha batch1^T g.
Tensor baddbmm(const Tensor& self, const Tensor& batch1, const Tensor& batch2, const Scalar& beta = 1,
               const Scalar& alpha = 1);
// The transpose of a matrix; a tensor of 0 or 1 dims is returned as it is (as torch.t).
Tensor t(const Tensor& a);

// Swaps dimensions dim0 and dim1 (negative values count from the end) into a new contiguous tensor:
// out[..., j, ..., i, ...] = a[..., i, ..., j, ...]. Gradient: the upstream transposed back.
Tensor transpose(const Tensor& a, std::int64_t dim0, std::int64_t dim1);

// The affine map of a fully connected layer, as torch.nn.functional.linear: y = x W^T + b.
//   input  [*, in]       (any number of leading dimensions, including none: a single vector [in])
//   weight [out, in]
//   bias   [out], or an undefined Tensor for no bias
//   result [*, out]
// Gradient: dx = dy W, dW = dy^T x (rows of all leading dimensions together), db = dy summed over
// the rows. Forward and backward are one gemm per product, with the bias folded into the first.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace xgrad
