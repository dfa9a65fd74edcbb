#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/elementwise_impl.hpp>

#include <xtensor/xmath.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <type_traits>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/thread_pool.hpp>
#include <xgrad/ops/broadcast_impl.hpp>
#include <xgrad/ops/compare.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad {

namespace {

// Error messages are built only on failure (shape_str allocates, and these checks run on every op).

void check_defined(const Tensor& t, const char* op, const char* argument) {
  check(t.defined(), op, ": ", argument, " is an undefined tensor");
}

void check_operands(const Tensor& a, const Tensor& b, const char* op) {
  check_defined(a, op, "first argument");
  check_defined(b, op, "second argument");
  if (a.dtype() != b.dtype())
    throw Error(concat(op, ": mixed dtypes ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()), " (shapes ",
                       shape_str(a.shape()), " and ", shape_str(b.shape()), "); convert one with to_dtype first"));
}

// Elements a thread must get before a second one joins: a pass of some tens of microseconds, well
// above a pool worker's wake-up. A CNN's relu (64 x 16 x 24 x 24) is split; an MLP's is not.
constexpr std::int64_t kMinElementsPerThread = std::int64_t{1} << 16;

// body(first, last) over [0, n) in blocks on xgrad's threads (kernels/thread_pool.hpp). For
// elementwise work only, whose result does not depend on the split.
template <class Body>
void for_element_blocks(std::size_t n, const Body& body) {
  thread_pool::for_element_blocks(static_cast<std::int64_t>(n), kMinElementsPerThread,
                                  [&](std::int64_t first, std::int64_t last) {
                                    body(static_cast<std::size_t>(first), static_cast<std::size_t>(last));
                                  });
}

// f applied to every element, in a new array of x's shape.
template <class T, class F>
Array<T> map(const Array<T>& x, F f) {
  Array<T> out = Array<T>::from_shape(x.shape());
  const T* in = x.data();
  T* o = out.data();
  for_element_blocks(out.size(), [&](std::size_t first, std::size_t last) {
    for (std::size_t i = first; i < last; ++i) o[i] = f(in[i]);
  });
  return out;
}

// f(a[i], b[i]) for two arrays of one shape (a gradient and a saved value), in a new array.
template <class T, class F>
Array<T> zip(const Array<T>& a, const Array<T>& b, F f) {
  Array<T> out = Array<T>::from_shape(a.shape());
  const T* pa = a.data();
  const T* pb = b.data();
  T* o = out.data();
  for_element_blocks(out.size(), [&](std::size_t first, std::size_t last) {
    for (std::size_t i = first; i < last; ++i) o[i] = f(pa[i], pb[i]);
  });
  return out;
}

// a[i] = f(a[i], b[i]) for two arrays of one shape, in place.
template <class T, class F>
void zip_into(Array<T>& a, const Array<T>& b, F f) {
  T* pa = a.data();
  const T* pb = b.data();
  for_element_blocks(a.size(), [&](std::size_t first, std::size_t last) {
    for (std::size_t i = first; i < last; ++i) pa[i] = f(pa[i], pb[i]);
  });
}

template <class T>
Tensor negated(const Tensor& t) {
  return make_tensor(map(array<T>(t), [](T v) { return -v; }));
}

// The scalar operand in the tensor's element type. int64 tensors take whole numbers only: PyTorch
// would promote the result to float, which xgrad leaves to an explicit to_dtype.
template <class T>
T scalar_as(double value, const char* op) {
  if constexpr (std::is_integral_v<T>) {
    check(std::trunc(value) == value && std::abs(value) < 9.2e18, op, ": int64 tensor with non-integer scalar ",
          value, "; convert the tensor with to_dtype(t, kFloat32) first");
  }
  return static_cast<T>(value);
}


}  // namespace

// ---- sum_to ---------------------------------------------------------------------------------------

namespace {

// d sum_to(x, shape) = g broadcast back to x's shape
struct SumToBackward final : Node {
  explicit SumToBackward(Shape input_shape) : input_shape(std::move(input_shape)) {}
  const char* name() const override { return "SumToSizeBackward0"; }
  const char* formula() const override { return "d sum_to(x, shape) = g broadcast back to x's shape"; }
  gradient_list backward(const Tensor& grad) override { return {broadcast_to(grad, input_shape)}; }
  Shape input_shape;
};

}  // namespace

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  check_defined(grad, "sum_to", "grad");
  if (has_shape(grad, shape)) return grad;
  Tensor out = visit_floating(grad.dtype(), "sum_to", [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(sum_to(array<T>(grad), shape));
  });
  if (any_requires_grad({&grad})) record(out, make_node<SumToBackward>(grad.shape()), {&grad});
  return out;
}

