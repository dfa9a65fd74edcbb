#pragma once
// The reverse pass. Tensor::backward is the public entry; this is the machinery behind it.
#include "tensor.hpp"

namespace xgrad {

class Engine {
 public:
  // Runs backward from `root` seeded with `grad_output` (same shape and dtype as root).
  //
  // 1. Discover every Node reachable from root's grad_fn with an explicit stack (no recursion, so a
  //    100,000-op chain is fine) and count, for each Node, how many edges point at it.
  // 2. Kahn's algorithm: a Node runs once all its consumers have sent their gradient, which are
  //    summed in its buffer first (a tensor used twice gets the sum of both contributions).
  // 3. Unless retain_graph, each Node frees its saved data and edges once it has run.
  static void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph);
};

}  // namespace xgrad
