#include <xgrad/core/node.hpp>

#include <atomic>
#include <cctype>
#include <string>

#include <xgrad/core/anomaly_mode.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/core/trace.hpp>

namespace xgrad {

namespace {
// Nodes waiting to be destroyed, and whether a loop below is already destroying them on this thread.
thread_local std::vector<std::shared_ptr<Node>> parked_nodes;
thread_local bool destroying_parked_nodes = false;
}  // namespace

void defer_destruction(std::shared_ptr<Node>&& node) {
  if (!node) return;
  // Not the last owner: dropping it destroys nothing (most edges of a live graph), so it needs no
  // parking. Should another thread drop its share meanwhile, this reset destroys one node, whose own
  // edges are parked as usual: still no recursion down the graph.
  if (node.use_count() > 1) {
    node.reset();
    return;
  }
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
  for (auto& edge : next_edges_) defer_destruction(std::move(edge.function));
}

TensorImpl::~TensorImpl() { defer_destruction(std::move(grad_fn)); }

void Node::release() {
  release_saved();
  released_ = true;
}

std::vector<Node::TensorHook>& AccumulateGrad::tensor_hooks() { return leaf_.impl()->hooks; }

// d leaf.grad += grad_output
gradient_list AccumulateGrad::backward(const Tensor& grad_output) {
  TensorImpl& leaf = *leaf_.impl();
  if (leaf.grad.defined()) {
    // Under create_graph the sum is a new, recorded tensor; otherwise it goes into grad() in place.
    if (GradMode::is_enabled() || !add_gradient_in_place(leaf.grad, grad_output))
      leaf.grad = sum_of_gradients(leaf.grad, grad_output);
  } else {
    // The engine hands over gradients it no longer needs; anything still shared (a grad_output the
    // user passed in, a gradient routed to two leaves) is copied so grads never alias.
    leaf.grad = is_exclusive(grad_output) ? grad_output : grad_output.clone();
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
    // The expired weak_ptr still holds the last graph's node's memory (one block with its control
    // block): let it go first, so the new node reuses that block instead of needing another.
    impl.grad_accumulator.reset();
    accumulator = make_cached_shared<AccumulateGrad>(input);
    copy_shape(input, accumulator->output_shape);
    accumulator->output_dtype = input.dtype();
    impl.grad_accumulator = accumulator;
  }
  return accumulator;
}

namespace {

// "LogSoftmaxBackward0" -> "log_softmax": node names are PyTorch's "<Op>Backward<n>", and the op
// is the part before "Backward" in the snake case users call it by.
std::string forward_op_name(const char* node_name) {
  const std::string camel = std::string(node_name).substr(0, std::string(node_name).find("Backward"));
  std::string snake;
  for (std::size_t i = 0; i < camel.size(); ++i) {
    const char c = camel[i];
    if (std::isupper(static_cast<unsigned char>(c)) && i > 0 && !std::isdigit(static_cast<unsigned char>(camel[i - 1])))
      snake += '_';
    snake += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return snake;
}

// "the forward op sqrt on inputs of shape [1]": where a node came from, as anomaly detection reports it.
template <class Inputs>
std::string describe_creation(const Node& node, const Inputs& inputs) {
  static std::atomic<std::uint64_t> recorded{0};
  const std::string op = forward_op_name(node.name());
  std::string shapes;
  for (const Tensor* input : inputs) {
    if (!shapes.empty()) shapes += ", ";
    shapes += input->defined() ? shape_str(input->shape()) : "undefined";
  }
  return concat("the forward op ", op, " on inputs of shape ", shapes, " (op #", ++recorded,
                " recorded while anomaly detection was on)");
}

template <class Inputs>
void record_inputs(Tensor& output, std::shared_ptr<Node> node, const Inputs& inputs) {
  if (autograd::AnomalyMode::is_enabled()) node->set_creation_context(describe_creation(*node, inputs));
  edge_list edges;
  edges.reserve(inputs.size());
  for (const Tensor* input : inputs) edges.push_back({gradient_edge(*input), 0});
  node->set_next_edges(std::move(edges));
  copy_shape(output, node->output_shape);
  node->output_dtype = output.dtype();
  output.impl()->grad_fn = std::move(node);
  output.impl()->requires_grad = true;
  // An HtmlRecorder keeps the values of what was recorded (core/trace.hpp); nothing when none is alive.
  if (autograd::detail::innermost_observer) autograd::detail::notify_recorded(output.impl()->grad_fn, output);
}

}  // namespace

void record(Tensor& output, std::shared_ptr<Node> node, std::initializer_list<const Tensor*> inputs) {
  record_inputs(output, std::move(node), inputs);
}

void record(Tensor& output, std::shared_ptr<Node> node, const std::vector<const Tensor*>& inputs) {
  record_inputs(output, std::move(node), inputs);
}


namespace {

// Passes the gradient through to the result it wraps and gives its source zeros of its shape.
class ZeroGradientToSource final : public Node {
 public:
  ZeroGradientToSource(const char* name, Shape source_shape, Dtype source_dtype)
      : name_(name), source_shape_(std::move(source_shape)), source_dtype_(source_dtype) {}
  const char* name() const override { return name_; }
  const char* formula() const override {
    return "d/d result = g  (passed through)\nd/d source = 0  (a step of source, whose derivative is 0)";
  }
  gradient_list backward(const Tensor& grad) override {
    return {grad, zeros(source_shape_, source_dtype_)};
  }

 private:
  const char* name_;
  Shape source_shape_;
  Dtype source_dtype_;
};

}  // namespace

Tensor with_zero_gradient_to(const Tensor& result, const Tensor& source, const char* node_name) {
  if (!any_requires_grad({&result, &source})) return result;
  Tensor out = result.detach();
  record(out, make_node<ZeroGradientToSource>(node_name, source.shape(), source.dtype()), {&result, &source});
  return out;
}

}  // namespace xgrad
