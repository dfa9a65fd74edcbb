#pragma once
// Comparisons: eq ne lt le gt ge and the operators == != < <= > >=, elementwise with NumPy
// broadcasting (see ops/elementwise.hpp). The result is a kBool tensor of the broadcast shape and
// never requires grad: a comparison is a step function, with derivative 0 wherever it has one.
//
// Dtypes follow PyTorch's promotion (torch.result_type); every dtype, bool and uint8 included, can be
// compared:
//   - two tensors compare in the wider of their dtypes, in the order bool < uint8 < int64 < float32
//     < float64: an int64 tensor against a float32 one compares as float32. A 0-dim tensor only
//     widens the other side when it is of a higher kind (bool < integer < floating): a float32 [3]
//     against a float64 0-dim compares as float32, an int64 [3] against a float64 0-dim as float64.
//   - a Scalar takes the tensor's dtype, unless it is of a higher kind: a floating scalar against an
//     int64 tensor compares as float32, an integer against a bool tensor as int64. So, as in PyTorch,
//     float32 x == 0.1 is true where x holds 0.1f, and a uint8 tensor compares with -1 as with 255.
// NaN is unequal to everything, itself included: NaN != x is true, every other comparison false.
//
// In libtorch, == on tensors gives a tensor too; whether two tensors hold the same values is
// all(a == b).item<bool>() (for tensors of one shape).
#include <xgrad/core/scalar.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// a == b, a != b, a < b, a <= b, a > b, a >= b elementwise. Shapes must broadcast (else an Error
// naming the op and both shapes).
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
// Each element of a against one number.
Tensor eq(const Tensor& a, const Scalar& b);
Tensor ne(const Tensor& a, const Scalar& b);
Tensor lt(const Tensor& a, const Scalar& b);
Tensor le(const Tensor& a, const Scalar& b);
Tensor gt(const Tensor& a, const Scalar& b);
Tensor ge(const Tensor& a, const Scalar& b);

// torch.isclose: where |a - b| <= atol + rtol |b| (equal values, infinities included, always; NaN
// against NaN only with equal_nan). a and b must have one dtype and shapes that broadcast.
Tensor isclose(const Tensor& a, const Tensor& b, double rtol = 1e-05, double atol = 1e-08, bool equal_nan = false);
// Whether every element is close: isclose(...).all().
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-05, double atol = 1e-08, bool equal_nan = false);
// Whether a and b have the same sizes and equal elements (NaN equals nothing).
bool equal(const Tensor& a, const Tensor& b);

// Which elements are finite, infinite, NaN (kBool, x's shape); integer and bool tensors hold only
// finite numbers.
Tensor isfinite(const Tensor& x);
Tensor isinf(const Tensor& x);
Tensor isnan(const Tensor& x);

// The operators, for tensors and for a number (any arithmetic type, or a Scalar) on either side.
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Scalar& b);
Tensor operator!=(const Tensor& a, const Scalar& b);
Tensor operator<(const Tensor& a, const Scalar& b);
Tensor operator<=(const Tensor& a, const Scalar& b);
Tensor operator>(const Tensor& a, const Scalar& b);
Tensor operator>=(const Tensor& a, const Scalar& b);
Tensor operator==(const Scalar& a, const Tensor& b);
Tensor operator!=(const Scalar& a, const Tensor& b);
Tensor operator<(const Scalar& a, const Tensor& b);
Tensor operator<=(const Scalar& a, const Tensor& b);
Tensor operator>(const Scalar& a, const Tensor& b);
Tensor operator>=(const Scalar& a, const Tensor& b);

}  // namespace xgrad
