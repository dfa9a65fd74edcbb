#include <xgrad/data/datasets/tensor.hpp>

#include <utility>

#include <xgrad/core/error.hpp>
#include <xgrad/data/datasets/rows.hpp>

namespace xgrad::data::datasets {

namespace {
constexpr const char* kDataset = "TensorDataset";
}

TensorDataset::TensorDataset(Tensor data, Tensor targets) : data_(std::move(data)), targets_(std::move(targets)) {
  check(data_.defined() && targets_.defined(), kDataset, ": data and targets must be defined tensors");
  check(data_.dim() >= 1 && targets_.dim() >= 1, kDataset, ": data of shape ", data_.sizes(), " and targets of shape ",
        targets_.sizes(), " need at least one dim (the examples)");
  check(data_.size(0) == targets_.size(0), kDataset, ": size mismatch: data of shape ", data_.sizes(),
        " has ", data_.size(0), " examples but targets of shape ", targets_.sizes(), " has ", targets_.size(0));
}

Example<> TensorDataset::get(std::size_t index) {
  check_index(index, static_cast<std::size_t>(data_.size(0)), kDataset);
  const auto i = static_cast<std::int64_t>(index);
  return {data_[i], targets_[i]};
}

std::optional<std::size_t> TensorDataset::size() const { return static_cast<std::size_t>(data_.size(0)); }

const Tensor& TensorDataset::data() const { return data_; }

const Tensor& TensorDataset::targets() const { return targets_; }

Example<> TensorDataset::stacked_batch(ArrayRef<std::size_t> indices) const {
  return {gather_rows(data_, indices, kDataset), gather_rows(targets_, indices, kDataset)};
}

}  // namespace xgrad::data::datasets
