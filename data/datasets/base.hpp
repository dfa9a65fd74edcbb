#pragma once
// The dataset bases of torch::data, by CRTP: derive `class MyData : public Dataset<MyData>` and
// define get(index) and size(); get_batch and .map(transform) come from here.
//
//   class Squares : public xgrad::data::datasets::Dataset<Squares> {
//    public:
//     Example<> get(size_t i) override { return {xgrad::tensor(double(i)), xgrad::tensor(double(i * i))}; }
//     std::optional<size_t> size() const override { return 10; }
//   };
//
// BatchDataset is the general form (a batch request in, a batch out); Dataset is the common one
// whose batch is a std::vector of single examples. xgrad has no stateful (chunk or stream) datasets:
// every dataset here is sized and indexed, so is_stateful is always false.
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include <xgrad/data/array_ref.hpp>
#include <xgrad/data/example.hpp>

namespace xgrad::data::datasets {

template <typename Source, typename Transform>
class MapDataset;
template <typename Source, typename Transform>
MapDataset<Source, Transform> map(Source dataset, Transform transform);

template <typename Self, typename Batch = std::vector<Example<>>, typename BatchRequest = ArrayRef<std::size_t>>
class BatchDataset {
 public:
  using SelfType = Self;
  using BatchType = Batch;
  using BatchRequestType = BatchRequest;
  constexpr static bool is_stateful = false;

  virtual ~BatchDataset() = default;

  // The examples at the requested indices, as one batch.
  virtual Batch get_batch(BatchRequest request) = 0;
  // The number of examples (libtorch's optional: nullopt would mean unsized).
  virtual std::optional<std::size_t> size() const = 0;

  // A dataset whose batches are transform.apply_batch(this dataset's batch). The rvalue form moves
  // this dataset into the result: MNIST(root).map(Normalize<>(0.5, 0.5)).map(Stack<>()).
  template <typename TransformType>
  MapDataset<Self, TransformType> map(TransformType transform) & {
    return datasets::map(static_cast<Self&>(*this), std::move(transform));
  }
  template <typename TransformType>
  MapDataset<Self, TransformType> map(TransformType transform) && {
    return datasets::map(std::move(static_cast<Self&>(*this)), std::move(transform));
  }
};

template <typename Self, typename SingleExample = Example<>>
class Dataset : public BatchDataset<Self, std::vector<SingleExample>> {
 public:
  using ExampleType = SingleExample;

  // The example at `index`, 0 <= index < size().
  virtual ExampleType get(std::size_t index) = 0;

  // get(i) for each requested index, in order.
  std::vector<ExampleType> get_batch(ArrayRef<std::size_t> indices) override {
    std::vector<ExampleType> batch;
    batch.reserve(indices.size());
    for (const std::size_t i : indices) batch.push_back(get(i));
    return batch;
  }
};

}  // namespace xgrad::data::datasets
