// backprop_by_hand: the cross-entropy example of the seed posts, traced node by node.
//
//   logits = [[1, 2, 3], [2, 4, 6]], targets = [2, 1]
//   loss   = mean over rows of -log_softmax(logits)[row, target]
//
// 1. The loss is built from small ops (log_softmax, gather, squeeze, mean, neg). A hook on every
//    intermediate tensor prints the gradient that reaches it during backward, beside the value the
//    chain rule gives when worked out by hand.
// 2. The same loss as a custom autograd::Function with a hand-written backward, checked by gradcheck.
// 3. A Hessian-vector product (the gradient of the gradient), checked against finite differences.
// 4. The graph, as Graphviz DOT, in graph.dot (and graph.svg when Graphviz's `dot` is installed),
//    and as a page to step through in a browser, backprop.html: an HtmlRecorder alive around step 1
//    copies every value and gradient while the forward and the plain backward run.
// 5. One SGD step of a two-layer MLP, traced by TraceGuard (one line per node as the engine runs it)
//    and recorded in backprop_mlp.html.
//
//   backprop_by_hand [output folder, default .]
#include <xgrad/xgrad.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

using xgrad::Tensor;
using xgrad::autograd::AutogradContext;
using xgrad::autograd::variable_list;

namespace {

const std::vector<std::vector<double>> kLogits = {{1, 2, 3}, {2, 4, 6}};
const std::vector<std::int64_t> kTargets = {2, 1};

// ---- the chain rule by hand, in plain doubles ---------------------------------------------------

std::vector<std::vector<double>> softmax_by_hand() {
  std::vector<std::vector<double>> probabilities;
  for (const auto& row : kLogits) {
    double total = 0.0;
    for (double z : row) total += std::exp(z);
    std::vector<double> p;
    for (double z : row) p.push_back(std::exp(z) / total);
    probabilities.push_back(p);
  }
  return probabilities;
}

std::string number_str(double value) {
  char number[32];
  std::snprintf(number, sizeof number, "%.4f", value);
  return number;
}

// Row-major values printed in the given shape, as nested brackets: a 0-dim tensor as one number,
// [2] as [a, b], [2, 3] as [[a, b, c], [d, e, f]].
std::string shaped_str(const std::vector<double>& values, const xgrad::Shape& shape, std::size_t dim = 0,
                       std::size_t offset = 0) {
  if (dim == shape.size()) return number_str(values.at(offset));
  std::size_t stride = 1;
  for (std::size_t d = dim + 1; d < shape.size(); ++d) stride *= static_cast<std::size_t>(shape[d]);
  std::string out = "[";
  for (std::int64_t i = 0; i < shape[dim]; ++i)
    out += (i ? ", " : "") + shaped_str(values, shape, dim + 1, offset + static_cast<std::size_t>(i) * stride);
  return out + "]";
}

std::string tensor_str(const Tensor& t) { return shaped_str(t.to_vector<double>(), t.shape()); }

// The hook's gradient and the value by hand, one above the other with their numbers in one column.
// The hand values are given row by row and printed in the gradient's shape.
void print_pair(const char* what, const Tensor& grad, const std::vector<std::vector<double>>& by_hand) {
  std::vector<double> flat_hand;
  for (const auto& row : by_hand) flat_hand.insert(flat_hand.end(), row.begin(), row.end());
  const std::string label = std::string("d loss / d ") + what;
  std::printf("  %-22s hook %s\n  %-22s hand %s\n", label.c_str(), tensor_str(grad).c_str(), "",
              shaped_str(flat_hand, grad.shape()).c_str());
}

// ---- 1. the loss from small ops, with a hook on every step --------------------------------------

Tensor traced_loss(const Tensor& logits, const Tensor& targets) {
  const double rows = static_cast<double>(kLogits.size());
  const std::vector<std::vector<double>> p = softmax_by_hand();

  Tensor log_probabilities = xgrad::log_softmax(logits, 1);
  Tensor picked = log_probabilities.gather(1, targets.unsqueeze(1)).squeeze(1);
  Tensor mean_picked = picked.mean();
  Tensor loss = -mean_picked;

  // d loss / d mean_picked = -1: the last op is a negation.
  mean_picked.register_hook([](Tensor grad) { print_pair("mean", grad, {{-1.0}}); });
  // mean over the rows: each picked log-probability gets -1 / rows.
  picked.register_hook([rows](Tensor grad) { print_pair("picked", grad, {{-1.0 / rows, -1.0 / rows}}); });
  // gather: the gradient goes back to the target column of each row, zero elsewhere.
  log_probabilities.register_hook([rows](Tensor grad) {
    std::vector<std::vector<double>> hand(kLogits.size(), std::vector<double>(3, 0.0));
    for (std::size_t r = 0; r < hand.size(); ++r) hand[r][static_cast<std::size_t>(kTargets[r])] = -1.0 / rows;
    print_pair("logp", grad, hand);
  });
  // log_softmax: g - softmax * sum(g) per row, which here is (softmax - one_hot) / rows.
  logits.register_hook([rows, p](Tensor grad) {
    std::vector<std::vector<double>> hand = p;
    for (std::size_t r = 0; r < hand.size(); ++r) {
      for (double& v : hand[r]) v /= rows;
      hand[r][static_cast<std::size_t>(kTargets[r])] -= 1.0 / rows;
    }
    print_pair("logits", grad, hand);
  });
  return loss;
}

// ---- 2. the same loss as a custom Function ------------------------------------------------------

// Forward: mean of -log softmax at the targets. Backward, as derived above: (softmax - one_hot) / N.
struct CrossEntropyByHand : xgrad::autograd::Function<CrossEntropyByHand> {
  static Tensor forward(AutogradContext* ctx, Tensor logits, Tensor targets) {
    Tensor probabilities = xgrad::softmax(logits, 1);
    ctx->save_for_backward({probabilities, targets});
    Tensor picked = xgrad::log(probabilities).gather(1, targets.unsqueeze(1));
    return -picked.mean();
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const Tensor& probabilities = saved[0];
    const Tensor& targets = saved[1];
    const Tensor classes = xgrad::arange(probabilities.size(1)).unsqueeze(0);
    const Tensor one_hot = classes.eq(targets.unsqueeze(1)).to(probabilities.dtype());
    const double rows = static_cast<double>(probabilities.size(0));
    return {(probabilities - one_hot) / rows * grad_outputs[0], Tensor()};
  }
};

// ---- 5. one training step of a small MLP, traced and recorded ---------------------------------

// Four points in 2-D, three classes; Linear(2, 4), tanh, Linear(4, 3), cross-entropy, SGD(0.5).
// Returns the loss after the step.
double mlp_step(const std::string& page) {
  xgrad::manual_seed(0);
  xgrad::nn::Sequential model(xgrad::nn::Linear(2, 4), xgrad::nn::Tanh(), xgrad::nn::Linear(4, 3));
  model->to(xgrad::kFloat64);
  xgrad::optim::SGD optimizer(model->parameters(), xgrad::optim::SGDOptions(0.5));
  const Tensor points = xgrad::tensor({{0.0, 1.0}, {1.0, 0.0}, {-1.0, 0.5}, {0.5, -1.0}}, xgrad::kFloat64);
  const Tensor classes = xgrad::tensor({0, 1, 2, 1});

  xgrad::HtmlRecorder recorder(xgrad::HtmlOptions().title("One SGD step of Linear(2, 4), tanh, Linear(4, 3)"));
  const Tensor loss = xgrad::nn::functional::cross_entropy(model->forward(points), classes);
  std::printf("  loss before the step %.4f\n", loss.item<double>());
  {
    xgrad::autograd::TraceGuard trace(std::cout);
    loss.backward();
  }
  recorder.write(loss, page);  // before the step changes the parameters in place
  optimizer.step();
  xgrad::NoGradGuard no_grad;
  return xgrad::nn::functional::cross_entropy(model->forward(points), classes).item<double>();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string folder = argc > 1 ? argv[1] : ".";
  Tensor logits = xgrad::tensor({{1.0, 2.0, 3.0}, {2.0, 4.0, 6.0}}, xgrad::kFloat64).requires_grad_();
  logits.set_name("logits");  // the name to_dot and to_html show for the leaf
  const Tensor targets = xgrad::tensor({2, 1});

  std::printf("1. backward, node by node (each hook's gradient above the chain rule's by hand)\n");
  // Lives until the page is written in step 4; records this thread's forward values and backward.
  auto recorder = std::make_unique<xgrad::HtmlRecorder>(
      xgrad::HtmlOptions().title("Cross-entropy of logits [[1, 2, 3], [2, 4, 6]] against targets [2, 1]"));
  const Tensor loss = traced_loss(logits, targets);
  std::printf("  loss %.4f   (grad_fn %s)\n", loss.item<double>(), loss.grad_fn()->name());
  loss.backward();
  recorder->write(loss, folder + "/backprop.html");
  recorder.reset();  // steps 2 and 3 are not part of the page

  std::printf("2. the same loss as a custom Function\n");
  const Tensor custom = CrossEntropyByHand::apply(logits, targets);
  std::printf("  loss %.4f   (grad_fn %s)\n", custom.item<double>(), custom.grad_fn()->name());
  const xgrad::GradcheckResult check = xgrad::gradcheck(
      [&](const std::vector<Tensor>& in) { return CrossEntropyByHand::apply(in[0], targets); },
      {logits.detach().clone().requires_grad_()});
  std::printf("  gradcheck of its backward: %s\n", check.passed ? "passed" : check.report.c_str());

  std::printf("3. a Hessian-vector product: d/dlogits <d loss/d logits, v>\n");
  const Tensor v = xgrad::tensor({{1.0, -1.0, 0.5}, {0.0, 2.0, -1.0}}, xgrad::kFloat64);
  const auto gradient_at = [&](const Tensor& at, bool create_graph) {
    Tensor x = at.detach().requires_grad_();
    return std::make_pair(x, xgrad::autograd::grad({xgrad::nn::functional::cross_entropy(x, targets)}, {x}, {},
                                                   create_graph, create_graph)[0]);
  };
  auto [x, gradient] = gradient_at(logits, true);
  const Tensor hvp = xgrad::autograd::grad({(gradient * v).sum()}, {x})[0];
  const double eps = 1e-6;
  const Tensor numeric = (gradient_at(logits.detach() + v * eps, false).second -
                          gradient_at(logits.detach() - v * eps, false).second) / (2 * eps);
  std::printf("  H v                 %s\n  finite differences  %s\n", tensor_str(hvp).c_str(),
              tensor_str(numeric).c_str());
  const double worst = (hvp - numeric).abs().max().item<double>();
  std::printf("  largest difference between the two %.1e: %s\n", worst, worst < 1e-6 ? "agree" : "DISAGREE");

  const std::string dot_path = folder + "/graph.dot";
  std::ofstream(dot_path) << xgrad::to_dot(loss);
  std::printf("4. the graph of step 1 is in %s\n", dot_path.c_str());
  const std::string svg = folder + "/graph.svg";
  const std::string render = "dot -Tsvg '" + dot_path + "' -o '" + svg + "'";
  if (std::system("command -v dot > /dev/null 2>&1") != 0)
    std::printf("   (Graphviz's dot is not on PATH; draw it with: %s)\n", render.c_str());
  else if (std::system(render.c_str()) == 0)
    std::printf("   and drawn in %s\n", svg.c_str());
  std::printf("   and as a page to step through in %s/backprop.html\n", folder.c_str());

  std::printf("5. one SGD step of a two-layer MLP, node by node\n");
  const double loss_after = mlp_step(folder + "/backprop_mlp.html");
  std::printf("   the step's page is %s/backprop_mlp.html; loss after the step %.4f\n", folder.c_str(), loss_after);
  return check.passed && worst < 1e-6 ? 0 : 1;
}
