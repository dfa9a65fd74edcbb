#include <xgrad/ops/attention.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/broadcast_impl.hpp>
#include <xgrad/kernels/dropout_keep.hpp>
#include <xgrad/kernels/gemm.hpp>
#include <xgrad/kernels/simd_rows.hpp>
#include <xgrad/kernels/thread_pool.hpp>
#include <xgrad/ops/dropout.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/linalg.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/sequence.hpp>
#include <xgrad/ops/softmax.hpp>

namespace xgrad {

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

// The problem as `batch` independent (L, E) x (S, E) x (S, Ev) attentions, one per (batch, head).
struct AttentionDims {
  Shape leading;  // the dims before (L, E), shared by q, k and v
  std::int64_t batch = 1, queries = 0, keys = 0, width = 0, value_width = 0;  // B H, L, S, E, Ev
  Shape scores() const {
    Shape shape = leading;
    shape.push_back(queries);
    shape.push_back(keys);
    return shape;
  }
};

// Query rows per block: a block's (rows x S) scores stay in cache while they are used twice.
constexpr std::int64_t kBlockRows = 64;

// ---- the additive mask M ----------------------------------------------------------------------------

// attn_mask as the bias added to the scores (0 where allowed, -inf where not, for a bool mask), in
// the query's dtype; for is_causal, the (L, S) upper triangle of -inf; undefined without either.
Tensor additive_bias(const Tensor& attn_mask, bool is_causal, const AttentionDims& dims, Dtype dtype) {
  if (is_causal)
    return triu(full({dims.queries, dims.keys}, -std::numeric_limits<double>::infinity(), dtype), 1);
  if (!attn_mask.defined() || attn_mask.dtype() != kBool) return attn_mask;
  return visit_floating(dtype, kOp, [&](auto tag) {
    using T = decltype(tag);
    const Array<bool>& allowed = array<bool>(attn_mask);
    Array<T> bias = Array<T>::from_shape(to_xshape(attn_mask.shape()));
    for (std::size_t i = 0; i < bias.size(); ++i)
      bias.data()[i] = allowed.data()[i] ? T(0) : -std::numeric_limits<T>::infinity();
    return make_tensor(std::move(bias));
  });
}

// Where the bias of query row i of attention b starts in the bias's dense elements, and how far apart
// its columns are: strides of the broadcast (..., L, S) view, 0 along dims the bias lacks or has as 1.
struct BiasLayout {
  std::vector<std::int64_t> batch_offset;  // per attention b
  std::int64_t row_stride = 0, col_stride = 0;
};

BiasLayout bias_layout(const Shape& bias_shape, const AttentionDims& dims) {
  const Shape full = dims.scores();
  const std::size_t rank = full.size(), missing = rank - bias_shape.size();
  std::vector<std::int64_t> stride(rank, 0);
  std::int64_t step = 1;
  for (std::size_t d = rank; d-- > missing;) {
    const std::int64_t size = bias_shape[d - missing];
    stride[d] = size == 1 ? 0 : step;
    step *= size;
  }
  BiasLayout layout;
  layout.row_stride = stride[rank - 2];
  layout.col_stride = stride[rank - 1];
  layout.batch_offset.assign(static_cast<std::size_t>(dims.batch), 0);
  for (std::int64_t b = 0; b < dims.batch; ++b) {
    std::int64_t rest = b, offset = 0;
    for (std::size_t d = rank - 2; d-- > 0;) {
      offset += (rest % full[d]) * stride[d];
      rest /= full[d];
    }
    layout.batch_offset[static_cast<std::size_t>(b)] = offset;
  }
  return layout;
}

// ---- dropout on the attention weights -------------------------------------------------------------------

// Which weights dropout keeps: kernels/dropout_keep.hpp's rule, one seed drawn from manual_seed's
// generator and each weight's position (b, i, j) in the (B H, L, S) weights, so the fused backward
// and the formula make exactly the forward's decisions again without a stored (L, S) mask. A kept
// weight is scaled by 1 / keep, as dropout does.
struct DropoutMask {
  bool active = false;
  dropout_keep::Rule rule;
  double scale = 1;

