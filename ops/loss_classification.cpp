#include <xgrad/ops/loss_classification.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/loss_impl.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/shape.hpp>
#include <xgrad/kernels/simd_rows.hpp>
#include <xgrad/ops/softmax.hpp>

namespace xgrad {

using loss_detail::UpstreamScale;
using simd_rows::for_row_blocks;

namespace {

// ---- Layout ----------------------------------------------------------------------------------
// The input (C), (N, C) or (N, C, d1, ..., dk) seen as [batch, classes, inner]: each of the
// batch * inner positions has one row of `classes` scores, `inner` apart in memory, and the target
// entry at the same flat index as the position.
struct ClassLayout {
  std::size_t batch = 1, classes = 0, inner = 1;
  std::size_t positions() const { return batch * inner; }
  std::size_t row_offset(std::size_t position) const {
    return position / inner * classes * inner + position % inner;
  }
};

ClassLayout class_layout(const char* op, const InlineShape& shape) {
  check(!shape.empty(), op, ": input must be (C), (N, C) or (N, C, d1, ..., dk), got a 0-dim tensor");
  ClassLayout layout;
  if (shape.size() == 1) {
    layout.classes = shape[0];
    return layout;
  }
  layout.batch = shape[0];
  layout.classes = shape[1];
  for (std::size_t d = 2; d < shape.size(); ++d) layout.inner *= shape[d];
  return layout;
}

// ---- Row kernels -------------------------------------------------------------------------------
// One row of class scores: `size` values `stride` apart; rows written by the functions below use
// the same stride. Contiguous float32 rows (the (N, C) case, where a big cross_entropy spends its
// time) go to the SIMD kernels of kernels/simd_rows.hpp; everything else (float64, strided
// rows) takes the plain loops, which are the reference for what those kernels do.
template <class T>
struct Row {
  const T* values;
  std::size_t size, stride;
  T operator[](std::size_t c) const { return values[c * stride]; }
  bool contiguous() const { return stride == 1; }
};

template <class T>
T row_max(const Row<T>& row) {
  if constexpr (std::is_same_v<T, float>)
    if (row.contiguous()) return simd_rows::max_of(row.values, row.size);
  T best = -std::numeric_limits<T>::infinity();
  for (std::size_t c = 0; c < row.size; ++c) best = std::max(best, row[c]);
  return best;
}

// log sum_c e^(x_c), computed as max + log sum_c e^(x_c - max) so that no exp overflows, whatever
// the logits' magnitude.
template <class T>
T row_log_sum_exp(const Row<T>& row) {
  const T max = row_max(row);
  if constexpr (std::is_same_v<T, float>)
    if (row.contiguous()) return max + std::log(simd_rows::exp_sum(row.values, row.size, max));
  T sum = 0;
  for (std::size_t c = 0; c < row.size; ++c) sum += std::exp(row[c] - max);
  return max + std::log(sum);
}

// out_c = factor * softmax_c = factor * e^(x_c - log_sum_exp), written `stride` apart like the row.
template <class T>
void write_scaled_softmax(const Row<T>& row, T log_sum_exp, T factor, T* out) {
  if constexpr (std::is_same_v<T, float>)
    if (row.contiguous()) return simd_rows::store_scaled_exp(row.values, row.size, log_sum_exp, factor, out);
  for (std::size_t c = 0; c < row.size; ++c) out[c * row.stride] = factor * std::exp(row[c] - log_sum_exp);
}

// sum_c w_c (x_c - shift); w == nullptr means all ones. With shift = log-sum-exp this is
// sum_c w_c logp_c, the label-smoothing term.
template <class T>
T weighted_shifted_sum(const Row<T>& row, const T* w, T shift) {
  if constexpr (std::is_same_v<T, float>)
    if (row.contiguous()) return simd_rows::shifted_dot(row.values, w, row.size, shift);
  T sum = 0;
  for (std::size_t c = 0; c < row.size; ++c) sum += (w ? w[c] : T(1)) * (row[c] - shift);
  return sum;
}

// ---- Narrow rows -------------------------------------------------------------------------------
// Contiguous float32 rows of fewer classes than the SIMD kernels' eight lanes (a toy classifier's
// three) would never reach their vector loops: the exponentials of the whole (N, C) block are
// taken eight at a time instead, with the same kernel.

bool narrow_float_rows(const ClassLayout& layout) {
  return layout.inner == 1 && layout.classes > 0 && layout.classes < 8;
}

// lse[r] = log sum_c e^(x[r, c]) for every row, through a stack buffer of whole rows.
void narrow_rows_log_sum_exp(const float* x, std::size_t rows, std::size_t classes, float* lse) {
  constexpr std::size_t kBufferSize = 256;
  float shifted[kBufferSize], max[kBufferSize];
  const std::size_t rows_per_chunk = kBufferSize / classes;
  for (std::size_t first = 0; first < rows; first += rows_per_chunk) {
    const std::size_t count = std::min(rows_per_chunk, rows - first);
    const float* chunk = x + first * classes;
    for (std::size_t r = 0; r < count; ++r) {
      max[r] = simd_rows::max_of(chunk + r * classes, classes);
      for (std::size_t c = 0; c < classes; ++c) shifted[r * classes + c] = chunk[r * classes + c] - max[r];
    }
    simd_rows::store_scaled_exp(shifted, count * classes, 0.0f, 1.0f, shifted);
    for (std::size_t r = 0; r < count; ++r) {
      float sum = 0;
      for (std::size_t c = 0; c < classes; ++c) sum += shifted[r * classes + c];
      lse[first + r] = max[r] + std::log(sum);
    }
  }
}

// out[r, c] = e^(x[r, c] - lse[r]), the softmax, for every row.
void narrow_rows_softmax(const float* x, std::size_t rows, std::size_t classes, const float* lse, float* out) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < classes; ++c) out[r * classes + c] = x[r * classes + c] - lse[r];
  simd_rows::store_scaled_exp(out, rows * classes, 0.0f, 1.0f, out);
}

