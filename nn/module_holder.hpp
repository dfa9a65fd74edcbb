#pragma once
// ModuleHolder and XGRAD_MODULE: the libtorch pattern that gives each module two names.
//
//   class LinearImpl : public nn::Module { ... Tensor forward(const Tensor& x); ... };  // the module
//   XGRAD_MODULE(Linear);                     // Linear: a shared_ptr<LinearImpl> with value syntax
//
//   nn::Linear fc(2, 8);                      // constructs a LinearImpl(2, 8) on the heap
//   fc->weight;  fc(x);  fc->forward(x);      // -> reaches the module, () calls its forward
//   nn::Linear copy = fc;                     // a second handle on the same module and weights
//   nn::Linear later{nullptr};                // empty until assigned:
//   later = register_module("fc", nn::Linear(2, 8));
//
// A holder is a handle, like Tensor: copying it never copies weights. Modules live behind
// shared_ptrs because a parent, the user and an optimiser all refer to one set of parameters.
#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include <xgrad/core/error.hpp>

namespace xgrad::nn {

// The name PyTorch's Python prints for a module type: namespaces and an "Impl" suffix dropped
// ("xgrad::nn::LinearImpl" -> "Linear", "NetImpl" -> "Net").
std::string module_type_name(const std::type_info& type);

namespace detail {
// The base every holder derives from, so that templates can tell holders from modules.
struct ModuleHolderIndicator {};

template <class T>
inline constexpr bool is_module_holder_v = std::is_base_of_v<ModuleHolderIndicator, std::decay_t<T>>;

// True when T is a holder of exactly Contained (then a one-argument constructor call is a copy).
template <class T, class Contained, class = void>
struct is_module_holder_of : std::false_type {};
template <class T, class Contained>
struct is_module_holder_of<T, Contained, std::void_t<typename std::decay_t<T>::ContainedType>>
    : std::bool_constant<is_module_holder_v<T> && std::is_same_v<typename std::decay_t<T>::ContainedType, Contained>> {
};

[[noreturn]] void throw_empty_holder(const std::type_info& contained);
}  // namespace detail

template <class Contained>
class ModuleHolder : detail::ModuleHolderIndicator {
 public:
  using ContainedType = Contained;

  // A new Contained() when it has a default constructor (nn::ReLU relu;); otherwise write
  // `nn::Linear fc{nullptr};` to declare an empty holder to assign later.
  ModuleHolder() : impl_(default_construct()) {
    static_assert(std::is_default_constructible_v<Contained>,
                  "this module has no default constructor: use `= nullptr` (e.g. `nn::Linear fc{nullptr};`) "
                  "for an empty holder to assign later");
  }

  // The empty holder; -> on it is an Error.
  ModuleHolder(std::nullptr_t) : impl_(nullptr) {}  // NOLINT(google-explicit-constructor)

  // Constructs a new Contained from the arguments: nn::Linear(2, 8), nn::Linear(LinearOptions(2, 8)).
  // (A single holder of the same type is a copy instead, by the copy constructor.)
  template <class Head, class... Tail,
            class = std::enable_if_t<!(detail::is_module_holder_of<Head, Contained>::value && sizeof...(Tail) == 0)>>
  explicit ModuleHolder(Head&& head, Tail&&... tail)
      : impl_(std::make_shared<Contained>(std::forward<Head>(head), std::forward<Tail>(tail)...)) {}

  // Holds a module made elsewhere, so `fc = register_module("fc", nn::Linear(2, 8));` and
  // `nn::Linear fc = std::make_shared<nn::LinearImpl>(2, 8);` work.
  ModuleHolder(std::shared_ptr<Contained> module) : impl_(std::move(module)) {}  // NOLINT

  explicit operator bool() const noexcept { return !is_empty(); }
  bool is_empty() const noexcept { return impl_ == nullptr; }

  Contained* operator->() { return get(); }
  const Contained* operator->() const { return get(); }
  Contained& operator*() { return *get(); }
  const Contained& operator*() const { return *get(); }

  const std::shared_ptr<Contained>& ptr() const {
    if (impl_ == nullptr) detail::throw_empty_holder(typeid(Contained));
    return impl_;
  }
  Contained* get() {
    if (impl_ == nullptr) detail::throw_empty_holder(typeid(Contained));
    return impl_.get();
  }
  const Contained* get() const {
    if (impl_ == nullptr) detail::throw_empty_holder(typeid(Contained));
    return impl_.get();
  }

  // Calls the module's own forward with these arguments, whatever its signature: fc(x) is
  // fc->forward(x), criterion(input, target) is criterion->forward(input, target).
  // (C makes the return type depend on the call, so a module without forward still has a holder.)
  template <class... Args, class C = Contained>
  auto operator()(Args&&... args) -> decltype(std::declval<C&>().forward(std::forward<Args>(args)...)) {
    return get()->forward(std::forward<Args>(args)...);
  }

  // Indexes the module (Sequential, ModuleList): seq[0] is seq->operator[](0).
  template <class Arg>
  decltype(auto) operator[](Arg&& arg) {
    return (*get())[std::forward<Arg>(arg)];
  }

 protected:
  std::shared_ptr<Contained> impl_;

 private:
  static std::shared_ptr<Contained> default_construct() {
    if constexpr (std::is_default_constructible_v<Contained>) {
      return std::make_shared<Contained>();
    } else {
      return nullptr;
    }
  }
};

// Prints the held module as Module's operator<< does (PyTorch's print(model)).
template <class Contained>
std::ostream& operator<<(std::ostream& out, const ModuleHolder<Contained>& holder) {
  return out << *holder;
}

}  // namespace xgrad::nn

// XGRAD_MODULE(Net) turns a module class NetImpl into its holder Net, as libtorch's TORCH_MODULE:
//   struct NetImpl : nn::Module { ... };
//   XGRAD_MODULE(Net);
// after which Net(args...) constructs a NetImpl(args...), Net{nullptr} is empty, and net(x) calls
// NetImpl::forward. It is the one class-generating macro in xgrad, kept because libtorch programs
// are written with it.
#define XGRAD_MODULE(Name)                                      \
  class Name : public ::xgrad::nn::ModuleHolder<Name##Impl> {   \
   public:                                                      \
    using ::xgrad::nn::ModuleHolder<Name##Impl>::ModuleHolder; \
    using Impl = Name##Impl;                                    \
  }
