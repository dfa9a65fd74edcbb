#pragma once
// Ways to make a tensor: from values, from a shape, from the global random generator.
#include <cstdint>
#include <algorithm>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <vector>

#include <xgrad/core/scalar.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/core/tensor_options.hpp>
#include <xgrad/core/utility.hpp>

namespace xgrad {

// Copies numel_of(shape) row-major elements; the dtype follows the pointer type.
Tensor from_buffer(const float* data, const Shape& shape);
Tensor from_buffer(const double* data, const Shape& shape);
Tensor from_buffer(const std::int64_t* data, const Shape& shape);
Tensor from_buffer(const bool* data, const Shape& shape);
Tensor from_buffer(const std::uint8_t* data, const Shape& shape);
// libtorch's from_blob, with one documented difference: xgrad copies the elements (the memory may be
// freed afterwards), where libtorch aliases them. options.dtype() says how to read the memory
// (default float32).
Tensor from_blob(const void* data, IntArrayRef sizes, const TensorOptions& options = {});

// Every factory takes libtorch's TensorOptions last; a Dtype converts to it. The default dtype is
// float32, except where PyTorch infers another from a Scalar (full, arange) or makes indices
// (randint, randperm: int64).
Tensor empty(IntArrayRef sizes, const TensorOptions& options = {});
Tensor zeros(IntArrayRef sizes, const TensorOptions& options = {});
Tensor ones(IntArrayRef sizes, const TensorOptions& options = {});
// Without a dtype in options the value decides, as in Python: an integer gives int64, a bool gives
// bool, a floating value float32.
Tensor full(IntArrayRef sizes, const Scalar& value, const TensorOptions& options = {});
// start, start + step, ... up to but excluding end. Without a dtype: int64 when every argument is
// an integer, else float32 (PyTorch's rule).
Tensor arange(const Scalar& end, const TensorOptions& options = {});
Tensor arange(const Scalar& start, const Scalar& end, const TensorOptions& options = {});
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, const TensorOptions& options = {});
// steps values evenly spaced from start to end inclusive.
Tensor linspace(const Scalar& start, const Scalar& end, std::int64_t steps, const TensorOptions& options = {});
// The n x m identity (m = n when omitted).
Tensor eye(std::int64_t n, const TensorOptions& options = {});
Tensor eye(std::int64_t n, std::int64_t m, const TensorOptions& options = {});
// Standard normal and uniform [0, 1) samples from the global generator (manual_seed).
Tensor randn(IntArrayRef sizes, const TensorOptions& options = {});
Tensor rand(IntArrayRef sizes, const TensorOptions& options = {});
// Uniform integers in [low, high) (low = 0 when omitted), int64 unless options say otherwise.
Tensor randint(std::int64_t high, IntArrayRef sizes, const TensorOptions& options = {});
Tensor randint(std::int64_t low, std::int64_t high, IntArrayRef sizes, const TensorOptions& options = {});
// A random permutation of 0 .. n - 1, int64.
Tensor randperm(std::int64_t n, const TensorOptions& options = {});
// Uniform [low, high) samples, as torch::nn::init::uniform_ uses.
Tensor uniform(IntArrayRef sizes, double low, double high, const TensorOptions& options = {});
// The same sizes as `like` (and its dtype unless options give one).
Tensor empty_like(const Tensor& like, const TensorOptions& options = {});
Tensor zeros_like(const Tensor& like, const TensorOptions& options = {});
Tensor ones_like(const Tensor& like, const TensorOptions& options = {});
Tensor full_like(const Tensor& like, const Scalar& value, const TensorOptions& options = {});
Tensor rand_like(const Tensor& like, const TensorOptions& options = {});
Tensor randn_like(const Tensor& like, const TensorOptions& options = {});
// Reseeds the global generator that randn, rand, uniform and nn's initialisers draw from.
void manual_seed(std::uint64_t seed);
// Uniform integer in [0, bound) from the global generator (shuffles, toy data).
std::uint64_t random_index(std::uint64_t bound);
// A standard normal sample from the global generator.
double random_normal();
// Fills `words` with raw 64-bit draws of the global generator: the cheapest randomness there is,
// for callers that turn each word into several decisions (dropout masks).
void random_words(std::uint64_t* words, std::size_t count);
// The number of threads OpenBLAS (and xgrad's own split work) may use, as torch::set_num_threads.
void set_num_threads(int threads);
int get_num_threads();

