// libtorch and xgrad side by side, in one process, on identical work:
//
//   xgrad_torch_compare [--threads 1,2] [--reps 15] [--rep-ms 40] [--only tiny,toy,...] [--clock wall]
//
// For each thread setting (torch::set_num_threads and OpenBLAS's thread count, set together) and each
// case, the two engines alternate repetitions (which engine goes first alternates too); a repetition
// times a fixed number of calls, and the table gives the median time per call of each engine and
// ratio = libtorch / xgrad (above 1: xgrad is faster). Times are wall-clock; `--clock cpu` times the
// calling thread's CPU time instead, which on a machine busy with other work is closer to what a
// quiet one-thread run measures (it does not count helper threads, so it suits --threads 1 only).
//
// "adam step wide" times optimizer.step() alone: Adam with PyTorch's defaults over the wide model's
// parameters, with the gradients of one training step (computed once by each engine, then kept).
//
// The training cases use the same spiral data and the same initial weights (xgrad's, copied into
// torch), float32, Linear/ReLU MLPs, mean cross-entropy and SGD(lr 0.1, momentum 0.9). Before timing,
// a few steps of each engine from the same start are compared loss by loss.
//
// The floor column: each case's matrix-product FLOPs (forward and backward; a convolution counted as
// its direct sum) divided by this core's float32 peak, measured at start-up by a register-only FMA
// loop (peak_flops.hpp); "xgrad / floor" is how far xgrad's median is from it. Cases without
// products (the softmax family, add, Adam) are bound by memory traffic instead and show no floor.
//
// Both engines run their gemms in the same OpenBLAS library (Debian's libtorch uses the system BLAS);
// libtorch's own parallel loops run on GNU OpenMP (libgomp), see the "ATen parallel" lines printed.
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "peak_flops.hpp"
#include "workloads.hpp"

extern "C" {
void openblas_set_num_threads(int threads);
int openblas_get_num_threads();
char* openblas_get_config();
}

namespace {

namespace bench = xgrad::bench;
using Clock = std::chrono::steady_clock;

// ---- command line -------------------------------------------------------------------------------

struct Settings {
  std::vector<int> threads{1, 2};
  int reps = 15;
  double rep_ms = 40.0;
  std::vector<std::string> only;  // empty: every case
  bool cpu_clock = false;         // the calling thread's CPU time instead of wall-clock time
};

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> parts;
  std::stringstream in(list);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

constexpr const char* kUsage =
    "usage: xgrad_torch_compare [--threads 1,2] [--reps 15] [--rep-ms 40] [--only tiny,toy,...] [--clock wall|cpu]\n";

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 == argc) {
      std::fprintf(stderr, "flag %s needs a value\n%s", flag.c_str(), kUsage);
      std::exit(2);
    }
    const std::string value = argv[i + 1];
    if (flag == "--threads") {
      s.threads.clear();
      for (const std::string& t : split(value)) s.threads.push_back(std::atoi(t.c_str()));
    } else if (flag == "--reps") {
      s.reps = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--rep-ms") {
      s.rep_ms = std::atof(value.c_str());
    } else if (flag == "--only") {
      s.only = split(value);
    } else if (flag == "--clock") {
      if (value != "wall" && value != "cpu") {
        std::fprintf(stderr, "--clock takes wall or cpu, got %s\n%s", value.c_str(), kUsage);
        std::exit(2);
      }
      s.cpu_clock = value == "cpu";
    } else {
      std::fprintf(stderr, "unknown flag %s\n%s", flag.c_str(), kUsage);
      std::exit(2);
    }
  }
  return s;
}

// ---- one case: the same work in both engines -------------------------------------------------------

struct Case {
  std::string name;
  std::function<void()> xgrad_call, torch_call;
  double product_flops = 0;  // 0: no matrix products (no floor shown)
};

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

