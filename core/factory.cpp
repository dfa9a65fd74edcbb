#include <xgrad/core/factory.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <random>

#include <xgrad/core/tensor_impl.hpp>

namespace xgrad {

namespace {

// PyTorch's default CPU seed, so an unseeded program is still reproducible.
constexpr std::uint64_t kDefaultSeed = 67280421310721ULL;

// The global generator. As libtorch's CPU generator, it guards its engine with a mutex that every
// random op holds for all of its draws: threads that draw at once (a data loader's workers, a
// user's own threads) then take disjoint runs of the one stream, where unguarded they would race on
// the engine's state. One thread's results for a seed are unchanged.
class Generator {
 public:
  // draw(engine) with the lock held.
  template <class Draw>
  auto with_engine(const Draw& draw) {
    std::lock_guard<std::mutex> lock(mutex_);
    return draw(engine_);
  }

 private:
  std::mutex mutex_;
  std::mt19937_64 engine_{kDefaultSeed};
};

Generator& generator() {
  static Generator instance;
  return instance;
}

template <class T>
Tensor copy_from(const T* data, const Shape& shape) {
  Array<T> values = Array<T>::from_shape(to_xshape(shape));
  std::copy(data, data + values.size(), values.data());
  return make_tensor(std::move(values));
}

// Sizes must be non-negative: a -1 means "infer" only in view and reshape.
Shape checked_sizes(IntArrayRef sizes, const char* op) {
  for (std::int64_t size : sizes)
    if (size < 0) throw Error(concat(op, ": negative size in ", shape_str(sizes.vec())));
  return sizes.vec();
}

// Fills a new floating tensor of `sizes` with draw() cast to the dtype's element type.
template <class Draw>
Tensor generate(IntArrayRef sizes, const TensorOptions& options, const char* op, Draw draw) {
  const Shape shape = checked_sizes(sizes, op);
  Tensor out = visit_floating(options.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape(to_xshape(shape));
    for (T& value : values) value = static_cast<T>(draw());
    return make_tensor(std::move(values));
  });
  return apply_options(std::move(out), options);
}

Dtype dtype_of_scalar(const Scalar& value) {
  if (value.isBoolean()) return kBool;
  return value.isFloatingPoint() ? get_default_dtype() : kInt64;
}

TensorOptions with_dtype(const TensorOptions& options, Dtype fallback) {
  return options.has_dtype() ? options : options.dtype(fallback);
}

}  // namespace

namespace detail {

// The elements in row-major order, in the list's sizes, and their one kind.
struct TensorData::Flat {
  Shape sizes;
  bool sized = false;  // whether sizes holds the first leaf's shape yet
  bool kind_known = false;
  Kind kind = Kind::Floating;
  std::vector<double> floats;
  std::vector<std::int64_t> integers;
};

namespace {

const char* kind_name(TensorData::Kind kind) {
  switch (kind) {
    case TensorData::Kind::Floating: return "floating";
    case TensorData::Kind::Integer: return "integer";
    case TensorData::Kind::Bool: return "bool";
    case TensorData::Kind::Byte: return "uint8";
  }
  return "unknown";
}

}  // namespace

// Depth-first over the braced lists, which nest only as deep as the program wrote them.
void TensorData::flatten_into(Flat& flat, std::size_t depth) const {
  if (form_ == Form::List) {
    if (flat.sizes.size() <= depth) {
      check(!flat.sized, "tensor: ragged nested list: a sub-list at depth ", depth,
            " where other elements are numbers");
      flat.sizes.push_back(static_cast<std::int64_t>(elements_.size()));
    } else {
      check(flat.sizes[depth] == static_cast<std::int64_t>(elements_.size()),
            "tensor: Expected all sub-lists to have sizes: ", flat.sizes[depth], " (ragged nested list at depth ",
            depth, ": got a sub-list of ", elements_.size(), " elements)");
    }
    // An empty list still has a depth, and every element below it must be a list too.
    if (elements_.size() == 0 && !flat.sized) flat.sized = depth + 1 == flat.sizes.size();
    for (const TensorData& element : elements_) element.flatten_into(flat, depth + 1);
    return;
  }
  // A number or a vector: the deepest level. Its shape below this depth must match the first leaf's.
  const Shape below(sizes_.begin(), sizes_.end());
  if (!flat.sized) {
    flat.sizes.resize(depth);
    flat.sizes.insert(flat.sizes.end(), below.begin(), below.end());
    flat.sized = true;
  } else {
    const bool same = flat.sizes.size() == depth + below.size() &&
                      std::equal(below.begin(), below.end(), flat.sizes.begin() + static_cast<std::ptrdiff_t>(depth));
    check(same, "tensor: ragged nested list: elements at depth ", depth, " have different shapes");
  }
  if (!flat.kind_known) {
    flat.kind = kind_;
    flat.kind_known = true;
  }
  check(flat.kind == kind_, "tensor: Expected all elements of the tensor to have the same scalar type: ",
        kind_name(flat.kind), ", but got element of scalar type: ", kind_name(kind_));
  if (form_ == Form::Number) {
    if (kind_ == Kind::Floating) flat.floats.push_back(float_value_);
    else flat.integers.push_back(integer_value_);
  } else {
    flat.floats.insert(flat.floats.end(), floats_.begin(), floats_.end());
    flat.integers.insert(flat.integers.end(), integers_.begin(), integers_.end());
  }
}

Tensor TensorData::to_tensor(const TensorOptions& options) const {
  Flat flat;
  flatten_into(flat, 0);
  Tensor values = flat.kind == Kind::Floating ? from_buffer(flat.floats.data(), flat.sizes)
                                              : from_buffer(flat.integers.data(), flat.sizes);
  Dtype natural = kFloat32;
  switch (flat.kind) {
    case Kind::Floating: natural = get_default_dtype(); break;
    case Kind::Integer: natural = kInt64; break;
    case Kind::Bool: natural = kBool; break;
    case Kind::Byte: natural = kUInt8; break;
  }
  return apply_options(std::move(values), options.has_dtype() ? options : options.dtype(natural));
}

}  // namespace detail

