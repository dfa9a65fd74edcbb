#pragma once
// The recurrent layers and cells, as torch::nn's modules/rnn.h:
//
//   nn::LSTM lstm(nn::LSTMOptions(64, 256).num_layers(2).batch_first(true));
//   auto [output, state] = lstm(x);                 // x (B, T, 64) -> output (B, T, 256)
//   auto [h_n, c_n] = state;                        // each (2, B, 256): (layers * directions, B, H)
//   nn::GRU gru(8, 16);   auto [out, h_n] = gru(x, h0);
//   nn::LSTMCell cell(8, 16);   auto [h, c] = cell(x_t, std::make_tuple(h, c));
//
// Parameters carry PyTorch's names, shapes, order and initialisation (every one uniform in
// +-1/sqrt(hidden_size)), so a PyTorch state_dict saved as .npz loads through xgrad::load:
//   weight_ih_l{k} (G*H, I or D*H_out), weight_hh_l{k} (G*H, H_out), bias_ih_l{k}, bias_hh_l{k} (G*H),
//   weight_hr_l{k} (proj_size, H) for an LSTM with proj_size; "_reverse" for the second direction.
// G stacks the gates in PyTorch's order: LSTM i f g o, GRU r z n (formulas in ops/recurrent.hpp).
//
// Inputs are (T, B, I), or (B, T, I) with batch_first, or unbatched (T, I); initial states default
// to zeros. forward_with_packed_input runs a PackedSequence (nn/packed_sequence.hpp): each
// sequence's final state is the one after its own last step.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>
#include <xgrad/nn/packed_sequence.hpp>
#include <xgrad/nn/rnn_options.hpp>

namespace xgrad::nn {

namespace detail {

// What RNN, LSTM and GRU share; mode is Python's: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU".
class RNNOptionsBase {
 public:
  RNNOptionsBase(std::string mode, std::int64_t input_size, std::int64_t hidden_size)
      : mode_(std::move(mode)), input_size_(input_size), hidden_size_(hidden_size) {}

  XGRAD_ARG(std::string, mode);
  XGRAD_ARG(std::int64_t, input_size);
  XGRAD_ARG(std::int64_t, hidden_size);
  XGRAD_ARG(std::int64_t, num_layers) = 1;
  XGRAD_ARG(bool, bias) = true;
  XGRAD_ARG(bool, batch_first) = false;
  XGRAD_ARG(double, dropout) = 0.0;
  XGRAD_ARG(bool, bidirectional) = false;
  XGRAD_ARG(std::int64_t, proj_size) = 0;
};

// The multi-layer loop and its checks. The states travel as (h, c); c is undefined except for LSTM.
class RNNImplBase : public Module {
 public:
  explicit RNNImplBase(const RNNOptionsBase& options_base);

  // Draws every parameter anew, uniform in +-1/sqrt(hidden_size), as PyTorch.
  void reset_parameters();
  // Weights already live as separate tensors, so there is nothing to pack (libtorch's cuDNN layout).
  void flatten_parameters() {}
  // Every parameter in registration order: per layer and direction w_ih, w_hh[, b_ih, b_hh][, w_hr].
  std::vector<Tensor> all_weights() const;
  void pretty_print(std::ostream& out) const override;

  RNNOptionsBase options_base;

 protected:
  struct Result {
    Tensor output, h_n, c_n;
  };
  // input (T, B, I), (B, T, I) with batch_first, or unbatched (T, I); h0 and c0 may be undefined.
  Result run_padded(const Tensor& input, Tensor h0, Tensor c0) const;
  // The output is packed as the input; the final states are in the input's original batch order.
  Result run_packed(const PackedSequence& input, Tensor h0, Tensor c0) const;

 private:
  std::int64_t directions() const { return options_base.bidirectional() ? 2 : 1; }
  std::int64_t output_size() const;  // proj_size if set, else hidden_size
  void check_states(const Tensor& input, std::int64_t batch, const Tensor& h0, const Tensor& c0) const;
  Result run(const Tensor& data, const Tensor* batch_sizes, std::int64_t steps, std::int64_t batch, Tensor h0,
             Tensor c0) const;

  std::vector<std::vector<Tensor>> weights_;  // per layer and direction, in all_weights() order
};

}  // namespace detail

// Elman RNN: h_t = tanh (or relu)(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
// forward returns (output (T, B, D*H), h_n (L*D, B, H)).
class RNNImpl : public detail::RNNImplBase {
 public:
  RNNImpl(std::int64_t input_size, std::int64_t hidden_size) : RNNImpl(RNNOptions(input_size, hidden_size)) {}
  explicit RNNImpl(const RNNOptions& options);

