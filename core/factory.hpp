#pragma once
// Ways to make a tensor: from values, from a shape, from the global random generator.
#include <cstdint>
#include <initializer_list>
#include <type_traits>
#include <vector>

#include "tensor.hpp"

namespace xgrad {

// Copies numel_of(shape) row-major elements; the dtype follows the pointer type.
Tensor from_buffer(const float* data, const Shape& shape);
Tensor from_buffer(const double* data, const Shape& shape);
Tensor from_buffer(const std::int64_t* data, const Shape& shape);

Tensor zeros(const Shape& shape, Dtype dtype = kFloat32);
Tensor ones(const Shape& shape, Dtype dtype = kFloat32);
Tensor full(const Shape& shape, double value, Dtype dtype = kFloat32);
// 0, 1, ..., end - 1.
Tensor arange(std::int64_t end, Dtype dtype = kFloat32);
// Standard normal and uniform [0, 1) samples from the global generator (manual_seed).
Tensor randn(const Shape& shape, Dtype dtype = kFloat32);
Tensor rand(const Shape& shape, Dtype dtype = kFloat32);
// Uniform [low, high) samples, as torch::nn::init::uniform_ uses.
Tensor uniform(const Shape& shape, double low, double high, Dtype dtype = kFloat32);
// Reseeds the global generator that randn, rand, uniform and nn's initialisers draw from.
void manual_seed(std::uint64_t seed);
// Uniform integer in [0, bound) from the global generator (shuffles, toy data).
std::uint64_t random_index(std::uint64_t bound);

namespace detail {
// Throws Error when a nested initializer list has rows of different lengths.
void check_ragged(std::size_t expected, std::size_t got, std::size_t depth);
}  // namespace detail

// tensor({1.f, 2.f}), tensor({{1.0, 2.0}, {3.0, 4.0}}): float gives float32, double float64,
// integers int64, as in libtorch.
template <class T>
Tensor tensor(std::initializer_list<T> values) {
  if constexpr (std::is_integral_v<T>) {
    std::vector<std::int64_t> widened(values.begin(), values.end());
    return from_buffer(widened.data(), {values.size()});
  } else {
    return from_buffer(values.begin(), {values.size()});
  }
}
template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> rows) {
  using Stored = std::conditional_t<std::is_integral_v<T>, std::int64_t, T>;
  std::vector<Stored> flat;
  const std::size_t width = rows.size() ? rows.begin()->size() : 0;
  for (const auto& row : rows) {
    detail::check_ragged(width, row.size(), 1);
    flat.insert(flat.end(), row.begin(), row.end());
  }
  return from_buffer(flat.data(), {rows.size(), width});
}
template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<std::initializer_list<T>>> blocks) {
  using Stored = std::conditional_t<std::is_integral_v<T>, std::int64_t, T>;
  std::vector<Stored> flat;
  const std::size_t rows = blocks.size() ? blocks.begin()->size() : 0;
  const std::size_t width = rows ? blocks.begin()->begin()->size() : 0;
  for (const auto& block : blocks) {
    detail::check_ragged(rows, block.size(), 1);
    for (const auto& row : block) {
      detail::check_ragged(width, row.size(), 2);
      flat.insert(flat.end(), row.begin(), row.end());
    }
  }
  return from_buffer(flat.data(), {blocks.size(), rows, width});
}

}  // namespace xgrad
