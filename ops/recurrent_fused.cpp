// The fused recurrent layer: one direction of one RNN, LSTM or GRU layer as a single node. Its
// forward runs the steps of run_recorded_direction (ops/recurrent.cpp) in plain loops and keeps
// what the derivative reads (the activated gates of every step); its backward runs back through
// time in plain loops too, with a gemm per step for the hidden projection and one gemm each for
// the input and weight gradients of the whole sequence.
//
// It is only the fast path. The recorded steps stay the definition: under create_graph the node
// reruns them and differentiates them (RecomputedBackward), so derivatives of every order are
// those of the recorded ops, and tests/nn/test_rnn.cpp holds the two paths to agreement.
//
// State rows stay in place: the sequences still running at a step are the first batch_sizes[t]
// rows of the (B, ·) state, so a sequence that ends keeps its final state in its row (forwards in
// time), and one that starts finds its initial state there (backwards in time).
#include <xgrad/ops/recurrent_impl.hpp>

#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <variant>

#include <xgrad/core/autograd.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/node.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/gemm.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/shape.hpp>
#include <xgrad/ops/view.hpp>

namespace xgrad::recurrent {

namespace {

// The node has one output, so the direction's results travel joined in one flat tensor:
// output (rows, P), then h_n (B, P), then, for an LSTM, c_n (B, H).
struct LayerSizes {
  CellKind kind;
  std::int64_t rows, input, hidden, output, batch;
  std::int64_t gates() const { return gate_count(kind) * hidden; }
  bool has_cell() const { return kind == CellKind::Lstm; }
  std::int64_t total() const { return rows * output + batch * output + (has_cell() ? batch * hidden : 0); }
};

// The node's inputs, in edge order (c0 and w_hr undefined where the layer has none).
struct LayerInputs {
  Tensor x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr;
  std::vector<const Tensor*> list() const { return {&x, &h0, &c0, &w_ih, &w_hh, &b_ih, &b_hh, &w_hr}; }
};

// What the backward reads. gates (rows, G): the activated gates of each row's step (LSTM i f g o;
// GRU r z n; RNN the new hidden state); h_prev (rows, P): the state each row's step started from.
// LSTM: cells and tanh_cells (rows, H), and hidden_raw = o * tanh(c) (rows, H) with a projection.
// GRU: hidden_part = W_hn h + b_hn (rows, H), which the reset gate scales.
template <class T>
struct Tape {
  Array<T> gates, h_prev, cells, tanh_cells, hidden_raw, hidden_part;
};

std::size_t size_of(std::int64_t n) { return static_cast<std::size_t>(n); }

// ---- vectorised gate functions on contiguous runs ------------------------------------------------

// sigmoid in place as 1 / (1 + e^-x): for very negative x, e^-x is infinite and the quotient 0,
// so nothing turns into NaN.
template <class T>
void sigmoid_in_place(T* x, std::size_t n) {
  const std::array<std::size_t, 1> shape{n};
  auto values = xt::adapt(x, n, xt::no_ownership(), shape);
  xt::noalias(values) = T(1) / (T(1) + xt::exp(-values));
}

template <class T>
void tanh_into(const T* x, std::size_t n, T* out) {
  const std::array<std::size_t, 1> shape{n};
  auto in = xt::adapt(x, n, xt::no_ownership(), shape);
  auto result = xt::adapt(out, n, xt::no_ownership(), shape);
  xt::noalias(result) = xt::tanh(in);
}

// ---- forward ---------------------------------------------------------------------------------------

// gates (rows, G) = x W_ih^T + b_ih for every step at once, plus b_hh where it adds directly (LSTM,
// RNN; a GRU keeps b_hn inside the reset gate's product).
template <class T>
void input_projection(const LayerSizes& n, const LayerInputs& in, T* gates) {
  const std::int64_t G = n.gates();
  gemm(false, true, n.rows, G, n.input, T(1), in.x.data<T>(), n.input, in.w_ih.data<T>(), n.input, T(0), gates, G);
  if (!in.b_ih.defined()) return;
  const T* b_ih = in.b_ih.data<T>();
  const T* b_hh = in.b_hh.data<T>();
  const bool add_b_hh = n.kind != CellKind::Gru;
  for (std::int64_t r = 0; r < n.rows; ++r)
    for (std::int64_t j = 0; j < G; ++j) gates[r * G + j] += b_ih[j] + (add_b_hh ? b_hh[j] : T(0));
}

// One step's gate block g (bs, G), which holds the input projection plus h W_hh^T (plus b_hh for a
// GRU, in gh), turned into the activated gates, and the new state written into h (and c).
template <class T>
void lstm_step(const LayerSizes& n, std::int64_t bs, std::int64_t row0, T* g, T* h, T* c, T* raw, Tape<T>& tape) {
  const std::int64_t G = n.gates(), H = n.hidden, P = n.output;
  const bool projected = raw != nullptr;
  for (std::int64_t b = 0; b < bs; ++b) {
    T* gb = g + b * G;
    sigmoid_in_place(gb, size_of(2 * H));           // i, f
    tanh_into(gb + 2 * H, size_of(H), gb + 2 * H);  // g
    sigmoid_in_place(gb + 3 * H, size_of(H));       // o
    T* cell = tape.cells.data() + (row0 + b) * H;
    T* tanh_cell = tape.tanh_cells.data() + (row0 + b) * H;
    for (std::int64_t j = 0; j < H; ++j) {
      cell[j] = gb[H + j] * c[b * H + j] + gb[j] * gb[2 * H + j];
      c[b * H + j] = cell[j];
    }
    tanh_into(cell, size_of(H), tanh_cell);
    T* hidden = projected ? raw + b * H : h + b * P;
    for (std::int64_t j = 0; j < H; ++j) hidden[j] = gb[3 * H + j] * tanh_cell[j];
    if (projected) std::copy(hidden, hidden + H, tape.hidden_raw.data() + (row0 + b) * H);
  }
}

template <class T>
void gru_step(const LayerSizes& n, std::int64_t bs, std::int64_t row0, T* g, const T* gh, T* h, Tape<T>& tape) {
  const std::int64_t G = n.gates(), H = n.hidden;
  for (std::int64_t b = 0; b < bs; ++b) {
    T* gb = g + b * G;
    const T* hb = gh + b * G;
    for (std::int64_t j = 0; j < 2 * H; ++j) gb[j] += hb[j];
    sigmoid_in_place(gb, size_of(2 * H));  // r, z
    T* part = tape.hidden_part.data() + (row0 + b) * H;
    for (std::int64_t j = 0; j < H; ++j) {
      part[j] = hb[2 * H + j];
      gb[2 * H + j] += gb[j] * part[j];
    }
    tanh_into(gb + 2 * H, size_of(H), gb + 2 * H);  // n
    for (std::int64_t j = 0; j < H; ++j) {
      const T z = gb[H + j], candidate = gb[2 * H + j];
      h[b * H + j] = candidate + z * (h[b * H + j] - candidate);
    }
  }
}

template <class T>
void rnn_step(const LayerSizes& n, std::int64_t bs, T* g, T* h) {
  const std::int64_t count = bs * n.hidden;
  if (n.kind == CellKind::RnnTanh) {
    tanh_into(g, size_of(count), g);
  } else {
    for (std::int64_t k = 0; k < count; ++k) g[k] = g[k] > T(0) ? g[k] : T(0);
  }
  std::copy(g, g + count, h);
}

// Writes output, h_n (and c_n) into result and fills the tape.
template <class T>
void forward_loops(const Packing& packing, bool reverse, const LayerSizes& n, const LayerInputs& in, T* result,
                   Tape<T>& tape) {
  const std::int64_t G = n.gates(), H = n.hidden, P = n.output;
  const bool projected = in.w_hr.defined();
  T* out = result;
  T* h = result + n.rows * P;  // the running state, which is h_n (and c_n) once the loop ends
  T* c = h + n.batch * P;
  std::copy(in.h0.data<T>(), in.h0.data<T>() + n.batch * P, h);
  if (n.has_cell()) std::copy(in.c0.data<T>(), in.c0.data<T>() + n.batch * H, c);
  // Every element is written before it is read, so the buffers start uninitialised.
  tape.gates = Array<T>::from_shape({size_of(n.rows * G)});
  tape.h_prev = Array<T>::from_shape({size_of(n.rows * P)});
  if (n.has_cell()) {
    tape.cells = Array<T>::from_shape({size_of(n.rows * H)});
    tape.tanh_cells = Array<T>::from_shape({size_of(n.rows * H)});
    if (projected) tape.hidden_raw = Array<T>::from_shape({size_of(n.rows * H)});
  }
  if (n.kind == CellKind::Gru) tape.hidden_part = Array<T>::from_shape({size_of(n.rows * H)});
  std::vector<T> raw(projected ? size_of(n.batch * H) : 0);
  std::vector<T> gh(n.kind == CellKind::Gru ? size_of(n.batch * G) : 0);

  T* gates = tape.gates.data();
  input_projection(n, in, gates);
  const T* w_hh = in.w_hh.data<T>();
  for (std::int64_t s = 0; s < packing.steps(); ++s) {
    const std::int64_t t = reverse ? packing.steps() - 1 - s : s;
    const std::int64_t bs = packing.batch_sizes[t], row0 = packing.offsets[t];
    T* g = gates + row0 * G;
    std::copy(h, h + bs * P, tape.h_prev.data() + row0 * P);
    if (n.kind == CellKind::Gru) {
      T* hidden = gh.data();
      if (in.b_hh.defined()) {
        const T* b_hh = in.b_hh.data<T>();
        for (std::int64_t b = 0; b < bs; ++b) std::copy(b_hh, b_hh + G, hidden + b * G);
      }
      gemm(false, true, bs, G, P, T(1), h, P, w_hh, P, in.b_hh.defined() ? T(1) : T(0), hidden, G);
      gru_step(n, bs, row0, g, hidden, h, tape);
    } else {
      gemm(false, true, bs, G, P, T(1), h, P, w_hh, P, T(1), g, G);
      if (n.kind == CellKind::Lstm) {
        lstm_step(n, bs, row0, g, h, c, projected ? raw.data() : nullptr, tape);
        if (projected) gemm(false, true, bs, P, H, T(1), raw.data(), H, in.w_hr.data<T>(), H, T(0), h, P);
      } else {
        rnn_step(n, bs, g, h);
      }
    }
    std::copy(h, h + bs * P, out + row0 * P);
  }
}

// ---- backward --------------------------------------------------------------------------------------

template <class T>
Array<T> zeros_array(std::int64_t rows, std::int64_t cols) {
  Array<T> a = Array<T>::from_shape({size_of(rows), size_of(cols)});
  std::fill(a.begin(), a.end(), T(0));
  return a;
}

template <class T>
Array<T> column_sums(const T* matrix, std::int64_t rows, std::int64_t cols) {
  Array<T> sums = Array<T>::from_shape({size_of(cols)});
  std::fill(sums.begin(), sums.end(), T(0));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < cols; ++j) sums.data()[j] += matrix[r * cols + j];
  return sums;
}

// The step before step t in processing order (whose rows hold the state step t started from), or -1.
std::int64_t previous_step(const Packing& packing, std::int64_t s, bool reverse) {
  if (s == 0) return -1;
  return reverse ? packing.steps() - s : s - 1;
}

// Gradients of one step, given dh (bs, P) = d loss / d (the step's new h), into d_gi and d_gh (the
// gradients of the input and hidden pre-activations, rows of (rows, G)); on return dh holds the
// part of d loss / d h_prev that does not pass through W_hh (GRU's z h term), or zeros.
template <class T>
void lstm_step_backward(const Packing& packing, bool reverse, const LayerSizes& n, const LayerInputs& in,
                        const Tape<T>& tape, std::int64_t s, std::int64_t t, const T* d_hidden, T* dh, T* dc, T* d_gi) {
  const std::int64_t G = n.gates(), H = n.hidden, P = n.output;
  const std::int64_t bs = packing.batch_sizes[t], row0 = packing.offsets[t];
  const std::int64_t before = previous_step(packing, s, reverse);
  const T* c0 = in.c0.data<T>();
  for (std::int64_t b = 0; b < bs; ++b) {
    const T* gb = tape.gates.data() + (row0 + b) * G;
    const bool from_initial = before < 0 || b >= packing.batch_sizes[before];
    const T* c_before = from_initial ? c0 + b * H : tape.cells.data() + (packing.offsets[before] + b) * H;
    const T* tanh_cell = tape.tanh_cells.data() + (row0 + b) * H;
    T* dg = d_gi + (row0 + b) * G;
    for (std::int64_t j = 0; j < H; ++j) {
      const T i = gb[j], f = gb[H + j], gg = gb[2 * H + j], o = gb[3 * H + j], tc = tanh_cell[j];
      const T dhv = d_hidden[b * H + j];
      const T dcv = dc[b * H + j] + dhv * o * (T(1) - tc * tc);
      dc[b * H + j] = dcv * f;
      dg[j] = dcv * gg * i * (T(1) - i);
      dg[H + j] = dcv * c_before[j] * f * (T(1) - f);
      dg[2 * H + j] = dcv * i * (T(1) - gg * gg);
      dg[3 * H + j] = dhv * tc * o * (T(1) - o);
    }
  }
  std::fill(dh, dh + bs * P, T(0));
}

template <class T>
void gru_step_backward(const LayerSizes& n, const Tape<T>& tape, std::int64_t bs, std::int64_t row0, T* dh, T* d_gi,
                       T* d_gh) {
  const std::int64_t G = n.gates(), H = n.hidden;
  for (std::int64_t b = 0; b < bs; ++b) {
    const T* gb = tape.gates.data() + (row0 + b) * G;
    const T* part = tape.hidden_part.data() + (row0 + b) * H;
    const T* h_prev = tape.h_prev.data() + (row0 + b) * H;
    T* dgi = d_gi + (row0 + b) * G;
    T* dgh = d_gh + (row0 + b) * G;
    for (std::int64_t j = 0; j < H; ++j) {
      const T r = gb[j], z = gb[H + j], candidate = gb[2 * H + j], dhv = dh[b * H + j];
      const T d_candidate = dhv * (T(1) - z) * (T(1) - candidate * candidate);
      const T d_reset = d_candidate * part[j] * r * (T(1) - r);
      const T d_update = dhv * (h_prev[j] - candidate) * z * (T(1) - z);
      dgi[j] = dgh[j] = d_reset;
      dgi[H + j] = dgh[H + j] = d_update;
      dgi[2 * H + j] = d_candidate;
      dgh[2 * H + j] = d_candidate * r;
      dh[b * H + j] = dhv * z;
    }
  }
}

template <class T>
void rnn_step_backward(const LayerSizes& n, const Tape<T>& tape, std::int64_t bs, std::int64_t row0, T* dh,
                       T* d_gi) {
  const std::int64_t H = n.hidden;
  for (std::int64_t k = 0; k < bs * H; ++k) {
    const T y = tape.gates.data()[row0 * H + k];
    const T slope = n.kind == CellKind::RnnTanh ? T(1) - y * y : (y > T(0) ? T(1) : T(0));
    d_gi[row0 * H + k] = dh[k] * slope;
    dh[k] = T(0);
  }
}

// Gradients, in LayerInputs order, from the gradient of the joined result.
template <class T>
gradient_list backward_loops(const Packing& packing, bool reverse, const LayerSizes& n, const LayerInputs& in,
                                   const Tape<T>& tape, const T* grad) {
  const std::int64_t G = n.gates(), H = n.hidden, P = n.output;
  const bool projected = in.w_hr.defined();
  Array<T> dh = zeros_array<T>(n.batch, P), dc = zeros_array<T>(n.has_cell() ? n.batch : 0, H);
  std::copy(grad + n.rows * P, grad + n.rows * P + n.batch * P, dh.data());
  if (n.has_cell()) std::copy(grad + n.rows * P + n.batch * P, grad + n.total(), dc.data());
  // d_gh: the gradient of the hidden projection h W_hh^T + b_hh, which only a GRU tells apart
  // from d_gi, the input projection's.
  Array<T> d_gi = zeros_array<T>(n.rows, G);
  Array<T> d_gh_gru = zeros_array<T>(n.kind == CellKind::Gru ? n.rows : 0, G);
  T* d_gh = n.kind == CellKind::Gru ? d_gh_gru.data() : d_gi.data();
  Array<T> dw_hr = zeros_array<T>(projected ? P : 0, H);
  std::vector<T> d_raw(projected ? size_of(n.batch * H) : 0);
  const T* w_hh = in.w_hh.data<T>();

  for (std::int64_t s = packing.steps() - 1; s >= 0; --s) {
    const std::int64_t t = reverse ? packing.steps() - 1 - s : s;
    const std::int64_t bs = packing.batch_sizes[t], row0 = packing.offsets[t];
    T* dhp = dh.data();
    const T* d_out = grad + row0 * P;
    for (std::int64_t k = 0; k < bs * P; ++k) dhp[k] += d_out[k];
    if (n.kind == CellKind::Lstm) {
      const T* d_hidden = dhp;
      if (projected) {
        gemm(true, false, P, H, bs, T(1), dhp, P, tape.hidden_raw.data() + row0 * H, H, T(1), dw_hr.data(), H);
        gemm(false, false, bs, H, P, T(1), dhp, P, in.w_hr.data<T>(), H, T(0), d_raw.data(), H);
        d_hidden = d_raw.data();
      }
      lstm_step_backward(packing, reverse, n, in, tape, s, t, d_hidden, dhp, dc.data(), d_gi.data());
    } else if (n.kind == CellKind::Gru) {
      gru_step_backward(n, tape, bs, row0, dhp, d_gi.data(), d_gh);
    } else {
      rnn_step_backward(n, tape, bs, row0, dhp, d_gi.data());
    }
    // d h_prev += d_gh W_hh
    gemm(false, false, bs, P, G, T(1), d_gh + row0 * G, G, w_hh, P, T(1), dhp, P);
  }

  Array<T> dx = Array<T>::from_shape({size_of(n.rows), size_of(n.input)});
  Array<T> dw_ih = Array<T>::from_shape({size_of(G), size_of(n.input)});
  Array<T> dw_hh = Array<T>::from_shape({size_of(G), size_of(P)});
  gemm(false, false, n.rows, n.input, G, T(1), d_gi.data(), G, in.w_ih.data<T>(), n.input, T(0), dx.data(), n.input);
  gemm(true, false, G, n.input, n.rows, T(1), d_gi.data(), G, in.x.data<T>(), n.input, T(0), dw_ih.data(), n.input);
  gemm(true, false, G, P, n.rows, T(1), d_gh, G, tape.h_prev.data(), P, T(0), dw_hh.data(), P);
  gradient_list grads(8);
  grads[0] = make_tensor(std::move(dx));
  grads[1] = make_tensor(std::move(dh));
  if (n.has_cell()) grads[2] = make_tensor(std::move(dc));
  grads[3] = make_tensor(std::move(dw_ih));
  grads[4] = make_tensor(std::move(dw_hh));
  if (in.b_ih.defined()) {
    grads[5] = make_tensor(column_sums(d_gi.data(), n.rows, G));
    grads[6] = make_tensor(column_sums(d_gh, n.rows, G));
  }
  if (projected) grads[7] = make_tensor(std::move(dw_hr));
  return grads;
}

// ---- create_graph: the recorded steps, recomputed --------------------------------------------------

// Leaf copies of the tensors (undefined stays undefined).
std::vector<Tensor> aliases_of(const std::vector<Tensor>& tensors) {
  std::vector<Tensor> aliases;
  for (const Tensor& t : tensors) aliases.push_back(t.defined() ? t.detach().requires_grad_() : Tensor());
  return aliases;
}

// d<g, value>/d aliases, itself recorded when `recorded`; entries for undefined aliases and for
// those the value does not depend on are undefined.
gradient_list gradients_wrt(const Tensor& value, const std::vector<Tensor>& aliases, const Tensor& g,
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
  gradient_list grads(aliases.size());
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
  const char* formula() const override {
    return "d/d each input = autograd::grad of the layer's recorded steps, rerun on copies of the inputs";
  }
  const char* fused_description() const override {
    return "the derivative of a recurrent layer's recorded steps, recomputed for create_graph";
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
      record(out, make_node<RecomputedBackward>(value, aliases, originals), inputs);
    return out;
  }

  gradient_list backward(const Tensor& grad_output) override {
    if (!GradMode::is_enabled()) return gradients_wrt(value_, aliases_, grad_output, false);
    std::vector<Tensor> aliases = aliases_, originals = originals_;
    aliases.push_back(grad_output.detach().requires_grad_());
    originals.push_back(grad_output);
    gradient_list grads = gradients_wrt(value_, aliases_, aliases.back(), true);
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

// The recorded steps as one joined tensor, in the fused node's layout.
Tensor recorded_joined(CellKind kind, const Packing& packing, bool reverse, const LayerInputs& in) {
  const DirectionResult r = run_recorded_direction(kind, in.x, packing, {in.h0, in.c0},
                                                   {in.w_ih, in.w_hh, in.b_ih, in.b_hh, in.w_hr}, reverse);
  std::vector<Tensor> pieces{r.output.reshape({-1}), r.last.h.reshape({-1})};
  if (r.last.c.defined()) pieces.push_back(r.last.c.reshape({-1}));
  return cat(pieces, 0);
}

// The derivative of one direction of a layer in words, one line per input of the node (x, h0, c0,
// w_ih, w_hh, b_ih, b_hh, w_hr), for the kind of cell. dgates_t is the gradient of step t's gate
// pre-activations, which backward through time (last step first) computes from dh_t and dc_t.
const char* layer_formula(CellKind kind) {
  switch (kind) {
    case CellKind::Lstm:
      return "d/d x_t = dgates_t @ W_ih, where c_t = f c_{t-1} + i g, h_t = o tanh(c_t): dc_t = dh_t o (1 - tanh(c_t)^2) + "
             "dc_{t+1} f_{t+1}, di = dc g i(1-i), df = dc c_{t-1} f(1-f), dg = dc i (1-g^2), do = dh tanh(c) o(1-o)\n"
             "d/d h_0 = dgates_1 @ W_hh (the gradient reaching the state before the first step)\n"
             "d/d c_0 = dc_1 * f_1\n"
             "d/d W_ih = sum over t of dgates_t^T @ x_t\n"
             "d/d W_hh = sum over t of dgates_t^T @ h_{t-1}\n"
             "d/d b_ih = sum over t of dgates_t\n"
             "d/d b_hh = sum over t of dgates_t\n"
             "d/d W_hr = sum over t of dh_t^T @ (o tanh(c))_t (with proj_size; h_t = W_hr o tanh(c_t))";
    case CellKind::Gru:
      return "d/d x_t = dgates_t @ W_ih, where h_t = (1-z) n + z h_{t-1}, n = tanh(W_in x + b_in + r (W_hn h + b_hn)): "
             "dn = dh (1-z)(1-n^2), dz = dh (h_{t-1} - n) z(1-z), dr = dn (W_hn h + b_hn) r(1-r)\n"
             "d/d h_0 = dh_1 z_1 + (dr, dz, r dn)_1 @ W_hh (the gradient reaching the state before the first step)\n"
             "d/d c_0: no cell state\n"
             "d/d W_ih = sum over t of dgates_t^T @ x_t\n"
             "d/d W_hh = sum over t of (dr, dz, r dn)_t^T @ h_{t-1}\n"
             "d/d b_ih = sum over t of dgates_t\n"
             "d/d b_hh = sum over t of (dr, dz, r dn)_t\n"
             "d/d W_hr: no projection";
    case CellKind::RnnRelu:
      return "d/d x_t = da_t @ W_ih, where h_t = relu(a_t): da_t = dh_t where h_t > 0, else 0\n"
             "d/d h_0 = da_1 @ W_hh\n"
             "d/d c_0: no cell state\n"
             "d/d W_ih = sum over t of da_t^T @ x_t\n"
             "d/d W_hh = sum over t of da_t^T @ h_{t-1}\n"
             "d/d b_ih = sum over t of da_t\n"
             "d/d b_hh = sum over t of da_t\n"
             "d/d W_hr: no projection";
    default:
      return "d/d x_t = da_t @ W_ih, where h_t = tanh(a_t): da_t = dh_t (1 - h_t^2)\n"
             "d/d h_0 = da_1 @ W_hh\n"
             "d/d c_0: no cell state\n"
             "d/d W_ih = sum over t of da_t^T @ x_t\n"
             "d/d W_hh = sum over t of da_t^T @ h_{t-1}\n"
             "d/d b_ih = sum over t of da_t\n"
             "d/d b_hh = sum over t of da_t\n"
             "d/d W_hr: no projection";
  }
}

const char* layer_node_name(CellKind kind) {
  switch (kind) {
    case CellKind::Lstm: return "LstmLayerBackward";
    case CellKind::Gru: return "GruLayerBackward";
    case CellKind::RnnRelu: return "RnnReluLayerBackward";
    default: return "RnnTanhLayerBackward";
  }
}

class FusedLayerBackward final : public Node {
 public:
  FusedLayerBackward(Packing packing, bool reverse, LayerSizes sizes, const LayerInputs& inputs)
      : packing_(std::move(packing)), reverse_(reverse), sizes_(sizes) {
    const std::vector<const Tensor*> list = inputs.list();
    for (std::size_t i = 0; i < list.size(); ++i) inputs_[i] = SavedTensor(*list[i], /*is_output=*/false);
  }
  const char* name() const override { return layer_node_name(sizes_.kind); }
  const char* formula() const override { return layer_formula(sizes_.kind); }
  const char* fused_description() const override { return "one direction of a recurrent layer over a whole sequence"; }

  gradient_list backward(const Tensor& grad) override { return recorded_backward(unpack_inputs(), grad); }
  // Hand-written loops over the sequence, reading the gates the forward kept on its tape, where the
  // recorded steps would be rerun and walked op by op.
  gradient_list fused_backward(const Tensor& grad) override {
    const LayerInputs in = unpack_inputs();
    return visit_floating(grad.dtype(), name(), [&](auto zero) {
      using T = decltype(zero);
      return backward_loops<T>(packing_, reverse_, sizes_, in, std::get<Tape<T>>(tape), array<T>(grad).data());
    });
  }

  std::variant<Tape<float>, Tape<double>> tape;

 protected:
  void release_saved() override {
    for (SavedTensor& input : inputs_) input.reset();
    tape = Tape<float>();
  }

 private:
  // The recorded steps, rerun on leaf copies of the inputs (in grad mode, whatever the caller's) and
  // differentiated; under create_graph the gradients are handed back to the inputs.
  gradient_list recorded_backward(const LayerInputs& inputs, const Tensor& grad) const {
    const bool create_graph = GradMode::is_enabled();
    std::vector<Tensor> originals;
    for (const Tensor* t : inputs.list()) originals.push_back(*t);
    const std::vector<Tensor> copies = aliases_of(originals);
    const LayerInputs in{copies[0], copies[1], copies[2], copies[3], copies[4], copies[5], copies[6], copies[7]};
    Tensor value;
    {
      const AutoGradMode recording(true);
      value = recorded_joined(sizes_.kind, packing_, reverse_, in);
    }
    if (!create_graph) return gradients_wrt(value, copies, grad, false);
    std::vector<Tensor> aliases = copies;
    aliases.push_back(grad.detach().requires_grad_());
    originals.push_back(grad);
    gradient_list grads = gradients_wrt(value, copies, aliases.back(), true);
    for (Tensor& g : grads) g = RecomputedBackward::hand_back(g, aliases, originals);
    return grads;
  }

  // Every input, in LayerInputs order: the fast path reads x, c0, w_ih, w_hh and w_hr (of the
  // biases only whether they are there), and the recorded steps rerun under create_graph read them
  // all. unpack throws, naming this node and the tensor's shape, when one was modified in place
  // since the forward.
  LayerInputs unpack_inputs() {
    return {inputs_[0].unpack(*this), inputs_[1].unpack(*this), inputs_[2].unpack(*this), inputs_[3].unpack(*this),
            inputs_[4].unpack(*this), inputs_[5].unpack(*this), inputs_[6].unpack(*this), inputs_[7].unpack(*this)};
  }

  Packing packing_;
  bool reverse_;
  LayerSizes sizes_;
  std::array<SavedTensor, 8> inputs_;  // x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr
};

}  // namespace

DirectionResult run_fused_direction(CellKind kind, const Tensor& x, const Packing& packing, const State& initial,
                                    const Weights& w, bool reverse) {
  const LayerInputs in{x, initial.h, initial.c, w.w_ih, w.w_hh, w.b_ih, w.b_hh, w.w_hr};
  const LayerSizes n{kind, x.size(0), x.size(1), w.w_hh.size(0) / gate_count(kind), w.w_hh.size(1), initial.h.size(0)};
  const bool recording = any_requires_grad({&in.x, &in.h0, &in.c0, &in.w_ih, &in.w_hh, &in.b_ih, &in.b_hh, &in.w_hr});
  const Tensor joined = visit_floating(x.dtype(), layer_node_name(kind), [&](auto zero) {
    using T = decltype(zero);
    Array<T> values = Array<T>::from_shape({size_of(n.total())});
    Tape<T> tape;
    forward_loops<T>(packing, reverse, n, in, values.data(), tape);
    Tensor out = make_tensor(std::move(values));
    if (recording) {
      auto node = make_node<FusedLayerBackward>(packing, reverse, n, in);
      node->tape = std::move(tape);
      record(out, node, in.list());
    }
    return out;
  });
  const std::int64_t h_at = n.rows * n.output, c_at = h_at + n.batch * n.output;
  DirectionResult result{joined.narrow(0, 0, h_at).view({n.rows, n.output}),
                         {joined.narrow(0, h_at, n.batch * n.output).view({n.batch, n.output}), Tensor()}};
  if (n.has_cell()) result.last.c = joined.narrow(0, c_at, n.batch * n.hidden).view({n.batch, n.hidden});
  return result;
}

}  // namespace xgrad::recurrent
