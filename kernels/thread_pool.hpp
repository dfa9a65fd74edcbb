#pragma once
// Library-internal: xgrad's one pool of worker threads, for the work it splits itself (a batch's
// images in a convolution). Workers start on first use and live as long as the process, so a split
// costs a wake-up (a few microseconds) rather than a thread's creation and join (some 50 us each,
// every call, before the pool). The caller always takes part, so `threads` threads means the
// caller and threads - 1 workers; the count comes from xgrad::get_num_threads(), the one setting
// OpenBLAS also follows, and the products inside a task run on their own thread
// (SmallGemmOnOneThread), so the two never ask for more threads than the user gave.
#include <algorithm>
#include <cstdint>

namespace xgrad::thread_pool {

namespace detail {
using TaskFunction = void (*)(const void* body, std::int64_t task);
void run(std::int64_t tasks, int threads, TaskFunction call, const void* body);
}  // namespace detail

// Calls body(task) once for every task in [0, tasks), on up to `threads` threads, and returns when
// all are done. An exception thrown by a task is rethrown here (the first one), after every task
// has finished or been skipped. A call made from inside a task, or while another thread's call has
// the pool, runs its tasks on the calling thread in order, which gives the same results.
template <class Body>
void parallel_for(std::int64_t tasks, int threads, const Body& body) {
  detail::run(
      tasks, threads, [](const void* function, std::int64_t task) { (*static_cast<const Body*>(function))(task); },
      &body);
}

// body(block, first, last) for `blocks` consecutive ranges covering [0, count) exactly, each but the
// last a multiple of `alignment` long (a vector's or a cache line's worth, so each starts on a full
// one), through parallel_for; ranges left empty by the rounding are skipped. One block is a plain
// call on this thread. What every split of xgrad's work goes through, so each gets the same cover.
template <class Body>
void for_blocks(std::int64_t count, std::int64_t blocks, std::int64_t alignment, const Body& body) {
  if (blocks <= 1 || count <= alignment) return body(std::int64_t{0}, std::int64_t{0}, count);
  const std::int64_t size = ((count + blocks - 1) / blocks + alignment - 1) / alignment * alignment;
  parallel_for(blocks, static_cast<int>(blocks), [&](std::int64_t block) {
    const std::int64_t first = block * size;
    if (first < count) body(block, first, std::min(count, first + size));
  });
}

// How many blocks to split `items` independent items worth `work` in all into: xgrad's thread
// count (xgrad::get_num_threads, OpenBLAS's one setting), at most one block per item and one per
// `min_work_per_block` (below it a second thread's wake-up costs more than its share saves); at
// least 1.
std::int64_t blocks_for(std::int64_t items, double work, double min_work_per_block);

// body(first, last) over [0, items) in blocks_for(items, work, min_work_per_block) blocks, for
// independent items (rows, planes, images, a batch's rows) whose results do not depend on the split.
template <class Body>
void for_item_blocks(std::int64_t items, double work, double min_work_per_block, const Body& body) {
  for_blocks(items, blocks_for(items, work, min_work_per_block), 1,
             [&](std::int64_t, std::int64_t first, std::int64_t last) { body(first, last); });
}

// body(first, last) over [0, n) in blocks_for(n, n, min_elements_per_block) blocks a multiple of 64
// elements long, for elementwise work whose result does not depend on the split.
template <class Body>
void for_element_blocks(std::int64_t n, std::int64_t min_elements_per_block, const Body& body) {
  for_blocks(n, blocks_for(n, static_cast<double>(n), static_cast<double>(min_elements_per_block)), 64,
             [&](std::int64_t, std::int64_t first, std::int64_t last) { body(first, last); });
}

// Workers started so far (tests).
int workers();

}  // namespace xgrad::thread_pool
