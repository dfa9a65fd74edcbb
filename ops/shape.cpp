#include <xgrad/ops/shape.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/broadcast_impl.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/indexing_impl.hpp>

namespace xgrad {

namespace {

// Error messages are built only on failure (shape_str allocates, and these checks run on every op).

void check_defined(const Tensor& t, const char* op, const char* argument) {
  check(t.defined(), op, ": ", argument, " is an undefined tensor");
}

// The same row-major elements under another shape of equal size (a copy: an xarray owns its data).
template <class T>
Array<T> with_shape(const Array<T>& x, const Shape& shape) {
  Array<T> out = Array<T>::from_shape(shape);
  std::copy(x.data(), x.data() + x.size(), out.data());
  return out;
}

Tensor reshaped_copy(const Tensor& x, const Shape& shape) {
  return visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(with_shape(array<T>(x), shape));
  });
}

Tensor reshape_as(const Tensor& x, const Shape& shape, const char* node_name);

// d reshape(x) = g with x's shape; shared by every op that only changes the shape
struct ReshapeBackward final : Node {
  ReshapeBackward(const char* op_name, Shape input_shape) : op_name(op_name), input_shape(std::move(input_shape)) {}
  const char* name() const override { return op_name; }
  // Recorded as PyTorch records the gradient's reshape.
  std::vector<Tensor> backward(const Tensor& grad) override {
    return {reshape_as(grad, input_shape, "ReshapeAliasBackward0")};
  }
  const char* op_name;
  Shape input_shape;
};

// x's elements under `shape` (whose element count the caller has checked), recorded as node_name.
Tensor reshape_as(const Tensor& x, const Shape& shape, const char* node_name) {
  Tensor out = reshaped_copy(x, shape);
  if (any_requires_grad({&x})) record(out, std::make_shared<ReshapeBackward>(node_name, x.shape()), {&x});
  return out;
}

}  // namespace

namespace {

// The requested sizes with a -1 replaced by what makes the element count match (PyTorch's
// infer_size); more than one -1, another negative size, or a count that cannot match is an Error.
Shape infer_shape(IntArrayRef requested, const Shape& from, const char* op) {
  Shape shape = requested.vec();
  const std::int64_t count = numel_of(from);
  std::int64_t known = 1;
  std::ptrdiff_t inferred = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (inferred >= 0) throw Error(concat(op, ": only one dimension can be inferred, got shape ", shape_str(shape)));
      inferred = static_cast<std::ptrdiff_t>(i);
    } else if (shape[i] < 0) {
      throw Error(concat(op, ": invalid size ", shape[i], " in shape ", shape_str(shape)));
    } else {
      known *= shape[i];
    }
  }
  if (inferred >= 0 && known != 0 && count % known == 0) shape[static_cast<std::size_t>(inferred)] = count / known;
  if (inferred >= 0 ? (known == 0 || count % known != 0) : known != count)
    throw Error(concat(op, ": shape ", shape_str(shape), " is invalid for input of size ", count, " (shape ",
                       shape_str(from), ")"));
  return shape;
}

}  // namespace

Tensor reshape(const Tensor& x, IntArrayRef shape) {
  check_defined(x, "reshape", "input");
  return reshape_as(x, infer_shape(shape, x.shape(), "reshape"), "ViewBackward0");
}

Tensor view(const Tensor& x, IntArrayRef shape) {
  check_defined(x, "view", "input");
  return reshape_as(x, infer_shape(shape, x.shape(), "view"), "ViewBackward0");
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
  check_defined(x, "unsqueeze", "input");
  Shape shape = x.shape();
  const auto rank = static_cast<std::int64_t>(shape.size());
  // One more position than dims: a new dim may also go after the last one.
  if (dim < -rank - 1 || dim > rank)
    throw Error(concat("unsqueeze: dim ", dim, " out of range for a tensor of shape ", shape_str(shape),
                       " (expected a dim in [", -rank - 1, ", ", rank, "])"));
  const std::int64_t at = dim < 0 ? dim + rank + 1 : dim;
  shape.insert(shape.begin() + at, 1);
  return reshape_as(x, shape, "UnsqueezeBackward0");
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
  check_defined(x, "squeeze", "input");
  Shape shape = x.shape();
  const std::size_t at = normalize_dim(dim, shape, "squeeze");
  if (!shape.empty() && shape[at] == 1) shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(at));
  return reshape_as(x, shape, "SqueezeBackward1");
}

