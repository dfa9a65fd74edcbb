#pragma once
// Library-internal: where tensors' element buffers come from.
//
// A training step allocates the same buffers every time (activations, gradients) and frees them all
// when the graph is released. Straight malloc/free makes glibc hand the freed top of the heap back to
// the kernel (brk) and fault the pages in again on the next step: measured at about a tenth of a
// 2-64-64-3 training step. So each thread keeps the buffers it frees, sorted by size class, and hands
// them out again; the cache is bounded (kMaxCachedBytes per thread, single buffers above
// kMaxCachedBuffer bypass it) and is emptied when its thread exits. The same cache serves the small
// shared_ptr blocks every op result needs (make_cached_shared below).
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace xgrad::buffer_cache {

inline constexpr std::size_t kAlignment = 64;                      // a cache line; any SIMD width
inline constexpr std::size_t kMaxCachedBytes = std::size_t{256} << 20;  // per thread
inline constexpr std::size_t kMaxCachedBuffer = std::size_t{64} << 20;

// At least `bytes` bytes, kAlignment-aligned. Throws std::bad_alloc when memory is exhausted.
void* allocate(std::size_t bytes);
// Returns a buffer from allocate(bytes) (the same `bytes`) to this thread's cache or to the system.
void deallocate(void* buffer, std::size_t bytes) noexcept;
// While one is alive, this thread's new buffers come from the system rather than from the cache:
// for state that outlives the step that makes it (an optimiser's moments, made in its first step).
// Taken from the cache, that state would hold buffers the step had just freed, and the next step,
// finding them gone, would go to the system for its own; with it, the second step allocates nothing.
class LongLivedAllocations {
 public:
  LongLivedAllocations();
  ~LongLivedAllocations();
  LongLivedAllocations(const LongLivedAllocations&) = delete;
  LongLivedAllocations& operator=(const LongLivedAllocations&) = delete;
};

// Gives every cached buffer of this thread back to the system (tests, long-lived idle threads).
void release_cached() noexcept;
// Bytes currently held in this thread's cache.
std::size_t cached_bytes() noexcept;

}  // namespace xgrad::buffer_cache

namespace xgrad {

// The allocator of every tensor's array (see Array<T> in tensor_impl.hpp).
template <class T>
struct BufferAllocator {
  using value_type = T;
  BufferAllocator() noexcept = default;
  template <class U>
  BufferAllocator(const BufferAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(buffer_cache::allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { buffer_cache::deallocate(p, n * sizeof(T)); }

  friend bool operator==(const BufferAllocator&, const BufferAllocator&) noexcept { return true; }
  friend bool operator!=(const BufferAllocator&, const BufferAllocator&) noexcept { return false; }
};

// A std::vector whose elements live in the buffer cache: for the lists an op or a node makes on every
// call (a node's edges, its gradients, a convolution's per-kernel-row plan), which would otherwise
// be a malloc and a free each time.
template <class T>
using cached_vector = std::vector<T, BufferAllocator<T>>;

// std::unique_ptr for an object in the buffer cache (a view's layout, made with every view).
template <class T>
struct CachedDelete {
  void operator()(T* object) const noexcept {
    object->~T();
    buffer_cache::deallocate(object, sizeof(T));
  }
};
template <class T>
using cached_unique_ptr = std::unique_ptr<T, CachedDelete<T>>;
template <class T, class... Args>
cached_unique_ptr<T> make_cached_unique(Args&&... args) {
  void* memory = buffer_cache::allocate(sizeof(T));
  try {
    return cached_unique_ptr<T>(new (memory) T(std::forward<Args>(args)...));
  } catch (...) {
    buffer_cache::deallocate(memory, sizeof(T));
    throw;
  }
}

// std::make_shared with the control block from the buffer cache: the TensorImpl and Storage of an
// op's result reuse those of the previous step's tensors instead of a malloc/free pair each.
template <class T, class... Args>
std::shared_ptr<T> make_cached_shared(Args&&... args) {
  return std::allocate_shared<T>(BufferAllocator<T>(), std::forward<Args>(args)...);
}

}  // namespace xgrad
