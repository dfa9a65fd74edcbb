#include <xgrad/kernels/gemm.hpp>

// OpenBLAS's CBLAS interface: it must not meet xtensor-blas in one file (both declare the CBLAS enums).
#include <cblas.h>

#include <algorithm>
#include <array>
#include <limits>

#include <xgrad/core/blas_threads_impl.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/kernels/thread_pool.hpp>

#if XGRAD_WITH_LIBXSMM
#include <immintrin.h>
#include <libxsmm_cpuid.h>
#include <libxsmm_generator.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>
#endif

namespace xgrad {

namespace {

// ---- which implementation ------------------------------------------------------------------------
//
// Measured with bench/bench_gemm.cpp on one core of a machine whose /proc/cpuinfo says "AMD EPYC",
// with AVX-512 (libxsmm 1.17 generates its "cpx" code, OpenBLAS 0.3.21 picks its Cooper Lake
// kernels); median CPU time of five runs in microseconds, row-major m x n x k, float32:
//
//                                              OpenBLAS  libxsmm
//   toy 2-64-64-3, batch 300   NT 300x64x64        26.6     22.0   (includes transposing b)
//                              NN 300x64x64        26.0     21.6
//                              TN 64x64x300        27.2     21.3
//                              NT 300x64x2          2.46     1.22
//                              TN 3x64x300          1.46     1.06
//   tiny 2-16-16-3, batch 30   NT 30x16x16          0.35     0.20
//                              NN 30x16x16          0.18     0.17
//   wide, batch 256            TN 10x512x256       49.4     23.3
//   rows of c narrower than 16 NT 300x3x64          1.99     5.72
//                              NN 300x2x64          1.17     5.46
//                              TN 64x2x300          0.79     5.32
//                              NN 300x8x64          4.05     5.50
//                              NN 300x16x64         5.48     5.48
//   b transposed for few rows  NT 16x25x576         4.39    13.1    (a convolution's weight gradient)
//                              NT 16x64x256         5.02     7.10
//                              NT 64x64x256        23.8     20.7
//   large                      NN 256x512x512    1371     1230
//                              NT 256x512x784    2117     2130
//                              NN 36864x16x25     428      292    (im2col over a batch of 64 images)
//
// float64 tells the same story at half the speed (NN 300x64x64: 55.1 against 43.6; TN 64x2x300: 1.90
// against 5.33), so both types follow one rule. libxsmm takes a product when all of these hold:
//  - m n k is below kThreadedGemmMinWork. Larger products stay with OpenBLAS, which spreads them over
//    its threads; one libxsmm thread did between 1% worse and 15% better on them (more for im2col's
//    long, thin products, a case to revisit when convolution lands), less than a second core gives.
//  - n >= 16. libxsmm vectorises along the rows of c; narrower ones lost up to 6x.
//  - Without trans_b, or with it when n k <= 256 m. libxsmm 1.17 cannot read its A operand (our b)
//    transposed, so b is transposed into a scratch copy first, whose cost only enough rows of c repay.
//  - Not both operands transposed: xgrad never asks for that, and it was not measured.
// Measured on this one CPU only. With both libraries forced onto AVX2 code here, libxsmm's TN
// 64x64x300 ran slower than OpenBLAS's (32.5 against 24.7 us): measure again before trusting the
// rule on an AVX2-only machine.

constexpr std::int64_t kNarrowestLibxsmmRow = 16;
constexpr std::int64_t kMostCopiedPerRowOfC = 256;

bool libxsmm_suits(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k) {
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (work >= kThreadedGemmMinWork || n < kNarrowestLibxsmmRow) return false;
  if (!trans_b) return true;
  return !trans_a && n * k <= kMostCopiedPerRowOfC * m;
}

// ---- OpenBLAS ------------------------------------------------------------------------------------

CBLAS_TRANSPOSE blas_flag(bool transposed) { return transposed ? CblasTrans : CblasNoTrans; }

// BLAS wants leading dimensions of at least 1, even for an operand with no columns.
int blas_ld(std::int64_t ld) { return static_cast<int>(std::max<std::int64_t>(ld, 1)); }

void openblas_gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                   const float* b, int ldb, float beta, float* c, int ldc) {
  const SmallGemmOnOneThread threads(m, n, k);
  cblas_sgemm(CblasRowMajor, blas_flag(trans_a), blas_flag(trans_b), m, n, k, alpha, a, blas_ld(lda), b,
              blas_ld(ldb), beta, c, blas_ld(ldc));
}
void openblas_gemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a, int lda,
                   const double* b, int ldb, double beta, double* c, int ldc) {
  const SmallGemmOnOneThread threads(m, n, k);
  cblas_dgemm(CblasRowMajor, blas_flag(trans_a), blas_flag(trans_b), m, n, k, alpha, a, blas_ld(lda), b,
              blas_ld(ldb), beta, c, blas_ld(ldc));
}