Tensor squeeze(const Tensor& x) {
  check_defined(x, "squeeze", "input");
  Shape shape = x.shape();
  shape.erase(std::remove(shape.begin(), shape.end(), std::int64_t{1}), shape.end());
  return reshape_as(x, shape, "SqueezeBackward0");
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  check_defined(x, "flatten", "input");
  const Shape from = x.shape();
  const std::size_t start = normalize_dim(start_dim, from, "flatten");
  const std::size_t end = normalize_dim(end_dim, from, "flatten");
  if (start > end)
    throw Error(concat("flatten: start_dim ", start_dim, " comes after end_dim ", end_dim, " for a tensor of shape ",
                       shape_str(from)));
  if (from.empty()) return reshape_as(x, {1}, "ReshapeAliasBackward0");
  Shape shape(from.begin(), from.begin() + static_cast<std::ptrdiff_t>(start));
  std::size_t merged = 1;
  for (std::size_t d = start; d <= end; ++d) merged *= from[d];
  shape.push_back(merged);
  shape.insert(shape.end(), from.begin() + static_cast<std::ptrdiff_t>(end) + 1, from.end());
  return reshape_as(x, shape, "ReshapeAliasBackward0");
}

// ---- broadcast_to ----------------------------------------------------------------------------------

namespace {

// d broadcast_to(x) = sum_to(g, x.shape)
struct BroadcastToBackward final : Node {
  explicit BroadcastToBackward(Shape input_shape) : input_shape(std::move(input_shape)) {}
  const char* name() const override { return "ExpandBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override { return {sum_to(grad, input_shape)}; }
  Shape input_shape;
};

}  // namespace

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "broadcast_to", "input");
  const Shape from = x.shape();
  if (broadcast_shapes(from, shape, "broadcast_to") != shape)
    throw Error(concat("broadcast_to: a tensor of shape ", shape_str(from), " cannot be broadcast to shape ",
                       shape_str(shape)));
  Tensor out = visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(broadcast_array(array<T>(x), shape));
  });
  if (any_requires_grad({&x})) record(out, std::make_shared<BroadcastToBackward>(from), {&x});
  return out;
}

// ---- expand ---------------------------------------------------------------------------------------

namespace {

// The sizes expand asks for, with each -1 replaced by x's size there; Error for anything broadcast
// could not do.
Shape expanded_shape(const Shape& from, IntArrayRef sizes) {
  const auto describe = [&] { return concat(" (sizes ", sizes, ", input shape ", shape_str(from), ")"); };
  if (sizes.size() < from.size())
    throw Error(concat("expand: the number of sizes (", sizes.size(), ") must be at least the number of dims of the input (",
                       from.size(), ")", describe()));
  const std::size_t added = sizes.size() - from.size();
  Shape shape(sizes.begin(), sizes.end());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d < added) {
      if (shape[d] < 0) throw Error(concat("expand: size ", shape[d], " is not allowed in the new leading dim ", d, describe()));
      continue;
    }
    const std::int64_t existing = from[d - added];
    if (shape[d] == -1) shape[d] = existing;
    if (shape[d] != existing && (existing != 1 || shape[d] < 0))
      throw Error(concat("expand: the expanded size ", sizes[d], " must match the existing size ", existing,
                         " at non-singleton dim ", d, describe()));
  }
  return shape;
}

}  // namespace

// broadcast_to records ExpandBackward0 (d/dx = sum_to(g, x.shape)), which is expand's derivative.
Tensor expand(const Tensor& x, IntArrayRef sizes) {
  check_defined(x, "expand", "input");
  return broadcast_to(x, expanded_shape(x.shape(), sizes));
}

