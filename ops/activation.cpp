#include <xgrad/ops/activation.hpp>

#include <cmath>
#include <memory>
#include <string>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/simd_rows.hpp>
#include <xgrad/ops/compare.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/inplace_impl.hpp>

namespace xgrad {

namespace {

// 1 / sqrt(2), sqrt(2 / pi) and 1 / sqrt(2 pi): the constants of the normal distribution in gelu.
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kSqrtTwoOverPi = 0.79788456080286535588;
constexpr double kInvSqrtTwoPi = 0.39894228040143267794;
constexpr double kTwoOverSqrtPi = 1.12837916709551257390;
// The cubic coefficient of gelu's tanh approximation.
constexpr double kGeluCubic = 0.044715;

void check_input(const Tensor& x, const char* op) { check(x.defined(), op, ": input is an undefined tensor"); }

// f(v) for every element v of x, in a new tensor of x's shape. f is generic: it receives the element
// as float or double and computes in that type, as PyTorch's kernels do.
template <class F>
Tensor map_elements(const Tensor& x, const char* op, F f) {
  return visit_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    Array<T> out = Array<T>::from_shape(x.shape());
    T* values = out.data();
    for (std::size_t i = 0, n = out.size(); i < n; ++i) values[i] = f(in[i]);
    return make_tensor(std::move(out));
  });
}

// f(g, v) for every upstream element g and input element v: a backward's fused fast path.
template <class F>
Tensor zip_elements(const Tensor& grad, const Tensor& x, const char* op, F f) {
  return visit_floating(grad.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* g = grad.data<T>();
    const T* in = x.data<T>();
    Array<T> out = Array<T>::from_shape(x.shape());
    T* values = out.data();
    for (std::size_t i = 0, n = out.size(); i < n; ++i) values[i] = f(g[i], in[i]);
    return make_tensor(std::move(out));
  });
}

// Every node here saves its input (as a SavedTensor, which keeps its history, so that under
// create_graph the formula differentiates back through it) and the op's constants.
struct ActivationBackward : Node {
  explicit ActivationBackward(const Tensor& input) : input(input, /*is_output=*/false) {}
  void release_saved() override { input.reset(); }
  SavedTensor input;
};

template <class Backward, class... Constants>
Tensor recorded(Tensor out, const Tensor& x, Constants... constants) {
  if (any_requires_grad({&x})) record(out, make_node<Backward>(x, constants...), {&x});
  return out;
}

}  // namespace

// ---- leaky_relu ----------------------------------------------------------------------------------

namespace {

// PyTorch's in-place leaky_relu_ and elu_ compute their gradients from the result, which a negative
// slope (or alpha) makes ambiguous, so their backward refuses one. xgrad reads the input's old values
// and could go on, but refuses the same, with PyTorch's reason, so that a program behaves the same in
// both.
void check_in_place_slope(bool in_place, double slope, const char* op, const char* name) {
  if (in_place && slope < 0)
    throw Error(concat(op, " backward: the in-place forward ran with a negative ", name, " (", slope,
                       "), whose gradient PyTorch computes from the result and so does not support; call the "
                       "out-of-place version instead"));
}

// d leaky_relu(x) = g where x > 0, else g negative_slope. The in-place op's node is PyTorch's
// LeakyReluBackward1.
struct LeakyReluBackward final : ActivationBackward {
  LeakyReluBackward(const Tensor& input, double slope, bool in_place)
      : ActivationBackward(input), slope(slope), in_place(in_place) {}
  const char* name() const override { return in_place ? "LeakyReluBackward1" : "LeakyReluBackward0"; }
  const char* formula() const override { return "d leaky_relu(x) = g where x > 0, else slope * g"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor x = input.unpack(*this);
    check_in_place_slope(in_place, slope, "leaky_relu_", "negative_slope");
    // The mask is a step of the input: its derivative, 0 away from the kink, still reaches x.
    return {with_zero_gradient_to(where(x.detach() > 0.0, grad, grad * slope), x, "LeakyReluBackwardBackward0")};
  }
  double slope;
  bool in_place;
};

Tensor leaky_relu_of(const Tensor& x, double slope, bool in_place) {
  check_input(x, in_place ? "leaky_relu_" : "leaky_relu");
  Tensor out = map_elements(x, "leaky_relu", [slope](auto v) {
    using T = decltype(v);
    return v > T(0) ? v : v * static_cast<T>(slope);
  });
  return recorded<LeakyReluBackward>(std::move(out), x, slope, in_place);
}

}  // namespace