Tensor tensor(const detail::TensorData& data, const TensorOptions& options) { return data.to_tensor(options); }

Tensor from_buffer(const float* data, const Shape& shape) { return copy_from(data, shape); }
Tensor from_buffer(const double* data, const Shape& shape) { return copy_from(data, shape); }
Tensor from_buffer(const std::int64_t* data, const Shape& shape) { return copy_from(data, shape); }
Tensor from_buffer(const bool* data, const Shape& shape) { return copy_from(data, shape); }
Tensor from_buffer(const std::uint8_t* data, const Shape& shape) { return copy_from(data, shape); }

namespace {

Tensor alias_blob(void* data, IntArrayRef sizes, const std::vector<std::int64_t>* strides,
                  const std::function<void(void*)>& deleter, const TensorOptions& options) {
  check_cpu(options.device(), "from_blob");
  if (data == nullptr) throw Error("from_blob: data is a null pointer");
  strided::Layout layout;
  layout.sizes = to_dims(checked_sizes(sizes, "from_blob"));
  if (strides) {
    if (strides->size() != layout.sizes.size())
      throw Error(concat("from_blob: ", strides->size(), " strides ", shape_str(*strides), " for ",
                         layout.sizes.size(), " sizes ", shape_str(layout.sizes)));
    for (const std::int64_t stride : *strides)
      if (stride < 0) throw Error(concat("from_blob: negative stride in strides ", shape_str(*strides)));
    layout.strides = to_dims(*strides);
  } else {
    layout.strides = strided::Layout::contiguous_strides(layout.sizes);
  }
  auto storage = visit_any_dtype(options.dtype(), [](auto tag) {
    using T = decltype(tag);
    // The array stays empty: it only names the dtype; the elements are the caller's.
    return std::make_shared<Storage>(std::in_place_type<Array<T>>, Array<T>::from_shape({0}));
  });
  storage->external = data;
  storage->external_numel = layout.extent().second;
  storage->deleter = deleter;
  auto impl = make_cached_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->strided = make_cached_unique<TensorImpl::Strided>();
  impl->strided->layout = std::move(layout);
  Tensor out(std::move(impl));
  if (options.requires_grad()) out.requires_grad_(true);
  return out;
}

}  // namespace

Tensor from_blob(void* data, IntArrayRef sizes, const TensorOptions& options) {
  return alias_blob(data, sizes, nullptr, {}, options);
}

Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides, const TensorOptions& options) {
  const std::vector<std::int64_t> steps = strides.vec();
  return alias_blob(data, sizes, &steps, {}, options);
}

