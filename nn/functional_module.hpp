#pragma once
// Functional: a free function as a module, as torch::nn::Functional, so a function can be a step
// of a Sequential:
//
//   auto net = nn::Sequential(nn::Linear(2, 8), nn::Functional(xgrad::relu), nn::Linear(8, 3));
//   nn::Functional(xgrad::softmax, /*dim=*/1);              // extra arguments are bound after x
//   nn::Functional([](Tensor x) { return x * 2; });
//
// It holds no parameters. The function is kept in a std::function: one indirect call per forward.
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad::nn {

class FunctionalImpl : public Module {
 public:
  using Function = std::function<Tensor(Tensor)>;

  explicit FunctionalImpl(Function function);
  // function(input, args...) with the arguments stored now, as libtorch's std::bind form.
  template <class SomeFunction, class... Args, class = std::enable_if_t<(sizeof...(Args) > 0)>>
  explicit FunctionalImpl(SomeFunction function, Args&&... args)
      : FunctionalImpl(Function([function = std::move(function),
                                 bound = std::make_tuple(std::forward<Args>(args)...)](Tensor input) {
          return std::apply([&](const auto&... arguments) { return std::invoke(function, std::move(input), arguments...); },
                            bound);
        })) {}

  Tensor forward(Tensor input);
  Tensor operator()(Tensor input) { return forward(std::move(input)); }

 private:
  Function function_;
};

// The holder, written out (not XGRAD_MODULE) so that a function name resolves even when it names
// several overloads: the pointer constructors pick the one taking a single tensor.
class Functional : public ModuleHolder<FunctionalImpl> {
 public:
  using ModuleHolder<FunctionalImpl>::ModuleHolder;
  using Impl = FunctionalImpl;
  explicit Functional(Tensor (*function)(const Tensor&))
      : ModuleHolder(std::make_shared<FunctionalImpl>(function)) {}
  explicit Functional(Tensor (*function)(Tensor)) : ModuleHolder(std::make_shared<FunctionalImpl>(function)) {}
};

}  // namespace xgrad::nn
