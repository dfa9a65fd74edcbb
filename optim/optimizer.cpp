#include <xgrad/optim/optimizer.hpp>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/optim/update_impl.hpp>

namespace xgrad::optim {

// ---- OptimizerOptions, OptimizerParamGroup, ParamState ----------------------------------------

std::unique_ptr<OptimizerOptions> OptimizerOptions::clone() const {
  throw Error("OptimizerOptions::clone: these options do not implement clone() (derive them from "
              "OptimizerCloneableOptions<YourOptions>)");
}

double OptimizerOptions::get_lr() const {
  throw Error("OptimizerOptions::get_lr: these options do not implement get_lr()");
}

void OptimizerOptions::set_lr(double) {
  throw Error("OptimizerOptions::set_lr: these options do not implement set_lr()");
}

std::vector<OptionSlot> OptimizerOptions::option_slots() { return {}; }

OptimizerParamGroup::OptimizerParamGroup(const OptimizerParamGroup& other)
    : params_(other.params_),
      options_(other.has_options() ? other.options_->clone() : nullptr),
      initial_lr_(other.initial_lr_) {}

OptimizerParamGroup& OptimizerParamGroup::operator=(const OptimizerParamGroup& other) {
  if (this != &other) {
    params_ = other.params_;
    options_ = other.has_options() ? other.options_->clone() : nullptr;
    initial_lr_ = other.initial_lr_;
  }
  return *this;
}

OptimizerOptions& OptimizerParamGroup::options() {
  check(has_options(), "OptimizerParamGroup::options: this group has no options yet (an optimiser gives it a copy "
        "of its defaults when the group is added)");
  return *options_;
}

const OptimizerOptions& OptimizerParamGroup::options() const {
  return const_cast<OptimizerParamGroup&>(*this).options();
}

std::array<std::pair<const char*, Tensor*>, 7> ParamState::tensors() {
  return {{{"momentum_buffer", &momentum_buffer},
           {"exp_avg", &exp_avg},
           {"exp_avg_sq", &exp_avg_sq},
           {"max_exp_avg_sq", &max_exp_avg_sq},
           {"square_avg", &square_avg},
           {"grad_avg", &grad_avg},
           {"sum", &sum}}};
}

std::array<std::pair<const char*, const Tensor*>, 7> ParamState::tensors() const {
  std::array<std::pair<const char*, const Tensor*>, 7> slots;
  const auto mutable_slots = const_cast<ParamState&>(*this).tensors();
  for (std::size_t i = 0; i < slots.size(); ++i) slots[i] = {mutable_slots[i].first, mutable_slots[i].second};
  return slots;
}

// ---- Optimizer ---------------------------------------------------------------------------------

Optimizer::Optimizer(std::unique_ptr<OptimizerOptions> defaults, std::string name)
    : defaults_(std::move(defaults)), name_(std::move(name)) {
  check(defaults_ != nullptr, name_, ": the default options are null");
}

Optimizer::Optimizer(std::vector<OptimizerParamGroup> param_groups, std::unique_ptr<OptimizerOptions> defaults)
    : Optimizer(std::move(defaults), "Optimizer") {
  add_param_groups(param_groups);
}

Optimizer::Optimizer(std::vector<Tensor> parameters, std::unique_ptr<OptimizerOptions> defaults)
    : Optimizer({OptimizerParamGroup(std::move(parameters))}, std::move(defaults)) {}

void Optimizer::add_param_groups(const std::vector<OptimizerParamGroup>& param_groups) {
  for (const OptimizerParamGroup& group : param_groups) add_param_group(group);
  // Python's rule and words (libtorch 1.13 accepts it, and such an optimiser's step does nothing): the
  // usual cause is a layer kept as a member but never passed to register_module.
  check(size() > 0, name_, ": optimizer got an empty parameter list; was every submodule registered with "
        "register_module? Module::parameters() sees only registered ones");
}

void Optimizer::check_parameter(const Tensor& parameter, std::size_t index) const {
  check(parameter.defined(), name_, ": parameter ", index, " is an undefined tensor");
  check(is_floating(parameter.dtype()), name_, ": parameter ", index, " (", parameter.name(),
        ") must be float32 or float64, got ", dtype_name(parameter.dtype()));
  check(parameter.is_leaf(), name_, ": parameter ", index, " (", parameter.name(),
        ") is not a leaf tensor; an optimiser can only update leaves");
  // PyTorch raises for a parameter in two groups (and warns for one twice in a group); either way
  // it would be updated twice per step, so both are errors here.
  std::size_t other = 0;
  for (const OptimizerParamGroup& group : param_groups_)
    for (const Tensor& existing : group.params()) {
      check(existing.impl() != parameter.impl(), name_, ": parameter ", index, " (", parameter.name(),
            ") is the same tensor as parameter ", other, "; a parameter can appear only once in an optimiser");
      ++other;
    }
}

void Optimizer::check_new_parameters(const std::vector<Tensor>& parameters, std::size_t first) const {
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    check_parameter(parameters[i], first + i);
    for (std::size_t j = 0; j < i; ++j)
      check(parameters[j].impl() != parameters[i].impl(), name_, ": parameter ", first + i, " (", parameters[i].name(),
            ") is the same tensor as parameter ", first + j, "; a parameter can appear only once in an optimiser");
  }
}

