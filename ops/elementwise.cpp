#include "ops/elementwise.hpp"

#include <xtensor/xmath.hpp>

#include <cmath>
#include <memory>
#include <type_traits>

#include "core/factory.hpp"
#include "core/grad_mode.hpp"
#include "core/tensor_impl.hpp"
#include "ops/broadcast_impl.hpp"
#include "ops/compare.hpp"
#include "ops/indexing.hpp"
#include "ops/shape.hpp"

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

// f applied to every element, in a new array of x's shape.
template <class T, class F>
Array<T> map(const Array<T>& x, F f) {
  Array<T> out = Array<T>::from_shape(x.shape());
  const T* in = x.data();
  T* o = out.data();
  for (std::size_t i = 0, n = out.size(); i < n; ++i) o[i] = f(in[i]);
  return out;
}

// f(a[i], b[i]) for two arrays of one shape (a gradient and a saved value), in a new array.
template <class T, class F>
Array<T> zip(const Array<T>& a, const Array<T>& b, F f) {
  Array<T> out = Array<T>::from_shape(a.shape());
  const T* pa = a.data();
  const T* pb = b.data();
  T* o = out.data();
  for (std::size_t i = 0, n = out.size(); i < n; ++i) o[i] = f(pa[i], pb[i]);
  return out;
}

// A gradient computed at the broadcast shape, summed back to an input's shape.
template <class T>
Tensor summed_to(Array<T>&& grad, const Array<T>& input) {
  if (same_shape(grad, input)) return make_tensor(std::move(grad));
  return make_tensor(sum_to(grad, to_shape(input.shape())));
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


// An op's output rebuilt from the node's saved (detached) copy, with the node itself as grad_fn, as
// PyTorch unpacks a saved output. Nodes whose derivative is written with their output (exp, tanh,
// sigmoid, sqrt) use it in their create_graph formula, so that the second derivative flows back
// through the node to the input. The node cannot keep the output's own handle: that would be a
// cycle (output -> node -> output).
Tensor with_history(const Tensor& saved_output, std::shared_ptr<Node> node) {
  auto impl = make_cached_shared<TensorImpl>();
  impl->storage = saved_output.impl()->storage;
  impl->grad_fn = std::move(node);
  impl->requires_grad = true;
  return Tensor(std::move(impl));
}

}  // namespace

// ---- sum_to ---------------------------------------------------------------------------------------

