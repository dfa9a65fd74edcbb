#include <xgrad/ops/indexing.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/broadcast_impl.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/indexing_impl.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad {

namespace {

void check_defined(const Tensor& t, const char* op, const char* argument) {
  check(t.defined(), op, ": ", argument, " is an undefined tensor");
}

void check_bool(const Tensor& t, const char* op, const char* argument) {
  if (t.dtype() != kBool)
    throw Error(concat(op, ": ", argument, " must be a bool tensor, got ", dtype_name(t.dtype()), " (", argument,
                       " shape ", shape_str(t.shape()), "); convert with to(xgrad::kBool)"));
}

// PyTorch's promote_types for xgrad's dtypes: the later in bool < uint8 < int64 < float32 < float64.
int promotion_rank(Dtype dtype) {
  switch (dtype) {
    case Dtype::Bool: return 0;
    case Dtype::UInt8: return 1;
    case Dtype::Int64: return 2;
    case Dtype::Float32: return 3;
    case Dtype::Float64: break;
  }
  return 4;
}
Dtype promote(Dtype a, Dtype b) { return promotion_rank(a) >= promotion_rank(b) ? a : b; }

// The dtype a tensor of dtype `tensor` takes next to a number, as PyTorch: a number of a higher
// kind (floating beside integers, an integer beside bool) moves it to that kind's default dtype.
Dtype promote_with_scalar(Dtype tensor, const Scalar& value) {
  if (value.isFloatingPoint() && !is_floating(tensor)) return kFloat32;
  if (value.isIntegral(false) && tensor == kBool) return kInt64;
  return tensor;
}

// value as a T, or an Error where PyTorch refuses it ("value cannot be converted to type uint8_t
// without overflow"). As in PyTorch (c10::overflows), float32 takes infinities and NaN but not a
// finite value beyond its range; uint8 takes -255..255 and wraps the negative ones.
template <class T>
T scalar_as(const Scalar& value, const char* op) {
  const auto refuse = [&] {
    const auto shown = value.isFloatingPoint() ? concat(value.toDouble()) : concat(value.toLong());
    return Error(concat(op, ": value ", shown, " cannot be converted to ", dtype_name(dtype_of<T>()),
                        " without overflow"));
  };
  if constexpr (std::is_same_v<T, bool>) {
    return value.isFloatingPoint() ? value.toDouble() != 0.0 : value.toLong() != 0;
  } else if constexpr (std::is_floating_point_v<T>) {
    const double v = value.toDouble();
    if (std::isfinite(v) && std::abs(v) > static_cast<double>(std::numeric_limits<T>::max())) throw refuse();
    return static_cast<T>(v);
  } else {
    // int64 and uint8: a floating value is truncated towards zero once it is known to fit.
    constexpr bool byte = std::is_same_v<T, std::uint8_t>;
    if (value.isFloatingPoint()) {
      const double v = value.toDouble();
      const bool fits = byte ? v >= -255.0 && v <= 255.0 : v >= -9223372036854775808.0 && v < 9223372036854775808.0;
      if (!fits) throw refuse();  // NaN fits nowhere
      return static_cast<T>(static_cast<std::int64_t>(v));
    }
    const std::int64_t v = value.toLong();
    if (byte && (v < -255 || v > 255)) throw refuse();
    return static_cast<T>(v);
  }
}

// A 0-dim tensor holding value as `dtype` (checked as scalar_as does).
Tensor scalar_tensor(const Scalar& value, Dtype dtype, const char* op) {
  return visit_any_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    Array<T> out = Array<T>::from_shape(Shape{});
    *out.data() = scalar_as<T>(value, op);
    return make_tensor(std::move(out));
  });
}

