#include <xgrad/nn/module.hpp>

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <ostream>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad::nn {

// ---- names ---------------------------------------------------------------------------------------

namespace {

std::string demangled(const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string result = status == 0 && name != nullptr ? name : type.name();
  std::free(name);
  return result;
}

}  // namespace

std::string module_type_name(const std::type_info& type) {
  std::string name = demangled(type);
  // Template arguments stay as they are; only the class's own qualification is dropped.
  const std::size_t arguments = name.find('<');
  const std::size_t qualification = name.rfind("::", arguments);
  if (qualification != std::string::npos) name.erase(0, qualification + 2);
  const std::size_t base_end = std::min(name.find('<'), name.size());
  const std::string suffix = "Impl";
  if (base_end > suffix.size() && name.compare(base_end - suffix.size(), suffix.size(), suffix) == 0)
    name.erase(base_end - suffix.size(), suffix.size());
  return name;
}

namespace detail {
void throw_empty_holder(const std::type_info& contained) {
  throw Error(concat("Accessing empty ModuleHolder (a ", module_type_name(contained),
                     " holder made from nullptr and never assigned a module)"));
}
}  // namespace detail

const std::string& Module::name() const {
  if (!name_.empty()) return name_;
  display_name();
  return full_type_name_;
}

const std::string& Module::display_name() const {
  if (!name_.empty()) return name_;
  const std::type_info& type = typeid(*this);
  if (type_name_of_ != &type) {
    type_name_ = module_type_name(type);
    full_type_name_ = demangled(type);
    type_name_of_ = &type;
  }
  return type_name_;
}

// ---- registration --------------------------------------------------------------------------------

namespace {

// What libtorch's messages call the thing being registered.
const char* kind_of_registration(const char* what) {
  const std::string call(what);
  return call == "register_parameter" ? "Parameter" : call == "register_buffer" ? "Buffer" : "Submodule";
}

}  // namespace

void Module::check_new_name(const std::string& name, const char* what) const {
  // libtorch's words first, then which module and call.
  const char* kind = kind_of_registration(what);
  check(!name.empty(), kind, " name must not be empty (", this->display_name(), ": ", what, ")");
  check(name.find('.') == std::string::npos, kind, " name must not contain a dot (got '", name, "') (",
        this->display_name(), ": ", what, "; dots join the names of nested modules)");
  const char* taken = parameters_.contains(name) ? "parameter"
                      : buffers_.contains(name)  ? "buffer"
                      : children_.contains(name) ? "submodule"
                                                 : nullptr;
  if (taken != nullptr) {
    throw Error(concat(kind, " '", name, "' already defined (", this->display_name(), ": ", what, "(\"", name,
                       "\"): the name is already registered as a ", taken, ")"));
  }
}

Tensor& Module::register_parameter(std::string name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "register_parameter");
  if (tensor.defined()) {
    check(tensor.is_leaf(), this->display_name(), ": register_parameter(\"", name,
          "\"): a parameter must be a leaf tensor (detach() it from the graph first)");
    check(!requires_grad || is_floating(tensor.dtype()), this->display_name(), ": register_parameter(\"", name,
          "\"): only float32 or float64 parameters can require grad, got ", dtype_name(tensor.dtype()));
    tensor.requires_grad_(requires_grad);
    tensor.set_name(name);
  }
  return parameters_.insert(std::move(name), std::move(tensor));
}

Tensor& Module::register_buffer(std::string name, Tensor tensor) {
  check_new_name(name, "register_buffer");
  if (tensor.defined()) tensor.set_name(name);
  return buffers_.insert(std::move(name), std::move(tensor));
}

void Module::add_child(std::string name, std::shared_ptr<Module> child, const char* what) {
  check_new_name(name, what);
  check(child != nullptr, this->display_name(), ": ", what, "(\"", name, "\") got a null module");
  child->label_tensors(name + ".");
  children_.insert(std::move(name), std::move(child));
}

void Module::replace_child(const std::string& name, std::shared_ptr<Module> child) {
  std::shared_ptr<Module>* slot = children_.find(name);
  check(slot != nullptr, "Submodule '", name, "' is not defined (", this->display_name(), ": replace_module(\"", name,
        "\"))");
  check(child != nullptr, this->display_name(), ": replace_module(\"", name, "\") got a null module");
  child->label_tensors(name + ".");
  *slot = std::move(child);
}

void Module::unregister_module(const std::string& name) {
  check(children_.contains(name), "No Module with name `", name, "` is registered (", this->display_name(),
        ": unregister_module(\"", name, "\"))");
  children_.erase(name);
}

void Module::label_tensors(const std::string& prefix) const {
  for (auto& [name, parameter] : named_parameters()) parameter.set_name(prefix + name);
  for (auto& [name, buffer] : named_buffers()) buffer.set_name(prefix + name);
}

// ---- traversal -----------------------------------------------------------------------------------

// Own tensors first, then each child's, as in PyTorch. A tensor already seen is skipped: a layer
// shared by two parents is trained once (PyTorch's remove_duplicate=True).
void Module::collect_tensors(bool parameters, const std::string& prefix, bool recurse,
                             std::unordered_set<const TensorImpl*>& seen,
                             OrderedDict<std::string, Tensor>& out) const {
  for (const auto& item : parameters ? parameters_ : buffers_)
    if (item.value().defined() && seen.insert(item.value().impl()).second)
      out.insert(prefix + item.key(), item.value());
  if (!recurse) return;
  for (const auto& child : children_)
    child.value()->collect_tensors(parameters, prefix + child.key() + ".", true, seen, out);
}