namespace {

// d sum_to(x, shape) = g broadcast back to x's shape
struct SumToBackward final : Node {
  explicit SumToBackward(Shape input_shape) : input_shape(std::move(input_shape)) {}
  const char* name() const override { return "SumToSizeBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override { return {broadcast_to(grad, input_shape)}; }
  bool supports_create_graph() const override { return true; }
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
  if (any_requires_grad({&grad})) record(out, std::make_shared<SumToBackward>(grad.shape()), {&grad});
  return out;
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
  std::vector<Tensor> backward(const Tensor& grad) override {
    return {needs_input_grad(0) ? sum_to(grad, a_shape) : Tensor(),
            needs_input_grad(1) ? sum_to(grad, b_shape) : Tensor()};
  }
  bool supports_create_graph() const override { return true; }
  Shape a_shape, b_shape;
};

// d(a - b) = (sum_to(g, a.shape), -sum_to(g, b.shape))
struct SubBackward final : Node {
  SubBackward(Shape a_shape, Shape b_shape) : a_shape(std::move(a_shape)), b_shape(std::move(b_shape)) {}
  const char* name() const override { return "SubBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    return {needs_input_grad(0) ? sum_to(grad, a_shape) : Tensor(),
            needs_input_grad(1) ? -sum_to(grad, b_shape) : Tensor()};
  }
  bool supports_create_graph() const override { return true; }
  Shape a_shape, b_shape;
};

// d(a b) = (sum_to(g b, a.shape), sum_to(g a, b.shape))
struct MulBackward final : Node {
  MulBackward(Tensor a, Tensor b) : a(std::move(a)), b(std::move(b)) {}
  const char* name() const override { return "MulBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled())
      return {needs_input_grad(0) ? sum_to(grad * b, a.shape()) : Tensor(),
              needs_input_grad(1) ? sum_to(grad * a, b.shape()) : Tensor()};
    return visit_floating(grad.dtype(), "mul backward", [&](auto tag) {
      using T = decltype(tag);
      const Array<T>& g = array<T>(grad);
      const Array<T>&xa = array<T>(a), &xb = array<T>(b);
      std::vector<Tensor> grads(2);
      if (needs_input_grad(0)) grads[0] = summed_to(broadcast_apply(g, xb, MulOp{}, "mul"), xa);
      if (needs_input_grad(1)) grads[1] = summed_to(broadcast_apply(g, xa, MulOp{}, "mul"), xb);
      return grads;
    });
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { a = b = Tensor(); }
  Tensor a, b;
};

// d(a / b) = (sum_to(g / b, a.shape), -sum_to(g a / b^2, b.shape))
struct DivBackward final : Node {
  DivBackward(Tensor a, Tensor b) : a(std::move(a)), b(std::move(b)) {}
  const char* name() const override { return "DivBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) {
      // The same operations in the same order as below, so the values agree to the last bit.
      const Tensor grad_over_b = grad / b;
      return {needs_input_grad(0) ? sum_to(grad_over_b, a.shape()) : Tensor(),
              needs_input_grad(1) ? sum_to(-(grad_over_b * a / b), b.shape()) : Tensor()};
    }
    return visit_floating(grad.dtype(), "div backward", [&](auto tag) {
      using T = decltype(tag);
      const Array<T>&xa = array<T>(a), &xb = array<T>(b);
      Array<T> g_over_b = broadcast_apply(array<T>(grad), xb, DivOp{}, "div");
      std::vector<Tensor> grads(2);
      if (needs_input_grad(1)) {
        Array<T> g_a_over_b2 = broadcast_apply(broadcast_apply(g_over_b, xa, MulOp{}, "div"), xb, DivOp{}, "div");
        for (T& v : g_a_over_b2) v = -v;
        grads[1] = summed_to(std::move(g_a_over_b2), xb);
      }
      if (needs_input_grad(0)) grads[0] = summed_to(std::move(g_over_b), xa);
      return grads;
    });
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { a = b = Tensor(); }
  Tensor a, b;
};

}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_forward<AddOp>(a, b, "add");
  if (any_requires_grad({&a, &b})) record(out, std::make_shared<AddBackward>(a.shape(), b.shape()), {&a, &b});
  return out;
}

Tensor operator-(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_forward<SubOp>(a, b, "sub");
  if (any_requires_grad({&a, &b})) record(out, std::make_shared<SubBackward>(a.shape(), b.shape()), {&a, &b});
  return out;
}

Tensor operator*(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_forward<MulOp>(a, b, "mul");
  if (any_requires_grad({&a, &b})) record(out, std::make_shared<MulBackward>(a, b), {&a, &b}, {&a, &b});
  return out;
}

Tensor operator/(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "div");
  // True division of integers gives floats in PyTorch; xgrad asks for the conversion explicitly.
  if (a.dtype() == kInt64)
    throw Error(concat("div: int64 tensors (shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                       ") cannot be divided; convert with to_dtype(t, kFloat32) first"));
  Tensor out = broadcast_forward<DivOp>(a, b, "div");
  if (any_requires_grad({&a, &b})) record(out, std::make_shared<DivBackward>(a, b), {&a, &b}, {&a, &b});
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
  explicit AddScalarBackward(const char* node_name) : node_name(node_name) {}
  const char* name() const override { return node_name; }
  const char* node_name;  // AddBackward0 or SubBackward0, as PyTorch names them
  std::vector<Tensor> backward(const Tensor& grad) override { return {grad}; }
  bool supports_create_graph() const override { return true; }
};