  static DropoutMask draw(double p) {
    DropoutMask mask;
    if (p <= 0) return mask;
    mask.active = true;
    mask.rule = dropout_keep::Rule::draw(1.0 - p);
    mask.scale = 1.0 / (1.0 - p);
    return mask;
  }
  // The multiplier of weight `index` (its row-major position in the (B H, L, S) weights): 0 or scale.
  template <class T>
  T multiplier(std::uint64_t index) const {
    return dropout_keep::keeps(rule, index) ? static_cast<T>(scale) : T(0);
  }
};

// The multipliers of a whole (..., L, S) weight tensor, for the formula.
Tensor dropout_multipliers(const DropoutMask& mask, const AttentionDims& dims, Dtype dtype) {
  return visit_floating(dtype, kOp, [&](auto tag) {
    using T = decltype(tag);
    Array<T> out = Array<T>::from_shape(to_xshape(dims.scores()));
    dropout_keep::fill(mask.rule, 0, out.size(), static_cast<T>(mask.scale), out.data());
    return make_tensor(std::move(out));
  });
}

// ---- the fused kernels (fused_backward) ----------------------------------------------------------------

// Row helpers: float32 rows go to the SIMD kernels softmax uses, float64 rows to plain loops. A NaN
// shift (a row whose keys are all masked) gives NaN everywhere, as the plain loops would.
float row_max(const float* row, std::int64_t n) { return simd_rows::max_of(row, static_cast<std::size_t>(n)); }
double row_max(const double* row, std::int64_t n) {
  double max = -std::numeric_limits<double>::infinity();
  for (std::int64_t j = 0; j < n; ++j) max = std::max(max, row[j]);
  return max;
}

// row_j = e^(row_j - shift), in place, returning the sum.
double exp_in_place(float* row, std::int64_t n, float shift) {
  return simd_rows::store_exp_sum(row, static_cast<std::size_t>(n), shift, row);
}
double exp_in_place(double* row, std::int64_t n, double shift) {
  double total = 0;
  for (std::int64_t j = 0; j < n; ++j) total += row[j] = std::exp(row[j] - shift);
  return total;
}

// One call's fused forward and backward on dense row-major arrays.
template <class T>
struct Kernel {
  const AttentionDims& dims;
  T scale;
  bool causal;
  const T* bias;  // null without a mask
  const BiasLayout* bias_layout;
  const DropoutMask* weight_dropout;

  // Multiplies the first `cols` weights of query row i of attention b by their dropout multipliers.
  void drop(std::int64_t b, std::int64_t i, std::int64_t cols, T* row) const {
    const auto first = static_cast<std::uint64_t>((b * dims.queries + i) * dims.keys);
    for (std::int64_t j = 0; j < cols; ++j) row[j] *= weight_dropout->multiplier<T>(first + static_cast<std::uint64_t>(j));
  }

  // How many keys the rows [first, last) can see: all S, or with is_causal those up to the last row.
  std::int64_t visible_keys(std::int64_t last) const { return causal ? std::min(dims.keys, last) : dims.keys; }

  // scores(rows x cols) = scale q_rows k^T + M for rows [first, last) of attention b, -inf where
  // is_causal forbids.
  void scores(std::int64_t b, std::int64_t first, std::int64_t last, std::int64_t cols, const T* q, const T* k,
              T* out) const {
    const std::int64_t rows = last - first, e = dims.width;
    gemm(false, true, rows, cols, e, scale, q + first * e, e, k, e, T(0), out, cols);
    for (std::int64_t r = 0; r < rows; ++r) {
      T* row = out + r * cols;
      const std::int64_t i = first + r;
      if (bias) {
        const T* m = bias + bias_layout->batch_offset[static_cast<std::size_t>(b)] + i * bias_layout->row_stride;
        for (std::int64_t j = 0; j < cols; ++j) row[j] += m[j * bias_layout->col_stride];
      }
      if (causal)
        for (std::int64_t j = i + 1; j < cols; ++j) row[j] = -std::numeric_limits<T>::infinity();
    }
  }