Tensor sum_to_shape_of(const Tensor& grad, const Tensor& like) {
  if (grad.defined() && has_shape(grad, shape_of(like))) return grad;
  return sum_to(grad, like.shape());
}

// ---- tensor-tensor arithmetic ------------------------------------------------------------------

namespace {

template <class Op>
Tensor broadcast_forward(const Tensor& a, const Tensor& b, const char* op) {
  check_operands(a, b, op);
  return visit_dtype(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(broadcast_apply(array<T>(a), array<T>(b), Op{}, op));
  });
}

// d(a + b) = (sum_to(g, a.shape), sum_to(g, b.shape))
struct AddBackward final : Node {
  AddBackward(Shape a_shape, Shape b_shape) : a_shape(std::move(a_shape)), b_shape(std::move(b_shape)) {}
  const char* name() const override { return "AddBackward0"; }
  const char* formula() const override { return "d (a + b)/d a = g\nd (a + b)/d b = g"; }
  gradient_list backward(const Tensor& grad) override {
    return {needs_input_grad(0) ? sum_to(grad, a_shape) : Tensor(),
            needs_input_grad(1) ? sum_to(grad, b_shape) : Tensor()};
  }
  Shape a_shape, b_shape;
};

// d(a - b) = (sum_to(g, a.shape), -sum_to(g, b.shape))
struct SubBackward final : Node {
  SubBackward(Shape a_shape, Shape b_shape) : a_shape(std::move(a_shape)), b_shape(std::move(b_shape)) {}
  const char* name() const override { return "SubBackward0"; }
  const char* formula() const override { return "d (a - b)/d a = g\nd (a - b)/d b = -g"; }
  gradient_list backward(const Tensor& grad) override {
    return {needs_input_grad(0) ? sum_to(grad, a_shape) : Tensor(),
            needs_input_grad(1) ? -sum_to(grad, b_shape) : Tensor()};
  }
  Shape a_shape, b_shape;
};

// d(a b) = (sum_to(g b, a.shape), sum_to(g a, b.shape))
struct MulBackward final : Node {
  MulBackward(const Tensor& a, const Tensor& b) : saved_a(a, false), saved_b(b, false) {}
  const char* name() const override { return "MulBackward0"; }
  const char* formula() const override { return "d (a * b)/d a = g * b\nd (a * b)/d b = g * a"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor a = saved_a.unpack(*this), b = saved_b.unpack(*this);
    return {needs_input_grad(0) ? sum_to_shape_of(grad * b, a) : Tensor(),
            needs_input_grad(1) ? sum_to_shape_of(grad * a, b) : Tensor()};
  }
  void release_saved() override {
    saved_a.reset();
    saved_b.reset();
  }
  SavedTensor saved_a, saved_b;
};

// d(a / b) = (sum_to(g / b, a.shape), -sum_to(g a / b^2, b.shape))
struct DivBackward final : Node {
  DivBackward(const Tensor& a, const Tensor& b) : saved_a(a, false), saved_b(b, false) {}
  const char* name() const override { return "DivBackward0"; }
  const char* formula() const override { return "d (a / b)/d a = g / b\nd (a / b)/d b = -g * a / b^2"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor a = saved_a.unpack(*this), b = saved_b.unpack(*this);
    const Tensor grad_over_b = grad / b;
    return {needs_input_grad(0) ? sum_to_shape_of(grad_over_b, a) : Tensor(),
            needs_input_grad(1) ? sum_to_shape_of(-(grad_over_b * a / b), b) : Tensor()};
  }
  void release_saved() override {
    saved_a.reset();
    saved_b.reset();
  }
  SavedTensor saved_a, saved_b;
};

}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_forward<AddOp>(a, b, "add");
  if (any_requires_grad({&a, &b})) record(out, make_node<AddBackward>(a.shape(), b.shape()), {&a, &b});
  return out;
}

Tensor operator-(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_forward<SubOp>(a, b, "sub");
  if (any_requires_grad({&a, &b})) record(out, make_node<SubBackward>(a.shape(), b.shape()), {&a, &b});
  return out;
}

Tensor operator*(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_forward<MulOp>(a, b, "mul");
  if (any_requires_grad({&a, &b})) record(out, make_node<MulBackward>(a, b), {&a, &b});
  return out;
}