// ---- libxsmm -------------------------------------------------------------------------------------
#if XGRAD_WITH_LIBXSMM
//
// Kernels come straight from libxsmm's code generator (libxsmm_generator.h), copied into pages of our
// own, rather than through libxsmm_smmdispatch: the first dispatch starts libxsmm's runtime, whose
// code registry (131,072 entries) is mapped with MAP_LOCKED and so adds about 10 MB to the resident
// size of every process, more than a whole toy training run uses. The generator is what dispatch
// calls underneath, so the kernels are the same code.
//
// libxsmm is column-major, so a row-major product is read as its transpose: C^T = op(B)^T op(A)^T,
// with b as libxsmm's A and a as its B, the transpose flags swapped, and n and m swapped.

enum class KernelKind : int { kGemmFloat, kGemmDouble, kTransposeFloat, kTransposeDouble };

// A generated kernel's identity: libxsmm's column-major sizes, its gemm flags and beta (0 or 1).
// Transposes use m, n and ldc (the output's leading dimension) only.
struct KernelKey {
  KernelKind kind;
  int m, n, k, lda, ldb, ldc, flags, beta;

  bool operator==(const KernelKey& other) const {
    return std::tie(kind, m, n, k, lda, ldb, ldc, flags, beta) ==
           std::tie(other.kind, other.m, other.n, other.k, other.lda, other.ldb, other.ldc, other.flags, other.beta);
  }
};

// Sizes, flags and beta tell the kernels of a program apart (leading dimensions almost always follow
// the sizes); independent multiplies, rather than a chain, since every product looks its kernel up.
struct KernelKeyHash {
  std::size_t operator()(const KernelKey& key) const {
    auto part = [](int value, std::size_t odd) { return static_cast<std::size_t>(static_cast<unsigned>(value)) * odd; };
    return part(key.m, 0x9E3779B97F4A7C15u) ^ part(key.n, 0xC2B2AE3D27D4EB4Fu) ^ part(key.k, 0x165667B19E3779F9u) ^
           part(static_cast<int>(key.kind) * 4 + key.flags * 2 + key.beta, 0x27D4EB2F165667C5u);
  }
};

// The instruction set the generator targets. Older x86 than AVX2 was never measured and goes to
// OpenBLAS.
int generator_arch() {
  static const int arch = libxsmm_cpuid_x86(nullptr);
  return arch;
}

// libxsmm's own choice (libxsmm_build in 1.17): a product with a side of at most 16 elements runs
// better as AVX2 code than as AVX-512 code.
int gemm_arch(const KernelKey& key) {
  const int arch = generator_arch();
  const std::int64_t m = key.m, n = key.n, k = key.k;
  const bool tiny_side = m * k <= 16 || k * n <= 16 || m * n <= 16;
  return arch > LIBXSMM_X86_AVX2 && tiny_side ? LIBXSMM_X86_AVX2 : arch;
}

// An executable copy of `size` bytes of machine code, or nullptr if the system refuses one.
void* executable_copy(const unsigned char* code, std::size_t size) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t length = (size + page - 1) / page * page;
  void* pages = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) return nullptr;
  std::memcpy(pages, code, size);
  if (mprotect(pages, length, PROT_READ | PROT_EXEC) != 0) {
    munmap(pages, length);
    return nullptr;
  }
  return pages;
}

