// The recurrent cells and the time loop of the multi-layer RNN, LSTM and GRU, written with recorded
// ops: the graph of a sequence is the graph of its steps, so backward through time, and every
// higher derivative, is the engine's ordinary walk over it.
//
// Per layer and direction the input projections of all time steps are one gemm (linear over every
// row of the packed data); each step then adds one gemm for the hidden projection and applies the
// gate nonlinearities to views (chunk) of the gate block.
//
// An LSTM layer also has a fused form (fused_lstm_direction): the same arithmetic in raw loops, one
// node per layer and direction, whose backward through time is hand-written. It is what the
// modules run; under create_graph its backward differentiates the recorded steps instead, and the
// tests hold the two to agreement.
#include <xgrad/ops/recurrent.hpp>
#include <xgrad/ops/recurrent_impl.hpp>

#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <sstream>
#include <variant>

#include <xgrad/core/autograd.hpp>
#include <xgrad/core/dtype.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/node.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/gemm.hpp>
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
  check(input.dim() == 2, who, ": Expected input to be 1-D or 2-D but received ", input.dim(), "-D tensor");
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

struct DirectionResult {
  Tensor output;  // (rows, H_out)
  State last;     // each sequence's state after its own last step
};

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

// ---- the fused LSTM layer ------------------------------------------------------------------------
//
// The same layer as run_forwards/run_backwards with CellKind::Lstm, as one node: the forward keeps
// the activated gates and cells of every step, and the backward runs back through time in plain
// loops with a gemm per step for the hidden projection and one gemm each for the weight and input
// gradients of the whole sequence. It is the fast path only: under create_graph its backward
// differentiates the recorded steps above (see RecomputedBackward), which remain the definition.
//
// State rows stay in place: the sequences still running at a step are the first batch_sizes[t]
// rows of the (B, ·) state, so a sequence that ends keeps its final state in its row (forwards),
// and one that starts finds its initial state there (backwards).


// Python's layout of one direction's result in a single tensor, the node having one output:
// output (rows, P), then h_n (B, P), then c_n (B, H), flattened and joined.
struct LstmSizes {
  std::int64_t rows, input, hidden, output, batch;
  std::int64_t gates() const { return 4 * hidden; }
  std::int64_t total() const { return rows * output + batch * output + batch * hidden; }
};

struct LstmInputs {
  Tensor x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr;
  std::vector<const Tensor*> list() const { return {&x, &h0, &c0, &w_ih, &w_hh, &b_ih, &b_hh, &w_hr}; }
};

// The gate functions on a contiguous run of n values, in place, vectorised by xtensor: sigmoid as
// 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, so that nothing overflows; scratch holds n.
template <class T>
void sigmoid_in_place(T* x, std::size_t n, T* scratch) {
  const std::array<std::size_t, 1> shape{n};
  auto values = xt::adapt(x, n, xt::no_ownership(), shape);
  auto e = xt::adapt(scratch, n, xt::no_ownership(), shape);
  xt::noalias(e) = xt::exp(-xt::abs(values));
  for (std::size_t i = 0; i < n; ++i) x[i] = (x[i] >= T(0) ? T(1) : scratch[i]) / (T(1) + scratch[i]);
}

template <class T>
void tanh_into(const T* x, std::size_t n, T* out) {
  const std::array<std::size_t, 1> shape{n};
  auto in = xt::adapt(x, n, xt::no_ownership(), shape);
  auto result = xt::adapt(out, n, xt::no_ownership(), shape);
  xt::noalias(result) = xt::tanh(in);
}

// What the backward reads: activated gates (rows, 4H) in i f g o order, the cell after each step
// and its tanh (rows, H), the hidden state each row's step started from (rows, P) and, with a
// projection, o * tanh(c) before it (rows, H).
template <class T>
struct LstmTape {
  std::vector<T> gates, cells, tanh_cells, h_prev, hidden_raw;
};

// Where the step before step t (in processing order) keeps its rows: -1 for the first step.
std::int64_t previous_step(const Packing& packing, std::int64_t t, bool reverse) {
  if (reverse) return t + 1 < packing.steps() ? t + 1 : -1;
  return t - 1;
}

