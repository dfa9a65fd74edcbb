// A whole training loop: Sequential + CrossEntropyLoss + SGD with momentum on the three-arm spiral.
// It must learn (loss down, accuracy up) and must not leak graphs: every step's graph is freed.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "compare.hpp"

namespace xgrad {
namespace {

struct Spiral {
  Tensor x;  // [300, 2]
  Tensor y;  // [300], classes 0..2
};

// 100 points per arm: radius r from 0 to 1, angle 4 (k + r) plus noise, as the toy_classifier example.
Spiral make_spiral() {
  const std::vector<float> noise = randn({300}).to_vector<float>();
  std::vector<float> points;
  std::vector<std::int64_t> labels;
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 100; ++i) {
      const float r = i / 99.0f, angle = 4.0f * (k + r) + 0.2f * noise[k * 100 + i];
      points.push_back(r * std::sin(angle));
      points.push_back(r * std::cos(angle));
      labels.push_back(k);
    }
  return {from_buffer(points.data(), {300, 2}), from_buffer(labels.data(), {300})};
}

double accuracy(nn::Sequential& model, const Spiral& data) {
  NoGradGuard no_grad;
  const auto predicted = argmax(model(data.x), 1).to_vector<std::int64_t>();
  const auto labels = data.y.to_vector<std::int64_t>();
  std::size_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i];
  return static_cast<double>(correct) / labels.size();
}

// Weak handles on every node of the graph below `root` (ops and the parameters' AccumulateGrad).
std::vector<std::weak_ptr<Node>> graph_nodes(const Tensor& root) {
  std::vector<std::weak_ptr<Node>> nodes;
  std::vector<std::shared_ptr<Node>> to_visit{root.grad_fn()};
  while (!to_visit.empty()) {
    std::shared_ptr<Node> node = to_visit.back();
    to_visit.pop_back();
    nodes.push_back(node);
    for (const Edge& edge : node->next_edges())
      if (edge.function) to_visit.push_back(edge.function);
  }
  return nodes;
}

TEST(Training, SpiralIsLearnedAndEveryGraphIsFreed) {
  manual_seed(0);
  const Spiral data = make_spiral();
  auto model = nn::Sequential{nn::Linear(2, 100), nn::ReLU(), nn::Linear(100, 3)};
  nn::CrossEntropyLoss criterion;
  optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));

  double first_loss = 0.0, last_loss = 0.0;
  std::size_t nodes_per_step = 0;
  for (int step = 0; step < 1000; ++step) {
    std::vector<std::weak_ptr<Node>> nodes;
    {
      optimizer.zero_grad();
      const Tensor loss = criterion(model(data.x), data.y);
      nodes = graph_nodes(loss);
      loss.backward();
      optimizer.step();
      (step == 0 ? first_loss : last_loss) = loss.item<double>();
    }
    if (step == 0) nodes_per_step = nodes.size();
    ASSERT_EQ(nodes.size(), nodes_per_step) << "step " << step;
    for (const auto& node : nodes) ASSERT_TRUE(node.expired()) << "a graph node outlived step " << step;
  }
  EXPECT_GT(nodes_per_step, 4u);
  EXPECT_LT(last_loss, 0.25 * first_loss);
  EXPECT_GE(accuracy(model, data), 0.95);
}

}  // namespace
}  // namespace xgrad
