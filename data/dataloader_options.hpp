#pragma once
// DataLoaderOptions, as torch::data::DataLoaderOptions: chainable setters, same-named getters.
//
//   DataLoaderOptions().batch_size(64).workers(2).drop_last(true)
//
//   batch_size        examples per batch (default 1; a plain number converts: make_data_loader(ds, 64))
//   workers           background threads preparing batches; 0 = on the consuming thread (default)
//   max_jobs          batches requested ahead at most (default 2 * workers): the queue's bound
//   timeout           how long to wait for a worker's batch before throwing Error (default: forever)
//   enforce_ordering  kept for libtorch's spelling; xgrad always delivers batches in sampler order
//   drop_last         drop the last batch of an epoch when it is short (default false)
#include <chrono>
#include <cstddef>
#include <optional>

#include <xgrad/core/arg.hpp>

namespace xgrad::data {

class DataLoaderOptions {
 public:
  DataLoaderOptions() = default;
  /* implicit */ DataLoaderOptions(std::size_t batch_size) : batch_size_(batch_size) {}

  XGRAD_ARG(std::size_t, batch_size) = 1;
  XGRAD_ARG(std::size_t, workers) = 0;
  XGRAD_ARG(std::optional<std::size_t>, max_jobs);
  XGRAD_ARG(std::optional<std::chrono::milliseconds>, timeout);
  XGRAD_ARG(bool, enforce_ordering) = true;
  XGRAD_ARG(bool, drop_last) = false;
};

// The options with their defaults resolved (max_jobs = 2 * workers), as the loader uses them.
struct FullDataLoaderOptions {
  explicit FullDataLoaderOptions(DataLoaderOptions options)
      : batch_size(options.batch_size()),
        workers(options.workers()),
        max_jobs(options.max_jobs().value_or(2 * options.workers())),
        timeout(options.timeout()),
        enforce_ordering(options.enforce_ordering()),
        drop_last(options.drop_last()) {}

  std::size_t batch_size;
  std::size_t workers;
  std::size_t max_jobs;
  std::optional<std::chrono::milliseconds> timeout;
  bool enforce_ordering;
  bool drop_last;
};

}  // namespace xgrad::data
