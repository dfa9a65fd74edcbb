// Does a node's fused backward pay? For every node that has one, the same node's two ways of
// computing its gradient, timed side by side on the same upstream gradient without grad mode, as the
// engine runs them when create_graph is off:
//   recorded  Node::backward, the derivative in xgrad's ops (the definition; run under create_graph)
//   fused     Node::fused_backward, the hand-written loop the engine prefers otherwise
// at the shapes of the workloads that use the op (bench/workloads.hpp, bench/sequence_models.cpp),
// one thread. A fused loop stays in the library only where this table shows it pays.
//
//   xgrad_bench_fused_backward [--reps 15] [--rep-ms 40] [--only relu,linear,...]
#include <xgrad/xgrad.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

using namespace xgrad;
namespace F = xgrad::nn::functional;

struct Settings {
  int reps = 15;
  double rep_ms = 40;
  std::vector<std::string> only;
};

// The output of one op on fresh inputs that require grad. The node under test is its grad_fn, or
// for an op whose public form ends in views (an LSTM's output), the first node below named `node`.
struct Case {
  std::string op, shape;
  std::function<Tensor()> forward;
  std::string node;
};

Tensor leaf(Shape shape) { return randn(std::move(shape)).requires_grad_(); }

std::vector<Case> cases() {
  const auto mlp = [](const char* name, std::int64_t rows, std::int64_t in, std::int64_t out) {
    return Case{"linear", std::string(name) + " (" + std::to_string(rows) + "," + std::to_string(in) + ")->" +
                              std::to_string(out),
                [=] { return xgrad::linear(leaf({rows, in}), leaf({out, in}), leaf({out})); }};
  };
  const auto rows = [](const char* op, const char* name, std::int64_t n, std::int64_t width,
                       std::function<Tensor(const Tensor&)> f) {
    return Case{op, std::string(name) + " (" + std::to_string(n) + "," + std::to_string(width) + ")",
                [=] { return f(leaf({n, width})); }};
  };
  const auto cross_entropy = [](const char* name, std::int64_t n, std::int64_t classes) {
    return Case{"cross_entropy", std::string(name) + " (" + std::to_string(n) + "," + std::to_string(classes) + ")",
                [=] { return F::cross_entropy(leaf({n, classes}), randint(0, classes, {n})); }};
  };
  const auto relu = [](const Tensor& x) { return xgrad::relu(x); };
  return {
      mlp("tiny", 30, 16, 16), mlp("toy", 300, 64, 64), mlp("wide", 256, 784, 512), mlp("gpt mlp", 768, 128, 512),
      rows("relu", "tiny", 30, 16, relu), rows("relu", "toy", 300, 64, relu), rows("relu", "wide", 256, 512, relu),
      rows("tanh", "toy", 300, 64, [](const Tensor& x) { return tanh(x); }),
      rows("gelu", "gpt mlp", 768, 512, [](const Tensor& x) { return F::gelu(x); }),
      cross_entropy("tiny", 30, 3), cross_entropy("toy", 300, 3), cross_entropy("wide", 256, 10),
      cross_entropy("gpt", 768, 256),
      {"cross_entropy", "probabilities (256,10)",
       [] { return F::cross_entropy(leaf({256, 10}), softmax(randn({256, 10}), 1)); }},
      rows("softmax", "(768,256)", 768, 256, [](const Tensor& x) { return softmax(x, 1); }),
      rows("log_softmax", "(768,256)", 768, 256, [](const Tensor& x) { return log_softmax(x, 1); }),
      {"matmul", "gpt heads (48,64,32)@(48,32,64)", [] { return matmul(leaf({48, 64, 32}), leaf({48, 32, 64})); }},
      {"conv2d", "conv1 (64,1,28,28)*16x5x5", [] { return F::conv2d(leaf({64, 1, 28, 28}), leaf({16, 1, 5, 5}), F::Conv2dFuncOptions().bias(leaf({16}))); }},
      {"conv2d", "conv2 (64,16,12,12)*32x5x5",
       [] { return F::conv2d(leaf({64, 16, 12, 12}), leaf({32, 16, 5, 5}), F::Conv2dFuncOptions().bias(leaf({32}))); }},
      {"layer_norm", "gpt (12,64,128)",
       [] { return F::layer_norm(leaf({12, 64, 128}), F::LayerNormFuncOptions({128}).weight(leaf({128})).bias(leaf({128}))); }},
      {"batch_norm", "cnn (64,16,24,24)",
       [] {
         return F::batch_norm(leaf({64, 16, 24, 24}), Tensor(), Tensor(),
                              F::BatchNormFuncOptions().weight(leaf({16})).bias(leaf({16})).training(true));
       }},
      {"attention", "gpt causal (12,4,64,32)",
       [] {
         return xgrad::scaled_dot_product_attention(leaf({12, 4, 64, 32}), leaf({12, 4, 64, 32}), leaf({12, 4, 64, 32}),
                                                {}, 0.0, /*is_causal=*/true);
       }},
      {"lstm layer", "lstm (32,64,64)->256",
       [] {
         static nn::LSTM lstm(nn::LSTMOptions(64, 256).batch_first(true));
         return std::get<0>(lstm->forward(leaf({32, 64, 64})));
       },
       "LstmLayerBackward"},
      {"cumprod", "(64,256) along 256", [] { return cumprod(leaf({64, 256}), 1); }},
  };
}

