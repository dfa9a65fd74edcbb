#pragma once
// The arithmetic ceiling of the calling core, measured: float32 fused multiply-adds with no memory
// traffic, as many independent chains as hide the FMA latency, in the widest vectors the CPU has.
// A benchmark divides a case's matrix-product FLOPs by it to get the case's floor, the time no
// implementation can beat on this core.
#include <algorithm>
#include <chrono>
#include <cstdint>

namespace xgrad::bench {

namespace detail {

// `Vector` lanes of float32, `kChains` accumulators each updated `rounds` times: returns the seconds.
// The accumulators are read at the end so the work cannot be dropped. Always inlined, so that it is
// compiled for the vector width of the caller's target attribute.
template <class Vector, int kChains>
__attribute__((always_inline)) inline double time_fma_chains(long rounds, float* sink) {
  Vector acc[kChains];
  Vector a, b;
  for (int i = 0; i < static_cast<int>(sizeof(Vector) / sizeof(float)); ++i) {
    a[i] = 1.0f + 1e-7f * static_cast<float>(i);
    b[i] = 1e-7f;
  }
  for (int c = 0; c < kChains; ++c) acc[c] = b * static_cast<float>(c);
  const auto start = std::chrono::steady_clock::now();
  for (long r = 0; r < rounds; ++r) {
    // Fully unrolled, so that every accumulator lives in a register; floating-point adds are not
    // reassociated, so the compiler must compute every chain.
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * a + b;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  float total = 0.0f;
  for (int c = 0; c < kChains; ++c)
    for (int i = 0; i < static_cast<int>(sizeof(Vector) / sizeof(float)); ++i) total += acc[c][i];
  *sink += total;
  return seconds;
}

typedef float Floats16 __attribute__((vector_size(64)));
typedef float Floats8 __attribute__((vector_size(32)));

__attribute__((target("avx512f,fma"))) inline double avx512_flops(long rounds, float* sink) {
  const double seconds = time_fma_chains<Floats16, 12>(rounds, sink);
  return 2.0 * 16 * 12 * static_cast<double>(rounds) / seconds;
}

__attribute__((target("avx2,fma"))) inline double avx2_flops(long rounds, float* sink) {
  const double seconds = time_fma_chains<Floats8, 12>(rounds, sink);
  return 2.0 * 8 * 12 * static_cast<double>(rounds) / seconds;
}

}  // namespace detail

// Float32 FLOP/s of one core: the best of `tries` runs of about 50 ms each.
inline double measured_peak_flops(int tries = 7) {
  float sink = 0.0f;
  double best = 0.0;
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 && !__builtin_cpu_supports("avx2")) return 0.0;
  constexpr long kRounds = 4'000'000;
  for (int t = 0; t < tries; ++t)
    best = std::max(best, avx512 ? detail::avx512_flops(kRounds, &sink) : detail::avx2_flops(kRounds, &sink));
  return sink == 12345.0f ? best + 1 : best;  // sink is read, so the chains are computed
}

}  // namespace xgrad::bench