Tensor from_blob(void* data, IntArrayRef sizes, const std::function<void(void*)>& deleter,
                 const TensorOptions& options) {
  return alias_blob(data, sizes, nullptr, deleter, options);
}

Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides, const std::function<void(void*)>& deleter,
                 const TensorOptions& options) {
  const std::vector<std::int64_t> steps = strides.vec();
  return alias_blob(data, sizes, &steps, deleter, options);
}

Tensor apply_options(Tensor tensor, const TensorOptions& options) {
  check_cpu(options.device(), "tensor factory");
  if (options.has_dtype() && tensor.dtype() != options.dtype()) tensor = tensor.to(options.dtype());
  if (options.requires_grad()) tensor.requires_grad_(true);
  return tensor;
}

Tensor full(IntArrayRef sizes, const Scalar& value, const TensorOptions& options) {
  const Shape shape = checked_sizes(sizes, "full");
  const TensorOptions resolved = with_dtype(options, dtype_of_scalar(value));
  Tensor out = visit_any_dtype(resolved.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape(to_xshape(shape));
    values.fill(value.to<T>());
    return make_tensor(std::move(values));
  });
  return apply_options(std::move(out), resolved);
}

// Zero-filled: recycled buffers hold stale values, and an "uninitialised" tensor that differs from
// run to run helps nobody.
Tensor empty(IntArrayRef sizes, const TensorOptions& options) { return zeros(checked_sizes(sizes, "empty"), options); }
Tensor zeros(IntArrayRef sizes, const TensorOptions& options) {
  return full(checked_sizes(sizes, "zeros"), 0, with_dtype(options, get_default_dtype()));
}
Tensor ones(IntArrayRef sizes, const TensorOptions& options) {
  return full(checked_sizes(sizes, "ones"), 1, with_dtype(options, get_default_dtype()));
}

Tensor arange(const Scalar& end, const TensorOptions& options) { return arange(0, end, 1, options); }
Tensor arange(const Scalar& start, const Scalar& end, const TensorOptions& options) {
  return arange(start, end, 1, options);
}

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, const TensorOptions& options) {
  const bool integral = !start.isFloatingPoint() && !end.isFloatingPoint() && !step.isFloatingPoint();
  const TensorOptions resolved = with_dtype(options, integral ? kInt64 : get_default_dtype());
  const double first = start.toDouble(), last = end.toDouble(), stride = step.toDouble();
  if (stride == 0 || !std::isfinite(first) || !std::isfinite(last) || (last - first) * stride < 0)
    throw Error(concat("arange: cannot step from ", first, " to ", last, " by ", stride));
  const auto count = static_cast<std::int64_t>(std::ceil((last - first) / stride));
  Tensor out = visit_dtype(resolved.dtype(), "arange", [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape({static_cast<std::size_t>(count)});
    for (std::int64_t i = 0; i < count; ++i)
      values(i) = integral ? static_cast<T>(start.toLong() + i * step.toLong()) : static_cast<T>(first + i * stride);
    return make_tensor(std::move(values));
  });
  return apply_options(std::move(out), resolved);
}

Tensor linspace(const Scalar& start, const Scalar& end, std::int64_t steps, const TensorOptions& options) {
  check(steps >= 0, "linspace: steps must be non-negative, got ", steps);
  const double first = start.toDouble(), last = end.toDouble();
  const TensorOptions resolved = with_dtype(options, get_default_dtype());
  Tensor out = visit_dtype(resolved.dtype(), "linspace", [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape({static_cast<std::size_t>(steps)});
    // PyTorch fills the first half forwards from start and the second half backwards from end, so
    // both ends are exact.
    const double stride = steps > 1 ? (last - first) / static_cast<double>(steps - 1) : 0.0;
    const std::int64_t half = steps == 1 ? 1 : steps / 2;  // one step gives start
    for (std::int64_t i = 0; i < steps; ++i)
      values(i) = static_cast<T>(i < half ? first + stride * i : last - stride * (steps - 1 - i));
    return make_tensor(std::move(values));
  });
  return apply_options(std::move(out), resolved);
}

Tensor eye(std::int64_t n, const TensorOptions& options) { return eye(n, n, options); }

Tensor eye(std::int64_t n, std::int64_t m, const TensorOptions& options) {
  check(n >= 0 && m >= 0, "eye: sizes must be non-negative, got n = ", n, ", m = ", m);
  Tensor out = zeros({n, m}, options);
  visit_any_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T>& values = mutable_array<T>(out);
    for (std::int64_t i = 0; i < std::min(n, m); ++i) values(i, i) = T(1);
  });
  return out;
}