template <class T>
void lstm_forward_loops(const Packing& packing, bool reverse, const LstmSizes& n, const LstmInputs& in, T* result,
                        LstmTape<T>& tape) {
  const std::int64_t G = n.gates(), H = n.hidden, P = n.output;
  const bool projected = in.w_hr.defined();
  T* out = result;
  T* h = result + n.rows * P;  // the running state, h_n and c_n once the loop ends
  T* c = h + n.batch * P;
  std::copy(in.h0.data<T>(), in.h0.data<T>() + n.batch * P, h);
  std::copy(in.c0.data<T>(), in.c0.data<T>() + n.batch * H, c);
  tape.gates.resize(static_cast<std::size_t>(n.rows * G));
  tape.cells.resize(static_cast<std::size_t>(n.rows * H));
  tape.tanh_cells.resize(static_cast<std::size_t>(n.rows * H));
  std::vector<T> scratch(static_cast<std::size_t>(2 * H));
  tape.h_prev.resize(static_cast<std::size_t>(n.rows * P));
  if (projected) tape.hidden_raw.resize(static_cast<std::size_t>(n.rows * H));
  std::vector<T> raw(projected ? static_cast<std::size_t>(n.batch * H) : 0);

  // Every step's input projection and both biases at once.
  T* gates = tape.gates.data();
  gemm(false, true, n.rows, G, n.input, T(1), in.x.data<T>(), n.input, in.w_ih.data<T>(), n.input, T(0), gates, G);
  if (in.b_ih.defined()) {
    const T* b_ih = in.b_ih.data<T>();
    const T* b_hh = in.b_hh.data<T>();
    for (std::int64_t r = 0; r < n.rows; ++r)
      for (std::int64_t j = 0; j < G; ++j) gates[r * G + j] += b_ih[j] + b_hh[j];
  }
  const T* w_hh = in.w_hh.data<T>();
  for (std::int64_t s = 0; s < packing.steps(); ++s) {
    const std::int64_t t = reverse ? packing.steps() - 1 - s : s;
    const std::int64_t bs = packing.batch_sizes[t], row0 = packing.offsets[t];
    T* g = gates + row0 * G;
    std::copy(h, h + bs * P, tape.h_prev.data() + row0 * P);
    gemm(false, true, bs, G, P, T(1), h, P, w_hh, P, T(1), g, G);
    for (std::int64_t b = 0; b < bs; ++b) {
      T* gb = g + b * G;
      const auto h_size = static_cast<std::size_t>(H);
      sigmoid_in_place(gb, 2 * h_size, scratch.data());  // i, f
      tanh_into(gb + 2 * H, h_size, gb + 2 * H);          // g
      sigmoid_in_place(gb + 3 * H, h_size, scratch.data());  // o
      T* cell = tape.cells.data() + (row0 + b) * H;
      T* tanh_cell = tape.tanh_cells.data() + (row0 + b) * H;
      for (std::int64_t j = 0; j < H; ++j) {
        cell[j] = gb[H + j] * c[b * H + j] + gb[j] * gb[2 * H + j];
        c[b * H + j] = cell[j];
      }
      tanh_into(cell, h_size, tanh_cell);
      T* hidden = projected ? raw.data() + b * H : h + b * P;
      for (std::int64_t j = 0; j < H; ++j) hidden[j] = gb[3 * H + j] * tanh_cell[j];
      if (projected) std::copy(hidden, hidden + H, tape.hidden_raw.data() + (row0 + b) * H);
    }
    if (projected) gemm(false, true, bs, P, H, T(1), raw.data(), H, in.w_hr.data<T>(), H, T(0), h, P);
    std::copy(h, h + bs * P, out + row0 * P);
  }
}

