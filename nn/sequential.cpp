#include "nn/sequential.hpp"

#include <string>

#include "core/error.hpp"

namespace xgrad::nn {

void Sequential::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(size()), std::move(module));
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& child : named_children()) x = child.second->forward(x);
  return x;
}

std::shared_ptr<Module> Sequential::ptr(std::size_t index) const {
  check(index < size(), "Sequential: index ", index, " out of range for ", size(), " modules");
  return named_children()[index].second;
}

Module& Sequential::operator[](std::size_t index) const { return *ptr(index); }

}  // namespace xgrad::nn