// row *= factor, with products below the smallest normal float written as 0 as store_scaled_exp does
void scale_row(float* row, std::size_t size, float factor) {
  const float smallest_kept = std::numeric_limits<float>::min() / std::abs(factor);
  for (std::size_t c = 0; c < size; ++c) row[c] = row[c] < smallest_kept ? 0.0f : factor * row[c];
}

template <class T>
void fill_row(T* out, std::size_t size, std::size_t stride, T value) {
  for (std::size_t c = 0; c < size; ++c) out[c * stride] = value;
}

// ---- Argument checks ---------------------------------------------------------------------------
// Messages are built only on failure: these run on every call, and small models are overhead-bound.

// The shape a class-index target must have: the input's without its class dimension.
InlineShape without_class_dim(const InlineShape& input_shape) {
  InlineShape shape = input_shape;
  shape.erase(shape.size() == 1 ? 0 : 1);
  return shape;
}

void check_index_target_shape(const char* op, const InlineShape& input_shape, const Tensor& target) {
  if (target.dtype() != kInt64)
    throw Error(concat(op, ": target must hold int64 class indices, got ", dtype_name(target.dtype()), " of shape ",
                       shape_str(target.shape())));
  const InlineShape target_shape = shape_of(target);
  if (input_shape.size() >= 2 && !target_shape.empty() && target_shape[0] != input_shape[0])
    throw Error(concat(op, ": input batch size ", input_shape[0], " does not match target batch size ",
                       target_shape[0], " (input ", shape_str(input_shape.to_shape()), ", target ",
                       shape_str(target_shape.to_shape()), ")"));
  const InlineShape expected = without_class_dim(input_shape);
  if (target_shape != expected)
    throw Error(concat(op, ": target shape ", shape_str(target_shape.to_shape()), " does not match input ",
                       shape_str(input_shape.to_shape()), " without its class dimension (expected ",
                       shape_str(expected.to_shape()), ")"));
}

void check_class_values(const char* op, const Tensor& target, std::size_t classes, std::int64_t ignore_index) {
  const std::int64_t* t = target.data<std::int64_t>();
  const auto count = static_cast<std::int64_t>(classes);
  const std::size_t size = target.numel();
  for (std::size_t i = 0; i < size; ++i)
    if (t[i] != ignore_index && (t[i] < 0 || t[i] >= count))
      throw Error(concat(op, ": target value ", t[i], " out of range for ", classes, " classes at index ",
                         loss_detail::index_str(i, target.shape())));
}

void check_class_weight(const char* op, const Tensor& input, const Tensor& weight, std::size_t classes) {
  if (!weight.defined()) return;
  if (weight.dim() != 1 || weight.numel() != static_cast<std::int64_t>(classes))
    throw Error(concat(op, ": weight must have one entry per class (", classes, "), got shape ",
                       shape_str(weight.shape())));
  loss_detail::check_same_dtype(op, "input", input, "weight", weight);
}