Tensor operator/(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "div");
  // True division of integers gives floats in PyTorch; xgrad asks for the conversion explicitly.
  if (a.dtype() == kInt64)
    throw Error(concat("div: int64 tensors (shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                       ") cannot be divided; convert with to_dtype(t, kFloat32) first"));
  Tensor out = broadcast_forward<DivOp>(a, b, "div");
  if (any_requires_grad({&a, &b})) record(out, make_node<DivBackward>(a, b), {&a, &b});
  return out;
}

// ---- tensor-scalar arithmetic --------------------------------------------------------------------

namespace {

// f(x[i], s) for every element, with the scalar s in x's element type.
template <class F>
Tensor scalar_forward(const Tensor& x, double scalar, const char* op, F f) {
  check_defined(x, op, "tensor argument");
  return visit_dtype(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T s = scalar_as<T>(scalar, op);
    return make_tensor(map(array<T>(x), [&](T v) { return f(v, s); }));
  });
}

void check_divisible(const Tensor& x) {
  if (x.defined() && x.dtype() == kInt64)
    throw Error(concat("div: int64 tensor of shape ", shape_str(x.shape()),
                       " in a division; convert with to_dtype(t, kFloat32) first"));
}

// d(x + s) = g and d(x - s) = g: the gradient passes through unchanged
struct AddScalarBackward final : Node {
  explicit AddScalarBackward(const NodeText& op) : op(op) {}
  const char* name() const override { return op.name; }
  const char* formula() const override { return op.formula; }
  const NodeText& op;
  gradient_list backward(const Tensor& grad) override { return {grad}; }
};

// As PyTorch names them.
const NodeText kAddScalarNode{"AddBackward0", "d (x + c) = g"};
const NodeText kSubScalarNode{"SubBackward0", "d (x - c) = g"};

// d(-x) = -g, and likewise d(s - x) = -g
struct NegBackward final : Node {
  explicit NegBackward(const NodeText& op) : op(op) {}
  const char* name() const override { return op.name; }
  const char* formula() const override { return op.formula; }
  const NodeText& op;
  gradient_list backward(const Tensor& grad) override { return {-grad}; }
};

const NodeText kNegNode{"NegBackward0", "d (-x) = -g"};
const NodeText kRsubNode{"RsubBackward1", "d (c - x)/d x = -g"};

}  // namespace

Tensor operator+(const Tensor& a, double b) {
  Tensor out = scalar_forward(a, b, "add", AddOp{});
  if (any_requires_grad({&a})) record(out, make_node<AddScalarBackward>(kAddScalarNode), {&a});
  return out;
}
Tensor operator+(double a, const Tensor& b) { return b + a; }

Tensor operator-(const Tensor& a, double b) {
  Tensor out = scalar_forward(a, b, "sub", SubOp{});
  if (any_requires_grad({&a})) record(out, make_node<AddScalarBackward>(kSubScalarNode), {&a});
  return out;
}

Tensor operator-(double a, const Tensor& b) {
  Tensor out = scalar_forward(b, a, "rsub", [](auto x, auto s) { return s - x; });
  if (any_requires_grad({&b})) record(out, make_node<NegBackward>(kRsubNode), {&b});
  return out;
}

Tensor operator-(const Tensor& a) {
  check_defined(a, "neg", "input");
  Tensor out = visit_dtype(a.dtype(), "neg", [&](auto tag) { return negated<decltype(tag)>(a); });
  if (any_requires_grad({&a})) record(out, make_node<NegBackward>(kNegNode), {&a});
  return out;
}

namespace {

// d(x s) = g s
struct MulScalarBackward final : Node {
  explicit MulScalarBackward(double scalar) : scalar(scalar) {}
  const char* name() const override { return "MulBackward0"; }
  const char* formula() const override { return "d (x * c) = g * c"; }
  gradient_list backward(const Tensor& grad) override { return {grad * scalar}; }
  double scalar;
};

}  // namespace

Tensor operator*(const Tensor& a, double b) {
  Tensor out = scalar_forward(a, b, "mul", MulOp{});
  if (any_requires_grad({&a})) record(out, make_node<MulScalarBackward>(b), {&a});
  return out;
}
Tensor operator*(double a, const Tensor& b) { return b * a; }

namespace {

// d(x / s) = g / s
struct DivScalarBackward final : Node {
  explicit DivScalarBackward(double scalar) : scalar(scalar) {}
  const char* name() const override { return "DivBackward0"; }
  const char* formula() const override { return "d (x / c) = g / c"; }
  gradient_list backward(const Tensor& grad) override { return {grad / scalar}; }
  double scalar;
};

}  // namespace

