#pragma once
// The smooth and leaky relatives of ReLU, as ATen's free functions (torch::leaky_relu, ...), with
// PyTorch's values, gradients and grad_fn names. Each takes a float32 or float64 tensor of any shape
// and returns one of the same shape; x is an element of the input, g its upstream gradient. Where
// PyTorch's kernels take a branch on x, the comparison is the same, so a NaN input gives a NaN
// output and, like PyTorch, the gradient of the branch the comparison picks (NaN except for
// leaky_relu, whose NaN gets g negative_slope).
//
// Each backward is one loop over the elements; with create_graph (double backward) the same
// derivative is computed with recorded ops, so it can be differentiated again. Module and
// functional forms: nn/activation.hpp and nn/functional_activation.hpp.
#include <string_view>

#include <xgrad/core/scalar.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// x where x > 0, else negative_slope x.
//   d/dx = g where x > 0, else g negative_slope          (at x = 0 the slope, as PyTorch)
Tensor leaky_relu(const Tensor& x, const Scalar& negative_slope = 0.01);

// x Phi(x), Phi the standard normal distribution function, Phi(x) = (1 + erf(x / sqrt 2)) / 2.
//   d/dx = g (Phi(x) + x phi(x)),   phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
// approximate = "tanh" uses Phi(x) ~ (1 + tanh(k (x + 0.044715 x^3))) / 2, k = sqrt(2 / pi):
//   d/dx = g [(1 + t) / 2 + x (1 - t^2) k (1 + 3 * 0.044715 x^2) / 2],   t that tanh
// Any other approximate is an Error (PyTorch's message: must be either none or tanh).
Tensor gelu(const Tensor& x, std::string_view approximate = "none");

// scale x where x > 0, else scale alpha (exp(input_scale x) - 1), computed with expm1 so that small
// negative x keeps its digits (PyTorch 1.13 subtracts 1 from exp, which for x = -1e-8 is off by
// about 1e-16 absolute, 1e-8 relative; later PyTorch versions use expm1 too).
//   d/dx = g scale where x > 0, else g scale alpha input_scale exp(input_scale x)   (NaN at NaN)
// (ATen's arguments; torch.nn.ELU sets only alpha, SELU uses scale, CELU input_scale.)
Tensor elu(const Tensor& x, const Scalar& alpha = 1, const Scalar& scale = 1, const Scalar& input_scale = 1);

// leaky_relu and elu in place, as torch::leaky_relu_ and torch::elu_: x's values become the result
// and its history moves onto the op's node (ops/inplace.cpp gives the rules of in-place ops). The
// gradient is the op's own; the nodes are PyTorch's LeakyReluBackward1 and EluBackward1. As in
// PyTorch, backward through one of them throws if the forward ran with a negative negative_slope or
// alpha (PyTorch computes these gradients from the result, which a negative slope makes ambiguous).
Tensor& leaky_relu_(Tensor& x, const Scalar& negative_slope = 0.01);
Tensor& elu_(Tensor& x, const Scalar& alpha = 1, const Scalar& scale = 1, const Scalar& input_scale = 1);

// x sigmoid(x), the "swish".
//   d/dx = g s (1 + x (1 - s)),   s = sigmoid(x)
Tensor silu(const Tensor& x);

// log(1 + exp(beta x)) / beta, a smooth ReLU; x itself where beta x > threshold, where the two
// agree to rounding and exp would overflow.
//   d/dx = g where beta x > threshold, else g z / (z + 1),   z = exp(beta x)   (= g sigmoid(beta x))
Tensor softplus(const Tensor& x, const Scalar& beta = 1, const Scalar& threshold = 20);

}  // namespace xgrad
