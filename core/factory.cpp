#include "core/factory.hpp"

#include <algorithm>
#include <random>

#include "core/tensor_impl.hpp"

namespace xgrad {

namespace {

// PyTorch's default CPU seed, so an unseeded program is still reproducible.
constexpr std::uint64_t kDefaultSeed = 67280421310721ULL;

std::mt19937_64& generator() {
  static std::mt19937_64 engine(kDefaultSeed);
  return engine;
}

template <class T>
Tensor copy_from(const T* data, const Shape& shape) {
  Array<T> values = Array<T>::from_shape(shape);
  std::copy(data, data + values.size(), values.data());
  return make_tensor(std::move(values));
}

// Fills a new tensor of `shape` with draw() cast to the dtype's element type.
template <class Draw>
Tensor generate(const Shape& shape, Dtype dtype, const char* op, Draw draw) {
  return visit_floating(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape(shape);
    for (T& value : values) value = static_cast<T>(draw());
    return make_tensor(std::move(values));
  });
}

}  // namespace

namespace detail {
void check_ragged(std::size_t expected, std::size_t got, std::size_t depth) {
  check(expected == got, "tensor: ragged nested list, expected ", expected, " elements at depth ", depth,
        " but got ", got);
}
}  // namespace detail

Tensor from_buffer(const float* data, const Shape& shape) { return copy_from(data, shape); }
Tensor from_buffer(const double* data, const Shape& shape) { return copy_from(data, shape); }
Tensor from_buffer(const std::int64_t* data, const Shape& shape) { return copy_from(data, shape); }

Tensor full(const Shape& shape, double value, Dtype dtype) {
  return visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape(shape);
    values.fill(static_cast<T>(value));
    return make_tensor(std::move(values));
  });
}

Tensor zeros(const Shape& shape, Dtype dtype) { return full(shape, 0.0, dtype); }
Tensor ones(const Shape& shape, Dtype dtype) { return full(shape, 1.0, dtype); }

Tensor arange(std::int64_t end, Dtype dtype) {
  check(end >= 0, "arange: end must be non-negative, got ", end);
  return visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape({static_cast<std::size_t>(end)});
    for (std::int64_t i = 0; i < end; ++i) values(i) = static_cast<T>(i);
    return make_tensor(std::move(values));
  });
}

Tensor randn(const Shape& shape, Dtype dtype) {
  std::normal_distribution<double> normal(0.0, 1.0);
  return generate(shape, dtype, "randn", [&] { return normal(generator()); });
}

Tensor rand(const Shape& shape, Dtype dtype) { return uniform(shape, 0.0, 1.0, dtype); }

Tensor uniform(const Shape& shape, double low, double high, Dtype dtype) {
  check(low <= high, "uniform: low ", low, " must not exceed high ", high);
  std::uniform_real_distribution<double> draw(low, high);
  return generate(shape, dtype, "uniform", [&] { return draw(generator()); });
}

void manual_seed(std::uint64_t seed) { generator().seed(seed); }

std::uint64_t random_index(std::uint64_t bound) {
  check(bound > 0, "random_index: bound must be positive");
  return std::uniform_int_distribution<std::uint64_t>(0, bound - 1)(generator());
}

}  // namespace xgrad
