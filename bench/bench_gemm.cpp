// The gemm dispatch's two implementations on the products xgrad's models make, for deriving (or
// re-deriving, on another machine) the shape rule in kernels/gemm.cpp. Every product runs forced onto
// OpenBLAS, forced onto libxsmm, and as the rule chooses.
//
//   OPENBLAS_NUM_THREADS=1 xgrad_bench_gemm --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Names read gemm_<dtype>/<transposes>/<m>x<n>x<k>/<path>, with the row-major meaning of
// kernels/gemm.hpp: NT is c = a b^T, as in linear's forward; TN is c = a^T b, its weight gradient.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <xgrad/kernels/gemm.hpp>

namespace {

using xgrad::GemmPath;

struct Product {
  const char* transposes;  // "NN", "NT" or "TN"
  std::int64_t m, n, k;
};

// The layers of the benchmark workloads (tiny 2-16-16-3 batch 30, toy 2-64-64-3 batch 300, wide
// 784-512-512-10 batch 256, the same MLP at batch 64), each as its forward (NT), input gradient (NN)
// and weight gradient (TN); these include matmul's three products for 30x16 @ 16x16 and 300x64 @
// 64x64. Then convolution by im2col, per image and for a batch of 64 (16 filters of 5x5 over 24x24
// outputs), and widths and sizes around the edges of the rule.
const std::vector<Product>& products() {
  static const std::vector<Product> all = {
      {"NT", 30, 16, 2},      {"NT", 30, 16, 16},    {"NT", 30, 3, 16},     {"NN", 30, 16, 16},
      {"NN", 30, 16, 3},      {"TN", 16, 2, 30},     {"TN", 16, 16, 30},    {"TN", 3, 16, 30},
      {"NT", 300, 64, 2},     {"NT", 300, 64, 64},   {"NT", 300, 3, 64},    {"NN", 300, 64, 64},
      {"NN", 300, 64, 3},     {"NN", 300, 2, 64},    {"TN", 64, 2, 300},    {"TN", 64, 64, 300},
      {"TN", 3, 64, 300},
      {"NT", 256, 512, 784},  {"NT", 256, 512, 512}, {"NT", 256, 10, 512},  {"NN", 256, 512, 512},
      {"NN", 256, 512, 10},   {"TN", 512, 784, 256}, {"TN", 512, 512, 256}, {"TN", 10, 512, 256},
      {"NT", 64, 512, 784},   {"NT", 64, 512, 512},  {"NT", 64, 10, 512},   {"NN", 64, 512, 512},
      {"NN", 64, 512, 10},    {"TN", 512, 784, 64},  {"TN", 512, 512, 64},  {"TN", 10, 512, 64},
      {"NN", 16, 576, 25},    {"NT", 16, 25, 576},   {"TN", 25, 576, 16},
      {"NN", 36864, 16, 25},  {"TN", 16, 25, 36864}, {"NN", 36864, 25, 16},
      {"NN", 300, 8, 64},     {"NN", 300, 16, 64},   {"NN", 300, 32, 64},   {"NT", 8, 64, 64},
      {"NT", 16, 64, 64},     {"NT", 32, 64, 64},    {"NT", 16, 64, 256},   {"NT", 32, 64, 256},
      {"NT", 64, 64, 256},    {"NT", 32, 128, 128},  {"NT", 64, 128, 128},  {"NN", 128, 128, 128},
      {"NN", 150, 150, 150},  {"NN", 160, 160, 160}, {"NN", 256, 256, 256},
  };
  return all;
}

const char* path_name(GemmPath path) {
  switch (path) {
    case GemmPath::kOpenBlas: return "openblas";
    case GemmPath::kLibxsmm: return "libxsmm";
    default: return "rule";
  }
}

template <class T>
void run_product(benchmark::State& state, Product p, GemmPath path) {
  const bool trans_a = p.transposes[0] == 'T', trans_b = p.transposes[1] == 'T';
  std::mt19937 gen(3);
  std::normal_distribution<T> normal;
  std::vector<T> a(static_cast<std::size_t>(p.m * p.k)), b(static_cast<std::size_t>(p.k * p.n)),
      c(static_cast<std::size_t>(p.m * p.n));
  for (T& x : a) x = normal(gen);
  for (T& x : b) x = normal(gen);
  const std::int64_t lda = trans_a ? p.m : p.k, ldb = trans_b ? p.k : p.n;
  for (auto _ : state) {
    xgrad::gemm(trans_a, trans_b, p.m, p.n, p.k, T(1), a.data(), lda, b.data(), ldb, T(0), c.data(), p.n, path);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * p.m * p.n * p.k, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

template <class T>
void register_all(const char* dtype) {
  for (const Product& p : products())
    for (GemmPath path : {GemmPath::kOpenBlas, GemmPath::kLibxsmm, GemmPath::kAuto}) {
      const std::string name = std::string("gemm_") + dtype + "/" + p.transposes + "/" + std::to_string(p.m) + "x" +
                               std::to_string(p.n) + "x" + std::to_string(p.k) + "/" + path_name(path);
      benchmark::RegisterBenchmark(name.c_str(), run_product<T>, p, path);
    }
}

}  // namespace

int main(int argc, char** argv) {
  register_all<float>("f32");
  register_all<double>("f64");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
