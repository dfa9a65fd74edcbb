#pragma once
// Library-internal: broadcasting and dim arithmetic on arrays, shared by the ops' .cpp files.
//
// Broadcast loops here never build a broadcast temporary. The output's dims are grouped into runs
// of neighbouring dims along which each operand either moves or stays put ([N, C] + [C] is one run
// of N where b stays and one run of C where both move), and the innermost run is a plain
// contiguous loop the compiler can vectorise.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/elementwise.hpp>

namespace xgrad {

template <class T>
bool same_shape(const Array<T>& a, const Array<T>& b) {
  return a.dimension() == b.dimension() && std::equal(a.shape().begin(), a.shape().end(), b.shape().begin());
}

// ---- dims ---------------------------------------------------------------------------------------

// True when `from` broadcasts to exactly `to` (each size, aligned from the right, equal or 1):
// NumPy's rule one way, without building the common shape.
bool broadcasts_to(const Shape& from, const Shape& to);

// A possibly negative dim as an index into a shape of rank `rank`. Throws Error naming op, dim and
// shape when it is outside [-rank, rank). A 0-dim tensor accepts 0 and -1, as in PyTorch.
std::size_t normalize_dim(std::int64_t dim, const Shape& shape, const char* op);
// sum_to(grad, like.shape()), without building that Shape when grad already has it: the common
// case of the backward formulas of broadcasting ops, which run every training step.
Tensor sum_to_shape_of(const Tensor& grad, const Tensor& like);
std::size_t normalize_dim(std::int64_t dim, const InlineShape& shape, const char* op);

// A row-major shape seen as [outer, axis, inner] around one dim: element (o, k, i) sits at
// (o * axis + k) * inner + i. Loops over this triple replace lazy reducers along non-last dims.
struct AxisSplit {
  std::size_t outer = 1, axis = 1, inner = 1;
};
AxisSplit split_at(const Shape& shape, std::size_t dim);

// ---- contiguous sums ----------------------------------------------------------------------------

// The sum of n contiguous values: in double for floats (a float32 running sum of many terms drifts),
// exactly for int64. Four independent partial sums let the additions overlap instead of each waiting
// for the previous one.
template <class T>
auto sum_contiguous(const T* values, std::size_t n) {
  using Accumulator = std::conditional_t<std::is_integral_v<T>, T, double>;
  Accumulator partial[4] = {0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (std::size_t lane = 0; lane < 4; ++lane) partial[lane] += values[i + lane];
  for (; i < n; ++i) partial[0] += values[i];
  return (partial[0] + partial[1]) + (partial[2] + partial[3]);
}

// ---- broadcasting binary loops ------------------------------------------------------------------

// One run of merged output dims: its length and how far each operand / the output moves per step.
struct BroadcastRun {
  std::size_t extent;
  std::size_t a_stride, b_stride, out_stride;
};
// The runs for computing `out` (the broadcast shape) from a and b, outermost first. Dims of size 1
// in out are dropped. Empty when out has a single element.
std::vector<BroadcastRun> broadcast_runs(const Shape& a, const Shape& b, const Shape& out);

namespace detail {
template <class T, class R, class Op>
void broadcast_loop(const T* a, const T* b, R* out, const std::vector<BroadcastRun>& runs, std::size_t level,
                    Op op) {
  const BroadcastRun& run = runs[level];
  if (level + 1 < runs.size()) {
    for (std::size_t i = 0; i < run.extent; ++i)
      broadcast_loop(a + i * run.a_stride, b + i * run.b_stride, out + i * run.out_stride, runs, level + 1, op);
    return;
  }
  // Innermost run: out moves by 1; each operand moves by 1 or stays put (a broadcast value).
  if (run.a_stride && run.b_stride) {
    for (std::size_t i = 0; i < run.extent; ++i) out[i] = op(a[i], b[i]);
  } else if (run.a_stride) {
    const T bv = *b;
    for (std::size_t i = 0; i < run.extent; ++i) out[i] = op(a[i], bv);
  } else if (run.b_stride) {
    const T av = *a;
    for (std::size_t i = 0; i < run.extent; ++i) out[i] = op(av, b[i]);
  } else {
    std::fill(out, out + run.extent, op(*a, *b));
  }
}
}  // namespace detail

// op(a, b) elementwise with NumPy broadcasting; `name` is the op named in a shape Error. The result
// has op's return type: T for arithmetic, bool for a comparison.
template <class T, class Op, class R = std::invoke_result_t<Op, T, T>>
Array<R> broadcast_apply(const Array<T>& a, const Array<T>& b, Op op, const char* name) {
  if (same_shape(a, b)) {  // the hot case: one flat loop
    Array<R> out = Array<R>::from_shape(a.shape());
    const T* pa = a.data();
    const T* pb = b.data();
    R* po = out.data();
    for (std::size_t i = 0, n = out.size(); i < n; ++i) po[i] = op(pa[i], pb[i]);
    return out;
  }
  const Shape a_shape = to_shape(a.shape()), b_shape = to_shape(b.shape());
  const Shape out_shape = broadcast_shapes(a_shape, b_shape, name);
  Array<R> out = Array<R>::from_shape(out_shape);
  if (out.size() == 0) return out;
  const std::vector<BroadcastRun> runs = broadcast_runs(a_shape, b_shape, out_shape);
  if (runs.empty()) *out.data() = op(*a.data(), *b.data());
  else detail::broadcast_loop(a.data(), b.data(), out.data(), runs, 0, op);
  return out;
}

// x broadcast to `shape` (which must be broadcast_shapes(x's shape, shape)), materialised.
template <class T>
Array<T> broadcast_array(const Array<T>& x, const Shape& shape) {
  Array<T> out = Array<T>::from_shape(shape);
  if (out.size() == 0) return out;
  const std::vector<BroadcastRun> runs = broadcast_runs(to_shape(x.shape()), Shape{}, shape);
  const T unused{};  // the loop's second operand: a 0-dim array that never moves
  const auto first = [](T value, T) { return value; };
  if (runs.empty()) *out.data() = *x.data();
  else detail::broadcast_loop(x.data(), &unused, out.data(), runs, 0, first);
  return out;
}

// The elementwise functors shared by forward and backward.
struct AddOp {
  template <class T>
  T operator()(T a, T b) const { return a + b; }
};
struct SubOp {
  template <class T>
  T operator()(T a, T b) const { return a - b; }
};
struct MulOp {
  template <class T>
  T operator()(T a, T b) const { return a * b; }
};
struct DivOp {
  template <class T>
  T operator()(T a, T b) const { return a / b; }
};

// ---- the derivative of broadcasting --------------------------------------------------------------

// grad summed over the dims along which an array of `shape` was broadcast to grad's shape.
// `shape` must broadcast to grad's shape (checked: Error otherwise). Returns a copy when the shapes
// are equal; callers that can should test that first and avoid the copy.
template <class T>
Array<T> sum_to(const Array<T>& grad, const Shape& shape);

extern template Array<float> sum_to(const Array<float>&, const Shape&);
extern template Array<double> sum_to(const Array<double>&, const Shape&);

}  // namespace xgrad
