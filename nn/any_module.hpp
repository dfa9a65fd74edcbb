#pragma once
// AnyModule: one module of any type together with its forward, as torch::nn::AnyModule (for
// modules whose forward takes one tensor and returns one). Sequential keeps one per step.
//
//   nn::AnyModule step(nn::Linear(2, 8));
//   Tensor y = step.forward(x);            // LinearImpl::forward, found when step was made
//   step.ptr();                            // the module as std::shared_ptr<nn::Module>
//   step.get<nn::LinearImpl>().weight;     // the module with its own type (checked)
//
// Module has no virtual forward, because each module declares its own (`Tensor forward(Tensor x)`
// by value, `forward(const Tensor&)`, two inputs for a loss). So AnyModule is built from the
// concrete type: its constructor template instantiates a small function that calls that type's
// forward and keeps a pointer to it. A call is one indirect call: no std::function, no allocation.
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include <xgrad/core/error.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad::nn {

namespace detail {

template <class M>
inline constexpr bool is_module_v = std::is_base_of_v<Module, std::decay_t<M>>;

// True for a single argument of type Self: a variadic constructor must leave copies to the copy
// constructor.
template <class Self, class... Args>
inline constexpr bool is_copy_of_v = false;
template <class Self, class Arg>
inline constexpr bool is_copy_of_v<Self, Arg> = std::is_same_v<std::decay_t<Arg>, Self>;

// Whether M::forward can be called with a tensor (moved in, or as an lvalue) and gives a tensor.
template <class M, class Argument, class = void>
struct forward_takes : std::false_type {};
template <class M, class Argument>
struct forward_takes<M, Argument, std::void_t<decltype(std::declval<M&>().forward(std::declval<Argument>()))>>
    : std::is_convertible<decltype(std::declval<M&>().forward(std::declval<Argument>())), Tensor> {};

[[noreturn]] void throw_no_tensor_forward(const std::type_info& module);

template <class M>
Tensor call_forward(void* module, Tensor input) {
  M& typed = *static_cast<M*>(module);
  if constexpr (forward_takes<M, Tensor&&>::value) {
    return typed.forward(std::move(input));
  } else if constexpr (forward_takes<M, Tensor&>::value) {
    return typed.forward(input);
  } else {
    throw_no_tensor_forward(typeid(M));
  }
}

}  // namespace detail

class AnyModule {
 public:
  // Empty: forward() and ptr() are Errors until a module is assigned.
  AnyModule() = default;

  template <class M>
  explicit AnyModule(std::shared_ptr<M> module)
      : object_(module.get()), forward_(&detail::call_forward<M>), module_(std::move(module)) {
    static_assert(detail::is_module_v<M>, "AnyModule holds nn::Module types");
    if (module_ == nullptr) throw Error("AnyModule: got a null module");
  }
  // A module given by value is copied into a new shared_ptr (the copy shares its parameters).
  template <class M, class = std::enable_if_t<detail::is_module_v<M>>>
  explicit AnyModule(M&& module) : AnyModule(std::make_shared<std::decay_t<M>>(std::forward<M>(module))) {}
  template <class M>
  explicit AnyModule(const ModuleHolder<M>& holder) : AnyModule(holder.ptr()) {}

  // The module's own forward; an Error for a module whose forward does not take one tensor.
  Tensor forward(Tensor input) const {
    if (forward_ == nullptr) throw_empty();
    return forward_(object_, std::move(input));
  }

  const std::shared_ptr<Module>& ptr() const {
    if (module_ == nullptr) throw_empty();
    return module_;
  }
  // The module as T, or nullptr when it is something else.
  template <class T>
  std::shared_ptr<T> ptr() const {
    return std::dynamic_pointer_cast<T>(ptr());
  }
  // The module as T; an Error naming both types when it is something else.
  template <class T>
  T& get() const {
    T* typed = dynamic_cast<T*>(ptr().get());
    if (typed == nullptr) throw_wrong_type(typeid(T));
    return *typed;
  }
  bool is_empty() const noexcept { return module_ == nullptr; }

 private:
  [[noreturn]] static void throw_empty();
  [[noreturn]] void throw_wrong_type(const std::type_info& requested) const;

  void* object_ = nullptr;  // the module as its own type, for forward_
  Tensor (*forward_)(void*, Tensor) = nullptr;
  std::shared_ptr<Module> module_;
};

// A name with an AnyModule, so Sequential can be built with names:
//   nn::Sequential net({{"fc", nn::Linear(2, 8)}, {"act", nn::ReLU()}});
class NamedAnyModule {
 public:
  template <class M>
  NamedAnyModule(std::string name, std::shared_ptr<M> module)
      : NamedAnyModule(std::move(name), AnyModule(std::move(module))) {}
  template <class M, class = std::enable_if_t<detail::is_module_v<M>>>
  NamedAnyModule(std::string name, M&& module)
      : NamedAnyModule(std::move(name), AnyModule(std::forward<M>(module))) {}
  template <class M>
  NamedAnyModule(std::string name, const ModuleHolder<M>& holder)
      : NamedAnyModule(std::move(name), AnyModule(holder)) {}
  NamedAnyModule(std::string name, AnyModule module) : name_(std::move(name)), module_(std::move(module)) {}

  const std::string& name() const noexcept { return name_; }
  AnyModule& module() noexcept { return module_; }
  const AnyModule& module() const noexcept { return module_; }

 private:
  std::string name_;
  AnyModule module_;
};

}  // namespace xgrad::nn