Tensor leaky_relu(const Tensor& x, const Scalar& negative_slope) {
  return leaky_relu_of(x, negative_slope.toDouble(), false);
}

Tensor& leaky_relu_(Tensor& x, const Scalar& negative_slope) {
  const double slope = negative_slope.toDouble();
  return apply_in_place(x, "leaky_relu_", [slope](const Tensor& old) { return leaky_relu_of(old, slope, true); });
}

// ---- gelu ----------------------------------------------------------------------------------------

namespace {

// d erf(z) = g 2 / sqrt(pi) exp(-z^2). Recorded only by gelu's formula, which needs Phi
// as a differentiable function; its own backward is composed of recorded ops.
struct ErfBackward final : ActivationBackward {
  using ActivationBackward::ActivationBackward;
  const char* name() const override { return "ErfBackward0"; }
  const char* formula() const override { return "d erf(x) = g * 2 / sqrt(pi) * exp(-x^2)"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor x = input.unpack(*this);
    return {grad * (kTwoOverSqrtPi * exp(-(x * x)))};
  }
};

Tensor recorded_erf(const Tensor& z) {
  return recorded<ErfBackward>(map_elements(z, "erf", [](auto v) { return std::erf(v); }), z);
}

enum class GeluApproximation { None, Tanh };

GeluApproximation gelu_approximation(std::string_view approximate) {
  if (approximate == "none") return GeluApproximation::None;
  if (approximate == "tanh") return GeluApproximation::Tanh;
  throw Error(concat("gelu: approximate argument must be either none or tanh, got \"", std::string(approximate),
                     "\""));
}

// The exact gelu and its derivative in PyTorch's operation order, for float or double v.
template <class T>
T gelu_exact(T v) {
  return v * T(0.5) * (T(1) + std::erf(v * static_cast<T>(kSqrtHalf)));
}
template <class T>
T gelu_exact_derivative(T v) {
  const T cdf = T(0.5) * (T(1) + std::erf(v * static_cast<T>(kSqrtHalf)));
  const T pdf = static_cast<T>(kInvSqrtTwoPi) * std::exp(v * v * T(-0.5));
  return cdf + v * pdf;
}

// The tanh approximation and its derivative, likewise.
template <class T>
T gelu_tanh(T v) {
  const T inner = static_cast<T>(kSqrtTwoOverPi) * (v + static_cast<T>(kGeluCubic) * (v * v * v));
  return T(0.5) * v * (T(1) + std::tanh(inner));
}
template <class T>
T gelu_tanh_derivative(T v) {
  const T v_squared = v * v;
  const T inner = static_cast<T>(kSqrtTwoOverPi) * (v + static_cast<T>(kGeluCubic) * (v_squared * v));
  const T t = std::tanh(inner);
  const T inner_derivative = static_cast<T>(kSqrtTwoOverPi) * (T(1) + T(3) * static_cast<T>(kGeluCubic) * v_squared);
  return T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * inner_derivative;
}

// d gelu(x) = g (Phi(x) + x phi(x)), or the tanh approximation's derivative
struct GeluBackward final : ActivationBackward {
  GeluBackward(const Tensor& input, GeluApproximation approximation)
      : ActivationBackward(input), approximation(approximation) {}
  const char* name() const override { return "GeluBackward0"; }
  const char* formula() const override {
    if (approximation == GeluApproximation::Tanh)
      return "d gelu(x, tanh) = g * (0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)), "
             "t = tanh(sqrt(2/pi) (x + 0.044715 x^3))";
    return "d gelu(x) = g * (Phi(x) + x * phi(x))";
  }
  gradient_list backward(const Tensor& grad) override {
    return {grad * derivative(input.unpack(*this))};
  }
  // PyTorch's loops, the exact one in SIMD for float32: gelu is a transformer MLP's activation, and
  // its formula (erf, exp and seven products) makes several passes over a large tensor.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor x = input.unpack(*this);
    if (approximation == GeluApproximation::Tanh)
      return {zip_elements(grad, x, "gelu backward", [](auto g, auto v) { return g * gelu_tanh_derivative(v); })};
    if (grad.dtype() == kFloat32 && x.dtype() == kFloat32) {
      Array<float> out = Array<float>::from_shape(x.shape());
      const float *g = grad.data<float>(), *v = x.data<float>();
      // Elementwise (every lane does the same arithmetic), so the split does not change a bit.
      simd_rows::for_row_blocks(out.size(), out.size(), [&](std::size_t first, std::size_t last) {
        simd_rows::gelu_backward(g + first, v + first, last - first, out.data() + first);
      });
      return {make_tensor(std::move(out))};
    }
    return {zip_elements(grad, x, "gelu backward", [](auto g, auto v) { return g * gelu_exact_derivative(v); })};
  }
  Tensor derivative(const Tensor& x) const {
    if (approximation == GeluApproximation::Tanh) {
      const Tensor x_squared = x * x;
      const Tensor t = tanh(kSqrtTwoOverPi * (x + kGeluCubic * (x_squared * x)));
      const Tensor inner_derivative = kSqrtTwoOverPi * (1.0 + 3.0 * kGeluCubic * x_squared);
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner_derivative;
    }
    const Tensor cdf = 0.5 * (1.0 + recorded_erf(x * kSqrtHalf));
    const Tensor pdf = kInvSqrtTwoPi * exp(x * x * -0.5);
    return cdf + x * pdf;
  }
  GeluApproximation approximation;
};

}  // namespace

