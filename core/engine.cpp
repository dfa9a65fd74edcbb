#include "core/engine.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <variant>

#include "core/anomaly_mode.hpp"
#include "core/grad_mode.hpp"
#include "core/tensor_impl.hpp"

namespace xgrad {

namespace {

// d(a + b) = (g, g): the sum of two gradient contributions, recorded only when a backward pass is
// itself being recorded (create_graph).
struct GradientSumBackward final : Node {
  const char* name() const override { return "AddBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override { return {grad, grad}; }
  bool supports_create_graph() const override { return true; }
};

}  // namespace

Tensor sum_of_gradients(const Tensor& a, const Tensor& b) {
  Tensor total = visit_floating(a.dtype(), "backward", [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = array<T>(a);
    values += array<T>(b);
    return make_tensor(std::move(values));
  });
  if (any_requires_grad({&a, &b})) record(total, std::make_shared<GradientSumBackward>(), {&a, &b});
  return total;
}

namespace {
// total[i] += addend[i] for two distinct buffers: a plain loop the compiler vectorises (xtensor's +=
// on two arrays ran element by element here).
template <class T>
void add_into(T* __restrict total, const T* __restrict addend, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) total[i] += addend[i];
}
}  // namespace

bool add_gradient_in_place(const Tensor& total, const Tensor& addend) {
  if (total.requires_grad() || !same_dtype_and_shape(total, addend) || total.impl()->storage == addend.impl()->storage)
    return false;
  visit_floating(total.dtype(), "backward", [&](auto tag) {
    using T = decltype(tag);
    add_into(mutable_array<T>(total).data(), array<T>(addend).data(), static_cast<std::size_t>(total.numel()));
  });
  ++total.impl()->storage->version;
  return true;
}

namespace {
// Whether the tensor's array has exactly these dimensions (a Shape or an InlineShape).
template <class Dims>
bool has_dims(const Tensor& tensor, const Dims& dims) {
  return std::visit([&](const auto& a) { return std::equal(a.shape().begin(), a.shape().end(), dims.begin(), dims.end()); },
                    static_cast<const StorageVariant&>(*tensor.impl()->storage));
}
}  // namespace

bool has_shape(const Tensor& tensor, const Shape& shape) { return has_dims(tensor, shape); }

bool has_shape(const Tensor& tensor, const InlineShape& shape) { return has_dims(tensor, shape); }

bool same_dtype_and_shape(const Tensor& a, const Tensor& b) {
  const StorageVariant& x = *a.impl()->storage;
  const StorageVariant& y = *b.impl()->storage;
  if (x.index() != y.index()) return false;
  return std::visit(
      [&y](const auto& xs) {
        const auto& ys = std::get<std::decay_t<decltype(xs)>>(y);
        return std::equal(xs.shape().begin(), xs.shape().end(), ys.shape().begin(), ys.shape().end());
      },
      x);
}

void copy_shape(const Tensor& tensor, InlineShape& out) {
  std::visit([&](const auto& a) { out.assign(a.shape()); }, static_cast<const StorageVariant&>(*tensor.impl()->storage));
}

namespace {

// Each backward pass gets a fresh number, so a Node knows whether its bookkeeping is from this pass.
thread_local std::uint64_t current_epoch = 0;

// Runs for every edge of every backward pass, so the message is formatted only when it fails.
void check_gradient(const Node& producer, std::size_t input, const Tensor& grad, const Node& consumer) {
  if (has_shape(grad, consumer.output_shape) && grad.dtype() == consumer.output_dtype) return;
  throw Error(concat("backward: Function ", producer.name(), " returned an invalid gradient at index ", input,
                     " - got ", shape_str(grad.shape()), " (", dtype_name(grad.dtype()),
                     ") but expected shape compatible with ", shape_str(consumer.output_shape.to_shape()), " (",
                     dtype_name(consumer.output_dtype), ")"));
}

// The gradient after the hooks of the node's tensor, in registration order; a hook that returns a
// tensor replaces the gradient for the hooks after it and for the node itself.
Tensor apply_tensor_hooks(Node& node, Tensor grad) {
  for (const auto& hook : node.tensor_hooks()) {
    if (!hook) continue;  // removed
    Tensor replacement = hook(grad);
    if (!replacement.defined()) continue;
    if (!has_shape(replacement, node.output_shape) || replacement.dtype() != grad.dtype())
      throw Error(concat("hook: a hook on a tensor of shape ", shape_str(node.output_shape.to_shape()), " (",
                         dtype_name(grad.dtype()), ") returned a gradient of shape ", shape_str(replacement.shape()),
                         " (", dtype_name(replacement.dtype()), ")"));
    grad = std::move(replacement);
  }
  return grad;
}

bool all_finite(const Tensor& grad) {
  return visit_floating(grad.dtype(), "anomaly detection", [&](auto tag) {
    using T = decltype(tag);
    const Array<T>& values = array<T>(grad);
    return std::all_of(values.begin(), values.end(), [](T v) { return std::isfinite(v); });
  });
}

// Anomaly detection: the first non-finite gradient names the node that produced it and, in words,
// the forward op it belongs to.
void check_finite(const Node& node, const std::vector<Tensor>& grads) {
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined() || all_finite(grads[i])) continue;
    throw Error(concat("backward: ", node.name(), " returned NaN or infinite values in its gradient for input ", i,
                       " (shape ", shape_str(grads[i].shape()), "); it was created by ",
                       node.creation_context().empty() ? std::string("an op recorded before anomaly detection was on")
                                                       : node.creation_context()));
  }
}

}  // namespace

