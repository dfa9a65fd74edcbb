#include <xgrad/core/dot.hpp>

#include <cmath>
#include <sstream>
#include <unordered_map>

#include <xgrad/core/node.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad {

namespace {

double l2_norm(const Tensor& tensor) {
  return visit_any_dtype(tensor.dtype(), [&](auto tag) {
    using T = decltype(tag);
    double total = 0.0;
    for (T value : array<T>(tensor)) total += static_cast<double>(value) * static_cast<double>(value);
    return std::sqrt(total);
  });
}

std::string leaf_label(const Tensor& leaf) {
  std::ostringstream label;
  label << (leaf.name().empty() ? "leaf" : leaf.name()) << "\\n" << shape_str(leaf.shape()) << ' '
        << dtype_name(leaf.dtype());
  if (leaf.grad().defined())
    label << "\\ngrad " << shape_str(leaf.grad().shape()) << " norm " << l2_norm(leaf.grad());
  return label.str();
}

std::string node_label(const Node& node) {
  if (const auto* sink = dynamic_cast<const AccumulateGrad*>(&node)) return leaf_label(sink->leaf());
  std::ostringstream label;
  label << node.name() << "\\n" << shape_str(node.output_shape.to_shape());
  // A tensor that called retain_grad() shows its gradient like a leaf does.
  const std::shared_ptr<TensorImpl> retained = node.retained_output();
  if (retained && retained->retains_grad && retained->grad.defined())
    label << "\\ngrad " << shape_str(retained->grad.shape()) << " norm " << l2_norm(retained->grad);
  return label.str();
}

}  // namespace

std::string to_dot(const Tensor& output) {
  check(output.defined(), "to_dot: called on an undefined tensor");
  std::ostringstream dot;
  dot << "digraph xgrad {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  const std::shared_ptr<Node> root = gradient_edge(output);
  if (!root) {
    dot << "  n0 [shape=ellipse, label=\"" << shape_str(output.shape()) << "\\n(no graph: requires_grad is false)\"];\n}\n";
    return dot.str();
  }
  // Explicit stack, not recursion: graphs can be 100,000 ops deep.
  std::unordered_map<const Node*, std::size_t> ids{{root.get(), 0}};
  std::vector<const Node*> to_visit{root.get()};
  while (!to_visit.empty()) {
    const Node* node = to_visit.back();
    to_visit.pop_back();
    const std::size_t id = ids.at(node);
    const bool leaf = dynamic_cast<const AccumulateGrad*>(node) != nullptr;
    dot << "  n" << id << " [shape=" << (leaf ? "ellipse, style=filled, fillcolor=lightblue" : "box")
        << (node == root.get() ? ", penwidth=2" : "") << ", label=\"" << node_label(*node) << "\"];\n";
    for (const Edge& edge : node->next_edges()) {
      const Node* next = edge.function.get();
      if (!next) continue;
      auto [it, inserted] = ids.emplace(next, ids.size());
      if (inserted) to_visit.push_back(next);
      dot << "  n" << it->second << " -> n" << id << ";\n";
    }
  }
  dot << "}\n";
  return dot.str();
}

}  // namespace xgrad