Tensor gelu(const Tensor& x, std::string_view approximate) {
  check_input(x, "gelu");
  const GeluApproximation approximation = gelu_approximation(approximate);
  Tensor out;
  if (approximation == GeluApproximation::Tanh) {
    out = map_elements(x, "gelu", [](auto v) { return gelu_tanh(v); });
  } else if (x.dtype() == kFloat32) {
    // libm's erff is scalar and was most of a transformer MLP's time: float32 takes the SIMD kernel.
    Array<float> values = Array<float>::from_shape(x.shape());
    const float* v = x.data<float>();
    simd_rows::for_row_blocks(values.size(), values.size(), [&](std::size_t first, std::size_t last) {
      simd_rows::gelu(v + first, last - first, values.data() + first);
    });
    out = make_tensor(std::move(values));
  } else {
    out = map_elements(x, "gelu", [](auto v) { return gelu_exact(v); });
  }
  return recorded<GeluBackward>(std::move(out), x, approximation);
}

// ---- elu -----------------------------------------------------------------------------------------

namespace {

// ATen's names: the slope for x > 0, the factor of the negative branch and its input scale.
struct EluCoefficients {
  double positive;        // scale
  double negative;        // alpha scale
  double negative_input;  // input_scale
  double alpha;           // alone, for the in-place op's check
};

// d elu(x) = g scale where x > 0, else g alpha scale input_scale exp(input_scale x)  (NaN at NaN).
// The in-place op's node is PyTorch's EluBackward1.
struct EluBackward final : ActivationBackward {
  EluBackward(const Tensor& input, EluCoefficients c, bool in_place)
      : ActivationBackward(input), c(c), in_place(in_place) {}
  const char* name() const override { return in_place ? "EluBackward1" : "EluBackward0"; }
  const char* formula() const override {
    return "d elu(x) = g * scale where x > 0, else g * alpha * scale * input_scale * exp(input_scale x)";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor x = input.unpack(*this);
    check_in_place_slope(in_place, c.alpha, "elu_", "alpha");
    // exp of the clamped input: equal on the branch that is kept, and finite (no inf times a zero
    // gradient, i.e. no NaN, in later derivatives) on the one that is not.
    const Tensor negative_branch = grad * (c.negative_input * c.negative) * exp(clamp_max(x, 0.0) * c.negative_input);
    // Tested as x > 0, as PyTorch's vectorised kernel does, so NaN takes the negative branch and
    // its gradient is NaN. (PyTorch's scalar loop, which only the last few elements of a tensor
    // reach, tests x <= 0 and gives g scale there instead.)
    return {where(x.detach() > 0.0, grad * c.positive, negative_branch)};
  }
  EluCoefficients c;
  bool in_place;
};

EluCoefficients elu_coefficients(const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return {scale.toDouble(), alpha.toDouble() * scale.toDouble(), input_scale.toDouble(), alpha.toDouble()};
}

Tensor elu_of(const Tensor& x, EluCoefficients c, bool in_place) {
  check_input(x, in_place ? "elu_" : "elu");
  Tensor out = map_elements(x, "elu", [c](auto v) {
    using T = decltype(v);
    return v <= T(0) ? std::expm1(v * static_cast<T>(c.negative_input)) * static_cast<T>(c.negative)
                     : v * static_cast<T>(c.positive);
  });
  return recorded<EluBackward>(std::move(out), x, c, in_place);
}

}  // namespace

