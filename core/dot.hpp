#pragma once
// to_dot: the recorded graph as Graphviz DOT, for looking at what backward will walk.
//   std::ofstream("graph.dot") << xgrad::to_dot(loss);   then: dot -Tpng graph.dot -o graph.png
#include <string>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

// One box per op (its Backward node's name and output shape) and one ellipse per leaf that requires
// grad (its name if set, shape, and, once a backward has reached it, its gradient's shape and L2
// norm). Edges point from inputs to the op that consumed them, the direction of the forward pass.
// backward frees what the nodes saved but keeps their edges while the output lives, so the graph can
// be drawn before or after backward.
std::string to_dot(const Tensor& output);

}  // namespace xgrad
