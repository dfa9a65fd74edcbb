// Orderings and sampling: sort, argsort, topk, multinomial (declared in ops/sequence.hpp).
//
// sort and topk pick elements, so their gradient puts g back where each value came from, zeros
// elsewhere (PyTorch's value_selecting_reduction_backward). Under create_graph that is a recorded
// scatter, whose own derivative reads the gradient back at the same indices.
#include <xgrad/ops/sequence.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>
#include <vector>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/broadcast_impl.hpp>

namespace xgrad {

namespace {

// ---- ordering one slice ----------------------------------------------------------------------------

// a before b in ascending order; NaN is above every number, as PyTorch sorts it.
template <class T>
bool ascending(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

// The positions 0 .. n-1 of one slice in sorted order, the first `count` of them at least; equal
// values (and NaNs) keep their order, so the result does not depend on the algorithm.
template <class T>
std::vector<std::int64_t> ordered_positions(const std::vector<T>& values, bool descending, std::size_t count) {
  std::vector<std::int64_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  const auto before = [&](std::int64_t i, std::int64_t j) {
    const T a = values[static_cast<std::size_t>(i)], b = values[static_cast<std::size_t>(j)];
    if (descending ? ascending(b, a) : ascending(a, b)) return true;
    if (descending ? ascending(a, b) : ascending(b, a)) return false;
    return i < j;
  };
  if (count < order.size()) std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count),
                                              order.end(), before);
  else std::sort(order.begin(), order.end(), before);
  return order;
}

// The first `count` elements of every slice along the plan's axis, in order, with their positions.
struct Ordered {
  Tensor values, indices;
};

Ordered order_along(const Tensor& x, const AxisSplit& split, const Shape& out_shape, bool descending,
                    std::size_t count) {
  Array<std::int64_t> indices = Array<std::int64_t>::from_shape(out_shape);
  Tensor values = visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = array<T>(x).data();
    Array<T> out = Array<T>::from_shape(out_shape);
    std::vector<T> slice(split.axis);
    for (std::size_t r = 0; r < split.outer; ++r)
      for (std::size_t i = 0; i < split.inner; ++i) {
        for (std::size_t k = 0; k < split.axis; ++k) slice[k] = in[(r * split.axis + k) * split.inner + i];
        const std::vector<std::int64_t> order = ordered_positions(slice, descending, count);
        for (std::size_t k = 0; k < count; ++k) {
          const std::size_t at = (r * count + k) * split.inner + i;
          out.data()[at] = slice[static_cast<std::size_t>(order[k])];
          indices.data()[at] = order[k];
        }
      }
    return make_tensor(std::move(out));
  });
  return {values, make_tensor(std::move(indices))};
}

// ---- the gradient of a selection ---------------------------------------------------------------------

// d values = g put at the indices along dim, zeros elsewhere (each index once per slice)
struct SelectionBackward final : Node {
  SelectionBackward(const char* node_name, Shape input_shape, std::int64_t dim, const Tensor& indices)
      : node_name(node_name), input_shape(std::move(input_shape)), dim(dim),
        saved_indices(indices, /*is_output=*/false) {}
  const char* name() const override { return node_name; }
  const char* formula() const override {
    return "d sort(x) or topk(x) values = zeros with g put at the indices along dim";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor indices = saved_indices.unpack(*this);
    if (input_shape.empty()) return {grad.reshape({})};
    return {zeros(input_shape, grad.dtype()).scatter(dim, indices, grad)};
  }
  void release_saved() override { saved_indices.reset(); }
  const char* node_name;
  Shape input_shape;
  std::int64_t dim;  // normalized
  // The op's second output, which the user gets, saved as an input would be: this node's output is
  // the values, and the indices have no gradient to come back with.
  SavedTensor saved_indices;
};

// sort and topk: the first `count` of each slice along dim in order, recorded as node_name.
std::tuple<Tensor, Tensor> select_ordered(const Tensor& x, std::int64_t dim, bool descending, std::int64_t count,
                                          const char* op, const char* node_name) {
  const Shape shape = x.shape();
  const std::size_t d = normalize_dim(dim, shape, op);
  const AxisSplit split = split_at(shape, d);
  Shape out_shape = shape;
  if (!out_shape.empty()) out_shape[d] = count;
  else count = 1;  // a 0-dim tensor is its own one element, even for topk(x, 0), as in PyTorch
  Ordered ordered = order_along(x, split, out_shape, descending, static_cast<std::size_t>(count));
  if (any_requires_grad({&x}))
    record(ordered.values,
           make_node<SelectionBackward>(node_name, shape, static_cast<std::int64_t>(d), ordered.indices), {&x});
  return {ordered.values, ordered.indices};
}