  // One attention's forward: out = softmax(scores) v, block by block, and each row's logsumexp.
  void forward(std::int64_t b, const T* q, const T* k, const T* v, T* out, T* lse, std::vector<T>& block) const {
    const std::int64_t ev = dims.value_width;
    for (std::int64_t first = 0; first < dims.queries; first += kBlockRows) {
      const std::int64_t last = std::min(dims.queries, first + kBlockRows), cols = visible_keys(last);
      block.resize(static_cast<std::size_t>((last - first) * cols));
      scores(b, first, last, cols, q, k, block.data());
      for (std::int64_t r = 0; r < last - first; ++r) {
        T* row = block.data() + r * cols;
        const T max = row_max(row, cols);
        // All keys masked: max -inf, and e^(-inf + inf) is NaN for every weight, as in PyTorch.
        const T shift = max == -std::numeric_limits<T>::infinity() ? std::numeric_limits<T>::quiet_NaN() : max;
        const double total = exp_in_place(row, cols, shift);
        const T inverse = static_cast<T>(1.0 / total);
        for (std::int64_t j = 0; j < cols; ++j) row[j] *= inverse;
        lse[first + r] = shift + static_cast<T>(std::log(total));
        if (weight_dropout->active) drop(b, first + r, cols, row);
      }
      gemm(false, false, last - first, ev, cols, T(1), block.data(), cols, v, ev, T(0), out + first * ev, ev);
    }
  }

