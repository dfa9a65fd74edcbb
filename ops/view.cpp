// View ops: each computes where its result sits in x's storage (sizes, strides, offset) and
// returns a tensor sharing that storage; no element is copied.
//
// The derivative follows from the same layout. Ops that only rename the elements' positions
// (view, reshape, squeeze, unsqueeze, flatten) reshape g back; those that reorder them (permute,
// transpose, t) permute g back; expand sums g over the repeated dims; and ops that pick elements
// (select, narrow, slice, diagonal, unfold, as_strided, chunk, split, unbind) add g into zeros at
// the elements they picked, at the same layout applied to x laid out densely (core/view_impl.hpp).
#include <xgrad/ops/view.hpp>

#include <algorithm>
#include <numeric>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/core/view_impl.hpp>
#include <xgrad/ops/broadcast_impl.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/linalg.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad {

// x seen with `sizes`, which hold as many elements (defined with reshape below).
Tensor reshape_to(const Tensor& x, const strided::Dims& sizes);

namespace {

using strided::Layout;

void check_defined(const Tensor& t, const char* op) { check(t.defined(), op, ": input is an undefined tensor"); }

// x laid out densely: the layout its derivative is expressed in.
Layout dense_layout(const Shape& sizes) {
  strided::Dims dims = to_dims(sizes);
  strided::Dims strides = Layout::contiguous_strides(dims);
  return Layout{std::move(dims), std::move(strides), 0};
}

// A view op that picks elements: `pick` maps a layout of x to the view's, applied once to x's place
// in its storage (the view) and once to x laid out densely (its derivative).
template <class Pick>
Tensor picking_view(const Tensor& x, const PickingViewOp& op, Pick pick, const char* multi_output_op = nullptr) {
  Tensor out = make_view(x, pick(layout_of(*x.impl())), multi_output_op);
  if (any_requires_grad({&x})) {
    const Shape sizes = x.shape();
    record(out, make_node<StridedViewBackward>(op, sizes, pick(dense_layout(sizes))), {&x});
  }
  return out;
}

// The picking views' nodes (StridedViewBackward), each with its derivative in words.
const PickingViewOp kSliceView{"SliceBackward0", "SliceBackwardBackward0", "d x[a:b] = zeros with g in the slice"};
const PickingViewOp kSelectView{"SelectBackward0", "SelectBackwardBackward0", "d x[i] = zeros with g at position i"};
const PickingViewOp kSplitView{"SplitBackward0", "SliceBackwardBackward0",
                               "d split(x)[k] = zeros with g in the k-th piece"};
const PickingViewOp kSplitWithSizesView{"SplitWithSizesBackward0", "SliceBackwardBackward0",
                                        "d split_with_sizes(x)[k] = zeros with g in the k-th piece"};
const PickingViewOp kUnbindView{"UnbindBackward0", "SelectBackwardBackward0",
                                "d unbind(x)[i] = zeros with g at position i"};
const PickingViewOp kDiagonalView{"DiagonalBackward0", "DiagonalBackwardBackward0",
                                  "d diagonal(x) = zeros with g on the diagonal"};
const PickingViewOp kUnfoldView{"UnfoldBackward0", "UnfoldBackwardBackward0",
                                "d unfold(x) = each window of g added back where it was read"};

// d view(x) = g with x's shape: shared by the ops that keep the elements' row-major order
struct ReshapeBackward final : Node {
  ReshapeBackward(const NodeText& op, InlineShape input_shape) : op(op), input_shape(std::move(input_shape)) {}
  const char* name() const override { return op.name; }
  const char* formula() const override { return op.formula; }
  gradient_list backward(const Tensor& grad) override {
    return {reshape_to(grad, strided::Dims(input_shape.begin(), input_shape.end()))};
  }
  const NodeText& op;
  InlineShape input_shape;
};

const NodeText kViewNode{"ViewBackward0", "d view(x) = g reshaped to x's shape"};
const NodeText kReshapeAliasNode{"ReshapeAliasBackward0", "d reshape(x) = g reshaped to x's shape"};
const NodeText kUnsqueezeNode{"UnsqueezeBackward0", "d unsqueeze(x, dim) = g with dim removed"};
const NodeText kSqueezeDimNode{"SqueezeBackward1", "d squeeze(x, dim) = g with dim put back"};
const NodeText kSqueezeNode{"SqueezeBackward0", "d squeeze(x) = g reshaped to x's shape"};

// The strides that let `layout`'s elements be seen with `sizes`, keeping their row-major order, or
// nothing when a merged dimension would span two separate runs of the storage. PyTorch's
// computeStride: dims are matched from the innermost outwards in chunks that are contiguous
// among themselves.
std::optional<strided::Dims> strides_for(const Layout& layout, const strided::Dims& sizes) {
  const strided::Dims& old_sizes = layout.sizes;
  const strided::Dims& old_strides = layout.strides;
  if (old_sizes.empty()) return strided::Dims(sizes.size(), 1);
  const std::int64_t numel = layout.numel();
  if (numel == 0 && old_sizes == sizes) return old_strides;
  strided::Dims strides(sizes.size());
  if (numel == 0) return Layout::contiguous_strides(sizes);
  auto view_d = static_cast<std::int64_t>(sizes.size()) - 1;
  std::int64_t chunk_base_stride = old_strides.back();
  std::int64_t tensor_numel = 1, view_numel = 1;
  for (auto tensor_d = static_cast<std::int64_t>(old_sizes.size()) - 1; tensor_d >= 0; --tensor_d) {
    const auto t = static_cast<std::size_t>(tensor_d);
    tensor_numel *= old_sizes[t];
    const bool chunk_ends =
        tensor_d == 0 || (old_sizes[t - 1] != 1 && old_strides[t - 1] != tensor_numel * chunk_base_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || sizes[static_cast<std::size_t>(view_d)] == 1)) {
      strides[static_cast<std::size_t>(view_d)] = view_numel * chunk_base_stride;
      view_numel *= sizes[static_cast<std::size_t>(view_d)];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (tensor_d > 0) {
      chunk_base_stride = old_strides[t - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}

// The requested sizes with a -1 replaced by what makes the element count match (PyTorch's
// infer_size); more than one -1, another negative size, or a count that cannot match is an Error.
strided::Dims infer_shape(IntArrayRef requested, const Tensor& from, const char* op) {
  strided::Dims shape(requested.begin(), requested.end());
  const std::int64_t count = from.numel();
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
                       shape_str(from.shape()), ")"));
  return shape;
}

// x's elements seen with `sizes` (already checked to hold as many), recorded as `name`; nothing
// when the layout cannot be viewed so.
std::optional<Tensor> try_reshaped_view(const Tensor& x, const strided::Dims& sizes, const NodeText& name) {
  Layout layout = layout_of(*x.impl());
  std::optional<strided::Dims> strides = strides_for(layout, sizes);
  if (!strides) return std::nullopt;
  layout.sizes = sizes;
  layout.strides = std::move(*strides);
  Tensor out = make_view(x, std::move(layout));
  if (any_requires_grad({&x})) record(out, make_node<ReshapeBackward>(name, shape_of(x)), {&x});
  return out;
}

Tensor reshaped_view(const Tensor& x, const Shape& sizes, const NodeText& name) {
  return *try_reshaped_view(x, to_dims(sizes), name);  // the ops below only ever keep a viewable order
}

// d unsafe_view(x) = g reshaped back: reshape's copy, for a layout no view can express
struct UnsafeViewBackward final : Node {
  explicit UnsafeViewBackward(Shape input_shape) : input_shape(std::move(input_shape)) {}
  const char* name() const override { return "UnsafeViewBackward0"; }
  const char* formula() const override { return "d reshape(x) = g reshaped to x's shape"; }
  gradient_list backward(const Tensor& grad) override { return {reshape(grad, input_shape)}; }
  Shape input_shape;
};

Tensor reshaped_copy(const Tensor& x, const strided::Dims& sizes) {
  Tensor out = visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = array<T>(x);  // dense, in x's row-major order
    values.reshape(std::vector<std::size_t>(sizes.begin(), sizes.end()));
    return make_tensor(std::move(values));
  });
  if (any_requires_grad({&x})) record(out, make_node<UnsafeViewBackward>(x.shape()), {&x});
  return out;
}

