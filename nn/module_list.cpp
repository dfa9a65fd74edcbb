#include <xgrad/nn/module_list.hpp>

#include <xgrad/core/error.hpp>

namespace xgrad::nn {

void ModuleListImpl::push_back(std::shared_ptr<Module> module) {
  // Registered first: a null module throws before the list changes.
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

void ModuleListImpl::insert(std::size_t index, std::shared_ptr<Module> module) {
  check(index <= modules_.size(), "ModuleList: insert index ", index, " is out of range for ", modules_.size(),
        " modules");
  check(module != nullptr, "ModuleList: insert got a null module");
  if (index == modules_.size()) {
    push_back(std::move(module));
    return;
  }
  modules_.insert(modules_.begin() + static_cast<std::ptrdiff_t>(index), std::move(module));
  for (std::size_t i = index; i + 1 < modules_.size(); ++i) replace_module(std::to_string(i), modules_[i]);
  register_module(std::to_string(modules_.size() - 1), modules_.back());
}

std::shared_ptr<Module> ModuleListImpl::ptr(std::size_t index) const {
  check(index < modules_.size(), "ModuleList: Index out of range (index ", index, " of ", modules_.size(), " modules)");
  return modules_[index];
}

void ModuleListImpl::throw_wrong_type(std::size_t index, const std::type_info& requested) const {
  throw Error(concat("ModuleList: module ", index, " is a ", modules_[index]->display_name(), ", not a ",
                     module_type_name(requested)));
}

}  // namespace xgrad::nn
