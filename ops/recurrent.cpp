// The recurrent cells and the time loop of the multi-layer RNN, LSTM and GRU, written with recorded
// ops: the graph of a sequence is the graph of its steps, so backward through time, and every
// higher derivative, is the engine's ordinary walk over it.
//
// Per layer and direction the input projections of all time steps are one gemm (linear over every
// row of the packed data); each step then adds one gemm for the hidden projection and applies the
// gate nonlinearities to views (chunk) of the gate block.
//
// These recorded steps are the definition. What the modules run is the fused form of the same
// layer (ops/recurrent_fused.cpp), whose create_graph path differentiates the steps written here.
#include <xgrad/ops/recurrent.hpp>
#include <xgrad/ops/recurrent_impl.hpp>

#include <algorithm>

#include <xgrad/core/dtype.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/ops/activation.hpp>
#include <xgrad/ops/dropout.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/linalg.hpp>
#include <xgrad/ops/shape.hpp>
#include <xgrad/ops/view.hpp>

namespace xgrad {
namespace recurrent {

std::int64_t gate_count(CellKind kind) {
  switch (kind) {
    case CellKind::Lstm: return 4;
    case CellKind::Gru: return 3;
    default: return 1;
  }
}

State step(CellKind kind, const Tensor& gi, const State& state, const Weights& weights) {
  const Tensor gh = linear(state.h, weights.w_hh, weights.b_hh);
  switch (kind) {
    case CellKind::RnnTanh: return {tanh(gi + gh), {}};
    case CellKind::RnnRelu: return {relu(gi + gh), {}};
    case CellKind::Lstm: {
      const std::vector<Tensor> gates = chunk(gi + gh, 4, 1);  // i, f, g, o
      const Tensor c = sigmoid(gates[1]) * state.c + sigmoid(gates[0]) * tanh(gates[2]);
      Tensor h = sigmoid(gates[3]) * tanh(c);
      if (weights.w_hr.defined()) h = linear(h, weights.w_hr);
      return {h, c};
    }
    case CellKind::Gru: {
      // The reset gate scales W_hn h + b_hn, not h, so the two projections stay apart.
      const std::vector<Tensor> x = chunk(gi, 3, 1);  // r, z, n
      const std::vector<Tensor> h = chunk(gh, 3, 1);
      const Tensor r = sigmoid(x[0] + h[0]);
      const Tensor z = sigmoid(x[1] + h[1]);
      const Tensor n = tanh(x[2] + r * h[2]);
      return {n + z * (state.h - n), {}};  // (1 - z) * n + z * h
    }
  }
  return {};
}

void check_cell_arguments(const std::string& who, const Tensor& input, const std::vector<Tensor>& states,
                          const Weights& weights) {
  check(input.defined(), who, ": input is an undefined tensor");
  check(input.dim() == 2, who, ": input must be 2-D (batch, input_size), got ", input.dim(), "-D");
  check(is_floating(input.dtype()), who, ": input must be float32 or float64, got ", dtype_name(input.dtype()));
  check(input.dtype() == weights.w_ih.dtype(), who, ": input is ", dtype_name(input.dtype()),
        " but the weights are ", dtype_name(weights.w_ih.dtype()));
  check(input.size(1) == weights.w_ih.size(1), who, ": input has inconsistent input_size: got ", input.size(1),
        " expected ", weights.w_ih.size(1));
  const std::int64_t hidden_size = weights.w_hh.size(1);
  for (std::size_t i = 0; i < states.size(); ++i) {
    const Tensor& hx = states[i];
    check(hx.defined(), who, ": hidden", i, " is an undefined tensor");
    check(hx.dim() == 2, who, ": hidden", i, " must be 2-D (batch, hidden_size), got ", hx.sizes());
    check(input.size(0) == hx.size(0), who, ": Input batch size ", input.size(0), " doesn't match hidden", i,
          " batch size ", hx.size(0));
    check(hx.size(1) == hidden_size, who, ": hidden", i, " has inconsistent hidden_size: got ", hx.size(1),
          ", expected ", hidden_size);
    check(hx.dtype() == input.dtype(), who, ": hidden", i, " is ", dtype_name(hx.dtype()), " but input is ",
          dtype_name(input.dtype()));
  }
}

Packing Packing::uniform(std::int64_t steps, std::int64_t batch) {
  Packing packing;
  for (std::int64_t t = 0; t < steps; ++t) {
    packing.batch_sizes.push_back(batch);
    packing.offsets.push_back(t * batch);
  }
  return packing;
}

Packing Packing::from_batch_sizes(const std::string& who, const Tensor& batch_sizes, std::int64_t rows) {
  check(batch_sizes.defined() && batch_sizes.dtype() == kInt64 && batch_sizes.dim() == 1, who,
        ": batch_sizes must be a 1-D int64 tensor");
  Packing packing;
  std::int64_t offset = 0;
  const Tensor sizes = batch_sizes.contiguous();
  const std::int64_t* data = sizes.data_ptr<std::int64_t>();
  for (std::int64_t t = 0; t < sizes.numel(); ++t) {
    check(data[t] > 0 && (t == 0 || data[t] <= data[t - 1]), who,
          ": batch_sizes must be positive and non-increasing, got ", data[t],
          " at step ", t);
    packing.batch_sizes.push_back(data[t]);
    packing.offsets.push_back(offset);
    offset += data[t];
  }
  check(offset == rows, who, ": batch_sizes add up to ", offset, " rows but the data has ", rows);
  return packing;
}

namespace {

// Rows start .. start + length of a state (the whole state when that is all of it).
State rows(const State& state, std::int64_t start, std::int64_t length) {
  if (start == 0 && length == state.h.size(0)) return state;
  return {state.h.narrow(0, start, length), state.c.defined() ? state.c.narrow(0, start, length) : Tensor()};
}

State join(const std::vector<State>& pieces) {
  if (pieces.size() == 1) return pieces[0];
  std::vector<Tensor> h, c;
  for (const State& piece : pieces) {
    h.push_back(piece.h);
    if (piece.c.defined()) c.push_back(piece.c);
  }
  return {cat(h, 0), c.empty() ? Tensor() : cat(c, 0)};
}

// Forwards in time the batch shrinks as sequences end: the rows that leave keep the state they
// reached, and the final state is those pieces put back in batch order.
DirectionResult run_forwards(CellKind kind, const Tensor& gi, const Packing& packing, const State& initial,
                             const Weights& weights) {
  std::vector<Tensor> outputs(packing.steps());
  std::vector<State> ended;
  State state = initial;
  for (std::int64_t t = 0; t < packing.steps(); ++t) {
    const std::int64_t batch = packing.batch_sizes[t];
    const std::int64_t active = state.h.size(0);
    if (batch < active) {
      ended.push_back(rows(state, batch, active - batch));
      state = rows(state, 0, batch);
    }
    state = step(kind, gi.narrow(0, packing.offsets[t], batch), state, weights);
    outputs[t] = state.h;
  }
  ended.push_back(state);
  std::reverse(ended.begin(), ended.end());
  return {cat(outputs, 0), join(ended)};
}

// Backwards in time the batch grows: a sequence joins, from its initial state, at its last step.
DirectionResult run_backwards(CellKind kind, const Tensor& gi, const Packing& packing, const State& initial,
                              const Weights& weights) {
  std::vector<Tensor> outputs(packing.steps());
  State state = rows(initial, 0, packing.batch_sizes.back());
  for (std::int64_t t = packing.steps() - 1; t >= 0; --t) {
    const std::int64_t batch = packing.batch_sizes[t];
    const std::int64_t active = state.h.size(0);
    if (batch > active) state = join({state, rows(initial, active, batch - active)});
    state = step(kind, gi.narrow(0, packing.offsets[t], batch), state, weights);
    outputs[t] = state.h;
  }
  return {cat(outputs, 0), state};
}

}  // namespace

DirectionResult run_recorded_direction(CellKind kind, const Tensor& x, const Packing& packing, const State& initial,
                                       const Weights& weights, bool reverse) {
  const Tensor gi = linear(x, weights.w_ih, weights.b_ih);  // every step's input projection at once
  return reverse ? run_backwards(kind, gi, packing, initial, weights) : run_forwards(kind, gi, packing, initial, weights);
}

StackResult run_stack(const Tensor& data, const Packing& packing, const Tensor& h0, const Tensor& c0,
                      const std::vector<Weights>& weights, const StackConfig& config) {
  const std::int64_t directions = config.bidirectional ? 2 : 1;
  Tensor input = data;
  std::vector<Tensor> h_n, c_n;
  for (std::int64_t layer = 0; layer < config.num_layers; ++layer) {
    std::vector<Tensor> outputs;
    for (std::int64_t direction = 0; direction < directions; ++direction) {
      const std::int64_t index = layer * directions + direction;
      const Weights& w = weights[index];
      const State initial{h0.select(0, index), c0.defined() ? c0.select(0, index) : Tensor()};
      const bool reverse = direction == 1;
      const DirectionResult result = config.fused ? run_fused_direction(config.kind, input, packing, initial, w, reverse)
                                                  : run_recorded_direction(config.kind, input, packing, initial, w, reverse);
      outputs.push_back(result.output);
      h_n.push_back(result.last.h);
      if (result.last.c.defined()) c_n.push_back(result.last.c);
    }
    input = directions == 1 ? outputs[0] : cat(outputs, 1);
    if (config.dropout > 0 && config.train && layer + 1 < config.num_layers)
      input = dropout(input, config.dropout, true);
  }
  return {input, stack(h_n, 0), c_n.empty() ? Tensor() : stack(c_n, 0)};
}

}  // namespace recurrent

namespace {

using recurrent::CellKind;

Tensor one_state_cell(CellKind kind, const char* who, const Tensor& input, const Tensor& hx, const Tensor& w_ih,
                      const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
  const recurrent::Weights weights{w_ih, w_hh, b_ih, b_hh, {}};
  recurrent::check_cell_arguments(who, input, {hx}, weights);
  return recurrent::step(kind, linear(input, w_ih, b_ih), {hx, {}}, weights).h;
}

}  // namespace

Tensor rnn_tanh_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                     const Tensor& b_ih, const Tensor& b_hh) {
  return one_state_cell(CellKind::RnnTanh, "rnn_tanh_cell", input, hx, w_ih, w_hh, b_ih, b_hh);
}

Tensor rnn_relu_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                     const Tensor& b_ih, const Tensor& b_hh) {
  return one_state_cell(CellKind::RnnRelu, "rnn_relu_cell", input, hx, w_ih, w_hh, b_ih, b_hh);
}

Tensor gru_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                const Tensor& b_hh) {
  return one_state_cell(CellKind::Gru, "gru_cell", input, hx, w_ih, w_hh, b_ih, b_hh);
}

std::tuple<Tensor, Tensor> lstm_cell(const Tensor& input, const std::vector<Tensor>& hx, const Tensor& w_ih,
                                     const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
  check(hx.size() == 2, "lstm_cell: hx must hold two tensors (h, c), got ", hx.size());
  const recurrent::Weights weights{w_ih, w_hh, b_ih, b_hh, {}};
  recurrent::check_cell_arguments("lstm_cell", input, hx, weights);
  const recurrent::State next = recurrent::step(CellKind::Lstm, linear(input, w_ih, b_ih), {hx[0], hx[1]}, weights);
  return {next.h, next.c};
}

}  // namespace xgrad
