#include "nn/module.hpp"

#include <algorithm>
#include <ostream>
#include <unordered_set>

#include "core/tensor_impl.hpp"

namespace xgrad::nn {

namespace {

template <class T, class U>
Array<U> converted(const Array<T>& values) {
  Array<U> result = Array<U>::from_shape(values.shape());
  std::copy(values.begin(), values.end(), result.begin());
  return result;
}

// Replaces the tensor's storage with a copy in `dtype`; every handle on the tensor sees it.
void convert_in_place(Tensor& tensor, Dtype dtype) {
  if (tensor.dtype() == dtype) return;
  visit_floating(tensor.dtype(), "Module::to", [&](auto from) {
    visit_floating(dtype, "Module::to", [&](auto to) {
      using From = decltype(from);
      using To = decltype(to);
      tensor.impl()->storage =
          std::make_shared<Storage>(std::in_place_type<Array<To>>, converted<From, To>(array<From>(tensor)));
    });
  });
  tensor.zero_grad();
}

}  // namespace

Tensor Module::forward(const Tensor&) {
  throw Error(concat(name(), ": this module has no one-input forward(input); call it with the arguments it "
                             "takes (the losses take (input, target))"));
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> result;
  for (auto& named : named_parameters()) result.push_back(std::move(named.second));
  return result;
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> result;
  std::unordered_set<const TensorImpl*> seen;
  collect_parameters("", seen, result);
  return result;
}

// Own parameters come first, then each child's, as in PyTorch. A tensor already seen is skipped: a
// layer shared by two parents is trained once (PyTorch's named_parameters(remove_duplicate=True)).
void Module::collect_parameters(const std::string& prefix, std::unordered_set<const TensorImpl*>& seen,
                                std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, parameter] : parameters_)
    if (seen.insert(parameter.impl()).second) out.emplace_back(prefix + name, parameter);
  for (const auto& [name, child] : children_) child->collect_parameters(prefix + name + ".", seen, out);
}

void Module::zero_grad() {
  for (Tensor& parameter : parameters()) parameter.zero_grad();
}

void Module::train(bool on) {
  training_ = on;
  for (auto& child : children_) child.second->train(on);
}

void Module::to(Dtype dtype) {
  check(is_floating(dtype), name(), "::to: parameters must be float32 or float64, got ", dtype_name(dtype));
  for (Tensor& parameter : parameters()) convert_in_place(parameter, dtype);
}

void Module::pretty_print(std::ostream& out) const { out << name() << "()"; }

void Module::print_tree(std::ostream& out, int indent) const {
  if (children_.empty()) {
    pretty_print(out);
    return;
  }
  out << name() << "(\n";
  for (const auto& [child_name, child] : children_) {
    out << std::string(indent + 2, ' ') << '(' << child_name << "): ";
    child->print_tree(out, indent + 2);
    out << '\n';
  }
  out << std::string(indent, ' ') << ')';
}

Tensor Module::register_parameter(std::string name, Tensor parameter) {
  check(parameter.defined(), this->name(), ": register_parameter(\"", name, "\") got an undefined tensor");
  check(parameter.is_leaf(), this->name(), ": parameter \"", name,
        "\" must be a leaf tensor (detach() it from the graph first)");
  parameter.requires_grad_(true);
  parameter.set_name(name);
  parameters_.emplace_back(std::move(name), std::move(parameter));
  return parameters_.back().second;  // a copy of the handle: both share one tensor
}

void Module::add_child(std::string name, std::shared_ptr<Module> child) {
  check(child != nullptr, this->name(), ": register_module(\"", name, "\") got a null module");
  for (auto& [parameter_name, parameter] : child->named_parameters()) parameter.set_name(name + "." + parameter_name);
  children_.emplace_back(std::move(name), std::move(child));
}

std::ostream& operator<<(std::ostream& out, const Module& module) {
  module.print_tree(out, 0);
  return out;
}

}  // namespace xgrad::nn
