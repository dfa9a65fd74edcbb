// A training step in steady state allocates nothing: after the first step, zero_grad, forward, loss,
// backward and the optimiser's step of the models people train small run on memory kept from the
// step before (tensor buffers and control blocks from the buffer cache, nodes and their edge and
// gradient lists from the same cache, the engine's work lists kept per thread).
//
// The proof counts calls to the C allocator itself: this binary replaces malloc and its siblings
// with versions that count, on the calling thread, while a CountAllocations is alive, and forward
// to glibc's own. operator new and std::aligned_alloc both end there. Sanitizer builds keep their
// own allocator (they replace malloc themselves), so there the test is skipped.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "fashion_mnist/model.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define XGRAD_TEST_SANITIZED_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define XGRAD_TEST_SANITIZED_ALLOCATOR 1
#endif

namespace {

// Plain thread-locals of the executable itself: reading them allocates nothing, even on a new thread.
thread_local bool counting = false;
thread_local std::uint64_t allocations = 0;

void count_one() {
  if (counting) ++allocations;
}

// Counts the allocations made on this thread while it is alive.
class CountAllocations {
 public:
  CountAllocations() {
    allocations = 0;
    counting = true;
  }
  ~CountAllocations() { counting = false; }
  std::uint64_t count() const { return allocations; }
};

}  // namespace

#ifndef XGRAD_TEST_SANITIZED_ALLOCATOR
// glibc's allocator under its exported internal names: what the replacements forward to.
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* pointer);

void* malloc(std::size_t size) {
  count_one();
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
  count_one();
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, std::size_t size) {
  count_one();
  return __libc_realloc(pointer, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  count_one();
  return __libc_memalign(alignment, size);
}
void* memalign(std::size_t alignment, std::size_t size) {
  count_one();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  count_one();
  void* pointer = __libc_memalign(alignment, size);
  if (pointer == nullptr) return 12;  // ENOMEM
  *out = pointer;
  return 0;
}
void free(void* pointer) { __libc_free(pointer); }
}
#endif

namespace {

using namespace xgrad;

struct Case {
  std::string name;
  std::function<nn::Sequential()> model;
  std::vector<std::int64_t> input_shape;
  std::int64_t classes;
  bool adam;  // Adam(1e-3) as the Fashion-MNIST example; SGD(0.1, momentum 0.9) as the bench harness
};

// gtest prints a failing case by its name, not as bytes.
void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

nn::Sequential mlp(std::int64_t in, std::int64_t hidden, std::int64_t out) {
  return nn::Sequential{nn::Linear(in, hidden), nn::ReLU(), nn::Linear(hidden, hidden), nn::ReLU(),
                        nn::Linear(hidden, out)};
}

// The number of allocations of `steps` training steps after a first one.
std::uint64_t allocations_of_steps(const Case& c, int steps) {
  manual_seed(0);
  nn::Sequential net = c.model();
  net->train();
  std::unique_ptr<optim::Optimizer> optimizer;
  if (c.adam)
    optimizer = std::make_unique<optim::Adam>(net->parameters(), optim::AdamOptions(1e-3));
  else
    optimizer = std::make_unique<optim::SGD>(net->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  const Tensor x = randn(c.input_shape);
  const Tensor y = randint(0, c.classes, {c.input_shape[0]});
  auto step = [&] {
    optimizer->zero_grad();
    Tensor loss = nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    optimizer->step();
  };
  step();  // the first step makes the optimiser's state and fills the caches
  CountAllocations counter;
  for (int i = 0; i < steps; ++i) step();
  return counter.count();
}

class SteadyState : public ::testing::TestWithParam<Case> {};

TEST_P(SteadyState, TrainingStepsAllocateNothingAfterTheFirst) {
#ifdef XGRAD_TEST_SANITIZED_ALLOCATOR
  GTEST_SKIP() << "the sanitizer's allocator replaces malloc in this build";
#endif
  const Case& c = GetParam();
  EXPECT_EQ(allocations_of_steps(c, 100), 0u) << c.name << ": heap allocations in 100 steps after the first";
}

INSTANTIATE_TEST_SUITE_P(
    Models, SteadyState,
    ::testing::Values(Case{"tiny", [] { return mlp(2, 16, 3); }, {30, 2}, 3, false},
                      Case{"toy", [] { return mlp(2, 64, 3); }, {300, 2}, 3, false},
                      Case{"fashion_mlp", [] { return fashion::make_model("mlp"); }, {64, 1, 28, 28}, 10, true},
                      Case{"fashion_cnn", [] { return fashion::make_model("cnn"); }, {64, 1, 28, 28}, 10, true}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// The counter itself counts: without this, a replacement the linker ignored would pass every test.
TEST(SteadyState, TheCounterSeesAnAllocation) {
#ifdef XGRAD_TEST_SANITIZED_ALLOCATOR
  GTEST_SKIP() << "the sanitizer's allocator replaces malloc in this build";
#endif
  // Through a volatile pointer, so the compiler cannot drop an allocation nobody reads.
  void* (*volatile allocate)(std::size_t) = std::malloc;
  CountAllocations counter;
  void* block = allocate(1000);
  const std::uint64_t seen = counter.count();
  std::free(block);
  EXPECT_EQ(seen, 1u);
}

}  // namespace