void Optimizer::add_param_group(const OptimizerParamGroup& param_group) {
  check_new_parameters(param_group.params(), size());
  OptimizerParamGroup group(param_group.params(),
                            param_group.has_options() ? param_group.options().clone() : defaults_->clone());
  if (param_group.initial_lr()) group.set_initial_lr(*param_group.initial_lr());
  check(accepts(group.options()), name_, ": parameter group ", param_groups_.size(),
        " holds the options of another optimiser; ", name_, " needs ", name_, "Options");
  check_options(group.options());
  std::vector<ParamState> new_states(group.params().size());
  for (std::size_t i = 0; i < new_states.size(); ++i) init_state(group.params()[i], new_states[i], group.options());
  // Nothing is changed until every check has passed.
  param_groups_.push_back(std::move(group));
  state_.insert(state_.end(), new_states.begin(), new_states.end());
}

void Optimizer::add_parameters(const std::vector<Tensor>& parameters) {
  if (param_groups_.empty()) return add_param_group(OptimizerParamGroup(parameters));
  // They join the first group, so in the numbering they come right after its last parameter.
  OptimizerParamGroup& first_group = param_groups_.front();
  const std::size_t position = first_group.params().size();
  check_new_parameters(parameters, position);
  std::vector<ParamState> new_states(parameters.size());
  for (std::size_t i = 0; i < parameters.size(); ++i) init_state(parameters[i], new_states[i], first_group.options());
  first_group.params().insert(first_group.params().end(), parameters.begin(), parameters.end());
  state_.insert(state_.begin() + static_cast<std::ptrdiff_t>(position), new_states.begin(), new_states.end());
}

void Optimizer::zero_grad() {
  for (OptimizerParamGroup& group : param_groups_)
    for (Tensor& parameter : group.params()) parameter.zero_grad();
}

const std::vector<Tensor>& Optimizer::parameters() const noexcept { return param_groups_.front().params(); }

std::vector<Tensor>& Optimizer::parameters() noexcept { return param_groups_.front().params(); }

std::size_t Optimizer::size() const noexcept {
  std::size_t count = 0;
  for (const OptimizerParamGroup& group : param_groups_) count += group.params().size();
  return count;
}

void Optimizer::check_before_step() const {
  for (std::size_t g = 0; g < param_groups_.size(); ++g)
    check(accepts(param_groups_[g].options()), name_, ": parameter group ", g,
          " holds the options of another optimiser; ", name_, " needs ", name_, "Options");
  std::size_t index = 0;
  for (const OptimizerParamGroup& group : param_groups_)
    for (const Tensor& parameter : group.params()) {
      const ParamState& state = state_[index++];
      const Tensor& grad = parameter.impl()->grad;
      if (!grad.defined()) continue;
      // The engine guarantees a gradient's shape; this is for hand-set gradients and restored state.
      if (!same_dtype_and_shape(grad, parameter))
        throw Error(concat(name_, ": parameter ", index - 1, " (", parameter.name(), ") of shape ",
                           shape_str(parameter.shape()), " (", dtype_name(parameter.dtype()),
                           ") has a gradient of shape ", shape_str(grad.shape()), " (", dtype_name(grad.dtype()), ")"));
      for (const auto& [slot_name, slot] : state.tensors())
        if (slot->defined() && !same_dtype_and_shape(*slot, parameter))
          throw Error(concat(name_, ": state '", slot_name, "' of parameter ", index - 1, " (", parameter.name(),
                             ") has shape ", shape_str(slot->shape()), " (", dtype_name(slot->dtype()),
                             "), the parameter ", shape_str(parameter.shape()), " (",
                             dtype_name(parameter.dtype()), ")"));
    }
}

Tensor Optimizer::step(LossClosure closure) {
  Tensor loss;
  if (closure) {
    AutoGradMode enable_grad(true);
    loss = closure();
  }
  // Parameters pushed straight into a group's params() get a fresh state here.
  if (state_.size() != size()) state_.resize(size());
  // Every check comes first, so that an error leaves every parameter as it was.
  check_before_step();
  std::size_t index = 0;
  for (OptimizerParamGroup& group : param_groups_) {
    const OptimizerOptions& options = group.options();
    for (Tensor& parameter : group.params()) {
      ParamState& state = state_[index++];
      const Tensor grad = parameter.grad();
      if (!grad.defined()) continue;
      update(parameter, grad, state, options);
      // What an in-place op does: a graph that saved the old values can no longer run backward.
      parameter.impl()->storage->bump_version();
    }
  }
  return loss;
}

void Optimizer::check_options(const OptimizerOptions&) const {}

void Optimizer::init_state(const Tensor&, ParamState&, const OptimizerOptions&) {}

void Optimizer::update(Tensor&, const Tensor&, ParamState&, const OptimizerOptions&) {
  throw Error(concat(name_, ": this optimiser overrides neither step() nor update()"));
}

bool Optimizer::accepts(const OptimizerOptions&) const { return true; }

Tensor& state_tensor(Tensor& slot, const Tensor& parameter, double fill) {
  if (slot.defined()) return slot;
  const buffer_cache::LongLivedAllocations kept_for_the_whole_training;
  slot = full(parameter.sizes(), fill, parameter.dtype());
  return slot;
}

}  // namespace xgrad::optim
