#pragma once
// Elementwise ops: arithmetic with NumPy broadcasting, and the pointwise functions.
//
// Broadcasting lines the two shapes up from the right; each pair of sizes must be equal or one of
// them 1, and the result takes the larger: [3, 1] with [1, 4] gives [3, 4], [2, 3] with [3] gives
// [2, 3]. In backward each input gets the upstream gradient summed back to its own shape (sum_to),
// because an input that was broadcast was used once per copy.
//
// Both tensors of a binary op must have one dtype (mixing float32 and float64 is an Error naming
// both). A scalar operand takes the tensor's dtype, as in PyTorch. int64 tensors support + - * and
// unary minus (never differentiable); the floating functions (exp, log, ...) throw for int64.
#include <optional>

#include <xgrad/core/scalar.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// The NumPy broadcast of two shapes. Throws Error naming `op` and both shapes when some aligned pair
// of sizes differs and neither is 1.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// The derivative of broadcasting: sums `grad` over the dimensions along which a tensor of `shape`
// was broadcast to grad's shape, giving a tensor of `shape`. sum_to(g [N, C], [C]) sums over rows;
// sum_to(g [N, C], [N, 1]) over columns. Returns grad itself (no copy) when the shapes are equal.
// Throws Error when `shape` does not broadcast to grad's shape. Differentiable (its gradient is
// broadcast_to).
Tensor sum_to(const Tensor& grad, const Shape& shape);

// a + b; d/da = sum_to(g, a.shape), d/db = sum_to(g, b.shape).
Tensor operator+(const Tensor& a, const Tensor& b);
// a - b; d/da = sum_to(g, a.shape), d/db = -sum_to(g, b.shape).
Tensor operator-(const Tensor& a, const Tensor& b);
// a * b; d/da = sum_to(g b, a.shape), d/db = sum_to(g a, b.shape).
Tensor operator*(const Tensor& a, const Tensor& b);
// a / b; d/da = sum_to(g / b, a.shape), d/db = -sum_to(g a / b^2, b.shape).
Tensor operator/(const Tensor& a, const Tensor& b);

// Tensor-scalar forms; the result has the tensor's shape and dtype. For int64 tensors the scalar
// must be a whole number (PyTorch would promote to float; convert with to_dtype first).
Tensor operator+(const Tensor& a, double b);  // d/da = g
Tensor operator+(double a, const Tensor& b);  // d/db = g
Tensor operator-(const Tensor& a, double b);  // d/da = g
Tensor operator-(double a, const Tensor& b);  // d/db = -g
Tensor operator*(const Tensor& a, double b);  // d/da = g b
Tensor operator*(double a, const Tensor& b);  // d/db = g a
Tensor operator/(const Tensor& a, double b);  // d/da = g / b
Tensor operator/(double a, const Tensor& b);  // d/db = -g a / b^2

// -a; d/da = -g.
Tensor operator-(const Tensor& a);

// e^x; d/dx = g e^x (the saved output).
Tensor exp(const Tensor& x);
// Natural log; d/dx = g / x. log(0) = -inf, log of a negative number is NaN, as in PyTorch.
Tensor log(const Tensor& x);
// log(1 + x), accurate for small x; d/dx = g / (1 + x).
Tensor log1p(const Tensor& x);
// max(x, 0); d/dx = g where x > 0, else 0 (0 at exactly 0, as PyTorch).
Tensor relu(const Tensor& x);
// relu in place, as torch::relu_ (and x.relu_()): x's values become max(x, 0), its gradient relu's
// (grad_fn ReluBackward0, as in PyTorch). See ops/inplace.cpp for the rules of in-place ops.
Tensor& relu_(Tensor& x);
// tanh(x); d/dx = g (1 - y^2) with y the saved output.
Tensor tanh(const Tensor& x);
// 1 / (1 + e^-x), computed without overflow for any x; d/dx = g y (1 - y) with y the saved output.
Tensor sigmoid(const Tensor& x);
// -1, 0 or 1 by the sign of each element (0 for NaN, as PyTorch's CPU kernel); d/dx = 0, a
// defined zero (PyTorch's zeros_like). sgn is the same for real tensors, with its own node name.
Tensor sign(const Tensor& x);
Tensor sgn(const Tensor& x);
// |x|; d/dx = g sign(x) (0 at exactly 0, as PyTorch).
Tensor abs(const Tensor& x);
// sqrt(x); d/dx = g / (2 y) with y the saved output.
Tensor sqrt(const Tensor& x);
// x^exponent; d/dx = g exponent x^(exponent - 1) (0 when exponent is 0, as PyTorch).
Tensor pow(const Tensor& x, double exponent);
// sin(x); d/dx = g cos(x).
Tensor sin(const Tensor& x);
// cos(x); d/dx = -g sin(x).
Tensor cos(const Tensor& x);
// arctan(x), in (-pi/2, pi/2); d/dx = g / (1 + x^2).
Tensor atan(const Tensor& x);

// ---- clamping and elementwise extremes ---------------------------------------------------------
// Bounds are Scalars in x's element type; for int64 tensors they must be whole numbers. bool and
// uint8 tensors are rejected, as by every arithmetic op.

// min(max(x, min), max) with either bound optional (at least one must be given). As in PyTorch:
// a NaN element stays NaN, a NaN bound makes every element NaN, and when min > max every element
// becomes max. d/dx = g where min <= x <= max (both ends included), else 0; 0 at NaN.
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
// max(x, min); d/dx = g where x >= min, else 0.
Tensor clamp_min(const Tensor& x, const Scalar& min);
// min(x, max); d/dx = g where x <= max, else 0.
Tensor clamp_max(const Tensor& x, const Scalar& max);

// The larger of a and b elementwise, with broadcasting; NaN if either is NaN. The gradient goes to
// the larger input; on a tie (a == b) each gets half of it, and where a NaN is involved both get all
// of it (PyTorch's rule): d/da = sum_to(g [a > b] + g/2 [a == b] + g [a or b NaN], a.shape).
Tensor maximum(const Tensor& a, const Tensor& b);
// The smaller of a and b elementwise, with the same tie and NaN rules as maximum.
Tensor minimum(const Tensor& a, const Tensor& b);
// libtorch's other names for maximum and minimum of two tensors (see ops/reduce.hpp for the
// one-tensor reductions max(x) and max(x, dim)).
Tensor max(const Tensor& a, const Tensor& b);
Tensor min(const Tensor& a, const Tensor& b);

// The outer product of two 1-D tensors: out[i][j] = a[i] b[j], shape [n, m]. Computed as
// reshape(a, {n, 1}) * b, as PyTorch does, so d/da = sum over j of g[i][j] b[j] and
// d/db = sum over i of g[i][j] a[i].
Tensor outer(const Tensor& a, const Tensor& b);

}  // namespace xgrad