double seconds_per_call(const std::function<void()>& call, long calls) {
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < calls; ++i) call();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / static_cast<double>(calls);
}

struct Summary {
  double median, low, high;
};

Summary summarize(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  const std::size_t mid = times.size() / 2;
  const double median = times.size() % 2 ? times[mid] : 0.5 * (times[mid - 1] + times[mid]);
  return {median, times.front(), times.back()};
}

std::string micros(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", seconds * 1e6);
  return text;
}

std::shared_ptr<Node> node_under_test(const Tensor& out, const std::string& name) {
  std::vector<std::shared_ptr<Node>> frontier{out.grad_fn()};
  while (!frontier.empty()) {
    std::shared_ptr<Node> node = frontier.back();
    frontier.pop_back();
    if (name.empty() || name == node->name()) return node;
    for (const Edge& edge : node->next_edges())
      if (edge.function) frontier.push_back(edge.function);
  }
  throw Error(concat("bench: no node named ", name, " below the output"));
}

void run(const Case& c, const Settings& s) {
  const Tensor out = c.forward();
  std::shared_ptr<Node> node = node_under_test(out, c.node);
  const Tensor upstream = randn(node->output_shape.to_shape(), node->output_dtype);
  const NoGradGuard no_grad;
  const std::function<void()> recorded = [&] { node->backward(upstream); };
  const std::function<void()> fused = [&] { node->fused_backward(upstream); };
  for (int i = 0; i < 3; ++i) {
    recorded();
    fused();
  }
  const double slower = std::max(seconds_per_call(recorded, 3), seconds_per_call(fused, 3));
  const long calls = std::max(1L, static_cast<long>(s.rep_ms * 1e-3 / slower));
  std::vector<double> recorded_times, fused_times;
  for (int rep = 0; rep < s.reps; ++rep) {
    if (rep % 2 == 0) {
      recorded_times.push_back(seconds_per_call(recorded, calls));
      fused_times.push_back(seconds_per_call(fused, calls));
    } else {
      fused_times.push_back(seconds_per_call(fused, calls));
      recorded_times.push_back(seconds_per_call(recorded, calls));
    }
  }
  const Summary r = summarize(recorded_times), f = summarize(fused_times);
  std::printf("| %-13s | %-34s | %-28s | %9s (%s-%s) | %9s (%s-%s) | %5.2f |\n", c.op.c_str(), c.shape.c_str(),
              node->name(), micros(r.median).c_str(), micros(r.low).c_str(), micros(r.high).c_str(),
              micros(f.median).c_str(), micros(f.low).c_str(), micros(f.high).c_str(), r.median / f.median);
  std::fflush(stdout);
}

bool wanted(const Settings& s, const Case& c) {
  if (s.only.empty()) return true;
  return std::any_of(s.only.begin(), s.only.end(), [&](const std::string& part) {
    return (c.op + " " + c.shape).find(part) != std::string::npos;
  });
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--reps") settings.reps = std::atoi(value.c_str());
    else if (flag == "--rep-ms") settings.rep_ms = std::atof(value.c_str());
    else if (flag == "--only") {
      for (std::size_t start = 0; start <= value.size();) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        settings.only.push_back(value.substr(start, comma - start));
        start = comma + 1;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--reps N] [--rep-ms MS] [--only part,part]\n", argv[0]);
      return 2;
    }
  }
  set_num_threads(1);
  manual_seed(0);
  std::printf("one thread, %d repetitions of about %.0f ms each, alternating; medians (and ranges) in us per call;\n"
              "ratio = recorded / fused (above 1: the fused loop is faster)\n\n",
              settings.reps, settings.rep_ms);
  std::printf("| op | shape | node | recorded | fused | ratio |\n| --- | --- | --- | ---: | ---: | ---: |\n");
  for (const Case& c : cases())
    if (wanted(settings, c)) run(c, settings);
}
