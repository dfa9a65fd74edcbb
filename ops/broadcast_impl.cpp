#include <xgrad/ops/broadcast_impl.hpp>

#include <algorithm>

namespace xgrad {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    // Aligned from the right: a missing leading dim acts as size 1.
    const std::size_t from_end = rank - 1 - d;
    const std::size_t da = from_end < a.size() ? a[a.size() - 1 - from_end] : 1;
    const std::size_t db = from_end < b.size() ? b[b.size() - 1 - from_end] : 1;
    // The message is built only on failure: shape_str allocates and this runs on every binary op.
    if (da != db && da != 1 && db != 1)
      throw Error(concat(op, ": shapes ", shape_str(a), " and ", shape_str(b), " are not broadcastable (size ", da,
                         " vs ", db, " at dim ", -static_cast<std::int64_t>(from_end) - 1, ")"));
    out[d] = da == 1 ? db : da;
  }
  return out;
}

namespace {
template <class Dims>
std::size_t normalize_dim_of(std::int64_t dim, const Dims& shape, const char* op) {
  // A 0-dim tensor behaves like shape [1] for dim arguments, as in PyTorch.
  const auto rank = static_cast<std::int64_t>(std::max<std::size_t>(shape.size(), 1));
  if (dim < -rank || dim >= rank)
    throw Error(concat(op, ": dim ", dim, " out of range for a tensor of shape ", shape_str(to_shape(shape)),
                       " (expected a dim in [", -rank, ", ", rank - 1, "])"));
  return static_cast<std::size_t>(dim < 0 ? dim + rank : dim);
}
}  // namespace

std::size_t normalize_dim(std::int64_t dim, const Shape& shape, const char* op) {
  return normalize_dim_of(dim, shape, op);
}
std::size_t normalize_dim(std::int64_t dim, const InlineShape& shape, const char* op) {
  return normalize_dim_of(dim, shape, op);
}

bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  const std::size_t offset = to.size() - from.size();
  for (std::size_t d = 0; d < from.size(); ++d)
    if (from[d] != 1 && from[d] != to[offset + d]) return false;
  return true;
}

AxisSplit split_at(const Shape& shape, std::size_t dim) {
  AxisSplit split;
  if (shape.empty()) return split;
  for (std::size_t d = 0; d < dim; ++d) split.outer *= shape[d];
  split.axis = shape[dim];
  for (std::size_t d = dim + 1; d < shape.size(); ++d) split.inner *= shape[d];
  return split;
}

namespace {

// The size of dim d of `shape` once it is padded on the left to `rank` dims.
std::size_t padded_size(const Shape& shape, std::size_t rank, std::size_t d) {
  const std::size_t offset = rank - shape.size();
  return d < offset ? 1 : shape[d - offset];
}

}  // namespace

std::vector<BroadcastRun> broadcast_runs(const Shape& a, const Shape& b, const Shape& out) {
  const std::size_t rank = out.size();
  // 1. Merge neighbouring dims along which a and b move (size > 1) or stay in the same way.
  struct Merged {
    std::size_t extent;
    bool a_moves, b_moves;
  };
  std::vector<Merged> merged;
  for (std::size_t d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;
    const bool a_moves = padded_size(a, rank, d) != 1, b_moves = padded_size(b, rank, d) != 1;
    if (!merged.empty() && merged.back().a_moves == a_moves && merged.back().b_moves == b_moves)
      merged.back().extent *= out[d];
    else
      merged.push_back({static_cast<std::size_t>(out[d]), a_moves, b_moves});
  }
  // 2. Strides from the innermost run outwards; an operand that stays put has stride 0.
  std::vector<BroadcastRun> runs(merged.size());
  std::size_t a_step = 1, b_step = 1, out_step = 1;
  for (std::size_t r = merged.size(); r-- > 0;) {
    const Merged& m = merged[r];
    runs[r] = {m.extent, m.a_moves ? a_step : 0, m.b_moves ? b_step : 0, out_step};
    if (m.a_moves) a_step *= m.extent;
    if (m.b_moves) b_step *= m.extent;
    out_step *= m.extent;
  }
  return runs;
}

namespace {

void check_sums_to(const Shape& grad, const Shape& shape) {
  bool ok = shape.size() <= grad.size();
  for (std::size_t d = 0; ok && d < shape.size(); ++d) {
    const std::size_t g = grad[grad.size() - shape.size() + d];
    ok = shape[d] == static_cast<std::int64_t>(g) || shape[d] == 1;
  }
  if (!ok)
    throw Error(concat("sum_to: shape ", shape_str(shape), " does not broadcast to the gradient's shape ",
                       shape_str(grad)));
}

// One run of merged grad dims: its length, whether it is summed away, and the strides per step.
struct ReduceRun {
  std::size_t extent;
  bool reduce;
  std::size_t grad_stride, out_stride;
};

std::vector<ReduceRun> reduce_runs(const Shape& grad, const Shape& shape) {
  const std::size_t rank = grad.size();
  std::vector<ReduceRun> runs;
  for (std::size_t d = 0; d < rank; ++d) {
    if (grad[d] == 1) continue;
    const bool reduce = padded_size(shape, rank, d) == 1;
    if (!runs.empty() && runs.back().reduce == reduce) runs.back().extent *= grad[d];
    else runs.push_back({static_cast<std::size_t>(grad[d]), reduce, 0, 0});
  }
  std::size_t grad_step = 1, out_step = 1;
  for (std::size_t r = runs.size(); r-- > 0;) {
    runs[r].grad_stride = grad_step;
    runs[r].out_stride = runs[r].reduce ? 0 : out_step;
    grad_step *= runs[r].extent;
    if (!runs[r].reduce) out_step *= runs[r].extent;
  }
  return runs;
}

template <class T>
void reduce_loop(const T* grad, T* out, const std::vector<ReduceRun>& runs, std::size_t level) {
  const ReduceRun& run = runs[level];
  if (level + 1 < runs.size()) {
    for (std::size_t i = 0; i < run.extent; ++i)
      reduce_loop(grad + i * run.grad_stride, out + i * run.out_stride, runs, level + 1);
    return;
  }
  if (run.reduce) {
    // A contiguous stretch summed into one element ([N, C] -> [N, 1] lands here once per row).
    *out += static_cast<T>(sum_contiguous(grad, run.extent));
  } else {
    // A contiguous stretch added onto a row of out ([N, C] -> [C] lands here once per row).
    for (std::size_t i = 0; i < run.extent; ++i) out[i] += grad[i];
  }
}

}  // namespace

template <class T>
Array<T> sum_to(const Array<T>& grad, const Shape& shape) {
  const Shape grad_shape = to_shape(grad.shape());
  check_sums_to(grad_shape, shape);
  Array<T> out = Array<T>::from_shape(shape);
  out.fill(T(0));
  if (grad.size() == 0) return out;
  const std::vector<ReduceRun> runs = reduce_runs(grad_shape, shape);
  if (runs.empty()) *out.data() = *grad.data();
  else reduce_loop(grad.data(), out.data(), runs, 0);
  return out;
}

template Array<float> sum_to(const Array<float>&, const Shape&);
template Array<double> sum_to(const Array<double>&, const Shape&);

}  // namespace xgrad
