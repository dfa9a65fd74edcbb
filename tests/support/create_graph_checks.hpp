#pragma once
// Checks for a Backward node's create_graph path, the recorded composite formula that makes a
// gradient differentiable again (double backward). For an op fn of some inputs:
//   - the first derivatives must not change: the fused fast path (create_graph off) and the
//     recorded path (create_graph on) give the same gradients, to rounding;
//   - gradgradcheck: second derivatives in the inputs against finite differences of the first;
//   - the recorded backward as a function of its upstream g must pass gradcheck too. gradgradcheck
//     holds g constant, but g depends on the inputs as soon as the op's output feeds another op.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"

namespace xgrad::testing {

using Inputs = std::vector<Tensor>;
using FnOfInputs = std::function<Tensor(const Inputs&)>;

// The gradients of every input that requires grad, for one random upstream, from the fused backward
// and from the recorded one.
inline ::testing::AssertionResult create_graph_keeps_the_gradients(const FnOfInputs& fn, const Inputs& inputs,
                                                                   double tolerance = 1e-12) {
  const Tensor out = fn(inputs);
  const Tensor upstream = randn(out.shape(), out.dtype());
  Inputs wrt;
  for (const Tensor& input : inputs)
    if (input.requires_grad()) wrt.push_back(input);
  const Inputs fused = autograd::grad({out}, wrt, {upstream}, /*retain_graph=*/true, /*create_graph=*/false);
  const Inputs recorded = autograd::grad({out}, wrt, {upstream}, /*retain_graph=*/true, /*create_graph=*/true);
  for (std::size_t i = 0; i < wrt.size(); ++i) {
    ::testing::AssertionResult same = all_close(recorded[i], fused[i], tolerance, tolerance);
    if (!same) return same << " (gradient of differentiable input " << i << ")";
  }
  return ::testing::AssertionSuccess();
}

// Called directly, outside the engine's no-grad mode, a node's backward takes its create_graph path.
// As a function of the upstream g it must pass gradcheck, whose finite differences run it under
// NoGradGuard, i.e. through the fused path.
inline ::testing::AssertionResult backward_is_differentiable_in_the_upstream(const Tensor& out) {
  const std::shared_ptr<Node> node = out.grad_fn();
  if (!node) return ::testing::AssertionFailure() << "the output was not recorded";
  const Tensor g = leaf(out.shape());
  const Inputs grads = node->backward(g);
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    ::testing::AssertionResult result =
        passes_gradcheck([&](const Inputs& in) { return node->backward(in[0])[i]; }, {g});
    if (!result) return result << " (gradient " << i << " of " << node->name() << ")";
  }
  return ::testing::AssertionSuccess();
}

// All three, for float64 inputs.
inline void expect_differentiable_twice(const FnOfInputs& fn, const Inputs& inputs) {
  EXPECT_TRUE(create_graph_keeps_the_gradients(fn, inputs));
  EXPECT_TRUE(passes_gradgradcheck(fn, inputs));
  EXPECT_TRUE(backward_is_differentiable_in_the_upstream(fn(inputs)));
}

}  // namespace xgrad::testing
