// Ops for sequences that move or accumulate elements: tril/triu, cumsum/cumprod, flip, roll,
// repeat, repeat_interleave, one_hot, constant_pad_nd, cosine_similarity. sort, topk and
// multinomial are in ops/sort.cpp.
//
// Most of these are linear in x, so each backward is the op's adjoint written with the ops
// themselves (flip's is flip, roll's a roll back, constant_pad_nd's a crop): recorded under
// create_graph, and differentiable again without a formula of its own.
#include <xgrad/ops/sequence.hpp>

#include <algorithm>
#include <type_traits>
#include <vector>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/broadcast_impl.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/inplace_impl.hpp>
#include <xgrad/ops/linalg.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad {

namespace {

void check_defined(const Tensor& t, const char* op, const char* argument) {
  check(t.defined(), op, ": ", argument, " is an undefined tensor");
}

// ---- moving elements by a per-dim index map ------------------------------------------------------

// out[i0, i1, ...] = x[from[0][i0], from[1][i1], ...]: flip, roll and repeat are all this, with
// one list of source coordinates per dim. Row-major offsets are precomputed per dim, so the inner
// loop is one addition and one load per element.
template <class T>
Array<T> remap_array(const Array<T>& x, const Shape& out_shape, const std::vector<std::vector<std::int64_t>>& from) {
  Array<T> out = Array<T>::from_shape(out_shape);
  const std::size_t rank = out_shape.size();
  if (out.size() == 0) return out;
  if (rank == 0) {
    *out.data() = *x.data();
    return out;
  }
  std::vector<std::vector<std::size_t>> offsets(rank);
  std::size_t stride = 1;
  for (std::size_t d = rank; d-- > 0;) {
    offsets[d].reserve(from[d].size());
    for (std::int64_t source : from[d]) offsets[d].push_back(static_cast<std::size_t>(source) * stride);
    stride *= x.shape()[d];
  }
  const std::vector<std::size_t>& last = offsets[rank - 1];
  std::vector<std::size_t> position(rank, 0);
  const T* in = x.data();
  T* o = out.data();
  for (;;) {
    std::size_t base = 0;
    for (std::size_t d = 0; d + 1 < rank; ++d) base += offsets[d][position[d]];
    for (std::size_t i = 0; i < last.size(); ++i) *o++ = in[base + last[i]];
    std::size_t d = rank - 1;
    while (d-- > 0) {
      if (++position[d] < static_cast<std::size_t>(out_shape[d])) break;
      position[d] = 0;
    }
    if (d == static_cast<std::size_t>(-1)) return out;
  }
}

Tensor remap(const Tensor& x, const Shape& out_shape, const std::vector<std::vector<std::int64_t>>& from) {
  return visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(remap_array(array<T>(x), out_shape, from));
  });
}

// The identity map of every dim of `shape`.
std::vector<std::vector<std::int64_t>> identity_maps(const Shape& shape) {
  std::vector<std::vector<std::int64_t>> maps(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    maps[d].resize(static_cast<std::size_t>(shape[d]));
    for (std::int64_t i = 0; i < shape[d]; ++i) maps[d][static_cast<std::size_t>(i)] = i;
  }
  return maps;
}

// Dims of x (negative ones counted from the end), each at most once.
std::vector<std::size_t> distinct_dims(IntArrayRef dims, const Shape& shape, const char* op) {
  std::vector<std::size_t> normalized;
  for (std::int64_t dim : dims) {
    const std::size_t d = normalize_dim(dim, shape, op);
    if (std::find(normalized.begin(), normalized.end(), d) != normalized.end())
      throw Error(concat(op, ": dim ", d, " appears multiple times in the list of dims ", shape_str(dims.vec()),
                         " (shape ", shape_str(shape), ")"));
    normalized.push_back(d);
  }
  return normalized;
}

std::vector<std::int64_t> negated(IntArrayRef values) {
  std::vector<std::int64_t> out;
  for (std::int64_t v : values) out.push_back(-v);
  return out;
}

}  // namespace

// ---- tril and triu ------------------------------------------------------------------------------

