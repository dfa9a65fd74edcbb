#pragma once
// Library-internal: the recurrent step and the multi-layer, packed time loop behind nn::RNN,
// nn::LSTM and nn::GRU (nn/rnn.cpp) and the cells of ops/recurrent.hpp.
//
// Every sequence is run as packed rows (PyTorch's PackedSequence layout): step t owns rows
// offsets[t] .. offsets[t] + batch_sizes[t] of the (rows, features) data, and batch_sizes never
// grow. A padded (T, B, I) input is the special case batch_sizes = {B, B, ..., B}, so one loop
// serves both.
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad::recurrent {

enum class CellKind { RnnTanh, RnnRelu, Lstm, Gru };

// The number of gate blocks stacked in the weights: 1, 1, 4, 3.
std::int64_t gate_count(CellKind kind);

// The parameters of one direction of one layer (w_hr only for an LSTM with proj_size; biases
// undefined without bias).
struct Weights {
  Tensor w_ih, w_hh, b_ih, b_hh, w_hr;
};

// The hidden state of a batch; c only for an LSTM.
struct State {
  Tensor h, c;
};

// One step from the input projection gi = W_ih x + b_ih (B, G*H) of the rows the step holds.
State step(CellKind kind, const Tensor& gi, const State& state, const Weights& weights);

// PyTorch's cell checks, worded as ATen's, prefixed with `who` (the module or op the user called):
// input (B, I) against w_ih, each state (B, H) against the input's batch and w_hh.
void check_cell_arguments(const std::string& who, const Tensor& input, const std::vector<Tensor>& states,
                          const Weights& weights);

// Where each step's rows start, from PackedSequence's batch_sizes.
struct Packing {
  std::vector<std::int64_t> batch_sizes;
  std::vector<std::int64_t> offsets;

  static Packing uniform(std::int64_t steps, std::int64_t batch);
  // Checks that the sizes are positive, non-increasing and add up to `rows`.
  static Packing from_batch_sizes(const std::string& who, const Tensor& batch_sizes, std::int64_t rows);
  std::int64_t steps() const { return static_cast<std::int64_t>(batch_sizes.size()); }
};

// One direction of one layer over packed rows x (rows, I), from the initial state of every
// sequence (B, ·).
struct DirectionResult {
  Tensor output;  // (rows, H_out)
  State last;     // each sequence's state after its own last step
};

// The definition: every step recorded with xgrad's ops (ops/recurrent.cpp), forwards in time or,
// with reverse, backwards.
DirectionResult run_recorded_direction(CellKind kind, const Tensor& x, const Packing& packing, const State& initial,
                                       const Weights& weights, bool reverse);
// The same values as one node whose backward through time is written in plain loops; under
// create_graph it differentiates run_recorded_direction (ops/recurrent_fused.cpp).
DirectionResult run_fused_direction(CellKind kind, const Tensor& x, const Packing& packing, const State& initial,
                                    const Weights& weights, bool reverse);

struct StackConfig {
  CellKind kind = CellKind::Lstm;
  std::int64_t num_layers = 1;
  bool bidirectional = false;
  double dropout = 0.0;
  bool train = false;
  // Each layer and direction as one fused node (run_fused_direction) instead of its recorded
  // steps; both give the same values and gradients.
  bool fused = true;
};

struct StackResult {
  Tensor output;  // (rows, directions * H_out), the last layer's outputs
  Tensor h_n;     // (num_layers * directions, B, H_out)
  Tensor c_n;     // (num_layers * directions, B, H), LSTM only
};

// Runs the layers over packed rows `data` (rows, I) from h0 (and c0), with weights[l * D + d] for
// layer l and direction d. Dropout between layers, in training only.
StackResult run_stack(const Tensor& data, const Packing& packing, const Tensor& h0, const Tensor& c0,
                      const std::vector<Weights>& weights, const StackConfig& config);

}  // namespace xgrad::recurrent
