#pragma once
// gradcheck: does backward agree with finite differences?
//
// For out = fn(inputs) and a random upstream gradient g (not ones: ones would hide a wrong
// transpose or a swapped pair of partials), backward gives the analytic d<g, out>/d x. Central
// differences give the numeric one, element by element:
//   d<g, out>/d x_j  ~  (<g, fn(x + eps e_j)> - <g, fn(x - eps e_j)>) / (2 eps)
// Every input that requires grad must be float64, where eps = 1e-6 leaves ~1e-10 of error.
// The analytic gradient is taken twice, by a plain backward (which runs the fused loops some nodes
// have) and under create_graph (which runs every node's recorded formula), and both must pass.
#include <functional>
#include <string>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

struct GradcheckResult {
  bool passed = false;
  double max_abs_error = 0.0;
  // Which input and index is worst, with both values: enough to start debugging a Backward node.
  std::string report;
  explicit operator bool() const { return passed; }
};

// An element passes when |analytic - numeric| <= atol + rtol * |numeric|.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double eps = 1e-6, double atol = 1e-5,
                          double rtol = 1e-3);

// gradgradcheck: are second derivatives right? With a random first-order upstream v, each input's
// gradient h_k(x) = d<v, fn(x)>/d x_k is computed with create_graph=true, and gradcheck then
// compares h_k's own backward (the recorded backward pass, for a random second-order upstream)
// with central differences of h_k. Covering every k covers every mixed second derivative.
GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                              const std::vector<Tensor>& inputs, double eps = 1e-6, double atol = 1e-5,
                              double rtol = 1e-3);

}  // namespace xgrad