// The elements of `a` broadcast to `shape`: a's own buffer when it already has that shape, else
// `scratch`, filled. The hot case (equal shapes) copies nothing.
template <class T>
const T* broadcast_data(const Array<T>& a, const Shape& shape, Array<T>& scratch) {
  if (std::equal(a.shape().begin(), a.shape().end(), shape.begin(), shape.end(),
                 [](std::size_t x, std::int64_t y) { return static_cast<std::int64_t>(x) == y; }))
    return a.data();
  scratch = broadcast_array(a, shape);
  return scratch.data();
}

bool any_requires_grad_in(const std::vector<Tensor>& tensors) {
  if (!GradMode::is_enabled()) return false;
  return std::any_of(tensors.begin(), tensors.end(), [](const Tensor& t) { return t.requires_grad(); });
}

std::vector<const Tensor*> pointers_to(const std::vector<Tensor>& tensors) {
  std::vector<const Tensor*> pointers;
  pointers.reserve(tensors.size());
  for (const Tensor& t : tensors) pointers.push_back(&t);
  return pointers;
}

}  // namespace

// ---- picks along one dim: select, slice, narrow, index_select --------------------------------------
//
// The four ops read the same way. Around `dim` the input is [outer, axis, inner] (row-major), the
// result [outer, count, inner], and each read position along dim moves one contiguous run of inner
// elements, or one run of count * inner when the positions are consecutive. Their derivative
// writes the gradient's runs back to the positions they came from. So one pair of functions, take
// and put, does the work; the ops only validate their arguments and say which positions to read.

namespace {

// Which positions along dim a pick reads, with the names PyTorch gives the op and its derivative.
struct Picks {
  std::size_t dim = 0;
  // Positions start, start + step, ... (count of them), unless index is defined: then its values.
  std::int64_t start = 0, step = 1, count = 0;
  Tensor index;
  // select removes the dim from the result; the others keep it with size count.
  bool drop_dim = false;
  Shape source_shape;
  const char* name = "";
  const char* backward_name = "";
};

Shape picked_shape(const Picks& p) {
  if (p.source_shape.empty()) return {};  // index_select of a 0-dim tensor
  Shape shape = p.source_shape;
  if (p.drop_dim) shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(p.dim));
  else shape[p.dim] = p.count;
  return shape;
}

// Calls move(source_offset, result_offset, length) once per contiguous run of a pick.
template <class F>
void for_each_run(const Picks& p, F move) {
  const AxisSplit s = p.source_shape.empty() ? AxisSplit{} : split_at(p.source_shape, p.dim);
  const auto count = static_cast<std::size_t>(p.count);
  const std::int64_t* listed = p.index.defined() ? p.index.data<std::int64_t>() : nullptr;
  const bool consecutive = !listed && p.step == 1;
  for (std::size_t o = 0; o < s.outer; ++o) {
    const std::size_t source = o * s.axis * s.inner, result = o * count * s.inner;
    if (consecutive) {
      move(source + static_cast<std::size_t>(p.start) * s.inner, result, count * s.inner);
      continue;
    }
    for (std::size_t k = 0; k < count; ++k) {
      const auto at = static_cast<std::size_t>(listed ? listed[k] : p.start + static_cast<std::int64_t>(k) * p.step);
      move(source + at * s.inner, result + k * s.inner, s.inner);
    }
  }
}

Tensor take_values(const Tensor& x, const Picks& p) {
  return visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> out = Array<T>::from_shape(picked_shape(p));
    const T* in = array<T>(x).data();
    T* o = out.data();
    for_each_run(p, [&](std::size_t source, std::size_t result, std::size_t n) {
      copy_run(in + source, n, o + result);
    });
    return make_tensor(std::move(out));
  });
}

Tensor put_values(const Tensor& grad, const Picks& p) {
  return visit_floating(grad.dtype(), p.backward_name, [&](auto tag) {
    using T = decltype(tag);
    Array<T> out = Array<T>::from_shape(p.source_shape);
    out.fill(T(0));
    const T* g = array<T>(grad).data();
    T* o = out.data();
    // Added, not copied: an index_select index may repeat.
    for_each_run(p, [&](std::size_t source, std::size_t result, std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) o[source + i] += g[result + i];
    });
    return make_tensor(std::move(out));
  });
}

