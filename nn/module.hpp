#pragma once
// Module: the base of every layer, activation and loss, as torch::nn::Module.
//
//   struct TwoLayer : nn::Module {
//     TwoLayer() : fc1(register_module("fc1", std::make_shared<nn::Linear>(2, 8))),
//                  fc2(register_module("fc2", std::make_shared<nn::Linear>(8, 3))) {}
//     Tensor forward(const Tensor& x) override { return fc2->forward(xgrad::relu(fc1->forward(x))); }
//     std::shared_ptr<nn::Linear> fc1, fc2;
//   };
//
// A module owns parameters (leaf tensors that require grad, registered under a name) and child
// modules (registered under a name too). named_parameters() walks both, own parameters first, and
// joins names with dots, so the first Linear of a Sequential owns "0.weight" and "0.bias", as in
// PyTorch's state_dict. Parameters are also labelled with those names (Tensor::name) for to_dot.
//
// Copying a module copies handles: parameters are Tensors and children are shared_ptrs, so a copy
// trains the same weights as the original (libtorch's module holders behave the same way). Two
// independent models are two constructions.
#include <iosfwd>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "../core/dtype.hpp"
#include "../core/tensor.hpp"

namespace xgrad::nn {

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = default;
  Module& operator=(const Module&) = default;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  // The module's type as PyTorch prints it: "Linear", "Sequential", "ReLU", ... (used in messages).
  virtual const char* name() const { return "Module"; }

  // The computation of a one-input module. Modules that take more (the losses take input and
  // target) define their own forward and call operator; this one throws for them, as PyTorch's
  // Module.forward does when a module has none.
  virtual Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input) { return forward(input); }

  // Every parameter of this module and its descendants, each once, in registration order.
  std::vector<Tensor> parameters() const;
  // The same with PyTorch's dotted names: "weight", "0.bias", "encoder.2.weight".
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  // Direct children with their names ("0", "1", ... in a Sequential).
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }

  // Drops every parameter's gradient (grad() becomes undefined, PyTorch's set_to_none).
  void zero_grad();
  // Training or evaluation mode, for this module and every descendant. None of xgrad's layers
  // behaves differently yet; the flag is there for modules that do (dropout, batch norm).
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Converts every parameter to dtype in place (as torch::nn::Module::to): handles held elsewhere,
  // an optimiser's included, see the converted values. Gradients are dropped.
  void to(Dtype dtype);

  // One line per module, indented like PyTorch's repr: "Linear(in_features=2, out_features=4, bias=true)".
  virtual void pretty_print(std::ostream& out) const;

 protected:
  // Makes `parameter` a leaf that requires grad, labels it with `name` and appends it. Returns the
  // handle so a subclass can keep it in a named member too (both share one tensor).
  Tensor register_parameter(std::string name, Tensor parameter);
  // Appends a child; its parameters are relabelled "<name>.<their name>". Returns the child with
  // its own type: `fc1 = register_module("fc1", std::make_shared<nn::Linear>(2, 8));`
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> child) {
    add_child(std::move(name), child);
    return child;
  }

 private:
  friend std::ostream& operator<<(std::ostream& out, const Module& module);
  void collect_parameters(const std::string& prefix, std::unordered_set<const TensorImpl*>& seen,
                          std::vector<std::pair<std::string, Tensor>>& out) const;
  void add_child(std::string name, std::shared_ptr<Module> child);
  void print_tree(std::ostream& out, int indent) const;

  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Prints the module tree, as Python's print(model).
std::ostream& operator<<(std::ostream& out, const Module& module);

}  // namespace xgrad::nn
