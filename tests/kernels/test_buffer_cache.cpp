// The per-thread cache that tensor buffers come from: reuse, alignment, bounds, and that tensors
// built on recycled buffers hold their own values.
#include <gtest/gtest.h>

#include <xgrad/kernels/buffer_cache.hpp>
#include <xgrad/xgrad.hpp>

#include <cstdint>
#include <thread>

#include "compare.hpp"

namespace xgrad {
namespace {

bool aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % buffer_cache::kAlignment == 0; }

// Sanitizer builds bypass the cache on purpose (so use-after-free is still reported).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCaching = false;
#else
constexpr bool kCaching = true;
#endif

TEST(BufferCache, BuffersAreAlignedForAnySize) {
  for (std::size_t bytes : {0, 1, 63, 64, 65, 300, 4096, 100000, 3 << 20}) {
    void* p = buffer_cache::allocate(bytes);
    EXPECT_TRUE(aligned(p)) << bytes << " bytes";
    buffer_cache::deallocate(p, bytes);
  }
}

TEST(BufferCache, FreedBufferIsReusedForTheSameSizeClass) {
  if (!kCaching) GTEST_SKIP() << "cache disabled under AddressSanitizer";
  buffer_cache::release_cached();
  void* first = buffer_cache::allocate(76800);  // a 300 x 64 float32 activation
  buffer_cache::deallocate(first, 76800);
  EXPECT_GE(buffer_cache::cached_bytes(), 76800u);
  void* second = buffer_cache::allocate(76000);  // same class (quarter powers of two)
  EXPECT_EQ(first, second);
  EXPECT_EQ(buffer_cache::cached_bytes(), 0u);
  buffer_cache::deallocate(second, 76000);
  buffer_cache::release_cached();
  EXPECT_EQ(buffer_cache::cached_bytes(), 0u);
}

TEST(BufferCache, HugeBuffersBypassTheCache) {
  buffer_cache::release_cached();
  const std::size_t huge = buffer_cache::kMaxCachedBuffer + 1;
  void* p = buffer_cache::allocate(huge);
  buffer_cache::deallocate(p, huge);
  EXPECT_EQ(buffer_cache::cached_bytes(), 0u);
}

TEST(BufferCache, CacheNeverHoldsMoreThanItsBound) {
  buffer_cache::release_cached();
  const std::size_t bytes = buffer_cache::kMaxCachedBuffer;  // 64 MiB: the bound holds four
  std::vector<void*> buffers;
  for (int i = 0; i < 6; ++i) buffers.push_back(buffer_cache::allocate(bytes));
  for (void* p : buffers) buffer_cache::deallocate(p, bytes);
  EXPECT_LE(buffer_cache::cached_bytes(), buffer_cache::kMaxCachedBytes);
  buffer_cache::release_cached();
}

TEST(BufferCache, BufferFreedOnAnotherThreadIsSafe) {
  void* p = buffer_cache::allocate(1000);
  std::thread other([p] { buffer_cache::deallocate(p, 1000); });  // cached there, freed at its exit
  other.join();
  SUCCEED();
}

TEST(BufferCache, RecycledBuffersDoNotLeakValuesBetweenTensors) {
  Tensor a = full({30, 16}, 7.0);
  a = Tensor();  // its buffer goes back to the cache
  Tensor z = zeros({30, 16});
  for (float v : z.to_vector<float>()) ASSERT_EQ(v, 0.f);
  Tensor b = ones({30, 16}) * 2.0;
  for (float v : b.to_vector<float>()) ASSERT_EQ(v, 2.f);
}

TEST(BufferCache, TrainingStepsReuseTheSameMemory) {
  if (!kCaching) GTEST_SKIP() << "cache disabled under AddressSanitizer";
  Tensor w = randn({16, 2}).requires_grad_();
  Tensor x = randn({30, 2});
  auto step = [&] {
    w.zero_grad();
    sum(relu(matmul(x, transpose(w, 0, 1)))).backward();
  };
  step();
  step();  // from here on, each step frees exactly what the next one takes
  const std::size_t warmed_up = buffer_cache::cached_bytes();
  for (int i = 0; i < 50; ++i) step();
  EXPECT_EQ(buffer_cache::cached_bytes(), warmed_up);
}

}  // namespace
}  // namespace xgrad
