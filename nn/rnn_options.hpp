#pragma once
// The options of the recurrent layers and cells, as torch::nn's options/rnn.h spells them:
//
//   nn::LSTMOptions(64, 256).num_layers(2).batch_first(true).dropout(0.2)
//   nn::RNNOptions(8, 16).nonlinearity(xgrad::kReLU).bidirectional(true)
//   nn::GRUCellOptions(8, 16).bias(false)
//
// Defaults are PyTorch's. The modules check the values when they are built (nn/rnn.hpp).
#include <cstdint>
#include <variant>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/enum.hpp>

namespace xgrad::nn {

// input_size: features of each step's input; hidden_size: features of the hidden state;
// num_layers: layers stacked, each reading the previous one's output; bias: the four bias vectors
// of each layer; batch_first: input and output are (batch, seq, feature) instead of (seq, batch,
// feature) (the hidden state keeps (layers * directions, batch, hidden)); dropout: probability of
// zeroing each output of every layer but the last, in training only; bidirectional: a second
// layer reads each sequence backwards and the outputs are concatenated.
class RNNOptions {
 public:
  using nonlinearity_t = std::variant<enumtype::kTanh, enumtype::kReLU>;

  RNNOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}

  XGRAD_ARG(std::int64_t, input_size);
  XGRAD_ARG(std::int64_t, hidden_size);
  XGRAD_ARG(std::int64_t, num_layers) = 1;
  // h' = nonlinearity(W_ih x + b_ih + W_hh h + b_hh)
  XGRAD_ARG(nonlinearity_t, nonlinearity) = kTanh;
  XGRAD_ARG(bool, bias) = true;
  XGRAD_ARG(bool, batch_first) = false;
  XGRAD_ARG(double, dropout) = 0.0;
  XGRAD_ARG(bool, bidirectional) = false;
};

// As RNNOptions; proj_size > 0 projects each step's hidden state down to proj_size features
// (h = W_hr (o * tanh(c))), so h has proj_size features and c keeps hidden_size.
class LSTMOptions {
 public:
  LSTMOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}

  XGRAD_ARG(std::int64_t, input_size);
  XGRAD_ARG(std::int64_t, hidden_size);
  XGRAD_ARG(std::int64_t, num_layers) = 1;
  XGRAD_ARG(bool, bias) = true;
  XGRAD_ARG(bool, batch_first) = false;
  XGRAD_ARG(double, dropout) = 0.0;
  XGRAD_ARG(bool, bidirectional) = false;
  XGRAD_ARG(std::int64_t, proj_size) = 0;
};

class GRUOptions {
 public:
  GRUOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}

  XGRAD_ARG(std::int64_t, input_size);
  XGRAD_ARG(std::int64_t, hidden_size);
  XGRAD_ARG(std::int64_t, num_layers) = 1;
  XGRAD_ARG(bool, bias) = true;
  XGRAD_ARG(bool, batch_first) = false;
  XGRAD_ARG(double, dropout) = 0.0;
  XGRAD_ARG(bool, bidirectional) = false;
};

class RNNCellOptions {
 public:
  using nonlinearity_t = std::variant<enumtype::kTanh, enumtype::kReLU>;

  RNNCellOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}

  XGRAD_ARG(std::int64_t, input_size);
  XGRAD_ARG(std::int64_t, hidden_size);
  XGRAD_ARG(bool, bias) = true;
  XGRAD_ARG(nonlinearity_t, nonlinearity) = kTanh;
};

class LSTMCellOptions {
 public:
  LSTMCellOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}

  XGRAD_ARG(std::int64_t, input_size);
  XGRAD_ARG(std::int64_t, hidden_size);
  XGRAD_ARG(bool, bias) = true;
};

class GRUCellOptions {
 public:
  GRUCellOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}

  XGRAD_ARG(std::int64_t, input_size);
  XGRAD_ARG(std::int64_t, hidden_size);
  XGRAD_ARG(bool, bias) = true;
};

}  // namespace xgrad::nn
