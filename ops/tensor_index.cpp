// libtorch's indexing: x.index({...}), x.index_put_({...}, v), and ATen's scatters along a dim
// (index_add_, index_copy_, index_fill_, scatter_, scatter_add_, masked_scatter_).
//
// Basic indices (integers, slices, None, "...") become view ops, one per index, as PyTorch's
// applySlicing does. What is left are index tensors, one per dim ("advanced indexing"): they are
// turned into the flat position, in x laid out densely, of every element the result reads. Three
// recorded primitives on such a position list do all the remaining work, each the adjoint of
// another so that double backward stays inside the three:
//   take_at(x, P)            the elements of x at P                 d/dx = put_at(0, P, g, add)
//   put_at(a, P, v, add)     a with v written (or added) at P       d/da = g, or g zeroed at P
//                                                                   d/dv = take_at(g, P)
#include <xgrad/ops/tensor_index.hpp>

#include <algorithm>
#include <memory>
#include <ostream>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/broadcast_impl.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/inplace_impl.hpp>
#include <xgrad/ops/shape.hpp>
#include <xgrad/ops/view.hpp>

namespace xgrad {

namespace indexing {

TensorIndex::TensorIndex(const char* text) : kind_(Kind::Ellipsis) {
  if (text == nullptr || std::string(text) != "...")
    throw Error(concat("TensorIndex: Expected \"...\" to represent an ellipsis index, but got \"",
                       text ? text : "(null)", "\""));
}

std::ostream& operator<<(std::ostream& out, const Slice& slice) {
  return out << slice.start() << ":" << slice.stop() << ":" << slice.step();
}

std::ostream& operator<<(std::ostream& out, const TensorIndex& index) {
  switch (index.kind()) {
    case TensorIndex::Kind::None: return out << "None";
    case TensorIndex::Kind::Ellipsis: return out << "...";
    case TensorIndex::Kind::Integer: return out << index.integer();
    case TensorIndex::Kind::Boolean: return out << (index.boolean() ? "true" : "false");
    case TensorIndex::Kind::Slice: return out << index.slice();
    case TensorIndex::Kind::Tensor: break;
  }
  return out << index.tensor();
}

std::ostream& operator<<(std::ostream& out, const std::vector<TensorIndex>& indices) {
  out << "(";
  for (std::size_t i = 0; i < indices.size(); ++i) out << (i ? ", " : "") << indices[i];
  return out << ")";
}

}  // namespace indexing

namespace {

using indexing::TensorIndex;
using Positions = std::shared_ptr<const std::vector<std::int64_t>>;

Tensor take_at(const Tensor& x, const Positions& at, const Shape& shape, const char* name);
Tensor put_at(const Tensor& a, const Positions& at, const Tensor& values, bool accumulate, const char* name);

// d take_at(x, P) = put_at(zeros, P, g, add): a position read twice gets both gradients
struct TakeAtBackward final : Node {
  TakeAtBackward(const char* op_name, Shape input_shape, Positions at)
      : op_name(op_name), input_shape(std::move(input_shape)), at(std::move(at)) {}
  const char* name() const override { return op_name; }
  const char* formula() const override { return "d x[index] = zeros with g added at the picked elements"; }
  gradient_list backward(const Tensor& grad) override {
    return {put_at(zeros(input_shape, grad.dtype()), at, grad, true, "IndexPutBackward0")};
  }
  const char* op_name;
  Shape input_shape;
  Positions at;
};

// d put_at(a, P, v) = (g, or g with P zeroed when v overwrote a there; g at P, shaped as v)
struct PutAtBackward final : Node {
  PutAtBackward(const char* op_name, Positions at, bool accumulate, Shape values_shape)
      : op_name(op_name), at(std::move(at)), accumulate(accumulate), values_shape(std::move(values_shape)) {}
  const char* name() const override { return op_name; }
  // index_put, and index_add, index_copy, index_fill, scatter, scatter_add and masked_scatter, which
  // write or add at the positions they compute.
  const char* formula() const override {
    return accumulate ? "d index_put(x, idx, v, add)/d x = g\n"
                        "d index_put(x, idx, v, add)/d v = g at the indexed elements"
                      : "d index_put(x, idx, v)/d x = g, zero where v was written\n"
                        "d index_put(x, idx, v)/d v = g at the written elements";
  }
  gradient_list backward(const Tensor& grad) override {
    gradient_list grads(2);
    if (needs_input_grad(0)) {
      const Tensor no_values = zeros(values_shape, grad.dtype());
      grads[0] = accumulate ? grad : put_at(grad, at, no_values, false, "IndexPutBackward0");
    }
    if (needs_input_grad(1)) grads[1] = take_at(grad, at, values_shape, "IndexBackward0");
    return grads;
  }
  const char* op_name;
  Positions at;
  bool accumulate;
  Shape values_shape;
};

Tensor take_at(const Tensor& x, const Positions& at, const Shape& shape, const char* name) {
  Tensor out = visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape(to_xshape(shape));
    const T* from = array<T>(x).data();
    T* to = values.data();
    for (std::size_t k = 0; k < at->size(); ++k) to[k] = from[(*at)[k]];
    return make_tensor(std::move(values));
  });
  if (any_requires_grad({&x})) record(out, make_node<TakeAtBackward>(name, x.shape(), at), {&x});
  return out;
}

