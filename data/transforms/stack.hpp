#pragma once
// Stack<>: the collation of torch::data. A batch of N examples becomes one Example whose data is
// stack(datas) of shape (N, ...) and whose target is stack(targets): (N) for 0-dim targets such as
// MNIST's labels. Stack<TensorExample> stacks data-only examples into one tensor.
//
// When the dataset underneath is backed by whole tensors (MNIST, TensorDataset, and those mapped
// with Normalize), MapDataset skips the per-example tensors and gathers the requested rows straight
// into the batch (see datasets/map.hpp); the values are the same.
#include <utility>
#include <vector>

#include <xgrad/ops/indexing.hpp>
#include <xgrad/data/transforms/collate.hpp>

namespace xgrad::data::transforms {

template <typename T = Example<>>
struct Stack;

template <>
struct Stack<Example<>> : public Collation<Example<>> {
  Example<> apply_batch(std::vector<Example<>> examples) override {
    std::vector<Tensor> data, targets;
    data.reserve(examples.size());
    targets.reserve(examples.size());
    for (auto& example : examples) {
      data.push_back(std::move(example.data));
      targets.push_back(std::move(example.target));
    }
    return {xgrad::stack(data), xgrad::stack(targets)};
  }
};

template <>
struct Stack<TensorExample> : public Collation<Example<Tensor, example::NoTarget>> {
  TensorExample apply_batch(std::vector<TensorExample> examples) override {
    std::vector<Tensor> data;
    data.reserve(examples.size());
    for (auto& example : examples) data.push_back(std::move(example.data));
    return xgrad::stack(data);
  }
};

}  // namespace xgrad::data::transforms