// d permute(x, dims) = permute(g, inverse): result dim k goes back to input dim dims[k]
struct PermuteBackward final : Node {
  PermuteBackward(const NodeText& op, std::vector<std::int64_t> inverse) : op(op), inverse(std::move(inverse)) {}
  const char* name() const override { return op.name; }
  const char* formula() const override { return op.formula; }
  gradient_list backward(const Tensor& grad) override { return {permute(grad, inverse)}; }
  const NodeText& op;
  std::vector<std::int64_t> inverse;
};

const NodeText kPermuteNode{"PermuteBackward0", "d permute(x) = g permuted back"};
const NodeText kTransposeNode{"TransposeBackward0", "d transpose(x) = g transposed back"};
const NodeText kTNode{"TBackward0", "d x^T = g^T"};

Tensor permuted_view(const Tensor& x, const std::vector<std::size_t>& order, const NodeText& name) {
  const Layout from = layout_of(*x.impl());
  Layout layout;
  layout.offset = from.offset;
  std::vector<std::int64_t> inverse(order.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    layout.sizes.push_back(from.sizes[order[k]]);
    layout.strides.push_back(from.strides[order[k]]);
    inverse[order[k]] = static_cast<std::int64_t>(k);
  }
  Tensor out = make_view(x, std::move(layout));
  if (any_requires_grad({&x})) record(out, make_node<PermuteBackward>(name, std::move(inverse)), {&x});
  return out;
}