namespace {

enum class Triangle { Lower, Upper };

const char* triangle_op(Triangle t) { return t == Triangle::Lower ? "tril" : "triu"; }

Tensor triangle(const Tensor& x, Triangle t, std::int64_t diagonal);

// tril and triu are masks that do not depend on x: d tril(x) = tril(g)
struct TriangleBackward final : Node {
  TriangleBackward(Triangle t, std::int64_t diagonal) : t(t), diagonal(diagonal) {}
  const char* name() const override { return t == Triangle::Lower ? "TrilBackward0" : "TriuBackward0"; }
  const char* formula() const override { return t == Triangle::Lower ? "d tril(x) = tril(g)" : "d triu(x) = triu(g)"; }
  gradient_list backward(const Tensor& grad) override { return {triangle(grad, t, diagonal)}; }
  Triangle t;
  std::int64_t diagonal;
};

Tensor triangle(const Tensor& x, Triangle t, std::int64_t diagonal) {
  const char* op = triangle_op(t);
  check_defined(x, op, "input");
  if (x.dim() < 2)
    throw Error(concat(op, ": input tensor must have at least 2 dimensions, got shape ", shape_str(x.shape())));
  const std::int64_t rows = x.size(-2), cols = x.size(-1);
  Tensor out = visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = array<T>(x);
    T* v = values.data();
    const std::int64_t matrices = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
    for (std::int64_t m = 0; m < matrices; ++m, v += rows * cols)
      for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t j = 0; j < cols; ++j) {
          const bool kept = t == Triangle::Lower ? j - i <= diagonal : j - i >= diagonal;
          if (!kept) v[i * cols + j] = T(0);
        }
    return make_tensor(std::move(values));
  });
  if (any_requires_grad({&x})) record(out, make_node<TriangleBackward>(t, diagonal), {&x});
  return out;
}

}  // namespace

Tensor tril(const Tensor& x, std::int64_t diagonal) { return triangle(x, Triangle::Lower, diagonal); }
Tensor triu(const Tensor& x, std::int64_t diagonal) { return triangle(x, Triangle::Upper, diagonal); }

// ---- cumsum and cumprod -------------------------------------------------------------------------

namespace {

enum class Scan { Sum, Product };

// A running sum or product along the middle axis of [outer, axis, inner]. float32 accumulates in
// double, as PyTorch's CPU kernels do.
template <class T>
Array<T> scan(const Array<T>& x, const AxisSplit& split, Scan kind) {
  using Accumulator = std::conditional_t<std::is_integral_v<T>, T, double>;
  Array<T> out = Array<T>::from_shape(x.shape());
  const T* in = x.data();
  T* o = out.data();
  for (std::size_t r = 0; r < split.outer; ++r)
    for (std::size_t i = 0; i < split.inner; ++i) {
      Accumulator total = kind == Scan::Sum ? Accumulator(0) : Accumulator(1);
      for (std::size_t k = 0; k < split.axis; ++k) {
        const std::size_t at = (r * split.axis + k) * split.inner + i;
        if (kind == Scan::Sum) total += static_cast<Accumulator>(in[at]);
        else total *= static_cast<Accumulator>(in[at]);
        o[at] = static_cast<T>(total);
      }
    }
  return out;
}

// The dtype a running total works in: the one asked for, else int64 for integers and bool.
Tensor scan_input(const Tensor& x, std::optional<ScalarType> dtype) {
  if (dtype) return x.to(*dtype);
  return is_floating(x.dtype()) ? x : x.to(kInt64);
}

Tensor scanned(const Tensor& x, std::int64_t dim, Scan kind, const char* op) {
  const Shape shape = x.shape();
  const AxisSplit split = split_at(shape, normalize_dim(dim, shape, op));
  return visit_dtype(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(scan(array<T>(x), split, kind));
  });
}

