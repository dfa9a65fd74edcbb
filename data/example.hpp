#pragma once
// Example: one item of a dataset, a data tensor and its target, as torch::data::Example.
//
//   Example<> e{image, label};      // e.data: (1, 28, 28) float32, e.target: () int64
//   TensorExample t{features};      // data only (Example<Tensor, example::NoTarget>)
//
// A batch is a std::vector of them until transforms::Stack<> turns it into one Example whose data
// is (N, ...) and whose target is (N).
#include <utility>

#include <xgrad/core/tensor.hpp>

namespace xgrad::data {

template <typename Data = Tensor, typename Target = Tensor>
struct Example {
  using DataType = Data;
  using TargetType = Target;

  Example() = default;
  Example(Data data, Target target) : data(std::move(data)), target(std::move(target)) {}

  Data data;
  Target target;
};

namespace example {
// The Target of an example that has only data.
using NoTarget = void;
}  // namespace example

template <typename Data>
struct Example<Data, example::NoTarget> {
  using DataType = Data;
  using TargetType = example::NoTarget;

  Example() = default;
  /* implicit */ Example(Data data) : data(std::move(data)) {}
  operator Data&() { return data; }
  operator const Data&() const { return data; }

  Data data;
};

using TensorExample = Example<Tensor, example::NoTarget>;

}  // namespace xgrad::data