// Everything a class-index loss needs checked before it touches a value.
ClassLayout check_index_loss_args(const char* op, const Tensor& input, const Tensor& target, const Tensor& weight,
                                  std::int64_t ignore_index, Reduction reduction) {
  check(input.defined() && target.defined(), op, ": input and target must be defined tensors");
  loss_detail::check_reduction(op, reduction);
  visit_floating(input.dtype(), op, [](auto) {});
  const InlineShape input_shape = shape_of(input);
  const ClassLayout layout = class_layout(op, input_shape);
  check_index_target_shape(op, input_shape, target);
  check_class_weight(op, input, weight, layout.classes);
  check_class_values(op, target, layout.classes, ignore_index);
  return layout;
}

template <class T>
const T* data_or_null(const Tensor& tensor) {
  return tensor.defined() ? tensor.data<T>() : nullptr;
}

// ---- The recorded gradients --------------------------------------------------------------------
// Each Backward below defines its gradient in recorded ops: log_softmax's backward applied to
// d loss / d logp, where d loss / d logp is a constant (class indices) or the recorded (smoothed,
// weighted) target (probabilities), times the upstream; so it can be differentiated again. The
// cross-entropy nodes also have a fused loop, for backward without create_graph.

// The class dimension of an input (C), (N, C) or (N, C, d1, ..., dk).
std::int64_t class_dim(const Shape& input_shape) { return input_shape.size() == 1 ? 0 : 1; }

// The upstream of each position, broadcasting against the input: kNone's per-position upstream
// with a class dimension of size 1, or the 0-dim upstream of a reduced loss.
Tensor upstream_per_position(const Tensor& grad, Reduction reduction, const Shape& input_shape) {
  return reduction == kNone ? unsqueeze(grad, class_dim(input_shape)) : grad;
}

// A graph-free tensor of the input's shape holding value(p, c) at class c of position p.
template <class T, class Value>
Tensor per_class_constant(const Shape& input_shape, const ClassLayout& layout, Value value) {
  Array<T> out = Array<T>::from_shape(input_shape);
  for (std::size_t p = 0; p < layout.positions(); ++p) {
    T* row = out.data() + layout.row_offset(p);
    for (std::size_t c = 0; c < layout.classes; ++c) row[c * layout.inner] = value(p, c);
  }
  return make_tensor(std::move(out));
}

// d loss / d logp of a class-index loss for a unit upstream, with the reduction's divisor folded in:
//   -((1 - e) w[t_p] [c == t_p] + (e / C) w[c]) / divisor,   0 at ignored positions
// (nll_loss is e = 0). With the divisor in a constant, an all-ignored mean's gradient stays 0
// instead of 0 * (upstream / 0) = NaN.
template <class T>
Tensor class_index_logp_gradient(const Shape& input_shape, const ClassLayout& layout, const Tensor& target,
                                 const Tensor& weight, std::int64_t ignore_index, double divisor,
                                 double label_smoothing) {
  const std::int64_t* t = target.data<std::int64_t>();
  const T* w = data_or_null<T>(weight);
  const T keep = T(1) - static_cast<T>(label_smoothing);
  const T spread = static_cast<T>(label_smoothing / static_cast<double>(layout.classes));
  const T scale = static_cast<T>(1.0 / divisor);
  return per_class_constant<T>(input_shape, layout, [&](std::size_t p, std::size_t c) {
    if (t[p] == ignore_index) return T(0);
    const bool is_target = static_cast<std::size_t>(t[p]) == c;
    const T target_term = is_target ? keep * (w ? w[c] : T(1)) : T(0);
    return -(target_term + spread * (w ? w[c] : T(1))) * scale;
  });
}

// The gradient of log_softmax along dim, as recorded ops: g - softmax(x) sum_c g_c.
Tensor log_softmax_gradient(const Tensor& logp_grad, const Tensor& input, std::int64_t dim) {
  return logp_grad - softmax(input, dim) * sum(logp_grad, dim, /*keepdim=*/true);
}

// ---- nll_loss ----------------------------------------------------------------------------------

