#include <xgrad/data/datasets/token_windows.hpp>

#include <algorithm>
#include <utility>
#include <vector>

#include <xgrad/core/error.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/data/datasets/rows.hpp>

namespace xgrad::data::datasets {

namespace {

constexpr const char* kDataset = "TokenWindows";

// The windows starting at `indices`, shifted by `offset` (0 for the data, 1 for the targets).
Tensor windows(const Tensor& tokens, ArrayRef<std::size_t> indices, std::int64_t block_size, std::size_t offset) {
  const auto width = static_cast<std::size_t>(block_size);
  Array<std::int64_t> out = Array<std::int64_t>::from_shape(std::vector<std::size_t>{indices.size(), width});
  const std::int64_t* from = tokens.data<std::int64_t>();
  for (std::size_t row = 0; row < indices.size(); ++row)
    std::copy_n(from + indices[row] + offset, width, out.data() + row * width);
  return make_tensor(std::move(out));
}

}  // namespace

TokenWindows::TokenWindows(Tensor tokens, std::int64_t block_size)
    : tokens_(std::move(tokens)), block_size_(block_size) {
  check(tokens_.defined(), kDataset, ": tokens must be a defined tensor");
  check(tokens_.dim() == 1, kDataset, ": tokens must be 1-dim, got shape ", tokens_.sizes());
  check(tokens_.dtype() == kInt64, kDataset, ": tokens must be int64, got ", dtype_name(tokens_.dtype()));
  check(block_size >= 1, kDataset, ": block_size must be >= 1, got ", block_size);
  check(block_size < tokens_.numel(), kDataset, ": block_size ", block_size, " leaves no window in ", tokens_.numel(),
        " tokens (a window needs block_size + 1 of them)");
}

Example<> TokenWindows::get(std::size_t index) {
  check_index(index, *size(), kDataset);
  const auto start = static_cast<std::int64_t>(index);
  return {tokens_.slice(0, start, start + block_size_), tokens_.slice(0, start + 1, start + block_size_ + 1)};
}

std::optional<std::size_t> TokenWindows::size() const {
  return static_cast<std::size_t>(tokens_.numel() - block_size_);
}

Example<> TokenWindows::stacked_batch(ArrayRef<std::size_t> indices) const {
  for (const std::size_t index : indices) check_index(index, *size(), kDataset);
  return {windows(tokens_, indices, block_size_, 0), windows(tokens_, indices, block_size_, 1)};
}

}  // namespace xgrad::data::datasets
