#pragma once
// WorkerPool: the background threads of a data loader with workers > 0.
//
// The consuming thread draws each batch's indices from the sampler (all randomness stays on that
// thread) and submits them with a sequence number; a worker takes the oldest job, calls get_batch on
// its own copy of the dataset, and files the result (the batch, or the exception it threw) under that
// number; take() waits for the next number in sequence. So batches arrive in sampler order whatever
// the scheduling, and workers = 2 gives exactly the batches of workers = 0. The loader keeps at most
// max_jobs jobs outstanding: that bounds both queues.
//
// Threads and xgrad: a worker's tensors come from its own thread's buffer cache, and a buffer freed
// on another thread goes to that thread's cache. So that batch buffers do not pile up in the
// consumer's cache, the loader hands each finished batch back (retire) and a worker drops it, which
// returns the buffers to a worker's cache for the next batches. Workers run under NoGradGuard, so
// they never create graph nodes (a leaf's gradient accumulator is shared state); batches of a dataset
// whose tensors require grad carry no history with workers > 0. Workers must not draw from the global
// generator, which is not thread-safe: a transform that draws random numbers belongs on the
// consuming thread (workers = 0).
//
// Destruction stops the workers after their current job and joins them.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <xgrad/core/error.hpp>
#include <xgrad/core/grad_mode.hpp>

namespace xgrad::data::detail {

template <typename Dataset>
class WorkerPool {
 public:
  using Batch = typename Dataset::BatchType;

  // Starts `workers` threads, each with a copy of `dataset` (copied here, on the calling thread).
  WorkerPool(const Dataset& dataset, std::size_t workers) {
    try {
      for (std::size_t w = 0; w < workers; ++w) threads_.emplace_back([this, copy = dataset]() mutable { run(copy); });
    } catch (...) {
      stop();
      throw;
    }
  }
  ~WorkerPool() { stop(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues get_batch(indices) as the next batch in sequence.
  void submit(std::vector<std::size_t> indices) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back({submitted_, std::move(indices)});
    }
    ++submitted_;
    job_ready_.notify_one();
  }

  // Submitted but not yet taken.
  std::size_t outstanding() const noexcept { return submitted_ - taken_; }

  // The next batch in sequence, waiting for it (at most `timeout`); rethrows what its worker threw.
  Batch take(std::optional<std::chrono::milliseconds> timeout) {
    Result result;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto ready = [&] { return results_.count(taken_) > 0; };
      if (!timeout) {
        result_ready_.wait(lock, ready);
      } else if (!result_ready_.wait_for(lock, *timeout, ready)) {
        throw Error(concat("data loader: Timeout: no batch from the workers within ", timeout->count(), " ms"));
      }
      auto found = results_.find(taken_);
      result = std::move(found->second);
      results_.erase(found);
    }
    ++taken_;
    if (result.error) std::rethrow_exception(result.error);
    return std::move(*result.batch);
  }

  // Takes and drops every outstanding batch (a new epoch starts from a clean sequence).
  void drain() {
    while (outstanding() > 0) {
      try {
        retire(take(std::nullopt));
      } catch (...) {
        // A failed batch of an abandoned epoch is of no interest any more.
      }
    }
  }

  // Hands a batch the consumer is done with to the workers, which drop it (see above).
  void retire(Batch batch) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      retired_.push_back(std::move(batch));
    }
    job_ready_.notify_one();
  }

 private:
  struct Job {
    std::size_t sequence;
    std::vector<std::size_t> indices;
  };
  struct Result {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  void run(Dataset& dataset) {
    const NoGradGuard no_grad;
    for (;;) {
      std::optional<Job> job;
      std::vector<Batch> retired;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        job_ready_.wait(lock, [&] { return stopping_ || !jobs_.empty() || !retired_.empty(); });
        if (stopping_) return;
        retired.swap(retired_);
        if (!jobs_.empty()) {
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
      }
      retired.clear();  // outside the lock, on this thread
      if (!job) continue;
      Result result;
      try {
        result.batch = dataset.get_batch(job->indices);
      } catch (...) {
        result.error = std::current_exception();
      }
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        results_.emplace(job->sequence, std::move(result));
      }
      result_ready_.notify_all();
    }
  }

  void stop() noexcept {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    job_ready_.notify_all();
    for (std::thread& thread : threads_)
      if (thread.joinable()) thread.join();
  }

  std::mutex mutex_;
  std::condition_variable job_ready_, result_ready_;
  std::deque<Job> jobs_;
  std::map<std::size_t, Result> results_;
  std::vector<Batch> retired_;
  bool stopping_ = false;
  // Touched by the consuming thread only.
  std::size_t submitted_ = 0, taken_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace xgrad::data::detail