// d loss_p / d input[p, c] = -w[t_p] where c == t_p (non-ignored positions), else 0
struct NllLossBackward final : Node {
  NllLossBackward(const Tensor& target, const Tensor& weight, Shape input_shape, ClassLayout layout,
                  std::int64_t ignore_index, Reduction reduction, double divisor)
      : target(target, /*is_output=*/false), weight(weight, /*is_output=*/false), input_shape(std::move(input_shape)),
        layout(layout), ignore_index(ignore_index), reduction(reduction), divisor(divisor) {}
  const char* name() const override { return "NllLossBackward0"; }
  const char* formula() const override {
    return "d nll_loss(x, t)/d x = -g * w[t] / N at each row's target, 0 elsewhere (w = 1 without class weights)";
  }

  gradient_list backward(const Tensor& grad) override {
    const Tensor target = this->target.unpack(*this);
    const Tensor weight = this->weight.unpack(*this);
    // A constant times the upstream. The loss is linear in the input, so what the recorded
    // gradient depends on is the upstream alone.
    return {visit_floating(grad.dtype(), "nll_loss backward", [&](auto tag) {
      using T = decltype(tag);
      return class_index_logp_gradient<T>(input_shape, layout, target, weight, ignore_index, divisor, 0.0) *
             upstream_per_position(grad, reduction, input_shape);
    })};
  }
  void release_saved() override {
    target.reset();
    weight.reset();
  }

  SavedTensor target, weight;
  Shape input_shape;
  ClassLayout layout;
  std::int64_t ignore_index;
  Reduction reduction;
  double divisor;
};

}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                std::int64_t ignore_index) {
  const ClassLayout layout = check_index_loss_args("nll_loss", input, target, weight, ignore_index, reduction);
  double divisor = 1.0;
  Tensor out = visit_floating(input.dtype(), "nll_loss", [&](auto tag) {
    using T = decltype(tag);
    const T* x = input.data<T>();
    const T* w = data_or_null<T>(weight);
    const std::int64_t* t = target.data<std::int64_t>();
    Array<T> losses = Array<T>::from_shape(target.shape());
    double total_weight = 0.0;
    for (std::size_t p = 0; p < layout.positions(); ++p) {
      if (t[p] == ignore_index) {
        losses.data()[p] = T(0);
        continue;
      }
      const auto c = static_cast<std::size_t>(t[p]);
      const T class_weight = w ? w[c] : T(1);
      losses.data()[p] = -class_weight * x[layout.row_offset(p) + c * layout.inner];
      total_weight += class_weight;
    }
    // PyTorch's mean: 0 / 0 = NaN when every target is ignored.
    if (reduction == kMean) divisor = total_weight;
    return loss_detail::reduce_losses(std::move(losses), reduction, divisor);
  });
  if (any_requires_grad({&input}))
    record(out,
           make_node<NllLossBackward>(target, weight, input.shape(), layout, ignore_index, reduction, divisor),
           {&input});
  return out;
}

namespace {

// ---- cross_entropy with class-index targets ------------------------------------------------------

// d loss_p / d x[p, c] = s_p [softmax_c ((1 - e) w_t + (e / C) sum_k w_k) - (1 - e) w_t [c == t] - (e / C) w_c],
// with s_p the upstream scale of position p and t its target; zero for ignored positions
struct CrossEntropyBackward final : Node {
  CrossEntropyBackward(const Tensor& input, const Tensor& target, const Tensor& weight, Tensor log_sum_exp,
                       ClassLayout layout, std::int64_t ignore_index, Reduction reduction, double divisor,
                       double label_smoothing)
      : input(input, /*is_output=*/false), target(target, /*is_output=*/false), weight(weight, /*is_output=*/false),
        log_sum_exp(std::move(log_sum_exp)), layout(layout), ignore_index(ignore_index), reduction(reduction),
        divisor(divisor), label_smoothing(label_smoothing) {}
  // With class-index targets and no smoothing PyTorch's last node is nll_loss's; xgrad's fused node
  // computes the whole loss and keeps that name.
  const char* name() const override { return label_smoothing == 0 ? "NllLossBackward0" : "CrossEntropyLossBackward0"; }
  // Without class weights; with them each row's term is scaled by its target's weight.
  const char* formula() const override {
    return label_smoothing == 0
               ? "d cross_entropy(z, t)/d z = (softmax(z) - one_hot(t)) * g / N"
               : "d cross_entropy(z, t)/d z = (softmax(z) - ((1 - e) one_hot(t) + e / C)) * g / N, e = label_smoothing";
  }
  // The name alone reads as NLL on raw logits; the node also applies log_softmax.
  const char* fused_description() const override {
    return label_smoothing == 0 ? "log_softmax + nll_loss (fused)" : "log_softmax + nll_loss + label smoothing (fused)";
  }

