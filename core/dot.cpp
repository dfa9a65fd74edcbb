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

// "[2, 3]" for a tensor, "scalar" for a 0-dim one: "[]" reads as "empty" to a newcomer.
std::string shape_words(const Shape& shape) { return shape.empty() ? "scalar" : shape_str(shape); }

// A 0-dim tensor is one number, so the picture shows it ("scalar 1.2753"); a larger one its shape.
std::string value_words(const Tensor& tensor) {
  if (tensor.dim() != 0) return shape_str(tensor.shape());
  std::ostringstream out;
  out << "scalar " << tensor.item<double>();
  return out.str();
}

// A gradient as its shape and L2 norm, or its value when it is one number.
std::string grad_words(const Tensor& grad) {
  std::ostringstream out;
  if (grad.dim() == 0) {
    out << "grad " << grad.item<double>();
  } else {
    out << "grad " << shape_str(grad.shape()) << " norm " << l2_norm(grad);
  }
  return out.str();
}

std::string leaf_label(const Tensor& leaf) {
  std::ostringstream label;
  // The user's name (Tensor::set_name; modules name their parameters "0.weight", ...).
  label << (leaf.name().empty() ? "leaf (unnamed)" : leaf.name()) << "\\n" << value_words(leaf) << ' '
        << dtype_name(leaf.dtype());
  if (leaf.grad().defined()) label << "\\n" << grad_words(leaf.grad());
  return label.str();
}

// `output` is the tensor to_dot was called on: its value is known for the root only, since a node
// does not keep its output (leaves and retained tensors are reached through the graph).
std::string node_label(const Node& node, const Tensor* output) {
  if (const auto* sink = dynamic_cast<const AccumulateGrad*>(&node)) return leaf_label(sink->leaf());
  std::ostringstream label;
  label << node.name();
  if (const char* fused = node.fused_description()) label << "\\n" << fused;
  const std::shared_ptr<TensorImpl> retained = node.retained_output();
  if (output) {
    label << "\\n" << value_words(*output);
  } else if (retained) {
    label << "\\n" << value_words(Tensor(retained));
  } else {
    label << "\\n" << shape_words(node.output_shape.to_shape());
  }
  // A tensor that called retain_grad() is marked and shows its gradient like a leaf does.
  if (retained && retained->retains_grad) {
    label << "\\nretain_grad()";
    if (retained->grad.defined()) label << "\\n" << grad_words(retained->grad);
  }
  return label.str();
}

// The key to the drawing's shapes, in a box of its own; its nodes have no edges to the graph.
void write_legend(std::ostringstream& dot) {
  dot << "  subgraph cluster_legend {\n"
         "    label=\"legend\"; fontname=\"Helvetica\"; fontsize=10; style=dashed; color=grey;\n"
         "    legend_op [shape=box, label=\"op: its Backward node\\noutput shape\"];\n"
         "    legend_root [shape=box, penwidth=2, label=\"the output to_dot was called on\"];\n"
         "    legend_leaf [shape=ellipse, style=filled, fillcolor=lightblue, "
         "label=\"leaf that requires grad\\nits name, shape, dtype, grad\"];\n"
         "    legend_retained [shape=box, style=\"dashed,bold\", color=darkorange, "
         "label=\"retained tensor\\n(retain_grad(): keeps its grad)\"];\n"
         "    legend_constant [shape=box, style=dashed, color=grey, fontcolor=grey, "
         "label=\"constant: an input\\nthat needs no grad\"];\n"
         "    legend_op -> legend_root [label=\" forward\", fontsize=9];\n"
         "  }\n";
}

}  // namespace

std::string to_dot(const Tensor& output) {
  check(output.defined(), "to_dot: called on an undefined tensor");
  std::ostringstream dot;
  dot << "digraph xgrad {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  write_legend(dot);
  const std::shared_ptr<Node> root = gradient_edge(output);
  if (!root) {
    dot << "  n0 [shape=ellipse, label=\"" << value_words(output) << "\\n(no graph: requires_grad is false)\"];\n}\n";
    return dot.str();
  }
  // Explicit stack, not recursion: graphs can be 100,000 ops deep.
  std::unordered_map<const Node*, std::size_t> ids{{root.get(), 0}};
  std::vector<const Node*> to_visit{root.get()};
  std::size_t constants = 0;
  while (!to_visit.empty()) {
    const Node* node = to_visit.back();
    to_visit.pop_back();
    const std::size_t id = ids.at(node);
    const bool leaf = dynamic_cast<const AccumulateGrad*>(node) != nullptr;
    const std::shared_ptr<TensorImpl> retained = leaf ? nullptr : node->retained_output();
    dot << "  n" << id << " [shape=";
    if (leaf) {
      dot << "ellipse, style=filled, fillcolor=lightblue";
    } else if (retained && retained->retains_grad) {
      dot << "box, style=\"dashed,bold\", color=darkorange";
    } else {
      dot << "box";
    }
    dot << (node == root.get() ? ", penwidth=2" : "") << ", label=\""
        << node_label(*node, node == root.get() ? &output : nullptr) << "\"];\n";
    const edge_list& edges = node->next_edges();
    for (std::size_t input = 0; input < edges.size(); ++input) {
      const Node* next = edges[input].function.get();
      if (!next) {
        // A null edge is an input the op recorded that needs no gradient (data, targets, a
        // constant). The graph keeps only its position, not its shape or values: a node does not
        // hold on to tensors it does not need for backward.
        dot << "  c" << constants << " [shape=box, style=dashed, color=grey, fontcolor=grey, label=\"constant\\ninput "
            << input << ", needs no grad\"];\n  c" << constants << " -> n" << id
            << " [style=dashed, color=grey];\n";
        ++constants;
        continue;
      }
      auto [it, inserted] = ids.emplace(next, ids.size());
      if (inserted) to_visit.push_back(next);
      dot << "  n" << it->second << " -> n" << id << ";\n";
    }
  }
  dot << "}\n";
  return dot.str();
}

}  // namespace xgrad