Tensor operator/(const Tensor& a, double b) {
  check_divisible(a);
  Tensor out = scalar_forward(a, b, "div", DivOp{});
  if (any_requires_grad({&a})) record(out, make_node<DivScalarBackward>(b), {&a});
  return out;
}

namespace {

// d(s / x) = -g s / x^2
struct ScalarDivBackward final : Node {
  ScalarDivBackward(double scalar, const Tensor& x) : scalar(scalar), saved_x(x, false) {}
  const char* name() const override { return "DivBackward0"; }
  const char* formula() const override { return "d (c / x) = -g * c / x^2"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor x = saved_x.unpack(*this);
    return {-grad * scalar / (x * x)};
  }
  void release_saved() override { saved_x.reset(); }
  double scalar;
  SavedTensor saved_x;
};

}  // namespace

Tensor operator/(double a, const Tensor& b) {
  check_divisible(b);
  Tensor out = scalar_forward(b, a, "div", [](auto x, auto s) { return s / x; });
  if (any_requires_grad({&b})) record(out, make_node<ScalarDivBackward>(a, b), {&b});
  return out;
}

// ---- pointwise functions ---------------------------------------------------------------------------

namespace {

// f(array) for a floating tensor, f returning the new array.
template <class F>
Tensor unary_forward(const Tensor& x, const char* op, F f) {
  check_defined(x, op, "input");
  return visit_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(Array<T>(f(array<T>(x))));
  });
}

// ---- pointwise functions, each described once ----------------------------------------------------
//
// A pointwise function is one struct: its names, its forward on a whole array (xtensor's vectorised
// functions) and its derivative, written ONCE as an expression of the upstream gradient g and one
// saved value v, the input x or, where from_output, the output y, with the same in words above it
// (formula, the node's Node::formula()). The expression is a template: for
// float and double it is the fused backward loop, for Tensor the node's backward, which a
// create_graph pass records and so differentiates again. math:: names each function for both.

namespace math {
using std::cos;
using std::sin;
using xgrad::cos;
using xgrad::sin;
template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T sign(T v) {
  return v > T(0) ? T(1) : (v < T(0) ? T(-1) : T(0));
}
inline Tensor sign(const Tensor& x) { return sgn(x); }
}  // namespace math

// 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: with e = e^-|x| <= 1 nothing overflows,
// so sigmoid(-1e4) is 0 and sigmoid(1e4) is 1 rather than NaN.
template <class T>
Array<T> stable_sigmoid(const Array<T>& x) {
  Array<T> out = xt::exp(-xt::abs(x));
  const T* in = x.data();
  T* o = out.data();
  for (std::size_t i = 0, n = out.size(); i < n; ++i) {
    const T e = o[i];
    o[i] = (in[i] >= T(0) ? T(1) : e) / (T(1) + e);
  }
  return out;
}

struct Exp {
  static constexpr const char* name = "exp";
  static constexpr const char* node = "ExpBackward0";
  static constexpr bool from_output = true;
  template <class A>
  static auto forward(const A& x) { return xt::exp(x); }
  static constexpr const char* formula = "d exp(x) = g * y";
  template <class V>
  static V derivative(const V& g, const V& y) { return g * y; }
};

struct Log {
  static constexpr const char* name = "log";
  static constexpr const char* node = "LogBackward0";
  static constexpr bool from_output = false;
  template <class A>
  static auto forward(const A& x) { return xt::log(x); }
  static constexpr const char* formula = "d log(x) = g / x";
  template <class V>
  static V derivative(const V& g, const V& x) { return g / x; }
};

struct Log1p {
  static constexpr const char* name = "log1p";
  static constexpr const char* node = "Log1PBackward0";
  static constexpr bool from_output = false;
  template <class A>
  static auto forward(const A& x) { return xt::log1p(x); }
  static constexpr const char* formula = "d log1p(x) = g / (1 + x)";
  template <class V>
  static V derivative(const V& g, const V& x) { return g / (x + 1); }
};

struct Tanh {
  static constexpr const char* name = "tanh";
  static constexpr const char* node = "TanhBackward0";
  static constexpr bool from_output = true;
  template <class A>
  static auto forward(const A& x) { return xt::tanh(x); }
  static constexpr const char* formula = "d tanh(x) = g * (1 - y^2)";
  template <class V>
  static V derivative(const V& g, const V& y) { return g * (1 - y * y); }
};

