#pragma once
// Node: one recorded op in the reverse-mode graph.
//
// A tensor produced by a recorded op points to its Node (grad_fn). The Node points to the Nodes that
// produced its inputs (next edges) and keeps whatever its derivative needs (saved tensors/arrays).
// Ownership only points from outputs towards inputs: a Node keeps what it needs as SavedTensors,
// which never hold the node's own output with its history, nor a handle whose history can change
// later (core/saved_tensor.hpp), so the graph has no shared_ptr cycle. Leaves that require grad are reached through an
// AccumulateGrad node, which adds the incoming gradient into the leaf's grad().
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <xgrad/core/saved_tensor.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/kernels/buffer_cache.hpp>

namespace xgrad {

class Node;

// A node's output shape, its dimensions stored inline up to kInlineDims: every recorded op makes a
// node, and every leaf of every graph an AccumulateGrad, so a Shape (a heap-allocated vector) there
// cost an allocation per node, about a quarter of a tiny training step's.
class InlineShape {
 public:
  static constexpr std::size_t kInlineDims = 6;

  InlineShape() = default;
  // From a Shape, so functions taking an InlineShape accept tensor.shape() where speed does not matter.
  InlineShape(const Shape& dims) { assign(dims); }
  // Copies any sequence of dimensions with size(), begin() and end() (a Shape, an array's shape).
  template <class Dims>
  void assign(const Dims& dims) {
    size_ = static_cast<std::size_t>(dims.size());
    if (size_ <= kInlineDims) {
      std::size_t d = 0;
      for (auto dim : dims) inline_[d++] = static_cast<std::int64_t>(dim);
    } else {
      more_.assign(dims.begin(), dims.end());
    }
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::int64_t* begin() const { return size_ <= kInlineDims ? inline_.data() : more_.data(); }
  const std::int64_t* end() const { return begin() + size_; }
  std::int64_t* begin() { return size_ <= kInlineDims ? inline_.data() : more_.data(); }
  std::int64_t* end() { return begin() + size_; }
  std::int64_t operator[](std::size_t d) const { return begin()[d]; }
  std::int64_t& operator[](std::size_t d) { return begin()[d]; }
  std::int64_t back() const { return begin()[size_ - 1]; }
  std::int64_t& back() { return begin()[size_ - 1]; }
  Shape to_shape() const { return Shape(begin(), end()); }
  // Removes dimension d (d < size()).
  void erase(std::size_t d) {
    if (size_ > kInlineDims) {
      Shape dims = to_shape();
      dims.erase(dims.begin() + static_cast<std::ptrdiff_t>(d));
      return assign(dims);
    }
    std::copy(inline_.begin() + d + 1, inline_.begin() + size_, inline_.begin() + d);
    --size_;
  }
  friend bool operator==(const InlineShape& a, const InlineShape& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator!=(const InlineShape& a, const InlineShape& b) { return !(a == b); }

 private:
  std::array<std::int64_t, kInlineDims> inline_{};
  std::size_t size_ = 0;
  std::vector<std::int64_t> more_;  // used only past kInlineDims dimensions
};

// An edge of the graph, as libtorch's torch::autograd::Edge: the node that receives the gradient
// of one input (its grad_fn, the AccumulateGrad of a leaf, or null when the input needs no grad),
// and which of that node's inputs it is (always 0 in xgrad: every node has one output).
struct Edge {
  std::shared_ptr<Node> function;
  std::uint32_t input_nr = 0;
  bool is_valid() const { return function != nullptr; }
};

// A node's edges and the gradients its backward returns, as libtorch's edge_list and variable_list
// but with their memory from the per-thread buffer cache (kernels/buffer_cache.hpp): every node of
// every step makes one of each, and with std::allocator those were a third of a small training
// step's calls to malloc. They are std::vectors in every other respect: `return {dx, dw};` works.
using edge_list = cached_vector<Edge>;
using gradient_list = cached_vector<Tensor>;

// enable_shared_from_this: a saved output unpacked under create_graph gets its node back as grad_fn.
class Node : public std::enable_shared_from_this<Node> {
 public:
  // Frees the edges without recursing into the nodes behind them (see defer_destruction).
  virtual ~Node();
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The op's name as PyTorch 1.13 prints it, e.g. "MulBackward0" (to_dot and error messages).
  virtual const char* name() const = 0;
  // What the node computes in words, for a node whose PyTorch name hides part of its work (a fused
  // node keeping the name of its last op); null for the rest. to_dot shows it under the name, so a
  // student does not read cross_entropy's "NllLossBackward0" as NLL applied to raw logits.
  virtual const char* fused_description() const { return nullptr; }
  // The local derivative in words, one line per input in input order, lines separated by '\n':
  // g is the gradient arriving, x the input, y the output ("d tanh(x) = g * (1 - y^2)"). A node
  // whose number of inputs varies (cat, stack) gives one line for all of them. Written beside each
  // node's backward, the only description of its derivative besides the code; to_html shows it, and
  // any tool may read it. Null for a node that does not say (every built-in node does).
  virtual const char* formula() const { return nullptr; }
  // Given d loss / d output, returns d loss / d input for each input, in input order. An entry may
  // be left undefined where needs_input_grad(i) is false. Written in xgrad's own ops, this is the
  // definition of the derivative: under create_graph the engine runs it in grad mode, so the
  // gradient is itself recorded and can be differentiated again; otherwise the same ops compute the
  // same values without recording anything.
  virtual gradient_list backward(const Tensor& grad_output) = 0;
  // The same derivative computed by a fused loop instead of a chain of ops, which the engine calls
  // when create_graph is off. A node overrides it only where bench/fused_backward.cpp shows the
  // loop pays (docs/performance.md lists them); the default is backward() itself.
  virtual gradient_list fused_backward(const Tensor& grad_output) { return backward(grad_output); }

  // One edge per input, in input order (libtorch's name; next_functions() is Python's).
  const edge_list& next_edges() const { return next_edges_; }
  const edge_list& next_functions() const { return next_edges_; }
  std::size_t num_inputs() const { return next_edges_.size(); }
  bool needs_input_grad(std::size_t input) const {
    return input < next_edges_.size() && next_edges_[input].function != nullptr;
  }
  // Frees what the node saved for backward. The edges stay, so the graph's structure can still be
  // walked (to_dot, grad_fn()->next_functions()) until its output is dropped; a second backward
  // through a released node is an error.
  virtual void release();
  bool released() const { return released_; }

  // The hooks of the tensor this node produced (Tensor::register_hook, retain_grad): they see the
  // node's incoming gradient before backward runs, in registration order, and may replace it. They
  // live here rather than in the tensor, as in PyTorch, so a hook on a temporary still fires. For
  // AccumulateGrad they are the leaf's. Usually empty, which costs nothing.
  using TensorHook = std::function<Tensor(const Tensor&)>;
  virtual std::vector<TensorHook>& tensor_hooks() { return tensor_hooks_; }
  // The output that called retain_grad() (while it is alive), so to_dot can show its gradient.
  std::shared_ptr<TensorImpl> retained_output() const { return retained_output_.lock(); }
  void set_retained_output(const std::shared_ptr<TensorImpl>& output) { retained_output_ = output; }

  // Where the forward op ran, in words, recorded only while anomaly detection is on
  // (autograd::DetectAnomalyGuard): the op, its input shapes and its place in the recording order.
  const std::string& creation_context() const { return creation_context_; }
  void set_creation_context(std::string context) { creation_context_ = std::move(context); }

  // Wires the node to its inputs; called once by record().
  void set_next_edges(edge_list edges) { next_edges_ = std::move(edges); }
  // Shape and dtype of the op's output, checked against incoming gradients and shown by to_dot.
  InlineShape output_shape;
  Dtype output_dtype = kFloat32;

 protected:
  // Overridden by nodes that save tensors or arrays: reset them here.
  virtual void release_saved() {}

 private:
  friend class Engine;
  edge_list next_edges_;
  bool released_ = false;
  std::vector<TensorHook> tensor_hooks_;
  std::weak_ptr<TensorImpl> retained_output_;
  std::string creation_context_;
};

// The name and formula of one op, for a node class that several ops share (view, squeeze and
// unsqueeze all reshape g back): each op passes its own, a static constant, and the node keeps a
// pointer to it, no more than a name alone.
struct NodeText {
  const char* name;
  const char* formula;
};

// The sink of the graph for a leaf: adds the incoming gradient into leaf.grad().
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(Tensor leaf) : leaf_(std::move(leaf)) {}
  const char* name() const override { return "AccumulateGrad"; }
  // A sink: no inputs, so its one line says what it does with g.
  const char* formula() const override { return "leaf.grad() += g  (the sum of every path's contribution)"; }
  gradient_list backward(const Tensor& grad_output) override;
  const Tensor& leaf() const { return leaf_; }
  // libtorch's name for the leaf.
  const Tensor& variable() const { return leaf_; }
  std::vector<TensorHook>& tensor_hooks() override;
  // Shared by every graph that reads the leaf, so one backward must not free it for the others.
  void release() override {}

 private:
  Tensor leaf_;
};

// A new node of type N, its memory (node and control block in one) from the buffer cache: ops make
// one per recorded call, and a training step makes the same ones every time.
template <class N, class... Args>
std::shared_ptr<N> make_node(Args&&... args) {
  return make_cached_shared<N>(std::forward<Args>(args)...);
}

// Drops a reference to a node without destroying the graph behind it recursively: a 100,000-op chain
// freed by recursive destructors would overflow the stack. The node is parked and destroyed by a loop.
void defer_destruction(std::shared_ptr<Node>&& node);

// True when an op on these inputs must be recorded: grad mode is on and one of them requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
// The node an op's edge should point to for this input (its grad_fn, its AccumulateGrad, or null).
std::shared_ptr<Node> gradient_edge(const Tensor& input);

// Attaches `node` to `output` as its grad_fn with one edge per input. Ops call it only when
// any_requires_grad() said so: `if (any_requires_grad({&a, &b})) record(out, node, {&a, &b});`
// What the node reads in backward it holds as SavedTensors, made when it was constructed.
void record(Tensor& output, std::shared_ptr<Node> node, std::initializer_list<const Tensor*> inputs);
// The same for ops whose number of inputs is known only at run time (cat, stack).
void record(Tensor& output, std::shared_ptr<Node> node, const std::vector<const Tensor*>& inputs);


// `result` with one more input, `source`, whose gradient is zero. A step function (relu's mask,
// sign(x)) has derivative 0 wherever it exists, and PyTorch hands that 0 on rather than no
// gradient at all: threshold_backward, leaky_relu_backward, hardtanh_backward and sgn give
// zeros_like(self). So a second backward through relu leaves x.grad() as zeros, not undefined.
// create_graph formulas wrap what they compute from such a step of `source` in this; `node_name`
// is the name PyTorch gives the recorded derivative ("ThresholdBackwardBackward0").
Tensor with_zero_gradient_to(const Tensor& result, const Tensor& source, const char* node_name);

}  // namespace xgrad
