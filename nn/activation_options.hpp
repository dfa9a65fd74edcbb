#pragma once
// Options of the parametrised activations, shared by the modules (nn::LeakyReLU, ...) and the
// functional forms (F::leaky_relu, ...), with libtorch's names and defaults:
//
//   nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2));
//   F::gelu(x, F::GELUFuncOptions().approximate("tanh"));
//
// inplace(true) overwrites the input with the result, as libtorch does (the in-place ops
// xgrad::relu_, leaky_relu_ and elu_; see ops/inplace.cpp for what autograd allows).
#include <string>

#include <xgrad/core/arg.hpp>

namespace xgrad::nn {

// relu: only whether it runs in place. nn::ReLU(nn::ReLUOptions().inplace(true)), or nn::ReLU(true).
class ReLUOptions {
 public:
  /* implicit */ ReLUOptions(bool inplace = false) : inplace_(inplace) {}
  XGRAD_ARG(bool, inplace);
};

// leaky_relu: the slope for negative inputs.
class LeakyReLUOptions {
  XGRAD_ARG(double, negative_slope) = 1e-2;
  XGRAD_ARG(bool, inplace) = false;
};

// gelu: "none" (the exact erf form) or "tanh" (the tanh approximation).
class GELUOptions {
  XGRAD_ARG(std::string, approximate) = "none";
};

// elu: alpha, the value the negative branch saturates at (-alpha).
class ELUOptions {
  XGRAD_ARG(double, alpha) = 1.0;
  XGRAD_ARG(bool, inplace) = false;
};

// softplus: beta (sharpness) and threshold (above beta x > threshold the output is x itself).
class SoftplusOptions {
  XGRAD_ARG(double, beta) = 1.0;
  XGRAD_ARG(double, threshold) = 20.0;
};

namespace functional {
// libtorch's names for the options of the functional forms; here they are the module options.
using ReLUFuncOptions = ReLUOptions;
using LeakyReLUFuncOptions = LeakyReLUOptions;
using GELUFuncOptions = GELUOptions;
using ELUFuncOptions = ELUOptions;
using SoftplusFuncOptions = SoftplusOptions;
}  // namespace functional

}  // namespace xgrad::nn
