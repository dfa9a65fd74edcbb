#pragma once
// ModuleList: a list of modules registered as children, as torch::nn::ModuleList. It has no
// forward: a module keeps one to hold a variable number of layers and drives them itself.
//
//   struct StackImpl : nn::Module {
//     explicit StackImpl(int depth) {
//       for (int i = 0; i < depth; ++i) layers->push_back(nn::Linear(8, 8));
//       register_module("layers", layers);              // parameters "layers.0.weight", ...
//     }
//     Tensor forward(Tensor x) {
//       for (const auto& layer : *layers) x = xgrad::relu(layer->as<nn::Linear>()->forward(x));
//       return x;
//     }
//     nn::ModuleList layers;
//   };
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xgrad/nn/any_module.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad::nn {

class ModuleListImpl : public Module {
 public:
  using Iterator = std::vector<std::shared_ptr<Module>>::iterator;
  using ConstIterator = std::vector<std::shared_ptr<Module>>::const_iterator;

  ModuleListImpl() = default;
  // From any number of holders, shared_ptrs or modules, named "0", "1", ...
  template <class... Modules,
            class = std::enable_if_t<(sizeof...(Modules) > 0) && !detail::is_copy_of_v<ModuleListImpl, Modules...>>>
  explicit ModuleListImpl(Modules&&... modules) {
    modules_.reserve(sizeof...(Modules));
    (push_back(std::forward<Modules>(modules)), ...);
  }

  // Appends a module under the name of its position.
  void push_back(std::shared_ptr<Module> module);
  template <class M>
  void push_back(const ModuleHolder<M>& holder) {
    push_back(std::shared_ptr<Module>(holder.ptr()));
  }
  // A module given by value is copied (the copy shares its parameters).
  template <class M, class = std::enable_if_t<detail::is_module_v<M>>>
  void push_back(M&& module) {
    push_back(std::shared_ptr<Module>(std::make_shared<std::decay_t<M>>(std::forward<M>(module))));
  }
  template <class Container>
  void extend(const Container& container) {
    for (const auto& module : container) push_back(module);
  }
  // Inserts before position `index` (0..size()); the modules after it are renamed to their new
  // positions, as libtorch does.
  void insert(std::size_t index, std::shared_ptr<Module> module);
  template <class M>
  void insert(std::size_t index, const ModuleHolder<M>& holder) {
    insert(index, std::shared_ptr<Module>(holder.ptr()));
  }
  template <class M, class = std::enable_if_t<detail::is_module_v<M>>>
  void insert(std::size_t index, M&& module) {
    insert(index, std::shared_ptr<Module>(std::make_shared<std::decay_t<M>>(std::forward<M>(module))));
  }

  Iterator begin() { return modules_.begin(); }
  ConstIterator begin() const { return modules_.begin(); }
  Iterator end() { return modules_.end(); }
  ConstIterator end() const { return modules_.end(); }

  // The module at a position (index checked), as a Module or with its own type (nullptr when it
  // is another type; at<T> throws instead).
  std::shared_ptr<Module> ptr(std::size_t index) const;
  template <class T>
  std::shared_ptr<T> ptr(std::size_t index) const {
    return std::dynamic_pointer_cast<T>(ptr(index));
  }
  template <class T>
  T& at(std::size_t index) const;
  std::shared_ptr<Module> operator[](std::size_t index) const { return ptr(index); }

  std::size_t size() const noexcept { return modules_.size(); }
  bool is_empty() const noexcept { return modules_.empty(); }

 private:
  [[noreturn]] void throw_wrong_type(std::size_t index, const std::type_info& requested) const;

  std::vector<std::shared_ptr<Module>> modules_;
};
XGRAD_MODULE(ModuleList);

template <class T>
T& ModuleListImpl::at(std::size_t index) const {
  T* typed = dynamic_cast<T*>(ptr(index).get());
  if (typed == nullptr) throw_wrong_type(index, typeid(T));
  return *typed;
}

}  // namespace xgrad::nn
