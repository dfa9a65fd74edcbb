#include <xgrad/ops/loss_regression.hpp>

#include <cmath>
#include <memory>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/loss_impl.hpp>
#include <xgrad/ops/reduce.hpp>

namespace xgrad {


namespace {

// Messages are built only on failure: these checks run on every call.
void check_input_and_target(const char* op, const Tensor& input, const Tensor& target, Reduction reduction) {
  check(input.defined() && target.defined(), op, ": input and target must be defined tensors");
  loss_detail::check_reduction(op, reduction);
  visit_floating(input.dtype(), op, [](auto) {});
  loss_detail::check_same_dtype(op, "input", input, "target", target);
  if (target.shape() != input.shape())
    throw Error(concat(op, ": target shape ", shape_str(target.shape()), " must match input shape ",
                       shape_str(input.shape())));
}

double mean_divisor(Reduction reduction, const Tensor& input) {
  return reduction == kMean ? static_cast<double>(input.numel()) : 1.0;
}

// The loss of every element, f(x - y), reduced.
template <class LossOfDifference>
Tensor reduced_loss(const char* op, const Tensor& input, const Tensor& target, Reduction reduction,
                    LossOfDifference loss_of) {
  return visit_floating(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T *x = input.data<T>(), *y = target.data<T>();
    Array<T> losses = Array<T>::from_shape(input.shape());
    for (std::size_t i = 0; i < losses.size(); ++i) losses.data()[i] = loss_of(x[i] - y[i]);
    return loss_detail::reduce_losses(std::move(losses), reduction, mean_divisor(reduction, input));
  });
}

// What a Backward node of these losses keeps: input and target (with their graphs, which the
// recorded gradients differentiate through), the reduction and its divisor.
struct DifferenceLossBackward : Node {
  DifferenceLossBackward(const Tensor& input, const Tensor& target, Reduction reduction)
      : input(input, /*is_output=*/false), target(target, /*is_output=*/false), reduction(reduction),
        divisor(mean_divisor(reduction, input)) {}
  void release_saved() override {
    input.reset();
    target.reset();
  }

  // d/dx = u slope(x - y) and d/dy = u slope(y - x), u each element's upstream and slope_of a
  // Tensor function (slope is odd, so d/dy = -d/dx except where slope(0) is not 0: written with the
  // difference each way, as PyTorch computes the target's gradient).
  template <class SlopeOf>
  gradient_list gradients(const Tensor& grad, SlopeOf slope_of) {
    const Tensor input = this->input.unpack(*this), target = this->target.unpack(*this);
    const Tensor upstream = reduction == kNone ? grad : grad / divisor;
    gradient_list grads(2);
    if (needs_input_grad(0)) grads[0] = upstream * slope_of(input - target);
    if (needs_input_grad(1)) grads[1] = upstream * slope_of(target - input);
    return grads;
  }

  SavedTensor input, target;
  Reduction reduction;
  double divisor;
};

}  // namespace

// ---- l1_loss -------------------------------------------------------------------------------------

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_input_and_target("l1_loss", input, target, reduction);
  const Tensor losses = abs(input - target);
  if (reduction == kNone) return losses;
  return reduction == kSum ? sum(losses) : mean(losses);
}

// ---- smooth_l1_loss ------------------------------------------------------------------------------

namespace {

// The slope of smooth_l1 at a difference d, with PyTorch's comparisons (d = 0 with beta = 0 gives -1).
template <class T>
T smooth_l1_slope(T d, T beta) {
  return d <= -beta ? T(-1) : (d >= beta ? T(1) : d / beta);
}

// d/dx = g slope(x - y), d/dy = g slope(y - x); slope(d) = clamp(d / beta, -1, 1)
struct SmoothL1LossBackward final : DifferenceLossBackward {
  SmoothL1LossBackward(const Tensor& input, const Tensor& target, Reduction reduction, double beta)
      : DifferenceLossBackward(input, target, reduction), beta(beta) {}
  const char* name() const override { return "SmoothL1LossBackward0"; }
  const char* formula() const override {
    return "d smooth_l1(x, y)/d x = clamp((x - y) / beta, -1, 1) * g / N\n"
           "d smooth_l1(x, y)/d y = -clamp((x - y) / beta, -1, 1) * g / N";
  }
  gradient_list backward(const Tensor& grad) override {
    return gradients(grad, [&](const Tensor& d) { return slope_of(d); });
  }
  // With beta = 0 the slope is a step, a constant (its derivative is 0 wherever it exists), so it is
  // computed elementwise outside the graph; otherwise it is the recorded clamp, finite everywhere.
  Tensor slope_of(const Tensor& d) const {
    if (beta > 0.0) return clamp(d / beta, -1.0, 1.0);
    return visit_floating(d.dtype(), "smooth_l1_loss backward", [&](auto tag) {
      using T = decltype(tag);
      const T* values = d.data<T>();
      Array<T> slopes = Array<T>::from_shape(d.shape());
      for (std::size_t i = 0; i < slopes.size(); ++i) slopes.data()[i] = smooth_l1_slope(values[i], T(0));
      return make_tensor(std::move(slopes));
    });
  }
  double beta;
};

}  // namespace

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  const char* op = "smooth_l1_loss";
  check_input_and_target(op, input, target, reduction);
  check(beta >= 0.0, op, ": beta must be non-negative, got ", beta);
  Tensor out = reduced_loss(op, input, target, reduction, [beta](auto d) {
    using T = decltype(d);
    const T z = std::abs(d), b = static_cast<T>(beta);
    return z < b ? T(0.5) * z * z / b : z - T(0.5) * b;
  });
  if (any_requires_grad({&input, &target}))
    record(out, make_node<SmoothL1LossBackward>(input, target, reduction, beta), {&input, &target});
  return out;
}

// ---- huber_loss ----------------------------------------------------------------------------------

namespace {

// d/dx = g clamp(x - y, -delta, delta), d/dy = g clamp(y - x, -delta, delta)
struct HuberLossBackward final : DifferenceLossBackward {
  HuberLossBackward(const Tensor& input, const Tensor& target, Reduction reduction, double delta)
      : DifferenceLossBackward(input, target, reduction), delta(delta) {}
  const char* name() const override { return "HuberLossBackward0"; }
  const char* formula() const override {
    return "d huber(x, y)/d x = clamp(x - y, -delta, delta) * g / N\n"
           "d huber(x, y)/d y = -clamp(x - y, -delta, delta) * g / N";
  }
  gradient_list backward(const Tensor& grad) override {
    return gradients(grad, [&](const Tensor& d) { return clamp(d, -delta, delta); });
  }
  double delta;
};

}  // namespace

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  const char* op = "huber_loss";
  check_input_and_target(op, input, target, reduction);
  check(delta > 0.0, op, ": delta must be positive, got ", delta);
  Tensor out = reduced_loss(op, input, target, reduction, [delta](auto d) {
    using T = decltype(d);
    const T z = std::abs(d), limit = static_cast<T>(delta);
    return z < limit ? T(0.5) * z * z : limit * (z - T(0.5) * limit);
  });
  if (any_requires_grad({&input, &target}))
    record(out, make_node<HuberLossBackward>(input, target, reduction, delta), {&input, &target});
  return out;
}

}  // namespace xgrad