// Runs the generator for `key` and returns the kernel, or nullptr where it has none.
void* generate(const KernelKey& key) {
  constexpr unsigned kCodeBufferSize = 131072;  // libxsmm's own limit (LIBXSMM_CODE_MAXSIZE)
  const std::unique_ptr<unsigned char[]> buffer(new unsigned char[kCodeBufferSize]);
  libxsmm_generated_code code{};
  code.generated_code = buffer.get();
  code.buffer_size = kCodeBufferSize;
  code.code_type = 2;  // machine code, to be called
  libxsmm_descriptor_blob blob;
  switch (key.kind) {
    case KernelKind::kGemmFloat:
    case KernelKind::kGemmDouble: {
      const libxsmm_gemm_descriptor* descriptor =
          key.kind == KernelKind::kGemmFloat
              ? libxsmm_sgemm_descriptor_init(&blob, key.m, key.n, key.k, key.lda, key.ldb, key.ldc, 1.0f,
                                              static_cast<float>(key.beta), key.flags, LIBXSMM_GEMM_PREFETCH_NONE)
              : libxsmm_dgemm_descriptor_init(&blob, key.m, key.n, key.k, key.lda, key.ldb, key.ldc, 1.0,
                                              static_cast<double>(key.beta), key.flags, LIBXSMM_GEMM_PREFETCH_NONE);
      if (descriptor == nullptr) return nullptr;
      code.arch = static_cast<unsigned>(gemm_arch(key));
      libxsmm_generator_gemm_kernel(&code, descriptor);
      break;
    }
    case KernelKind::kTransposeFloat:
    case KernelKind::kTransposeDouble: {
      const unsigned element = key.kind == KernelKind::kTransposeFloat ? sizeof(float) : sizeof(double);
      const libxsmm_trans_descriptor* descriptor = libxsmm_trans_descriptor_init(
          &blob, element, static_cast<unsigned>(key.m), static_cast<unsigned>(key.n), static_cast<unsigned>(key.ldc));
      code.arch = static_cast<unsigned>(generator_arch());
      libxsmm_generator_transpose_kernel(&code, descriptor, generator_arch());
      break;
    }
  }
  if (code.last_error != 0 || code.code_size == 0) return nullptr;
  return executable_copy(buffer.get(), code.code_size);
}

// Every kernel generated so far, shared by all threads and kept for the life of the process, as
// libxsmm keeps its own. A shape the generator refused is remembered as nullptr. Past kMaxKernels
// shapes, new ones go to OpenBLAS rather than grow the code without bound.
class KernelRegistry {
 public:
  static constexpr std::size_t kMaxKernels = 1024;

  void* find_or_generate(const KernelKey& key) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = kernels_.find(key);
    if (found != kernels_.end()) return found->second;
    if (kernels_.size() >= kMaxKernels) return nullptr;
    void* kernel = generator_arch() >= LIBXSMM_X86_AVX2 ? generate(key) : nullptr;
    kernels_.emplace(key, kernel);
    return kernel;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<KernelKey, void*, KernelKeyHash> kernels_;
};

// This thread's most recent kernels, direct-mapped by the key's hash: a training step asks for the
// same few shapes every time, and then finds each with one comparison, without the shared
// registry's lock (a hash map here cost 2% of a tiny training step, mostly in its modulo). Two keys
// that share a slot evict each other; the registry still has both.
struct RecentKernels {
  struct Slot {
    KernelKey key;
    void* kernel;
    bool filled;
  };
  static constexpr std::size_t kSlots = 64;  // a power of two: the modulo is a mask
  Slot& slot_for(const KernelKey& key) {
    const std::size_t hash = KernelKeyHash()(key);
    return slots[(hash >> 32) % kSlots];
  }
  std::array<Slot, kSlots> slots{};
};

// The kernel for `key` (nullptr where the generator has none), from this thread's recent kernels
// when it was used here before.
void* kernel_for(const KernelKey& key) {
  // Never destroyed, so that a product computed during static destruction still finds it.
  static KernelRegistry& registry = *new KernelRegistry;
  thread_local RecentKernels recent;
  RecentKernels::Slot& slot = recent.slot_for(key);
  if (slot.filled && slot.key == key) return slot.kernel;
  slot = {key, registry.find_or_generate(key), true};
  return slot.kernel;
}

KernelKind gemm_kind(float) { return KernelKind::kGemmFloat; }
KernelKind gemm_kind(double) { return KernelKind::kGemmDouble; }
KernelKind transpose_kind(float) { return KernelKind::kTransposeFloat; }
KernelKind transpose_kind(double) { return KernelKind::kTransposeDouble; }