struct Sigmoid {
  static constexpr const char* name = "sigmoid";
  static constexpr const char* node = "SigmoidBackward0";
  static constexpr bool from_output = true;
  template <class A>
  static auto forward(const A& x) { return stable_sigmoid(x); }
  static constexpr const char* formula = "d sigmoid(x) = g * y * (1 - y)";
  template <class V>
  static V derivative(const V& g, const V& y) { return g * (1 - y) * y; }
};

struct Abs {
  static constexpr const char* name = "abs";
  static constexpr const char* node = "AbsBackward0";
  static constexpr bool from_output = false;
  template <class A>
  static auto forward(const A& x) { return xt::abs(x); }
  // sign(0) = 0: the gradient at the kink is 0
  static constexpr const char* formula = "d |x| = g * sign(x)";
  template <class V>
  static V derivative(const V& g, const V& x) { return g * math::sign(x); }
};

struct Sqrt {
  static constexpr const char* name = "sqrt";
  static constexpr const char* node = "SqrtBackward0";
  static constexpr bool from_output = true;
  template <class A>
  static auto forward(const A& x) { return xt::sqrt(x); }
  static constexpr const char* formula = "d sqrt(x) = g / (2 y)";
  template <class V>
  static V derivative(const V& g, const V& y) { return g / (y * 2); }
};

struct Sin {
  static constexpr const char* name = "sin";
  static constexpr const char* node = "SinBackward0";
  static constexpr bool from_output = false;
  template <class A>
  static auto forward(const A& x) { return xt::sin(x); }
  static constexpr const char* formula = "d sin(x) = g * cos(x)";
  template <class V>
  static V derivative(const V& g, const V& x) { return g * math::cos(x); }
};

struct Cos {
  static constexpr const char* name = "cos";
  static constexpr const char* node = "CosBackward0";
  static constexpr bool from_output = false;
  template <class A>
  static auto forward(const A& x) { return xt::cos(x); }
  static constexpr const char* formula = "d cos(x) = -g * sin(x)";
  template <class V>
  static V derivative(const V& g, const V& x) { return -g * math::sin(x); }
};

struct Atan {
  static constexpr const char* name = "atan";
  static constexpr const char* node = "AtanBackward0";
  static constexpr bool from_output = false;
  template <class A>
  static auto forward(const A& x) { return xt::atan(x); }
  static constexpr const char* formula = "d atan(x) = g / (1 + x^2)";
  template <class V>
  static V derivative(const V& g, const V& x) { return g / (x * x + 1); }
};

// The node of every function above: it keeps what Op::derivative reads and evaluates it.
template <class Op>
class PointwiseBackward final : public Node {
 public:
  // The output when Op::derivative is written with it (exp, tanh, sqrt), else the input.
  PointwiseBackward(const Tensor& input, const Tensor& output)
      : saved_(Op::from_output ? output : input, /*is_output=*/Op::from_output) {}
  const char* name() const override { return Op::node; }
  const char* formula() const override { return Op::formula; }
  gradient_list backward(const Tensor& grad) override {
    // Under create_graph a saved output comes back with this node as grad_fn, so the second
    // derivative flows back to the input.
    return {Op::derivative(grad, saved_.unpack(*this))};
  }
  // The same expression instantiated for the element type: one pass, no temporaries.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor saved = saved_.unpack(*this);
    return {visit_floating(grad.dtype(), Op::name, [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(zip(array<T>(grad), array<T>(saved), [](T g, T v) { return Op::derivative(g, v); }));
    })};
  }

 protected:
  void release_saved() override { saved_.reset(); }

 private:
  SavedTensor saved_;
};

template <class Op>
Tensor pointwise(const Tensor& x) {
  Tensor out = unary_forward(x, Op::name, [](const auto& v) { return Op::forward(v); });
  if (any_requires_grad({&x})) record(out, make_node<PointwiseBackward<Op>>(x, out), {&x});
  return out;
}

}  // namespace

Tensor exp(const Tensor& x) { return pointwise<Exp>(x); }
Tensor log(const Tensor& x) { return pointwise<Log>(x); }
Tensor log1p(const Tensor& x) { return pointwise<Log1p>(x); }
Tensor tanh(const Tensor& x) { return pointwise<Tanh>(x); }
Tensor sigmoid(const Tensor& x) { return pointwise<Sigmoid>(x); }
Tensor abs(const Tensor& x) { return pointwise<Abs>(x); }
Tensor sqrt(const Tensor& x) { return pointwise<Sqrt>(x); }
Tensor sin(const Tensor& x) { return pointwise<Sin>(x); }
Tensor cos(const Tensor& x) { return pointwise<Cos>(x); }
Tensor atan(const Tensor& x) { return pointwise<Atan>(x); }

