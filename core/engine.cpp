#include "core/engine.hpp"

#include <algorithm>

#include "core/grad_mode.hpp"
#include "core/tensor_impl.hpp"

namespace xgrad {

Tensor sum_of_gradients(const Tensor& a, const Tensor& b) {
  return visit_floating(a.dtype(), "backward", [&](auto tag) {
    using T = decltype(tag);
    Array<T> total = array<T>(a);
    total += array<T>(b);
    return make_tensor(std::move(total));
  });
}

bool has_shape(const Tensor& tensor, const Shape& shape) {
  return std::visit([&](const auto& a) { return std::equal(a.shape().begin(), a.shape().end(), shape.begin(), shape.end()); },
                    static_cast<const StorageVariant&>(*tensor.impl()->storage));
}

namespace {

// Each backward pass gets a fresh number, so a Node knows whether its bookkeeping is from this pass.
thread_local std::uint64_t current_epoch = 0;

// Runs for every edge of every backward pass, so the message is formatted only when it fails.
void check_gradient(const Node& producer, std::size_t input, const Tensor& grad, const Node& consumer) {
  if (has_shape(grad, consumer.output_shape) && grad.dtype() == consumer.output_dtype) return;
  throw Error(concat("backward: ", producer.name(), " returned a gradient of shape ", shape_str(grad.shape()), " (",
                     dtype_name(grad.dtype()), ") for input ", input, ", which has shape ",
                     shape_str(consumer.output_shape), " (", dtype_name(consumer.output_dtype), ")"));
}

}  // namespace

void Engine::run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph) {
  std::shared_ptr<Node> root_node = gradient_edge(root);
  const std::uint64_t epoch = ++current_epoch;

  // 1. Discovery: count how many edges point at each reachable node.
  root_node->visit_epoch_ = epoch;
  root_node->pending_inputs_ = 0;
  root_node->grad_buffer_ = Tensor();
  std::vector<Node*> to_visit{root_node.get()};
  while (!to_visit.empty()) {
    Node* node = to_visit.back();
    to_visit.pop_back();
    check(!node->released_, "backward: trying to backward through the graph a second time (", node->name(),
          " has already been freed); pass retain_graph=true to the first backward if you need to");
    for (const auto& next : node->next_edges_) {
      if (!next) continue;
      if (next->visit_epoch_ != epoch) {
        next->visit_epoch_ = epoch;
        next->pending_inputs_ = 0;
        next->grad_buffer_ = Tensor();
        to_visit.push_back(next.get());
      }
      ++next->pending_inputs_;
    }
  }

  // 2. Kahn's algorithm. Shared pointers keep a ready node alive after its consumer is released.
  root_node->grad_buffer_ = grad_output;
  std::vector<std::shared_ptr<Node>> ready{std::move(root_node)};
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    const Tensor grad = std::move(node->grad_buffer_);
    node->grad_buffer_ = Tensor();
    std::vector<Tensor> input_grads;
    if (grad.defined()) {
      node->check_saved_versions();
      NoGradGuard no_grad;  // derivatives are computed, not recorded
      input_grads = node->backward(grad);
    }
    for (std::size_t i = 0; i < node->next_edges_.size(); ++i) {
      const std::shared_ptr<Node>& next = node->next_edges_[i];
      if (!next) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        check_gradient(*node, i, input_grads[i], *next);
        next->grad_buffer_ = next->grad_buffer_.defined() ? sum_of_gradients(next->grad_buffer_, input_grads[i])
                                                          : std::move(input_grads[i]);
      }
      if (--next->pending_inputs_ == 0) ready.push_back(next);
    }
    // 3. Free what this node saved, unless the caller wants to run backward again.
    if (!retain_graph) node->release();
  }
}

}  // namespace xgrad
