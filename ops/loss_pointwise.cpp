#include <xgrad/ops/loss_pointwise.hpp>

#include <xtensor/xbroadcast.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/compare.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/loss_impl.hpp>

namespace xgrad {


namespace {

// ---- Shared pieces -----------------------------------------------------------------------------
// Messages are built only on failure: these checks run on every call.

void check_input_and_target(const char* op, const Tensor& input, const Tensor& target, Reduction reduction,
                            bool allow_batchmean = false) {
  check(input.defined() && target.defined(), op, ": input and target must be defined tensors");
  loss_detail::check_reduction(op, reduction, allow_batchmean);
  visit_floating(input.dtype(), op, [](auto) {});
  loss_detail::check_same_dtype(op, "input", input, "target", target);
  if (target.shape() != input.shape())
    throw Error(concat(op, ": target shape ", shape_str(target.shape()), " must match input shape ",
                       shape_str(input.shape())));
}

// `weight` broadcast to the input's shape (NumPy rules: aligned from the right, each size equal or
// 1, the input's shape unchanged), so the kernels read one weight per element. Undefined stays
// undefined; a weight of the input's shape is used as it is.
Tensor expand_to_input(const char* op, const char* name, const Tensor& weight, const Tensor& input) {
  if (!weight.defined()) return Tensor();
  loss_detail::check_same_dtype(op, "input", input, name, weight);
  const Shape shape = input.shape(), weight_shape = weight.shape();
  if (weight_shape == shape) return weight.detach();
  bool fits = weight_shape.size() <= shape.size();
  for (std::size_t d = 1; fits && d <= weight_shape.size(); ++d) {
    const std::size_t size = weight_shape[weight_shape.size() - d];
    fits = size == 1 || static_cast<std::int64_t>(size) == shape[shape.size() - d];
  }
  if (!fits)
    throw Error(concat(op, ": ", name, " of shape ", shape_str(weight_shape), " does not broadcast to the input shape ",
                       shape_str(shape)));
  return visit_floating(weight.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Array<T> expanded = xt::broadcast(array<T>(weight), shape);
    return make_tensor(std::move(expanded));
  });
}

// The divisor of the reduction: 1 for kNone and kSum, the element count for kMean, the batch size
// (first dimension) for kBatchMean, which is just the sum for a 0-dim input, as in PyTorch.
double reduction_divisor(Reduction reduction, const Tensor& input) {
  switch (reduction) {
    case Reduction::Mean: return static_cast<double>(input.numel());
    case Reduction::BatchMean: return input.dim() == 0 ? 1.0 : static_cast<double>(input.shape()[0]);
    default: return 1.0;
  }
}

template <class T>
const T* data_or_null(const Tensor& tensor) {
  return tensor.defined() ? tensor.data<T>() : nullptr;
}

// One weight per element; w == nullptr means all ones.
template <class T>
T weight_at(const T* w, std::size_t i) {
  return w ? w[i] : T(1);
}

// What every pointwise Backward node saves: the input and the target (with their graphs, which the
// recorded gradients differentiate through), the expanded weight (a constant) and the reduction's
// divisor.
struct PointwiseSaved {
  PointwiseSaved(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                 double divisor)
      : input(input, /*is_output=*/false), target(target, /*is_output=*/false), weight(weight, /*is_output=*/false),
        reduction(reduction), divisor(divisor) {}
  SavedTensor input, target, weight;
  Reduction reduction;
  double divisor;
  void release() {
    input.reset();
    target.reset();
    weight.reset();
  }
};

// A PointwiseSaved unpacked by its node when backward runs (which checks that none of its tensors
// was modified in place since the forward).
struct PointwiseTensors {
  PointwiseTensors(const PointwiseSaved& saved, Node& node)
      : input(saved.input.unpack(node)), target(saved.target.unpack(node)), weight(saved.weight.unpack(node)),
        reduction(saved.reduction), divisor(saved.divisor) {}
  Tensor input, target, weight;
  Reduction reduction;
  double divisor;
  // Each element's upstream as a recorded tensor broadcasting against the input (kNone's own
  // upstream, or the reduced loss's 0-dim upstream over the divisor), times the weight when there is one.
  Tensor weighted_upstream(const Tensor& grad) const {
    const Tensor upstream = reduction == kNone ? grad : grad / divisor;
    return weight.defined() ? upstream * weight : upstream;
  }
};

// The gradients of input and target as a Backward returns them, each computed only when needed.
template <class InputGradient, class TargetGradient>
gradient_list needed(const Node& node, InputGradient input_gradient, TargetGradient target_gradient) {
  gradient_list grads(2);
  if (node.needs_input_grad(0)) grads[0] = input_gradient();
  if (node.needs_input_grad(1)) grads[1] = target_gradient();
  return grads;
}

// ---- binary_cross_entropy ----------------------------------------------------------------------

// d/dx = w (x - y) / max(x (1 - x), 1e-12);  d/dy = w (log(1 - x) - log(x)) = -w logit(x)
struct BinaryCrossEntropyBackward final : Node {
  explicit BinaryCrossEntropyBackward(PointwiseSaved saved) : saved(std::move(saved)) {}
  const char* name() const override { return "BinaryCrossEntropyBackward0"; }
  const char* formula() const override {
    return "d bce(x, y)/d x = (x - y) / (x (1 - x)) * g / N\nd bce(x, y)/d y = (log(1 - x) - log(x)) * g / N";
  }
  gradient_list backward(const Tensor& grad) override {
    const PointwiseTensors saved(this->saved, *this);
    return gradients(grad, saved);
  }
  gradient_list gradients(const Tensor& grad, const PointwiseTensors& saved) const {
    const Tensor &x = saved.input, &y = saved.target;
    const Tensor factor = saved.weighted_upstream(grad);
    return needed(
        *this, [&] { return factor * (x - y) / clamp_min((1.0 - x) * x, static_cast<double>(1e-12f)); },
        [&] { return -(factor * log(x / (1.0 - x))); });
  }
  void release_saved() override { saved.release(); }
  PointwiseSaved saved;
};

}  // namespace

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction) {
  const char* op = "binary_cross_entropy";
  check_input_and_target(op, input, target, reduction);
  const Tensor w = expand_to_input(op, "weight", weight, input);
  const double divisor = reduction_divisor(reduction, input);
  Tensor out = visit_floating(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T *x = input.data<T>(), *y = target.data<T>(), *weights = data_or_null<T>(w);
    Array<T> losses = Array<T>::from_shape(input.shape());
    for (std::size_t i = 0; i < losses.size(); ++i) {
      if (!(x[i] >= T(0) && x[i] <= T(1)))  // written so that NaN fails too
        throw Error(concat(op, ": input values must be probabilities in [0, 1], got ", x[i], " at index ",
                           loss_detail::index_str(i, input.shape()), " (use binary_cross_entropy_with_logits for logits)"));
      // log clamped at -100, as in PyTorch: x = 0 or 1 gives a loss of at most 100, not inf.
      const T log_x = std::max(std::log(x[i]), T(-100)), log_1mx = std::max(std::log(T(1) - x[i]), T(-100));
      losses.data()[i] = weight_at(weights, i) * ((y[i] - T(1)) * log_1mx - y[i] * log_x);
    }
    return loss_detail::reduce_losses(std::move(losses), reduction, divisor);
  });
  if (any_requires_grad({&input, &target}))
    record(out,
                     make_node<BinaryCrossEntropyBackward>(
                         PointwiseSaved{input, target, w, reduction, divisor}),
                     {&input, &target});
  return out;
}

