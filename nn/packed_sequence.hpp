#pragma once
// Packed sequences, as torch::nn::utils::rnn: a batch of sequences of different lengths stored
// without padding, so that a recurrent layer runs each sequence for its own number of steps.
//
//   Tensor padded = pad_sequence({a, b, c});                   // (T_max, 3, *), zeros after each end
//   auto packed = pack_padded_sequence(padded, lengths, false, /*enforce_sorted=*/false);
//   auto [out, state] = lstm->forward_with_packed_input(packed);
//   auto [unpacked, out_lengths] = pad_packed_sequence(out);   // back to (T_max, 3, H)
//
// Layout: data holds the sequences sorted by decreasing length, step by step: step t's rows are
// the batch_sizes[t] sequences still running at step t (batch_sizes is int64 and non-increasing).
// sorted_indices[i] is the original batch position of sorted sequence i, unsorted_indices its
// inverse; both are undefined when the input was already sorted. Every function here is
// differentiable in the data (made of narrow, cat, stack and index_select).
#include <cstdint>
#include <optional>
#include <tuple>
#include <vector>

#include <xgrad/core/dtype.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::nn::utils::rnn {

class PackedSequence {
 public:
  PackedSequence() = default;
  // unsorted_indices is computed from sorted_indices when left undefined, as libtorch does.
  explicit PackedSequence(Tensor data, Tensor batch_sizes, Tensor sorted_indices = {}, Tensor unsorted_indices = {});

  const Tensor& data() const { return data_; }
  const Tensor& batch_sizes() const { return batch_sizes_; }
  const Tensor& sorted_indices() const { return sorted_indices_; }
  const Tensor& unsorted_indices() const { return unsorted_indices_; }

  // The same sequence with its data converted (indices stay int64).
  PackedSequence to(Dtype dtype) const;
  bool is_cuda() const { return false; }
  bool is_pinned() const { return false; }

 private:
  Tensor data_, batch_sizes_, sorted_indices_, unsorted_indices_;
};

// input (T, B, *) (or (B, T, *) with batch_first) with sequence b valid for its first lengths[b]
// steps; lengths is a 1-D int64 tensor of B positive values, at most T. With enforce_sorted they
// must be non-increasing; otherwise the batch is sorted first and the order kept in the result.
PackedSequence pack_padded_sequence(Tensor input, Tensor lengths, bool batch_first = false,
                                    bool enforce_sorted = true);

// The inverse: (padded (T, B, *) or (B, T, *), lengths (B) int64) in the original batch order,
// T = total_length if given (at least the longest length), else the longest length.
std::tuple<Tensor, Tensor> pad_packed_sequence(PackedSequence sequence, bool batch_first = false,
                                               double padding_value = 0.0,
                                               std::optional<std::int64_t> total_length = std::nullopt);

// Sequences (L_i, *) stacked into (L_max, B, *) (or (B, L_max, *)), padded after each end.
Tensor pad_sequence(std::vector<Tensor> sequences, bool batch_first = false, double padding_value = 0.0);

// pack_padded_sequence(pad_sequence(sequences), their lengths, false, enforce_sorted).
PackedSequence pack_sequence(std::vector<Tensor> sequences, bool enforce_sorted = true);

}  // namespace xgrad::nn::utils::rnn

namespace xgrad::nn {
using utils::rnn::PackedSequence;
}  // namespace xgrad::nn