Tensor elu(const Tensor& x, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return elu_of(x, elu_coefficients(alpha, scale, input_scale), false);
}

Tensor& elu_(Tensor& x, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  const EluCoefficients c = elu_coefficients(alpha, scale, input_scale);
  return apply_in_place(x, "elu_", [c](const Tensor& old) { return elu_of(old, c, true); });
}

// ---- silu ----------------------------------------------------------------------------------------

namespace {

// d silu(x) = g s (1 + x (1 - s)),  s = sigmoid(x)
struct SiluBackward final : ActivationBackward {
  using ActivationBackward::ActivationBackward;
  const char* name() const override { return "SiluBackward0"; }
  const char* formula() const override { return "d silu(x) = g * s * (1 + x (1 - s)), s = sigmoid(x)"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor x = input.unpack(*this);
    const Tensor s = sigmoid(x);
    return {grad * s * (1.0 + x * (1.0 - s))};
  }
};

}  // namespace

Tensor silu(const Tensor& x) {
  check_input(x, "silu");
  Tensor out = map_elements(x, "silu", [](auto v) {
    using T = decltype(v);
    return v / (T(1) + std::exp(-v));
  });
  return recorded<SiluBackward>(std::move(out), x);
}

// ---- softplus ------------------------------------------------------------------------------------

namespace {

// d softplus(x) = g where beta x > threshold, else g sigmoid(beta x)
struct SoftplusBackward final : ActivationBackward {
  SoftplusBackward(const Tensor& input, double beta, double threshold)
      : ActivationBackward(input), beta(beta), threshold(threshold) {}
  const char* name() const override { return "SoftplusBackward0"; }
  const char* formula() const override { return "d softplus(x) = g * sigmoid(beta x), or g where beta x > threshold"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor x = input.unpack(*this);
    const Tensor scaled = x * beta;
    return {where(scaled.detach() > threshold, grad, grad * sigmoid(scaled))};
  }
  double beta, threshold;
};

}  // namespace

Tensor softplus(const Tensor& x, const Scalar& beta, const Scalar& threshold) {
  check_input(x, "softplus");
  const double b = beta.toDouble(), limit = threshold.toDouble();
  Tensor out = map_elements(x, "softplus", [b, limit](auto v) {
    using T = decltype(v);
    const T scaled = v * static_cast<T>(b);
    // Above the threshold log(1 + e^z) / beta equals x to rounding, and e^z could overflow.
    return scaled > static_cast<T>(limit) ? v : std::log1p(std::exp(scaled)) / static_cast<T>(b);
  });
  return recorded<SoftplusBackward>(std::move(out), x, b, limit);
}

}  // namespace xgrad