// values has one element per position (the caller broadcast it).
Tensor put_at(const Tensor& a, const Positions& at, const Tensor& values, bool accumulate, const char* name) {
  Tensor out = visit_any_dtype(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> result = array<T>(a);
    const T* from = array<T>(values).data();
    T* to = result.data();
    if (accumulate) {
      if constexpr (std::is_same_v<T, bool>)
        for (std::size_t k = 0; k < at->size(); ++k) to[(*at)[k]] = to[(*at)[k]] || from[k];
      else
        for (std::size_t k = 0; k < at->size(); ++k) to[(*at)[k]] += from[k];
    } else {
      for (std::size_t k = 0; k < at->size(); ++k) to[(*at)[k]] = from[k];
    }
    return make_tensor(std::move(result));
  });
  if (any_requires_grad({&a, &values}))
    record(out, make_node<PutAtBackward>(name, at, accumulate, values.shape()), {&a, &values});
  return out;
}

// ---- advanced indexing: index tensors to positions ---------------------------------------------

bool is_mask(const Tensor& t) { return t.dtype() == kBool || t.dtype() == kUInt8; }

// The int64 positions of a mask's true elements, one tensor per mask dim (as nonzero().unbind(1)).
std::vector<Tensor> mask_coordinates(const Tensor& mask) {
  const Tensor coordinates = mask.nonzero();
  std::vector<Tensor> per_dim;
  for (std::int64_t d = 0; d < mask.dim(); ++d) per_dim.push_back(coordinates.select(1, d).contiguous().clone());
  return per_dim;
}

// One int64 index tensor (or none) per dim of x, masks expanded to their coordinates, checked.
std::vector<Tensor> expanded_indices(const Tensor& x, const std::vector<std::optional<Tensor>>& indices,
                                     const char* op) {
  const Shape shape = x.shape();
  std::vector<Tensor> per_dim;
  for (const std::optional<Tensor>& index : indices) {
    if (!index || !index->defined()) {
      per_dim.emplace_back();
      continue;
    }
    if (is_mask(*index)) {
      const std::size_t first = per_dim.size();
      for (std::int64_t k = 0; k < index->dim(); ++k) {
        const std::size_t d = first + static_cast<std::size_t>(k);
        if (d >= shape.size() || index->size(k) != shape[d])
          throw Error(concat(op, ": The shape of the mask ", shape_str(index->shape()), " at index ", k,
                             " does not match the shape of the indexed tensor ", shape_str(shape), " at index ", d));
      }
      for (Tensor& coordinate : mask_coordinates(*index)) per_dim.push_back(std::move(coordinate));
      continue;
    }
    if (index->dtype() != kInt64)
      throw Error(concat(op, ": tensors used as indices must be long, byte or bool tensors (got ",
                         dtype_name(index->dtype()), " of shape ", shape_str(index->shape()), ")"));
    per_dim.push_back(*index);
  }
  if (per_dim.size() > shape.size())
    throw Error(concat(op, ": too many indices for tensor of dimension ", shape.size(), " (got ", per_dim.size(), ")"));
  return per_dim;
}

// Where each element of x.index(indices) comes from, and the result's shape.
struct Plan {
  Positions at;
  Shape shape;
};