// libxsmm 1.17's kernels return with the upper halves of the vector registers still in use (no
// vzeroupper), and every SSE instruction after that pays for it: xgrad's own loops, compiled for
// baseline x86-64, ran 2.5x slower after a kernel (relu on 300 x 64: from about 4% of a toy training
// step to 10%). Generated code means an AVX CPU, so the instruction is always there.
__attribute__((target("avx"))) void clear_upper_halves() { _mm256_zeroupper(); }

using FloatKernel = void (*)(const float* a, const float* b, float* c);
using DoubleKernel = void (*)(const double* a, const double* b, double* c);
void run_kernel(void* kernel, const float* a, const float* b, float* c) {
  reinterpret_cast<FloatKernel>(kernel)(a, b, c);
}
void run_kernel(void* kernel, const double* a, const double* b, double* c) {
  reinterpret_cast<DoubleKernel>(kernel)(a, b, c);
}

// This thread's buffer for a transposed operand, at least `size` elements long.
template <class T>
T* scratch(std::size_t size) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

bool fits_int(std::int64_t value) { return value <= std::numeric_limits<int>::max(); }

// The product on a libxsmm kernel; false (nothing written) where libxsmm cannot run it. libxsmm 1.17
// generates no kernel that reads its A operand transposed (descriptor init refuses the flag), and a
// row-major trans_b lands exactly there: b (n rows of k) is then first transposed into a k x n
// scratch copy, by a generated transpose kernel. Both operands transposed never happens in xgrad and
// stays with OpenBLAS.
template <class T>
bool libxsmm_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
                  std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  if (alpha != T(1) || (beta != T(0) && beta != T(1)) || (trans_a && trans_b)) return false;
  if (!fits_int(m * n) || !fits_int(n * k) || !fits_int(std::max({lda, ldb, ldc}))) return false;
  const int left_ld = static_cast<int>(trans_b ? n : ldb);
  const KernelKey gemm_key{gemm_kind(T()),
                           static_cast<int>(n),
                           static_cast<int>(m),
                           static_cast<int>(k),
                           left_ld,
                           static_cast<int>(lda),
                           static_cast<int>(ldc),
                           trans_a ? LIBXSMM_GEMM_FLAG_TRANS_B : LIBXSMM_GEMM_FLAG_NONE,
                           beta == T(0) ? 0 : 1};
  void* kernel = kernel_for(gemm_key);
  if (kernel == nullptr) return false;
  const T* left = b;
  if (trans_b) {  // column-major, b is k x n with leading dimension ldb; its transpose is n x k
    const KernelKey transpose_key{transpose_kind(T()), static_cast<int>(k), static_cast<int>(n), 0, 0, 0,
                                  static_cast<int>(n), 0, 0};
    void* transpose = kernel_for(transpose_key);
    if (transpose == nullptr) return false;
    T* copy = scratch<T>(static_cast<std::size_t>(n * k));
    const auto in_ld = static_cast<unsigned>(ldb), out_ld = static_cast<unsigned>(n);
    reinterpret_cast<libxsmm_xtransfunction>(transpose)(b, &in_ld, copy, &out_ld);
    left = copy;
  }
  run_kernel(kernel, left, a, c);
  clear_upper_halves();
  return true;
}

constexpr bool kWithLibxsmm = true;
#else
template <class T>
bool libxsmm_gemm(bool, bool, std::int64_t, std::int64_t, std::int64_t, T, const T*, std::int64_t, const T*,
                  std::int64_t, T, T*, std::int64_t) {
  return false;
}

constexpr bool kWithLibxsmm = false;
#endif

// ---- the entry point -----------------------------------------------------------------------------

void check_gemm_args(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t lda,
                     std::int64_t ldb, std::int64_t ldc) {
  const std::int64_t a_width = trans_a ? m : k, b_width = trans_b ? k : n;
  const std::int64_t limit = std::numeric_limits<int>::max();
  if (m < 0 || n < 0 || k < 0)
    throw Error(concat("gemm: sizes must not be negative, got m ", m, ", n ", n, ", k ", k));
  if (lda < a_width || ldb < b_width || ldc < n)
    throw Error(concat("gemm: a leading dimension is shorter than its rows: lda ", lda, " for rows of ", a_width,
                       ", ldb ", ldb, " for rows of ", b_width, ", ldc ", ldc, " for rows of ", n));
  if (std::max({m, n, k, lda, ldb, ldc}) > limit)
    throw Error(concat("gemm: a size or leading dimension exceeds the 32-bit integers of the BLAS interface (m ", m,
                       ", n ", n, ", k ", k, ", lda ", lda, ", ldb ", ldb, ", ldc ", ldc, ")"));
}