Tensor take(const Tensor& x, const Picks& picks);

// `picks` with `index` in place of its own: a node keeps its picks without the index, which it
// holds apart as a SavedTensor, and puts the unpacked index back in backward.
Picks with_index(Picks picks, Tensor index) {
  picks.index = std::move(index);
  return picks;
}

// d put(g) = take(gg): put is linear in g, and take reads back exactly the positions put wrote
struct PutBackward final : Node {
  explicit PutBackward(const Picks& picks)
      : picks(with_index(picks, Tensor())), index(picks.index, /*is_output=*/false) {}
  const char* name() const override { return picks.backward_name; }
  const char* formula() const override {
    return "d index_add(zeros, dim, index, g)/d g = index_select(gg, dim, index)";
  }
  gradient_list backward(const Tensor& grad) override {
    return {take(grad, with_index(picks, index.unpack(*this)))};
  }
  void release_saved() override { index.reset(); }
  Picks picks;        // without its index
  SavedTensor index;  // picks.index, or undefined
};

// The derivative of a pick as an op of its own, so that a gradient can be differentiated again.
Tensor put(const Tensor& grad, const Picks& picks) {
  Tensor out = put_values(grad, picks);
  if (any_requires_grad({&grad})) record(out, make_node<PutBackward>(picks), {&grad});
  return out;
}

// d take(x) = put(g): each gradient element goes back to where its value was read, zeros elsewhere
struct TakeBackward final : Node {
  explicit TakeBackward(const Picks& picks)
      : picks(with_index(picks, Tensor())), index(picks.index, /*is_output=*/false) {}
  const char* name() const override { return picks.name; }
  const char* formula() const override { return "d index_select(x, dim, index) = zeros with g added at index"; }
  gradient_list backward(const Tensor& grad) override {
    return {put(grad, with_index(picks, index.unpack(*this)))};
  }
  void release_saved() override { index.reset(); }
  Picks picks;        // without its index
  SavedTensor index;  // picks.index, or undefined
};

Tensor take(const Tensor& x, const Picks& picks) {
  Tensor out = take_values(x, picks);
  if (any_requires_grad({&x})) record(out, make_node<TakeBackward>(picks), {&x});
  return out;
}

}  // namespace

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  check_defined(x, "index_select", "input");
  check_defined(index, "index_select", "index");
  Shape shape = x.shape();
  if (index.dtype() != kInt64)
    throw Error(concat("index_select: index must be an int64 tensor, got ", dtype_name(index.dtype()),
                       " (index shape ", shape_str(index.shape()), ")"));
  if (index.dim() > 1)
    throw Error(concat("index_select: index must be 1-D or 0-D, got shape ", shape_str(index.shape())));
  const std::size_t d = normalize_dim(dim, shape, "index_select");
  const std::int64_t count = index.numel();
  if (shape.empty() && count != 1)
    throw Error(concat("index_select: a 0-dim input takes an index of one element, got index shape ",
                       shape_str(index.shape())));
  const std::int64_t size = shape.empty() ? 1 : shape[d];
  const std::int64_t* values = index.data<std::int64_t>();
  for (std::int64_t k = 0; k < count; ++k)
    if (values[k] < 0 || values[k] >= size)
      throw Error(concat("index_select: index value ", values[k], " at position ", k, " is out of range for dim ", d,
                         " of size ", size, " (input shape ", shape_str(shape), ")"));
  Picks p;
  p.dim = d;
  p.count = count;
  p.index = index;
  p.source_shape = std::move(shape);
  p.name = "IndexSelectBackward0";
  p.backward_name = "IndexAddBackward0";
  return take(x, p);
}

// ---- masked_fill ------------------------------------------------------------------------------------

