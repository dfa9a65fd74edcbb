// to_dot: what the Graphviz picture of a graph says about it. The checks look for label text and
// node attributes in the DOT source; the layout is Graphviz's business.
#include <gtest/gtest.h>

#include <string>

#include "compare.hpp"

namespace xgrad {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(ToDot, HasALegendForEachKindOfBox) {
  Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  const std::string dot = to_dot((w * 2.0).sum());
  EXPECT_TRUE(contains(dot, "subgraph cluster_legend"));
  EXPECT_TRUE(contains(dot, "op: its Backward node"));
  EXPECT_TRUE(contains(dot, "leaf that requires grad"));
  EXPECT_TRUE(contains(dot, "retained tensor"));
  EXPECT_TRUE(contains(dot, "constant: an input"));
  // The legend's boxes stand apart: no edge joins them to the graph's nodes.
  EXPECT_FALSE(contains(dot, "legend_op -> n"));
  EXPECT_FALSE(contains(dot, "0 -> legend"));
  EXPECT_TRUE(contains(dot, "legend_op -> legend_root"));
}

TEST(ToDot, DrawsAZeroDimTensorAsAScalarWithItsValue) {
  Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  w.set_name("w");
  Tensor s = tensor(0.5, kFloat64).requires_grad_();
  s.set_name("s");
  const Tensor loss = (w * w).sum() * s;  // (1 + 4) * 0.5 = 2.5
  std::string dot = to_dot(loss);
  EXPECT_TRUE(contains(dot, "MulBackward0\\nscalar 2.5\""));  // the root: its value is known
  EXPECT_TRUE(contains(dot, "SumBackward0\\nscalar\""));      // an intermediate: no value kept
  EXPECT_TRUE(contains(dot, "s\\nscalar 0.5 float64"));        // a 0-dim leaf
  EXPECT_FALSE(contains(dot, "[]"));
  loss.backward();
  dot = to_dot(loss);
  EXPECT_TRUE(contains(dot, "s\\nscalar 0.5 float64\\ngrad 5\""));  // d loss / d s = 5, one number
  EXPECT_TRUE(contains(dot, "w\\n[2] float64\\ngrad [2] norm"));
}

TEST(ToDot, DrawsAnOutputWithoutAGraph) {
  EXPECT_TRUE(contains(to_dot(tensor(3.0)), "scalar 3\\n(no graph: requires_grad is false)"));
  EXPECT_TRUE(contains(to_dot(tensor({1.0, 2.0})), "[2]\\n(no graph"));
}

TEST(ToDot, MarksRetainedTensorsBeforeAndAfterBackward) {
  Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor hidden = exp(w);
  hidden.retain_grad();
  Tensor total = hidden.sum();
  total.retain_grad();
  const Tensor loss = total * 3.0;
  std::string dot = to_dot(loss);
  EXPECT_TRUE(contains(dot, "shape=box, style=\"dashed,bold\", color=darkorange, label=\"ExpBackward0\\n[2]\\nretain_grad()\""));
  EXPECT_TRUE(contains(dot, "SumBackward0\\nscalar "));  // a retained 0-dim tensor shows its value
  EXPECT_FALSE(contains(dot, "grad [2]"));
  loss.backward();
  dot = to_dot(loss);
  EXPECT_TRUE(contains(dot, "ExpBackward0\\n[2]\\nretain_grad()\\ngrad [2] norm"));
  EXPECT_TRUE(contains(dot, "retain_grad()\\ngrad 3\""));  // d loss / d total = 3
  // A box that did not call retain_grad() is not marked.
  EXPECT_TRUE(contains(dot, "shape=box, penwidth=2, label=\"MulBackward0"));
}

TEST(ToDot, DrawsInputsThatNeedNoGradAsFaintConstants) {
  Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  const Tensor data = tensor({3.0, 4.0}, kFloat64);
  const std::string dot = to_dot((data * w).sum());
  // data is MulBackward0's input 0, a null edge: drawn dashed and grey, joined by a dashed edge.
  EXPECT_TRUE(contains(dot, "[shape=box, style=dashed, color=grey, fontcolor=grey, label=\"constant\\ninput 0, needs no grad\"]"));
  EXPECT_TRUE(contains(dot, "c0 -> n"));
  EXPECT_TRUE(contains(dot, "[style=dashed, color=grey]"));
  EXPECT_FALSE(contains(dot, "c1 "));  // w needs grad: a leaf, not a constant

  // A linear layer on data: addmm's input (x) is the constant, the weight and bias are leaves.
  nn::Linear layer(2, 3);
  const std::string linear = to_dot(layer(tensor({{1.f, 2.f}})).sum());
  EXPECT_TRUE(contains(linear, "constant\\ninput"));
  EXPECT_TRUE(contains(linear, "weight\\n[3, 2] float32"));
  EXPECT_TRUE(contains(linear, "bias\\n[3] float32"));
}

TEST(ToDot, NamesLeavesByTheUsersNames) {
  Tensor named = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  named.set_name("weights");
  Tensor unnamed = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  const std::string dot = to_dot((named * unnamed).sum());
  EXPECT_TRUE(contains(dot, "label=\"weights\\n[2] float64"));
  EXPECT_TRUE(contains(dot, "label=\"leaf (unnamed)\\n[2] float64"));
  // Modules name their parameters by their dotted path.
  nn::Sequential model(nn::Linear(2, 2), nn::Tanh(), nn::Linear(2, 1));
  const std::string net = to_dot(model->forward(tensor({{1.f, 2.f}})).sum());
  EXPECT_TRUE(contains(net, "label=\"0.weight\\n[2, 2] float32"));
  EXPECT_TRUE(contains(net, "label=\"2.bias\\n[1] float32"));
}

TEST(ToDot, ShowsTheLogSoftmaxInsideCrossEntropy) {
  Tensor logits = tensor({{1.0, 2.0, 3.0}, {2.0, 4.0, 6.0}}, kFloat64).requires_grad_();
  const Tensor targets = tensor({2, 1});
  // cross_entropy is one fused node that keeps PyTorch's name for its last op, nll_loss.
  const std::string fused = to_dot(nn::functional::cross_entropy(logits, targets));
  EXPECT_TRUE(contains(fused, "NllLossBackward0\\nlog_softmax + nll_loss (fused)\\nscalar 1.27527"));
  const std::string smoothed = to_dot(nn::functional::cross_entropy(
      logits, targets, nn::functional::CrossEntropyFuncOptions().label_smoothing(0.1)));
  EXPECT_TRUE(contains(smoothed, "CrossEntropyLossBackward0\\nlog_softmax + nll_loss + label smoothing (fused)"));
  const Tensor probabilities = tensor({{0.0, 0.5, 0.5}, {1.0, 0.0, 0.0}}, kFloat64);
  EXPECT_TRUE(contains(to_dot(nn::functional::cross_entropy(logits, probabilities)),
                       "CrossEntropyLossBackward0\\nlog_softmax + cross-entropy with class probabilities (fused)"));
  // nll_loss on log_softmax's output is two nodes, and neither is called fused.
  const std::string separate = to_dot(nn::functional::nll_loss(log_softmax(logits, 1), targets));
  EXPECT_TRUE(contains(separate, "NllLossBackward0\\nscalar 1.27527"));
  EXPECT_TRUE(contains(separate, "LogSoftmaxBackward0\\n[2, 3]"));
  EXPECT_FALSE(contains(separate, "(fused)"));
}

}  // namespace
}  // namespace xgrad
