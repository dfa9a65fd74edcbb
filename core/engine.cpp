#include <xgrad/core/engine.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <type_traits>
#include <variant>

#include <xgrad/core/anomaly_mode.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/core/trace.hpp>

namespace xgrad {

namespace {

// d(a + b) = (g, g): the sum of two gradient contributions, recorded only when a backward pass is
// itself being recorded (create_graph).
struct GradientSumBackward final : Node {
  const char* name() const override { return "AddBackward0"; }
  const char* formula() const override { return "d (a + b)/d a = g\nd (a + b)/d b = g"; }
  gradient_list backward(const Tensor& grad) override { return {grad, grad}; }
};

}  // namespace

namespace {
// total[i] += addend[i] for two distinct buffers: a plain loop the compiler vectorises (xtensor's +=
// on two arrays ran element by element here).
template <class T>
void add_into(T* __restrict total, const T* __restrict addend, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) total[i] += addend[i];
}

// sum[i] = a[i] + b[i], in one pass.
template <class T>
void add(const T* __restrict a, const T* __restrict b, T* __restrict sum, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) sum[i] = a[i] + b[i];
}
}  // namespace

Tensor sum_of_gradients(const Tensor& a, const Tensor& b) {
  Tensor total = visit_floating(a.dtype(), "backward", [&](auto tag) {
    using T = decltype(tag);
    const Array<T>& x = array<T>(a);
    const Array<T>& y = array<T>(b);
    if (x.shape() != y.shape()) {  // broadcast by xtensor
      Array<T> values = x;
      values += y;
      return make_tensor(std::move(values));
    }
    Array<T> values = Array<T>::from_shape(x.shape());
    add(x.data(), y.data(), values.data(), values.size());
    return make_tensor(std::move(values));
  });
  if (any_requires_grad({&a, &b})) record(total, make_node<GradientSumBackward>(), {&a, &b});
  return total;
}

bool add_gradient_in_place(const Tensor& total, const Tensor& addend) {
  if (total.requires_grad() || !same_dtype_and_shape(total, addend) || total.impl()->storage == addend.impl()->storage)
    return false;
  visit_floating(total.dtype(), "backward", [&](auto tag) {
    using T = decltype(tag);
    add_into(mutable_array<T>(total).data(), array<T>(addend).data(), static_cast<std::size_t>(total.numel()));
  });
  total.impl()->storage->bump_version();
  return true;
}

namespace {
// Whether the tensor's array has exactly these dimensions (a Shape or an InlineShape).
template <class Dims>
bool has_dims(const Tensor& tensor, const Dims& dims) {
  if (const auto& strided = tensor.impl()->strided)
    return std::equal(strided->layout.sizes.begin(), strided->layout.sizes.end(), dims.begin(), dims.end());
  return std::visit([&](const auto& a) { return std::equal(a.shape().begin(), a.shape().end(), dims.begin(), dims.end()); },
                    static_cast<const StorageVariant&>(*tensor.impl()->storage));
}
}  // namespace

bool has_shape(const Tensor& tensor, const Shape& shape) { return has_dims(tensor, shape); }

bool has_shape(const Tensor& tensor, const InlineShape& shape) { return has_dims(tensor, shape); }

bool has_shape(const Tensor& tensor, std::initializer_list<std::int64_t> shape) { return has_dims(tensor, shape); }

bool same_dtype_and_shape(const Tensor& a, const Tensor& b) {
  if (a.impl()->strided || b.impl()->strided) return a.dtype() == b.dtype() && has_shape(a, b.shape());
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
  if (const auto& strided = tensor.impl()->strided) return out.assign(strided->layout.sizes);
  std::visit([&](const auto& a) { out.assign(a.shape()); }, static_cast<const StorageVariant&>(*tensor.impl()->storage));
}

namespace {

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
void check_finite(const Node& node, const gradient_list& grads) {
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined() || all_finite(grads[i])) continue;
    throw Error(concat("backward: ", node.name(), " returned NaN or infinite values in its gradient for input ", i,
                       " (shape ", shape_str(grads[i].shape()), "); it was created by ",
                       node.creation_context().empty() ? std::string("an op recorded before anomaly detection was on")
                                                       : node.creation_context()));
  }
}

}  // namespace