// c = beta c, for the empty sum (k == 0); beta 0 writes zeros, whatever c held.
template <class T>
void scale_rows(std::int64_t m, std::int64_t n, T beta, T* c, std::int64_t ldc) {
  if (beta == T(1)) return;
  for (std::int64_t row = 0; row < m; ++row) {
    T* out = c + row * ldc;
    if (beta == T(0)) std::fill(out, out + n, T(0));
    else std::transform(out, out + n, out, [beta](T value) { return beta * value; });
  }
}

template <class T>
void dispatch(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
              std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc, GemmPath path);

// ---- a product split among xgrad's threads ---------------------------------------------------------
//
// OpenBLAS's pthread build splits a large product over its own workers, which then wait for the next
// product by spinning on sched_yield: on two cores they keep taking the core from the thread that
// has the next op to run (a fifth of a two-thread Fashion-MNIST MLP epoch went to the scheduler). So
// a product is instead split by blocks of columns of c among xgrad's own pool
// (kernels/thread_pool.hpp), whose idle workers sleep, with OpenBLAS or libxsmm on one thread for
// each block. A block gets at least kMinGemmWorkPerBlock multiply-adds: the pool's worker, still
// spinning from the op before, joins within microseconds, so the two halves of a Fashion-MNIST MLP's
// 64 x 256 x 128 products pay (where OpenBLAS's threads lost on products of that size), while the
// toy MLP's 300 x 64 x 64 ones, which gained nothing split, stay whole. Every element of c is the
// same sum in the same order as unsplit: a block of columns needs the whole of op(a) and its own
// columns of op(b).

// Blocks are a multiple of this many columns wide (a cache line of floats), and at least this wide.
constexpr std::int64_t kSplitColumns = 16;
constexpr double kMinGemmWorkPerBlock = 1.0e6;

template <class T>
bool split_by_columns(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
                      std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const std::int64_t blocks = thread_pool::blocks_for(n / kSplitColumns, work, kMinGemmWorkPerBlock);
  if (blocks <= 1) return false;
  const OpenBlasOnOneThread one_thread_each;
  // Every block on the library the whole product would take: libxsmm adds each term to c as it goes
  // and OpenBLAS adds beta c to the finished sum, so with beta 1 the two round differently, and a
  // block narrow enough for libxsmm's rule would no longer give the one-thread result. A path named
  // also keeps the blocks from splitting again.
  const GemmPath whole = gemm_path(trans_a, trans_b, m, n, k);
  thread_pool::for_blocks(n, blocks, kSplitColumns, [&](std::int64_t, std::int64_t first, std::int64_t last) {
    const T* b_block = trans_b ? b + first * ldb : b + first;
    dispatch(trans_a, trans_b, m, last - first, k, alpha, a, lda, b_block, ldb, beta, c + first, ldc, whole);
  });
  return true;
}

template <class T>
void dispatch(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
              std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc, GemmPath path) {
  check_gemm_args(trans_a, trans_b, m, n, k, lda, ldb, ldc);
  if (m == 0 || n == 0) return;
  if (k == 0) return scale_rows(m, n, beta, c, ldc);
  if (path == GemmPath::kAuto && split_by_columns(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
    return;
  if (path == GemmPath::kAuto) path = gemm_path(trans_a, trans_b, m, n, k);
  if (path == GemmPath::kLibxsmm && libxsmm_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
    return;
  openblas_gemm(trans_a, trans_b, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
                static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

}  // namespace

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc, GemmPath path) {
  dispatch(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, path);
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha, const double* a,
          std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c, std::int64_t ldc,
          GemmPath path) {
  dispatch(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, path);
}

GemmPath gemm_path(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k) {
  return kWithLibxsmm && libxsmm_suits(trans_a, trans_b, m, n, k) ? GemmPath::kLibxsmm : GemmPath::kOpenBlas;
}

}  // namespace xgrad
