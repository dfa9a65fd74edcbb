#include <xgrad/nn/packed_sequence.hpp>

#include <algorithm>
#include <numeric>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/shape.hpp>
#include <xgrad/ops/view.hpp>

namespace xgrad::nn::utils::rnn {

namespace {

std::vector<std::int64_t> int64_values(const Tensor& t) {
  const Tensor dense = t.contiguous();
  const std::int64_t* data = dense.data_ptr<std::int64_t>();
  return std::vector<std::int64_t>(data, data + dense.numel());
}

Tensor inverse_permutation(const Tensor& permutation) {
  const std::vector<std::int64_t> forward = int64_values(permutation);
  std::vector<std::int64_t> inverse(forward.size());
  for (std::size_t i = 0; i < forward.size(); ++i) inverse[static_cast<std::size_t>(forward[i])] = static_cast<std::int64_t>(i);
  return tensor(inverse, kInt64);
}

// rows sizes[1..] of a (rows, *) shape filled with value: the padding after a sequence's end.
Tensor padding_rows(const Tensor& like, std::int64_t rows, double value) {
  std::vector<std::int64_t> sizes = like.sizes().vec();
  sizes[0] = rows;
  return full(sizes, value, like.dtype());
}

}  // namespace

PackedSequence::PackedSequence(Tensor data, Tensor batch_sizes, Tensor sorted_indices, Tensor unsorted_indices)
    : data_(std::move(data)),
      batch_sizes_(std::move(batch_sizes)),
      sorted_indices_(std::move(sorted_indices)),
      unsorted_indices_(std::move(unsorted_indices)) {
  check(batch_sizes_.defined() && batch_sizes_.dtype() == kInt64 && batch_sizes_.dim() == 1,
        "PackedSequence: batch_sizes must be a 1-D int64 tensor");
  if (!unsorted_indices_.defined() && sorted_indices_.defined()) unsorted_indices_ = inverse_permutation(sorted_indices_);
}

PackedSequence PackedSequence::to(Dtype dtype) const {
  return PackedSequence(data_.to(dtype), batch_sizes_, sorted_indices_, unsorted_indices_);
}

PackedSequence pack_padded_sequence(Tensor input, Tensor lengths, bool batch_first, bool enforce_sorted) {
  check(input.defined(), "pack_padded_sequence: input is an undefined tensor");
  check(input.dim() >= 2, "pack_padded_sequence: input must have at least 2 dimensions (T, B, *), got ", input.sizes());
  check(lengths.defined() && lengths.dtype() == kInt64 && lengths.dim() == 1,
        "pack_padded_sequence: lengths must be a 1-D int64 tensor");
  if (batch_first) input = input.transpose(0, 1);
  const std::int64_t steps = input.size(0), batch = input.size(1);
  std::vector<std::int64_t> length = int64_values(lengths);
  check(static_cast<std::int64_t>(length.size()) == batch,
        "pack_padded_sequence: Expected `len(lengths)` to be equal to batch_size, but got ", length.size(),
        " (batch_size=", batch, ")");

  Tensor sorted_indices;
  if (enforce_sorted) {
    check(std::is_sorted(length.rbegin(), length.rend()),
          "pack_padded_sequence: `lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
          "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this "
          "requirement if you do not need ONNX exportability.");
  } else {
    std::vector<std::int64_t> order(length.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return length[a] > length[b]; });
    std::vector<std::int64_t> sorted_length;
    for (std::int64_t i : order) sorted_length.push_back(length[i]);
    length = sorted_length;
    sorted_indices = tensor(order, kInt64);
    input = index_select(input, 1, sorted_indices);
  }
  for (std::int64_t value : length)
    check(value > 0, "pack_padded_sequence: Length of all samples has to be greater than 0, but found an element "
                     "in 'lengths' that is <= 0");
  check(length.front() <= steps, "pack_padded_sequence: the longest length is ", length.front(),
        " but the input has only ", steps, " steps (input sizes ", input.sizes(), ")");