namespace {

// x broadcast against mask, with `fill` wherever the mask is true.
Tensor fill_masked(const Tensor& x, const Tensor& mask, const Shape& out_shape, const Scalar& fill, const char* op) {
  return visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T value = scalar_as<T>(fill, op);
    Array<T> out = Array<T>::from_shape(out_shape);
    Array<T> x_scratch;
    Array<bool> mask_scratch;
    const T* in = broadcast_data(array<T>(x), out_shape, x_scratch);
    const bool* m = broadcast_data(array<bool>(mask), out_shape, mask_scratch);
    T* o = out.data();
    for (std::size_t i = 0, n = out.size(); i < n; ++i) o[i] = blend(m[i], value, in[i]);
    return make_tensor(std::move(out));
  });
}

// Validates masked_fill's tensors and returns the result's shape.
Shape masked_fill_shape(const Tensor& x, const Tensor& mask) {
  check_defined(x, "masked_fill", "input");
  check_defined(mask, "masked_fill", "mask");
  check_bool(mask, "masked_fill", "mask");
  const Shape x_shape = x.shape(), mask_shape = mask.shape();
  return x_shape == mask_shape ? x_shape : broadcast_shapes(x_shape, mask_shape, "masked_fill");
}

// d masked_fill(x, mask, value) = g where the mask is false, 0 where it is true
struct MaskedFillBackward final : Node {
  MaskedFillBackward(const Tensor& mask, Shape input_shape)
      : mask(mask, /*is_output=*/false), input_shape(std::move(input_shape)) {}
  const char* name() const override { return "MaskedFillBackward0"; }
  const char* formula() const override { return "d masked_fill(x, mask, v) = g where not mask, 0 where mask"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor m = mask.unpack(*this);
    return {sum_to(masked_fill(grad, m, 0.0), input_shape)};
  }
  void release_saved() override { mask.reset(); }
  SavedTensor mask;
  Shape input_shape;
};

// d/dx as above; d/dvalue = the sum of g over the masked positions (value was copied into each)
struct MaskedFillTensorBackward final : Node {
  MaskedFillTensorBackward(const Tensor& mask, Shape input_shape)
      : mask(mask, /*is_output=*/false), input_shape(std::move(input_shape)) {}
  const char* name() const override { return "MaskedFillBackward1"; }
  const char* formula() const override {
    return "d masked_fill(x, mask, v)/d x = g where not mask, 0 where mask\n"
           "d masked_fill(x, mask, v)/d v = g summed over the masked positions";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor m = mask.unpack(*this);
    gradient_list grads(2);
    if (needs_input_grad(0)) grads[0] = sum_to(masked_fill(grad, m, 0.0), input_shape);
    if (needs_input_grad(1)) grads[1] = sum(where(m, grad, 0.0));
    return grads;
  }
  void release_saved() override { mask.reset(); }
  SavedTensor mask;
  Shape input_shape;
};

}  // namespace

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value) {
  const Shape out_shape = masked_fill_shape(x, mask);
  Tensor out = fill_masked(x, mask, out_shape, value, "masked_fill");
  if (any_requires_grad({&x})) record(out, make_node<MaskedFillBackward>(mask, x.shape()), {&x});
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value) {
  const Shape out_shape = masked_fill_shape(x, mask);
  check_defined(value, "masked_fill", "value");
  if (value.dim() != 0)
    throw Error(concat("masked_fill: value must be a 0-dim tensor, got shape ", shape_str(value.shape())));
  Tensor out = fill_masked(x, mask, out_shape, value.item(), "masked_fill");
  // In the graph the value enters in x's dtype, so a float64 value filling float32 gets its
  // gradient back through the cast, in float64.
  if (is_floating(x.dtype()) && any_requires_grad({&x, &value})) {
    const Tensor fill = to_dtype(value, x.dtype());
    record(out, make_node<MaskedFillTensorBackward>(mask, x.shape()), {&x, &fill});
  }
  return out;
}

// ---- where ------------------------------------------------------------------------------------------