std::vector<Tensor> Engine::execute(const std::vector<Root>& roots, const Options& options,
                                    const std::vector<const Node*>& capture) {
  const std::uint64_t epoch = ++current_epoch;
  const auto first_visit = [epoch](Node& node) {
    if (node.visit_epoch_ == epoch) return false;
    node.visit_epoch_ = epoch;
    node.pending_inputs_ = 0;
    node.grad_buffer_ = Tensor();
    return true;
  };

  // 1. Discovery: count how many edges point at each reachable node. Room for a small model's graph
  // up front: grown from empty, these vectors reallocated several times per training step.
  constexpr std::size_t kTypicalNodes = 64;
  std::vector<Node*> to_visit, discovered;
  to_visit.reserve(kTypicalNodes);
  discovered.reserve(kTypicalNodes);
  for (const Root& root : roots)
    if (first_visit(*root.node)) to_visit.push_back(root.node.get());
  while (!to_visit.empty()) {
    Node* node = to_visit.back();
    to_visit.pop_back();
    discovered.push_back(node);
    check(!node->released_, "backward: trying to backward through the graph a second time (", node->name(),
          " has already freed its saved values); pass retain_graph=true to the first backward if you need to");
    for (const Edge& edge : node->next_edges_) {
      if (!edge.function) continue;
      if (first_visit(*edge.function)) to_visit.push_back(edge.function.get());
      ++edge.function->pending_inputs_;
    }
  }

  // 2. Kahn's algorithm from the roots nothing else points at. Shared pointers keep a ready node
  // alive after its consumer is released.
  std::vector<std::shared_ptr<Node>> ready;
  ready.reserve(kTypicalNodes);
  for (const Root& root : roots) {
    Node& node = *root.node;
    node.grad_buffer_ = node.grad_buffer_.defined() ? sum_of_gradients(node.grad_buffer_, root.grad) : root.grad;
    if (node.pending_inputs_ == 0 && std::none_of(ready.begin(), ready.end(), [&](const auto& r) { return r.get() == &node; }))
      ready.push_back(root.node);
  }
  std::vector<Tensor> captured(capture.size());
  // Nodes run with grad mode on only when the backward pass is to be recorded; restored on exit,
  // also when a node throws.
  struct RestoreGradMode {
    bool previous;
    ~RestoreGradMode() { GradMode::set_enabled(previous); }
  } restore{GradMode::is_enabled()};
  GradMode::set_enabled(options.create_graph);
  try {
    run_ready_nodes(ready, options, capture, captured);
  } catch (...) {
    // Gradients already sent to nodes that will not run now would stay in their buffers; under
    // create_graph such a gradient's graph leads back to the node holding it, a cycle that would
    // never be freed.
    for (Node* node : discovered) node->grad_buffer_ = Tensor();
    throw;
  }
  return captured;
}

void Engine::run_ready_nodes(std::vector<std::shared_ptr<Node>>& ready, const Options& options,
                             const std::vector<const Node*>& capture, std::vector<Tensor>& captured) {
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    Tensor grad = std::move(node->grad_buffer_);
    node->grad_buffer_ = Tensor();
    if (grad.defined()) grad = apply_tensor_hooks(*node, std::move(grad));
    for (std::size_t i = 0; i < capture.size(); ++i)
      if (capture[i] == node.get()) captured[i] = grad;
    std::vector<Tensor> input_grads;
    const bool skip = !options.accumulate_grad && dynamic_cast<AccumulateGrad*>(node.get()) != nullptr;
    if (grad.defined() && !skip) {
      node->check_saved_versions();
      if (options.create_graph && !node->supports_create_graph())
        throw Error(concat("backward: create_graph=true needs the derivative of ", node->name(),
                           "'s backward, which xgrad does not record yet"));
      input_grads = node->backward(grad);
      if (autograd::AnomalyMode::is_enabled()) check_finite(*node, input_grads);
    }
    for (std::size_t i = 0; i < node->next_edges_.size(); ++i) {
      const std::shared_ptr<Node>& next = node->next_edges_[i].function;
      if (!next) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        check_gradient(*node, i, input_grads[i], *next);
        next->grad_buffer_ = next->grad_buffer_.defined() ? sum_of_gradients(next->grad_buffer_, input_grads[i])
                                                          : std::move(input_grads[i]);
      }
      if (--next->pending_inputs_ == 0) ready.push_back(next);
    }
    // 3. Free what this node saved, unless the caller wants to run backward again.
    if (!options.keep_graph) node->release();
  }
}

}  // namespace xgrad