// d cumsum(x)_k = sum over i >= k of g_i
struct CumsumBackward final : Node {
  explicit CumsumBackward(std::int64_t dim) : dim(dim) {}
  const char* name() const override { return "CumsumBackward0"; }
  const char* formula() const override { return "d cumsum(x)/d x_k = sum of g_i over i >= k  (g summed from the end)"; }
  // g summed from the back: flip(cumsum(flip(g))), the adjoint of cumsum.
  gradient_list backward(const Tensor& grad) override { return {flip(cumsum(flip(grad, dim), dim), dim)}; }
  std::int64_t dim;
};

// d cumprod(x)_k = sum over i >= k of g_i prod_{j <= i, j != k} x_j
//               = (prod_{j < k} x_j) * R_k,   R_k = g_k + x_{k+1} R_{k+1}
// Both factors are products of x without x_k, so no division is needed and zeros in x are exact.
template <class T>
Array<T> cumprod_gradient_loop(const Array<T>& x, const Array<T>& g, const AxisSplit& split) {
  using Accumulator = std::conditional_t<std::is_integral_v<T>, T, double>;
  Array<T> out = Array<T>::from_shape(x.shape());
  std::vector<Accumulator> before(split.axis);
  for (std::size_t r = 0; r < split.outer; ++r)
    for (std::size_t i = 0; i < split.inner; ++i) {
      const auto at = [&](std::size_t k) { return (r * split.axis + k) * split.inner + i; };
      Accumulator product = 1;
      for (std::size_t k = 0; k < split.axis; ++k) {
        before[k] = product;
        product *= static_cast<Accumulator>(x.data()[at(k)]);
      }
      Accumulator rest = 0;
      for (std::size_t k = split.axis; k-- > 0;) {
        rest = static_cast<Accumulator>(g.data()[at(k)]) +
               (k + 1 < split.axis ? static_cast<Accumulator>(x.data()[at(k + 1)]) * rest : Accumulator(0));
        out.data()[at(k)] = static_cast<T>(before[k] * rest);
      }
    }
  return out;
}

// The gradient in recorded ops: with x moved to the last dim, the matrix
// M[k, i] = prod_{j <= i, j != k} x_j for i >= k (0 below) is the cumprod of x with x_k replaced by
// 1 in row k, and the gradient is M g. O(n^2) in the scanned dim's size, where the fused loop above
// is O(n), so the loop serves every backward without create_graph.
Tensor cumprod_gradient(const Tensor& x, const Tensor& grad, std::int64_t dim) {
  if (x.dim() == 0) return grad * 1.0;
  const Tensor xt = x.transpose(dim, -1);
  const Tensor gt = grad.transpose(dim, -1);
  const std::int64_t n = xt.size(-1);
  Shape square = xt.shape();
  square.push_back(n);
  square[square.size() - 2] = n;
  const Tensor rows = xt.unsqueeze(-2).expand(square);
  const Tensor diagonal = eye(n, kBool);
  const Tensor products = triu(cumprod(where(diagonal, 1.0, rows), -1));
  return sum(products * gt.unsqueeze(-2), -1).transpose(dim, -1);
}

struct CumprodBackward final : Node {
  CumprodBackward(const Tensor& x, std::int64_t dim) : saved_x(x, /*is_output=*/false), dim(dim) {}
  const char* name() const override { return "CumprodBackward0"; }
  const char* formula() const override {
    return "d cumprod(x)/d x_k = sum over i >= k of g_i * (the product of x_0..x_i without x_k)";
  }
  gradient_list backward(const Tensor& grad) override {
    return {cumprod_gradient(saved_x.unpack(*this), grad, dim)};
  }
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor x = saved_x.unpack(*this);
    const Shape shape = x.shape();
    const AxisSplit split = split_at(shape, normalize_dim(dim, shape, "cumprod backward"));
    return {visit_floating(grad.dtype(), "cumprod backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(cumprod_gradient_loop(array<T>(x), array<T>(grad), split));
    })};
  }
  void release_saved() override { saved_x.reset(); }
  SavedTensor saved_x;
  std::int64_t dim;
};

}  // namespace