namespace {

Shape where_shape(const Shape& condition, const Shape& a, const Shape& b) {
  if (condition == a && a == b) return a;
  try {
    return broadcast_shapes(broadcast_shapes(condition, a, "where"), b, "where");
  } catch (const Error&) {
    throw Error(concat("where: condition ", shape_str(condition), ", a ", shape_str(a), " and b ", shape_str(b),
                       " do not broadcast to one shape"));
  }
}

Tensor choose(const Tensor& condition, const Tensor& a, const Tensor& b, const Shape& out_shape) {
  return visit_any_dtype(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> out = Array<T>::from_shape(out_shape);
    Array<bool> c_scratch;
    Array<T> a_scratch, b_scratch;
    const bool* c = broadcast_data(array<bool>(condition), out_shape, c_scratch);
    const T* pa = broadcast_data(array<T>(a), out_shape, a_scratch);
    const T* pb = broadcast_data(array<T>(b), out_shape, b_scratch);
    T* o = out.data();
    for (std::size_t i = 0, n = out.size(); i < n; ++i) o[i] = blend(c[i], pa[i], pb[i]);
    return make_tensor(std::move(out));
  });
}

// d where(c, a, b) = (g where c, g where not c), each summed back to its input's shape
struct WhereBackward final : Node {
  WhereBackward(const Tensor& condition, Shape a_shape, Shape b_shape)
      : condition(condition, /*is_output=*/false), a_shape(std::move(a_shape)), b_shape(std::move(b_shape)) {}
  const char* name() const override { return "WhereBackward0"; }
  const char* formula() const override {
    return "d where(c, a, b)/d a = g where c\nd where(c, a, b)/d b = g where not c";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor c = condition.unpack(*this);
    gradient_list grads(2);
    if (needs_input_grad(0)) grads[0] = sum_to(where(c, grad, 0.0), a_shape);
    if (needs_input_grad(1)) grads[1] = sum_to(where(c, 0.0, grad), b_shape);
    return grads;
  }
  void release_saved() override { condition.reset(); }
  SavedTensor condition;
  Shape a_shape, b_shape;
};

}  // namespace

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  check_defined(condition, "where", "condition");
  check_defined(a, "where", "a");
  check_defined(b, "where", "b");
  check_bool(condition, "where", "condition");
  const Shape out_shape = where_shape(condition.shape(), a.shape(), b.shape());
  // Mixed dtypes meet in the promoted one; the casts are differentiable, so each input's gradient
  // comes back in its own dtype.
  const Dtype dtype = promote(a.dtype(), b.dtype());
  const Tensor x = to_dtype(a, dtype), y = to_dtype(b, dtype);
  Tensor out = choose(condition, x, y, out_shape);
  if (any_requires_grad({&x, &y}))
    record(out, make_node<WhereBackward>(condition, x.shape(), y.shape()), {&x, &y});
  return out;
}

Tensor where(const Tensor& condition, const Tensor& a, const Scalar& b) {
  check_defined(a, "where", "a");
  const Dtype dtype = promote_with_scalar(a.dtype(), b);
  return where(condition, to_dtype(a, dtype), scalar_tensor(b, dtype, "where"));
}

Tensor where(const Tensor& condition, const Scalar& a, const Tensor& b) {
  check_defined(b, "where", "b");
  const Dtype dtype = promote_with_scalar(b.dtype(), a);
  return where(condition, scalar_tensor(a, dtype, "where"), to_dtype(b, dtype));
}

// ---- cat and stack ----------------------------------------------------------------------------------

namespace {

// Joins the parts along one dim. Around it the result is [outer, total, inner] and part p is
// [outer, width_p / inner, inner]: for each outer block, each part contributes one contiguous run
// of width_p elements.
Tensor join(const std::vector<Tensor>& parts, const std::vector<std::size_t>& widths, std::size_t outer,
            const Shape& out_shape) {
  return visit_any_dtype(parts.front().dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> out = Array<T>::from_shape(out_shape);
    std::vector<const T*> sources;
    sources.reserve(parts.size());
    for (const Tensor& part : parts) sources.push_back(array<T>(part).data());
    T* o = out.data();
    for (std::size_t block = 0; block < outer; ++block)
      for (std::size_t p = 0; p < parts.size(); ++p) {
        copy_run(sources[p] + block * widths[p], widths[p], o);
        o += widths[p];
      }
    return make_tensor(std::move(out));
  });
}