  // log_softmax's backward of the nll (and smoothing) gradient with respect to the log-probabilities.
  gradient_list backward(const Tensor& grad) override {
    const Tensor input = this->input.unpack(*this);
    const Tensor target = this->target.unpack(*this);
    const Tensor weight = this->weight.unpack(*this);
    return {gradient(grad, input, target, weight)};
  }
  // One pass per row: the softmax comes back from the saved log-sum-exp as e^(x - lse), already
  // scaled, and the (smoothed, weighted) one-hot is subtracted in place.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor input = this->input.unpack(*this);
    const Tensor target = this->target.unpack(*this);
    const Tensor weight = this->weight.unpack(*this);
    return {visit_floating(grad.dtype(), "cross_entropy backward", [&](auto tag) {
      using T = decltype(tag);
      Array<T> grad_input = Array<T>::from_shape(array<T>(input).shape());
      const UpstreamScale<T> upstream(grad, reduction, divisor);
      const T* x = input.data<T>();
      const T* lse = log_sum_exp.data<T>();
      const std::int64_t* t = target.data<std::int64_t>();
      const T* w = data_or_null<T>(weight);
      const std::size_t classes = layout.classes, inner = layout.inner;
      const T keep = T(1) - static_cast<T>(label_smoothing);
      const T spread = static_cast<T>(label_smoothing / static_cast<double>(classes));
      const T weight_total = w ? std::accumulate(w, w + classes, T(0)) : static_cast<T>(classes);
      T* grad_data = grad_input.data();
      bool softmax_written = false;  // grad_data already holds the softmax (narrow float32 rows)
      if constexpr (std::is_same_v<T, float>)
        if (narrow_float_rows(layout)) {
          narrow_rows_softmax(x, layout.positions(), classes, lse, grad_data);
          softmax_written = true;
        }
      for_row_blocks(layout.positions(), grad_input.size(), [&](std::size_t first, std::size_t last) {
        for (std::size_t p = first; p < last; ++p) {
          const std::size_t offset = layout.row_offset(p);
          T* out = grad_data + offset;
          if (t[p] == ignore_index) {
            fill_row(out, classes, inner, T(0));
            continue;
          }
          const auto target_class = static_cast<std::size_t>(t[p]);
          const T scale = upstream[p];
          const T target_weight = w ? w[target_class] : T(1);
          const T factor = scale * (keep * target_weight + spread * weight_total);
          if constexpr (std::is_same_v<T, float>)
            if (softmax_written) scale_row(out, classes, factor);
          if (!softmax_written) write_scaled_softmax(Row<T>{x + offset, classes, inner}, lse[p], factor, out);
          if (label_smoothing != 0.0)
            for (std::size_t c = 0; c < classes; ++c) out[c * inner] -= scale * spread * (w ? w[c] : T(1));
          out[target_class * inner] -= scale * keep * target_weight;
        }
      });
      return make_tensor(std::move(grad_input));
    })};
  }
  Tensor gradient(const Tensor& grad, const Tensor& input, const Tensor& target,
                            const Tensor& weight) const {
    const Shape input_shape = input.shape();
    const Tensor logp_grad = visit_floating(grad.dtype(), "cross_entropy backward", [&](auto tag) {
      using T = decltype(tag);
      return class_index_logp_gradient<T>(input_shape, layout, target, weight, ignore_index, divisor,
                                          label_smoothing) *
             upstream_per_position(grad, reduction, input_shape);
    });
    return log_softmax_gradient(logp_grad, input, class_dim(input_shape));
  }
  void release_saved() override {
    input.reset();
    target.reset();
    weight.reset();
    log_sum_exp = Tensor();
  }

  SavedTensor input;  // the input with its graph, so the recorded gradient differentiates through it
  SavedTensor target, weight;
  Tensor log_sum_exp;
  ClassLayout layout;
  std::int64_t ignore_index;
  Reduction reduction;
  double divisor;
  double label_smoothing;
};