// ---- the state of one backward call ---------------------------------------------------------------

// What one call of Engine::execute knows about the graph: the nodes it reaches, for each how many of
// its consumers have yet to run, and the gradient summed for it so far. It lives with the call, not
// in the nodes, so a backward started from a hook during another backward, or on another thread,
// keeps its own count for a node the two share (a leaf's AccumulateGrad, say).
class GraphTask {
 public:
  struct NodeTask {
    Node* node = nullptr;
    std::size_t pending = 0;  // consumers that have not sent their gradient yet
    Tensor grad;              // the sum of what they sent
  };

  // The node's entry, made on first sight: (its position in tasks(), whether it is new).
  std::pair<std::size_t, bool> insert(Node* node) {
    if (2 * (tasks_.size() + 1) > slots_.size()) grow();
    std::size_t slot = home_slot(node);
    while (slots_[slot] != kEmpty) {
      if (tasks_[slots_[slot]].node == node) return {slots_[slot], false};
      slot = (slot + 1) & (slots_.size() - 1);
    }
    slots_[slot] = static_cast<std::uint32_t>(tasks_.size());
    tasks_.push_back({node, 0, Tensor()});
    return {tasks_.size() - 1, true};
  }
  // The entry of a node the discovery reached.
  NodeTask& at(const Node* node) {
    std::size_t slot = home_slot(node);
    while (tasks_[slots_[slot]].node != node) slot = (slot + 1) & (slots_.size() - 1);
    return tasks_[slots_[slot]];
  }
  std::vector<NodeTask>& tasks() { return tasks_; }
  // Nodes whose consumers have all run, and discovery's stack: kept here so that their capacity
  // is reused by the next call.
  std::vector<std::shared_ptr<Node>> ready;
  std::vector<Node*> to_visit;

  // Empties the task but keeps its memory: a training step then allocates nothing here.
  void clear() {
    tasks_.clear();
    std::fill(slots_.begin(), slots_.end(), kEmpty);
    ready.clear();
    to_visit.clear();
  }

 private:
  static constexpr std::uint32_t kEmpty = ~std::uint32_t{0};

  std::size_t home_slot(const Node* node) const {
    // Nodes are heap objects aligned to 16 bytes: the low bits carry nothing.
    const auto bits = reinterpret_cast<std::uintptr_t>(node) >> 4;
    return (bits * 0x9E3779B97F4A7C15ull >> 17) & (slots_.size() - 1);
  }
  // Doubles the open-addressed index (at most half full) and re-inserts every node.
  void grow() {
    slots_.assign(std::max<std::size_t>(128, 2 * slots_.size()), kEmpty);
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      std::size_t slot = home_slot(tasks_[i].node);
      while (slots_[slot] != kEmpty) slot = (slot + 1) & (slots_.size() - 1);
      slots_[slot] = static_cast<std::uint32_t>(i);
    }
  }

  std::vector<NodeTask> tasks_;
  std::vector<std::uint32_t> slots_;  // positions in tasks_, by the node's address
};

namespace {

// Each thread keeps the tasks it has finished, so that the next backward reuses their memory; a
// backward nested in a hook takes another one.
class TaskLease {
 public:
  TaskLease() {
    if (spare().empty()) {
      task_ = std::make_unique<GraphTask>();
    } else {
      task_ = std::move(spare().back());
      spare().pop_back();
    }
  }
  ~TaskLease() {
    task_->clear();
    spare().push_back(std::move(task_));
  }
  TaskLease(const TaskLease&) = delete;
  TaskLease& operator=(const TaskLease&) = delete;
  GraphTask& operator*() const { return *task_; }

 private:
  static std::vector<std::unique_ptr<GraphTask>>& spare() {
    thread_local std::vector<std::unique_ptr<GraphTask>> tasks;
    return tasks;
  }
  std::unique_ptr<GraphTask> task_;
};

}  // namespace

std::vector<Tensor> Engine::execute(const std::vector<Root>& roots, const Options& options,
                                    const std::vector<const Node*>& capture) {
  return execute(roots.data(), roots.size(), options, capture);
}

