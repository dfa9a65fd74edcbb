#include <xgrad/nn/sequential.hpp>

#include <xgrad/core/error.hpp>

namespace xgrad::nn {

namespace detail {
void throw_no_tensor_forward(const std::type_info& module) {
  const std::string name = module_type_name(module);
  throw Error(concat(name, ": its forward does not take one tensor, so it cannot be a step of a Sequential (call ",
                     name, " with the arguments its forward takes)"));
}
}  // namespace detail

void AnyModule::throw_empty() { throw Error("AnyModule: accessing an empty AnyModule (it holds no module)"); }

void AnyModule::throw_wrong_type(const std::type_info& requested) const {
  throw Error(concat("AnyModule: the module is a ", module_->display_name(), ", not a ", module_type_name(requested)));
}

SequentialImpl::SequentialImpl(OrderedDict<std::string, AnyModule>&& ordered_dict) {
  modules_.reserve(ordered_dict.size());
  for (auto& item : ordered_dict) push_back(item.key(), std::move(item.value()));
}

SequentialImpl::SequentialImpl(std::initializer_list<NamedAnyModule> named_modules) {
  modules_.reserve(named_modules.size());
  for (const auto& named : named_modules) push_back(named.name(), named.module());
}

void SequentialImpl::push_back(AnyModule module) { push_back(std::to_string(modules_.size()), std::move(module)); }

void SequentialImpl::push_back(std::string name, AnyModule module) {
  // Registered first: a taken name throws before the step list changes.
  register_module(std::move(name), module.ptr());
  modules_.push_back(std::move(module));
}

Tensor SequentialImpl::forward(Tensor input) {
  for (const AnyModule& module : modules_) input = module.forward(std::move(input));
  return input;
}

void SequentialImpl::check_index(std::size_t index) const {
  check(index < modules_.size(), "Sequential: Index out of range (index ", index, " of ", modules_.size(), " modules)");
}

std::shared_ptr<Module> SequentialImpl::ptr(std::size_t index) const {
  check_index(index);
  return modules_[index].ptr();
}

}  // namespace xgrad::nn