// Each with the range its random test inputs are drawn from (inside the domain, away from poles).
const std::vector<PointwiseFunction>& pointwise_functions() {
  static const std::vector<PointwiseFunction> functions = {
      {"exp", exp, -3, 3},  {"log", log, 0.1, 4},   {"log1p", log1p, -0.9, 4}, {"tanh", tanh, -3, 3},
      {"sigmoid", sigmoid, -4, 4}, {"abs", abs, -2, 2}, {"sqrt", sqrt, 0.1, 4}, {"sin", sin, -4, 4},
      {"cos", cos, -4, 4},  {"atan", atan, -3, 3},
  };
  return functions;
}

namespace {

// d relu(x) = g where x > 0, else 0; read off the saved output (y > 0 exactly where x > 0)
struct ReluBackward final : Node {
  explicit ReluBackward(const Tensor& output) : saved_output(output, /*is_output=*/true) {}
  const char* name() const override { return "ReluBackward0"; }
  const char* formula() const override { return "d relu(x) = g where x > 0, else 0"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor output = saved_output.unpack(*this);
    // The mask is a step of the output (PyTorch's threshold_backward(grad, result, 0)): its
    // derivative, 0 away from the kink, flows back to the output and through this node to x.
    return {with_zero_gradient_to(where(output > 0.0, grad, 0.0), output, "ThresholdBackwardBackward0")};
  }
  // One pass instead of a comparison and a where: relu is in every MLP and CNN step. A gradient the
  // engine hands over unshared (max pooling's, a product's) takes the result in place, which spares
  // a CNN's first relu a fresh 2.4 MB array and the traffic of filling it.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor output = saved_output.unpack(*this);
    const auto pass_where_positive = [](auto g, auto y) { return y > decltype(y)(0) ? g : decltype(g)(0); };
    return {visit_floating(grad.dtype(), "relu backward", [&](auto tag) {
      using T = decltype(tag);
      if (!is_exclusive(grad)) return make_tensor(zip(array<T>(grad), array<T>(output), pass_where_positive));
      zip_into(mutable_array<T>(grad), array<T>(output), pass_where_positive);
      return grad;
    })};
  }
  void release_saved() override { saved_output.reset(); }
  SavedTensor saved_output;
};

}  // namespace

Tensor relu(const Tensor& x) {
  Tensor out = unary_forward(x, "relu", [](const auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    return map(v, [](T e) { return e < T(0) ? T(0) : e; });  // NaN stays NaN, as in PyTorch
  });
  if (any_requires_grad({&x})) record(out, make_node<ReluBackward>(out), {&x});
  return out;
}

namespace {

// d sign(x) = 0: a step function. PyTorch still hands the zero on (zeros_like(x)), so a second
// backward through abs or an L1 norm reaches x, with zeros, rather than leaving it without a gradient.
struct SignBackward final : Node {
  explicit SignBackward(const char* name) : name_(name) {}
  const char* name() const override { return name_; }
  const char* formula() const override { return "d sign(x) = 0  (a step function: zeros are passed on)"; }
  gradient_list backward(const Tensor&) override { return {zeros(output_shape.to_shape(), output_dtype)}; }
  const char* name_;
};

Tensor sign_of(const Tensor& x, const char* op, const char* node_name) {
  check(x.defined(), op, ": called on an undefined tensor");
  Tensor out = visit_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(map(array<T>(x), [](T v) { return v > T(0) ? T(1) : (v < T(0) ? T(-1) : T(0)); }));
  });
  if (any_requires_grad({&x})) record(out, make_node<SignBackward>(node_name), {&x});
  return out;
}

}  // namespace

Tensor sign(const Tensor& x) { return sign_of(x, "sign", "SignBackward0"); }
Tensor sgn(const Tensor& x) { return sign_of(x, "sgn", "SgnBackward0"); }

namespace {

// d x^p = g p x^(p - 1); zero when p is 0, as PyTorch (not NaN at x = 0)
struct PowBackward final : Node {
  PowBackward(const Tensor& x, double exponent) : saved_x(x, false), exponent(exponent) {}
  const char* name() const override { return "PowBackward0"; }
  const char* formula() const override { return "d x^p = g * p * x^(p-1)"; }
  gradient_list backward(const Tensor& grad) override {
    if (exponent == 0.0) return {zeros(output_shape.to_shape(), output_dtype)};  // a constant: nothing to record
    const Tensor x = saved_x.unpack(*this);
    if (exponent == 2.0) return {grad * 2.0 * x};
    return {grad * exponent * pow(x, exponent - 1.0)};
  }
  void release_saved() override { saved_x.reset(); }
  SavedTensor saved_x;
  double exponent;
};

}  // namespace