// d expand(x) = sum_to(g, x.shape)
struct ExpandBackward final : Node {
  explicit ExpandBackward(Shape input_shape) : input_shape(std::move(input_shape)) {}
  const char* name() const override { return "ExpandBackward0"; }
  const char* formula() const override { return "d expand(x) = g summed over the expanded dims"; }
  gradient_list backward(const Tensor& grad) override { return {sum_to(grad, input_shape)}; }
  Shape input_shape;
};

// The sizes expand asks for, with each -1 replaced by x's size there; Error for anything broadcast
// could not do.
Shape expanded_shape(const Shape& from, IntArrayRef sizes) {
  const auto describe = [&] { return concat(" (sizes ", sizes, ", input shape ", shape_str(from), ")"); };
  if (sizes.size() < from.size())
    throw Error(concat("expand: the number of sizes (", sizes.size(),
                       ") must be at least the number of dims of the input (", from.size(), ")", describe()));
  const std::size_t added = sizes.size() - from.size();
  Shape shape(sizes.begin(), sizes.end());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d < added) {
      if (shape[d] < 0)
        throw Error(concat("expand: size ", shape[d], " is not allowed in the new leading dim ", d, describe()));
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

// dim as an index into a shape that must have at least one dim (select, slice and narrow refuse a
// 0-dim tensor, as PyTorch does).
std::size_t pick_dim(const Tensor& x, std::int64_t dim, const char* op) {
  check_defined(x, op);
  if (x.dim() == 0) throw Error(concat(op, ": cannot be applied to a 0-dim tensor (shape [])"));
  return normalize_dim(dim, x.shape(), op);
}

// Elements start, start + step, ... (count of them) along dim.
auto range_along(std::size_t dim, std::int64_t start, std::int64_t count, std::int64_t step) {
  return [=](Layout layout) {
    layout.offset += start * layout.strides[dim];
    layout.sizes[dim] = count;
    layout.strides[dim] *= step;
    return layout;
  };
}

Tensor narrow_as(const Tensor& x, std::size_t dim, std::int64_t start, std::int64_t length,
                 const PickingViewOp& op = kSliceView, const char* multi_output_op = nullptr) {
  return picking_view(x, op, range_along(dim, start, length, 1), multi_output_op);
}

// select, and x[i] (operator[]), which reports under its own name with PyTorch's words for it.
Tensor select_as(const char* op, const Tensor& x, std::int64_t dim, std::int64_t index,
                 const PickingViewOp& view_op = kSelectView, const char* multi_output_op = nullptr) {
  const std::size_t d = pick_dim(x, dim, op);
  const std::int64_t size = x.size(static_cast<std::int64_t>(d));
  if (index < -size || index >= size)
    throw Error(concat(op, ": index ", index, " is out of bounds for dimension ", d, " with size ", size,
                       " (input shape ", shape_str(x.shape()), ")"));
  const std::int64_t at = index < 0 ? index + size : index;
  const auto pick = [d, at](Layout layout) {
    layout.offset += at * layout.strides[d];
    layout.sizes.erase(layout.sizes.begin() + static_cast<std::ptrdiff_t>(d));
    layout.strides.erase(layout.strides.begin() + static_cast<std::ptrdiff_t>(d));
    return layout;
  };
  return picking_view(x, view_op, pick, multi_output_op);
}

}  // namespace

