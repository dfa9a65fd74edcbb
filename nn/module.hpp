#pragma once
// Module: the base of every layer, activation, loss and container, as torch::nn::Module.
//
//   struct NetImpl : nn::Module {
//     NetImpl() {
//       fc1 = register_module("fc1", nn::Linear(2, 8));
//       fc2 = register_module("fc2", nn::Linear(8, 3));
//     }
//     Tensor forward(Tensor x) { return fc2(xgrad::relu(fc1(x))); }
//     nn::Linear fc1{nullptr}, fc2{nullptr};
//   };
//   XGRAD_MODULE(Net);                   // Net: the holder, see nn/module_holder.hpp
//
//   Net net;                             // a NetImpl on the heap
//   Tensor y = net(x);                   // NetImpl::forward
//   optim::SGD sgd(net->parameters(), 0.1);
//
// Module has no virtual forward: each module declares the forward it needs (by value, by const
// reference, with two inputs for a loss), the holder's operator() calls it, and Sequential captures
// it when a module is pushed (see nn/any_module.hpp).
//
// A module owns parameters (tensors that train), buffers (tensors that do not, such as running
// statistics) and child modules, each registered under a name. named_parameters() walks them,
// own entries first, and joins names with dots: the first Linear of a Sequential owns "0.weight"
// and "0.bias", as in PyTorch's state_dict. Parameters and buffers are also labelled with those
// names (Tensor::name) for to_dot.
//
// Copying a module copies handles: parameters are Tensors and children shared_ptrs, so a copy trains
// the same weights as the original. Two independent models are two constructions.
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <typeinfo>
#include <unordered_set>
#include <vector>

#include <xgrad/core/dtype.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/core/tensor_options.hpp>
#include <xgrad/nn/module_holder.hpp>
#include <xgrad/nn/ordered_dict.hpp>

namespace xgrad::nn {

class Module : public std::enable_shared_from_this<Module> {
 public:
  using ModuleApplyFunction = std::function<void(Module&)>;
  using ConstModuleApplyFunction = std::function<void(const Module&)>;
  using NamedModuleApplyFunction = std::function<void(const std::string&, Module&)>;
  using ConstNamedModuleApplyFunction = std::function<void(const std::string&, const Module&)>;
  using ModulePointerApplyFunction = std::function<void(const std::shared_ptr<Module>&)>;
  using NamedModulePointerApplyFunction = std::function<void(const std::string&, const std::shared_ptr<Module>&)>;

  // The name comes from the type (libtorch's "xgrad::nn::LinearImpl", "NetImpl") unless given here.
  Module() = default;
  explicit Module(std::string name) : name_(std::move(name)) {}
  virtual ~Module() = default;
  Module(const Module&) = default;
  Module& operator=(const Module&) = default;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  // As libtorch's: the name given to the constructor, else the C++ type with its namespace,
  // "xgrad::nn::LinearImpl" (libtorch's "torch::nn::LinearImpl"), "NetImpl".
  const std::string& name() const;
  // The type as PyTorch's Python prints it, which printing and error messages use: "Linear",
  // "Sequential", "Net" for a NetImpl (or the name given to the constructor).
  const std::string& display_name() const;

  // ---- registration ----------------------------------------------------------------------------
  // Names must be non-empty, contain no dot, and be new among this module's parameters, buffers
  // and children; otherwise Error, and nothing is registered.

  // Stores `tensor` as a parameter (a leaf; requires_grad as asked) and returns it:
  // `weight = register_parameter("weight", xgrad::randn({3, 4}));` keeps a handle in a member.
  // (The reference points into the module's table, which the next registration may move: copy
  // it, as that assignment does.) An undefined tensor (a layer built without bias) is kept under
  // its name but listed by no parameters() call, as in libtorch.
  Tensor& register_parameter(std::string name, Tensor tensor, bool requires_grad = true);
  // Stores a tensor that moves with the module (to(), save) but is not trained: running
  // statistics, masks.
  Tensor& register_buffer(std::string name, Tensor tensor);
  // Registers a child and returns it with its own type, so that a holder member can take it:
  // `fc = register_module("fc", nn::Linear(2, 8));`.
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    add_child(std::move(name), module, "register_module");
    return module;
  }
  template <class M>
  std::shared_ptr<M> register_module(std::string name, ModuleHolder<M> holder) {
    return register_module(std::move(name), holder.ptr());
  }
  // Puts `module` in place of the child registered under `name` (Error if there is none).
  template <class M>
  std::shared_ptr<M> replace_module(const std::string& name, std::shared_ptr<M> module) {
    replace_child(name, module);
    return module;
  }
  template <class M>
  std::shared_ptr<M> replace_module(const std::string& name, ModuleHolder<M> holder) {
    return replace_module(name, holder.ptr());
  }
  void unregister_module(const std::string& name);