// One pass over each row: its log-sum-exp (saved for backward), the NLL of the target and, with
// label smoothing, the weighted sum of the row's log-probabilities. Nothing of input size is
// written: backward recomputes the softmax from the saved log-sum-exp, which costs less than
// storing it and reading it back.
Tensor cross_entropy_class_indices(const Tensor& input, const Tensor& target, const Tensor& weight,
                                   std::int64_t ignore_index, Reduction reduction, double label_smoothing) {
  const ClassLayout layout =
      check_index_loss_args("cross_entropy", input, target, weight, ignore_index, reduction);
  double divisor = 1.0;
  Tensor log_sum_exp;
  Tensor out = visit_floating(input.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    const T* x = input.data<T>();
    const T* w = data_or_null<T>(weight);
    const std::int64_t* t = target.data<std::int64_t>();
    const T keep = T(1) - static_cast<T>(label_smoothing);
    const T spread = static_cast<T>(label_smoothing / static_cast<double>(layout.classes));
    Array<T> losses = Array<T>::from_shape(shape_of(target));
    Array<T> lse = Array<T>::from_shape({layout.positions()});
    T *loss_data = losses.data(), *lse_data = lse.data();
    bool lse_written = false;  // lse_data already holds every row's log-sum-exp (narrow float32 rows)
    if constexpr (std::is_same_v<T, float>)
      if (narrow_float_rows(layout)) {
        narrow_rows_log_sum_exp(x, layout.positions(), layout.classes, lse_data);
        lse_written = true;
      }
    for_row_blocks(layout.positions(), input.numel(), [&](std::size_t first, std::size_t last) {
      for (std::size_t p = first; p < last; ++p) {
        if (t[p] == ignore_index) {
          loss_data[p] = lse_data[p] = T(0);
          continue;
        }
        const auto target_class = static_cast<std::size_t>(t[p]);
        const Row<T> row{x + layout.row_offset(p), layout.classes, layout.inner};
        const T row_lse = lse_written ? lse_data[p] : row_log_sum_exp(row);
        const T target_weight = w ? w[target_class] : T(1);
        T loss = keep * target_weight * (row_lse - row[target_class]);
        if (label_smoothing != 0.0) loss -= spread * weighted_shifted_sum(row, w, row_lse);
        loss_data[p] = loss;
        lse_data[p] = row_lse;
      }
    });
    double total_weight = 0.0;
    for (std::size_t p = 0; p < layout.positions(); ++p)
      if (t[p] != ignore_index) total_weight += w ? w[t[p]] : T(1);
    // The same divisor for the NLL and the smoothing term, as PyTorch; 0 / 0 = NaN when all are ignored.
    if (reduction == kMean) divisor = total_weight;
    log_sum_exp = make_tensor(std::move(lse));
    return loss_detail::reduce_losses(std::move(losses), reduction, divisor);
  });
  if (any_requires_grad({&input}))
    record(out,
           make_node<CrossEntropyBackward>(input, target, weight, log_sum_exp, layout, ignore_index, reduction,
                                                  divisor, label_smoothing),
           {&input});
  return out;
}

// ---- cross_entropy with class-probability targets ----------------------------------------------

// With y~ = (1 - e) y + e / C and s_p the upstream scale of position p:
// d loss_p / d x[p, c] = s_p (softmax_c sum_k w_k y~_k - w_c y~_c);  d loss_p / d y[p, c] = -s_p (1 - e) w_c logp_c
struct CrossEntropyProbabilitiesBackward final : Node {
  CrossEntropyProbabilitiesBackward(const Tensor& input, const Tensor& target, const Tensor& weight,
                                    Tensor log_sum_exp, ClassLayout layout, Reduction reduction, double divisor,
                                    double label_smoothing)
      : input(input, /*is_output=*/false), target(target, /*is_output=*/false), weight(weight, /*is_output=*/false),
        log_sum_exp(std::move(log_sum_exp)), layout(layout), reduction(reduction), divisor(divisor),
        label_smoothing(label_smoothing) {}
  const char* name() const override { return "CrossEntropyLossBackward0"; }
  const char* fused_description() const override {
    return "log_softmax + cross-entropy with class probabilities (fused)";
  }
  // Without class weights or label smoothing (which replaces p by (1 - e) p + e / C).
  const char* formula() const override {
    return "d cross_entropy(z, p)/d z = (softmax(z) * sum(p) - p) * g / N\n"
           "d cross_entropy(z, p)/d p = -log_softmax(z) * g / N";
  }