// ---- same elements, another shape ----------------------------------------------------------------

Tensor view(const Tensor& x, IntArrayRef shape) {
  check_defined(x, "view");
  const strided::Dims sizes = infer_shape(shape, x, "view");
  if (std::optional<Tensor> out = try_reshaped_view(x, sizes, kViewNode)) return *out;
  throw Error(concat("view: view size is not compatible with input tensor's size and stride (at least one "
                     "dimension spans across two contiguous subspaces). Use .reshape(...) instead. (input sizes ",
                     shape_str(x.shape()), ", strides ", shape_str(x.strides()), ", requested ", shape_str(sizes), ")"));
}

Tensor view_as(const Tensor& x, const Tensor& other) {
  check(other.defined(), "view_as: other is an undefined tensor");
  return view(x, other.sizes());
}

// A view where x's layout allows one, else a copy.
Tensor reshape_to(const Tensor& x, const strided::Dims& sizes) {
  if (std::optional<Tensor> out = try_reshaped_view(x, sizes, kReshapeAliasNode)) return *out;
  return reshaped_copy(x, sizes);
}

Tensor reshape(const Tensor& x, IntArrayRef shape) {
  check_defined(x, "reshape");
  return reshape_to(x, infer_shape(shape, x, "reshape"));
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  check_defined(x, "flatten");
  const InlineShape from = shape_of(x);
  const std::size_t start = normalize_dim(start_dim, from, "flatten");
  const std::size_t end = normalize_dim(end_dim, from, "flatten");
  if (start > end)
    throw Error(concat("flatten: start_dim ", start_dim, " comes after end_dim ", end_dim, " for a tensor of shape ",
                       shape_str(from.to_shape())));
  if (from.empty()) return reshape(x, {1});
  strided::Dims shape(from.begin(), from.begin() + start);
  std::int64_t merged = 1;
  for (std::size_t d = start; d <= end; ++d) merged *= from[d];
  shape.push_back(merged);
  shape.insert(shape.end(), from.begin() + end + 1, from.end());
  return reshape_to(x, shape);
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
  check_defined(x, "unsqueeze");
  Shape shape = x.shape();
  const auto rank = static_cast<std::int64_t>(shape.size());
  // One more position than dims: a new dim may also go after the last one.
  if (dim < -rank - 1 || dim > rank)
    throw Error(concat("unsqueeze: dim ", dim, " out of range for a tensor of shape ", shape_str(shape),
                       " (expected a dim in [", -rank - 1, ", ", rank, "])"));
  const std::int64_t at = dim < 0 ? dim + rank + 1 : dim;
  shape.insert(shape.begin() + at, 1);
  return reshaped_view(x, shape, kUnsqueezeNode);
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
  check_defined(x, "squeeze");
  Shape shape = x.shape();
  const std::size_t at = normalize_dim(dim, shape, "squeeze");
  if (!shape.empty() && shape[at] == 1) shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(at));
  return reshaped_view(x, shape, kSqueezeDimNode);
}