// The tensors converted to their promoted dtype (the casts are differentiable).
std::vector<Tensor> promoted(const std::vector<Tensor>& tensors) {
  Dtype dtype = tensors.front().dtype();
  for (const Tensor& t : tensors) dtype = promote(dtype, t.dtype());
  std::vector<Tensor> out;
  out.reserve(tensors.size());
  for (const Tensor& t : tensors) out.push_back(to_dtype(t, dtype));
  return out;
}

void check_list(const std::vector<Tensor>& tensors, const char* op) {
  if (tensors.empty()) throw Error(concat(op, ": expected a non-empty list of tensors"));
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (!tensors[i].defined()) throw Error(concat(op, ": tensor ", i, " of the list is an undefined tensor"));
}

// PyTorch's legacy rule: a 1-D tensor with no elements joins anything (and adds nothing).
bool skipped_by_cat(const Tensor& t) { return t.dim() == 1 && t.numel() == 0; }

// d cat(x_0, ..., x_n) = the pieces of g along dim, one per input, of each input's size there
struct CatBackward final : Node {
  CatBackward(std::size_t dim, std::vector<std::int64_t> sizes, std::vector<bool> skipped)
      : dim(dim), sizes(std::move(sizes)), skipped(std::move(skipped)) {}
  const char* name() const override { return "CatBackward0"; }
  const char* formula() const override { return "d cat(xs) = the slice of g where each x was"; }
  gradient_list backward(const Tensor& grad) override {
    gradient_list grads(sizes.size());
    std::int64_t offset = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (needs_input_grad(i)) grads[i] = skipped[i] ? zeros(Shape{0}, grad.dtype()) : narrow(grad, dim, offset, sizes[i]);
      offset += sizes[i];
    }
    return grads;
  }
  std::size_t dim;
  std::vector<std::int64_t> sizes;
  std::vector<bool> skipped;
};

}  // namespace

namespace {

// What cat's arguments say about its result; every check of cat's shapes happens here.
struct CatPlan {
  std::size_t dim = 0;
  std::vector<std::int64_t> sizes;  // each input's size along dim (0 for a skipped one)
  std::vector<bool> skipped;
  Shape out_shape;
};

void check_joins(const std::vector<Tensor>& tensors, std::size_t reference, std::size_t i, std::size_t dim) {
  const Shape expected = tensors[reference].shape(), shape = tensors[i].shape();
  if (shape.size() != expected.size())
    throw Error(concat("cat: tensors must have the same number of dims: tensor ", reference, " has shape ",
                       shape_str(expected), ", tensor ", i, " has shape ", shape_str(shape)));
  for (std::size_t axis = 0; axis < shape.size(); ++axis)
    if (axis != dim && shape[axis] != expected[axis])
      throw Error(concat("cat: sizes of tensors must match except along dim ", dim, ": tensor ", reference,
                         " has shape ", shape_str(expected), ", tensor ", i, " has shape ", shape_str(shape)));
}

CatPlan plan_cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  check_list(tensors, "cat");
  // The first tensor the legacy rule keeps fixes the rank and the other sizes (the first of all
  // when every one is skipped).
  const auto kept = std::find_if(tensors.begin(), tensors.end(), [](const Tensor& t) { return !skipped_by_cat(t); });
  const std::size_t reference = kept == tensors.end() ? 0 : static_cast<std::size_t>(kept - tensors.begin());
  CatPlan plan;
  plan.out_shape = tensors[reference].shape();
  if (plan.out_shape.empty())
    throw Error(concat("cat: zero-dimensional tensor (at position ", reference, ") cannot be concatenated"));
  plan.dim = normalize_dim(dim, plan.out_shape, "cat");
  plan.sizes.assign(tensors.size(), 0);
  plan.skipped.assign(tensors.size(), false);
  plan.out_shape[plan.dim] = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    plan.skipped[i] = kept != tensors.end() && skipped_by_cat(tensors[i]);
    if (plan.skipped[i]) continue;
    check_joins(tensors, reference, i, plan.dim);
    plan.sizes[i] = tensors[i].size(static_cast<std::int64_t>(plan.dim));
    plan.out_shape[plan.dim] += plan.sizes[i];
  }
  return plan;
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  CatPlan plan = plan_cat(tensors, dim);
  const std::vector<Tensor> parts = promoted(tensors);
  const AxisSplit split = split_at(plan.out_shape, plan.dim);
  std::vector<std::size_t> widths(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) widths[i] = static_cast<std::size_t>(plan.sizes[i]) * split.inner;
  Tensor out = join(parts, widths, split.outer, plan.out_shape);
  if (any_requires_grad_in(parts))
    record(out, make_node<CatBackward>(plan.dim, std::move(plan.sizes), std::move(plan.skipped)),
           pointers_to(parts));
  return out;
}