Tensor cumsum(const Tensor& x, std::int64_t dim, std::optional<ScalarType> dtype) {
  check_defined(x, "cumsum", "input");
  const Tensor input = scan_input(x, dtype);
  Tensor out = scanned(input, dim, Scan::Sum, "cumsum");
  if (any_requires_grad({&input})) record(out, make_node<CumsumBackward>(dim), {&input});
  return out;
}

Tensor cumprod(const Tensor& x, std::int64_t dim, std::optional<ScalarType> dtype) {
  check_defined(x, "cumprod", "input");
  const Tensor input = scan_input(x, dtype);
  Tensor out = scanned(input, dim, Scan::Product, "cumprod");
  if (any_requires_grad({&input})) record(out, make_node<CumprodBackward>(input, dim), {&input});
  return out;
}

// ---- flip ---------------------------------------------------------------------------------------

namespace {

// d flip(x) = flip(g)
struct FlipBackward final : Node {
  explicit FlipBackward(std::vector<std::int64_t> dims) : dims(std::move(dims)) {}
  const char* name() const override { return "FlipBackward0"; }
  const char* formula() const override { return "d flip(x) = flip(g)"; }
  gradient_list backward(const Tensor& grad) override { return {flip(grad, dims)}; }
  std::vector<std::int64_t> dims;
};

}  // namespace

Tensor flip(const Tensor& x, IntArrayRef dims) {
  check_defined(x, "flip", "input");
  const Shape shape = x.shape();
  std::vector<std::vector<std::int64_t>> from = identity_maps(shape);
  for (std::size_t d : distinct_dims(dims, shape, "flip"))
    if (d < shape.size()) std::reverse(from[d].begin(), from[d].end());
  Tensor out = remap(x, shape, from);
  if (any_requires_grad({&x})) record(out, make_node<FlipBackward>(dims.vec()), {&x});
  return out;
}

// ---- roll ---------------------------------------------------------------------------------------

namespace {

// d roll(x, s) = roll(g, -s)
struct RollBackward final : Node {
  RollBackward(std::vector<std::int64_t> shifts, std::vector<std::int64_t> dims)
      : shifts(std::move(shifts)), dims(std::move(dims)) {}
  const char* name() const override { return "RollBackward0"; }
  const char* formula() const override { return "d roll(x, s) = roll(g, -s)"; }
  gradient_list backward(const Tensor& grad) override { return {roll(grad, negated(shifts), dims)}; }
  std::vector<std::int64_t> shifts, dims;
};

// Each dim's source coordinates for x rolled by `shifts` along `dims` (the shifts of a dim named
// twice add up, as PyTorch's one roll after another).
std::vector<std::vector<std::int64_t>> roll_maps(const Shape& shape, IntArrayRef shifts, IntArrayRef dims) {
  std::vector<std::int64_t> total(std::max<std::size_t>(shape.size(), 1), 0);
  for (std::size_t i = 0; i < dims.size(); ++i) total[normalize_dim(dims[i], shape, "roll")] += shifts[i];
  std::vector<std::vector<std::int64_t>> from = identity_maps(shape);
  for (std::size_t d = 0; d < shape.size(); ++d) {
    const std::int64_t n = shape[d];
    if (n == 0) continue;
    for (std::int64_t i = 0; i < n; ++i) from[d][static_cast<std::size_t>(i)] = (((i - total[d]) % n) + n) % n;
  }
  return from;
}

}  // namespace

Tensor roll(const Tensor& x, IntArrayRef shifts, IntArrayRef dims) {
  check_defined(x, "roll", "input");
  if (shifts.empty()) throw Error(concat("roll: `shifts` required (shape ", shape_str(x.shape()), ")"));
  if (dims.empty() && shifts.size() != 1)
    throw Error(concat("roll: shifts and dimensions must align. shifts: ", shifts.size(), ", dims:0 (without dims, one "
                       "shift rolls the flattened tensor)"));
  if (!dims.empty() && shifts.size() != dims.size())
    throw Error(concat("roll: shifts and dimensions must align. shifts: ", shifts.size(), ", dims:", dims.size()));
  Tensor out;
  if (dims.empty()) {
    const Shape flat = {x.numel()};
    NoGradGuard no_grad;
    out = reshape(remap(reshape(x, {-1}), flat, roll_maps(flat, shifts, {0})), x.sizes());
  } else {
    out = remap(x, x.shape(), roll_maps(x.shape(), shifts, dims));
  }
  if (any_requires_grad({&x})) record(out, make_node<RollBackward>(shifts.vec(), dims.vec()), {&x});
  return out;
}

