#include <xgrad/ops/compare.hpp>

#include <cmath>
#include <limits>
#include <type_traits>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/broadcast_impl.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad {

namespace {

// ---- PyTorch's type promotion (torch.result_type) for the five dtypes ------------------------------

// The dtypes from narrowest to widest: promoting two of them gives the wider one.
int width(Dtype dtype) {
  switch (dtype) {
    case Dtype::Bool: return 0;
    case Dtype::UInt8: return 1;
    case Dtype::Int64: return 2;
    case Dtype::Float32: return 3;
    case Dtype::Float64: return 4;
  }
  return 0;
}

Dtype promote_types(Dtype a, Dtype b) { return width(a) >= width(b) ? a : b; }

// A participant of lower priority (a 0-dim tensor against a dimensioned one, a scalar against a
// tensor) changes the result only when it is of a higher kind; this is PyTorch's combine_categories.
Dtype combine_categories(Dtype higher, Dtype lower) {
  if (is_floating(higher)) return higher;
  if (higher == kBool || is_floating(lower)) return promote_types(higher, lower);
  return higher;
}

Dtype result_type(const Tensor& a, const Tensor& b) {
  const bool a_dimensioned = a.dim() > 0, b_dimensioned = b.dim() > 0;
  if (a_dimensioned == b_dimensioned) return promote_types(a.dtype(), b.dtype());
  return a_dimensioned ? combine_categories(a.dtype(), b.dtype()) : combine_categories(b.dtype(), a.dtype());
}

// A floating scalar counts as the default dtype (float32), as a Python float does in PyTorch.
Dtype result_type(const Tensor& a, const Scalar& b) {
  const Dtype scalar_dtype = b.isFloatingPoint() ? kFloat32 : (b.isBoolean() ? kBool : kInt64);
  return combine_categories(a.dtype(), scalar_dtype);
}

// The scalar in the comparison's dtype: a plain conversion (an integer wraps into uint8, as in
// PyTorch), except that a double beyond float's range becomes an infinity instead of undefined
// behaviour.
template <class T>
T scalar_value(const Scalar& scalar) {
  if constexpr (std::is_same_v<T, float>) {
    const double value = scalar.toDouble();
    if (scalar.isFloatingPoint() && std::abs(value) > std::numeric_limits<float>::max() && std::isfinite(value))
      return value > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  }
  return scalar.to<T>();
}

// ---- the comparisons ----------------------------------------------------------------------------------

struct EqOp {
  template <class T>
  bool operator()(T a, T b) const { return a == b; }
};
struct NeOp {
  template <class T>
  bool operator()(T a, T b) const { return a != b; }
};
struct LtOp {
  template <class T>
  bool operator()(T a, T b) const { return a < b; }
};
struct LeOp {
  template <class T>
  bool operator()(T a, T b) const { return a <= b; }
};
struct GtOp {
  template <class T>
  bool operator()(T a, T b) const { return a > b; }
};
struct GeOp {
  template <class T>
  bool operator()(T a, T b) const { return a >= b; }
};

// |a - b| <= atol + rtol |b|, with equal values (infinities of one sign included) always close and
// NaN close to NaN only when asked: torch.isclose's rule.
struct IsCloseOp {
  double rtol, atol;
  bool equal_nan;
  template <class T>
  bool operator()(T a, T b) const {
    if (a == b) return true;
    if constexpr (std::is_same_v<T, bool>) {
      return false;
    } else {
      const double x = static_cast<double>(a), y = static_cast<double>(b);
      if (std::isnan(x) || std::isnan(y)) return equal_nan && std::isnan(x) && std::isnan(y);
      if (!std::isfinite(x) || !std::isfinite(y)) return false;
      return std::abs(x - y) <= atol + rtol * std::abs(y);
    }
  }
};

void check_defined(const Tensor& t, const char* op, const char* argument) {
  check(t.defined(), op, ": ", argument, " is an undefined tensor");
}

template <class Op>
Tensor compare(const Tensor& a, const Tensor& b, const char* op, Op compare_op = {}) {
  check_defined(a, op, "first argument");
  check_defined(b, op, "second argument");
  const Dtype common = result_type(a, b);
  // Converting to the common dtype belongs to no graph: the result is never differentiable.
  NoGradGuard no_grad;
  const Tensor left = to_dtype(a, common), right = to_dtype(b, common);
  return visit_any_dtype(common, [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(broadcast_apply(array<T>(left), array<T>(right), compare_op, op));
  });
}

template <class Op>
Tensor compare(const Tensor& a, const Scalar& b, const char* op) {
  check_defined(a, op, "tensor argument");
  const Dtype common = result_type(a, b);
  NoGradGuard no_grad;
  const Tensor left = to_dtype(a, common);
  return visit_any_dtype(common, [&](auto tag) {
    using T = decltype(tag);
    const Array<T>& values = array<T>(left);
    const T right = scalar_value<T>(b);
    Array<bool> out = Array<bool>::from_shape(values.shape());
    const T* in = values.data();
    bool* o = out.data();
    for (std::size_t i = 0, n = out.size(); i < n; ++i) o[i] = Op{}(in[i], right);
    return make_tensor(std::move(out));
  });
}

}  // namespace

