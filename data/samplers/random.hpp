#pragma once
// RandomSampler: a fresh random permutation of 0 .. size - 1 at construction and at every reset(),
// drawn with randperm from the global generator, so xgrad::manual_seed(s) fixes every epoch's order.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <xgrad/core/tensor.hpp>
#include <xgrad/data/samplers/base.hpp>

namespace xgrad::data::samplers {

class RandomSampler : public Sampler<> {
 public:
  explicit RandomSampler(std::int64_t size);

  // Draws a new permutation (of new_size indices when given) and starts from its beginning.
  void reset(std::optional<std::size_t> new_size = std::nullopt) override;
  std::optional<std::vector<std::size_t>> next(std::size_t batch_size) override;
  // How many indices this epoch has handed out.
  std::size_t index() const noexcept;

 private:
  Tensor indices_;  // int64 permutation
  std::size_t index_ = 0;
};

}  // namespace xgrad::data::samplers