Tensor pow(const Tensor& x, double exponent) {
  Tensor out = unary_forward(x, "pow", [exponent](const auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    // Squares (losses, norms) are exact and fast without a general pow.
    if (exponent == 2.0) return map(v, [](T e) { return e * e; });
    const T p = static_cast<T>(exponent);
    return map(v, [p](T e) { return std::pow(e, p); });
  });
  if (any_requires_grad({&x})) record(out, make_node<PowBackward>(x, exponent), {&x});
  return out;
}

// ---- clamp, maximum, minimum ---------------------------------------------------------------------

namespace {

template <class T>
bool is_nan(T value) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(value);
  else return false;
}

// The larger / smaller of two values, NaN if either is NaN (std::max and std::min would keep or
// drop a NaN depending on the argument order).
template <class T>
T larger_of(T a, T b) {
  if (is_nan(a)) return a;
  if (is_nan(b)) return b;
  return a < b ? b : a;
}
template <class T>
T smaller_of(T a, T b) {
  if (is_nan(a)) return a;
  if (is_nan(b)) return b;
  return b < a ? b : a;
}

struct MaximumOp {
  template <class T>
  T operator()(T a, T b) const { return larger_of(a, b); }
};
struct MinimumOp {
  template <class T>
  T operator()(T a, T b) const { return smaller_of(a, b); }
};

// A clamp bound in the tensor's element type: int64 tensors take whole numbers only, as the other
// scalar forms do.
template <class T>
T bound_as(const Scalar& bound, const char* op) {
  if constexpr (std::is_integral_v<T>) {
    if (!bound.isFloatingPoint()) return bound.to<T>();
  }
  return scalar_as<T>(bound.toDouble(), op);
}

// d clamp(x, min, max) = g where min <= x <= max (both ends included), else 0. A NaN x or a NaN
// bound fails both comparisons, so it gets 0; with min > max no x passes, so every gradient is 0.
struct ClampBackward final : Node {
  ClampBackward(const char* node_name, const Tensor& x, std::optional<double> min, std::optional<double> max)
      : node_name(node_name), saved_x(x, false), min(min), max(max) {}
  const char* name() const override { return node_name; }
  const char* formula() const override {
    if (min && max) return "d clamp(x) = g where min <= x <= max, else 0";
    return min ? "d clamp_min(x) = g where x >= min, else 0" : "d clamp_max(x) = g where x <= max, else 0";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor x = saved_x.unpack(*this);
    // Which elements were inside is a constant; comparisons belong to no graph.
    Tensor passed = grad;
    if (min) passed = where(x >= *min, passed, 0.0);
    if (max) passed = where(x <= *max, passed, 0.0);
    return {passed};
  }
  void release_saved() override { saved_x.reset(); }
  const char* node_name;  // ClampBackward1, ClampMinBackward0 or ClampMaxBackward0, as PyTorch names them
  SavedTensor saved_x;
  std::optional<double> min, max;
};

Tensor clamp_with_name(const Tensor& x, const std::optional<Scalar>& min, const std::optional<Scalar>& max,
                       const char* op, const char* node_name) {
  check_defined(x, op, "input");
  Tensor out = visit_dtype(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const bool has_min = min.has_value(), has_max = max.has_value();
    const T low = has_min ? bound_as<T>(*min, op) : T(0), high = has_max ? bound_as<T>(*max, op) : T(0);
    // max first, then min: when low > high every element ends at high, as in PyTorch.
    return make_tensor(map(array<T>(x), [=](T v) {
      if (has_min) v = larger_of(v, low);
      if (has_max) v = smaller_of(v, high);
      return v;
    }));
  });
  if (any_requires_grad({&x})) {
    const auto as_double = [](const std::optional<Scalar>& bound) {
      return bound ? std::optional<double>(bound->toDouble()) : std::nullopt;
    };
    record(out, make_node<ClampBackward>(node_name, x, as_double(min), as_double(max)), {&x});
  }
  return out;
}

}  // namespace

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  if (!min && !max) throw Error("clamp: at least one of min and max must be given");
  return clamp_with_name(x, min, max, "clamp", "ClampBackward1");
}

Tensor clamp_min(const Tensor& x, const Scalar& min) {
  return clamp_with_name(x, min, std::nullopt, "clamp_min", "ClampMinBackward0");
}