// ---- repeat -------------------------------------------------------------------------------------

namespace {

// d repeat(x, r) = the tiles of g added up: g seen as [r0, n0, r1, n1, ...] summed over the r's
struct RepeatBackward final : Node {
  RepeatBackward(Shape input_shape, std::vector<std::int64_t> repeats)
      : input_shape(std::move(input_shape)), repeats(std::move(repeats)) {}
  const char* name() const override { return "RepeatBackward0"; }
  const char* formula() const override { return "d repeat(x) = the tiles of g added up"; }
  gradient_list backward(const Tensor& grad) override {
    const std::size_t rank = repeats.size(), lead = rank - input_shape.size();
    std::vector<std::int64_t> tiles;
    for (std::size_t d = 0; d < rank; ++d) {
      tiles.push_back(repeats[d]);
      tiles.push_back(d < lead ? 1 : input_shape[d - lead]);
    }
    Tensor summed = reshape(grad, tiles);
    for (std::size_t d = rank; d-- > 0;) summed = sum(summed, static_cast<std::int64_t>(2 * d));
    return {reshape(summed, input_shape)};
  }
  Shape input_shape;
  std::vector<std::int64_t> repeats;
};

}  // namespace

Tensor repeat(const Tensor& x, IntArrayRef repeats) {
  check_defined(x, "repeat", "input");
  const Shape shape = x.shape();
  if (repeats.size() < shape.size())
    throw Error(concat("repeat: Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                       "tensor (repeats ", shape_str(repeats.vec()), ", shape ", shape_str(shape), ")"));
  for (std::int64_t r : repeats)
    if (r < 0)
      throw Error(concat("repeat: repeats must be non-negative, got ", shape_str(repeats.vec()), " for shape ",
                         shape_str(shape)));
  const std::size_t rank = repeats.size(), lead = rank - shape.size();
  Shape padded(lead, 1), out_shape;
  padded.insert(padded.end(), shape.begin(), shape.end());
  std::vector<std::vector<std::int64_t>> from(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    out_shape.push_back(padded[d] * repeats[d]);
    for (std::int64_t i = 0; i < out_shape[d]; ++i) from[d].push_back(i % padded[d]);
  }
  Tensor out;
  {
    NoGradGuard no_grad;
    out = remap(reshape(x, padded), out_shape, from);
  }
  if (any_requires_grad({&x})) record(out, make_node<RepeatBackward>(shape, repeats.vec()), {&x});
  return out;
}

// ---- repeat_interleave --------------------------------------------------------------------------

namespace {

// The counts as a vector, checked: int64, 0-dim or 1-dim, each >= 0.
std::vector<std::int64_t> repeat_counts(const Tensor& repeats) {
  check_defined(repeats, "repeat_interleave", "repeats");
  if (repeats.dtype() != kInt64)
    throw Error(concat("repeat_interleave: repeats must be an int64 tensor, got ", dtype_name(repeats.dtype())));
  if (repeats.dim() > 1)
    throw Error(concat("repeat_interleave: repeats must be 0-dim or 1-dim tensor, got shape ",
                       shape_str(repeats.shape())));
  std::vector<std::int64_t> counts = repeats.contiguous().to_vector<std::int64_t>();
  for (std::int64_t c : counts)
    if (c < 0) throw Error(concat("repeat_interleave: repeats can not be negative, got ", c));
  return counts;
}

Tensor repeated_indices(const std::vector<std::int64_t>& counts, std::optional<std::int64_t> output_size) {
  std::vector<std::int64_t> indices;
  for (std::size_t i = 0; i < counts.size(); ++i) indices.insert(indices.end(), static_cast<std::size_t>(counts[i]),
                                                                 static_cast<std::int64_t>(i));
  if (output_size && *output_size != static_cast<std::int64_t>(indices.size()))
    throw Error(concat("repeat_interleave: output_size ", *output_size, " differs from the ", indices.size(),
                       " elements the repeats give"));
  return from_buffer(indices.data(), {static_cast<std::int64_t>(indices.size())});
}

}  // namespace

Tensor repeat_interleave(const Tensor& repeats, std::optional<std::int64_t> output_size) {
  const std::vector<std::int64_t> counts = repeat_counts(repeats);
  if (repeats.dim() != 1)
    throw Error(concat("repeat_interleave: repeats must be a 1-dim tensor here, got shape ",
                       shape_str(repeats.shape())));
  return repeated_indices(counts, output_size);
}

Tensor repeat_interleave(const Tensor& x, const Tensor& repeats, std::optional<std::int64_t> dim,
                         std::optional<std::int64_t> output_size) {
  check_defined(x, "repeat_interleave", "input");
  const Tensor input = dim ? x : reshape(x, {-1});
  const std::int64_t d = dim ? static_cast<std::int64_t>(normalize_dim(*dim, x.shape(), "repeat_interleave")) : 0;
  std::vector<std::int64_t> counts = repeat_counts(repeats);
  const std::int64_t size = input.dim() == 0 ? 1 : input.size(d);
  if (counts.size() == 1 && size != 1) counts.assign(static_cast<std::size_t>(size), counts[0]);
  if (static_cast<std::int64_t>(counts.size()) != size)
    throw Error(concat("repeat_interleave: repeats must have the same size as input along dim (repeats ",
                       shape_str(repeats.shape()), ", input ", shape_str(x.shape()), ", dim ", d, ")"));
  return index_select(input, d, repeated_indices(counts, output_size));
}

Tensor repeat_interleave(const Tensor& x, std::int64_t repeats, std::optional<std::int64_t> dim,
                         std::optional<std::int64_t> output_size) {
  if (repeats < 0) throw Error(concat("repeat_interleave: repeats can not be negative, got ", repeats));
  return repeat_interleave(x, full({}, repeats, kInt64), dim, output_size);
}

// ---- one_hot ------------------------------------------------------------------------------------

Tensor one_hot(const Tensor& indices, std::int64_t num_classes) {
  check_defined(indices, "one_hot", "input");
  if (indices.dtype() != kInt64)
    throw Error(concat("one_hot: one_hot is only applicable to index tensor (int64), got ",
                       dtype_name(indices.dtype())));
  Shape out_shape = indices.shape();
  if (indices.numel() == 0) {
    if (num_classes == -1)
      throw Error(concat("one_hot: Can not infer total number of classes from empty tensor (shape ",
                         shape_str(indices.shape()), ")"));
    out_shape.push_back(std::max<std::int64_t>(num_classes, 0));
    return zeros(out_shape, kInt64);
  }
  const std::vector<std::int64_t> values = indices.contiguous().to_vector<std::int64_t>();
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  if (*low < 0) throw Error(concat("one_hot: Class values must be non-negative, got ", *low));
  if (num_classes == -1) num_classes = *high + 1;
  if (*high >= num_classes)
    throw Error(concat("one_hot: Class values must be smaller than num_classes, got ", *high, " for num_classes ",
                       num_classes));
  out_shape.push_back(num_classes);
  Array<std::int64_t> out = Array<std::int64_t>::from_shape(out_shape);
  std::fill(out.begin(), out.end(), 0);
  for (std::size_t i = 0; i < values.size(); ++i)
    out.data()[i * static_cast<std::size_t>(num_classes) + static_cast<std::size_t>(values[i])] = 1;
  return make_tensor(std::move(out));
}

// ---- constant_pad_nd ----------------------------------------------------------------------------

namespace {

// d constant_pad_nd(x, p) = constant_pad_nd(g, -p): the padding cropped off again
struct ConstantPadBackward final : Node {
  explicit ConstantPadBackward(std::vector<std::int64_t> pad) : pad(std::move(pad)) {}
  const char* name() const override { return "ConstantPadNdBackward0"; }
  const char* formula() const override {
    return "d constant_pad_nd(x, p) = constant_pad_nd(g, -p): the padding cropped off";
  }
  gradient_list backward(const Tensor& grad) override { return {constant_pad_nd(grad, negated(pad), 0)}; }
  std::vector<std::int64_t> pad;
};

// The padded shape; each pair pads one dim from the last backwards.
Shape padded_shape(const Shape& shape, IntArrayRef pad) {
  if (pad.size() % 2 != 0)
    throw Error(concat("constant_pad_nd: Length of pad must be even but instead it equals ", pad.size(), " (pad ",
                       shape_str(pad.vec()), ")"));
  if (pad.size() / 2 > shape.size())
    throw Error(concat("constant_pad_nd: Length of pad should be no more than twice the number of dimensions of the "
                       "input. Pad length is ",
                       pad.size(), " while the input has ", shape.size(), " dimensions (shape ", shape_str(shape), ")"));
  Shape out = shape;
  for (std::size_t pair = 0; pair < pad.size() / 2; ++pair) {
    const std::size_t d = shape.size() - 1 - pair;
    const std::int64_t before = pad[2 * pair], after = pad[2 * pair + 1];
    out[d] = shape[d] + before + after;
    if (out[d] < 0)
      throw Error(concat("constant_pad_nd: The input size ", shape[d], ", plus negative padding ", before, " and ",
                         after, " resulted in a negative output size, which is invalid. Check dimension ", d,
                         " of your input (shape ", shape_str(shape), ")"));
  }
  return out;
}

}  // namespace

Tensor constant_pad_nd(const Tensor& x, IntArrayRef pad, const Scalar& value) {
  check_defined(x, "constant_pad_nd", "input");
  const Shape shape = x.shape();
  const Shape out_shape = padded_shape(shape, pad);
  // Each dim of the result reads x from `first` on (crop) and is written from `start` (pad).
  const std::size_t rank = shape.size();
  Shape starts(rank, 0), firsts(rank, 0), lengths = shape;
  for (std::size_t pair = 0; pair < pad.size() / 2; ++pair) {
    const std::size_t d = rank - 1 - pair;
    const std::int64_t before = pad[2 * pair], after = pad[2 * pair + 1];
    starts[d] = std::max<std::int64_t>(before, 0);
    firsts[d] = std::max<std::int64_t>(-before, 0);
    lengths[d] = std::max<std::int64_t>(shape[d] - firsts[d] - std::max<std::int64_t>(-after, 0), 0);
  }
  Tensor out = visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> result = Array<T>::from_shape(out_shape);
    std::fill(result.begin(), result.end(), value.to<T>());
    if (numel_of(lengths) == 0) return make_tensor(std::move(result));
    const std::vector<std::int64_t> in_strides = strided::Layout::contiguous_strides(shape);
    const std::vector<std::int64_t> out_strides = strided::Layout::contiguous_strides(out_shape);
    const T* in = array<T>(x).data();
    // One run along the last dim per position of the others; a 0-dim x is one run of one.
    const std::size_t outer_rank = rank == 0 ? 0 : rank - 1;
    const std::int64_t run = rank == 0 ? 1 : lengths[rank - 1];
    const std::int64_t run_from = rank == 0 ? 0 : firsts[rank - 1], run_to = rank == 0 ? 0 : starts[rank - 1];
    std::vector<std::int64_t> position(outer_rank, 0);
    for (;;) {
      std::int64_t from = run_from, to = run_to;
      for (std::size_t d = 0; d < outer_rank; ++d) {
        from += (firsts[d] + position[d]) * in_strides[d];
        to += (starts[d] + position[d]) * out_strides[d];
      }
      std::copy(in + from, in + from + run, result.data() + to);
      std::size_t d = outer_rank;
      while (d-- > 0) {
        if (++position[d] < lengths[d]) break;
        position[d] = 0;
      }
      if (d == static_cast<std::size_t>(-1)) break;
    }
    return make_tensor(std::move(result));
  });
  if (any_requires_grad({&x})) record(out, make_node<ConstantPadBackward>(pad.vec()), {&x});
  return out;
}