Tensor isclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  check_defined(a, "isclose", "first argument");
  check_defined(b, "isclose", "second argument");
  check(a.dtype() == b.dtype(), "isclose: expected both inputs to have the same dtype, but got self of dtype ",
        dtype_name(a.dtype()), " and other of dtype ", dtype_name(b.dtype()));
  check(rtol >= 0, "isclose: rtol must be greater than or equal to zero, but got ", rtol);
  check(atol >= 0, "isclose: atol must be greater than or equal to zero, but got ", atol);
  return compare(a, b, "isclose", IsCloseOp{rtol, atol, equal_nan});
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  return isclose(a, b, rtol, atol, equal_nan).all().item<bool>();
}

bool equal(const Tensor& a, const Tensor& b) {
  check_defined(a, "equal", "first argument");
  check_defined(b, "equal", "second argument");
  return a.sizes() == b.sizes() && eq(a, b).all().item<bool>();
}

Tensor Tensor::isclose(const Tensor& other, double rtol, double atol, bool equal_nan) const {
  return xgrad::isclose(*this, other, rtol, atol, equal_nan);
}
bool Tensor::allclose(const Tensor& other, double rtol, double atol, bool equal_nan) const {
  return xgrad::allclose(*this, other, rtol, atol, equal_nan);
}
bool Tensor::equal(const Tensor& other) const { return xgrad::equal(*this, other); }

Tensor eq(const Tensor& a, const Tensor& b) { return compare<EqOp>(a, b, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare<NeOp>(a, b, "ne"); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare<LtOp>(a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return compare<LeOp>(a, b, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare<GtOp>(a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare<GeOp>(a, b, "ge"); }

Tensor eq(const Tensor& a, const Scalar& b) { return compare<EqOp>(a, b, "eq"); }
Tensor ne(const Tensor& a, const Scalar& b) { return compare<NeOp>(a, b, "ne"); }
Tensor lt(const Tensor& a, const Scalar& b) { return compare<LtOp>(a, b, "lt"); }
Tensor le(const Tensor& a, const Scalar& b) { return compare<LeOp>(a, b, "le"); }
Tensor gt(const Tensor& a, const Scalar& b) { return compare<GtOp>(a, b, "gt"); }
Tensor ge(const Tensor& a, const Scalar& b) { return compare<GeOp>(a, b, "ge"); }

namespace {

// The kBool tensor of predicate(v) for each element; integers and bools are always finite.
template <class Predicate>
Tensor classify(const Tensor& x, const char* op, bool integral_answer, Predicate predicate) {
  check_defined(x, op, "input");
  return visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const Array<T>& values = array<T>(x);
    Array<bool> out = Array<bool>::from_shape(values.shape());
    for (std::size_t i = 0, n = out.size(); i < n; ++i) {
      if constexpr (std::is_floating_point_v<T>) out.data()[i] = predicate(values.data()[i]);
      else out.data()[i] = integral_answer;
    }
    return make_tensor(std::move(out));
  });
}

}  // namespace

Tensor isfinite(const Tensor& x) { return classify(x, "isfinite", true, [](auto v) { return std::isfinite(v); }); }
Tensor isinf(const Tensor& x) { return classify(x, "isinf", false, [](auto v) { return std::isinf(v); }); }
Tensor isnan(const Tensor& x) { return classify(x, "isnan", false, [](auto v) { return std::isnan(v); }); }
Tensor Tensor::isfinite() const { return xgrad::isfinite(*this); }
Tensor Tensor::isinf() const { return xgrad::isinf(*this); }
Tensor Tensor::isnan() const { return xgrad::isnan(*this); }

Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }

Tensor operator==(const Tensor& a, const Scalar& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Scalar& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Scalar& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Scalar& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Scalar& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Scalar& b) { return ge(a, b); }

// A number on the left is the mirrored comparison with the tensor first: s < t is t > s.
Tensor operator==(const Scalar& a, const Tensor& b) { return eq(b, a); }
Tensor operator!=(const Scalar& a, const Tensor& b) { return ne(b, a); }
Tensor operator<(const Scalar& a, const Tensor& b) { return gt(b, a); }
Tensor operator<=(const Scalar& a, const Tensor& b) { return ge(b, a); }
Tensor operator>(const Scalar& a, const Tensor& b) { return lt(b, a); }
Tensor operator>=(const Scalar& a, const Tensor& b) { return le(b, a); }

// ---- Tensor methods --------------------------------------------------------------------------------

Tensor Tensor::eq(const Tensor& other) const { return xgrad::eq(*this, other); }
Tensor Tensor::eq(const Scalar& other) const { return xgrad::eq(*this, other); }
Tensor Tensor::ne(const Tensor& other) const { return xgrad::ne(*this, other); }
Tensor Tensor::ne(const Scalar& other) const { return xgrad::ne(*this, other); }
Tensor Tensor::lt(const Tensor& other) const { return xgrad::lt(*this, other); }
Tensor Tensor::lt(const Scalar& other) const { return xgrad::lt(*this, other); }
Tensor Tensor::le(const Tensor& other) const { return xgrad::le(*this, other); }
Tensor Tensor::le(const Scalar& other) const { return xgrad::le(*this, other); }
Tensor Tensor::gt(const Tensor& other) const { return xgrad::gt(*this, other); }
Tensor Tensor::gt(const Scalar& other) const { return xgrad::gt(*this, other); }
Tensor Tensor::ge(const Tensor& other) const { return xgrad::ge(*this, other); }
Tensor Tensor::ge(const Scalar& other) const { return xgrad::ge(*this, other); }

}  // namespace xgrad