OrderedDict<std::string, Tensor> Module::named_parameters(bool recurse) const {
  OrderedDict<std::string, Tensor> result("Parameter");
  std::unordered_set<const TensorImpl*> seen;
  collect_tensors(true, "", recurse, seen, result);
  return result;
}

std::vector<Tensor> Module::parameters(bool recurse) const { return named_parameters(recurse).values(); }

OrderedDict<std::string, Tensor> Module::named_buffers(bool recurse) const {
  OrderedDict<std::string, Tensor> result("Buffer");
  std::unordered_set<const TensorImpl*> seen;
  collect_tensors(false, "", recurse, seen, result);
  return result;
}

std::vector<Tensor> Module::buffers(bool recurse) const { return named_buffers(recurse).values(); }

std::vector<std::shared_ptr<Module>> Module::children() const { return children_.values(); }

OrderedDict<std::string, std::shared_ptr<Module>> Module::named_children() const { return children_; }

std::shared_ptr<Module> Module::shared_from_this_checked(const char* what) const {
  std::shared_ptr<const Module> self = weak_from_this().lock();
  check(self != nullptr, "It looks like you attempted to retrieve your top-level module as a shared_ptr, but it is not "
        "stored in a shared_ptr. Use std::make_shared<", display_name(), "> instead of creating your module on the "
        "stack, or alternatively do not try to access your top-level module at all by passing /*include_self=*/false "
        "to modules() or named_modules() (", display_name(), ": ", what, ")");
  return std::const_pointer_cast<Module>(self);
}

void Module::collect_modules(const std::string& prefix, std::unordered_set<const Module*>& seen,
                             OrderedDict<std::string, std::shared_ptr<Module>>& out) const {
  for (const auto& child : children_) {
    const std::string name = prefix.empty() ? child.key() : prefix + "." + child.key();
    if (!seen.insert(child.value().get()).second) continue;
    out.insert(name, child.value());
    child.value()->collect_modules(name, seen, out);
  }
}

OrderedDict<std::string, std::shared_ptr<Module>> Module::named_modules(const std::string& name_prefix,
                                                                        bool include_self) const {
  OrderedDict<std::string, std::shared_ptr<Module>> result("Module");
  std::unordered_set<const Module*> seen{this};
  if (include_self) result.insert(name_prefix, shared_from_this_checked("named_modules"));
  collect_modules(name_prefix, seen, result);
  return result;
}

std::vector<std::shared_ptr<Module>> Module::modules(bool include_self) const {
  std::vector<std::shared_ptr<Module>> result;
  if (include_self) result.push_back(shared_from_this_checked("modules"));
  for (auto& item : named_modules({}, false)) result.push_back(std::move(item.value()));
  return result;
}

void Module::apply(const ModuleApplyFunction& function) {
  function(*this);
  for (auto& item : named_modules({}, false)) function(*item.value());
}

void Module::apply(const ConstModuleApplyFunction& function) const {
  function(*this);
  for (const auto& item : named_modules({}, false)) function(*item.value());
}

void Module::apply(const NamedModuleApplyFunction& function, const std::string& name_prefix) {
  function(name_prefix, *this);
  for (auto& item : named_modules(name_prefix, false)) function(item.key(), *item.value());
}

void Module::apply(const ConstNamedModuleApplyFunction& function, const std::string& name_prefix) const {
  function(name_prefix, *this);
  for (const auto& item : named_modules(name_prefix, false)) function(item.key(), *item.value());
}

void Module::apply(const ModulePointerApplyFunction& function) const {
  for (const auto& module : modules()) function(module);
}

void Module::apply(const NamedModulePointerApplyFunction& function, const std::string& name_prefix) const {
  for (const auto& item : named_modules(name_prefix)) function(item.key(), item.value());
}

// ---- state ---------------------------------------------------------------------------------------

void Module::train(bool on) {
  is_training_ = on;
  for (auto& child : children_) child.value()->train(on);
}

void Module::zero_grad(bool set_to_none) {
  for (Tensor& parameter : parameters()) {
    if (set_to_none) {
      parameter.zero_grad();
      continue;
    }
    Tensor grad = parameter.grad();
    if (!grad.defined()) continue;
    visit_floating(grad.dtype(), "zero_grad", [&](auto tag) {
      using T = decltype(tag);
      std::fill_n(mutable_array<T>(grad).data(), grad.numel(), T(0));
    });
  }
}

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

void Module::to(Dtype dtype, bool /*non_blocking*/) {
  check(is_floating(dtype), display_name(), "::to: parameters must be float32 or float64, got ", dtype_name(dtype));
  for (Tensor& parameter : parameters()) convert_in_place(parameter, dtype);
  for (Tensor& buffer : buffers())
    if (is_floating(buffer.dtype())) convert_in_place(buffer, dtype);
}

void Module::to(Device device, bool /*non_blocking*/) { check_cpu(device, "Module::to"); }

void Module::to(Device device, Dtype dtype, bool non_blocking) {
  to(device, non_blocking);
  to(dtype, non_blocking);
}

// ---- printing ------------------------------------------------------------------------------------

void Module::pretty_print(std::ostream& out) const { out << display_name() << "()"; }

void Module::print_tree(std::ostream& out, const std::string& indentation) const {
  if (children_.is_empty()) {
    pretty_print(out);
    return;
  }
  const std::string inner = indentation + "  ";
  out << display_name() << "(\n";
  for (const auto& child : children_) {
    out << inner << '(' << child.key() << "): ";
    child.value()->print_tree(out, inner);
    out << '\n';
  }
  out << indentation << ')';
}

std::ostream& operator<<(std::ostream& out, const Module& module) {
  module.print_tree(out, "");
  return out;
}

}  // namespace xgrad::nn