Tensor clamp_max(const Tensor& x, const Scalar& max) {
  return clamp_with_name(x, std::nullopt, max, "clamp_max", "ClampMaxBackward0");
}

namespace {

// The share of the upstream gradient that goes to `mine` when it met `other` in maximum (or
// minimum): all of it when it won, none when it lost, half on a tie. A NaN on either side is
// neither a tie nor a loss, so both inputs get all of it, as in PyTorch.
template <class T>
T winner_share(T mine, T other, bool larger_wins) {
  if (mine == other) return T(0.5);
  const bool lost = larger_wins ? mine < other : other < mine;
  return lost ? T(0) : T(1);
}

// d maximum(a, b) = (sum_to(g share(a, b), a.shape), sum_to(g share(b, a), b.shape)), likewise
// for minimum with the smaller value winning
struct ExtremumBackward final : Node {
  ExtremumBackward(bool larger_wins, const Tensor& a, const Tensor& b)
      : larger_wins(larger_wins), saved_a(a, false), saved_b(b, false) {}
  const char* name() const override { return larger_wins ? "MaximumBackward0" : "MinimumBackward0"; }
  const char* formula() const override {
    return larger_wins ? "d max(a, b)/d a = g where a > b (half where equal)\n"
                         "d max(a, b)/d b = g where b > a (half where equal)"
                       : "d min(a, b)/d a = g where a < b (half where equal)\n"
                         "d min(a, b)/d b = g where b < a (half where equal)";
  }
  gradient_list backward(const Tensor& grad) override {
    // The shares are constants (their derivative is 0 away from ties); the product with g is
    // recorded. They are computed at the broadcast shape, which is the upstream gradient's.
    const Tensor a = saved_a.unpack(*this), b = saved_b.unpack(*this);
    const auto shares = [this](const Tensor& mine, const Tensor& other) {
      return visit_floating(mine.dtype(), name(), [&](auto tag) {
        using T = decltype(tag);
        const bool larger = larger_wins;
        const auto share = [larger](T m, T o) { return winner_share(m, o, larger); };
        return make_tensor(broadcast_apply(array<T>(mine), array<T>(other), share, "maximum"));
      });
    };
    return {needs_input_grad(0) ? sum_to_shape_of(grad * shares(a, b), a) : Tensor(),
            needs_input_grad(1) ? sum_to_shape_of(grad * shares(b, a), b) : Tensor()};
  }
  void release_saved() override {
    saved_a.reset();
    saved_b.reset();
  }
  bool larger_wins;
  SavedTensor saved_a, saved_b;
};

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_forward<MaximumOp>(a, b, "maximum");
  if (any_requires_grad({&a, &b})) record(out, make_node<ExtremumBackward>(true, a, b), {&a, &b});
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_forward<MinimumOp>(a, b, "minimum");
  if (any_requires_grad({&a, &b})) record(out, make_node<ExtremumBackward>(false, a, b), {&a, &b});
  return out;
}

Tensor max(const Tensor& a, const Tensor& b) { return maximum(a, b); }
Tensor min(const Tensor& a, const Tensor& b) { return minimum(a, b); }

// ---- outer ---------------------------------------------------------------------------------------

Tensor outer(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "outer");
  visit_dtype(a.dtype(), "outer", [](auto) {});  // bool and uint8 are rejected here, naming outer
  if (a.dim() != 1 || b.dim() != 1)
    throw Error(concat("outer: expected two 1-D tensors, got shapes ", shape_str(a.shape()), " and ",
                       shape_str(b.shape())));
  // A column times a row: broadcasting makes every product, and MulBackward0 differentiates it.
  return reshape(a, {-1, 1}) * b;
}

// ---- Tensor methods --------------------------------------------------------------------------------

Tensor Tensor::sin() const { return xgrad::sin(*this); }
Tensor Tensor::atan() const { return xgrad::atan(*this); }
Tensor Tensor::cos() const { return xgrad::cos(*this); }
Tensor Tensor::clamp(std::optional<Scalar> min, std::optional<Scalar> max) const {
  return xgrad::clamp(*this, std::move(min), std::move(max));
}
Tensor Tensor::clamp_min(const Scalar& min) const { return xgrad::clamp_min(*this, min); }
Tensor Tensor::clamp_max(const Scalar& max) const { return xgrad::clamp_max(*this, max); }
Tensor Tensor::maximum(const Tensor& other) const { return xgrad::maximum(*this, other); }
Tensor Tensor::minimum(const Tensor& other) const { return xgrad::minimum(*this, other); }

}  // namespace xgrad
