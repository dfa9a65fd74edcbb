#include "nn/functional_activation.hpp"

#include "core/error.hpp"
#include "ops/activation.hpp"

namespace xgrad::nn::functional {

namespace {

// libtorch would overwrite the input; xgrad says so rather than silently returning a new tensor
// while the caller expects the input to have changed.
void reject_inplace(bool inplace, const char* op) {
  check(!inplace, op, ": inplace=true is not supported (xgrad computes activations out of place); ",
        "use the returned tensor with inplace(false)");
}

}  // namespace

Tensor leaky_relu(const Tensor& input, const LeakyReLUFuncOptions& options) {
  reject_inplace(options.inplace(), "leaky_relu");
  return xgrad::leaky_relu(input, options.negative_slope());
}

Tensor gelu(const Tensor& input, const GELUFuncOptions& options) { return xgrad::gelu(input, options.approximate()); }

Tensor elu(const Tensor& input, const ELUFuncOptions& options) {
  reject_inplace(options.inplace(), "elu");
  return xgrad::elu(input, options.alpha());
}

Tensor silu(const Tensor& input) { return xgrad::silu(input); }

Tensor softplus(const Tensor& input, const SoftplusFuncOptions& options) {
  return xgrad::softplus(input, options.beta(), options.threshold());
}

}  // namespace xgrad::nn::functional