namespace {

// ---- binary_cross_entropy_with_logits ------------------------------------------------------------

// softplus(z) = log(1 + e^z) without overflow for large z. Written with log(1 + .) rather than
// log1p, as PyTorch's forward is, so a loss below 1e-16 rounds to exactly 0 there too.
template <class T>
T softplus(T z) {
  return std::max(z, T(0)) + std::log(T(1) + std::exp(-std::abs(z)));
}

// log sigmoid(z) = -softplus(-z), in the log1p form PyTorch's target gradient uses.
template <class T>
T log_sigmoid(T z) {
  return std::min(z, T(0)) - std::log1p(std::exp(-std::abs(z)));
}

// d log sigmoid(x) = g sigmoid(-x). Recorded only by the gradient of
// binary_cross_entropy_with_logits with pos_weight, whose target gradient needs log sigmoid of
// logits of any size; its own backward is composed of recorded ops too.
struct LogSigmoidBackward final : Node {
  explicit LogSigmoidBackward(const Tensor& input) : input(input, /*is_output=*/false) {}
  const char* name() const override { return "LogSigmoidBackward0"; }
  const char* formula() const override { return "d log_sigmoid(x) = g * sigmoid(-x)"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor input = this->input.unpack(*this);
    return {grad * sigmoid(-input)};
  }
  void release_saved() override { input.reset(); }
  SavedTensor input;
};

Tensor recorded_log_sigmoid(const Tensor& x) {
  Tensor out = visit_floating(x.dtype(), "log_sigmoid", [&](auto tag) {
    using T = decltype(tag);
    const T* values = x.data<T>();
    Array<T> result = Array<T>::from_shape(x.shape());
    for (std::size_t i = 0; i < result.size(); ++i) result.data()[i] = log_sigmoid(values[i]);
    return make_tensor(std::move(result));
  });
  if (any_requires_grad({&x})) record(out, make_node<LogSigmoidBackward>(x), {&x});
  return out;
}

// With p = pos_weight (1 when absent):
// d/dx = w [(p y + 1 - y) sigmoid(x) - p y];  d/dy = w [(p - 1) softplus(-x) - x]
//                                                  = w [log sigmoid(-x) - p log sigmoid(x)]
struct BinaryCrossEntropyWithLogitsBackward final : Node {
  BinaryCrossEntropyWithLogitsBackward(PointwiseSaved saved, const Tensor& pos_weight)
      : saved(std::move(saved)), pos_weight(pos_weight, /*is_output=*/false) {}
  const char* name() const override { return "BinaryCrossEntropyWithLogitsBackward0"; }
  // Without pos_weight (p = 1).
  const char* formula() const override {
    return "d bce_logits(z, y)/d z = (sigmoid(z) - y) * g / N\nd bce_logits(z, y)/d y = -z * g / N";
  }
  gradient_list backward(const Tensor& grad) override {
    const PointwiseTensors saved(this->saved, *this);
    const Tensor pos_weight = this->pos_weight.unpack(*this);
    return gradients(grad, saved, pos_weight);
  }
  // Without pos_weight the formulas are sigmoid(x) - y and -x.
  gradient_list gradients(const Tensor& grad, const PointwiseTensors& saved,
                                          const Tensor& pos_weight) const {
    const Tensor &x = saved.input, &y = saved.target;
    const Tensor factor = saved.weighted_upstream(grad);
    if (!pos_weight.defined())
      return needed(*this, [&] { return factor * (sigmoid(x) - y); }, [&] { return -(factor * x); });
    return needed(
        *this,
        [&] {
          const Tensor positive = pos_weight * y;
          return factor * ((positive + 1.0 - y) * sigmoid(x) - positive);
        },
        [&] { return factor * (recorded_log_sigmoid(-x) - pos_weight * recorded_log_sigmoid(x)); });
  }
  void release_saved() override {
    saved.release();
    pos_weight.reset();
  }
  PointwiseSaved saved;
  SavedTensor pos_weight;
};

}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction) {
  const char* op = "binary_cross_entropy_with_logits";
  check_input_and_target(op, input, target, reduction);
  const Tensor w = expand_to_input(op, "weight", weight, input);
  const Tensor pw = expand_to_input(op, "pos_weight", pos_weight, input);
  const double divisor = reduction_divisor(reduction, input);
  Tensor out = visit_floating(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T *x = input.data<T>(), *y = target.data<T>();
    const T *weights = data_or_null<T>(w), *pos_weights = data_or_null<T>(pw);
    Array<T> losses = Array<T>::from_shape(input.shape());
    for (std::size_t i = 0; i < losses.size(); ++i) {
      const T positive_scale = T(1) + (weight_at(pos_weights, i) - T(1)) * y[i];
      losses.data()[i] = weight_at(weights, i) * ((T(1) - y[i]) * x[i] + positive_scale * softplus(-x[i]));
    }
    return loss_detail::reduce_losses(std::move(losses), reduction, divisor);
  });
  if (any_requires_grad({&input, &target}))
    record(out,
                     make_node<BinaryCrossEntropyWithLogitsBackward>(
                         PointwiseSaved{input, target, w, reduction, divisor}, pw),
                     {&input, &target});
  return out;
}

