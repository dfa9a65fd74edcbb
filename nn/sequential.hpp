#pragma once
// Sequential: modules applied one after another, as torch::nn::Sequential.
//
//   auto net = nn::Sequential(nn::Linear(2, 16), nn::ReLU(), nn::Linear(16, 3));
//   Tensor logits = net(x);                  // Linear, then ReLU, then Linear
//   net->named_parameters();                 // "0.weight", "0.bias", "2.weight", "2.bias"
//   net[0]->as<nn::LinearImpl>()->weight;    // a step, as the Module it is
//   net->push_back(nn::LogSoftmax(1));       // one more step, named "3"
//   nn::Sequential named({{"fc", nn::Linear(2, 3)}, {"act", nn::Tanh()}});   // "fc.weight", ...
//
// Each step is registered as a child under its position (or the name given) and kept as an
// AnyModule (nn/any_module.hpp), so forward calls each module's own forward, whatever its
// signature, with one indirect call per step. Holders and shared_ptrs are shared, not copied: the
// Sequential trains the very layers the caller holds. A module given by value (an Impl) is copied,
// and the copy shares its parameters.
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/any_module.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>
#include <xgrad/nn/ordered_dict.hpp>

namespace xgrad::nn {

class SequentialImpl : public Module {
 public:
  using Iterator = std::vector<AnyModule>::iterator;
  using ConstIterator = std::vector<AnyModule>::const_iterator;

  SequentialImpl() = default;
  // From any number of holders, shared_ptrs or modules, named "0", "1", ...
  template <class... Modules,
            class = std::enable_if_t<(sizeof...(Modules) > 0) && !detail::is_copy_of_v<SequentialImpl, Modules...>>>
  explicit SequentialImpl(Modules&&... modules) {
    modules_.reserve(sizeof...(Modules));
    (push_back(std::forward<Modules>(modules)), ...);
  }
  explicit SequentialImpl(OrderedDict<std::string, AnyModule>&& ordered_dict);
  explicit SequentialImpl(std::initializer_list<NamedAnyModule> named_modules);

  // Feeds the input through every step in order. An empty Sequential returns its input, as
  // Python's does (libtorch's throws).
  Tensor forward(Tensor input);

  // Appends a step, named by its position or by `name` (an Error if the name is taken).
  template <class M>
  void push_back(std::shared_ptr<M> module) {
    push_back(std::to_string(modules_.size()), AnyModule(std::move(module)));
  }
  template <class M>
  void push_back(std::string name, std::shared_ptr<M> module) {
    push_back(std::move(name), AnyModule(std::move(module)));
  }
  template <class M>
  void push_back(const ModuleHolder<M>& holder) {
    push_back(std::to_string(modules_.size()), AnyModule(holder));
  }
  template <class M>
  void push_back(std::string name, const ModuleHolder<M>& holder) {
    push_back(std::move(name), AnyModule(holder));
  }
  template <class M, class = std::enable_if_t<detail::is_module_v<M>>>
  void push_back(M&& module) {
    push_back(std::to_string(modules_.size()), AnyModule(std::forward<M>(module)));
  }
  template <class M, class = std::enable_if_t<detail::is_module_v<M>>>
  void push_back(std::string name, M&& module) {
    push_back(std::move(name), AnyModule(std::forward<M>(module)));
  }
  void push_back(AnyModule module);
  void push_back(std::string name, AnyModule module);
  // Appends every module of a container (another Sequential's steps, a vector of holders, ...).
  template <class Container>
  void extend(const Container& container) {
    for (const auto& module : container) push_back(module);
  }

  // The steps, as AnyModules.
  Iterator begin() { return modules_.begin(); }
  ConstIterator begin() const { return modules_.begin(); }
  Iterator end() { return modules_.end(); }
  ConstIterator end() const { return modules_.end(); }

  // The step at a position (index checked), as a Module or with its own type.
  std::shared_ptr<Module> ptr(std::size_t index) const;
  template <class T>
  std::shared_ptr<T> ptr(std::size_t index) const {
    return std::dynamic_pointer_cast<T>(ptr(index));
  }
  template <class T>
  T& at(std::size_t index) const {
    check_index(index);
    return modules_[index].get<T>();
  }
  std::shared_ptr<Module> operator[](std::size_t index) const { return ptr(index); }

  std::size_t size() const noexcept { return modules_.size(); }
  bool is_empty() const noexcept { return modules_.empty(); }

 private:
  void check_index(std::size_t index) const;

  std::vector<AnyModule> modules_;
};

// The holder, written out (not XGRAD_MODULE) for its list-of-names constructor, as libtorch's.
class Sequential : public ModuleHolder<SequentialImpl> {
 public:
  using ModuleHolder<SequentialImpl>::ModuleHolder;
  using Impl = SequentialImpl;
  Sequential() : ModuleHolder() {}
  Sequential(std::initializer_list<NamedAnyModule> named_modules)
      : ModuleHolder(std::make_shared<SequentialImpl>(named_modules)) {}
};

}  // namespace xgrad::nn
