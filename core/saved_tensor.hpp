#pragma once
// SavedTensor: a tensor a node keeps for its backward, as libtorch's SavedVariable.
//
// A node that multiplies a by b must read a and b again when the gradient arrives. Keeping the
// caller's own handle would be wrong in two ways:
//  - its values may have been changed in place meanwhile (a.add_(1) after c = a * b), and the
//    gradient would silently use the new ones. So the storage's version is recorded at save and
//    compared when the value is unpacked: a difference is an Error, as in PyTorch.
//  - its history may change: an in-place op gives the handle a new grad_fn, and that node can lead
//    back to the one that saved it (b = a * a; a.add_(b)), closing a shared_ptr cycle that leaks
//    whenever backward does not run. So a saved tensor keeps an alias instead, with the same
//    elements and the grad_fn the tensor had when it was saved, which can only lead to older nodes.
//    A leaf that requires grad is kept as itself (it cannot be changed in place while grad mode is
//    on, and gradients must reach its own grad()).
// A node's own output would own the node that saves it (output -> node -> output). It is saved
// without history and gets the node back as grad_fn when unpacked under create_graph, so that a
// derivative written with the output (exp, tanh, softmax) is differentiated again through the node.
#include <cstdint>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

class Node;

class SavedTensor {
 public:
  SavedTensor() = default;
  // is_output: `tensor` is the output of the node that saves it.
  SavedTensor(const Tensor& tensor, bool is_output);

  // The saved tensor; `saved_by` is the node that saved it (named when the check fails, and the
  // grad_fn of an unpacked output while grad mode is on). Throws Error when the tensor was modified
  // in place since it was saved. An undefined tensor (an absent bias) unpacks as undefined.
  Tensor unpack(Node& saved_by) const;
  bool defined() const { return data_.defined(); }
  // Frees the value (Node::release after backward).
  void reset() { data_ = Tensor(); }

 private:
  Tensor data_;
  std::uint64_t version_ = 0;
  bool is_output_ = false;
};

}  // namespace xgrad
