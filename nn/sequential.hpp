#pragma once
// Sequential: modules applied one after another, as torch::nn::Sequential.
//
//   nn::Sequential net{nn::Linear(2, 16), nn::ReLU(), nn::Linear(16, 3)};
//   Tensor logits = net(x);              // Linear, then ReLU, then Linear
//   net.named_parameters();              // "0.weight", "0.bias", "2.weight", "2.bias"
//
// Each module is stored behind a shared_ptr under the name of its position ("0", "1", ...), so the
// list can mix types; a module passed in is copied, and the copy shares its parameters.
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "module.hpp"

namespace xgrad::nn {

class Sequential : public Module {
  template <class M>
  using IfModule = std::enable_if_t<std::is_base_of_v<Module, std::decay_t<M>>, int>;

 public:
  Sequential() = default;

  // From any number of modules of any types. (A single Sequential argument is the copy constructor.)
  template <class First, class... Rest, IfModule<First> = 0,
            std::enable_if_t<sizeof...(Rest) != 0 || !std::is_same_v<std::decay_t<First>, Sequential>, int> = 0>
  Sequential(First&& first, Rest&&... rest) {
    push_back(std::forward<First>(first));
    (push_back(std::forward<Rest>(rest)), ...);
  }

  // Appends a copy of `module` (sharing its parameters) as the next position.
  template <class M, IfModule<M> = 0>
  void push_back(M&& module) {
    push_back(std::shared_ptr<Module>(std::make_shared<std::decay_t<M>>(std::forward<M>(module))));
  }
  // Appends a module held elsewhere too.
  void push_back(std::shared_ptr<Module> module);

  const char* name() const override { return "Sequential"; }
  // Feeds the input through every module in order; an empty Sequential returns its input.
  Tensor forward(const Tensor& input) override;

  std::size_t size() const { return named_children().size(); }
  bool empty() const { return size() == 0; }
  // The module at a position (checked).
  Module& operator[](std::size_t index) const;
  std::shared_ptr<Module> ptr(std::size_t index) const;
};

}  // namespace xgrad::nn
