#pragma once
// TokenWindows(tokens, block_size): the next-token windows a character (or word) model trains on.
// Example i is
//
//   data   = tokens[i     : i + block_size]        the context, int64 (block_size)
//   target = tokens[i + 1 : i + block_size + 1]    each position's next token, int64 (block_size)
//
// for i = 0 .. tokens.numel() - block_size - 1, so that every window whose target fits is one
// example. nanoGPT draws the same (x, y) pairs at random offsets; here a loader's RandomSampler
// draws them without repeats, an epoch covering every offset once.
//
//   auto windows = data::datasets::TokenWindows(encoded_text, 64).map(data::transforms::Stack<>());
//   auto loader = data::make_data_loader(std::move(windows), 32);
//   for (auto& batch : *loader) { ... batch.data (32, 64), batch.target (32, 64) ... }
#include <cstddef>
#include <cstdint>
#include <optional>

#include <xgrad/data/array_ref.hpp>
#include <xgrad/data/datasets/base.hpp>

namespace xgrad::data::datasets {

class TokenWindows : public Dataset<TokenWindows> {
 public:
  // tokens: a 1-dim int64 tensor. Throws Error for another shape or dtype, a block_size below 1,
  // or one that leaves no window (block_size >= tokens.numel()).
  TokenWindows(Tensor tokens, std::int64_t block_size);

  Example<> get(std::size_t index) override;
  std::optional<std::size_t> size() const override;
  const Tensor& tokens() const noexcept { return tokens_; }
  std::int64_t block_size() const noexcept { return block_size_; }

  // The windows at `indices` stacked: data and target (B, block_size), copied straight from the
  // tokens (see datasets/map.hpp).
  Example<> stacked_batch(ArrayRef<std::size_t> indices) const;

 private:
  Tensor tokens_;
  std::int64_t block_size_;
};

}  // namespace xgrad::data::datasets