namespace {

// ---- kl_div --------------------------------------------------------------------------------------

// log_target false: d/dx = -y, d/dy = log y + 1 - x (NaN at y == 0, as PyTorch 1.13's xlogy gives);
// log_target true:  d/dx = -e^y, d/dy = e^y (y - x + 1)
struct KlDivBackward final : Node {
  KlDivBackward(PointwiseSaved saved, bool log_target) : saved(std::move(saved)), log_target(log_target) {}
  const char* name() const override { return "KlDivBackward0"; }
  const char* formula() const override {
    return log_target ? "d kl_div(x, y)/d x = -exp(y) * g / N\nd kl_div(x, y)/d y = exp(y) (y - x + 1) * g / N"
                      : "d kl_div(x, y)/d x = -y * g / N\nd kl_div(x, y)/d y = (log(y) + 1 - x) * g / N";
  }
  gradient_list backward(const Tensor& grad) override {
    const PointwiseTensors saved(this->saved, *this);
    return gradients(grad, saved);
  }
  // NaN included, as the formula above says
  gradient_list gradients(const Tensor& grad, const PointwiseTensors& saved) const {
    const Tensor &x = saved.input, &y = saved.target;
    const Tensor upstream = saved.weighted_upstream(grad);
    if (log_target)
      return needed(*this, [&] { return -(upstream * exp(y)); }, [&] { return upstream * exp(y) * (y - x + 1.0); });
    return needed(*this, [&] { return -(upstream * y); }, [&] {
      return masked_fill((log(y) + 1.0 - x) * upstream, y.detach() == 0.0, std::numeric_limits<double>::quiet_NaN());
    });
  }
  void release_saved() override { saved.release(); }
  PointwiseSaved saved;
  bool log_target;
};

}  // namespace

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  const char* op = "kl_div";
  check_input_and_target(op, input, target, reduction, /*allow_batchmean=*/true);
  const double divisor = reduction_divisor(reduction, input);
  Tensor out = visit_floating(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T *x = input.data<T>(), *y = target.data<T>();
    Array<T> losses = Array<T>::from_shape(input.shape());
    for (std::size_t i = 0; i < losses.size(); ++i) {
      if (log_target) {
        losses.data()[i] = std::exp(y[i]) * (y[i] - x[i]);
      } else {
        // y log y is taken as 0 at y == 0 (its limit), as PyTorch's xlogy does.
        const T y_log_y = y[i] == T(0) ? T(0) : y[i] * std::log(y[i]);
        losses.data()[i] = y_log_y - y[i] * x[i];
      }
    }
    return loss_detail::reduce_losses(std::move(losses), reduction, divisor);
  });
  if (any_requires_grad({&input, &target}))
    record(out,
                     make_node<KlDivBackward>(
                         PointwiseSaved{input, target, Tensor(), reduction, divisor}, log_target),
                     {&input, &target});
  return out;
}