std::int64_t size_along(const Tensor& x, std::int64_t dim, const char* op) {
  const Shape shape = x.shape();
  const std::size_t d = normalize_dim(dim, shape, op);
  return shape.empty() ? 1 : shape[d];
}

void check_input(const Tensor& x, const char* op) { check(x.defined(), op, ": input is an undefined tensor"); }

}  // namespace

std::tuple<Tensor, Tensor> sort(const Tensor& x, std::int64_t dim, bool descending) {
  check_input(x, "sort");
  return select_ordered(x, dim, descending, size_along(x, dim, "sort"), "sort", "SortBackward0");
}

std::tuple<Tensor, Tensor> sort(const Tensor& x, std::optional<bool> /*stable: always*/, std::int64_t dim,
                                bool descending) {
  check_input(x, "sort");
  return select_ordered(x, dim, descending, size_along(x, dim, "sort"), "sort", "SortBackward1");
}

Tensor argsort(const Tensor& x, std::int64_t dim, bool descending) {
  check_input(x, "argsort");
  NoGradGuard no_grad;
  return std::get<1>(select_ordered(x, dim, descending, size_along(x, dim, "argsort"), "argsort", "SortBackward0"));
}

std::tuple<Tensor, Tensor> topk(const Tensor& x, std::int64_t k, std::int64_t dim, bool largest, bool /*sorted*/) {
  check_input(x, "topk");
  if (x.dtype() == kBool) throw Error("topk: not implemented for bool tensors (as in PyTorch)");
  const std::int64_t size = size_along(x, dim, "topk");
  if (k < 0 || k > size)
    throw Error(concat("topk: selected index k out of range: k = ", k, " for size ", size, " along dim ", dim,
                       " (shape ", shape_str(x.shape()), ")"));
  return select_ordered(x, dim, largest, k, "topk", "TopkBackward0");
}

// ---- multinomial -----------------------------------------------------------------------------------

namespace {

// A uniform double in [0, 1) from the global generator: the top 53 bits of one raw draw.
double uniform_draw() {
  std::uint64_t word = 0;
  random_words(&word, 1);
  return static_cast<double>(word >> 11) * 0x1.0p-53;
}

// The first category whose running total passes target (a zero weight is never chosen, since its
// running total equals the one before it).
std::size_t category_at(const std::vector<double>& weights, double target) {
  double running = 0.0;
  std::size_t last_positive = 0;
  for (std::size_t c = 0; c < weights.size(); ++c) {
    if (weights[c] <= 0.0) continue;
    running += weights[c];
    last_positive = c;
    if (target < running) return c;
  }
  return last_positive;  // rounding: target landed on the total itself
}

void check_row(const std::vector<double>& weights, std::size_t row) {
  double total = 0.0;
  for (double w : weights) {
    if (!std::isfinite(w) || w < 0.0)
      throw Error(concat("multinomial: probability tensor contains either `inf`, `nan` or element < 0 (row ", row,
                         ", value ", w, ")"));
    total += w;
  }
  if (!(total > 0.0))
    throw Error(concat("multinomial: invalid multinomial distribution (sum of probabilities <= 0) (row ", row, ")"));
}

// With replacement: each draw independent, by the row's cumulative weights.
void draw_with_replacement(const std::vector<double>& weights, std::int64_t* out, std::int64_t samples) {
  std::vector<double> cumulative(weights.size());
  std::partial_sum(weights.begin(), weights.end(), cumulative.begin());
  const double total = cumulative.back();
  for (std::int64_t s = 0; s < samples; ++s) {
    const double target = uniform_draw() * total;
    auto found = std::upper_bound(cumulative.begin(), cumulative.end(), target);
    if (found == cumulative.end()) found = std::prev(found);  // rounding at the top
    // Skip zero-weight categories that share the running total found (possible only at the top).
    while (weights[static_cast<std::size_t>(found - cumulative.begin())] <= 0.0) --found;
    out[s] = found - cumulative.begin();
  }
}

// Without replacement: each draw proportional to the weights not drawn yet, then uniform among the
// categories left once those weights are all zero.
void draw_without_replacement(std::vector<double> weights, std::int64_t* out, std::int64_t samples) {
  std::vector<bool> drawn(weights.size(), false);
  for (std::int64_t s = 0; s < samples; ++s) {
    const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
    std::size_t chosen;
    if (total > 0.0) {
      chosen = category_at(weights, uniform_draw() * total);
    } else {
      std::vector<std::size_t> left;
      for (std::size_t c = 0; c < drawn.size(); ++c)
        if (!drawn[c]) left.push_back(c);
      chosen = left[std::min(left.size() - 1, static_cast<std::size_t>(uniform_draw() * double(left.size())))];
    }
    drawn[chosen] = true;
    weights[chosen] = 0.0;
    out[s] = static_cast<std::int64_t>(chosen);
  }
}

}  // namespace

