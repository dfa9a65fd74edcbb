#pragma once
// Optimizer: the base of every optimiser, as torch::optim::Optimizer (one parameter group).
//
//   optim::SGD opt(net->parameters(), optim::SGDOptions(0.1).momentum(0.9));
//   for (...) { opt.zero_grad(); loss = ...; loss.backward(); opt.step(); }
#include <vector>

#include "../core/tensor.hpp"

namespace xgrad::optim {

class Optimizer {
 public:
  // The parameters are handles: step() writes the very tensors the model reads. Each must be a
  // defined float32/float64 leaf; an empty list is an error (it is almost always a mistake).
  explicit Optimizer(std::vector<Tensor> parameters, const char* optimizer_name);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Drops every parameter's gradient, so the next backward starts from nothing.
  void zero_grad();
  // One update from the gradients the last backward left; parameters without a gradient are skipped.
  virtual void step() = 0;

  const std::vector<Tensor>& parameters() const { return parameters_; }

 protected:
  std::vector<Tensor> parameters_;
};

}  // namespace xgrad::optim