Tensor randn(IntArrayRef sizes, const TensorOptions& options) {
  std::normal_distribution<double> normal(0.0, 1.0);
  return generator().with_engine(
      [&](std::mt19937_64& engine) { return generate(sizes, options, "randn", [&] { return normal(engine); }); });
}

Tensor rand(IntArrayRef sizes, const TensorOptions& options) { return uniform(sizes, 0.0, 1.0, options); }

Tensor uniform(IntArrayRef sizes, double low, double high, const TensorOptions& options) {
  check(low <= high, "uniform: low ", low, " must not exceed high ", high);
  std::uniform_real_distribution<double> draw(low, high);
  return generator().with_engine(
      [&](std::mt19937_64& engine) { return generate(sizes, options, "uniform", [&] { return draw(engine); }); });
}

Tensor randint(std::int64_t high, IntArrayRef sizes, const TensorOptions& options) {
  return randint(0, high, sizes, options);
}

Tensor randint(std::int64_t low, std::int64_t high, IntArrayRef sizes, const TensorOptions& options) {
  check(low < high, "randint: low ", low, " must be less than high ", high);
  const Shape shape = checked_sizes(sizes, "randint");
  std::uniform_int_distribution<std::int64_t> draw(low, high - 1);
  Array<std::int64_t> values = Array<std::int64_t>::from_shape(to_xshape(shape));
  generator().with_engine([&](std::mt19937_64& engine) {
    for (std::int64_t& value : values) value = draw(engine);
  });
  return apply_options(make_tensor(std::move(values)), with_dtype(options, kInt64));
}

Tensor randperm(std::int64_t n, const TensorOptions& options) {
  check(n >= 0, "randperm: n must be non-negative, got ", n);
  Array<std::int64_t> values = Array<std::int64_t>::from_shape({static_cast<std::size_t>(n)});
  for (std::int64_t i = 0; i < n; ++i) values(i) = i;
  // Fisher-Yates with the global generator, so manual_seed makes it reproducible.
  generator().with_engine([&](std::mt19937_64& engine) {
    for (std::int64_t i = n - 1; i > 0; --i) {
      const auto j = std::uniform_int_distribution<std::uint64_t>(0, static_cast<std::uint64_t>(i))(engine);
      std::swap(values(i), values(static_cast<std::int64_t>(j)));
    }
  });
  return apply_options(make_tensor(std::move(values)), with_dtype(options, kInt64));
}

namespace {
TensorOptions like_options(const Tensor& like, const TensorOptions& options, const char* op) {
  if (!like.defined()) throw Error(concat(op, ": called on an undefined tensor"));
  return with_dtype(options, like.dtype());
}
}  // namespace

Tensor empty_like(const Tensor& like, const TensorOptions& options) {
  return empty(like.sizes(), like_options(like, options, "empty_like"));
}
Tensor zeros_like(const Tensor& like, const TensorOptions& options) {
  return zeros(like.sizes(), like_options(like, options, "zeros_like"));
}
Tensor ones_like(const Tensor& like, const TensorOptions& options) {
  return ones(like.sizes(), like_options(like, options, "ones_like"));
}
Tensor full_like(const Tensor& like, const Scalar& value, const TensorOptions& options) {
  return full(like.sizes(), value, like_options(like, options, "full_like"));
}
Tensor rand_like(const Tensor& like, const TensorOptions& options) {
  return rand(like.sizes(), like_options(like, options, "rand_like"));
}
Tensor randn_like(const Tensor& like, const TensorOptions& options) {
  return randn(like.sizes(), like_options(like, options, "randn_like"));
}

void manual_seed(std::uint64_t seed) {
  generator().with_engine([&](std::mt19937_64& engine) { engine.seed(seed); });
}

std::uint64_t random_index(std::uint64_t bound) {
  check(bound > 0, "random_index: bound must be positive");
  return generator().with_engine(
      [&](std::mt19937_64& engine) { return std::uniform_int_distribution<std::uint64_t>(0, bound - 1)(engine); });
}

double random_normal() {
  return generator().with_engine(
      [](std::mt19937_64& engine) { return std::normal_distribution<double>(0.0, 1.0)(engine); });
}

void random_words(std::uint64_t* words, std::size_t count) {
  generator().with_engine([&](std::mt19937_64& engine) {
    for (std::size_t i = 0; i < count; ++i) words[i] = engine();
  });
}

}  // namespace xgrad