Tensor expand_as(const Tensor& x, const Tensor& other) {
  check_defined(other, "expand_as", "other");
  return expand(x, other.sizes());
}

// ---- permute --------------------------------------------------------------------------------------

namespace {

// permute as a walk over the result in row-major order, reading each result dim with the input
// stride of the dim it came from. Neighbouring result dims that are neighbours in the input too are
// merged first (a stride equal to the next dim's extent times its stride), so a permutation that
// keeps the last dim last copies whole rows, and the identity copies one block.
struct PermuteWalk {
  // Merged dims in result order, size-1 dims dropped: extent, input stride, result stride.
  std::vector<std::size_t> extents, in_strides, out_strides;
};

PermuteWalk plan_permute(const Shape& shape, const std::vector<std::size_t>& order) {
  std::vector<std::size_t> input_strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) input_strides[d - 1] = input_strides[d] * shape[d];
  PermuteWalk walk;
  for (std::size_t from : order) {
    const auto extent = static_cast<std::size_t>(shape[from]);
    const std::size_t stride = input_strides[from];
    if (extent == 1) continue;
    if (!walk.in_strides.empty() && walk.in_strides.back() == extent * stride) {
      walk.extents.back() *= extent;
      walk.in_strides.back() = stride;
    } else {
      walk.extents.push_back(extent);
      walk.in_strides.push_back(stride);
    }
  }
  walk.out_strides.assign(walk.extents.size(), 1);
  for (std::size_t k = walk.extents.size(); k-- > 1;) walk.out_strides[k - 1] = walk.out_strides[k] * walk.extents[k];
  return walk;
}

// Calls visit(input_offset, result_offset) for every combination of positions along `dims` (some
// of the walk's dims), as an odometer: the last of them turns fastest.
template <class F>
void for_each_position(const PermuteWalk& walk, const std::vector<std::size_t>& dims, F visit) {
  std::vector<std::size_t> position(dims.size(), 0);
  std::size_t in = 0, out = 0;
  for (;;) {
    visit(in, out);
    std::size_t k = dims.size();
    for (; k > 0; --k) {
      const std::size_t d = dims[k - 1];
      if (++position[k - 1] < walk.extents[d]) {
        in += walk.in_strides[d];
        out += walk.out_strides[d];
        break;
      }
      in -= (walk.extents[d] - 1) * walk.in_strides[d];
      out -= (walk.extents[d] - 1) * walk.out_strides[d];
      position[k - 1] = 0;
    }
    if (k == 0) return;  // every dim wrapped around: done
  }
}

// The result's last dim reads the input with a stride. Some other result dim c reads it
// contiguously (the input's last dim went there), so the (c, last) plane is a transpose: copied in
// square tiles, each input and result cache line it touches is used whole before it is evicted,
// where a plain walk would fetch a new input line for every element.
template <class T>
void permute_tiled(const PermuteWalk& walk, const T* in, T* out) {
  const std::size_t last = walk.extents.size() - 1;
  const auto contiguous = std::find(walk.in_strides.begin(), walk.in_strides.end(), std::size_t{1});
  const auto c = static_cast<std::size_t>(contiguous - walk.in_strides.begin());
  std::vector<std::size_t> others;
  for (std::size_t d = 0; d < last; ++d)
    if (d != c) others.push_back(d);
  const std::size_t rows = walk.extents[c], cols = walk.extents[last];
  const std::size_t row_step = walk.out_strides[c], col_step = walk.in_strides[last];
  constexpr std::size_t tile = 16;
  for_each_position(walk, others, [&](std::size_t in_base, std::size_t out_base) {
    for (std::size_t i0 = 0; i0 < rows; i0 += tile)
      for (std::size_t j0 = 0; j0 < cols; j0 += tile) {
        const std::size_t i_end = std::min(i0 + tile, rows), j_end = std::min(j0 + tile, cols);
        for (std::size_t i = i0; i < i_end; ++i)
          for (std::size_t j = j0; j < j_end; ++j) out[out_base + i * row_step + j] = in[in_base + i + j * col_step];
      }
  });
}