  gradient_list backward(const Tensor& grad) override {
    const Tensor input = this->input.unpack(*this);
    const Tensor target = this->target.unpack(*this);
    const Tensor weight = this->weight.unpack(*this);
    return gradients(grad, input, target, weight);
  }
  // One pass per row for each gradient, the softmax from the saved log-sum-exp.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor input = this->input.unpack(*this);
    const Tensor target = this->target.unpack(*this);
    const Tensor weight = this->weight.unpack(*this);
    return visit_floating(grad.dtype(), "cross_entropy backward", [&](auto tag) {
      using T = decltype(tag);
      const UpstreamScale<T> upstream(grad, reduction, divisor);
      gradient_list grads(2);
      if (needs_input_grad(0)) grads[0] = input_gradient<T>(upstream, input, target, weight);
      if (needs_input_grad(1)) grads[1] = target_gradient<T>(upstream, input, weight);
      return grads;
    });
  }

  template <class T>
  Tensor input_gradient(const UpstreamScale<T>& upstream, const Tensor& input, const Tensor& target,
                        const Tensor& weight) const {
    Array<T> grad_input = Array<T>::from_shape(input.shape());
    const T* x = input.data<T>();
    const T* y = target.data<T>();
    const T* lse = log_sum_exp.data<T>();
    const T* w = data_or_null<T>(weight);
    const std::size_t classes = layout.classes, inner = layout.inner;
    const T keep = T(1) - static_cast<T>(label_smoothing);
    const T spread = static_cast<T>(label_smoothing / static_cast<double>(classes));
    for (std::size_t p = 0; p < layout.positions(); ++p) {
      const std::size_t offset = layout.row_offset(p);
      const T* y_row = y + offset;
      T* out = grad_input.data() + offset;
      T target_mass = 0;  // sum_k w_k y~_k
      for (std::size_t c = 0; c < classes; ++c) target_mass += (w ? w[c] : T(1)) * (keep * y_row[c * inner] + spread);
      const T scale = upstream[p];
      write_scaled_softmax(Row<T>{x + offset, classes, inner}, lse[p], scale * target_mass, out);
      for (std::size_t c = 0; c < classes; ++c)
        out[c * inner] -= scale * (w ? w[c] : T(1)) * (keep * y_row[c * inner] + spread);
    }
    return make_tensor(std::move(grad_input));
  }

  template <class T>
  Tensor target_gradient(const UpstreamScale<T>& upstream, const Tensor& input, const Tensor& weight) const {
    Array<T> grad_target = Array<T>::from_shape(input.shape());
    const T* x = input.data<T>();
    const T* lse = log_sum_exp.data<T>();
    const T* w = data_or_null<T>(weight);
    const std::size_t classes = layout.classes, inner = layout.inner;
    const T keep = T(1) - static_cast<T>(label_smoothing);
    for (std::size_t p = 0; p < layout.positions(); ++p) {
      const std::size_t offset = layout.row_offset(p);
      const T scale = upstream[p];
      for (std::size_t c = 0; c < classes; ++c) {
        const std::size_t k = offset + c * inner;
        grad_target.data()[k] = -scale * keep * (w ? w[c] : T(1)) * (x[k] - lse[p]);
      }
    }
    return make_tensor(std::move(grad_target));
  }

  // Recorded ops throughout, so the result is differentiable in the input, the target and the
  // upstream. With u the upstream per position:
  //   d loss / d logp = -w y~ u,  fed through log_softmax's backward;  d loss / d y = -(1 - e) w logp u
  gradient_list gradients(const Tensor& grad, const Tensor& input, const Tensor& target,
                                          const Tensor& weight) const {
    const Shape input_shape = input.shape();
    const std::int64_t dim = class_dim(input_shape);
    const Tensor upstream = reduction == kNone ? unsqueeze(grad, dim) : grad / divisor;
    const Tensor class_weight = weight_per_element(input_shape, weight);
    const auto weighted = [&](const Tensor& t) { return class_weight.defined() ? t * class_weight : t; };
    gradient_list grads(2);
    if (needs_input_grad(0)) {
      const Tensor smoothed = target * (1.0 - label_smoothing) + label_smoothing / static_cast<double>(layout.classes);
      grads[0] = log_softmax_gradient(-(weighted(smoothed) * upstream), input, dim);
    }
    if (needs_input_grad(1))
      grads[1] = -(weighted(log_softmax(input, dim)) * (1.0 - label_smoothing) * upstream);
    return grads;
  }
  // w[c] at every (p, c), or undefined without weight.
  Tensor weight_per_element(const Shape& input_shape, const Tensor& weight) const {
    if (!weight.defined()) return Tensor();
    return visit_floating(weight.dtype(), "cross_entropy backward", [&](auto tag) {
      using T = decltype(tag);
      const T* w = weight.data<T>();
      return per_class_constant<T>(input_shape, layout, [&](std::size_t, std::size_t c) { return w[c]; });
    });
  }
  void release_saved() override {
    input.reset();
    target.reset();
    weight.reset();
    log_sum_exp = Tensor();
  }

  SavedTensor input, target;  // the inputs with their graphs, for the recorded gradient
  SavedTensor weight;
  Tensor log_sum_exp;
  ClassLayout layout;
  Reduction reduction;
  double divisor;
  double label_smoothing;
};