Tensor squeeze(const Tensor& x) {
  check_defined(x, "squeeze");
  Shape shape = x.shape();
  shape.erase(std::remove(shape.begin(), shape.end(), std::int64_t{1}), shape.end());
  return reshaped_view(x, shape, kSqueezeNode);
}

// ---- same elements, another order -----------------------------------------------------------------

Tensor permute(const Tensor& x, IntArrayRef dims) {
  check_defined(x, "permute");
  const Shape shape = x.shape();
  if (dims.size() != shape.size())
    throw Error(concat("permute: dims ", dims, " has ", dims.size(), " entries but the input has ", shape.size(),
                       " dims (shape ", shape_str(shape), ")"));
  std::vector<std::size_t> order(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (std::size_t k = 0; k < dims.size(); ++k) {
    order[k] = normalize_dim(dims[k], shape, "permute");
    if (seen[order[k]])
      throw Error(concat("permute: dim ", dims[k], " appears more than once in dims ", dims, " (input shape ",
                         shape_str(shape), ")"));
    seen[order[k]] = true;
  }
  return permuted_view(x, order, kPermuteNode);
}

namespace {

std::size_t transpose_dim(std::int64_t dim, const Shape& shape) {
  // As in PyTorch, a 0-dim tensor accepts dims 0 and -1.
  const auto rank = static_cast<std::int64_t>(std::max<std::size_t>(shape.size(), 1));
  if (dim < -rank || dim >= rank)
    throw Error(concat("transpose: dim ", dim, " out of range for a tensor of shape ", shape_str(shape), " (expected ",
                       -rank, " to ", rank - 1, ")"));
  return static_cast<std::size_t>(dim < 0 ? dim + rank : dim);
}

Tensor swapped(const Tensor& x, std::int64_t dim0, std::int64_t dim1, const NodeText& name) {
  const Shape shape = x.shape();
  const std::size_t d0 = transpose_dim(dim0, shape), d1 = transpose_dim(dim1, shape);
  std::vector<std::size_t> order(shape.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (!shape.empty()) std::swap(order[d0], order[d1]);
  return permuted_view(x, order, name);
}

}  // namespace

Tensor transpose(const Tensor& a, std::int64_t dim0, std::int64_t dim1) {
  check(a.defined(), "transpose: argument a is an undefined tensor");
  return swapped(a, dim0, dim1, kTransposeNode);
}

Tensor t(const Tensor& a) {
  if (!a.defined()) throw Error("t: called on an undefined tensor");
  if (a.dim() > 2) throw Error(concat("t: expects a tensor of at most 2 dims, got shape ", shape_str(a.shape())));
  return swapped(a, 0, a.dim() < 2 ? 0 : 1, kTNode);
}

// ---- repeated elements ----------------------------------------------------------------------------

Tensor expand(const Tensor& x, IntArrayRef sizes) {
  check_defined(x, "expand");
  const Shape from = x.shape();
  const Shape shape = expanded_shape(from, sizes);
  const Layout in = layout_of(*x.impl());
  Layout layout{to_dims(shape), strided::Dims(shape.size(), 0), in.offset};
  const std::size_t added = shape.size() - from.size();
  // A repeated dim reads the same elements again: stride 0.
  for (std::size_t d = added; d < shape.size(); ++d)
    layout.strides[d] = from[d - added] == shape[d] ? in.strides[d - added] : 0;
  Tensor out = make_view(x, std::move(layout));
  if (any_requires_grad({&x})) record(out, make_node<ExpandBackward>(from), {&x});
  return out;
}

Tensor expand_as(const Tensor& x, const Tensor& other) {
  check(other.defined(), "expand_as: other is an undefined tensor");
  return expand(x, other.sizes());
}

// ---- picked elements ------------------------------------------------------------------------------

Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index) { return select_as("select", x, dim, index); }

Tensor slice(const Tensor& x, std::int64_t dim, std::optional<std::int64_t> start, std::optional<std::int64_t> end,
             std::int64_t step) {
  const std::size_t d = pick_dim(x, dim, "slice");
  if (step <= 0) throw Error(concat("slice: step must be greater than zero, got ", step));
  // Python's clamping: a negative bound counts from the end, then both are clamped into [0, size]
  // and an end before the start gives nothing.
  const std::int64_t size = x.size(static_cast<std::int64_t>(d));
  std::int64_t first = start.value_or(0), last = end.value_or(size);
  if (first < 0) first += size;
  if (last < 0) last += size;
  first = std::clamp<std::int64_t>(first, 0, size);
  last = std::clamp<std::int64_t>(last, first, size);
  const std::int64_t count = last == first ? 0 : (last - first - 1) / step + 1;
  return picking_view(x, kSliceView, range_along(d, first, count, step));
}

Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length) {
  const std::size_t d = pick_dim(x, dim, "narrow");
  const Shape shape = x.shape();
  const std::int64_t size = shape[d];
  if (start < -size || start > size)
    throw Error(concat("narrow: start ", start, " out of range for dim ", d, " of size ", size, " (input shape ",
                       shape_str(shape), "; expected a start in [", -size, ", ", size, "])"));
  if (start < 0) start += size;
  if (length < 0 || start > size - length)
    throw Error(concat("narrow: start (", start, ") + length (", length, ") exceeds dim ", d, " of size ", size,
                       " (input shape ", shape_str(shape), ")"));
  return narrow_as(x, d, start, length);
}

