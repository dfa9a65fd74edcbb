#include <xgrad/core/load_limit.hpp>

#include <atomic>

#include <xgrad/core/error.hpp>

namespace xgrad {

namespace {

std::atomic<std::int64_t> max_elements{std::int64_t{1} << 31};

}  // namespace

std::int64_t max_loaded_elements() noexcept { return max_elements.load(std::memory_order_relaxed); }

void set_max_loaded_elements(std::int64_t count) {
  check(count >= 1, "set_max_loaded_elements: count must be at least 1, got ", count);
  max_elements.store(count, std::memory_order_relaxed);
}

}  // namespace xgrad