namespace {

// d stack(x_0, ..., x_n) = select(g, dim, i) for input i
struct StackBackward final : Node {
  StackBackward(std::size_t dim, std::size_t count) : dim(dim), count(count) {}
  const char* name() const override { return "StackBackward0"; }
  const char* formula() const override { return "d stack(xs) = g[i] for the i-th x"; }
  gradient_list backward(const Tensor& grad) override {
    gradient_list grads(count);
    for (std::size_t i = 0; i < count; ++i)
      if (needs_input_grad(i)) grads[i] = select(grad, static_cast<std::int64_t>(dim), static_cast<std::int64_t>(i));
    return grads;
  }
  std::size_t dim, count;
};

}  // namespace

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim) {
  check_list(tensors, "stack");
  const Shape shape = tensors.front().shape();
  for (std::size_t i = 1; i < tensors.size(); ++i)
    if (tensors[i].shape() != shape)
      throw Error(concat("stack: expects each tensor to be equal size, but got ", shape_str(shape), " at entry 0 and ",
                         shape_str(tensors[i].shape()), " at entry ", i));
  // The new dim may go anywhere from before the first dim to after the last.
  const auto rank = static_cast<std::int64_t>(shape.size()) + 1;
  if (dim < -rank || dim >= rank)
    throw Error(concat("stack: dim ", dim, " out of range for stacking tensors of shape ", shape_str(shape),
                       " (expected a dim in [", -rank, ", ", rank - 1, "])"));
  const auto d = static_cast<std::size_t>(dim < 0 ? dim + rank : dim);

  Shape out_shape = shape;
  out_shape.insert(out_shape.begin() + static_cast<std::ptrdiff_t>(d), static_cast<std::int64_t>(tensors.size()));
  // Each tensor is one slice of the new dim: [outer, 1, inner] around it.
  const AxisSplit split = split_at(out_shape, d);
  const std::vector<Tensor> parts = promoted(tensors);
  Tensor out = join(parts, std::vector<std::size_t>(parts.size(), split.inner), split.outer, out_shape);
  if (any_requires_grad_in(parts)) record(out, make_node<StackBackward>(d, parts.size()), pointers_to(parts));
  return out;
}

// ---- Tensor methods ---------------------------------------------------------------------------------

Tensor Tensor::index_select(std::int64_t dim, const Tensor& index) const {
  return xgrad::index_select(*this, dim, index);
}
Tensor Tensor::masked_fill(const Tensor& mask, const Scalar& value) const {
  return xgrad::masked_fill(*this, mask, value);
}
Tensor Tensor::masked_fill(const Tensor& mask, const Tensor& value) const {
  return xgrad::masked_fill(*this, mask, value);
}

}  // namespace xgrad
