// Batch normalisation, dropout and embedding: forward alone and forward + backward, at the sizes of
// a small convolutional network's feature maps (N, C, H, W) and of a token batch. Linked into
// xgrad_bench with bench_xgrad.cpp (which has the main).
#include <xgrad/xgrad.hpp>

#include <benchmark/benchmark.h>

namespace {

using namespace xgrad;

Shape shape_of(const benchmark::State& state) {
  return {state.range(0), state.range(1), state.range(2), state.range(2)};
}

void BM_BatchNorm2dTrain(benchmark::State& state) {
  const Tensor x = randn(shape_of(state));
  const Tensor weight = ones({state.range(1)}), bias = zeros({state.range(1)});
  Tensor running_mean = zeros({state.range(1)}), running_var = ones({state.range(1)});
  for (auto _ : state)
    benchmark::DoNotOptimize(batch_norm(x, weight, bias, running_mean, running_var, true, 0.1, 1e-5));
  state.SetBytesProcessed(state.iterations() * x.numel() * static_cast<std::int64_t>(sizeof(float)));
}
BENCHMARK(BM_BatchNorm2dTrain)->Args({64, 16, 28})->Args({64, 64, 14})->Args({8, 3, 32});

void BM_BatchNorm2dTrainBackward(benchmark::State& state) {
  Tensor x = randn(shape_of(state), requires_grad());
  Tensor weight = ones({state.range(1)}, requires_grad()), bias = zeros({state.range(1)}, requires_grad());
  const Tensor upstream = randn(shape_of(state));
  for (auto _ : state) {
    x.zero_grad();
    weight.zero_grad();
    bias.zero_grad();
    batch_norm(x, weight, bias, {}, {}, true, 0.1, 1e-5).backward(upstream);
    benchmark::DoNotOptimize(x.grad());
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * static_cast<std::int64_t>(sizeof(float)));
}
BENCHMARK(BM_BatchNorm2dTrainBackward)->Args({64, 16, 28})->Args({64, 64, 14})->Args({8, 3, 32});

// BatchNorm1d after a Linear layer: (N, C), one value per channel and sample.
void BM_BatchNorm1dTrainBackward(benchmark::State& state) {
  Tensor x = randn({state.range(0), state.range(1)}, requires_grad());
  Tensor weight = ones({state.range(1)}, requires_grad()), bias = zeros({state.range(1)}, requires_grad());
  Tensor running_mean = zeros({state.range(1)}), running_var = ones({state.range(1)});
  const Tensor upstream = randn({state.range(0), state.range(1)});
  for (auto _ : state) {
    x.zero_grad();
    weight.zero_grad();
    bias.zero_grad();
    batch_norm(x, weight, bias, running_mean, running_var, true, 0.1, 1e-5).backward(upstream);
    benchmark::DoNotOptimize(x.grad());
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * static_cast<std::int64_t>(sizeof(float)));
}
BENCHMARK(BM_BatchNorm1dTrainBackward)->Args({64, 128})->Args({256, 512});

void BM_Dropout(benchmark::State& state) {
  const Tensor x = randn({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(dropout(x, 0.5, true));
  state.SetItemsProcessed(state.iterations() * x.numel());
}
BENCHMARK(BM_Dropout)->Args({64, 512})->Args({256, 4096});

void BM_EmbeddingBackward(benchmark::State& state) {
  Tensor weight = randn({state.range(0), state.range(1)}, requires_grad());
  const Tensor indices = randint(0, state.range(0), {32, 64});
  const Tensor upstream = randn({32, 64, state.range(1)});
  for (auto _ : state) {
    weight.zero_grad();
    embedding(weight, indices).backward(upstream);
    benchmark::DoNotOptimize(weight.grad());
  }
  state.SetItemsProcessed(state.iterations() * indices.numel());
}
BENCHMARK(BM_EmbeddingBackward)->Args({1000, 64})->Args({30000, 128});

}  // namespace