Tensor multinomial(const Tensor& probs, std::int64_t num_samples, bool replacement) {
  check(probs.defined(), "multinomial: probs is an undefined tensor");
  if (!is_floating(probs.dtype()))
    throw Error(concat("multinomial: multinomial only supports floating-point dtypes for input, got: ",
                       dtype_name(probs.dtype())));
  if (probs.dim() < 1 || probs.dim() > 2)
    throw Error(concat("multinomial: prob_dist must be 1 or 2 dim, got shape ", shape_str(probs.shape())));
  if (num_samples <= 0)
    throw Error(concat("multinomial: cannot sample n_sample <= 0 samples (num_samples = ", num_samples, ")"));
  const std::int64_t categories = probs.size(-1);
  if (!replacement && num_samples > categories)
    throw Error(concat("multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement ("
                       "num_samples = ", num_samples, ", shape ", shape_str(probs.shape()), ")"));
  if (categories > (std::int64_t{1} << 24))
    throw Error(concat("multinomial: number of categories cannot exceed 2^24, got ", categories));
  const std::int64_t rows = probs.dim() == 2 ? probs.size(0) : 1;
  const Tensor weights = probs.detach().to(kFloat64).contiguous();
  const double* w = weights.data<double>();
  Shape out_shape = probs.dim() == 2 ? Shape{rows, num_samples} : Shape{num_samples};
  Array<std::int64_t> out = Array<std::int64_t>::from_shape(out_shape);
  // Every row is checked before any is drawn, so a bad row leaves the generator untouched.
  std::vector<std::vector<double>> row_weights(static_cast<std::size_t>(rows));
  for (std::int64_t r = 0; r < rows; ++r) {
    row_weights[static_cast<std::size_t>(r)].assign(w + r * categories, w + (r + 1) * categories);
    check_row(row_weights[static_cast<std::size_t>(r)], static_cast<std::size_t>(r));
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t* row_out = out.data() + r * num_samples;
    if (replacement) draw_with_replacement(row_weights[static_cast<std::size_t>(r)], row_out, num_samples);
    else draw_without_replacement(std::move(row_weights[static_cast<std::size_t>(r)]), row_out, num_samples);
  }
  return make_tensor(std::move(out));
}

// ---- Tensor methods ----------------------------------------------------------------------------------

std::tuple<Tensor, Tensor> Tensor::sort(std::int64_t dim, bool descending) const {
  return xgrad::sort(*this, dim, descending);
}
std::tuple<Tensor, Tensor> Tensor::sort(std::optional<bool> stable, std::int64_t dim, bool descending) const {
  return xgrad::sort(*this, stable, dim, descending);
}
Tensor Tensor::argsort(std::int64_t dim, bool descending) const { return xgrad::argsort(*this, dim, descending); }
std::tuple<Tensor, Tensor> Tensor::topk(std::int64_t k, std::int64_t dim, bool largest, bool sorted) const {
  return xgrad::topk(*this, k, dim, largest, sorted);
}
Tensor Tensor::multinomial(std::int64_t num_samples, bool replacement) const {
  return xgrad::multinomial(*this, num_samples, replacement);
}

}  // namespace xgrad