void check_probability_args(const Tensor& input, const Tensor& target, const Tensor& weight,
                            std::int64_t ignore_index, Reduction reduction, const ClassLayout& layout) {
  const char* op = "cross_entropy";
  loss_detail::check_reduction(op, reduction);
  if (target.shape() != input.shape())
    throw Error(concat(op, ": a floating point target holds class probabilities and must have the input's shape ",
                       shape_str(input.shape()), ", got ", shape_str(target.shape()),
                       " (class indices must be int64)"));
  loss_detail::check_same_dtype(op, "input", input, "target", target);
  check(ignore_index < 0, op, ": ignore_index ", ignore_index,
        " is not supported with class-probability targets (it applies to class indices only)");
  check_class_weight(op, input, weight, layout.classes);
}

// loss_p = -sum_c w_c y~_c logp_c, one pass per row as for class indices.
Tensor cross_entropy_probabilities(const Tensor& input, const Tensor& target, const Tensor& weight,
                                   std::int64_t ignore_index, Reduction reduction, double label_smoothing) {
  const ClassLayout layout = class_layout("cross_entropy", input.shape());
  check_probability_args(input, target, weight, ignore_index, reduction, layout);
  // The mean is over positions, whatever the weights (PyTorch's rule for probability targets).
  const double divisor = reduction == kMean ? static_cast<double>(layout.positions()) : 1.0;
  Tensor log_sum_exp;
  Tensor out = visit_floating(input.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    const T* x = input.data<T>();
    const T* y = target.data<T>();
    const T* w = data_or_null<T>(weight);
    const std::size_t classes = layout.classes, inner = layout.inner;
    const T keep = T(1) - static_cast<T>(label_smoothing);
    const T spread = static_cast<T>(label_smoothing / static_cast<double>(classes));
    Array<T> losses = Array<T>::from_shape(without_class_dim(input.shape()));
    Array<T> lse = Array<T>::from_shape({layout.positions()});
    for (std::size_t p = 0; p < layout.positions(); ++p) {
      const std::size_t offset = layout.row_offset(p);
      const Row<T> row{x + offset, classes, inner};
      const T row_lse = row_log_sum_exp(row);
      T loss = 0;
      for (std::size_t c = 0; c < classes; ++c)
        loss -= (w ? w[c] : T(1)) * (keep * y[offset + c * inner] + spread) * (row[c] - row_lse);
      losses.data()[p] = loss;
      lse.data()[p] = row_lse;
    }
    log_sum_exp = make_tensor(std::move(lse));
    return loss_detail::reduce_losses(std::move(losses), reduction, divisor);
  });
  if (any_requires_grad({&input, &target}))
    record(out,
           make_node<CrossEntropyProbabilitiesBackward>(input, target, weight, log_sum_exp, layout, reduction,
                                                               divisor, label_smoothing),
           {&input, &target});
  return out;
}

}  // namespace

Tensor cross_entropy_loss(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                          std::int64_t ignore_index, double label_smoothing) {
  check(input.defined() && target.defined(), "cross_entropy: input and target must be defined tensors");
  visit_floating(input.dtype(), "cross_entropy", [](auto) {});
  check(label_smoothing >= 0.0 && label_smoothing <= 1.0, "cross_entropy: label_smoothing must be in [0, 1], got ",
        label_smoothing);
  if (is_floating(target.dtype()))
    return cross_entropy_probabilities(input, target, weight, ignore_index, reduction, label_smoothing);
  if (input.dim() >= 1 && has_shape(target, shape_of(input)))
    throw Error(concat("cross_entropy: a target with the input's shape ", shape_str(input.shape()),
                       " holds class probabilities and must be floating point, got ", dtype_name(target.dtype())));
  return cross_entropy_class_indices(input, target, weight, ignore_index, reduction, label_smoothing);
}

}  // namespace xgrad
