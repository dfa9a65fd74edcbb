#pragma once
// Optimizer: the base of every optimiser, shaped as libtorch 1.13's torch::optim::Optimizer.
//
//   optim::Adam opt(net->parameters(), optim::AdamOptions(1e-3));
//   for (...) { opt.zero_grad(); loss = ...; loss.backward(); opt.step(); }
//
// Parameters live in groups, each with its own options, so that parts of a model can train at
// different rates:
//
//   std::vector<optim::OptimizerParamGroup> groups;
//   groups.emplace_back(body.parameters());                                          // the defaults
//   groups.emplace_back(head.parameters(), std::make_unique<optim::AdamOptions>(1e-2));
//   optim::Adam opt(groups, optim::AdamOptions(1e-3));
//   static_cast<optim::AdamOptions&>(opt.param_groups()[1].options()).lr(1e-4);      // later
//
// A group given without options gets a copy of the optimiser's defaults; every group then owns its
// options, so changing one group's learning rate (a scheduler does it through get_lr/set_lr) leaves
// the others alone.
//
// What an optimiser remembers between steps is state(): one ParamState per parameter, numbered as
// PyTorch's state_dict numbers them: group 0's parameters in order, then group 1's, and so on.
// A checkpoint (xgrad::save, nn/serialize.hpp) saves it by iterating state()[i].tensors(), with
// each group's options through option_slots(), and restores it by assigning to them.
// (libtorch 1.13 keys its state() by each parameter's TensorImpl address, as a string, and keeps one
// state class per optimiser, AdamParamState and so on; xgrad uses PyTorch's numbering and one struct.)
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad::optim {

// One option of a parameter group as a checkpoint sees it (xgrad::save, nn/serialize.hpp): PyTorch's
// param_group key ("lr", "betas", "amsgrad", ...) and the member that holds its value.
struct OptionSlot {
  const char* name;
  std::variant<double*, bool*, std::tuple<double, double>*> value;
};

// The options of one parameter group. Each optimiser has its own options type (SGDOptions,
// AdamOptions, ...) deriving from this one; group.options() returns this base, and
// static_cast<AdamOptions&>(group.options()) reaches the optimiser's own fields, as in libtorch.
class OptimizerOptions {
 public:
  virtual ~OptimizerOptions() = default;
  // A copy of the options with their own type.
  virtual std::unique_ptr<OptimizerOptions> clone() const;
  // The learning rate, for code that works with any optimiser (learning-rate schedulers). The
  // defaults throw: every options type of xgrad overrides both.
  virtual double get_lr() const;
  virtual void set_lr(double lr);
  // Every option with its key, for checkpoints to read and assign. The default lists none (a
  // checkpoint then keeps no options for the group); every options type of xgrad lists all of its.
  virtual std::vector<OptionSlot> option_slots();
};

// Gives an options type its clone(), as libtorch's OptimizerCloneableOptions does.
template <class Derived>
class OptimizerCloneableOptions : public OptimizerOptions {
 public:
  std::unique_ptr<OptimizerOptions> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

// Parameters that share one set of options. Copying a group copies the parameter handles (they
// still name the same tensors) and clones the options.
class OptimizerParamGroup {
 public:
  OptimizerParamGroup(std::vector<Tensor> params) : params_(std::move(params)) {}  // NOLINT: implicit, as libtorch
  OptimizerParamGroup(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> options)
      : params_(std::move(params)), options_(std::move(options)) {}
  OptimizerParamGroup(const OptimizerParamGroup& other);
  OptimizerParamGroup& operator=(const OptimizerParamGroup& other);
  OptimizerParamGroup(OptimizerParamGroup&&) = default;
  OptimizerParamGroup& operator=(OptimizerParamGroup&&) = default;

  bool has_options() const { return options_ != nullptr; }
  // The group's options; an Error when it has none (a group not yet added to an optimiser).
  OptimizerOptions& options();
  const OptimizerOptions& options() const;
  void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }
  std::vector<Tensor>& params() { return params_; }
  const std::vector<Tensor>& params() const { return params_; }

  // The rate a learning-rate schedule starts from (Python's param_group["initial_lr"]): the first
  // scheduler made for the optimiser sets it to the group's rate then (OneCycleLR to its own start),
  // so that later schedulers, and SequentialLR going back to the start, count from the same rate.
  // Unset until then; checkpoints do not hold it (the scheduler's own entries do).
  const std::optional<double>& initial_lr() const { return initial_lr_; }
  void set_initial_lr(double lr) { initial_lr_ = lr; }

 private:
  std::vector<Tensor> params_;
  std::unique_ptr<OptimizerOptions> options_;
  std::optional<double> initial_lr_;
};

// What an optimiser remembers about one parameter between steps, under the names PyTorch's
// optimizer.state_dict() gives them. Each tensor has the parameter's shape and dtype; one that an
// optimiser does not use, or has not created yet, is undefined (PyTorch leaves the key out).
struct ParamState {
  // Steps this parameter has taken (PyTorch's "step"). Adam, AdamW, RMSprop and Adagrad count them;
  // SGD keeps no count, as PyTorch's SGD, and leaves it 0.
  std::int64_t step = 0;
  Tensor momentum_buffer;  // SGD and RMSprop with momentum
  Tensor exp_avg;          // Adam, AdamW: running average of the gradient
  Tensor exp_avg_sq;       // Adam, AdamW: running average of its square
  Tensor max_exp_avg_sq;   // Adam, AdamW with amsgrad: the largest exp_avg_sq seen
  Tensor square_avg;       // RMSprop: running average of the squared gradient
  Tensor grad_avg;         // RMSprop centered: running average of the gradient
  Tensor sum;              // Adagrad: sum of squared gradients

  // Every tensor slot with its PyTorch name, defined or not. A checkpoint writes the defined ones
  // and, to restore, assigns to the slots; step() checks a restored tensor's dtype and size
  // against its parameter and creates the ones left undefined, as on a first step.
  std::array<std::pair<const char*, Tensor*>, 7> tensors();
  std::array<std::pair<const char*, const Tensor*>, 7> tensors() const;
};

class Optimizer {
 public:
  // A loss function the optimiser may call (as PyTorch's closure): it should clear the gradients,
  // compute the loss, run backward and return the loss.
  using LossClosure = std::function<Tensor()>;

  // For optimisers written outside xgrad, as libtorch's: the groups are added with
  // add_param_group(); the parameters are handles, so step() writes the very tensors the model reads.
  Optimizer(std::vector<OptimizerParamGroup> param_groups, std::unique_ptr<OptimizerOptions> defaults);
  Optimizer(std::vector<Tensor> parameters, std::unique_ptr<OptimizerOptions> defaults);
  virtual ~Optimizer() = default;
  // Copying would share parameters but not state; move, or build another optimiser.
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  Optimizer(Optimizer&&) = default;
  Optimizer& operator=(Optimizer&&) = default;

  // One update from the gradients the last backward left; parameters without a gradient are skipped
  // (their state untouched). With a closure, first calls it with grad mode on (it is expected to run
  // backward) and returns its loss; without one returns an undefined Tensor. The update runs outside
  // the graph and writes each parameter in place (its version goes up, as after an in-place op).
  virtual Tensor step(LossClosure closure = nullptr);

  // Appends a group. Each parameter must be a defined float32/float64 leaf that is in no other
  // group; the group's options (or a copy of the defaults) are checked as the constructor's are.
  void add_param_group(const OptimizerParamGroup& param_group);
  // Appends parameters to the first group.
  void add_parameters(const std::vector<Tensor>& parameters);
  // Drops every parameter's gradient, so the next backward starts from nothing.
  void zero_grad();

  // The parameters of the first group (libtorch's meaning: all of them unless groups were given).
  const std::vector<Tensor>& parameters() const noexcept;
  std::vector<Tensor>& parameters() noexcept;
  // The number of parameters in all groups.
  std::size_t size() const noexcept;

  std::vector<OptimizerParamGroup>& param_groups() noexcept { return param_groups_; }
  const std::vector<OptimizerParamGroup>& param_groups() const noexcept { return param_groups_; }
  // The options a group added without its own gets a copy of.
  OptimizerOptions& defaults() noexcept { return *defaults_; }
  const OptimizerOptions& defaults() const noexcept { return *defaults_; }

  // One ParamState per parameter, in the order described at the top of this file.
  std::vector<ParamState>& state() noexcept { return state_; }
  const std::vector<ParamState>& state() const noexcept { return state_; }

  // The optimiser's name as PyTorch spells its class ("SGD", "Adam", ...), for messages.
  const std::string& name() const noexcept { return name_; }

 protected:
  // For xgrad's optimisers: the derived constructor checks `defaults`, then adds the groups itself,
  // so that add_param_group already reaches its check_options and init_state.
  Optimizer(std::unique_ptr<OptimizerOptions> defaults, std::string name);
  // Adds every group, then insists on at least one parameter in all.
  void add_param_groups(const std::vector<OptimizerParamGroup>& param_groups);

  // Throws Error (naming the optimiser, the option and its value) when the options are not this
  // optimiser's type or hold a value PyTorch's constructor rejects. The base accepts anything.
  virtual void check_options(const OptimizerOptions& options) const;
  // Creates what an optimiser keeps from the start rather than on a first step (Adagrad's sums).
  virtual void init_state(const Tensor& parameter, ParamState& state, const OptimizerOptions& options);
  // The update of one parameter that has a gradient: step() calls it with the parameter's group
  // options, after checking that the gradient matches the parameter in dtype and size.
  // Optimisers written outside xgrad may instead override step(); this default throws.
  virtual void update(Tensor& parameter, const Tensor& grad, ParamState& state, const OptimizerOptions& options);

  // Whether `options` are this optimiser's options type. step() checks every group with it before
  // any update, so update() may static_cast. The base accepts anything.
  virtual bool accepts(const OptimizerOptions& options) const;
  std::vector<OptimizerParamGroup> param_groups_;
  std::vector<ParamState> state_;
  std::unique_ptr<OptimizerOptions> defaults_;
  std::string name_;

 private:
  void check_before_step() const;
  // A parameter about to be added as number `index`: defined, floating, a leaf, not already in.
  void check_parameter(const Tensor& parameter, std::size_t index) const;
  // The same for a list numbered from `first`, which must not hold one tensor twice either.
  void check_new_parameters(const std::vector<Tensor>& parameters, std::size_t first) const;
};

}  // namespace xgrad::optim
