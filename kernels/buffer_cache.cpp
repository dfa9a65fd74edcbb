#include <xgrad/kernels/buffer_cache.hpp>

#include <cstdlib>

namespace xgrad::buffer_cache {

namespace {

// Under AddressSanitizer every buffer goes straight back to the system, so a read through a
// released tensor is still reported instead of landing in a recycled buffer.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheEnabled = false;
#else
constexpr bool kCacheEnabled = true;
#endif

// Size classes: 64-byte steps up to 256 bytes, then four per power of two, so a buffer is at most
// 25% larger than asked for. Classes run up to kMaxCachedBuffer (2^26 bytes: class 4 + 17 * 4 + 3).
constexpr std::size_t kClasses = 76;

struct SizeClass {
  std::size_t index, bytes;
};

SizeClass size_class(std::size_t bytes) {
  if (bytes <= 256) {
    const std::size_t steps = bytes <= 64 ? 1 : (bytes + 63) / 64;
    return {steps - 1, steps * 64};
  }
  // 2^p < bytes <= 2^(p + 1), p >= 8: round up to a quarter of 2^p.
  const auto p = static_cast<std::size_t>(63 - __builtin_clzll(static_cast<unsigned long long>(bytes - 1)));
  const std::size_t quarter = std::size_t{1} << (p - 2);
  const std::size_t quarters = (bytes + quarter - 1) / quarter;  // 5 to 8
  return {4 + (p - 8) * 4 + (quarters - 5), quarters * quarter};
}

bool cacheable(std::size_t bytes) { return kCacheEnabled && bytes <= kMaxCachedBuffer; }

void* system_allocate(std::size_t bytes) {
  // aligned_alloc wants a multiple of the alignment; every size class already is one.
  const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* buffer = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (!buffer) throw std::bad_alloc();
  return buffer;
}

// A freed buffer holds the link to the next free buffer of its class in its own first bytes (every
// class is at least 64 bytes), so caching one is two stores: no list to grow, nothing to allocate.
struct FreeBuffer {
  FreeBuffer* next;
};

struct ThreadCache {
  FreeBuffer* free_buffers[kClasses] = {};
  std::size_t bytes = 0;

  void release() noexcept {
    for (FreeBuffer*& head : free_buffers) {
      while (head) {
        FreeBuffer* next = head->next;
        std::free(head);
        head = next;
      }
    }
    bytes = 0;
  }
  ~ThreadCache();
};

// Trivially destructible, so it can still be read while a thread's other thread_locals are being
// destroyed: a tensor freed after the cache is gone goes straight back to the system.
thread_local bool cache_destroyed = false;

ThreadCache::~ThreadCache() {
  release();
  cache_destroyed = true;
}

// How many LongLivedAllocations are alive on this thread.
thread_local int long_lived_depth = 0;

ThreadCache* this_thread_cache() {
  if (cache_destroyed) return nullptr;
  thread_local ThreadCache cache;
  return &cache;
}

}  // namespace

void* allocate(std::size_t bytes) {
  if (!cacheable(bytes)) return system_allocate(bytes);
  const SizeClass size = size_class(bytes);
  ThreadCache* cache = long_lived_depth == 0 ? this_thread_cache() : nullptr;
  if (cache) {
    if (FreeBuffer* buffer = cache->free_buffers[size.index]) {
      cache->free_buffers[size.index] = buffer->next;
      cache->bytes -= size.bytes;
      return buffer;
    }
  }
  return system_allocate(size.bytes);
}

void deallocate(void* buffer, std::size_t bytes) noexcept {
  if (!buffer) return;
  ThreadCache* cache = cacheable(bytes) ? this_thread_cache() : nullptr;
  if (cache) {
    const SizeClass size = size_class(bytes);
    if (cache->bytes + size.bytes <= kMaxCachedBytes) {
      cache->free_buffers[size.index] = new (buffer) FreeBuffer{cache->free_buffers[size.index]};
      cache->bytes += size.bytes;
      return;
    }
  }
  std::free(buffer);
}

LongLivedAllocations::LongLivedAllocations() { ++long_lived_depth; }
LongLivedAllocations::~LongLivedAllocations() { --long_lived_depth; }

void release_cached() noexcept {
  if (ThreadCache* cache = this_thread_cache()) cache->release();
}

std::size_t cached_bytes() noexcept {
  const ThreadCache* cache = this_thread_cache();
  return cache ? cache->bytes : 0;
}

}  // namespace xgrad::buffer_cache
