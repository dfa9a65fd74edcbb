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

}  // namespace

// ---- broadcast_to ----------------------------------------------------------------------------------

namespace {

// d broadcast_to(x) = sum_to(g, x.shape)
struct BroadcastToBackward final : Node {
  explicit BroadcastToBackward(Shape input_shape) : input_shape(std::move(input_shape)) {}
  const char* name() const override { return "ExpandBackward0"; }
  const char* formula() const override { return "d broadcast_to(x) = g summed over the broadcast dims"; }
  gradient_list backward(const Tensor& grad) override { return {sum_to(grad, input_shape)}; }
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
  if (any_requires_grad({&x})) record(out, make_node<BroadcastToBackward>(from), {&x});
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
  ScatterAddBackward(std::int64_t dim, const Tensor& index) : dim(dim), saved_index(index, /*is_output=*/false) {}
  const char* name() const override { return "ScatterAddBackward0"; }
  const char* formula() const override { return "d scatter_add(zeros, dim, index, g)/d g = gather(gg, dim, index)"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor index = saved_index.unpack(*this);
    return {gather(grad, dim, index)};
  }
  void release_saved() override { saved_index.reset(); }
  std::int64_t dim;
  SavedTensor saved_index;
};

// gather's derivative as an op of its own, so that a gradient can be differentiated again.
Tensor scatter_add_to_zeros(const Tensor& grad, const GatherWalk& walk, const Tensor& index, const Shape& input_shape) {
  Tensor out = scatter_add_values(grad, walk, index, input_shape);
  if (any_requires_grad({&grad}))
    record(out, make_node<ScatterAddBackward>(static_cast<std::int64_t>(walk.dim), index), {&grad});
  return out;
}

// d gather(x, dim, index) = g added into zeros at the gathered positions (an index may repeat)
struct GatherBackward final : Node {
  GatherBackward(GatherWalk walk, const Tensor& index, Shape input_shape)
      : walk(std::move(walk)), saved_index(index, /*is_output=*/false), input_shape(std::move(input_shape)) {}
  const char* name() const override { return "GatherBackward0"; }
  const char* formula() const override {
    return "d gather(x, dim, index) = zeros of x's shape with g scattered (added) at index";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor index = saved_index.unpack(*this);
    return {scatter_add_to_zeros(grad, walk, index, input_shape)};
  }
  void release_saved() override { saved_index.reset(); }
  GatherWalk walk;
  SavedTensor saved_index;
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
    record(out, make_node<GatherBackward>(std::move(walk), index, input.shape()), {&input});
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
  const char* formula() const override { return "d x.to(dtype) = g converted back"; }
  gradient_list backward(const Tensor& grad) override { return {to_dtype(grad, input_dtype)}; }
  Dtype input_dtype;
};

}  // namespace

Tensor to_dtype(const Tensor& x, Dtype dtype) {
  check_defined(x, "to_dtype", "input");
  if (x.dtype() == dtype) return x;
  Tensor out = cast(x, dtype);
  // A cast to int64 ends the graph, as in PyTorch: integer tensors carry no gradient.
  if (is_floating(dtype) && any_requires_grad({&x}))
    record(out, make_node<ToDtypeBackward>(x.dtype()), {&x});
  return out;
}

// ---- Tensor methods ---------------------------------------------------------------------------------


}  // namespace xgrad
