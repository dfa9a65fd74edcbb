// graph_dot: the graph that one training step of a tiny MLP records, as Graphviz DOT.
//
//   graph_dot [graph.dot]
//
// Writes graph.dot and, when Graphviz's `dot` is on PATH, draws it in graph.svg beside it (as
// backprop_by_hand does); without Graphviz it says how to draw it. Boxes are ops (their Backward
// nodes), ellipses the parameters, a faint dashed box the data, which needs no gradient; the legend
// in the picture says which is which. The loss is one fused node, log_softmax + nll_loss. After the
// backward below each parameter also shows its gradient's shape and norm (to_dot can draw a graph
// before or after backward: backward frees what the nodes saved but not their edges).
#include <xgrad/xgrad.hpp>

#include <cstdio>
#include <cstdlib>
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
  // graph.dot -> graph.svg, next to it.
  const std::size_t dot_suffix = path.size() >= 4 && path.compare(path.size() - 4, 4, ".dot") == 0 ? 4 : 0;
  const std::string svg = path.substr(0, path.size() - dot_suffix) + ".svg";
  const std::string render = "dot -Tsvg '" + path + "' -o '" + svg + "'";
  if (std::system("command -v dot > /dev/null 2>&1") != 0) {
    std::printf("wrote %s; Graphviz's dot is not on PATH (apt-get install graphviz), so draw it with: %s\n",
                path.c_str(), render.c_str());
    return 0;
  }
  if (std::system(render.c_str()) != 0) {
    std::fprintf(stderr, "graph_dot: wrote %s, but `%s` failed\n", path.c_str(), render.c_str());
    return 1;
  }
  std::printf("wrote %s and drew it in %s\n", path.c_str(), svg.c_str());
  return 0;
}
