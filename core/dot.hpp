#pragma once
// to_dot: the recorded graph as Graphviz DOT, for looking at what backward will walk.
//   std::ofstream("graph.dot") << xgrad::to_dot(loss);   then: dot -Tpng graph.dot -o graph.png
#include <string>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

// One box per op (its Backward node's name, what a fused node computes when its name hides part of
// it, and its output shape) and one ellipse per leaf that requires grad (its name if set, shape,
// and, once a backward has reached it, its gradient's shape and L2 norm). A 0-dim tensor is drawn
// as "scalar" with its value where the value is known (the output, leaves, retained tensors) and a
// 0-dim gradient as its value. A tensor that called retain_grad() has a dashed orange border. An
// input that needs no grad, which the op recorded as a null edge, is a faint dashed "constant" box:
// the graph knows its position among the op's inputs but not its shape or values. A legend box
// explains the shapes. Edges point from inputs to the op that consumed them, the direction of the
// forward pass. backward frees what the nodes saved but keeps their edges while the output lives,
// so the graph can be drawn before or after backward.
std::string to_dot(const Tensor& output);

}  // namespace xgrad