  // One attention's backward, with P recomputed per block as exp(scores - logsumexp) and D the
  // dropout multipliers (all 1 without dropout):
  // dP = (g v^T) D, dZ = P (dP - rowsum(dP P)), dq = s dZ k, dk += s dZ^T q, dv += (P D)^T g.
  // (rowsum(dP P) equals rowsum(g out) without dropout, FlashAttention's cheaper form, but only to
  // rounding: a query that sees a single key must get dq exactly 0, as PyTorch's softmax gives.)
  void backward(std::int64_t b, const T* q, const T* k, const T* v, const T* lse, const T* g, T* dq,
                T* dk, T* dv, std::vector<T>& p, std::vector<T>& dp) const {
    const std::int64_t e = dims.width, ev = dims.value_width;
    for (std::int64_t first = 0; first < dims.queries; first += kBlockRows) {
      const std::int64_t last = std::min(dims.queries, first + kBlockRows), cols = visible_keys(last);
      const std::int64_t rows = last - first;
      p.resize(static_cast<std::size_t>(rows * cols));
      dp.resize(p.size());
      scores(b, first, last, cols, q, k, p.data());
      for (std::int64_t r = 0; r < rows; ++r) exp_in_place(p.data() + r * cols, cols, lse[first + r]);
      const T* g_rows = g + first * ev;
      gemm(false, true, rows, cols, ev, T(1), g_rows, ev, v, ev, T(0), dp.data(), cols);
      for (std::int64_t r = 0; r < rows; ++r) {
        T* dp_row = dp.data() + r * cols;
        const T* p_row = p.data() + r * cols;
        if (weight_dropout->active) drop(b, first + r, cols, dp_row);
        T sum_dp_p = 0;
        for (std::int64_t j = 0; j < cols; ++j) sum_dp_p += dp_row[j] * p_row[j];
        for (std::int64_t j = 0; j < cols; ++j) dp_row[j] = p_row[j] * (dp_row[j] - sum_dp_p);
      }
      if (dq) gemm(false, false, rows, e, cols, scale, dp.data(), cols, k, e, T(0), dq + first * e, e);
      if (dk) gemm(true, false, cols, e, rows, scale, dp.data(), cols, q + first * e, e, T(1), dk, e);
      if (!dv) continue;
      if (weight_dropout->active)
        for (std::int64_t r = 0; r < rows; ++r) drop(b, first + r, cols, p.data() + r * cols);
      gemm(true, false, cols, ev, rows, T(1), p.data(), cols, g_rows, ev, T(1), dv, ev);
    }
  }
};

// ---- the formula in xgrad's ops (the definition of the derivative: backward) ----------------------------

// Multiply-adds of attention a thread must get before a second one joins (some tens of
// microseconds, well above a pool worker's wake-up).
constexpr double kMinAttentionWorkPerThread = 1.0e6;

// body(first, last) over blocks of the (batch, head) slices on xgrad's threads
// (kernels/thread_pool.hpp). Each slice reads and writes only its own rows (its dropout mask is
// counted from its own position), so the results do not depend on the split.
template <class Body>
void for_attention_blocks(const AttentionDims& dims, const Body& body) {
  const double work = static_cast<double>(dims.batch) * static_cast<double>(dims.queries) *
                      static_cast<double>(dims.keys) * static_cast<double>(dims.width + dims.value_width);
  thread_pool::for_item_blocks(dims.batch, work, kMinAttentionWorkPerThread, body);
}

Tensor key_transposed(const Tensor& key) { return transpose(key, -2, -1); }

// P = softmax(s q k^T + M) from recorded ops.
Tensor attention_weights(const Tensor& q, const Tensor& k, const Tensor& bias, double scale) {
  Tensor scores = matmul(q, key_transposed(k)) * scale;
  if (bias.defined()) scores = scores + bias;
  return softmax(scores, -1);
}

// dv = (P D)^T g, dZ = P (dP - rowsum(dP P)) with dP = (g v^T) D, dq = s dZ k, dk = s dZ^T q, where
// D holds the dropout multipliers (undefined without dropout: all 1)
gradient_list attention_gradients(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v,
                                      const Tensor& bias, const Tensor& dropped, double scale, const Node& node) {
  const Tensor p = attention_weights(q, k, bias, scale);
  const Tensor gv = matmul(g, key_transposed(v));
  const Tensor dp = dropped.defined() ? gv * dropped : gv;
  const Tensor dz = p * (dp - sum(dp * p, -1, /*keepdim=*/true));
  gradient_list grads(3);
  if (node.needs_input_grad(0)) grads[0] = sum_to_shape_of(matmul(dz, k) * scale, q);
  if (node.needs_input_grad(1)) grads[1] = sum_to_shape_of(matmul(key_transposed(dz), q) * scale, k);
  if (node.needs_input_grad(2))
    grads[2] = sum_to_shape_of(matmul(key_transposed(dropped.defined() ? p * dropped : p), g), v);
  return grads;
}

// dv = (P D)^T g, dq = s dZ k, dk = s dZ^T q with dZ = P (dP - rowsum(dP P)), dP = (g v^T) D
struct ScaledDotProductAttentionBackward final : Node {
  ScaledDotProductAttentionBackward(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& query_expanded, const Tensor& key_expanded,
                                    const Tensor& value_expanded, Tensor logsumexp, const Tensor& bias,
                                    AttentionDims dims, bool causal, DropoutMask weight_dropout, double scale)
      : query(query, /*is_output=*/false), key(key, /*is_output=*/false), value(value, /*is_output=*/false),
        query_expanded(query_expanded, /*is_output=*/false), key_expanded(key_expanded, /*is_output=*/false),
        value_expanded(value_expanded, /*is_output=*/false), logsumexp(std::move(logsumexp)),
        bias(bias, /*is_output=*/false), dims(std::move(dims)), causal(causal), weight_dropout(weight_dropout),
        scale(scale) {}
  const char* name() const override { return "ScaledDotProductFlashAttentionBackward0"; }
  const char* formula() const override {
    return "d attention/d q = s * dZ @ k, with P = softmax(s * q @ k^T + mask), dZ = P * (g @ v^T - rowsum(g * y)), "
           "s = 1/sqrt(E)\n"
           "d attention/d k = s * dZ^T @ q\n"
           "d attention/d v = P^T @ g";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor q = query.unpack(*this), k = key.unpack(*this), v = value.unpack(*this);
    const Tensor mask = bias.unpack(*this);
    const Tensor dropped =
        weight_dropout.active ? dropout_multipliers(weight_dropout, dims, grad.dtype()) : Tensor();
    return attention_gradients(grad, q, k, v, mask, dropped, scale, *this);
  }
  // The probabilities recomputed row by row from the saved logsumexp, where the recorded formula
  // builds the whole (L, S) weight tensor and several more of its size.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor q = query.unpack(*this), k = key.unpack(*this), v = value.unpack(*this);
    const Tensor mask = bias.unpack(*this);
    return visit_floating(grad.dtype(), "scaled_dot_product_attention backward", [&](auto tag) {
      using T = decltype(tag);
      return fused<T>(grad, q.shape(), k.shape(), v.shape(), mask);
    });
  }
  // The fused kernels, given the inputs' shapes and the unpacked mask.
  template <class T>
  gradient_list fused(const Tensor& grad, const Shape& query_shape, const Shape& key_shape,
                            const Shape& value_shape, const Tensor& mask) {
    const Tensor q_expanded = query_expanded.unpack(*this), k_expanded = key_expanded.unpack(*this);
    const Tensor v_expanded = value_expanded.unpack(*this);
    const BiasLayout layout = mask.defined() && !causal ? bias_layout(mask.shape(), dims) : BiasLayout{};
    const Kernel<T> kernel{dims, static_cast<T>(scale), causal,
                           mask.defined() && !causal ? array<T>(mask).data() : nullptr, &layout, &weight_dropout};
    const T *q = array<T>(q_expanded).data(), *k = array<T>(k_expanded).data();
    const T *v = array<T>(v_expanded).data(), *lse = array<T>(logsumexp).data(), *g = array<T>(grad).data();
    Array<T> dq, dk, dv;
    const auto zeros_of = [](const Tensor& like) {  // dk and dv accumulate; with no keys nothing is written
      Array<T> z = Array<T>::from_shape(to_xshape(like.shape()));
      z.fill(T(0));
      return z;
    };
    if (needs_input_grad(0)) dq = zeros_of(q_expanded);
    if (needs_input_grad(1)) dk = zeros_of(k_expanded);
    if (needs_input_grad(2)) dv = zeros_of(v_expanded);
    const std::int64_t l = dims.queries, s = dims.keys, e = dims.width, ev = dims.value_width;
    if (s > 0)
      for_attention_blocks(dims, [&](std::int64_t first, std::int64_t last) {
        std::vector<T> p, dp;
        for (std::int64_t b = first; b < last; ++b)
          kernel.backward(b, q + b * l * e, k + b * s * e, v + b * s * ev, lse + b * l, g + b * l * ev,
                          needs_input_grad(0) ? dq.data() + b * l * e : nullptr,
                          needs_input_grad(1) ? dk.data() + b * s * e : nullptr,
                          needs_input_grad(2) ? dv.data() + b * s * ev : nullptr, p, dp);
      });
    // A broadcast input gets the sum of its copies' gradients.
    gradient_list grads(3);
    if (needs_input_grad(0)) grads[0] = sum_to(make_tensor(std::move(dq)), query_shape);
    if (needs_input_grad(1)) grads[1] = sum_to(make_tensor(std::move(dk)), key_shape);
    if (needs_input_grad(2)) grads[2] = sum_to(make_tensor(std::move(dv)), value_shape);
    return grads;
  }
  void release_saved() override {
    query.reset();
    key.reset();
    value.reset();
    query_expanded.reset();
    key_expanded.reset();
    value_expanded.reset();
    logsumexp = Tensor();
    bias.reset();
  }
  SavedTensor query, key, value;  // with their graphs: under create_graph the formula differentiates through them
  SavedTensor query_expanded, key_expanded, value_expanded;  // the same as (B H, ...) views, for the kernels
  Tensor logsumexp;          // (B H, L): log sum_j exp(score_ij), what P is rebuilt from (the op's own)
  SavedTensor bias;          // the additive mask M (attn_mask itself, or made from it), or undefined
  AttentionDims dims;
  bool causal;
  DropoutMask weight_dropout;  // the forward's seed, so the backward drops the same weights
  double scale;
};

