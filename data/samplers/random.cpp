#include <xgrad/data/samplers/random.hpp>

#include <algorithm>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>

namespace xgrad::data::samplers {

RandomSampler::RandomSampler(std::int64_t size) {
  check(size >= 0, "RandomSampler: size must be non-negative, got ", size);
  indices_ = randperm(size);
}

void RandomSampler::reset(std::optional<std::size_t> new_size) {
  const std::int64_t size = new_size ? static_cast<std::int64_t>(*new_size) : indices_.numel();
  indices_ = randperm(size);
  index_ = 0;
}

std::optional<std::vector<std::size_t>> RandomSampler::next(std::size_t batch_size) {
  const auto size = static_cast<std::size_t>(indices_.numel());
  const std::size_t count = std::min(batch_size, size - index_);
  if (count == 0) return std::nullopt;
  const std::int64_t* order = indices_.data<std::int64_t>() + index_;
  std::vector<std::size_t> indices(order, order + count);
  index_ += count;
  return indices;
}

std::size_t RandomSampler::index() const noexcept { return index_; }

}  // namespace xgrad::data::samplers
