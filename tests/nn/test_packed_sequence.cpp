// nn::utils::rnn: pad_sequence, pack_padded_sequence, pack_sequence, pad_packed_sequence (layout,
// sorting, round trips, gradients, errors), and the recurrent layers on packed input: each
// sequence's final state is the one after its own last step, whatever the batch order.
// PyTorch's values for packed layers are in test_rnn.cpp (rnn.json's "packed" cases).
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "compare.hpp"

namespace xgrad {
namespace {

using nn::utils::rnn::pack_padded_sequence;
using nn::utils::rnn::pack_sequence;
using nn::utils::rnn::PackedSequence;
using nn::utils::rnn::pad_packed_sequence;
using nn::utils::rnn::pad_sequence;
using testing::all_close;
using testing::passes_gradcheck;
using testing::passes_gradgradcheck;
using testing::throws_error_containing;
using Sizes = std::vector<std::int64_t>;

TEST(PackedSequence, PadSequencePadsAfterEachEnd) {
  const Tensor a = tensor({1.0, 2.0, 3.0}), b = tensor({4.0}), c = tensor({5.0, 6.0});
  EXPECT_TRUE(all_close(pad_sequence({a, b, c}), tensor({{1.0, 4.0, 5.0}, {2.0, 0.0, 6.0}, {3.0, 0.0, 0.0}}), 0, 0));
  EXPECT_TRUE(all_close(pad_sequence({a, b, c}, true, -1.0),
                        tensor({{1.0, 2.0, 3.0}, {4.0, -1.0, -1.0}, {5.0, 6.0, -1.0}}), 0, 0));
  EXPECT_EQ(pad_sequence({randn({4, 2, 3}), randn({1, 2, 3})}).sizes(), (Sizes{4, 2, 2, 3}));
}

TEST(PackedSequence, PackedLayoutIsStepByStepOfTheLongestFirst) {
  // Columns are sequences of lengths 3, 1, 2 (unsorted).
  const Tensor padded = tensor({{1.0, 4.0, 5.0}, {2.0, 0.0, 6.0}, {3.0, 0.0, 0.0}});
  const PackedSequence packed = pack_padded_sequence(padded, tensor({3, 1, 2}), false, false);
  EXPECT_TRUE(all_close(packed.data(), tensor({1.0, 5.0, 4.0, 2.0, 6.0, 3.0}), 0, 0));
  EXPECT_TRUE(all_close(packed.batch_sizes(), tensor({3, 2, 1}), 0, 0));
  EXPECT_TRUE(all_close(packed.sorted_indices(), tensor({0, 2, 1}), 0, 0));
  EXPECT_TRUE(all_close(packed.unsorted_indices(), tensor({0, 2, 1}), 0, 0));
  auto [unpacked, lengths] = pad_packed_sequence(packed);
  EXPECT_TRUE(all_close(unpacked, padded, 0, 0));
  EXPECT_TRUE(all_close(lengths, tensor({3, 1, 2}), 0, 0));
  auto [longer, unused] = pad_packed_sequence(packed, true, -1.0, 4);
  EXPECT_TRUE(all_close(longer, tensor({{1.0, 2.0, 3.0, -1.0}, {4.0, -1.0, -1.0, -1.0}, {5.0, 6.0, -1.0, -1.0}}), 0, 0));

  const PackedSequence sorted = pack_sequence({tensor({1.0, 2.0}), tensor({3.0})});
  EXPECT_FALSE(sorted.sorted_indices().defined());
  EXPECT_FALSE(sorted.unsorted_indices().defined());
  EXPECT_TRUE(all_close(sorted.data(), tensor({1.0, 3.0, 2.0}), 0, 0));
}

TEST(PackedSequence, BatchFirstRoundTripKeepsFeatures) {
  const Tensor x = randn({4, 5, 3});  // (B, T, F)
  const PackedSequence packed = pack_padded_sequence(x, tensor({2, 5, 3, 1}), true, false);
  EXPECT_EQ(packed.data().sizes(), (Sizes{11, 3}));
  auto [padded, lengths] = pad_packed_sequence(packed, true);
  EXPECT_EQ(padded.sizes(), (Sizes{4, 5, 3}));
  EXPECT_TRUE(all_close(padded.index({1}), x.index({1}), 0, 0));
  EXPECT_TRUE(all_close(padded.index({0, indexing::Slice(0, 2)}), x.index({0, indexing::Slice(0, 2)}), 0, 0));
  EXPECT_TRUE(all_close(padded.index({0, indexing::Slice(2, indexing::None)}), zeros({3, 3}), 0, 0));
}

TEST(PackedSequence, PackingIsDifferentiable) {
  const Tensor x = testing::leaf({4, 3, 2});
  const auto round_trip = [](const std::vector<Tensor>& in) {
    const PackedSequence packed = pack_padded_sequence(in[0], tensor({2, 4, 1}), false, false);
    return std::get<0>(pad_packed_sequence(PackedSequence(packed.data() * packed.data(), packed.batch_sizes(),
                                                          packed.sorted_indices(), packed.unsorted_indices()),
                                           false, 0.5));
  };
  EXPECT_TRUE(passes_gradcheck(round_trip, {x}));
  EXPECT_TRUE(passes_gradgradcheck(round_trip, {x}));
  const auto padded = [](const std::vector<Tensor>& in) {
    return pad_sequence({in[0], in[1].narrow(0, 0, 1)}, true, 2.0);
  };
  EXPECT_TRUE(passes_gradcheck(padded, {testing::leaf({3, 2}), testing::leaf({2, 2})}));
}

TEST(PackedSequence, BadLengthsAreErrors) {
  const Tensor x = randn({4, 3, 2});
  EXPECT_TRUE(throws_error_containing([&] { pack_padded_sequence(x, tensor({2, 3, 1})); },
                                      {"pack_padded_sequence", "`lengths` array must be sorted in decreasing order "
                                                               "when `enforce_sorted` is True"}));
  EXPECT_TRUE(throws_error_containing([&] { pack_padded_sequence(x, tensor({5, 3, 1})); },
                                      {"pack_padded_sequence", "longest length is 5", "only 4 steps"}));
  EXPECT_TRUE(throws_error_containing([&] { pack_padded_sequence(x, tensor({3, 0, 0})); },
                                      {"pack_padded_sequence", "Length of all samples has to be greater than 0"}));
  EXPECT_TRUE(throws_error_containing(
      [&] { pack_padded_sequence(x, tensor({3, 2})); },
      {"pack_padded_sequence", "Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)"}));
  EXPECT_TRUE(throws_error_containing([&] { pack_sequence({tensor({1.0}), tensor({1.0, 2.0})}); },
                                      {"pack_padded_sequence", "sorted in decreasing order"}));
  const PackedSequence packed = pack_padded_sequence(x, tensor({3, 2, 1}));
  EXPECT_TRUE(throws_error_containing([&] { pad_packed_sequence(packed, false, 0.0, 2); },
                                      {"pad_packed_sequence", "total_length=2 and max sequence length being 3"}));
}

// Each sequence of a packed batch gives the output and final state it gives alone.
TEST(PackedSequence, LayersRunEachSequenceForItsOwnLength) {
  manual_seed(5);
  nn::LSTM lstm(nn::LSTMOptions(3, 4).num_layers(2).bidirectional(true));
  const std::vector<Tensor> sequences{randn({2, 3}), randn({5, 3}), randn({3, 3})};
  auto [packed_out, state] = lstm->forward_with_packed_input(pack_sequence(sequences, false));
  auto [padded, lengths] = pad_packed_sequence(packed_out);
  for (std::int64_t b = 0; b < 3; ++b) {
    SCOPED_TRACE(b);
    const Tensor alone = sequences[static_cast<std::size_t>(b)].unsqueeze(1);
    auto [out, alone_state] = lstm(alone);
    const std::int64_t length = alone.size(0);
    EXPECT_TRUE(all_close(padded.narrow(1, b, 1).narrow(0, 0, length), out, 1e-5, 1e-6));
    EXPECT_TRUE(all_close(std::get<0>(state).narrow(1, b, 1), std::get<0>(alone_state), 1e-5, 1e-6));
    EXPECT_TRUE(all_close(std::get<1>(state).narrow(1, b, 1), std::get<1>(alone_state), 1e-5, 1e-6));
  }
  nn::GRU gru(3, 2);
  EXPECT_TRUE(throws_error_containing(
      [&] { gru->forward_with_packed_input(pack_sequence(sequences, false), randn({1, 2, 2})); },
      {"GRU", "Expected hidden size (1, 3, 2), got [1, 2, 2]"}));
  EXPECT_TRUE(throws_error_containing(
      [&] { gru->forward_with_packed_input(pack_sequence({randn({2, 4})})); },
      {"GRU", "input.size(-1) must be equal to input_size. Expected 3, got 4"}));
}

TEST(PackedSequence, GradcheckThroughAPackedGRU) {
  manual_seed(6);
  nn::GRU gru(nn::GRUOptions(2, 2).bidirectional(true));
  gru->to(kFloat64);
  std::vector<Tensor> inputs{testing::leaf({3, 3, 2}), testing::leaf({2, 3, 2})};
  for (const Tensor& p : gru->parameters()) inputs.push_back(p);
  const auto fn = [&](const std::vector<Tensor>& in) {
    const PackedSequence packed = pack_padded_sequence(in[0], tensor({1, 3, 2}), false, false);
    auto [out, h] = gru->forward_with_packed_input(packed, in[1]);
    return cat({out.data().reshape({-1}), h.reshape({-1})});
  };
  EXPECT_TRUE(passes_gradcheck(fn, inputs));
  EXPECT_TRUE(passes_gradgradcheck(fn, {inputs[0], inputs[1]}));
}

}  // namespace
}  // namespace xgrad
