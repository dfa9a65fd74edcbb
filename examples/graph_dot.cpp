// graph_dot: the graph that one training step of a tiny MLP records, as Graphviz DOT.
//
//   graph_dot [graph.dot]        then: dot -Tpng graph.dot -o graph.png
//
// Boxes are ops (their Backward nodes), ellipses the parameters; after the backward below each
// parameter also shows its gradient's shape and norm. backward() frees the graph it walked, so the
// picture is taken from a graph kept alive with retain_graph = true.
#include <xgrad/xgrad.hpp>

#include <cstdio>
#include <fstream>
#include <string>

namespace nn = xgrad::nn;
using xgrad::Tensor;

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "graph.dot";
  xgrad::manual_seed(0);

  auto model = nn::Sequential{nn::Linear(2, 3), nn::Tanh(), nn::Linear(3, 2)};
  const Tensor x = xgrad::randn({4, 2});
  const Tensor y = xgrad::tensor({0, 1, 1, 0});
  xgrad::optim::SGD optimizer(model->parameters(), xgrad::optim::SGDOptions(0.1));

  optimizer.zero_grad();
  const Tensor loss = nn::CrossEntropyLoss()(model(x), y);
  loss.backward(Tensor(), /*retain_graph=*/true);
  const std::string dot = xgrad::to_dot(loss);
  optimizer.step();

  std::ofstream(path) << dot;
  std::printf("loss %.4f\n%s", loss.item<double>(), dot.c_str());
  std::printf("wrote %s; render it with: dot -Tpng %s -o graph.png\n", path.c_str(), path.c_str());
  return 0;
}