// d(-x) = -g, and likewise d(s - x) = -g
struct NegBackward final : Node {
  explicit NegBackward(const char* node_name) : node_name(node_name) {}
  const char* name() const override { return node_name; }
  const char* node_name;  // NegBackward0 or RsubBackward1
  std::vector<Tensor> backward(const Tensor& grad) override { return {-grad}; }
  bool supports_create_graph() const override { return true; }
};

}  // namespace

Tensor operator+(const Tensor& a, double b) {
  Tensor out = scalar_forward(a, b, "add", AddOp{});
  if (any_requires_grad({&a})) record(out, std::make_shared<AddScalarBackward>("AddBackward0"), {&a});
  return out;
}
Tensor operator+(double a, const Tensor& b) { return b + a; }

Tensor operator-(const Tensor& a, double b) {
  Tensor out = scalar_forward(a, b, "sub", SubOp{});
  if (any_requires_grad({&a})) record(out, std::make_shared<AddScalarBackward>("SubBackward0"), {&a});
  return out;
}

Tensor operator-(double a, const Tensor& b) {
  Tensor out = scalar_forward(b, a, "rsub", [](auto x, auto s) { return s - x; });
  if (any_requires_grad({&b})) record(out, std::make_shared<NegBackward>("RsubBackward1"), {&b});
  return out;
}

Tensor operator-(const Tensor& a) {
  check_defined(a, "neg", "input");
  Tensor out = visit_dtype(a.dtype(), "neg", [&](auto tag) { return negated<decltype(tag)>(a); });
  if (any_requires_grad({&a})) record(out, std::make_shared<NegBackward>("NegBackward0"), {&a});
  return out;
}