// ---- cosine_similarity --------------------------------------------------------------------------

namespace {

// The floating dtype two inputs are compared in, as torch.result_type: the wider floating one.
Dtype similarity_dtype(const Tensor& x1, const Tensor& x2) {
  if (x1.dtype() == kFloat64 || x2.dtype() == kFloat64) return kFloat64;
  if (x1.dtype() == kFloat32 || x2.dtype() == kFloat32) return kFloat32;
  throw Error(concat("cosine_similarity: expected common dtype to be floating point, yet common dtype is ",
                     dtype_name(x1.dtype()), " (x1 ", dtype_name(x1.dtype()), ", x2 ", dtype_name(x2.dtype()), ")"));
}

// sqrt(max(sum x^2, eps^2)) along dim, kept as a dim of size 1, as PyTorch 1.13 computes the norms:
// the clamp is applied in place under no_grad, so autograd sees sqrt(sum x^2) whose square root
// saved the clamped value. Where the clamp acts the gradient is then x / eps, not 0.
Tensor clamped_norm(const Tensor& x, std::int64_t dim, double eps) {
  const Tensor squares = sum(x * x, dim, true);
  const Tensor value = squares.detach();
  return sqrt(squares + (clamp_min(value, eps * eps) - value));
}

}  // namespace

Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, std::int64_t dim, double eps) {
  check_defined(x1, "cosine_similarity", "x1");
  check_defined(x2, "cosine_similarity", "x2");
  const Dtype dtype = similarity_dtype(x1, x2);
  const Shape shape = broadcast_shapes(x1.shape(), x2.shape(), "cosine_similarity");
  const Tensor a = x1.to(dtype).expand(shape), b = x2.to(dtype).expand(shape);
  const auto d = static_cast<std::int64_t>(normalize_dim(dim, shape, "cosine_similarity"));
  return sum((a / clamped_norm(a, d, eps)) * (b / clamped_norm(b, d, eps)), d);
}