Plan plan_index(const Tensor& x, const std::vector<std::optional<Tensor>>& indices, const char* op) {
  const Shape shape = x.shape();
  std::vector<Tensor> per_dim = expanded_indices(x, indices, op);
  per_dim.resize(shape.size());
  const std::vector<std::int64_t> strides = strided::Layout::contiguous_strides(shape);
  std::vector<std::size_t> advanced;
  Shape index_shape;
  for (std::size_t d = 0; d < per_dim.size(); ++d) {
    if (!per_dim[d].defined()) continue;
    index_shape = advanced.empty() ? per_dim[d].shape() : broadcast_shapes(index_shape, per_dim[d].shape(), op);
    advanced.push_back(d);
  }
  // Each index tensor broadcast to index_shape, bounds checked, wrapped.
  const std::int64_t count = numel_of(index_shape);
  std::vector<std::int64_t> base(static_cast<std::size_t>(count), 0);
  for (const std::size_t d : advanced) {
    const Tensor expanded = per_dim[d].expand(index_shape).contiguous();
    const std::int64_t* values = expanded.data<std::int64_t>();
    for (std::int64_t k = 0; k < count; ++k) {
      std::int64_t i = values[k];
      if (i < -shape[d] || i >= shape[d])
        throw Error(concat(op, ": index ", i, " is out of bounds for dimension ", d, " with size ", shape[d]));
      if (i < 0) i += shape[d];
      base[static_cast<std::size_t>(k)] += i * strides[d];
    }
  }
  if (advanced.empty()) throw Error(concat(op, ": no index tensor to index with"));
  // Adjacent index tensors put their dims where they stand; separated ones put them first.
  const bool adjacent = advanced.back() - advanced.front() + 1 == advanced.size();
  Shape before, after;
  std::vector<std::int64_t> before_strides, after_strides;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (per_dim[d].defined()) continue;
    const bool leading = adjacent && d < advanced.front();
    (leading ? before : after).push_back(shape[d]);
    (leading ? before_strides : after_strides).push_back(strides[d]);
  }
  Plan plan;
  plan.shape = before;
  plan.shape.insert(plan.shape.end(), index_shape.begin(), index_shape.end());
  plan.shape.insert(plan.shape.end(), after.begin(), after.end());
  // Positions of the plain dims before and after the picked ones, row-major.
  const std::vector<std::int64_t> outer = strided::positions({to_dims(before), to_dims(before_strides), 0});
  const std::vector<std::int64_t> inner = strided::positions({to_dims(after), to_dims(after_strides), 0});
  auto at = std::make_shared<std::vector<std::int64_t>>();
  at->reserve(outer.size() * base.size() * inner.size());
  for (const std::int64_t o : outer)
    for (const std::int64_t b : base)
      for (const std::int64_t i : inner) at->push_back(o + b + i);
  plan.at = std::move(at);
  return plan;
}

// ---- basic indexing: integers, slices, None, "..." -----------------------------------------------

std::int64_t dims_taken(const TensorIndex& index) {
  switch (index.kind()) {
    case TensorIndex::Kind::Integer:
    case TensorIndex::Kind::Slice: return 1;
    case TensorIndex::Kind::Tensor: return is_mask(index.tensor()) ? index.tensor().dim() : 1;
    default: return 0;
  }
}

struct Sliced {
  Tensor view;                                    // x after the basic indices
  std::vector<std::optional<Tensor>> advanced;    // an index tensor, or none, per dim of view
};

