#include <xgrad/nn/clip_grad.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include <xgrad/core/error.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad::nn::utils {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// torch.norm(x, p) of n values, for every p clip_grad_norm_ accepts, accumulated in double. A NaN
// makes every norm NaN (the max and min norms included, as PyTorch's reductions propagate it). An
// empty x has norm 0.
template <class T>
double p_norm(const T* x, std::size_t n, double p) {
  if (n == 0) return 0.0;
  if (p == kInfinity || p == -kInfinity) {
    double extreme = std::abs(static_cast<double>(x[0]));
    for (std::size_t i = 1; i < n && !std::isnan(extreme); ++i) {
      const double a = std::abs(static_cast<double>(x[i]));
      if (std::isnan(a) || (p > 0 ? a > extreme : a < extreme)) extreme = a;
    }
    return extreme;
  }
  double sum = 0.0;
  if (p == 0.0) {
    for (std::size_t i = 0; i < n; ++i) sum += x[i] != T(0);
    return sum;
  }
  if (p == 1.0) {
    for (std::size_t i = 0; i < n; ++i) sum += std::abs(static_cast<double>(x[i]));
    return sum;
  }
  if (p == 2.0) {
    for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    return std::sqrt(sum);
  }
  for (std::size_t i = 0; i < n; ++i) sum += std::pow(std::abs(static_cast<double>(x[i])), p);
  return std::pow(sum, 1.0 / p);
}

// x *= factor, in the gradient's own type (PyTorch's g.mul_(clip_coef)); bumps the version.
void scale(Tensor& grad, double factor) {
  visit_floating(grad.dtype(), "clip_grad_norm_", [&](auto type) {
    using T = decltype(type);
    const T f = static_cast<T>(factor);
    T* x = grad.mutable_data<T>();
    for (std::int64_t i = 0, n = grad.numel(); i < n; ++i) x[i] *= f;
  });
  grad.impl()->storage->bump_version();
}

// The total, rounded as PyTorch's tensor of `dtype` holds it.
double round_to(double value, Dtype dtype) {
  return dtype == kFloat32 ? static_cast<double>(static_cast<float>(value)) : value;
}

// PyTorch's clamp(max_norm / (total + 1e-6), max=1) in the total's type R, where a number divided
// by a tensor is the tensor's reciprocal times the number. NaN stays NaN.
template <class R>
double clip_coefficient(double total, double max_norm) {
  const R reciprocal = R(1) / (static_cast<R>(total) + static_cast<R>(1e-6));
  const R coefficient = reciprocal * static_cast<R>(max_norm);
  return coefficient > R(1) ? 1.0 : static_cast<double>(coefficient);
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  std::vector<Tensor> grads;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    check(parameters[i].defined(), "clip_grad_norm_: parameter ", i, " is an undefined tensor");
    if (parameters[i].grad().defined()) grads.push_back(parameters[i].grad());
  }
  if (grads.empty()) return 0.0;
  // PyTorch stacks the per-gradient norms, which promotes float32 and float64 to float64.
  Dtype total_dtype = kFloat32;
  std::vector<double> norms;
  for (const Tensor& grad : grads) {
    visit_floating(grad.dtype(), "clip_grad_norm_", [&](auto type) {
      using T = decltype(type);
      norms.push_back(round_to(p_norm(grad.data<T>(), static_cast<std::size_t>(grad.numel()), norm_type),
                               grad.dtype()));
    });
    if (grad.dtype() == kFloat64) total_dtype = kFloat64;
  }
  const double total = round_to(p_norm(norms.data(), norms.size(), norm_type), total_dtype);
  check(!error_if_nonfinite || std::isfinite(total), "clip_grad_norm_: the total norm of order ", norm_type,
        " of the gradients is non-finite (", total,
        "), so it cannot be clipped; to scale the gradients by it anyway, pass error_if_nonfinite = false");
  const double coefficient = total_dtype == kFloat32 ? clip_coefficient<float>(total, max_norm)
                                                     : clip_coefficient<double>(total, max_norm);
  for (Tensor& grad : grads) scale(grad, coefficient);
  return total;
}

double clip_grad_norm_(std::initializer_list<Tensor> parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  return clip_grad_norm_(std::vector<Tensor>(parameters), max_norm, norm_type, error_if_nonfinite);
}

double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type, bool error_if_nonfinite) {
  return clip_grad_norm_(std::vector<Tensor>{parameter}, max_norm, norm_type, error_if_nonfinite);
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  for (std::size_t i = 0; i < parameters.size(); ++i)
    check(parameters[i].defined(), "clip_grad_value_: parameter ", i, " is an undefined tensor");
  for (const Tensor& parameter : parameters) {
    Tensor grad = parameter.grad();
    if (!grad.defined()) continue;
    visit_floating(grad.dtype(), "clip_grad_value_", [&](auto type) {
      using T = decltype(type);
      const T low = static_cast<T>(-clip_value), high = static_cast<T>(clip_value);
      T* x = grad.mutable_data<T>();
      // max then min, each keeping x when it is NaN: PyTorch's clamp, which gives `high` when low > high.
      for (std::int64_t i = 0, n = grad.numel(); i < n; ++i) x[i] = std::min(std::max(x[i], low), high);
    });
    grad.impl()->storage->bump_version();
  }
}

void clip_grad_value_(std::initializer_list<Tensor> parameters, double clip_value) {
  clip_grad_value_(std::vector<Tensor>(parameters), clip_value);
}

void clip_grad_value_(const Tensor& parameter, double clip_value) {
  clip_grad_value_(std::vector<Tensor>{parameter}, clip_value);
}

}  // namespace xgrad::nn::utils
