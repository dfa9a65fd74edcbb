#include "core/node.hpp"

#include "core/grad_mode.hpp"
#include "core/tensor_impl.hpp"

namespace xgrad {

namespace {
// Nodes waiting to be destroyed, and whether a loop below is already destroying them on this thread.
thread_local std::vector<std::shared_ptr<Node>> parked_nodes;
thread_local bool destroying_parked_nodes = false;
}  // namespace

void defer_destruction(std::shared_ptr<Node>&& node) {
  if (!node) return;
  parked_nodes.push_back(std::move(node));
  if (destroying_parked_nodes) return;  // the loop further up the stack will get to it
  destroying_parked_nodes = true;
  while (!parked_nodes.empty()) {
    std::shared_ptr<Node> next = std::move(parked_nodes.back());
    parked_nodes.pop_back();
    next.reset();  // may park more nodes, but never recurses more than one level
  }
  destroying_parked_nodes = false;
}

Node::~Node() {
  for (auto& edge : next_edges_) defer_destruction(std::move(edge));
}

TensorImpl::~TensorImpl() { defer_destruction(std::move(grad_fn)); }

void Node::release() {
  release_saved();
  for (auto& edge : next_edges_) defer_destruction(std::move(edge));
  next_edges_.clear();
  released_ = true;
}

// d leaf.grad += grad_output
std::vector<Tensor> AccumulateGrad::backward(const Tensor& grad_output) {
  TensorImpl& leaf = *leaf_.impl();
  if (leaf.grad.defined()) {
    leaf.grad = sum_of_gradients(leaf.grad, grad_output);
  } else {
    // The engine hands over gradients it no longer needs; anything still shared (a grad_output the
    // user passed in, a gradient routed to two leaves) is copied so grads never alias.
    const bool exclusive = grad_output.impl_ptr().use_count() == 1 && grad_output.impl()->storage.use_count() == 1;
    leaf.grad = exclusive ? grad_output : grad_output.clone();
  }
  return {};
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* input : inputs)
    if (input->requires_grad()) return true;
  return false;
}

std::shared_ptr<Node> gradient_edge(const Tensor& input) {
  if (!input.requires_grad()) return nullptr;
  TensorImpl& impl = *input.impl();
  if (impl.grad_fn) return impl.grad_fn;
  std::shared_ptr<Node> accumulator = impl.grad_accumulator.lock();
  if (!accumulator) {
    accumulator = make_cached_shared<AccumulateGrad>(input);
    accumulator->output_shape = input.shape();
    accumulator->output_dtype = input.dtype();
    impl.grad_accumulator = accumulator;
  }
  return accumulator;
}

void record(Tensor& output, std::shared_ptr<Node> node, std::initializer_list<const Tensor*> inputs) {
  std::vector<std::shared_ptr<Node>> edges;
  edges.reserve(inputs.size());
  for (const Tensor* input : inputs) edges.push_back(gradient_edge(*input));
  node->set_next_edges(std::move(edges));
  node->output_shape = output.shape();
  node->output_dtype = output.dtype();
  output.impl()->grad_fn = std::move(node);
  output.impl()->requires_grad = true;
}

}  // namespace xgrad