double seconds_per_call(const std::function<void()>& call, long calls, bool cpu_clock) {
  if (cpu_clock) {
    const double start = thread_cpu_seconds();
    for (long i = 0; i < calls; ++i) call();
    return (thread_cpu_seconds() - start) / static_cast<double>(calls);
  }
  const auto start = Clock::now();
  for (long i = 0; i < calls; ++i) call();
  return std::chrono::duration<double>(Clock::now() - start).count() / static_cast<double>(calls);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

std::string human(double seconds) {
  char text[32];
  if (seconds < 1e-3) std::snprintf(text, sizeof text, "%.1f us", seconds * 1e6);
  else std::snprintf(text, sizeof text, "%.2f ms", seconds * 1e3);
  return text;
}

// Warms both engines up, sizes a repetition to about rep_ms of the slower engine, then alternates.
void run_case(const Case& c, const Settings& s, int threads, double peak_flops) {
  for (int i = 0; i < 3; ++i) {
    c.xgrad_call();
    c.torch_call();
  }
  const double slowest =
      std::max(seconds_per_call(c.xgrad_call, 3, s.cpu_clock), seconds_per_call(c.torch_call, 3, s.cpu_clock));
  const long calls = std::max(1L, static_cast<long>(s.rep_ms * 1e-3 / slowest));
  std::vector<double> xgrad_times, torch_times;
  for (int rep = 0; rep < s.reps; ++rep) {
    if (rep % 2 == 0) {
      xgrad_times.push_back(seconds_per_call(c.xgrad_call, calls, s.cpu_clock));
      torch_times.push_back(seconds_per_call(c.torch_call, calls, s.cpu_clock));
    } else {
      torch_times.push_back(seconds_per_call(c.torch_call, calls, s.cpu_clock));
      xgrad_times.push_back(seconds_per_call(c.xgrad_call, calls, s.cpu_clock));
    }
  }
  const double t = median(torch_times), x = median(xgrad_times);
  const auto [x_low, x_high] = std::minmax_element(xgrad_times.begin(), xgrad_times.end());
  const std::string range = human(*x_low) + "-" + human(*x_high);
  // The floor of `threads` cores, each at the measured peak.
  const double floor = c.product_flops > 0 && peak_flops > 0 ? c.product_flops / (peak_flops * threads) : 0;
  std::string floor_text = "-", over_floor = "-";
  if (floor > 0) {
    char text[16];
    std::snprintf(text, sizeof text, "%.2f", x / floor);
    floor_text = human(floor);
    over_floor = text;
  }
  std::printf("| %-38s | %7d | %12s | %12s | %21s | %6.2f | %10s | %8s |\n", c.name.c_str(), threads,
              human(t).c_str(), human(x).c_str(), range.c_str(), t / x, floor_text.c_str(), over_floor.c_str());
  std::fflush(stdout);
}

// ---- training steps --------------------------------------------------------------------------------

torch::Tensor to_torch(const xgrad::Tensor& t) {
  const xgrad::Shape shape = t.shape();
  std::vector<std::int64_t> sizes(shape.begin(), shape.end());
  if (t.dtype() == xgrad::kInt64)
    return torch::from_blob(const_cast<std::int64_t*>(t.data<std::int64_t>()), sizes, torch::kLong).clone();
  return torch::from_blob(const_cast<float*>(t.data<float>()), sizes, torch::kFloat).clone();
}

// The libtorch twin of a bench::Trainer, starting from the trainer's current weights.
struct TorchTrainer {
  explicit TorchTrainer(const bench::Trainer& source, const bench::Workload& w)
      : net(torch::nn::Linear(w.features, w.hidden), torch::nn::ReLU(), torch::nn::Linear(w.hidden, w.hidden),
            torch::nn::ReLU(), torch::nn::Linear(w.hidden, w.classes)),
        optimizer(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9)),
        x(to_torch(source.x)),
        y(to_torch(source.y)) {
    const std::vector<xgrad::Tensor> from = source.net->parameters();
    std::vector<torch::Tensor> to = net->parameters();
    TORCH_CHECK(from.size() == to.size(), "parameter lists differ");
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < to.size(); ++i) to[i].copy_(to_torch(from[i]));
  }

  float step() {
    optimizer.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  }

  torch::nn::Sequential net;
  torch::optim::SGD optimizer;
  torch::Tensor x, y;
};

// Both engines from one start: the losses of the first steps must agree to float32 rounding.
void check_same_training(const bench::Workload& w) {
  bench::Trainer mine(w);
  TorchTrainer theirs(mine, w);
  float worst = 0.f, first = 0.f, last_mine = 0.f, last_theirs = 0.f;
  for (int i = 0; i < 5; ++i) {
    last_mine = mine.step();
    last_theirs = theirs.step();
    if (i == 0) first = last_mine;
    worst = std::max(worst, std::abs(last_mine - last_theirs));
  }
  std::printf("  %-5s loss step 1 %.5f, step 5 xgrad %.5f torch %.5f, largest difference %.2g\n", w.name, first,
              last_mine, last_theirs, worst);
}

struct TrainingPair {
  explicit TrainingPair(const bench::Workload& w) : mine(w), theirs(mine, w) {}
  bench::Trainer mine;
  TorchTrainer theirs;
};

Case training_case(const bench::Workload& w, std::vector<std::shared_ptr<TrainingPair>>& keep) {
  auto pair = std::make_shared<TrainingPair>(w);
  keep.push_back(pair);
  // Forward: one product per layer; backward: every weight gradient, and the input gradients of all
  // layers but the first (the data needs none).
  const double b = static_cast<double>(w.batch), in = static_cast<double>(w.features),
               h = static_cast<double>(w.hidden), out = static_cast<double>(w.classes);
  const double layers = in * h + h * h + h * out;
  const double flops = 2 * b * (2 * layers + h * h + h * out);
  return {std::string("step ") + w.name + " (" + std::to_string(w.features) + "-" + std::to_string(w.hidden) + "-" +
              std::to_string(w.hidden) + "-" + std::to_string(w.classes) + ", batch " + std::to_string(w.batch) + ")",
          [p = pair.get()] { p->mine.step(); }, [p = pair.get()] { p->theirs.step(); }, flops};
}

