#pragma once
// Checks for a Backward node's create_graph path, the recorded composite formula that makes a
// gradient differentiable again (double backward). For an op fn of some inputs:
//   - the first derivatives must not change: the fused fast path (create_graph off) and the
//     recorded path (create_graph on) give the same gradients, to rounding;
//   - gradgradcheck: second derivatives in the inputs against finite differences of the first;
//   - the recorded backward as a function of its upstream g must pass gradcheck too. gradgradcheck
//     holds g constant, but g depends on the inputs as soon as the op's output feeds another op;
//   - third derivatives, which need create_graph from every op the recorded backward uses.
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
  const gradient_list grads = node->backward(g);
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    ::testing::AssertionResult result =
        passes_gradcheck([&](const Inputs& in) { return node->backward(in[0])[i]; }, {g});
    if (!result) return result << " (gradient " << i << " of " << node->name() << ")";
  }
  return ::testing::AssertionSuccess();
}

// Third derivatives: gradgradcheck of the recorded first gradient d<u, fn(inputs)>/d inputs[k] (u one
// fixed random upstream) as a function of the inputs. It passes only when every op that fn's
// Backward nodes record supports create_graph in turn.
inline ::testing::AssertionResult passes_third_order_check(const FnOfInputs& fn, const Inputs& inputs,
                                                           std::size_t k = 0) {
  const auto upstream = std::make_shared<Tensor>();
  const FnOfInputs first_gradient = [fn, k, upstream](const Inputs& in) {
    AutoGradMode enable_grad(true);  // gradcheck evaluates under NoGradGuard
    const Tensor out = fn(in);
    if (!upstream->defined()) *upstream = randn(out.shape(), out.dtype());
    return autograd::grad({out}, {in[k]}, {*upstream}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  };
  try {
    return passes_gradgradcheck(first_gradient, inputs);
  } catch (const Error& error) {  // e.g. an op in the recorded backward without create_graph
    return ::testing::AssertionFailure() << error.what();
  }
}

// All three, for float64 inputs.
inline void expect_differentiable_twice(const FnOfInputs& fn, const Inputs& inputs) {
  EXPECT_TRUE(create_graph_keeps_the_gradients(fn, inputs));
  EXPECT_TRUE(passes_gradgradcheck(fn, inputs));
  EXPECT_TRUE(backward_is_differentiable_in_the_upstream(fn(inputs)));
}

}  // namespace xgrad::testing
