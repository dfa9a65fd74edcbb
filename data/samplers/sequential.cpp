#include <xgrad/data/samplers/sequential.hpp>

#include <algorithm>
#include <numeric>

namespace xgrad::data::samplers {

SequentialSampler::SequentialSampler(std::size_t size) : size_(size) {}

void SequentialSampler::reset(std::optional<std::size_t> new_size) {
  if (new_size) size_ = *new_size;
  index_ = 0;
}

std::optional<std::vector<std::size_t>> SequentialSampler::next(std::size_t batch_size) {
  const std::size_t count = std::min(batch_size, size_ - index_);
  if (count == 0) return std::nullopt;
  std::vector<std::size_t> indices(count);
  std::iota(indices.begin(), indices.end(), index_);
  index_ += count;
  return indices;
}

std::size_t SequentialSampler::index() const noexcept { return index_; }

}  // namespace xgrad::data::samplers
