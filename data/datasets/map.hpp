#pragma once
// MapDataset: a dataset whose batches are a transform applied to another dataset's batches, what
// dataset.map(transform) returns (torch::data::datasets::MapDataset).
//
// The fast path. Mapped with Stack<>, the generic route makes one small tensor per example (a row
// copy, then each transform's own result) and then stacks them: 64 examples cost some 200 tensor
// allocations per batch. A tensor-backed dataset (MNIST, TensorDataset) offers
// stacked_batch(indices), which gathers the requested rows into the batch directly, and a transform
// that can run on a whole stacked batch (Normalize) offers apply_stacked(batch). So
// MNIST.map(Normalize).map(Stack) costs one gather and one broadcast per batch. The values are those
// of the generic route (tests/data check it); a transform without apply_stacked (a TensorLambda,
// whose function may not be batch-safe) keeps the generic route.
#include <type_traits>
#include <utility>

#include <xgrad/data/transforms/stack.hpp>
#include <xgrad/data/datasets/base.hpp>

namespace xgrad::data::datasets {

namespace detail {
template <typename D, typename = void>
struct has_stacked_batch : std::false_type {};
template <typename D>
struct has_stacked_batch<D, std::enable_if_t<std::is_convertible_v<
                                decltype(std::declval<D&>().stacked_batch(std::declval<ArrayRef<std::size_t>>())),
                                Example<>>>> : std::true_type {};

template <typename T, typename = void>
struct has_apply_stacked : std::false_type {};
template <typename T>
struct has_apply_stacked<
    T, std::enable_if_t<std::is_convertible_v<decltype(std::declval<T&>().apply_stacked(std::declval<Example<>>())),
                                              Example<>>>> : std::true_type {};
}  // namespace detail

template <typename SourceDataset, typename AppliedTransform>
class MapDataset : public BatchDataset<MapDataset<SourceDataset, AppliedTransform>,
                                       typename AppliedTransform::OutputBatchType,
                                       typename SourceDataset::BatchRequestType> {
 public:
  using DatasetType = SourceDataset;
  using TransformType = AppliedTransform;
  using BatchRequestType = typename SourceDataset::BatchRequestType;
  using OutputBatchType = typename AppliedTransform::OutputBatchType;

  MapDataset(DatasetType dataset, TransformType transform)
      : dataset_(std::move(dataset)), transform_(std::move(transform)) {}

  OutputBatchType get_batch(BatchRequestType indices) override {
    if constexpr (std::is_same_v<AppliedTransform, transforms::Stack<Example<>>> &&
                  detail::has_stacked_batch<SourceDataset>::value) {
      return dataset_.stacked_batch(indices);
    } else {
      return transform_.apply_batch(dataset_.get_batch(std::move(indices)));
    }
  }

  // The batch at `indices` already stacked, when the source can give it so and the transform can
  // work on it (see the fast path above). Otherwise absent, and has_stacked_batch says so.
  template <typename D = SourceDataset, typename T = AppliedTransform,
            std::enable_if_t<detail::has_stacked_batch<D>::value && detail::has_apply_stacked<T>::value, int> = 0>
  Example<> stacked_batch(ArrayRef<std::size_t> indices) {
    return transform_.apply_stacked(dataset_.stacked_batch(indices));
  }

  std::optional<std::size_t> size() const noexcept override { return dataset_.size(); }

  const SourceDataset& dataset() noexcept { return dataset_; }
  const AppliedTransform& transform() noexcept { return transform_; }

 private:
  SourceDataset dataset_;
  AppliedTransform transform_;
};

template <typename DatasetType, typename TransformType>
MapDataset<DatasetType, TransformType> map(DatasetType dataset, TransformType transform) {
  static_assert(std::is_same_v<typename DatasetType::BatchType, typename TransformType::InputBatchType>,
                "BatchType type of dataset does not match input type of transform");
  return {std::move(dataset), std::move(transform)};
}

}  // namespace xgrad::data::datasets
