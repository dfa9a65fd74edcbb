#include <xgrad/optim/adagrad.hpp>

#include <cmath>

#include <xgrad/core/error.hpp>
#include <xgrad/optim/update_impl.hpp>

namespace xgrad::optim {

namespace {

template <class T>
struct AdagradCoefficients {
  AdagradCoefficients(const AdagradOptions& options, std::int64_t step)
      : sign(options.maximize() ? T(-1) : T(1)),
        weight_decay(static_cast<T>(options.weight_decay())),
        eps(static_cast<T>(options.eps())),
        minus_clr(static_cast<T>(-(options.lr() / (1.0 + static_cast<double>(step - 1) * options.lr_decay())))) {}
  T sign;  // -1 to maximize (-1 * g is exactly -g)
  T weight_decay;
  T eps;
  T minus_clr;  // -lr / (1 + (t - 1) lr_decay)
};

// adagrad.hpp's rule for every element, in the order of PyTorch's _single_tensor_adagrad:
// state_sum.addcmul_(d, d, value=1); std = state_sum.sqrt().add_(eps); p.addcdiv_(d, std, value=-clr).
template <class T, bool kWeightDecay>
void update_elements(T* p, const T* g, T* sum, std::size_t n, const AdagradCoefficients<T>& c) {
  for (std::size_t i = 0; i < n; ++i) {
    T d = c.sign * g[i];
    if constexpr (kWeightDecay) d += c.weight_decay * p[i];
    sum[i] = sum[i] + d * d;
    const T root = std::sqrt(sum[i]) + c.eps;
    p[i] = p[i] + c.minus_clr * d / root;
  }
}

}  // namespace

std::vector<OptionSlot> AdagradOptions::option_slots() {
  return {{"lr", &lr_}, {"lr_decay", &lr_decay_}, {"weight_decay", &weight_decay_},
          {"initial_accumulator_value", &initial_accumulator_value_}, {"eps", &eps_},
          {"maximize", &maximize_}};
}

bool operator==(const AdagradOptions& a, const AdagradOptions& b) {
  return a.lr() == b.lr() && a.lr_decay() == b.lr_decay() && a.weight_decay() == b.weight_decay() &&
         a.initial_accumulator_value() == b.initial_accumulator_value() && a.eps() == b.eps() &&
         a.maximize() == b.maximize();
}

Adagrad::Adagrad(std::vector<OptimizerParamGroup> param_groups, AdagradOptions defaults)
    : Optimizer(std::make_unique<AdagradOptions>(defaults), "Adagrad") {
  check_options(defaults);
  add_param_groups(param_groups);
}

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions defaults)
    : Adagrad(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

bool Adagrad::accepts(const OptimizerOptions& options) const {
  return dynamic_cast<const AdagradOptions*>(&options);
}

void Adagrad::check_options(const OptimizerOptions& group_options) const {
  const auto& options = static_cast<const AdagradOptions&>(group_options);
  check(options.lr() >= 0.0, "Adagrad: invalid learning rate ", options.lr(), " (lr must be >= 0)");
  check(options.lr_decay() >= 0.0, "Adagrad: invalid lr_decay ", options.lr_decay(), " (must be >= 0)");
  check(options.weight_decay() >= 0.0, "Adagrad: invalid weight_decay ", options.weight_decay(), " (must be >= 0)");
  check(options.initial_accumulator_value() >= 0.0, "Adagrad: invalid initial_accumulator_value ",
        options.initial_accumulator_value(), " (must be >= 0)");
  check(options.eps() >= 0.0, "Adagrad: invalid epsilon value ", options.eps(), " (eps must be >= 0)");
}

void Adagrad::init_state(const Tensor& parameter, ParamState& state, const OptimizerOptions& group_options) {
  const auto& options = static_cast<const AdagradOptions&>(group_options);
  state_tensor(state.sum, parameter, options.initial_accumulator_value());
}

void Adagrad::update(Tensor& parameter, const Tensor& grad, ParamState& state, const OptimizerOptions& group_options) {
  const auto& options = static_cast<const AdagradOptions&>(group_options);
  // Created by the constructor; again here only for a state a checkpoint left without one.
  state_tensor(state.sum, parameter, options.initial_accumulator_value());
  ++state.step;
  with_element_type(parameter.dtype(), [&](auto type) {
    using T = decltype(type);
    const AdagradCoefficients<T> coefficients(options, state.step);
    with_flag(options.weight_decay() != 0.0, [&](auto weight_decay) {
      update_elements<T, decltype(weight_decay)::value>(parameter.mutable_data<T>(), grad.data<T>(),
                                                         state.sum.mutable_data<T>(),
                                                         static_cast<std::size_t>(parameter.numel()), coefficients);
    });
  });
}

}  // namespace xgrad::optim