// Gradients, in LstmInputs order, from the gradient of the joined result.
template <class T>
std::vector<Tensor> lstm_backward_loops(const Packing& packing, bool reverse, const LstmSizes& n,
                                        const LstmInputs& in, const LstmTape<T>& tape, const T* grad) {
  const std::int64_t G = n.gates(), H = n.hidden, P = n.output;
  const bool projected = in.w_hr.defined();
  const auto array_of = [](std::initializer_list<std::int64_t> sizes) {
    std::vector<std::size_t> shape(sizes.begin(), sizes.end());
    return Array<T>::from_shape(shape);
  };
  Array<T> dh = array_of({n.batch, P}), dc = array_of({n.batch, H});
  std::copy(grad + n.rows * P, grad + n.rows * P + n.batch * P, dh.data());
  std::copy(grad + n.rows * P + n.batch * P, grad + n.total(), dc.data());
  Array<T> d_gates = array_of({n.rows, G});
  Array<T> dw_hr = array_of({projected ? P : 0, H});
  std::fill(dw_hr.begin(), dw_hr.end(), T(0));
  std::vector<T> d_raw(projected ? static_cast<std::size_t>(n.batch * H) : 0);
  const T* c0 = in.c0.data<T>();
  const T* w_hh = in.w_hh.data<T>();

  for (std::int64_t s = packing.steps() - 1; s >= 0; --s) {
    const std::int64_t t = reverse ? packing.steps() - 1 - s : s;
    const std::int64_t bs = packing.batch_sizes[t], row0 = packing.offsets[t];
    const std::int64_t before = s == 0 ? -1 : previous_step(packing, t, reverse);
    T* dhp = dh.data();
    const T* d_out = grad + row0 * P;
    for (std::int64_t k = 0; k < bs * P; ++k) dhp[k] += d_out[k];
    const T* d_hidden = dhp;
    if (projected) {
      gemm(true, false, P, H, bs, T(1), dhp, P, tape.hidden_raw.data() + row0 * H, H, T(1), dw_hr.data(), H);
      gemm(false, false, bs, H, P, T(1), dhp, P, in.w_hr.data<T>(), H, T(0), d_raw.data(), H);
      d_hidden = d_raw.data();
    }
    T* dg = d_gates.data() + row0 * G;
    for (std::int64_t b = 0; b < bs; ++b) {
      const T* gb = tape.gates.data() + (row0 + b) * G;
      const bool from_initial = before < 0 || b >= packing.batch_sizes[before];
      const T* c_before = from_initial ? c0 + b * H : tape.cells.data() + (packing.offsets[before] + b) * H;
      for (std::int64_t j = 0; j < H; ++j) {
        const T i = gb[j], f = gb[H + j], gg = gb[2 * H + j], o = gb[3 * H + j];
        const T tc = tape.tanh_cells[(row0 + b) * H + j];
        const T dhv = d_hidden[b * H + j];
        const T dcv = dc.data()[b * H + j] + dhv * o * (T(1) - tc * tc);
        dc.data()[b * H + j] = dcv * f;
        dg[b * G + j] = dcv * gg * i * (T(1) - i);
        dg[b * G + H + j] = dcv * c_before[j] * f * (T(1) - f);
        dg[b * G + 2 * H + j] = dcv * i * (T(1) - gg * gg);
        dg[b * G + 3 * H + j] = dhv * tc * o * (T(1) - o);
      }
    }
    gemm(false, false, bs, P, G, T(1), dg, G, w_hh, P, T(0), dhp, P);
  }

  std::vector<Tensor> grads(8);
  Array<T> dx = array_of({n.rows, n.input}), dw_ih = array_of({G, n.input}), dw_hh = array_of({G, P});
  gemm(false, false, n.rows, n.input, G, T(1), d_gates.data(), G, in.w_ih.data<T>(), n.input, T(0), dx.data(), n.input);
  gemm(true, false, G, n.input, n.rows, T(1), d_gates.data(), G, in.x.data<T>(), n.input, T(0), dw_ih.data(), n.input);
  gemm(true, false, G, P, n.rows, T(1), d_gates.data(), G, tape.h_prev.data(), P, T(0), dw_hh.data(), P);
  grads[0] = make_tensor(std::move(dx));
  grads[1] = make_tensor(std::move(dh));
  grads[2] = make_tensor(std::move(dc));
  grads[3] = make_tensor(std::move(dw_ih));
  grads[4] = make_tensor(std::move(dw_hh));
  if (in.b_ih.defined()) {
    Array<T> db = array_of({G});
    std::fill(db.begin(), db.end(), T(0));
    for (std::int64_t r = 0; r < n.rows; ++r)
      for (std::int64_t j = 0; j < G; ++j) db.data()[j] += d_gates.data()[r * G + j];
    grads[5] = make_tensor(Array<T>(db));
    grads[6] = make_tensor(std::move(db));
  }
  if (projected) grads[7] = make_tensor(std::move(dw_hr));
  return grads;
}