template <class T>
void permute_into(const PermuteWalk& walk, const T* in, T* out, std::size_t count) {
  if (count == 0) return;
  if (walk.extents.empty()) {  // one element
    *out = *in;
    return;
  }
  // The input's last dim (stride 1) always survives merging, in some result dim.
  const std::size_t last = walk.extents.size() - 1;
  if (walk.in_strides[last] != 1) {
    permute_tiled(walk, in, out);
    return;
  }
  std::vector<std::size_t> outer(last);
  for (std::size_t d = 0; d < last; ++d) outer[d] = d;
  const std::size_t run = walk.extents[last];
  for_each_position(walk, outer, [&](std::size_t from, std::size_t to) { copy_run(in + from, run, out + to); });
}

Tensor permuted_copy(const Tensor& x, const std::vector<std::size_t>& order) {
  const Shape shape = x.shape();
  Shape out_shape(order.size());
  for (std::size_t k = 0; k < order.size(); ++k) out_shape[k] = shape[order[k]];
  const PermuteWalk walk = plan_permute(shape, order);
  return visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> out = Array<T>::from_shape(out_shape);
    permute_into(walk, array<T>(x).data(), out.data(), out.size());
    return make_tensor(std::move(out));
  });
}

// d permute(x, dims) = permute(g, inverse): result dim k goes back to input dim dims[k]
struct PermuteBackward final : Node {
  explicit PermuteBackward(std::vector<std::int64_t> inverse) : inverse(std::move(inverse)) {}
  const char* name() const override { return "PermuteBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override { return {permute(grad, inverse)}; }
  std::vector<std::int64_t> inverse;
};

}  // namespace

Tensor permute(const Tensor& x, IntArrayRef dims) {
  check_defined(x, "permute", "input");
  const Shape shape = x.shape();
  if (dims.size() != shape.size())
    throw Error(concat("permute: dims ", dims, " has ", dims.size(), " entries but the input has ", shape.size(),
                       " dims (shape ", shape_str(shape), ")"));
  std::vector<std::size_t> order(dims.size());
  std::vector<std::int64_t> inverse(dims.size(), -1);
  for (std::size_t k = 0; k < dims.size(); ++k) {
    order[k] = normalize_dim(dims[k], shape, "permute");
    if (inverse[order[k]] >= 0)
      throw Error(concat("permute: dim ", dims[k], " appears more than once in dims ", dims, " (input shape ",
                         shape_str(shape), ")"));
    inverse[order[k]] = static_cast<std::int64_t>(k);
  }
  Tensor out = permuted_copy(x, order);
  if (any_requires_grad({&x})) record(out, std::make_shared<PermuteBackward>(std::move(inverse)), {&x});
  return out;
}

// ---- gather ----------------------------------------------------------------------------------------

namespace {

// Where gather reads: for every index element in row-major order, the input offset of its position
// with the `dim` coordinate left at 0. Input strides are row-major; the index may be smaller than
// the input along every dim, so positions are walked with an odometer rather than a flat counter.
struct GatherWalk {
  Shape index_shape;
  std::vector<std::size_t> input_strides;
  std::size_t dim;
  std::size_t dim_size;