std::vector<Tensor> Engine::execute(const Root* first_root, std::size_t count, const Options& options,
                                    const std::vector<const Node*>& capture) {
  const Root* const roots_end = first_root + count;
  const TaskLease lease;
  GraphTask& task = *lease;
  if (autograd::detail::innermost_observer) autograd::detail::notify_backward_begins(options.accumulate_grad);

  // 1. Discovery: count how many edges point at each reachable node, with an explicit stack.
  for (const Root* root = first_root; root != roots_end; ++root)
    if (task.insert(root->node.get()).second) task.to_visit.push_back(root->node.get());
  while (!task.to_visit.empty()) {
    Node* node = task.to_visit.back();
    task.to_visit.pop_back();
    check(!node->released_, "backward: trying to backward through the graph a second time (", node->name(),
          " has already freed its saved values); pass retain_graph=true to the first backward if you need to");
    for (const Edge& edge : node->next_edges_) {
      if (!edge.function) continue;
      const auto [index, is_new] = task.insert(edge.function.get());
      if (is_new) task.to_visit.push_back(edge.function.get());
      ++task.tasks()[index].pending;
    }
  }

  // 2. Kahn's algorithm from the roots nothing else points at. Shared pointers keep a ready node
  // alive after its consumer is released.
  for (const Root* next_root = first_root; next_root != roots_end; ++next_root) {
    const Root& root = *next_root;
    GraphTask::NodeTask& entry = task.at(root.node.get());
    entry.grad = entry.grad.defined() ? sum_of_gradients(entry.grad, root.grad) : root.grad;
    if (entry.pending == 0 &&
        std::none_of(task.ready.begin(), task.ready.end(), [&](const auto& r) { return r == root.node; }))
      task.ready.push_back(root.node);
  }
  std::vector<Tensor> captured(capture.size());
  // Nodes run with grad mode on only when the backward pass is to be recorded; restored on exit,
  // also when a node throws. Gradients still waiting in the task are dropped with it either way.
  struct RestoreGradMode {
    bool previous;
    ~RestoreGradMode() { GradMode::set_enabled(previous); }
  } restore{GradMode::is_enabled()};
  GradMode::set_enabled(options.create_graph);
  run_ready_nodes(task, options, capture, captured);
  return captured;
}

void Engine::run_ready_nodes(GraphTask& task, const Options& options, const std::vector<const Node*>& capture,
                             std::vector<Tensor>& captured) {
  while (!task.ready.empty()) {
    std::shared_ptr<Node> node = std::move(task.ready.back());
    task.ready.pop_back();
    Tensor grad = std::move(task.at(node.get()).grad);
    if (grad.defined()) grad = apply_tensor_hooks(*node, std::move(grad));
    for (std::size_t i = 0; i < capture.size(); ++i)
      if (capture[i] == node.get()) captured[i] = grad;
    gradient_list input_grads;
    const bool skip = !options.accumulate_grad && dynamic_cast<AccumulateGrad*>(node.get()) != nullptr;
    if (grad.defined() && !skip) {
      input_grads = options.create_graph ? node->backward(grad) : node->fused_backward(grad);
      if (autograd::AnomalyMode::is_enabled()) check_finite(*node, input_grads);
    }
    // TraceGuard and HtmlRecorder (core/trace.hpp): one thread-local load when none is alive.
    if (autograd::detail::innermost_observer) autograd::detail::notify_ran(node, grad, input_grads);
    for (std::size_t i = 0; i < node->next_edges_.size(); ++i) {
      const std::shared_ptr<Node>& next = node->next_edges_[i].function;
      if (!next) continue;
      GraphTask::NodeTask& entry = task.at(next.get());
      if (i < input_grads.size() && input_grads[i].defined()) {
        check_gradient(*node, i, input_grads[i], *next);
        entry.grad = entry.grad.defined() ? sum_of_gradients(entry.grad, input_grads[i]) : std::move(input_grads[i]);
      }
      if (--entry.pending == 0) task.ready.push_back(next);
    }
    // 3. Free what this node saved, unless the caller wants to run backward again.
    if (!options.keep_graph) node->release();
  }
}

}  // namespace xgrad
