// One job at a time: the caller publishes it, wakes the workers it wants, works through the tasks
// with them (each thread claims the next task from an atomic counter, so a slow thread takes fewer),
// then closes the job to latecomers and waits only for the workers that joined.
#include <xgrad/kernels/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

// OpenBLAS's thread setting, which xgrad::get_num_threads reads (declared here rather than through
// <cblas.h>, which must not meet the xtensor-blas headers elsewhere in the library).
extern "C" int openblas_get_num_threads(void);

namespace xgrad::thread_pool {

namespace {

struct Job {
  detail::TaskFunction call;
  const void* body;
  std::int64_t tasks;
  std::atomic<std::int64_t> next{0};
  std::exception_ptr error;  // the first one, guarded by the pool's mutex
};

// True on a thread while it runs a task: a nested call then runs inline instead of waiting on a
// pool whose threads may all be busy with the outer call.
thread_local bool inside_task = false;

class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  // false when another thread's job has the pool (the caller then runs its tasks alone).
  bool run(Job& job, int helpers) {
    std::unique_lock<std::mutex> owner(owner_, std::try_to_lock);
    if (!owner.owns_lock()) return false;
    bool sleepers = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (static_cast<int>(workers_.size()) < helpers) workers_.emplace_back([this] { work_loop(); });
      job_ = &job;
      seats_ = helpers;
      ++generation_;
      published_.store(generation_, std::memory_order_release);
      sleepers = sleepers_ > 0;
    }
    if (sleepers) wake_.notify_all();  // a spinning worker sees published_ without a system call
    work(job);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = nullptr;  // closed: a worker waking from now on finds nothing to join
    }
    // The workers that joined are finishing their last tasks, which were no longer than the
    // caller's: wait for them the way they wait for jobs, spinning before sleeping, since a sleep and
    // the wake-up that ends it cost tens of microseconds on a virtual machine.
    for (int spin = 0; spin < kSpins && working_.load(std::memory_order_acquire) != 0; ++spin) pause();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return working_.load(std::memory_order_relaxed) == 0; });
    return true;
  }

  int workers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(workers_.size());
  }

  void work(Job& job) {
    inside_task = true;
    for (std::int64_t task = job.next.fetch_add(1); task < job.tasks; task = job.next.fetch_add(1)) {
      try {
        job.call(job.body, task);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!job.error) job.error = std::current_exception();
      }
    }
    inside_task = false;
  }

 private:
  void work_loop() {
    std::uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      // A training step hands out jobs a few hundred microseconds apart: a worker that waits a
      // little before sleeping is already running when the next comes, where waking a sleeping one
      // costs tens of microseconds on a virtual machine.
      lock.unlock();
      for (int spin = 0; spin < kSpins && published_.load(std::memory_order_acquire) == seen; ++spin) pause();
      lock.lock();
      ++sleepers_;
      wake_.wait(lock, [&] { return stopping_ || (job_ != nullptr && generation_ != seen && seats_ > 0); });
      --sleepers_;
      if (stopping_) return;
      seen = generation_;
      --seats_;
      ++working_;
      Job& job = *job_;
      lock.unlock();
      work(job);
      lock.lock();
      if (--working_ == 0) done_.notify_one();
    }
  }

  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  // About 50 microseconds of pause instructions.
  static constexpr int kSpins = 20000;

  std::mutex owner_;  // held by the thread whose job is running
  std::mutex mutex_;  // everything below
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  Job* job_ = nullptr;
  std::uint64_t generation_ = 0;
  int seats_ = 0;    // workers the current job still takes
  std::atomic<int> working_{0};  // workers inside the current job (read without the mutex while spinning)
  int sleepers_ = 0;  // workers blocked on wake_
  std::atomic<std::uint64_t> published_{0};  // generation_, readable without the mutex
  bool stopping_ = false;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

void detail::run(std::int64_t tasks, int threads, TaskFunction call, const void* body) {
  Job job{call, body, tasks, {}, {}};
  const int helpers = static_cast<int>(std::min<std::int64_t>(threads, tasks)) - 1;
  if (helpers <= 0 || inside_task || !pool().run(job, helpers)) {
    for (std::int64_t task = 0; task < tasks; ++task) call(body, task);
    return;
  }
  if (job.error) std::rethrow_exception(job.error);
}

std::int64_t blocks_for(std::int64_t items, double work, double min_work_per_block) {
  const auto by_work = static_cast<std::int64_t>(work / min_work_per_block);
  return std::max<std::int64_t>(1, std::min<std::int64_t>({openblas_get_num_threads(), items, by_work}));
}

int workers() { return pool().workers(); }

}  // namespace xgrad::thread_pool