// ---- Tensor methods ------------------------------------------------------------------------------

Tensor Tensor::tril(std::int64_t diagonal) const { return xgrad::tril(*this, diagonal); }
Tensor Tensor::triu(std::int64_t diagonal) const { return xgrad::triu(*this, diagonal); }
Tensor& Tensor::tril_(std::int64_t diagonal) const {
  return apply_in_place(const_cast<Tensor&>(*this), "tril_",
                        [&](const Tensor& old) { return xgrad::tril(old, diagonal); });
}
Tensor& Tensor::triu_(std::int64_t diagonal) const {
  return apply_in_place(const_cast<Tensor&>(*this), "triu_",
                        [&](const Tensor& old) { return xgrad::triu(old, diagonal); });
}
Tensor Tensor::cumsum(std::int64_t dim, std::optional<ScalarType> dtype) const {
  return xgrad::cumsum(*this, dim, dtype);
}
Tensor Tensor::cumprod(std::int64_t dim, std::optional<ScalarType> dtype) const {
  return xgrad::cumprod(*this, dim, dtype);
}
Tensor Tensor::flip(IntArrayRef dims) const { return xgrad::flip(*this, dims); }
Tensor Tensor::roll(IntArrayRef shifts, IntArrayRef dims) const { return xgrad::roll(*this, shifts, dims); }
Tensor Tensor::repeat(IntArrayRef repeats) const { return xgrad::repeat(*this, repeats); }
Tensor Tensor::repeat_interleave(const Tensor& repeats, std::optional<std::int64_t> dim,
                                 std::optional<std::int64_t> output_size) const {
  return xgrad::repeat_interleave(*this, repeats, dim, output_size);
}
Tensor Tensor::repeat_interleave(std::int64_t repeats, std::optional<std::int64_t> dim,
                                 std::optional<std::int64_t> output_size) const {
  return xgrad::repeat_interleave(*this, repeats, dim, output_size);
}

}  // namespace xgrad