  std::tuple<Tensor, Tensor> forward(const Tensor& input, Tensor hx = {});
  std::tuple<PackedSequence, Tensor> forward_with_packed_input(const PackedSequence& packed_input, Tensor hx = {});

  RNNOptions options;
};
XGRAD_MODULE(RNN);

// forward returns (output (T, B, D*H_out), (h_n (L*D, B, H_out), c_n (L*D, B, H))), H_out = proj_size or H.
class LSTMImpl : public detail::RNNImplBase {
 public:
  LSTMImpl(std::int64_t input_size, std::int64_t hidden_size) : LSTMImpl(LSTMOptions(input_size, hidden_size)) {}
  explicit LSTMImpl(const LSTMOptions& options);

  std::tuple<Tensor, std::tuple<Tensor, Tensor>> forward(const Tensor& input,
                                                          std::optional<std::tuple<Tensor, Tensor>> hx_opt = {});
  std::tuple<PackedSequence, std::tuple<Tensor, Tensor>> forward_with_packed_input(
      const PackedSequence& packed_input, std::optional<std::tuple<Tensor, Tensor>> hx_opt = {});

  LSTMOptions options;
};
XGRAD_MODULE(LSTM);

// forward returns (output (T, B, D*H), h_n (L*D, B, H)).
class GRUImpl : public detail::RNNImplBase {
 public:
  GRUImpl(std::int64_t input_size, std::int64_t hidden_size) : GRUImpl(GRUOptions(input_size, hidden_size)) {}
  explicit GRUImpl(const GRUOptions& options);

  std::tuple<Tensor, Tensor> forward(const Tensor& input, Tensor hx = {});
  std::tuple<PackedSequence, Tensor> forward_with_packed_input(const PackedSequence& packed_input, Tensor hx = {});

  GRUOptions options;
};
XGRAD_MODULE(GRU);

namespace detail {

// The cells' parameters weight_ih (G*H, I), weight_hh (G*H, H), bias_ih, bias_hh (G*H), all uniform
// in +-1/sqrt(hidden_size). Input (B, I) or unbatched (I); states likewise.
class RNNCellImplBase : public Module {
 public:
  // `name` ("LSTMCell") is for errors: the constructor runs before the module knows its type.
  RNNCellImplBase(const char* name, std::int64_t input_size, std::int64_t hidden_size, bool bias,
                  std::int64_t num_chunks);

  void reset_parameters();
  void pretty_print(std::ostream& out) const override;

  Tensor weight_ih;
  Tensor weight_hh;
  Tensor bias_ih;
  Tensor bias_hh;

 protected:
  // The input as (B, I) and whether it came unbatched, after PyTorch's checks.
  std::tuple<Tensor, bool> batched_input(const Tensor& input) const;
  // A given state as (B, H) (undefined stays undefined: zeros are made by the caller).
  Tensor batched_state(const Tensor& state, bool unbatched, const char* label) const;
  Tensor zero_state(const Tensor& input) const;
  virtual std::string nonlinearity_str() const { return {}; }

  std::int64_t input_size_, hidden_size_;
  bool bias_;
};

}  // namespace detail

class RNNCellImpl : public detail::RNNCellImplBase {
 public:
  RNNCellImpl(std::int64_t input_size, std::int64_t hidden_size)
      : RNNCellImpl(RNNCellOptions(input_size, hidden_size)) {}
  explicit RNNCellImpl(const RNNCellOptions& options);

  // h' (B, H), or (H) for an unbatched input.
  Tensor forward(const Tensor& input, Tensor hx = {});

  RNNCellOptions options;

 protected:
  std::string nonlinearity_str() const override;
};
XGRAD_MODULE(RNNCell);

class LSTMCellImpl : public detail::RNNCellImplBase {
 public:
  LSTMCellImpl(std::int64_t input_size, std::int64_t hidden_size)
      : LSTMCellImpl(LSTMCellOptions(input_size, hidden_size)) {}
  explicit LSTMCellImpl(const LSTMCellOptions& options);

  // (h', c').
  std::tuple<Tensor, Tensor> forward(const Tensor& input, std::optional<std::tuple<Tensor, Tensor>> hx_opt = {});

  LSTMCellOptions options;
};
XGRAD_MODULE(LSTMCell);

class GRUCellImpl : public detail::RNNCellImplBase {
 public:
  GRUCellImpl(std::int64_t input_size, std::int64_t hidden_size)
      : GRUCellImpl(GRUCellOptions(input_size, hidden_size)) {}
  explicit GRUCellImpl(const GRUCellOptions& options);

  Tensor forward(const Tensor& input, Tensor hx = {});

  GRUCellOptions options;
};
XGRAD_MODULE(GRUCell);

}  // namespace xgrad::nn
