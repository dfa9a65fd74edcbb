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
#include <utility>

namespace xgrad::nn {

// relu: only whether it runs in place. nn::ReLU(nn::ReLUOptions().inplace(true)), or nn::ReLU(true).
class ReLUOptions {
 public:
  /* implicit */ ReLUOptions(bool inplace = false) : inplace_(inplace) {}
  ReLUOptions& inplace(bool inplace) {
    inplace_ = inplace;
    return *this;
  }
  bool inplace() const { return inplace_; }

 private:
  bool inplace_;
};

// leaky_relu: the slope for negative inputs.
class LeakyReLUOptions {
 public:
  LeakyReLUOptions& negative_slope(double negative_slope) {
    negative_slope_ = negative_slope;
    return *this;
  }
  double negative_slope() const { return negative_slope_; }
  LeakyReLUOptions& inplace(bool inplace) {
    inplace_ = inplace;
    return *this;
  }
  bool inplace() const { return inplace_; }

 private:
  double negative_slope_ = 1e-2;
  bool inplace_ = false;
};

// gelu: "none" (the exact erf form) or "tanh" (the tanh approximation).
class GELUOptions {
 public:
  GELUOptions& approximate(std::string approximate) {
    approximate_ = std::move(approximate);
    return *this;
  }
  const std::string& approximate() const { return approximate_; }

 private:
  std::string approximate_ = "none";
};

// elu: alpha, the value the negative branch saturates at (-alpha).
class ELUOptions {
 public:
  ELUOptions& alpha(double alpha) {
    alpha_ = alpha;
    return *this;
  }
  double alpha() const { return alpha_; }
  ELUOptions& inplace(bool inplace) {
    inplace_ = inplace;
    return *this;
  }
  bool inplace() const { return inplace_; }

 private:
  double alpha_ = 1.0;
  bool inplace_ = false;
};

// softplus: beta (sharpness) and threshold (above beta x > threshold the output is x itself).
class SoftplusOptions {
 public:
  SoftplusOptions& beta(double beta) {
    beta_ = beta;
    return *this;
  }
  double beta() const { return beta_; }
  SoftplusOptions& threshold(double threshold) {
    threshold_ = threshold;
    return *this;
  }
  double threshold() const { return threshold_; }

 private:
  double beta_ = 1.0;
  double threshold_ = 20.0;
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
