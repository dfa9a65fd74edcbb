// Google Benchmark suite: op-level costs (forward + backward of the ops a training step is made of)
// and whole training steps of the three workloads in workloads.hpp.
//
//   xgrad_bench                                     everything
//   xgrad_bench --benchmark_filter=BM_Step          the training steps only
//   xgrad_bench --benchmark_filter=OptimizerStep    the optimisers' updates only
//   OPENBLAS_NUM_THREADS=1 xgrad_bench ...          the setting the README's table reports
//
// Each "Backward" case times forward and backward together, on fresh graphs, as training runs them;
// the upstream gradient is made once outside the timed loop.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <initializer_list>
#include <memory>
#include <string>

#include "workloads.hpp"

namespace {

using namespace xgrad;

Tensor random_input(const Shape& shape, bool requires_grad = true) {
  Tensor t = randn(shape);
  if (requires_grad) t.requires_grad_();
  return t;
}

// Gradients are dropped before each backward, as zero_grad does in training, so none accumulates.
void clear_grads(std::initializer_list<Tensor*> tensors) {
  for (Tensor* t : tensors) t->zero_grad();
}

std::size_t arg(const benchmark::State& state, int i) { return static_cast<std::size_t>(state.range(i)); }

// ---- matmul -------------------------------------------------------------------------------------

void BM_Matmul(benchmark::State& state) {
  const std::size_t m = arg(state, 0), k = arg(state, 1), n = arg(state, 2);
  const Tensor a = random_input({m, k}, false), b = random_input({k, n}, false);
  for (auto _ : state) benchmark::DoNotOptimize(matmul(a, b));
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

void BM_MatmulBackward(benchmark::State& state) {
  const std::size_t m = arg(state, 0), k = arg(state, 1), n = arg(state, 2);
  Tensor a = random_input({m, k}), b = random_input({k, n});
  const Tensor upstream = randn({m, n});
  for (auto _ : state) {
    clear_grads({&a, &b});
    matmul(a, b).backward(upstream);
    benchmark::DoNotOptimize(a.grad());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(6.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

// m, k, n: the products of the three workloads' layers, then square sizes around OpenBLAS's
// threading threshold, then a large one where BLAS alone matters.
void matmul_shapes(benchmark::internal::Benchmark* b) {
  for (auto shape : {std::vector<std::int64_t>{30, 16, 16}, {300, 64, 64}, {256, 784, 512}, {256, 512, 512},
                     {64, 64, 64}, {128, 128, 128}, {512, 512, 512}})
    b->Args(shape);
}
BENCHMARK(BM_Matmul)->Apply(matmul_shapes);
BENCHMARK(BM_MatmulBackward)->Apply(matmul_shapes);

// ---- linear (fused x W^T + b) --------------------------------------------------------------------

void BM_LinearBackward(benchmark::State& state) {
  const std::size_t rows = arg(state, 0), in = arg(state, 1), out = arg(state, 2);
  Tensor x = random_input({rows, in}), w = random_input({out, in}), bias = random_input({out});
  const Tensor upstream = randn({rows, out});
  for (auto _ : state) {
    clear_grads({&x, &w, &bias});
    linear(x, w, bias).backward(upstream);
    benchmark::DoNotOptimize(w.grad());
  }
}
BENCHMARK(BM_LinearBackward)->Args({30, 16, 16})->Args({300, 64, 64})->Args({256, 784, 512});

// ---- elementwise -------------------------------------------------------------------------------

void BM_ReluBackward(benchmark::State& state) {
  const std::size_t rows = arg(state, 0), cols = arg(state, 1);
  Tensor x = random_input({rows, cols});
  const Tensor upstream = randn({rows, cols});
  for (auto _ : state) {
    clear_grads({&x});
    relu(x).backward(upstream);
    benchmark::DoNotOptimize(x.grad());
  }
}
BENCHMARK(BM_ReluBackward)->Args({30, 16})->Args({300, 64})->Args({256, 512});

// (rows, cols) + (cols): the gradient of the broadcast operand is a sum over the rows.
void BM_BroadcastAddBackward(benchmark::State& state) {
  const std::size_t rows = arg(state, 0), cols = arg(state, 1);
  Tensor a = random_input({rows, cols}), b = random_input({cols});
  const Tensor upstream = randn({rows, cols});
  for (auto _ : state) {
    clear_grads({&a, &b});
    (a + b).backward(upstream);
    benchmark::DoNotOptimize(b.grad());
  }
}
BENCHMARK(BM_BroadcastAddBackward)->Args({30, 16})->Args({300, 64})->Args({4096, 1000});

// (rows, cols) + (rows, 1): the broadcast operand's gradient sums along the last dimension.
void BM_BroadcastColumnAddBackward(benchmark::State& state) {
  const std::size_t rows = arg(state, 0), cols = arg(state, 1);
  Tensor a = random_input({rows, cols}), b = random_input({rows, 1});
  const Tensor upstream = randn({rows, cols});
  for (auto _ : state) {
    clear_grads({&a, &b});
    (a + b).backward(upstream);
    benchmark::DoNotOptimize(b.grad());
  }
}
BENCHMARK(BM_BroadcastColumnAddBackward)->Args({4096, 1000});

// The fixed cost of one recorded op and its backward on 2x2 tensors: what a tiny model pays per op.
void BM_OpOverhead(benchmark::State& state) {
  Tensor a = random_input({2, 2}), b = random_input({2, 2});
  const Tensor upstream = randn({2, 2});
  for (auto _ : state) {
    clear_grads({&a, &b});
    (a * b).backward(upstream);
    benchmark::DoNotOptimize(a.grad());
  }
}
BENCHMARK(BM_OpOverhead);

void BM_OpOverheadNoGrad(benchmark::State& state) {
  const Tensor a = random_input({2, 2}, false), b = random_input({2, 2}, false);
  for (auto _ : state) benchmark::DoNotOptimize(a * b);
}
BENCHMARK(BM_OpOverheadNoGrad);

// ---- softmax and losses on (4096, 1000) ---------------------------------------------------------

void BM_Softmax(benchmark::State& state) {
  const Tensor x = random_input({arg(state, 0), arg(state, 1)}, false);
  for (auto _ : state) benchmark::DoNotOptimize(softmax(x, 1));
}
BENCHMARK(BM_Softmax)->Args({4096, 1000});

void BM_SoftmaxBackward(benchmark::State& state) {
  Tensor x = random_input({arg(state, 0), arg(state, 1)});
  const Tensor upstream = randn(x.shape());
  for (auto _ : state) {
    clear_grads({&x});
    softmax(x, 1).backward(upstream);
    benchmark::DoNotOptimize(x.grad());
  }
}
BENCHMARK(BM_SoftmaxBackward)->Args({4096, 1000});

void BM_LogSoftmaxBackward(benchmark::State& state) {
  Tensor x = random_input({arg(state, 0), arg(state, 1)});
  const Tensor upstream = randn(x.shape());
  for (auto _ : state) {
    clear_grads({&x});
    log_softmax(x, 1).backward(upstream);
    benchmark::DoNotOptimize(x.grad());
  }
}
BENCHMARK(BM_LogSoftmaxBackward)->Args({4096, 1000});

Tensor class_labels(std::size_t rows, std::size_t classes) {
  std::vector<std::int64_t> labels(rows);
  for (std::size_t i = 0; i < rows; ++i) labels[i] = static_cast<std::int64_t>((i * 7919) % classes);
  return from_buffer(labels.data(), {rows});
}

void BM_CrossEntropy(benchmark::State& state) {
  const Tensor x = random_input({arg(state, 0), arg(state, 1)}, false);
  const Tensor labels = class_labels(arg(state, 0), arg(state, 1));
  for (auto _ : state) benchmark::DoNotOptimize(bench::training_loss(x, labels));
}
BENCHMARK(BM_CrossEntropy)->Args({4096, 1000});

void BM_CrossEntropyBackward(benchmark::State& state) {
  Tensor x = random_input({arg(state, 0), arg(state, 1)});
  const Tensor labels = class_labels(arg(state, 0), arg(state, 1));
  for (auto _ : state) {
    clear_grads({&x});
    bench::training_loss(x, labels).backward();
    benchmark::DoNotOptimize(x.grad());
  }
}
BENCHMARK(BM_CrossEntropyBackward)->Args({30, 3})->Args({300, 3})->Args({4096, 1000});

// ---- convolution ----------------------------------------------------------------------------------

// The two convolutions of bench::conv_workloads(), forward and backward, input, weight and bias all
// requiring grad.
void BM_Conv2dBackward(benchmark::State& state, const char* name) {
  for (const bench::ConvWorkload& w : bench::conv_workloads()) {
    if (std::string(name) != w.name) continue;
    Tensor x = random_input(w.input_shape()), weight = random_input(w.weight_shape()),
           bias = random_input(Shape{w.out_channels});
    const Tensor upstream = randn(w.output_shape());
    for (auto _ : state) {
      clear_grads({&x, &weight, &bias});
      conv2d(x, weight, bias).backward(upstream);
      benchmark::DoNotOptimize(weight.grad());
    }
  }
}
BENCHMARK_CAPTURE(BM_Conv2dBackward, conv1, "conv1");
BENCHMARK_CAPTURE(BM_Conv2dBackward, conv2, "conv2");

// ---- whole training steps ------------------------------------------------------------------------

void BM_Step(benchmark::State& state, const char* name) {
  bench::Trainer trainer(bench::workload(name));
  for (auto _ : state) benchmark::DoNotOptimize(trainer.step());
}
BENCHMARK_CAPTURE(BM_Step, tiny, "tiny");
BENCHMARK_CAPTURE(BM_Step, toy, "toy");
BENCHMARK_CAPTURE(BM_Step, wide, "wide");

// ---- optimiser updates -----------------------------------------------------------------------------

// One step() alone, on the parameters of the wide workload (784-512-512-10: weights and biases,
// 669,706 float32 values) with gradients left by one backward. The first step, which creates the
// optimiser's state, runs before the timed loop.
template <class MakeOptimizer>
void BM_OptimizerStep(benchmark::State& state, MakeOptimizer make_optimizer) {
  std::vector<Tensor> params;
  for (const Shape& shape : {Shape{512, 784}, Shape{512}, Shape{512, 512}, Shape{512}, Shape{10, 512}, Shape{10}}) {
    params.push_back(random_input(shape));
    sum(params.back() * randn(shape)).backward();
  }
  auto optimizer = make_optimizer(params);
  optimizer->step();
  for (auto _ : state) optimizer->step();
  state.SetItemsProcessed(state.iterations() * 669706);
}
BENCHMARK_CAPTURE(BM_OptimizerStep, sgd_momentum, [](const std::vector<Tensor>& p) {
  return std::make_unique<optim::SGD>(p, optim::SGDOptions(0.01).momentum(0.9));
});
BENCHMARK_CAPTURE(BM_OptimizerStep, adam, [](const std::vector<Tensor>& p) {
  return std::make_unique<optim::Adam>(p, optim::AdamOptions(1e-3));
});
BENCHMARK_CAPTURE(BM_OptimizerStep, adam_amsgrad_weight_decay, [](const std::vector<Tensor>& p) {
  return std::make_unique<optim::Adam>(p, optim::AdamOptions(1e-3).amsgrad(true).weight_decay(1e-4));
});
BENCHMARK_CAPTURE(BM_OptimizerStep, adamw, [](const std::vector<Tensor>& p) {
  return std::make_unique<optim::AdamW>(p, optim::AdamWOptions(1e-3));
});
BENCHMARK_CAPTURE(BM_OptimizerStep, rmsprop_centered_momentum, [](const std::vector<Tensor>& p) {
  return std::make_unique<optim::RMSprop>(p, optim::RMSpropOptions(1e-2).centered(true).momentum(0.9));
});
BENCHMARK_CAPTURE(BM_OptimizerStep, adagrad, [](const std::vector<Tensor>& p) {
  return std::make_unique<optim::Adagrad>(p, optim::AdagradOptions(1e-2));
});

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