Tensor diagonal(const Tensor& x, std::int64_t offset, std::int64_t dim1, std::int64_t dim2) {
  check_defined(x, "diagonal");
  const Shape shape = x.shape();
  if (shape.size() < 2)
    throw Error(concat("diagonal: expects a tensor of at least 2 dims, got shape ", shape_str(shape)));
  const std::size_t d1 = normalize_dim(dim1, shape, "diagonal"), d2 = normalize_dim(dim2, shape, "diagonal");
  if (d1 == d2)
    throw Error(concat("diagonal: diagonal dimensions cannot be identical ", dim1, ", ", dim2, " (input shape ",
                       shape_str(shape), ")"));
  const std::int64_t length = offset >= 0 ? std::max<std::int64_t>(std::min(shape[d1], shape[d2] - offset), 0)
                                          : std::max<std::int64_t>(std::min(shape[d1] + offset, shape[d2]), 0);
  const auto pick = [=](Layout layout) {
    if (length > 0) layout.offset += offset >= 0 ? offset * layout.strides[d2] : -offset * layout.strides[d1];
    const std::int64_t step = layout.strides[d1] + layout.strides[d2];
    for (const std::size_t d : {std::max(d1, d2), std::min(d1, d2)}) {
      layout.sizes.erase(layout.sizes.begin() + static_cast<std::ptrdiff_t>(d));
      layout.strides.erase(layout.strides.begin() + static_cast<std::ptrdiff_t>(d));
    }
    layout.sizes.push_back(length);
    layout.strides.push_back(step);
    return layout;
  };
  return picking_view(x, kDiagonalView, pick);
}

Tensor unfold(const Tensor& x, std::int64_t dim, std::int64_t size, std::int64_t step) {
  check_defined(x, "unfold");
  const Shape shape = x.shape();
  // A 0-dim tensor unfolds as if it had one dim of size 1, as in PyTorch.
  const std::size_t d = shape.empty() ? 0 : normalize_dim(dim, shape, "unfold");
  const std::int64_t extent = shape.empty() ? 1 : shape[d];
  if (size < 0 || size > extent)
    throw Error(concat("unfold: maximum size for tensor at dimension ", d, " is ", extent, " but size is ", size,
                       " (input shape ", shape_str(shape), ")"));
  if (step <= 0) throw Error(concat("unfold: step is ", step, " but must be > 0"));
  const std::int64_t windows = (extent - size) / step + 1;
  const auto pick = [=](Layout layout) {
    if (layout.sizes.empty()) {
      layout.sizes = {size};
      layout.strides = {1};
      return layout;
    }
    const std::int64_t stride = layout.strides[d];
    layout.sizes[d] = windows;
    layout.strides[d] = stride * step;
    layout.sizes.push_back(size);
    layout.strides.push_back(stride);
    return layout;
  };
  return picking_view(x, kUnfoldView, pick);
}