// The recorded layer (the definition) as one joined tensor, in the fused node's layout.
Tensor recorded_lstm_direction(const Packing& packing, bool reverse, const LstmInputs& in) {
  const Weights weights{in.w_ih, in.w_hh, in.b_ih, in.b_hh, in.w_hr};
  const Tensor gi = linear(in.x, in.w_ih, in.b_ih);
  const State initial{in.h0, in.c0};
  const DirectionResult result = reverse ? run_backwards(CellKind::Lstm, gi, packing, initial, weights)
                                         : run_forwards(CellKind::Lstm, gi, packing, initial, weights);
  return cat({result.output.reshape({-1}), result.last.h.reshape({-1}), result.last.c.reshape({-1})}, 0);
}

// Leaf copies of the tensors (undefined stays undefined).
std::vector<Tensor> aliases_of(const std::vector<Tensor>& tensors) {
  std::vector<Tensor> aliases;
  for (const Tensor& t : tensors) aliases.push_back(t.defined() ? t.detach().requires_grad_() : Tensor());
  return aliases;
}

// d<g, value>/d aliases, itself recorded when `recorded`; entries for undefined aliases and for
// those the value does not depend on are undefined.
std::vector<Tensor> gradients_wrt(const Tensor& value, const std::vector<Tensor>& aliases, const Tensor& g,
                                  bool recorded) {
  std::vector<Tensor> wanted;
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < aliases.size(); ++i)
    if (aliases[i].defined()) {
      wanted.push_back(aliases[i]);
      where.push_back(i);
    }
  const std::vector<Tensor> found =
      autograd::grad({value}, wanted, {g}, /*retain_graph=*/true, recorded, /*allow_unused=*/true);
  std::vector<Tensor> grads(aliases.size());
  for (std::size_t k = 0; k < where.size(); ++k) grads[where[k]] = found[k];
  return grads;
}

// A value computed from leaf copies (aliases) of some tensors (originals), handed back to the
// originals: its backward differentiates the value's own graph with respect to the aliases, which
// are leaves, so that walk never leaves the recomputed graph. Under create_graph the result is
// handed back the same way, the upstream joining the originals, so every order of derivative
// reaches the original tensors.
class RecomputedBackward final : public Node {
 public:
  RecomputedBackward(Tensor value, std::vector<Tensor> aliases, std::vector<Tensor> originals)
      : value_(std::move(value)), aliases_(std::move(aliases)), originals_(std::move(originals)) {}
  const char* name() const override { return "RecomputedBackward"; }
  const char* fused_description() const override {
    return "the derivative of an LSTM layer's recorded steps, recomputed for create_graph";
  }

  static Tensor hand_back(const Tensor& value, const std::vector<Tensor>& aliases, const std::vector<Tensor>& originals) {
    if (!value.defined()) return Tensor();
    Tensor out = value.detach();
    std::vector<const Tensor*> inputs;
    bool any = false;
    for (const Tensor& original : originals) {
      inputs.push_back(&original);
      any = any || original.requires_grad();
    }
    if (value.requires_grad() && any && GradMode::is_enabled())
      record(out, std::make_shared<RecomputedBackward>(value, aliases, originals), inputs);
    return out;
  }

  std::vector<Tensor> backward(const Tensor& grad_output) override {
    if (!GradMode::is_enabled()) return gradients_wrt(value_, aliases_, grad_output, false);
    std::vector<Tensor> aliases = aliases_, originals = originals_;
    aliases.push_back(grad_output.detach().requires_grad_());
    originals.push_back(grad_output);
    std::vector<Tensor> grads = gradients_wrt(value_, aliases_, aliases.back(), true);
    for (Tensor& g : grads) g = hand_back(g, aliases, originals);
    return grads;
  }

 protected:
  void release_saved() override {
    value_ = Tensor();
    aliases_.clear();
    originals_.clear();
  }

 private:
  Tensor value_;
  std::vector<Tensor> aliases_, originals_;
};

// One direction of one LSTM layer, forward in raw loops; its backward is the loops of
// lstm_backward_loops, or, under create_graph, the derivative of the recorded steps.
class LstmLayerBackward final : public Node {
 public:
  LstmLayerBackward(Packing packing, bool reverse, LstmSizes sizes, LstmInputs inputs)
      : packing_(std::move(packing)), reverse_(reverse), sizes_(sizes), inputs_(std::move(inputs)) {
    for (const Tensor* t : inputs_.list()) versions_.push_back(t->defined() ? t->_version() : 0);
  }
  const char* name() const override { return "LstmLayerBackward"; }
  const char* fused_description() const override { return "one direction of an LSTM layer over a whole sequence"; }