// ---- argument checks -------------------------------------------------------------------------------

AttentionDims check_attention_arguments(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                                        double dropout_p, bool is_causal) {
  for (const Tensor* t : {&q, &k, &v}) {
    check(t->defined(), kOp, ": query, key and value must be defined tensors");
    if (!is_floating(t->dtype()))
      throw Error(concat(kOp, ": expected floating point query, key and value (float32 or float64), got ",
                         dtype_name(q.dtype()), ", ", dtype_name(k.dtype()), " and ", dtype_name(v.dtype())));
  }
  if (k.dtype() != q.dtype() || v.dtype() != q.dtype())
    throw Error(concat(kOp, ": Expected query, key, and value to have the same dtype, but got query.dtype: ",
                       dtype_name(q.dtype()), ", key.dtype: ", dtype_name(k.dtype()), " and value.dtype: ",
                       dtype_name(v.dtype())));
  const auto shapes = [&] {
    return concat(" (query ", shape_str(q.shape()), ", key ", shape_str(k.shape()), ", value ", shape_str(v.shape()),
                  ")");
  };
  if (q.dim() < 2 || k.dim() < 2 || v.dim() < 2)
    throw Error(concat(kOp, ": expected query (..., L, E), key (..., S, E) and value (..., S, Ev), each with at ",
                       "least 2 dims", shapes()));
  AttentionDims dims;
  for (const Tensor* t : {&q, &k, &v}) {
    const Shape shape = t->shape();
    const Shape leading(shape.begin(), shape.end() - 2);
    // NumPy's rule, aligned from the right, as matmul broadcasts its batch dims.
    const std::size_t rank = std::max(leading.size(), dims.leading.size());
    Shape both(rank, 1);
    for (std::size_t from_end = 0; from_end < rank; ++from_end) {
      const std::int64_t a = from_end < leading.size() ? leading[leading.size() - 1 - from_end] : 1;
      const std::int64_t b = from_end < dims.leading.size() ? dims.leading[dims.leading.size() - 1 - from_end] : 1;
      if (a != b && a != 1 && b != 1)
        throw Error(concat(kOp, ": the leading (batch, head) dims of query, key and value do not broadcast",
                           shapes()));
      both[rank - 1 - from_end] = a == 1 ? b : a;
    }
    dims.leading = both;
  }
  dims.queries = q.size(-2);
  dims.keys = k.size(-2);
  dims.width = q.size(-1);
  dims.value_width = v.size(-1);
  for (std::int64_t size : dims.leading) dims.batch *= size;
  if (k.size(-1) != dims.width)
    throw Error(concat(kOp, ": the query's and the key's last dims (E) differ", shapes()));
  if (v.size(-2) != dims.keys)
    throw Error(concat(kOp, ": the key's and the value's sequence dims (S) differ", shapes()));
  if (!(dropout_p >= 0.0 && dropout_p <= 1.0))
    throw Error(concat(kOp, ": dropout probability has to be between 0 and 1, but got ", dropout_p));
  if (!attn_mask.defined()) return dims;
  if (is_causal)
    throw Error(concat(kOp, ": Explicit attn_mask should not be set when is_causal=True"));
  if (attn_mask.dtype() != kBool && attn_mask.dtype() != q.dtype())
    throw Error(concat(kOp, ": Expected attn_mask dtype to be bool or to match query dtype, but got attn_mask.dtype: ",
                       dtype_name(attn_mask.dtype()), " and query.dtype: ", dtype_name(q.dtype())));
  const Shape full = dims.scores();
  bool broadcasts = attn_mask.dim() <= static_cast<std::int64_t>(full.size());
  for (std::int64_t d = 1; broadcasts && d <= attn_mask.dim(); ++d) {
    const std::int64_t size = attn_mask.size(-d);
    broadcasts = size == 1 || size == full[full.size() - static_cast<std::size_t>(d)];
  }
  if (!broadcasts)
    throw Error(concat(kOp, ": attn_mask of shape ", shape_str(attn_mask.shape()),
                       " does not broadcast to the scores' shape (..., L, S) = ", shape_str(full)));
  return dims;
}

