#include "optim/optimizer.hpp"

#include "core/error.hpp"

namespace xgrad::optim {

Optimizer::Optimizer(std::vector<Tensor> parameters, const char* optimizer_name)
    : parameters_(std::move(parameters)) {
  check(!parameters_.empty(), optimizer_name, ": got an empty parameter list");
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const Tensor& parameter = parameters_[i];
    check(parameter.defined(), optimizer_name, ": parameter ", i, " is an undefined tensor");
    check(is_floating(parameter.dtype()), optimizer_name, ": parameter ", i, " (", parameter.name(),
          ") must be float32 or float64, got ", dtype_name(parameter.dtype()));
    check(parameter.is_leaf(), optimizer_name, ": parameter ", i, " (", parameter.name(),
          ") is not a leaf tensor; an optimiser can only update leaves");
  }
}

void Optimizer::zero_grad() {
  for (Tensor& parameter : parameters_) parameter.zero_grad();
}

}  // namespace xgrad::optim