  std::vector<Tensor> backward(const Tensor& grad) override {
    check_versions();
    if (GradMode::is_enabled()) return recorded_backward(grad);
    return visit_floating(grad.dtype(), "LstmLayerBackward", [&](auto zero) {
      using T = decltype(zero);
      return lstm_backward_loops<T>(packing_, reverse_, sizes_, inputs_, std::get<LstmTape<T>>(tape), array<T>(grad).data());
    });
  }

  std::variant<LstmTape<float>, LstmTape<double>> tape;

 protected:
  void release_saved() override {
    inputs_ = LstmInputs();
    tape = LstmTape<float>();
  }

 private:
  // The recorded steps, rerun on leaf copies of the inputs, differentiated with create_graph, and
  // handed back to the inputs.
  std::vector<Tensor> recorded_backward(const Tensor& grad) const {
    std::vector<Tensor> originals;
    for (const Tensor* t : inputs_.list()) originals.push_back(*t);
    std::vector<Tensor> aliases = aliases_of(originals);
    const LstmInputs copies{aliases[0], aliases[1], aliases[2], aliases[3], aliases[4], aliases[5], aliases[6], aliases[7]};
    const Tensor value = recorded_lstm_direction(packing_, reverse_, copies);
    aliases.push_back(grad.detach().requires_grad_());
    originals.push_back(grad);
    const std::vector<Tensor> first(aliases.begin(), aliases.end() - 1);
    std::vector<Tensor> grads = gradients_wrt(value, first, aliases.back(), true);
    for (Tensor& g : grads) g = RecomputedBackward::hand_back(g, aliases, originals);
    return grads;
  }

  void check_versions() const {
    const std::vector<const Tensor*> saved = inputs_.list();
    for (std::size_t i = 0; i < saved.size(); ++i) {
      if (!saved[i]->defined() || saved[i]->_version() == versions_[i]) continue;
      throw Error(concat("LstmLayerBackward: one of the variables needed for gradient computation has been modified "
                         "by an inplace operation: [", dtype_name(saved[i]->dtype()), " ", saved[i]->sizes(),
                         "] is at version ", saved[i]->_version(), "; expected version ", versions_[i], " instead."));
    }
  }

  Packing packing_;
  bool reverse_;
  LstmSizes sizes_;
  LstmInputs inputs_;
  std::vector<std::int64_t> versions_;
};

DirectionResult fused_lstm_direction(const Tensor& x, const Packing& packing, const State& initial,
                                     const Weights& w, bool reverse) {
  const LstmInputs in{x, initial.h, initial.c, w.w_ih, w.w_hh, w.b_ih, w.b_hh, w.w_hr};
  const LstmSizes n{x.size(0), x.size(1), w.w_hh.size(0) / 4, w.w_hh.size(1), initial.h.size(0)};
  const bool recording = any_requires_grad({&in.x, &in.h0, &in.c0, &in.w_ih, &in.w_hh, &in.b_ih, &in.b_hh, &in.w_hr});
  const Tensor joined = visit_floating(x.dtype(), "lstm", [&](auto zero) {
    using T = decltype(zero);
    Array<T> values = Array<T>::from_shape({static_cast<std::size_t>(n.total())});
    LstmTape<T> tape;
    lstm_forward_loops<T>(packing, reverse, n, in, values.data(), tape);
    Tensor out = make_tensor(std::move(values));
    if (recording) {
      auto node = std::make_shared<LstmLayerBackward>(packing, reverse, n, in);
      node->tape = std::move(tape);
      record(out, node, in.list());
    }
    return out;
  });
  const std::int64_t h_at = n.rows * n.output, c_at = h_at + n.batch * n.output;
  return {joined.narrow(0, 0, h_at).view({n.rows, n.output}),
          {joined.narrow(0, h_at, n.batch * n.output).view({n.batch, n.output}),
           joined.narrow(0, c_at, n.batch * n.hidden).view({n.batch, n.hidden})}};
}

}  // namespace

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
      DirectionResult result;
      if (config.kind == CellKind::Lstm && config.fused) {
        result = fused_lstm_direction(input, packing, initial, w, reverse);
      } else {
        const Tensor gi = linear(input, w.w_ih, w.b_ih);  // every step's input projection at once
        result = reverse ? run_backwards(config.kind, gi, packing, initial, w)
                         : run_forwards(config.kind, gi, packing, initial, w);
      }
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
