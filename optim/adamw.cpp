#include <xgrad/optim/adamw.hpp>

#include <xgrad/optim/adam_impl.hpp>

namespace xgrad::optim {

std::vector<OptionSlot> AdamWOptions::option_slots() {
  return {{"lr", &lr_}, {"betas", &betas_}, {"eps", &eps_}, {"weight_decay", &weight_decay_},
          {"amsgrad", &amsgrad_}, {"maximize", &maximize_}};
}

bool operator==(const AdamWOptions& a, const AdamWOptions& b) {
  return a.lr() == b.lr() && a.betas() == b.betas() && a.eps() == b.eps() && a.weight_decay() == b.weight_decay() &&
         a.amsgrad() == b.amsgrad() && a.maximize() == b.maximize();
}

AdamW::AdamW(std::vector<OptimizerParamGroup> param_groups, AdamWOptions defaults)
    : Optimizer(std::make_unique<AdamWOptions>(defaults), "AdamW") {
  check_options(defaults);
  add_param_groups(param_groups);
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions defaults)
    : AdamW(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

bool AdamW::accepts(const OptimizerOptions& options) const { return dynamic_cast<const AdamWOptions*>(&options); }

void AdamW::check_options(const OptimizerOptions& group_options) const {
  const auto& options = static_cast<const AdamWOptions&>(group_options);
  check_adam_options("AdamW", options.lr(), std::get<0>(options.betas()), std::get<1>(options.betas()),
                     options.eps(), options.weight_decay());
}

// Adam's loop with no L2 term and the parameter shrunk first: PyTorch's param.mul_(1 - lr * weight_decay).
void AdamW::update(Tensor& parameter, const Tensor& grad, ParamState& state, const OptimizerOptions& group_options) {
  const auto& options = static_cast<const AdamWOptions&>(group_options);
  const auto [beta1, beta2] = options.betas();
  adam_update(parameter, grad, state,
              AdamRule{options.lr(), beta1, beta2, options.eps(), 0.0, 1.0 - options.lr() * options.weight_decay(),
                       options.amsgrad(), options.maximize()});
}

}  // namespace xgrad::optim