  // ---- traversal ---------------------------------------------------------------------------------
  // recurse = false lists only this module's own entries. A tensor or module reached twice (a layer
  // shared by two parents) is listed once, where it is first reached, as in PyTorch.
  std::vector<Tensor> parameters(bool recurse = true) const;
  // PyTorch's dotted names: "weight", "0.bias", "encoder.2.weight".
  OrderedDict<std::string, Tensor> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  OrderedDict<std::string, Tensor> named_buffers(bool recurse = true) const;
  // Direct children with their names ("0", "1", ... in a Sequential).
  std::vector<std::shared_ptr<Module>> children() const;
  OrderedDict<std::string, std::shared_ptr<Module>> named_children() const;
  // Every module of the tree in pre-order, this one first (named "" or name_prefix). With
  // include_self the module must be owned by a shared_ptr (as holders and make_shared make it).
  std::vector<std::shared_ptr<Module>> modules(bool include_self = true) const;
  OrderedDict<std::string, std::shared_ptr<Module>> named_modules(const std::string& name_prefix = {},
                                                                  bool include_self = true) const;

  // Calls `function` on this module, then on every descendant in pre-order (as libtorch's apply).
  void apply(const ModuleApplyFunction& function);
  void apply(const ConstModuleApplyFunction& function) const;
  // The same with each module's dotted name (this one's is name_prefix).
  void apply(const NamedModuleApplyFunction& function, const std::string& name_prefix = {});
  void apply(const ConstNamedModuleApplyFunction& function, const std::string& name_prefix = {}) const;
  void apply(const ModulePointerApplyFunction& function) const;
  void apply(const NamedModulePointerApplyFunction& function, const std::string& name_prefix = {}) const;

  // This module as T (a module type, or a holder type: as<nn::Linear>() gives a LinearImpl*), or
  // nullptr when it is something else.
  template <class T>
  auto* as() noexcept {
    if constexpr (detail::is_module_holder_v<T>) {
      return dynamic_cast<typename T::ContainedType*>(this);
    } else {
      return dynamic_cast<T*>(this);
    }
  }
  template <class T>
  const auto* as() const noexcept {
    if constexpr (detail::is_module_holder_v<T>) {
      return dynamic_cast<const typename T::ContainedType*>(this);
    } else {
      return dynamic_cast<const T*>(this);
    }
  }

  // ---- state -----------------------------------------------------------------------------------
  // Training or evaluation mode, for this module and every descendant (dropout and batch norm
  // behave differently in each).
  virtual void train(bool on = true);
  void eval() { train(false); }
  virtual bool is_training() const noexcept { return is_training_; }

  // Drops every parameter's gradient (grad() becomes undefined) or, with set_to_none = false,
  // fills it with zeros in place. libtorch 2's default; libtorch 1.13 defaults to false.
  virtual void zero_grad(bool set_to_none = true);

  // Converts every parameter, and every floating-point buffer, to dtype in place (as
  // torch::nn::Module::to): handles held elsewhere, an optimiser's included, see the converted
  // values. Gradients are dropped. Integer buffers (counters) keep their dtype, as in PyTorch.
  virtual void to(Dtype dtype, bool non_blocking = false);
  // The CPU is the only device: to(kCPU) does nothing, to(kCUDA) is an Error.
  virtual void to(Device device, bool non_blocking = false);
  virtual void to(Device device, Dtype dtype, bool non_blocking = false);

  // This module alone on one line, as PyTorch's repr: "Linear(in_features=2, out_features=4,
  // bias=true)". The default prints "Name()". operator<< adds the children below.
  virtual void pretty_print(std::ostream& out) const;

 private:
  friend std::ostream& operator<<(std::ostream& out, const Module& module);

  void check_new_name(const std::string& name, const char* what) const;
  void add_child(std::string name, std::shared_ptr<Module> child, const char* what);
  void replace_child(const std::string& name, std::shared_ptr<Module> child);
  std::shared_ptr<Module> shared_from_this_checked(const char* what) const;
  void collect_tensors(bool parameters, const std::string& prefix, bool recurse,
                       std::unordered_set<const TensorImpl*>& seen, OrderedDict<std::string, Tensor>& out) const;
  void collect_modules(const std::string& prefix, std::unordered_set<const Module*>& seen,
                       OrderedDict<std::string, std::shared_ptr<Module>>& out) const;
  void print_tree(std::ostream& out, const std::string& indentation) const;
  // Relabels this module's tensors (and its descendants') as "<prefix><their dotted name>".
  void label_tensors(const std::string& prefix) const;

  OrderedDict<std::string, Tensor> parameters_{"Parameter"};
  OrderedDict<std::string, Tensor> buffers_{"Buffer"};
  OrderedDict<std::string, std::shared_ptr<Module>> children_{"Submodule"};
  std::string name_;
  // name() derived from the dynamic type is cached for that type: a base class's constructor sees
  // its own type, the finished module its final one.
  mutable std::string type_name_, full_type_name_;
  mutable const std::type_info* type_name_of_ = nullptr;
  bool is_training_ = true;
};

// Prints the module tree, as Python's print(model):
//   Sequential(
//     (0): Linear(in_features=2, out_features=4, bias=true)
//     (1): ReLU()
//   )
std::ostream& operator<<(std::ostream& out, const Module& module);

}  // namespace xgrad::nn
