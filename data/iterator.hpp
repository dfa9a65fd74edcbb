#pragma once
// Iterator<Batch>: what `for (auto& batch : *loader)` walks, as torch::data::Iterator. It is an
// input iterator: ++ asks the loader for the next batch (rethrowing a worker's exception here), *
// gives the current one, and an iterator equals end() once the epoch is exhausted.
#include <cstddef>
#include <iterator>
#include <optional>
#include <utility>

#include <xgrad/core/error.hpp>

namespace xgrad::data {

namespace detail {
// A loader as its iterators see it. next_batch receives the batch the iterator is done with, so a
// threaded loader can release its buffers on a worker thread (see dataloader/worker_pool.hpp).
template <typename Batch>
class BatchSource {
 public:
  virtual std::optional<Batch> next_batch(std::optional<Batch> previous) = 0;

 protected:
  ~BatchSource() = default;
};
}  // namespace detail

template <typename Batch>
class Iterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Batch;
  using difference_type = std::ptrdiff_t;
  using pointer = Batch*;
  using reference = Batch&;

  // The end of every epoch.
  Iterator() = default;
  // At the first batch of the epoch the loader has just started.
  explicit Iterator(detail::BatchSource<Batch>* source) : source_(source), current_(source->next_batch({})) {}

  Batch& operator*() {
    if (!current_)
      throw Error(source_ == nullptr ? "data loader: Dereferencing the DataLoader's past-the-end iterator is not allowed"
                                     : "data loader: Attempted to dereference iterator that was past the end (the "
                                       "epoch's last batch was already read)");
    return *current_;
  }
  Batch* operator->() { return &**this; }
  Iterator& operator++() {
    if (!current_)
      throw Error(source_ == nullptr ? "data loader: Incrementing the DataLoader's past-the-end iterator is not allowed"
                                     : "data loader: Attempted to increment iterator past the end (the epoch's last "
                                       "batch was already read)");
    // Empty while the loader works, so an exception leaves this iterator at the end.
    std::optional<Batch> previous = std::move(current_);
    current_.reset();
    current_ = source_->next_batch(std::move(previous));
    return *this;
  }

  // Two iterators are equal when both are past the last batch (or are the same iterator).
  friend bool operator==(const Iterator& a, const Iterator& b) { return &a == &b || (!a.current_ && !b.current_); }
  friend bool operator!=(const Iterator& a, const Iterator& b) { return !(a == b); }

 private:
  detail::BatchSource<Batch>* source_ = nullptr;
  std::optional<Batch> current_;
};

}  // namespace xgrad::data
