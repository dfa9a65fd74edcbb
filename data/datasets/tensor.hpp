#pragma once
// TensorDataset(data, targets): example i is (data[i], targets[i]), as Python's
// torch.utils.data.TensorDataset(data, targets). (libtorch's TensorDataset holds a single tensor and
// gives data-only examples; xgrad's pairs rows of data and targets.)
//
//   auto ds = TensorDataset(xgrad::randn({100, 2}), xgrad::randint(0, 3, {100}));
//   ds.get(5);   // data (2) float32, target () int64
#include <cstddef>
#include <optional>

#include <xgrad/data/array_ref.hpp>
#include <xgrad/data/datasets/base.hpp>

namespace xgrad::data::datasets {

class TensorDataset : public Dataset<TensorDataset> {
 public:
  // Both need at least one dim and the same size(0); throws Error otherwise.
  TensorDataset(Tensor data, Tensor targets);

  Example<> get(std::size_t index) override;
  std::optional<std::size_t> size() const override;
  const Tensor& data() const;
  const Tensor& targets() const;

  // The examples at `indices` stacked: data (B, ...), target (B, ...); see datasets/map.hpp.
  Example<> stacked_batch(ArrayRef<std::size_t> indices) const;

 private:
  Tensor data_, targets_;
};

}  // namespace xgrad::data::datasets
