#pragma once
// SequentialSampler: 0, 1, ..., size - 1 in order, every epoch.
#include <cstddef>
#include <optional>
#include <vector>

#include <xgrad/data/samplers/base.hpp>

namespace xgrad::data::samplers {

class SequentialSampler : public Sampler<> {
 public:
  explicit SequentialSampler(std::size_t size);

  // Back to index 0; with a new_size, the epoch has that many indices from now on.
  void reset(std::optional<std::size_t> new_size = std::nullopt) override;
  std::optional<std::vector<std::size_t>> next(std::size_t batch_size) override;
  // How many indices this epoch has handed out.
  std::size_t index() const noexcept;

 private:
  std::size_t size_;
  std::size_t index_ = 0;
};

}  // namespace xgrad::data::samplers