Tensor as_strided(const Tensor& x, IntArrayRef size, IntArrayRef stride, std::optional<std::int64_t> storage_offset) {
  check_defined(x, "as_strided");
  if (size.size() != stride.size())
    throw Error(concat("as_strided: mismatch in length of strides and shape (sizes ", size, ", strides ", stride, ")"));
  for (std::size_t d = 0; d < size.size(); ++d) {
    if (size[d] < 0) throw Error(concat("as_strided: negative size ", size[d], " in sizes ", size));
    if (stride[d] < 0) throw Error(concat("as_strided: negative stride ", stride[d], " in strides ", stride));
  }
  const Layout from = layout_of(*x.impl());
  const std::int64_t offset = storage_offset.value_or(from.offset);
  if (offset < 0) throw Error(concat("as_strided: negative storage offset ", offset));
  Layout layout{to_dims(size.vec()), to_dims(stride.vec()), offset};
  const std::int64_t available = x.impl()->storage->numel();
  if (layout.numel() > 0 && layout.extent().second > available)
    throw Error(concat("as_strided: sizes ", size, ", strides ", stride, ", storage offset ", offset,
                       " require a storage of ", layout.extent().second, " elements, but the storage holds ",
                       available));
  // Its derivative needs x's elements laid out as in the storage, x's own layout shifted to 0.
  if (any_requires_grad({&x}) && !(from.is_contiguous() && from.numel() == available))
    throw Error(concat("as_strided: autograd through as_strided is supported for a tensor that is its whole "
                       "storage, contiguous (got sizes ", shape_str(from.sizes), ", strides ", shape_str(from.strides),
                       ", offset ", from.offset, " of ", available, " elements)"));
  const std::int64_t shift = from.offset;
  return picking_view(x, kAsStridedView, [&](Layout in) {
    Layout out = layout;
    out.offset = offset - shift + in.offset;
    return out;
  });
}

// ---- several views at once ------------------------------------------------------------------------

std::vector<Tensor> split_with_sizes(const Tensor& x, IntArrayRef split_sizes, std::int64_t dim) {
  const std::size_t d = pick_dim(x, dim, "split_with_sizes");
  const std::int64_t size = x.size(static_cast<std::int64_t>(d));
  std::int64_t total = 0;
  for (const std::int64_t piece : split_sizes) {
    if (piece < 0) throw Error(concat("split_with_sizes: split sizes ", split_sizes, " must be non-negative"));
    total += piece;
  }
  if (total != size)
    throw Error(concat("split_with_sizes: expects split_sizes to sum exactly to ", size, " (input tensor's size at "
                       "dimension ", d, "), but got split_sizes=", split_sizes));
  std::vector<Tensor> pieces;
  std::int64_t start = 0;
  for (const std::int64_t piece : split_sizes) {
    pieces.push_back(narrow_as(x, d, start, piece, kSplitWithSizesView,
                               split_sizes.size() > 1 ? kSplitWithSizesView.name : nullptr));
    start += piece;
  }
  return pieces;
}