// t (..., n, m) as a view of shape (leading..., n, m), or t itself when it has that shape.
Tensor expand_leading(const Tensor& t, const AttentionDims& dims) {
  Shape shape = dims.leading;
  shape.push_back(t.size(-2));
  shape.push_back(t.size(-1));
  return t.shape() == shape ? t : t.expand(shape);
}

// softmax(s q k^T + M), dropout, times v: the formula recorded op by op.
Tensor composite_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, double dropout_p,
                           double scale) {
  Tensor p = attention_weights(q, k, bias, scale);
  if (dropout_p > 0) p = dropout(p, dropout_p, /*train=*/true);
  return matmul(p, v);
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal) {
  const AttentionDims dims = check_attention_arguments(query, key, value, attn_mask, dropout_p, is_causal);
  const double scale = 1.0 / std::sqrt(static_cast<double>(dims.width));
  const Tensor bias = additive_bias(attn_mask, is_causal, dims, query.dtype());
  // Differentiating the mask, and dropping every weight, are left to the formula in xgrad's ops.
  if ((bias.defined() && bias.requires_grad()) || dropout_p == 1.0)
    return composite_attention(query, key, value, bias, dropout_p, scale);
  const DropoutMask weight_dropout = DropoutMask::draw(dropout_p);
  // Inputs whose leading dims broadcast are read as their expanded (B H, ...) views.
  const Tensor q = expand_leading(query, dims), k = expand_leading(key, dims), v = expand_leading(value, dims);
  const bool recording = any_requires_grad({&query, &key, &value});
  Tensor logsumexp;
  Tensor out = visit_floating(query.dtype(), kOp, [&](auto tag) {
    using T = decltype(tag);
    Shape out_shape = dims.leading;
    out_shape.push_back(dims.queries);
    out_shape.push_back(dims.value_width);
    Array<T> y = Array<T>::from_shape(to_xshape(out_shape));
    y.fill(T(0));
    Array<T> lse = Array<T>::from_shape({static_cast<std::size_t>(dims.batch), static_cast<std::size_t>(dims.queries)});
    if (dims.keys > 0) {  // no keys: an empty softmax times nothing, zeros
      const BiasLayout layout = bias.defined() && !is_causal ? bias_layout(bias.shape(), dims) : BiasLayout{};
      const Kernel<T> kernel{dims, static_cast<T>(scale), is_causal,
                             bias.defined() && !is_causal ? array<T>(bias).data() : nullptr, &layout, &weight_dropout};
      const T *qs = array<T>(q).data(), *ks = array<T>(k).data(), *vs = array<T>(v).data();
      const std::int64_t l = dims.queries, s = dims.keys, e = dims.width, ev = dims.value_width;
      for_attention_blocks(dims, [&](std::int64_t first, std::int64_t last) {
        std::vector<T> block;
        for (std::int64_t b = first; b < last; ++b)
          kernel.forward(b, qs + b * l * e, ks + b * s * e, vs + b * s * ev, y.data() + b * l * ev,
                         lse.data() + b * l, block);
      });
    } else {
      std::fill(lse.begin(), lse.end(), -std::numeric_limits<T>::infinity());
    }
    if (recording) logsumexp = make_tensor(std::move(lse));
    return make_tensor(std::move(y));
  });
  if (recording)
    record(out,
           make_node<ScaledDotProductAttentionBackward>(query, key, value, q, k, v, logsumexp, bias, dims,
                                                               is_causal, weight_dropout, scale),
           {&query, &key, &value});
  return out;
}

}  // namespace xgrad