// The options' dtype and requires_grad applied to a freshly made tensor (dtype converted if needed).
Tensor apply_options(Tensor tensor, const TensorOptions& options);

namespace detail {
// Throws Error when a nested initializer list has rows of different lengths.
void check_ragged(std::size_t expected, std::size_t got, std::size_t depth);
// libtorch's rule for the dtype of tensor(values): floating values, float or double alike, take the
// default dtype (float32 unless set_default_dtype changed it), integers int64, bools bool, unless the
// options name a dtype.
template <class T>
TensorOptions literal_options(const TensorOptions& options) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!options.has_dtype()) return options.dtype(get_default_dtype());
  }
  return options;
}
}  // namespace detail

// A 0-dim tensor holding one value: tensor(1.5) is float32 (the default dtype), tensor(3) int64,
// tensor(true) bool, unless options.dtype() says otherwise.
template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
Tensor tensor(T value, const TensorOptions& options = {}) {
  using Stored = std::conditional_t<std::is_same_v<T, bool> || std::is_floating_point_v<T>, T, std::int64_t>;
  const Stored stored = static_cast<Stored>(value);
  return apply_options(from_buffer(&stored, Shape{}), detail::literal_options<T>(options));
}

// tensor({1.0, 2.0}), tensor({{1.f, 2.f}, {3.f, 4.f}}), tensor(std::vector<double>{...}): floating
// values give the default dtype (float32), integers int64, as in libtorch.
template <class T>
Tensor tensor(std::initializer_list<T> values, const TensorOptions& options = {}) {
  const Shape shape{static_cast<std::int64_t>(values.size())};
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    std::vector<std::int64_t> widened(values.begin(), values.end());
    return apply_options(from_buffer(widened.data(), shape), options);
  } else {
    return apply_options(from_buffer(values.begin(), shape), detail::literal_options<T>(options));
  }
}
template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
Tensor tensor(const std::vector<T>& values, const TensorOptions& options = {}) {
  const Shape shape{static_cast<std::int64_t>(values.size())};
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    std::vector<std::int64_t> widened(values.begin(), values.end());
    return apply_options(from_buffer(widened.data(), shape), options);
  } else if constexpr (std::is_same_v<T, bool>) {
    const std::unique_ptr<bool[]> flags(new bool[values.size()]);
    std::copy(values.begin(), values.end(), flags.get());
    return apply_options(from_buffer(flags.get(), shape), options);
  } else {
    return apply_options(from_buffer(values.data(), shape), detail::literal_options<T>(options));
  }
}
template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
Tensor tensor(ArrayRef<T> values, const TensorOptions& options = {}) {
  return tensor(values.vec(), options);
}
template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> rows, const TensorOptions& options = {}) {
  using Stored = std::conditional_t<std::is_integral_v<T>, std::int64_t, T>;
  std::vector<Stored> flat;
  const std::size_t width = rows.size() ? rows.begin()->size() : 0;
  for (const auto& row : rows) {
    detail::check_ragged(width, row.size(), 1);
    flat.insert(flat.end(), row.begin(), row.end());
  }
  return apply_options(from_buffer(flat.data(), {static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(width)}),
                       detail::literal_options<T>(options));
}
template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<std::initializer_list<T>>> blocks,
              const TensorOptions& options = {}) {
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
  return apply_options(from_buffer(flat.data(), {static_cast<std::int64_t>(blocks.size()), static_cast<std::int64_t>(rows),
                                                  static_cast<std::int64_t>(width)}),
                       detail::literal_options<T>(options));
}

}  // namespace xgrad
