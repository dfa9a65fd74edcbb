// layer_norm and scaled_dot_product_attention, forward + backward at the sizes of a small GPT:
// each fused op against the same formula written with xgrad's ops (what the fused node replaces).
// Linked into xgrad_bench with bench_xgrad.cpp (which has the main).
#include <xgrad/xgrad.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <limits>

namespace {

using namespace xgrad;

// (rows, width): the (B T, C) activations a GPT normalises before each block.
void BM_LayerNormBackward(benchmark::State& state) {
  Tensor x = randn({state.range(0), state.range(1)}, requires_grad());
  Tensor weight = ones({state.range(1)}, requires_grad()), bias = zeros({state.range(1)}, requires_grad());
  const Tensor upstream = randn({state.range(0), state.range(1)});
  for (auto _ : state) {
    x.zero_grad();
    weight.zero_grad();
    bias.zero_grad();
    layer_norm(x, {state.range(1)}, weight, bias).backward(upstream);
    benchmark::DoNotOptimize(x.grad());
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * static_cast<std::int64_t>(sizeof(float)));
}
BENCHMARK(BM_LayerNormBackward)->Args({512, 128})->Args({2048, 384});

void BM_LayerNormComposedBackward(benchmark::State& state) {
  Tensor x = randn({state.range(0), state.range(1)}, requires_grad());
  Tensor weight = ones({state.range(1)}, requires_grad()), bias = zeros({state.range(1)}, requires_grad());
  const Tensor upstream = randn({state.range(0), state.range(1)});
  for (auto _ : state) {
    x.zero_grad();
    weight.zero_grad();
    bias.zero_grad();
    const Tensor centred = x - x.mean(-1, true);
    const Tensor y = centred * pow((centred * centred).mean(-1, true) + 1e-5, -0.5) * weight + bias;
    y.backward(upstream);
    benchmark::DoNotOptimize(x.grad());
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * static_cast<std::int64_t>(sizeof(float)));
}
BENCHMARK(BM_LayerNormComposedBackward)->Args({512, 128})->Args({2048, 384});

// (B, H, T, D) causal self-attention; the heads are views of one (B, T, 3 H D) projection, as in a
// GPT's attention block.
struct Heads {
  Tensor qkv, upstream;
  std::int64_t b, h, t, d;
  explicit Heads(const benchmark::State& state)
      : b(state.range(0)), h(state.range(1)), t(state.range(2)), d(state.range(3)) {
    qkv = randn({b, t, 3 * h * d}, requires_grad());
    upstream = randn({b, h, t, d});
  }
  Tensor part(std::int64_t i) const { return qkv.narrow(2, i * h * d, h * d).view({b, t, h, d}).transpose(1, 2); }
};

void BM_AttentionCausalBackward(benchmark::State& state) {
  Heads heads(state);
  for (auto _ : state) {
    heads.qkv.zero_grad();
    scaled_dot_product_attention(heads.part(0), heads.part(1), heads.part(2), {}, 0.0, true).backward(heads.upstream);
    benchmark::DoNotOptimize(heads.qkv.grad());
  }
}
BENCHMARK(BM_AttentionCausalBackward)->Args({8, 4, 64, 16})->Args({4, 6, 256, 64});

void BM_AttentionComposedCausalBackward(benchmark::State& state) {
  Heads heads(state);
  const Tensor future = triu(ones({heads.t, heads.t}, kBool), 1);
  for (auto _ : state) {
    heads.qkv.zero_grad();
    const Tensor scores = matmul(heads.part(0), heads.part(1).transpose(-2, -1)) / std::sqrt(double(heads.d));
    const Tensor weights = softmax(scores.masked_fill(future, -std::numeric_limits<double>::infinity()), -1);
    matmul(weights, heads.part(2)).backward(heads.upstream);
    benchmark::DoNotOptimize(heads.qkv.grad());
  }
}
BENCHMARK(BM_AttentionComposedCausalBackward)->Args({8, 4, 64, 16})->Args({4, 6, 256, 64});

}  // namespace