namespace {

// d(x s) = g s
struct MulScalarBackward final : Node {
  explicit MulScalarBackward(double scalar) : scalar(scalar) {}
  const char* name() const override { return "MulBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override { return {grad * scalar}; }
  bool supports_create_graph() const override { return true; }
  double scalar;
};

}  // namespace

Tensor operator*(const Tensor& a, double b) {
  Tensor out = scalar_forward(a, b, "mul", MulOp{});
  if (any_requires_grad({&a})) record(out, std::make_shared<MulScalarBackward>(b), {&a});
  return out;
}
Tensor operator*(double a, const Tensor& b) { return b * a; }

namespace {

// d(x / s) = g / s
struct DivScalarBackward final : Node {
  explicit DivScalarBackward(double scalar) : scalar(scalar) {}
  const char* name() const override { return "DivBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override { return {grad / scalar}; }
  bool supports_create_graph() const override { return true; }
  double scalar;
};

}  // namespace

Tensor operator/(const Tensor& a, double b) {
  check_divisible(a);
  Tensor out = scalar_forward(a, b, "div", DivOp{});
  if (any_requires_grad({&a})) record(out, std::make_shared<DivScalarBackward>(b), {&a});
  return out;
}

namespace {

// d(s / x) = -g s / x^2
struct ScalarDivBackward final : Node {
  ScalarDivBackward(double scalar, Tensor x) : scalar(scalar), x(std::move(x)) {}
  const char* name() const override { return "DivBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) return {-grad * scalar / (x * x)};
    return {visit_floating(grad.dtype(), "div backward", [&](auto tag) {
      using T = decltype(tag);
      const T s = static_cast<T>(scalar);
      return make_tensor(zip(array<T>(grad), array<T>(x), [s](T g, T v) { return -g * s / (v * v); }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { x = Tensor(); }
  double scalar;
  Tensor x;
};

}  // namespace

Tensor operator/(double a, const Tensor& b) {
  check_divisible(b);
  Tensor out = scalar_forward(b, a, "div", [](auto x, auto s) { return s / x; });
  if (any_requires_grad({&b})) record(out, std::make_shared<ScalarDivBackward>(a, b), {&b}, {&b});
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

// d exp(x) = g y, with y the saved output
struct ExpBackward final : Node, std::enable_shared_from_this<ExpBackward> {
  explicit ExpBackward(Tensor output) : output(std::move(output)) {}
  const char* name() const override { return "ExpBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) return {grad * with_history(output, shared_from_this())};
    return {visit_floating(grad.dtype(), "exp backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(zip(array<T>(grad), array<T>(output), [](T g, T y) { return g * y; }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { output = Tensor(); }
  Tensor output;  // detached
};

}  // namespace

Tensor exp(const Tensor& x) {
  Tensor out = unary_forward(x, "exp", [](const auto& v) { return xt::exp(v); });
  if (any_requires_grad({&x})) record(out, std::make_shared<ExpBackward>(out.detach()), {&x}, {&out});
  return out;
}

namespace {

// d log(x) = g / x
struct LogBackward final : Node {
  explicit LogBackward(Tensor x) : x(std::move(x)) {}
  const char* name() const override { return "LogBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) return {grad / x};
    return {visit_floating(grad.dtype(), "log backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(zip(array<T>(grad), array<T>(x), [](T g, T v) { return g / v; }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { x = Tensor(); }
  Tensor x;
};

}  // namespace

Tensor log(const Tensor& x) {
  Tensor out = unary_forward(x, "log", [](const auto& v) { return xt::log(v); });
  if (any_requires_grad({&x})) record(out, std::make_shared<LogBackward>(x), {&x}, {&x});
  return out;
}

namespace {

// d log1p(x) = g / (1 + x)
struct Log1pBackward final : Node {
  explicit Log1pBackward(Tensor x) : x(std::move(x)) {}
  const char* name() const override { return "Log1PBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) return {grad / (x + 1.0)};
    return {visit_floating(grad.dtype(), "log1p backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(zip(array<T>(grad), array<T>(x), [](T g, T v) { return g / (T(1) + v); }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { x = Tensor(); }
  Tensor x;
};

}  // namespace

Tensor log1p(const Tensor& x) {
  Tensor out = unary_forward(x, "log1p", [](const auto& v) { return xt::log1p(v); });
  if (any_requires_grad({&x})) record(out, std::make_shared<Log1pBackward>(x), {&x}, {&x});
  return out;
}

namespace {

// d relu(x) = g where x > 0, else 0; read off the saved output (y > 0 exactly where x > 0)
struct ReluBackward final : Node, std::enable_shared_from_this<ReluBackward> {
  explicit ReluBackward(Tensor output) : output(std::move(output)) {}
  const char* name() const override { return "ReluBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    // The mask is a step of the output (PyTorch's threshold_backward(grad, result, 0)): its
    // derivative, 0 away from the kink, flows back to the output and through this node to x.
    if (GradMode::is_enabled())
      return {with_zero_gradient_to(where(output > 0.0, grad, 0.0), with_history(output, shared_from_this()),
                                    "ThresholdBackwardBackward0")};
    return {visit_floating(grad.dtype(), "relu backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(zip(array<T>(grad), array<T>(output), [](T g, T y) { return y > T(0) ? g : T(0); }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { output = Tensor(); }
  Tensor output;  // detached
};

}  // namespace

Tensor relu(const Tensor& x) {
  Tensor out = unary_forward(x, "relu", [](const auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    return map(v, [](T e) { return e < T(0) ? T(0) : e; });  // NaN stays NaN, as in PyTorch
  });
  if (any_requires_grad({&x})) record(out, std::make_shared<ReluBackward>(out.detach()), {&x}, {&out});
  return out;
}

namespace {

// d tanh(x) = g (1 - y^2), with y the saved output
struct TanhBackward final : Node, std::enable_shared_from_this<TanhBackward> {
  explicit TanhBackward(Tensor output) : output(std::move(output)) {}
  const char* name() const override { return "TanhBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) {
      const Tensor y = with_history(output, shared_from_this());
      return {grad * (1.0 - y * y)};
    }
    return {visit_floating(grad.dtype(), "tanh backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(zip(array<T>(grad), array<T>(output), [](T g, T y) { return g * (T(1) - y * y); }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { output = Tensor(); }
  Tensor output;  // detached
};

}  // namespace

Tensor tanh(const Tensor& x) {
  Tensor out = unary_forward(x, "tanh", [](const auto& v) { return xt::tanh(v); });
  if (any_requires_grad({&x})) record(out, std::make_shared<TanhBackward>(out.detach()), {&x}, {&out});
  return out;
}

namespace {

// d sigmoid(x) = g y (1 - y), with y the saved output
struct SigmoidBackward final : Node, std::enable_shared_from_this<SigmoidBackward> {
  explicit SigmoidBackward(Tensor output) : output(std::move(output)) {}
  const char* name() const override { return "SigmoidBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) {
      const Tensor y = with_history(output, shared_from_this());
      return {grad * (1.0 - y) * y};
    }
    return {visit_floating(grad.dtype(), "sigmoid backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(zip(array<T>(grad), array<T>(output), [](T g, T y) { return g * (T(1) - y) * y; }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { output = Tensor(); }
  Tensor output;  // detached
};

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

}  // namespace

Tensor sigmoid(const Tensor& x) {
  Tensor out = unary_forward(x, "sigmoid", [](const auto& v) { return stable_sigmoid(v); });
  if (any_requires_grad({&x})) record(out, std::make_shared<SigmoidBackward>(out.detach()), {&x}, {&out});
  return out;
}

namespace {

// d sign(x) = 0: a step function. PyTorch still hands the zero on (zeros_like(x)), so a second
// backward through abs or an L1 norm reaches x, with zeros, rather than leaving it without a gradient.
struct SignBackward final : Node {
  explicit SignBackward(const char* name) : name_(name) {}
  const char* name() const override { return name_; }
  std::vector<Tensor> backward(const Tensor&) override { return {zeros(output_shape.to_shape(), output_dtype)}; }
  bool supports_create_graph() const override { return true; }
  const char* name_;
};

Tensor sign_of(const Tensor& x, const char* op, const char* node_name) {
  check(x.defined(), op, ": called on an undefined tensor");
  Tensor out = visit_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(map(array<T>(x), [](T v) { return v > T(0) ? T(1) : (v < T(0) ? T(-1) : T(0)); }));
  });
  if (any_requires_grad({&x})) record(out, std::make_shared<SignBackward>(node_name), {&x});
  return out;
}

}  // namespace

Tensor sign(const Tensor& x) { return sign_of(x, "sign", "SignBackward0"); }
Tensor sgn(const Tensor& x) { return sign_of(x, "sgn", "SgnBackward0"); }

namespace {

// d |x| = g sign(x), 0 at x = 0
struct AbsBackward final : Node {
  explicit AbsBackward(Tensor x) : x(std::move(x)) {}
  const char* name() const override { return "AbsBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) return {grad * sgn(x)};
    return {visit_floating(grad.dtype(), "abs backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(zip(array<T>(grad), array<T>(x), [](T g, T v) { return v > T(0) ? g : (v < T(0) ? -g : T(0)); }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { x = Tensor(); }
  Tensor x;
};

}  // namespace

Tensor abs(const Tensor& x) {
  Tensor out = unary_forward(x, "abs", [](const auto& v) { return xt::abs(v); });
  if (any_requires_grad({&x})) record(out, std::make_shared<AbsBackward>(x), {&x}, {&x});
  return out;
}

namespace {

// d sqrt(x) = g / (2 y), with y the saved output
struct SqrtBackward final : Node, std::enable_shared_from_this<SqrtBackward> {
  explicit SqrtBackward(Tensor output) : output(std::move(output)) {}
  const char* name() const override { return "SqrtBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) return {grad / (with_history(output, shared_from_this()) * 2.0)};
    return {visit_floating(grad.dtype(), "sqrt backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(zip(array<T>(grad), array<T>(output), [](T g, T y) { return g / (T(2) * y); }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { output = Tensor(); }
  Tensor output;  // detached
};

}  // namespace

Tensor sqrt(const Tensor& x) {
  Tensor out = unary_forward(x, "sqrt", [](const auto& v) { return xt::sqrt(v); });
  if (any_requires_grad({&x})) record(out, std::make_shared<SqrtBackward>(out.detach()), {&x}, {&out});
  return out;
}

namespace {

// d x^p = g p x^(p - 1); zero when p is 0, as PyTorch (not NaN at x = 0)
struct PowBackward final : Node {
  PowBackward(Tensor x, double exponent) : x(std::move(x)), exponent(exponent) {}
  const char* name() const override { return "PowBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled() && exponent != 0.0) {
      if (exponent == 2.0) return {grad * 2.0 * x};
      return {grad * exponent * pow(x, exponent - 1.0)};
    }
    return {visit_floating(grad.dtype(), "pow backward", [&](auto tag) {
      using T = decltype(tag);
      const Array<T>& g = array<T>(grad);
      const T p = static_cast<T>(exponent);
      if (exponent == 0.0) return make_tensor(map(g, [](T) { return T(0); }));  // a constant: nothing to record
      if (exponent == 2.0) return make_tensor(zip(g, array<T>(x), [](T gi, T v) { return gi * T(2) * v; }));
      return make_tensor(zip(g, array<T>(x), [p](T gi, T v) { return gi * p * std::pow(v, p - T(1)); }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { x = Tensor(); }
  Tensor x;
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
  if (any_requires_grad({&x})) record(out, std::make_shared<PowBackward>(x, exponent), {&x}, {&x});
  return out;
}

namespace {

// d sin(x) = g cos(x)
struct SinBackward final : Node {
  explicit SinBackward(Tensor x) : x(std::move(x)) {}
  const char* name() const override { return "SinBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) return {grad * cos(x)};
    return {visit_floating(grad.dtype(), "sin backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(zip(array<T>(grad), array<T>(x), [](T g, T v) { return g * std::cos(v); }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { x = Tensor(); }
  Tensor x;
};

}  // namespace

Tensor sin(const Tensor& x) {
  Tensor out = unary_forward(x, "sin", [](const auto& v) { return xt::sin(v); });
  if (any_requires_grad({&x})) record(out, std::make_shared<SinBackward>(x), {&x}, {&x});
  return out;
}

namespace {

// d cos(x) = -g sin(x)
struct CosBackward final : Node {
  explicit CosBackward(Tensor x) : x(std::move(x)) {}
  const char* name() const override { return "CosBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) return {-grad * sin(x)};
    return {visit_floating(grad.dtype(), "cos backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(zip(array<T>(grad), array<T>(x), [](T g, T v) { return -g * std::sin(v); }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { x = Tensor(); }
  Tensor x;
};

}  // namespace

Tensor cos(const Tensor& x) {
  Tensor out = unary_forward(x, "cos", [](const auto& v) { return xt::cos(v); });
  if (any_requires_grad({&x})) record(out, std::make_shared<CosBackward>(x), {&x}, {&x});
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
  ClampBackward(const char* node_name, Tensor x, std::optional<double> min, std::optional<double> max)
      : node_name(node_name), x(std::move(x)), min(min), max(max) {}
  const char* name() const override { return node_name; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) {
      // Which elements were inside is a constant; comparisons belong to no graph.
      Tensor passed = grad;
      if (min) passed = where(x >= *min, passed, 0.0);
      if (max) passed = where(x <= *max, passed, 0.0);
      return {passed};
    }
    return {visit_floating(grad.dtype(), "clamp backward", [&](auto tag) {
      using T = decltype(tag);
      const bool has_min = min.has_value(), has_max = max.has_value();
      const T low = has_min ? static_cast<T>(*min) : T(0), high = has_max ? static_cast<T>(*max) : T(0);
      return make_tensor(zip(array<T>(grad), array<T>(x), [=](T g, T v) {
        const bool inside = (!has_min || v >= low) && (!has_max || v <= high);
        return inside ? g : T(0);
      }));
    })};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { x = Tensor(); }
  const char* node_name;  // ClampBackward1, ClampMinBackward0 or ClampMaxBackward0, as PyTorch names them
  Tensor x;
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
    record(out, std::make_shared<ClampBackward>(node_name, x, as_double(min), as_double(max)), {&x}, {&x});
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
  ExtremumBackward(bool larger_wins, Tensor a, Tensor b) : larger_wins(larger_wins), a(std::move(a)), b(std::move(b)) {}
  const char* name() const override { return larger_wins ? "MaximumBackward0" : "MinimumBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    if (GradMode::is_enabled()) return composite(grad);
    return visit_floating(grad.dtype(), name(), [&](auto tag) {
      using T = decltype(tag);
      const Array<T>&xa = array<T>(a), &xb = array<T>(b);
      const bool larger = larger_wins;
      const auto share = [larger](T mine, T other) { return winner_share(mine, other, larger); };
      const auto times = [](T g, T weight) { return g * weight; };
      std::vector<Tensor> grads(2);
      // The shares are computed at the broadcast shape, which is the upstream gradient's.
      if (needs_input_grad(0))
        grads[0] = summed_to(zip(array<T>(grad), broadcast_apply(xa, xb, share, "maximum"), times), xa);
      if (needs_input_grad(1))
        grads[1] = summed_to(zip(array<T>(grad), broadcast_apply(xb, xa, share, "maximum"), times), xb);
      return grads;
    });
  }
  // create_graph: the shares are constants (their derivative is 0 away from ties), the product with
  // g is recorded.
  std::vector<Tensor> composite(const Tensor& grad) const {
    const auto shares = [this](const Tensor& mine, const Tensor& other) {
      return visit_floating(mine.dtype(), name(), [&](auto tag) {
        using T = decltype(tag);
        const bool larger = larger_wins;
        const auto share = [larger](T m, T o) { return winner_share(m, o, larger); };
        return make_tensor(broadcast_apply(array<T>(mine), array<T>(other), share, "maximum"));
      });
    };
    return {needs_input_grad(0) ? sum_to(grad * shares(a, b), a.shape()) : Tensor(),
            needs_input_grad(1) ? sum_to(grad * shares(b, a), b.shape()) : Tensor()};
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { a = b = Tensor(); }
  bool larger_wins;
  Tensor a, b;
};

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_forward<MaximumOp>(a, b, "maximum");
  if (any_requires_grad({&a, &b})) record(out, std::make_shared<ExtremumBackward>(true, a, b), {&a, &b}, {&a, &b});
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_forward<MinimumOp>(a, b, "minimum");
  if (any_requires_grad({&a, &b})) record(out, std::make_shared<ExtremumBackward>(false, a, b), {&a, &b}, {&a, &b});
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
Tensor Tensor::cos() const { return xgrad::cos(*this); }
Tensor Tensor::clamp(std::optional<Scalar> min, std::optional<Scalar> max) const {
  return xgrad::clamp(*this, std::move(min), std::move(max));
}
Tensor Tensor::clamp_min(const Scalar& min) const { return xgrad::clamp_min(*this, min); }
Tensor Tensor::clamp_max(const Scalar& max) const { return xgrad::clamp_max(*this, max); }
Tensor Tensor::maximum(const Tensor& other) const { return xgrad::maximum(*this, other); }
Tensor Tensor::minimum(const Tensor& other) const { return xgrad::minimum(*this, other); }

}  // namespace xgrad