  template <class F>
  void for_each(F visit) const {
    const std::size_t rank = index_shape.size();
    const std::size_t count = numel_of(index_shape);
    std::vector<std::size_t> position(rank, 0);
    std::size_t base = 0;
    for (std::size_t flat = 0; flat < count; ++flat) {
      visit(flat, base);
      for (std::size_t d = rank; d-- > 0;) {
        const std::size_t step = d == dim ? 0 : input_strides[d];
        if (++position[d] < static_cast<std::size_t>(index_shape[d])) {
          base += step;
          break;
        }
        base -= (index_shape[d] - 1) * step;
        position[d] = 0;
      }
    }
  }
};

std::string position_str(std::size_t flat, const Shape& shape) {
  Shape position(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    position[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(position);
}

// Validates gather's arguments and describes the walk. A 0-dim input and index act as shape [1].
GatherWalk plan_gather(const Tensor& input, std::int64_t dim, const Tensor& index) {
  check_defined(input, "gather", "input");
  check_defined(index, "gather", "index");
  Shape input_shape = input.shape(), index_shape = index.shape();
  if (index.dtype() != kInt64)
    throw Error(concat("gather: index must be an int64 tensor, got ", dtype_name(index.dtype()), " (index shape ",
                       shape_str(index_shape), ")"));
  if (input_shape.size() != index_shape.size())
    throw Error(concat("gather: index shape ", shape_str(index_shape), " and input shape ", shape_str(input_shape),
                       " must have the same number of dims"));
  const std::size_t axis = normalize_dim(dim, input_shape, "gather");
  if (input_shape.empty()) input_shape = index_shape = {1};
  for (std::size_t d = 0; d < input_shape.size(); ++d)
    if (d != axis && index_shape[d] > input_shape[d])
      throw Error(concat("gather: index shape ", shape_str(index_shape), " is larger than input shape ",
                         shape_str(input_shape), " at dim ", d, " (only dim ", axis, " may be larger)"));
  GatherWalk walk{index_shape, std::vector<std::size_t>(input_shape.size(), 1), axis,
                   static_cast<std::size_t>(input_shape[axis])};
  for (std::size_t d = input_shape.size() - 1; d-- > 0;) walk.input_strides[d] = walk.input_strides[d + 1] * input_shape[d + 1];

  // Every index value must be a valid position along dim, checked before any element is read.
  const std::int64_t* values = array<std::int64_t>(index).data();
  const auto size = static_cast<std::int64_t>(walk.dim_size);
  for (std::int64_t flat = 0; flat < numel_of(index_shape); ++flat)
    if (values[flat] < 0 || values[flat] >= size)
      throw Error(concat("gather: index value ", values[flat], " at position ", position_str(flat, index_shape),
                         " is out of range for dim ", axis, " of size ", size, " (input shape ",
                         shape_str(input.shape()), ")"));
  return walk;
}

// g added into zeros of the input's shape at the positions gather read (an index may repeat):
// torch.zeros(input_shape).scatter_add(dim, index, g).
Tensor scatter_add_values(const Tensor& grad, const GatherWalk& walk, const Tensor& index, const Shape& input_shape) {
  return visit_floating(grad.dtype(), "gather backward", [&](auto tag) {
    using T = decltype(tag);
    Array<T> out = Array<T>::from_shape(input_shape);
    out.fill(T(0));
    const T* g = array<T>(grad).data();
    const std::int64_t* at = array<std::int64_t>(index).data();
    const std::size_t stride = walk.input_strides[walk.dim];
    T* o = out.data();
    walk.for_each([&](std::size_t flat, std::size_t base) {
      o[base + static_cast<std::size_t>(at[flat]) * stride] += g[flat];
    });
    return make_tensor(std::move(out));
  });
}

// d scatter_add(zeros, dim, index, g) / dg = gather(gg, dim, index): each element of g went to one
// position, and gather reads it back from there
struct ScatterAddBackward final : Node {
  ScatterAddBackward(std::int64_t dim, Tensor index) : dim(dim), index(std::move(index)) {}
  const char* name() const override { return "ScatterAddBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override { return {gather(grad, dim, index)}; }
  void release_saved() override { index = Tensor(); }
  std::int64_t dim;
  Tensor index;
};

// gather's derivative as an op of its own, so that a gradient can be differentiated again.
Tensor scatter_add_to_zeros(const Tensor& grad, const GatherWalk& walk, const Tensor& index, const Shape& input_shape) {
  Tensor out = scatter_add_values(grad, walk, index, input_shape);
  if (any_requires_grad({&grad}))
    record(out, std::make_shared<ScatterAddBackward>(static_cast<std::int64_t>(walk.dim), index), {&grad}, {&index});
  return out;
}

// d gather(x, dim, index) = g added into zeros at the gathered positions (an index may repeat)
struct GatherBackward final : Node {
  GatherBackward(GatherWalk walk, Tensor index, Shape input_shape)
      : walk(std::move(walk)), index(std::move(index)), input_shape(std::move(input_shape)) {}
  const char* name() const override { return "GatherBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    return {scatter_add_to_zeros(grad, walk, index, input_shape)};
  }
  void release_saved() override { index = Tensor(); }
  GatherWalk walk;
  Tensor index;
  Shape input_shape;
};

}  // namespace

Tensor gather(const Tensor& input, std::int64_t dim, const Tensor& index) {
  GatherWalk walk = plan_gather(input, dim, index);
  Tensor out = visit_any_dtype(input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape(index.shape());
    const T* in = array<T>(input).data();
    const std::int64_t* at = array<std::int64_t>(index).data();
    const std::size_t stride = walk.input_strides[walk.dim];
    T* o = values.data();
    walk.for_each([&](std::size_t flat, std::size_t base) {
      o[flat] = in[base + static_cast<std::size_t>(at[flat]) * stride];
    });
    return make_tensor(std::move(values));
  });
  if (any_requires_grad({&input}))
    record(out, std::make_shared<GatherBackward>(std::move(walk), index, input.shape()), {&input}, {&index});
  return out;
}

// ---- to_dtype --------------------------------------------------------------------------------------

namespace {

// A float -> int64 cast truncates towards zero; NaN and out-of-range values, undefined behaviour
// for a plain static_cast, give the minimum int64 as x86 (and so PyTorch on it) does.
template <class To, class From>
To cast_element(From value) {
  // Like PyTorch on x86: a float becomes uint8 through int64, so 300.0 wraps to 44.
  if constexpr (std::is_same_v<To, std::uint8_t> && std::is_floating_point_v<From>) {
    return static_cast<To>(cast_element<std::int64_t>(value));
  } else if constexpr (std::is_integral_v<To> && !std::is_same_v<To, bool> && std::is_floating_point_v<From>) {
    constexpr double limit = 9223372036854775807.0;
    if (!(std::abs(static_cast<double>(value)) < limit)) return std::numeric_limits<To>::min();
  }
  return static_cast<To>(value);
}

Tensor cast(const Tensor& x, Dtype dtype) {
  return visit_any_dtype(x.dtype(), [&](auto from_tag) {
    using From = decltype(from_tag);
    return visit_any_dtype(dtype, [&](auto to_tag) {
      using To = decltype(to_tag);
      const Array<From>& source = array<From>(x);
      Array<To> out = Array<To>::from_shape(source.shape());
      std::transform(source.data(), source.data() + source.size(), out.data(), cast_element<To, From>);
      return make_tensor(std::move(out));
    });
  });
}

// d to_dtype(x) = g cast back to x's dtype
struct ToDtypeBackward final : Node {
  explicit ToDtypeBackward(Dtype input_dtype) : input_dtype(input_dtype) {}
  const char* name() const override { return "ToCopyBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override { return {to_dtype(grad, input_dtype)}; }
  Dtype input_dtype;
};

}  // namespace

Tensor to_dtype(const Tensor& x, Dtype dtype) {
  check_defined(x, "to_dtype", "input");
  if (x.dtype() == dtype) return x;
  Tensor out = cast(x, dtype);
  // A cast to int64 ends the graph, as in PyTorch: integer tensors carry no gradient.
  if (is_floating(dtype) && any_requires_grad({&x}))
    record(out, std::make_shared<ToDtypeBackward>(x.dtype()), {&x});
  return out;
}

// ---- Tensor methods ---------------------------------------------------------------------------------

Tensor Tensor::permute(IntArrayRef dims) const { return xgrad::permute(*this, dims); }
Tensor Tensor::expand(IntArrayRef sizes, bool /*implicit*/) const { return xgrad::expand(*this, sizes); }
Tensor Tensor::expand_as(const Tensor& other) const { return xgrad::expand_as(*this, other); }

}  // namespace xgrad