namespace {

// ---- mse_loss ------------------------------------------------------------------------------------

// d/dx = 2 (x - y);  d/dy = -2 (x - y)
struct MseLossBackward final : Node {
  explicit MseLossBackward(PointwiseSaved saved) : saved(std::move(saved)) {}
  const char* name() const override { return "MseLossBackward0"; }
  const char* formula() const override {
    return "d mse(x, y)/d x = 2 (x - y) * g / N\nd mse(x, y)/d y = -2 (x - y) * g / N";
  }
  gradient_list backward(const Tensor& grad) override {
    const PointwiseTensors saved(this->saved, *this);
    return gradients(grad, saved);
  }
  gradient_list gradients(const Tensor& grad, const PointwiseTensors& saved) const {
    const Tensor input_grad = 2.0 * (saved.input - saved.target) * saved.weighted_upstream(grad);
    return needed(*this, [&] { return input_grad; }, [&] { return -input_grad; });
  }
  void release_saved() override { saved.release(); }
  PointwiseSaved saved;
};

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  const char* op = "mse_loss";
  check_input_and_target(op, input, target, reduction);
  const double divisor = reduction_divisor(reduction, input);
  Tensor out = visit_floating(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T *x = input.data<T>(), *y = target.data<T>();
    Array<T> losses = Array<T>::from_shape(input.shape());
    for (std::size_t i = 0; i < losses.size(); ++i) losses.data()[i] = (x[i] - y[i]) * (x[i] - y[i]);
    return loss_detail::reduce_losses(std::move(losses), reduction, divisor);
  });
  if (any_requires_grad({&input, &target}))
    record(out,
                     make_node<MseLossBackward>(
                         PointwiseSaved{input, target, Tensor(), reduction, divisor}),
                     {&input, &target});
  return out;
}

}  // namespace xgrad
