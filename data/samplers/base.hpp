#pragma once
// Sampler: where a data loader gets each batch's indices from, as torch::data::samplers::Sampler.
// reset(size) starts a new epoch (a RandomSampler draws a new order); next(batch_size) gives the
// next batch_size indices (fewer at the end of the epoch) or nullopt once the epoch is done.
//
// A loader calls its sampler on the consuming thread only, so all randomness is drawn there and the
// batches do not depend on how worker threads are scheduled. (libtorch's samplers also have
// save/load to an archive; xgrad's do not.)
#include <cstddef>
#include <optional>
#include <vector>

namespace xgrad::data::samplers {

template <typename BatchRequest = std::vector<std::size_t>>
class Sampler {
 public:
  using BatchRequestType = BatchRequest;

  virtual ~Sampler() = default;
  virtual void reset(std::optional<std::size_t> new_size) = 0;
  virtual std::optional<BatchRequest> next(std::size_t batch_size) = 0;
};

}  // namespace xgrad::data::samplers