  // Step t keeps the sequences longer than t, which (sorted) are the first batch_sizes[t].
  std::vector<Tensor> rows;
  std::vector<std::int64_t> batch_sizes;
  for (std::int64_t t = 0; t < length.front(); ++t) {
    const std::int64_t running = std::count_if(length.begin(), length.end(), [t](std::int64_t l) { return l > t; });
    batch_sizes.push_back(running);
    rows.push_back(input.select(0, t).narrow(0, 0, running));
  }
  return PackedSequence(cat(rows, 0), tensor(batch_sizes, kInt64), sorted_indices);
}

std::tuple<Tensor, Tensor> pad_packed_sequence(PackedSequence sequence, bool batch_first, double padding_value,
                                               std::optional<std::int64_t> total_length) {
  const std::vector<std::int64_t> batch_sizes = int64_values(sequence.batch_sizes());
  check(!batch_sizes.empty(), "pad_packed_sequence: the sequence has no steps");
  const std::int64_t steps = static_cast<std::int64_t>(batch_sizes.size());
  const std::int64_t batch = batch_sizes.front();
  if (total_length)
    check(*total_length >= steps,
          "pad_packed_sequence: Expected total_length to be at least the length of the longest sequence in input, "
          "but got total_length=", *total_length, " and max sequence length being ", steps);
  const Tensor& data = sequence.data();
  std::vector<Tensor> padded_steps;
  std::int64_t offset = 0;
  for (std::int64_t t = 0; t < steps; ++t) {
    Tensor rows = data.narrow(0, offset, batch_sizes[t]);
    if (batch_sizes[t] < batch) rows = cat({rows, padding_rows(rows, batch - batch_sizes[t], padding_value)}, 0);
    padded_steps.push_back(rows);
    offset += batch_sizes[t];
  }
  const Tensor step_shape = padded_steps.front();
  for (std::int64_t t = steps; total_length && t < *total_length; ++t)
    padded_steps.push_back(padding_rows(step_shape, batch, padding_value));
  Tensor padded = stack(padded_steps, 0);

  // Sequence b (sorted) runs for as many steps as have more than b rows.
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(batch), 0);
  for (std::int64_t size : batch_sizes)
    for (std::int64_t b = 0; b < size; ++b) ++lengths[static_cast<std::size_t>(b)];
  Tensor lengths_tensor = tensor(lengths, kInt64);
  if (sequence.unsorted_indices().defined()) {
    padded = index_select(padded, 1, sequence.unsorted_indices());
    lengths_tensor = index_select(lengths_tensor, 0, sequence.unsorted_indices());
  }
  if (batch_first) padded = padded.transpose(0, 1);
  return {padded, lengths_tensor};
}

Tensor pad_sequence(std::vector<Tensor> sequences, bool batch_first, double padding_value) {
  check(!sequences.empty(), "pad_sequence: received an empty list of sequences");
  std::int64_t longest = 0;
  for (const Tensor& s : sequences) {
    check(s.defined() && s.dim() >= 1, "pad_sequence: every sequence must have at least one dimension");
    longest = std::max(longest, s.size(0));
  }
  std::vector<Tensor> padded;
  for (const Tensor& s : sequences)
    padded.push_back(s.size(0) < longest ? cat({s, padding_rows(s, longest - s.size(0), padding_value)}, 0) : s);
  return stack(padded, batch_first ? 0 : 1);
}

PackedSequence pack_sequence(std::vector<Tensor> sequences, bool enforce_sorted) {
  std::vector<std::int64_t> lengths;
  for (const Tensor& s : sequences) lengths.push_back(s.defined() && s.dim() >= 1 ? s.size(0) : 0);
  return pack_padded_sequence(pad_sequence(std::move(sequences)), tensor(lengths, kInt64), false, enforce_sorted);
}

}  // namespace xgrad::nn::utils::rnn
