#include <xgrad/optim/rmsprop.hpp>

#include <cmath>

#include <xgrad/core/error.hpp>
#include <xgrad/optim/update_impl.hpp>

namespace xgrad::optim {

namespace {

template <class T>
struct RMSpropCoefficients {
  explicit RMSpropCoefficients(const RMSpropOptions& options)
      : sign(options.maximize() ? T(-1) : T(1)),
        weight_decay(static_cast<T>(options.weight_decay())),
        alpha(static_cast<T>(options.alpha())),
        one_minus_alpha(static_cast<T>(1.0 - options.alpha())),
        eps(static_cast<T>(options.eps())),
        momentum(static_cast<T>(options.momentum())),
        minus_lr(static_cast<T>(-options.lr())) {}
  T sign;  // -1 to maximize (-1 * g is exactly -g)
  T weight_decay;
  T alpha, one_minus_alpha;
  T eps;
  T momentum;
  T minus_lr;
};

// rmsprop.hpp's rule for every element, in the order of PyTorch's _single_tensor_rmsprop:
// square_avg.mul_(alpha).addcmul_(d, d, value=1-alpha); grad_avg.mul_(alpha).add_(d, alpha=1-alpha);
// avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(eps);
// buf.mul_(momentum).addcdiv_(d, avg); p.add_(buf, alpha=-lr), or p.addcdiv_(d, avg, value=-lr).
template <class T, bool kWeightDecay, bool kCentered, bool kMomentum>
void update_elements(T* p, const T* g, T* square_avg, T* grad_avg, T* buffer, std::size_t n,
                     const RMSpropCoefficients<T>& c) {
  for (std::size_t i = 0; i < n; ++i) {
    T d = c.sign * g[i];
    if constexpr (kWeightDecay) d += c.weight_decay * p[i];
    square_avg[i] = square_avg[i] * c.alpha + c.one_minus_alpha * d * d;
    T variance = square_avg[i];
    if constexpr (kCentered) {
      grad_avg[i] = grad_avg[i] * c.alpha + c.one_minus_alpha * d;
      variance = square_avg[i] + T(-1) * grad_avg[i] * grad_avg[i];
    }
    const T avg = std::sqrt(variance) + c.eps;
    if constexpr (kMomentum) {
      buffer[i] = buffer[i] * c.momentum + d / avg;
      p[i] = p[i] + c.minus_lr * buffer[i];
    } else {
      p[i] = p[i] + c.minus_lr * d / avg;
    }
  }
}

}  // namespace

std::vector<OptionSlot> RMSpropOptions::option_slots() {
  return {{"lr", &lr_}, {"alpha", &alpha_}, {"eps", &eps_}, {"weight_decay", &weight_decay_},
          {"momentum", &momentum_}, {"centered", &centered_}, {"maximize", &maximize_}};
}

bool operator==(const RMSpropOptions& a, const RMSpropOptions& b) {
  return a.lr() == b.lr() && a.alpha() == b.alpha() && a.eps() == b.eps() && a.weight_decay() == b.weight_decay() &&
         a.momentum() == b.momentum() && a.centered() == b.centered() && a.maximize() == b.maximize();
}

RMSprop::RMSprop(std::vector<OptimizerParamGroup> param_groups, RMSpropOptions defaults)
    : Optimizer(std::make_unique<RMSpropOptions>(defaults), "RMSprop") {
  check_options(defaults);
  add_param_groups(param_groups);
}

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions defaults)
    : RMSprop(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

bool RMSprop::accepts(const OptimizerOptions& options) const {
  return dynamic_cast<const RMSpropOptions*>(&options);
}

void RMSprop::check_options(const OptimizerOptions& group_options) const {
  const auto& options = static_cast<const RMSpropOptions&>(group_options);
  check(options.lr() >= 0.0, "RMSprop: invalid learning rate ", options.lr(), " (lr must be >= 0)");
  check(options.eps() >= 0.0, "RMSprop: invalid epsilon value ", options.eps(), " (eps must be >= 0)");
  check(options.momentum() >= 0.0, "RMSprop: invalid momentum ", options.momentum(), " (must be >= 0)");
  check(options.weight_decay() >= 0.0, "RMSprop: invalid weight_decay ", options.weight_decay(), " (must be >= 0)");
  check(options.alpha() >= 0.0, "RMSprop: invalid alpha ", options.alpha(), " (must be >= 0)");
}

void RMSprop::update(Tensor& parameter, const Tensor& grad, ParamState& state, const OptimizerOptions& group_options) {
  const auto& options = static_cast<const RMSpropOptions&>(group_options);
  const bool centered = options.centered();
  const bool momentum = options.momentum() > 0.0;
  state_tensor(state.square_avg, parameter);
  if (centered) state_tensor(state.grad_avg, parameter);
  if (momentum) state_tensor(state.momentum_buffer, parameter);
  ++state.step;
  const auto n = static_cast<std::size_t>(parameter.numel());
  with_element_type(parameter.dtype(), [&](auto type) {
    using T = decltype(type);
    const RMSpropCoefficients<T> coefficients(options);
    T* grad_avg = centered ? state.grad_avg.mutable_data<T>() : nullptr;
    T* buffer = momentum ? state.momentum_buffer.mutable_data<T>() : nullptr;
    with_flag(options.weight_decay() != 0.0, [&](auto weight_decay) {
      with_flag(centered, [&](auto centered_flag) {
        with_flag(momentum, [&](auto momentum_flag) {
          update_elements<T, decltype(weight_decay)::value, decltype(centered_flag)::value,
                          decltype(momentum_flag)::value>(parameter.mutable_data<T>(), grad.data<T>(),
                                                          state.square_avg.mutable_data<T>(), grad_avg, buffer, n,
                                                          coefficients);
        });
      });
    });
  });
}

}  // namespace xgrad::optim
