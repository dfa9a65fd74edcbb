#pragma once
// The functional forms of the parametrised activations, as torch::nn::functional's:
//
//   namespace F = xgrad::nn::functional;
//   Tensor h = F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2));
//
// Each unpacks its options (nn/activation_options.hpp) and calls the op (ops/activation.hpp, where
// the formulas, gradients and edge cases are documented). With inplace(true) the op runs in place
// (relu_, leaky_relu_, elu_): the input tensor itself takes the result, and the returned tensor is it.
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/activation_options.hpp>

namespace xgrad::nn::functional {

// F::relu(x) alone is in nn/functional.hpp; this is the form with libtorch's options.
Tensor relu(const Tensor& input, const ReLUFuncOptions& options);
Tensor leaky_relu(const Tensor& input, const LeakyReLUFuncOptions& options = {});
Tensor gelu(const Tensor& input, const GELUFuncOptions& options = {});
Tensor elu(const Tensor& input, const ELUFuncOptions& options = {});
Tensor silu(const Tensor& input);
Tensor softplus(const Tensor& input, const SoftplusFuncOptions& options = {});

}  // namespace xgrad::nn::functional
