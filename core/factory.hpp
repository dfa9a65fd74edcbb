#pragma once
// Ways to make a tensor: from values, from a shape, from the global random generator.
#include <algorithm>
#include <cstdint>
#include <functional>
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
// libtorch's from_blob: a tensor on the caller's memory, not a copy. Writes through the tensor land
// in that memory and writes to the memory are seen by the tensor; the memory must outlive the
// tensor (and every view of it), and `deleter`, when given, is called with `data` once the last of
// them is gone. strides are in elements (default: row-major). options.dtype() says how to read the
// memory (default float32). A null pointer is an Error.
Tensor from_blob(void* data, IntArrayRef sizes, const TensorOptions& options = {});
Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides, const TensorOptions& options = {});
Tensor from_blob(void* data, IntArrayRef sizes, const std::function<void(void*)>& deleter,
                 const TensorOptions& options = {});
Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides, const std::function<void(void*)>& deleter,
                 const TensorOptions& options = {});

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

// What tensor(...) takes, as libtorch's TensorDataContainer: a number, a braced list of numbers or
// of such lists nested to any depth ({{1.0, 2.0}, {3.0, 4.0}}), or a std::vector or ArrayRef of
// numbers. Every element must be of one kind: floating, integer, bool or uint8.
class TensorData {
 public:
  enum class Kind { Floating, Integer, Bool, Byte };

  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  TensorData(T value) : kind_(kind_of<T>()), form_(Form::Number) {
    if constexpr (std::is_floating_point_v<T>) float_value_ = static_cast<double>(value);
    else integer_value_ = static_cast<std::int64_t>(value);
  }
  TensorData(std::initializer_list<TensorData> elements) : form_(Form::List), elements_(elements) {}
  template <class T, class Allocator, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  TensorData(const std::vector<T, Allocator>& values) : kind_(kind_of<T>()), form_(Form::Values) {
    for (const T value : values) {
      if constexpr (std::is_floating_point_v<T>) floats_.push_back(static_cast<double>(value));
      else integers_.push_back(static_cast<std::int64_t>(value));
    }
    sizes_.push_back(static_cast<std::int64_t>(values.size()));
  }
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  TensorData(ArrayRef<T> values) : TensorData(values.vec()) {}

  // The tensor: options' dtype if it names one, else the default dtype for floating values,
  // int64 for integers, bool and uint8 for those. Ragged lists and mixed kinds are an Error.
  Tensor to_tensor(const TensorOptions& options) const;

 private:
  struct Flat;
  template <class T>
  static constexpr Kind kind_of() {
    if constexpr (std::is_same_v<T, bool>) return Kind::Bool;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return Kind::Byte;
    else if constexpr (std::is_floating_point_v<T>) return Kind::Floating;
    else return Kind::Integer;
  }
  void flatten_into(Flat& flat, std::size_t depth) const;

  enum class Form { Number, List, Values };
  Kind kind_ = Kind::Floating;
  Form form_;
  double float_value_ = 0;
  std::int64_t integer_value_ = 0;
  std::vector<TensorData> elements_;  // a braced list's elements (copied: a list's storage is temporary)
  Shape sizes_;                       // a vector's or ArrayRef's length, and its values:
  std::vector<double> floats_;
  std::vector<std::int64_t> integers_;
};

}  // namespace detail

// The values as a tensor, as libtorch's torch::tensor: tensor(1.5) is a 0-dim float32 (the default
// dtype), tensor({1.0, 2.0}) and tensor({{1.f, 2.f}, {3.f, 4.f}}) float32, tensor({1, 2}) int64,
// tensor({true, false}) bool, tensor(std::vector<double>{...}) float32, unless the options name a
// dtype (tensor({0.5, 1.5}, kDouble)).
Tensor tensor(const detail::TensorData& data, const TensorOptions& options = {});

}  // namespace xgrad