Sliced apply_basic(const Tensor& x, ArrayRef<TensorIndex> indices, const char* op) {
  check(x.defined(), op, ": called on an undefined tensor");
  std::int64_t specified = 0;
  bool seen_ellipsis = false;
  for (const TensorIndex& index : indices) {
    specified += dims_taken(index);
    if (index.is_ellipsis()) {
      if (seen_ellipsis) throw Error(concat(op, ": an index can only have a single ellipsis ('...')"));
      seen_ellipsis = true;
    }
  }
  if (indices.size() == 0)
    throw Error(concat(op, ": Passing an empty index list to Tensor::", op, "() is not valid syntax"));
  if (x.dim() == 0)
    for (const TensorIndex& index : indices)
      if (index.is_integer() || index.is_slice())
        throw Error(concat(op, ": invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                               "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"));
  if (specified > x.dim())
    throw Error(concat(op, ": too many indices for tensor of dimension ", x.dim(), " (shape ", shape_str(x.shape()), ")"));
  Sliced out{x, {}};
  std::int64_t dim = 0;
  // The dim of x an index refers to, for messages (dim counts the dims of the view so far).
  std::int64_t source_dim = 0;
  const auto record_tensor = [&](const Tensor& t, std::int64_t width) {
    out.advanced.resize(static_cast<std::size_t>(dim + 1));
    out.advanced[static_cast<std::size_t>(dim)] = t;
    dim += width;
  };
  // An integer, or a 0-dim int64 tensor, picks like select (a view).
  const auto select_at = [&](std::int64_t i) {
    const std::int64_t size = out.view.size(dim);
    if (i < -size || i >= size)
      throw Error(concat(op, ": index ", i, " is out of bounds for dimension ", source_dim, " with size ", size));
    out.view = out.view.select(dim, i);
    ++source_dim;
  };
  // true or false, or a 0-dim mask: Python's x[True] / x[False], a new dim kept whole or emptied.
  const auto new_dim_kept = [&](bool kept) {
    out.view = out.view.unsqueeze(dim);
    record_tensor(zeros({kept ? 1 : 0}, kInt64), 1);
  };
  for (const TensorIndex& index : indices) {
    switch (index.kind()) {
      case TensorIndex::Kind::Integer: select_at(index.integer()); break;
      case TensorIndex::Kind::Slice: {
        const indexing::Slice& s = index.slice();
        if (s.step() <= 0) throw Error(concat(op, ": step must be greater than zero, got ", s.step()));
        out.view = out.view.slice(dim, s.start(), s.stop(), s.step());
        ++dim;
        ++source_dim;
        break;
      }
      case TensorIndex::Kind::Ellipsis:
        dim += x.dim() - specified;
        source_dim += x.dim() - specified;
        break;
      case TensorIndex::Kind::None:
        out.view = out.view.unsqueeze(dim);
        ++dim;
        break;
      case TensorIndex::Kind::Boolean: new_dim_kept(index.boolean()); break;
      case TensorIndex::Kind::Tensor: {
        const Tensor& t = index.tensor();
        check(t.defined(), op, ": an index tensor is undefined");
        if (t.dim() == 0 && is_mask(t)) {
          new_dim_kept(t.item<bool>());
          break;
        }
        if (t.dim() == 0 && t.dtype() == kInt64) {
          select_at(t.item<std::int64_t>());
          break;
        }
        source_dim += is_mask(t) ? t.dim() : 1;
        record_tensor(t, is_mask(t) ? t.dim() : 1);
        break;
      }
    }
  }
  return out;
}

// values' shape without leading dims of size 1 beyond `rank`, as PyTorch's slicePrefix1sSize: what
// index_put_ writes into a destination of that many dims.
Shape without_extra_leading_ones(Shape given, std::size_t rank) {
  while (given.size() > rank && given.front() == 1) given.erase(given.begin());
  return given;
}

bool has_tensor(const std::vector<std::optional<Tensor>>& advanced) {
  return std::any_of(advanced.begin(), advanced.end(), [](const auto& t) { return t && t->defined(); });
}

// values (a tensor or a scalar made one) converted and broadcast to `shape`, one per position.
Tensor values_for(const Tensor& values, const Tensor& self, const Shape& shape, const char* op) {
  check(values.defined(), op, ": the values are an undefined tensor");
  if (values.dtype() != self.dtype())
    throw Error(concat(op, ": Index put requires the source and destination dtypes match, got ",
                       dtype_name(self.dtype()), " for the destination and ", dtype_name(values.dtype()),
                       " for the source."));
  const Shape given = without_extra_leading_ones(values.shape(), shape.size());
  if (!broadcasts_to(given, shape))
    throw Error(concat(op, ": shape mismatch: value tensor of shape ", shape_str(values.shape()),
                       " cannot be broadcast to indexing result of shape ", shape_str(shape)));
  return values.reshape(given).expand(shape).contiguous();
}

// self.index_put_ through its advanced indices, in place (views of self included).
Tensor& put_in_place(const Tensor& self, const std::vector<std::optional<Tensor>>& advanced, const Tensor& values,
                     bool accumulate, const char* op) {
  const Plan plan = plan_index(self, advanced, op);
  const Tensor spread = values_for(values, self, plan.shape, op);
  return apply_in_place(const_cast<Tensor&>(self), op, [&](const Tensor& old) {
    return put_at(old, plan.at, spread, accumulate, "IndexPutBackward0");
  });
}

Tensor scalar_like(const Scalar& value, const Tensor& self) { return full({}, value, self.dtype()); }

// ---- scatters along a dim ------------------------------------------------------------------------

// Positions in self of index_add_/index_copy_/index_fill_'s writes: every element of a source of
// self's shape with dim's size replaced by index.numel(), its dim coordinate j sent to index[j].
Positions positions_along(const Tensor& self, std::int64_t dim, const Tensor& index, const char* op) {
  check(index.defined(), op, ": index is an undefined tensor");
  if (index.dtype() != kInt64)
    throw Error(concat(op, ": Expected dtype int64 for index, got ", dtype_name(index.dtype())));
  if (index.dim() > 1) throw Error(concat(op, ": Index is supposed to be a vector, got shape ", shape_str(index.shape())));
  const Shape shape = self.shape();
  const std::size_t d = shape.empty() ? 0 : normalize_dim(dim, shape, op);
  const Tensor flat = index.reshape({-1}).contiguous();
  std::vector<std::optional<Tensor>> per_dim(d + 1);
  per_dim[d] = flat;
  if (shape.empty()) return plan_index(self.reshape({1}), per_dim, op).at;
  // x.index({:, ..., index}) reads exactly the positions a source slice j is written to.
  return plan_index(self, per_dim, op).at;
}

Shape source_shape_along(const Tensor& self, std::int64_t dim, const Tensor& index, const char* op) {
  Shape shape = self.shape();
  if (shape.empty()) return {index.numel()};
  shape[normalize_dim(dim, shape, op)] = index.numel();
  return shape;
}

// Positions in self of scatter_'s writes: self[..., index[i, j, k], ...] for every index element,
// the dim coordinate replaced by the index value (torch.scatter's rule).
Positions positions_scattered(const Tensor& self, std::int64_t dim, const Tensor& index, const char* op) {
  check(index.defined(), op, ": index is an undefined tensor");
  if (index.dtype() != kInt64) throw Error(concat(op, ": Expected dtype int64 for index, got ", dtype_name(index.dtype())));
  const Shape shape = self.shape(), index_shape = index.shape();
  if (index_shape.size() != std::max<std::size_t>(shape.size(), 1) && !(shape.empty() && index_shape.empty()))
    throw Error(concat(op, ": Index tensor must have the same number of dimensions as self tensor (index shape ",
                       shape_str(index_shape), ", self shape ", shape_str(shape), ")"));
  const Shape dense = shape.empty() ? Shape{1} : shape;
  const Shape picks = index_shape.empty() ? Shape{1} : index_shape;
  const std::size_t d = normalize_dim(dim, dense, op);
  for (std::size_t k = 0; k < dense.size(); ++k)
    if (k != d && picks[k] > dense[k])
      throw Error(concat(op, ": Expected index ", shape_str(index_shape), " to be smaller than self ", shape_str(shape),
                         " apart from dimension ", d));
  const std::vector<std::int64_t> strides = strided::Layout::contiguous_strides(dense);
  const Tensor flat = index.contiguous();
  const std::int64_t* values = flat.data<std::int64_t>();
  auto at = std::make_shared<std::vector<std::int64_t>>(static_cast<std::size_t>(numel_of(picks)));
  std::vector<std::int64_t> coordinate(picks.size(), 0);
  for (std::size_t k = 0; k < at->size(); ++k) {
    std::int64_t position = 0;
    for (std::size_t q = 0; q < picks.size(); ++q) {
      std::int64_t c = coordinate[q];
      if (q == d) {
        c = values[k];
        if (c < 0 || c >= dense[q])
          throw Error(concat(op, ": index ", c, " is out of bounds for dimension ", d, " with size ", dense[q]));
      }
      position += c * strides[q];
    }
    (*at)[k] = position;
    for (std::size_t q = picks.size(); q-- > 0;) {
      if (++coordinate[q] < picks[q]) break;
      coordinate[q] = 0;
    }
  }
  return at;
}

// src's leading block of index's shape, dense (scatter_ reads only that much of src).
Tensor scatter_source(const Tensor& src, const Tensor& index, const Tensor& self, const char* op) {
  check(src.defined(), op, ": src is an undefined tensor");
  if (src.dtype() != self.dtype())
    throw Error(concat(op, ": Expected self.dtype to be equal to src.dtype (", dtype_name(self.dtype()), " and ",
                       dtype_name(src.dtype()), ")"));
  if (src.dim() != index.dim())
    throw Error(concat(op, ": Index tensor must have the same number of dimensions as src tensor (index shape ",
                       shape_str(index.shape()), ", src shape ", shape_str(src.shape()), ")"));
  Tensor block = src;
  for (std::int64_t d = 0; d < index.dim(); ++d) {
    if (index.size(d) > src.size(d))
      throw Error(concat(op, ": Expected index ", shape_str(index.shape()), " to be smaller than src ",
                         shape_str(src.shape())));
    block = block.narrow(d, 0, index.size(d));
  }
  return block.contiguous().reshape({-1});
}

}  // namespace

Tensor index(const Tensor& x, const std::vector<std::optional<Tensor>>& indices) {
  check(x.defined(), "index: called on an undefined tensor");
  if (!has_tensor(indices)) return x.view(x.sizes());
  const Plan plan = plan_index(x, indices, "index");
  return take_at(x, plan.at, plan.shape, "IndexBackward0");
}

Tensor index(const Tensor& x, ArrayRef<indexing::TensorIndex> indices) {
  Sliced sliced = apply_basic(x, indices, "index");
  if (!has_tensor(sliced.advanced)) return sliced.view.is_same(x) ? x.view(x.sizes()) : sliced.view;
  const Plan plan = plan_index(sliced.view, sliced.advanced, "index");
  return take_at(sliced.view, plan.at, plan.shape, "IndexBackward0");
}

Tensor Tensor::index(ArrayRef<indexing::TensorIndex> indices) const { return xgrad::index(*this, indices); }
Tensor Tensor::index(std::initializer_list<indexing::TensorIndex> indices) const {
  return xgrad::index(*this, ArrayRef<indexing::TensorIndex>(indices.begin(), indices.size()));
}

Tensor& Tensor::index_put_(ArrayRef<indexing::TensorIndex> indices, const Tensor& values) const {
  Sliced sliced = apply_basic(*this, indices, "index_put_");
  if (!has_tensor(sliced.advanced)) {
    check(values.defined(), "index_put_: the values are an undefined tensor");
    sliced.view.copy_(values.reshape(without_extra_leading_ones(values.shape(), sliced.view.shape().size())));
    return const_cast<Tensor&>(*this);
  }
  put_in_place(sliced.view, sliced.advanced, values, false, "index_put_");
  return const_cast<Tensor&>(*this);
}
Tensor& Tensor::index_put_(std::initializer_list<indexing::TensorIndex> indices, const Tensor& values) const {
  return index_put_(ArrayRef<indexing::TensorIndex>(indices.begin(), indices.size()), values);
}
Tensor& Tensor::index_put_(ArrayRef<indexing::TensorIndex> indices, const Scalar& value) const {
  check(defined(), "index_put_: called on an undefined tensor");
  return index_put_(indices, scalar_like(value, *this));
}
Tensor& Tensor::index_put_(std::initializer_list<indexing::TensorIndex> indices, const Scalar& value) const {
  return index_put_(ArrayRef<indexing::TensorIndex>(indices.begin(), indices.size()), value);
}

Tensor& Tensor::index_put_(const std::vector<std::optional<Tensor>>& indices, const Tensor& values,
                           bool accumulate) const {
  check(defined(), "index_put_: called on an undefined tensor");
  if (!has_tensor(indices)) {
    // No index tensor: the whole tensor is the destination.
    if (accumulate) return add_(values);
    return copy_(values);
  }
  put_in_place(*this, indices, values, accumulate, "index_put_");
  return const_cast<Tensor&>(*this);
}

Tensor Tensor::index_put(const std::vector<std::optional<Tensor>>& indices, const Tensor& values,
                         bool accumulate) const {
  check(defined(), "index_put: called on an undefined tensor");
  Tensor out = clone();
  out.index_put_(indices, values, accumulate);
  return out;
}

Tensor& Tensor::index_add_(std::int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) const {
  check(defined(), "index_add_: called on an undefined tensor");
  const Positions at = positions_along(*this, dim, index, "index_add_");
  check(source.defined(), "index_add_: source is an undefined tensor");
  const Shape expected = source_shape_along(*this, dim, index, "index_add_");
  if (source.shape() != expected && !(this->dim() == 0 && source.numel() == 1))
    throw Error(concat("index_add_: source of shape ", shape_str(source.shape()), " does not match ",
                       shape_str(expected), " (self ", shape_str(shape()), " with dim ", dim, " of index's length ",
                       index.numel(), ")"));
  if (source.dtype() != dtype())
    throw Error(concat("index_add_: self (", dtype_name(dtype()), ") and source (", dtype_name(source.dtype()),
                       ") must have the same scalar type"));
  const Tensor added = (alpha.toDouble() == 1.0 ? source : source * alpha.toDouble()).contiguous().reshape({-1});
  return apply_in_place(const_cast<Tensor&>(*this), "index_add_",
                        [&](const Tensor& old) { return put_at(old, at, added, true, "IndexAddBackward0"); });
}

Tensor& Tensor::index_copy_(std::int64_t dim, const Tensor& index, const Tensor& source) const {
  check(defined(), "index_copy_: called on an undefined tensor");
  const Positions at = positions_along(*this, dim, index, "index_copy_");
  check(source.defined(), "index_copy_: source is an undefined tensor");
  const Shape expected = source_shape_along(*this, dim, index, "index_copy_");
  if (source.numel() != numel_of(expected))
    throw Error(concat("index_copy_: source of shape ", shape_str(source.shape()), " does not match ",
                       shape_str(expected), " (self ", shape_str(shape()), " with dim ", dim, " of index's length ",
                       index.numel(), ")"));
  if (source.dtype() != dtype())
    throw Error(concat("index_copy_: self (", dtype_name(dtype()), ") and source (", dtype_name(source.dtype()),
                       ") must have the same scalar type"));
  const Tensor copied = source.contiguous().reshape({-1});
  return apply_in_place(const_cast<Tensor&>(*this), "index_copy_",
                        [&](const Tensor& old) { return put_at(old, at, copied, false, "IndexCopyBackward0"); });
}

Tensor& Tensor::index_fill_(std::int64_t dim, const Tensor& index, const Scalar& value) const {
  check(defined(), "index_fill_: called on an undefined tensor");
  const Positions at = positions_along(*this, dim, index, "index_fill_");
  const Tensor filler = full({static_cast<std::int64_t>(at->size())}, value, dtype());
  return apply_in_place(const_cast<Tensor&>(*this), "index_fill_",
                        [&](const Tensor& old) { return put_at(old, at, filler, false, "IndexFillBackward0"); });
}

Tensor& Tensor::scatter_(std::int64_t dim, const Tensor& index, const Tensor& src) const {
  check(defined(), "scatter_: called on an undefined tensor");
  const Positions at = positions_scattered(*this, dim, index, "scatter_");
  const Tensor values = scatter_source(src, index, *this, "scatter_");
  return apply_in_place(const_cast<Tensor&>(*this), "scatter_",
                        [&](const Tensor& old) { return put_at(old, at, values, false, "ScatterBackward0"); });
}

Tensor& Tensor::scatter_(std::int64_t dim, const Tensor& index, const Scalar& value) const {
  check(defined(), "scatter_: called on an undefined tensor");
  const Positions at = positions_scattered(*this, dim, index, "scatter_");
  const Tensor values = full({static_cast<std::int64_t>(at->size())}, value, dtype());
  return apply_in_place(const_cast<Tensor&>(*this), "scatter_",
                        [&](const Tensor& old) { return put_at(old, at, values, false, "ScatterBackward1"); });
}

Tensor& Tensor::scatter_add_(std::int64_t dim, const Tensor& index, const Tensor& src) const {
  check(defined(), "scatter_add_: called on an undefined tensor");
  const Positions at = positions_scattered(*this, dim, index, "scatter_add_");
  const Tensor values = scatter_source(src, index, *this, "scatter_add_");
  return apply_in_place(const_cast<Tensor&>(*this), "scatter_add_",
                        [&](const Tensor& old) { return put_at(old, at, values, true, "ScatterAddBackward0"); });
}

Tensor& Tensor::masked_scatter_(const Tensor& mask, const Tensor& source) const {
  check(defined(), "masked_scatter_: called on an undefined tensor");
  check(mask.defined() && source.defined(), "masked_scatter_: mask and source must be defined");
  if (mask.dtype() != kBool && mask.dtype() != kUInt8)
    throw Error(concat("masked_scatter_: expected BoolTensor or ByteTensor for mask, got ", dtype_name(mask.dtype())));
  if (source.dtype() != dtype())
    throw Error(concat("masked_scatter_: expected self and source to have same dtypes but got ", dtype_name(dtype()),
                       " and ", dtype_name(source.dtype())));
  const Shape shape = this->shape();
  if (broadcast_shapes(mask.shape(), shape, "masked_scatter_") != shape)
    throw Error(concat("masked_scatter_: mask of shape ", shape_str(mask.shape()), " cannot be broadcast to ",
                       shape_str(shape)));
  const Plan plan = plan_index(*this, {mask.expand(shape).contiguous()}, "masked_scatter_");
  const auto count = static_cast<std::int64_t>(plan.at->size());
  if (source.numel() < count)
    throw Error(concat("masked_scatter_: Number of elements of source < number of ones in mask (", source.numel(),
                       " < ", count, ")"));
  const Tensor values = source.contiguous().reshape({-1}).narrow(0, 0, count).contiguous();
  return apply_in_place(const_cast<Tensor&>(*this), "masked_scatter_",
                        [&](const Tensor& old) { return put_at(old, plan.at, values, false, "MaskedScatterBackward0"); });
}

Tensor Tensor::index_add(std::int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) const {
  return clone().index_add_(dim, index, source, alpha);
}
Tensor Tensor::index_copy(std::int64_t dim, const Tensor& index, const Tensor& source) const {
  return clone().index_copy_(dim, index, source);
}
Tensor Tensor::index_fill(std::int64_t dim, const Tensor& index, const Scalar& value) const {
  return clone().index_fill_(dim, index, value);
}
Tensor Tensor::scatter(std::int64_t dim, const Tensor& index, const Tensor& src) const {
  return clone().scatter_(dim, index, src);
}
Tensor Tensor::scatter(std::int64_t dim, const Tensor& index, const Scalar& value) const {
  return clone().scatter_(dim, index, value);
}
Tensor Tensor::scatter_add(std::int64_t dim, const Tensor& index, const Tensor& src) const {
  return clone().scatter_add_(dim, index, src);
}
Tensor Tensor::masked_scatter(const Tensor& mask, const Tensor& source) const {
  return clone().masked_scatter_(mask, source);
}

Tensor Tensor::masked_select(const Tensor& mask) const {
  check(defined() && mask.defined(), "masked_select: self and mask must be defined");
  if (mask.dtype() != kBool && mask.dtype() != kUInt8)
    throw Error(concat("masked_select: expected BoolTensor or ByteTensor for mask, got ", dtype_name(mask.dtype())));
  const Shape shape = broadcast_shapes(this->shape(), mask.shape(), "masked_select");
  return xgrad::index(expand(shape), std::vector<std::optional<Tensor>>{mask.expand(shape).contiguous()});
}

Tensor Tensor::nonzero() const {
  check(defined(), "nonzero: called on an undefined tensor");
  const Shape shape = this->shape();
  const auto rank = static_cast<std::int64_t>(shape.size());
  std::vector<std::int64_t> coordinates;
  visit_any_dtype(dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* values = data<T>();
    std::vector<std::int64_t> at(shape.size(), 0);
    for (std::int64_t k = 0; k < numel(); ++k) {
      if (values[k] != T(0)) coordinates.insert(coordinates.end(), at.begin(), at.end());
      for (std::size_t d = shape.size(); d-- > 0;) {
        if (++at[d] < shape[d]) break;
        at[d] = 0;
      }
    }
  });
  const std::int64_t found = rank == 0 ? (coordinates.empty() && item<double>() == 0 ? 0 : 1)
                                       : static_cast<std::int64_t>(coordinates.size()) / rank;
  Tensor out = zeros({found, rank}, kInt64);
  if (!coordinates.empty()) std::copy(coordinates.begin(), coordinates.end(), out.mutable_data<std::int64_t>());
  return out;
}

}  // namespace xgrad