std::vector<Tensor> split(const Tensor& x, std::int64_t split_size, std::int64_t dim) {
  const std::size_t d = pick_dim(x, dim, "split");
  if (split_size < 0) throw Error(concat("split: split_size can only be a non-negative integer, but got ", split_size));
  const std::int64_t size = x.size(static_cast<std::int64_t>(d));
  if (split_size == 0 && size != 0)
    throw Error(concat("split: split_size can only be 0 if dimension size is 0, but got dimension size of ", size));
  const std::int64_t count = split_size == 0 ? 1 : std::max<std::int64_t>((size + split_size - 1) / split_size, 1);
  std::vector<Tensor> pieces;
  for (std::int64_t k = 0; k < count; ++k) {
    const std::int64_t start = k * split_size;
    const std::int64_t length = std::min(split_size, size - start);
    pieces.push_back(narrow_as(x, d, start, length, kSplitView, count > 1 ? kSplitView.name : nullptr));
  }
  return pieces;
}

std::vector<Tensor> chunk(const Tensor& x, std::int64_t chunks, std::int64_t dim) {
  const std::size_t d = pick_dim(x, dim, "chunk");
  if (chunks <= 0) throw Error(concat("chunk: chunk expects `chunks` to be greater than 0, got: ", chunks));
  const std::int64_t size = x.size(static_cast<std::int64_t>(d));
  return split(x, (size + chunks - 1) / chunks, static_cast<std::int64_t>(d));
}

std::vector<Tensor> unbind(const Tensor& x, std::int64_t dim) {
  const std::size_t d = pick_dim(x, dim, "unbind");
  const std::int64_t size = x.size(static_cast<std::int64_t>(d));
  std::vector<Tensor> pieces;
  for (std::int64_t i = 0; i < size; ++i)
    pieces.push_back(select_as("unbind", x, static_cast<std::int64_t>(d), i, kUnbindView,
                               size > 1 ? kUnbindView.name : nullptr));
  return pieces;
}

// ---- Tensor methods ---------------------------------------------------------------------------------

Tensor Tensor::contiguous() const {
  check(defined(), "contiguous: called on an undefined tensor");
  return is_contiguous() ? *this : clone();
}

Tensor Tensor::permute(IntArrayRef dims) const { return xgrad::permute(*this, dims); }
Tensor Tensor::expand(IntArrayRef sizes, bool /*implicit*/) const { return xgrad::expand(*this, sizes); }
Tensor Tensor::expand_as(const Tensor& other) const { return xgrad::expand_as(*this, other); }
Tensor Tensor::select(std::int64_t dim, std::int64_t index) const { return xgrad::select(*this, dim, index); }
Tensor Tensor::operator[](std::int64_t index) const { return select_as("operator[]", *this, 0, index); }
Tensor Tensor::slice(std::int64_t dim, std::optional<std::int64_t> start, std::optional<std::int64_t> end,
                     std::int64_t step) const {
  return xgrad::slice(*this, dim, start, end, step);
}
Tensor Tensor::narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const {
  return xgrad::narrow(*this, dim, start, length);
}
Tensor Tensor::as_strided(IntArrayRef size, IntArrayRef stride, std::optional<std::int64_t> storage_offset) const {
  return xgrad::as_strided(*this, size, stride, storage_offset);
}
Tensor Tensor::diagonal(std::int64_t offset, std::int64_t dim1, std::int64_t dim2) const {
  return xgrad::diagonal(*this, offset, dim1, dim2);
}
Tensor Tensor::unfold(std::int64_t dim, std::int64_t size, std::int64_t step) const {
  return xgrad::unfold(*this, dim, size, step);
}
std::vector<Tensor> Tensor::chunk(std::int64_t chunks, std::int64_t dim) const { return xgrad::chunk(*this, chunks, dim); }
std::vector<Tensor> Tensor::split(std::int64_t split_size, std::int64_t dim) const {
  return xgrad::split(*this, split_size, dim);
}
std::vector<Tensor> Tensor::split_with_sizes(IntArrayRef split_sizes, std::int64_t dim) const {
  return xgrad::split_with_sizes(*this, split_sizes, dim);
}
std::vector<Tensor> Tensor::unbind(std::int64_t dim) const { return xgrad::unbind(*this, dim); }
Tensor Tensor::view_as(const Tensor& other) const { return xgrad::view_as(*this, other); }

}  // namespace xgrad
