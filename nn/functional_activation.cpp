#include <xgrad/nn/functional_activation.hpp>

#include <xgrad/ops/activation.hpp>
#include <xgrad/ops/elementwise.hpp>

namespace xgrad::nn::functional {

// In place, the result is the input's own handle (a copy of it: the tensor it points to changes).
Tensor relu(const Tensor& input, const ReLUFuncOptions& options) {
  if (!options.inplace()) return xgrad::relu(input);
  Tensor self = input;
  return xgrad::relu_(self);
}

Tensor leaky_relu(const Tensor& input, const LeakyReLUFuncOptions& options) {
  if (!options.inplace()) return xgrad::leaky_relu(input, options.negative_slope());
  Tensor self = input;
  return xgrad::leaky_relu_(self, options.negative_slope());
}

Tensor gelu(const Tensor& input, const GELUFuncOptions& options) { return xgrad::gelu(input, options.approximate()); }

Tensor elu(const Tensor& input, const ELUFuncOptions& options) {
  if (!options.inplace()) return xgrad::elu(input, options.alpha());
  Tensor self = input;
  return xgrad::elu_(self, options.alpha());
}

Tensor silu(const Tensor& input) { return xgrad::silu(input); }

Tensor softplus(const Tensor& input, const SoftplusFuncOptions& options) {
  return xgrad::softplus(input, options.beta(), options.threshold());
}

}  // namespace xgrad::nn::functional
