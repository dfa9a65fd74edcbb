#pragma once
// StatelessDataLoader: batches of a sized dataset in the order of a sampler, as
// torch::data::StatelessDataLoader (make_data_loader in dataloader.hpp builds one).
//
//   for (auto& batch : *loader) { ... }   // one epoch; every begin() starts a new one
//
// begin() resets the sampler (a RandomSampler draws a new permutation), then each step asks the
// sampler for batch_size indices and the dataset for that batch: on this thread with workers = 0,
// or on background threads with workers > 0 (see worker_pool.hpp), which then prepare up to max_jobs
// batches ahead. Either way the batches and their order are the same.
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <xgrad/core/error.hpp>
#include <xgrad/data/dataloader_options.hpp>
#include <xgrad/data/iterator.hpp>
#include <xgrad/data/dataloader/worker_pool.hpp>

namespace xgrad::data {

template <typename Dataset, typename Sampler>
class StatelessDataLoader final : private detail::BatchSource<typename Dataset::BatchType> {
 public:
  using BatchType = typename Dataset::BatchType;
  using BatchRequestType = typename Sampler::BatchRequestType;

  StatelessDataLoader(Dataset dataset, Sampler sampler, DataLoaderOptions options)
      : dataset_(std::move(dataset)), sampler_(std::move(sampler)), options_(std::move(options)) {
    check(options_.batch_size > 0, "data loader: batch_size must be positive, got 0");
    if (options_.workers > 0) {
      check(options_.max_jobs > 0, "data loader: max_jobs must be positive with ", options_.workers, " workers, got 0");
      pool_ = std::make_unique<detail::WorkerPool<Dataset>>(dataset_, options_.workers);
    }
  }
  StatelessDataLoader(const StatelessDataLoader&) = delete;
  StatelessDataLoader& operator=(const StatelessDataLoader&) = delete;

  // Starts a new epoch (abandoning what was left of the last one) at its first batch.
  Iterator<BatchType> begin() {
    if (pool_) pool_->drain();
    sampler_.reset(std::nullopt);
    if (pool_) top_up();
    return Iterator<BatchType>(this);
  }
  Iterator<BatchType> end() { return Iterator<BatchType>(); }

  const FullDataLoaderOptions& options() const noexcept { return options_; }

 private:
  std::optional<BatchType> next_batch(std::optional<BatchType> previous) override {
    if (!pool_) {
      previous.reset();
      std::optional<BatchRequestType> request = next_request();
      if (!request) return std::nullopt;
      return dataset_.get_batch(*request);
    }
    if (previous) pool_->retire(std::move(*previous));
    if (pool_->outstanding() == 0) return std::nullopt;
    std::optional<BatchType> batch;
    try {
      batch = pool_->take(options_.timeout);
    } catch (...) {
      top_up();  // the epoch can go on after the consumer has handled the error
      throw;
    }
    top_up();
    return batch;
  }

  // Requests batches until max_jobs are outstanding or the epoch has no more.
  void top_up() {
    while (pool_->outstanding() < options_.max_jobs && submit_next()) {
    }
  }

  // The sampler's next indices, or nullopt at the end of the epoch (a short last batch counts as the
  // end under drop_last).
  std::optional<BatchRequestType> next_request() {
    std::optional<BatchRequestType> request = sampler_.next(options_.batch_size);
    if (!request || (options_.drop_last && request->size() < options_.batch_size)) return std::nullopt;
    return request;
  }

  bool submit_next() {
    std::optional<BatchRequestType> request = next_request();
    if (!request) return false;
    pool_->submit(std::move(*request));
    return true;
  }

  Dataset dataset_;
  Sampler sampler_;
  FullDataLoaderOptions options_;
  // Declared last, so its threads are joined before the dataset and sampler go.
  std::unique_ptr<detail::WorkerPool<Dataset>> pool_;
};

}  // namespace xgrad::data