// ---- optimiser steps: the update alone, on a workload's model and one step's gradients ---------------

// Adam with PyTorch's defaults over the same parameters and gradients in both engines.
struct AdamPair {
  explicit AdamPair(const bench::Workload& w)
      : mine(w), theirs(mine.trainer, w), optimizer(theirs.net->parameters(), torch::optim::AdamOptions(1e-3)) {
    torch::nn::functional::cross_entropy(theirs.net->forward(theirs.x), theirs.y).backward();
    // Both engines computed the gradients from the same weights and data: they agree to rounding.
    const std::vector<xgrad::Tensor> from = mine.trainer.net->parameters();
    const std::vector<torch::Tensor> to = theirs.net->parameters();
    float worst = 0.f;
    for (std::size_t i = 0; i < to.size(); ++i)
      worst = std::max(worst, (to_torch(from[i].grad()) - to[i].grad()).abs().max().item<float>());
    std::printf("  adam  largest gradient difference %.2g\n", worst);
  }
  bench::AdamStepper mine;
  TorchTrainer theirs;
  torch::optim::Adam optimizer;
};

Case adam_case(const bench::Workload& w, std::vector<std::shared_ptr<AdamPair>>& keep) {
  auto pair = std::make_shared<AdamPair>(w);
  keep.push_back(pair);
  return {std::string("adam step ") + w.name + " (" + std::to_string(w.features) + "-" + std::to_string(w.hidden) +
              "-" + std::to_string(w.hidden) + "-" + std::to_string(w.classes) + ")",
          [p = pair.get()] { p->mine.step(); }, [p = pair.get()] { p->optimizer.step(); }};
}

// ---- single ops: forward + backward ---------------------------------------------------

// An input that requires grad in both engines with the same values; its gradient is dropped before
// each call, as zero_grad does.
struct Operand {
  explicit Operand(const xgrad::Shape& shape) : mine(xgrad::randn(shape)), theirs(to_torch(mine)) {
    mine.requires_grad_();
    theirs.requires_grad_();
  }
  void clear() {
    mine.zero_grad();
    theirs.mutable_grad() = torch::Tensor();
  }
  xgrad::Tensor mine;
  torch::Tensor theirs;
};

std::vector<Case> op_cases() {
  std::vector<Case> cases;
  const std::size_t rows = 4096, classes = 1000;
  auto x = std::make_shared<Operand>(xgrad::Shape{rows, classes});
  auto upstream_mine = std::make_shared<xgrad::Tensor>(xgrad::randn({rows, classes}));
  auto upstream_theirs = std::make_shared<torch::Tensor>(to_torch(*upstream_mine));
  std::vector<std::int64_t> label_values(rows);
  for (std::size_t i = 0; i < rows; ++i) label_values[i] = static_cast<std::int64_t>((i * 7919) % classes);
  auto labels_mine = std::make_shared<xgrad::Tensor>(xgrad::from_buffer(label_values.data(), {rows}));
  auto labels_theirs = std::make_shared<torch::Tensor>(to_torch(*labels_mine));

  cases.push_back({"cross_entropy fwd+bwd 4096x1000",
                   [=] {
                     x->clear();
                     bench::training_loss(x->mine, *labels_mine).backward();
                   },
                   [=] {
                     x->clear();
                     torch::nn::functional::cross_entropy(x->theirs, *labels_theirs).backward();
                   }});
  cases.push_back({"log_softmax fwd+bwd 4096x1000",
                   [=] {
                     x->clear();
                     xgrad::log_softmax(x->mine, 1).backward(*upstream_mine);
                   },
                   [=] {
                     x->clear();
                     torch::log_softmax(x->theirs, 1).backward(*upstream_theirs);
                   }});
  cases.push_back({"softmax fwd+bwd 4096x1000",
                   [=] {
                     x->clear();
                     xgrad::softmax(x->mine, 1).backward(*upstream_mine);
                   },
                   [=] {
                     x->clear();
                     torch::softmax(x->theirs, 1).backward(*upstream_theirs);
                   }});
  auto bias = std::make_shared<Operand>(xgrad::Shape{classes});
  cases.push_back({"add (4096x1000)+(1000) fwd+bwd",
                   [=] {
                     x->clear();
                     bias->clear();
                     (x->mine + bias->mine).backward(*upstream_mine);
                   },
                   [=] {
                     x->clear();
                     bias->clear();
                     (x->theirs + bias->theirs).backward(*upstream_theirs);
                   }});
  for (auto [m, k, n] : {std::array<std::int64_t, 3>{30, 16, 16}, {300, 64, 64}, {256, 784, 512}, {512, 512, 512}}) {
    auto a = std::make_shared<Operand>(xgrad::Shape{m, k});
    auto b = std::make_shared<Operand>(xgrad::Shape{k, n});
    auto up_mine = std::make_shared<xgrad::Tensor>(xgrad::randn({m, n}));
    auto up_theirs = std::make_shared<torch::Tensor>(to_torch(*up_mine));
    cases.push_back({"matmul fwd+bwd " + std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n),
                     [=] {
                       a->clear();
                       b->clear();
                       xgrad::matmul(a->mine, b->mine).backward(*up_mine);
                     },
                     [=] {
                       a->clear();
                       b->clear();
                       torch::matmul(a->theirs, b->theirs).backward(*up_theirs);
                     },
                     6.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n)});
  }
  for (const bench::ConvWorkload& w : bench::conv_workloads()) {
    auto input = std::make_shared<Operand>(w.input_shape());
    auto weight = std::make_shared<Operand>(w.weight_shape());
    auto bias = std::make_shared<Operand>(xgrad::Shape{w.out_channels});
    auto up_mine = std::make_shared<xgrad::Tensor>(xgrad::randn(w.output_shape()));
    auto up_theirs = std::make_shared<torch::Tensor>(to_torch(*up_mine));
    cases.push_back({w.label(),
                     [=] {
                       input->clear();
                       weight->clear();
                       bias->clear();
                       xgrad::conv2d(input->mine, weight->mine, bias->mine).backward(*up_mine);
                     },
                     [=] {
                       input->clear();
                       weight->clear();
                       bias->clear();
                       torch::conv2d(input->theirs, weight->theirs, bias->theirs).backward(*up_theirs);
                     },
                     3 * w.direct_flops()});
  }
  return cases;
}

bool wanted(const Settings& s, const std::string& name) {
  if (s.only.empty()) return true;
  for (const std::string& part : s.only)
    if (name.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse(argc, argv);
  xgrad::manual_seed(0);

  std::printf("libtorch %s, OpenBLAS: %s\n", TORCH_VERSION, openblas_get_config());
  // Both engines share this process's OpenBLAS, and libtorch's OpenMP threads spin after each
  // parallel region unless told otherwise: these settings change the two-thread figures.
  for (const char* variable : {"OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"}) {
    const char* value = std::getenv(variable);
    std::printf("%s=%s\n", variable, value ? value : "(not set)");
  }
  const double peak = xgrad::bench::measured_peak_flops();
  std::printf("Measured float32 peak of one core (register-only FMA loop): %.1f GFLOP/s\n", peak / 1e9);
  std::printf("Same workloads from one start (xgrad's initial weights copied into torch):\n");
  for (const bench::Workload& w : bench::workloads())
    if (wanted(settings, w.name)) check_same_training(w);

  std::vector<std::shared_ptr<TrainingPair>> keep;
  std::vector<std::shared_ptr<AdamPair>> keep_adam;
  std::vector<Case> cases;
  for (const bench::Workload& w : bench::workloads()) cases.push_back(training_case(w, keep));
  if (wanted(settings, "adam step wide")) cases.push_back(adam_case(bench::workload("wide"), keep_adam));
  for (Case& c : op_cases()) cases.push_back(std::move(c));

  for (int threads : settings.threads) {
    torch::set_num_threads(threads);
    openblas_set_num_threads(threads);
    std::printf("\ntorch::set_num_threads(%d) -> get_num_threads() = %d; openblas_set_num_threads(%d) -> %d\n",
                threads, torch::get_num_threads(), threads, openblas_get_num_threads());
    std::printf("ATen parallel: %s", at::get_parallel_info().c_str());
    std::printf("%d repetitions per engine, alternating; medians per call of %s\n\n", settings.reps,
                settings.cpu_clock ? "the calling thread's CPU time" : "wall-clock time");
    std::printf("| %-38s | %7s | %12s | %12s | %21s | %6s | %10s | %8s |\n", "case", "threads", "libtorch", "xgrad",
                "xgrad range", "ratio", "floor", "x/floor");
    std::printf("|%s|%s|%s|%s|%s|%s|%s|%s|\n", std::string(40, '-').c_str(), std::string(9, '-').c_str(),
                std::string(14, '-').c_str(), std::string(14, '-').c_str(), std::string(23, '-').c_str(),
                std::string(8, '-').c_str(), std::string(12, '-').c_str(), std::string(10, '-').c_str());
    for (const Case& c : cases)
      if (wanted(settings, c.name)) run_case(c, settings, threads, peak);
  }
  return 0;
}
