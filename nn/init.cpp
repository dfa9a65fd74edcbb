#include "nn/init.hpp"

#include <algorithm>
#include <cmath>

#include "core/factory.hpp"
#include "core/tensor_impl.hpp"

namespace xgrad::nn::init {

namespace {

// Copies the values of `source` (same shape and dtype) into `tensor`'s storage.
Tensor overwrite(Tensor tensor, const Tensor& source) {
  visit_floating(tensor.dtype(), "init", [&](auto tag) {
    using T = decltype(tag);
    std::copy(source.data<T>(), source.data<T>() + source.numel(), tensor.mutable_data<T>());
  });
  return tensor;
}

void check_floating(const Tensor& tensor, const char* op) {
  check(tensor.defined(), op, ": called on an undefined tensor");
  check(is_floating(tensor.dtype()), op, ": expected a float32 or float64 tensor, got ", dtype_name(tensor.dtype()));
}

struct Fans {
  double in;
  double out;
};

Fans fans_of(const Tensor& tensor, const char* op) {
  check(tensor.dim() >= 2, op, ": fan in and fan out need a tensor with at least 2 dimensions, got shape ",
        shape_str(tensor.shape()));
  const Shape shape = tensor.shape();
  const double receptive_field = static_cast<double>(tensor.numel() / (shape[0] * shape[1]));
  return {static_cast<double>(shape[1]) * receptive_field, static_cast<double>(shape[0]) * receptive_field};
}

}  // namespace

Tensor uniform_(Tensor tensor, double low, double high) {
  check_floating(tensor, "uniform_");
  check(low <= high, "uniform_: low ", low, " is greater than high ", high);
  return overwrite(tensor, uniform(tensor.shape(), low, high, tensor.dtype()));
}

Tensor normal_(Tensor tensor, double mean, double std) {
  check_floating(tensor, "normal_");
  check(std >= 0.0, "normal_: std must be non-negative, got ", std);
  Tensor samples = randn(tensor.shape(), tensor.dtype());
  visit_floating(tensor.dtype(), "normal_", [&](auto tag) {
    using T = decltype(tag);
    T* values = samples.mutable_data<T>();
    for (std::int64_t i = 0; i < samples.numel(); ++i) values[i] = static_cast<T>(mean + std * values[i]);
  });
  return overwrite(tensor, samples);
}

Tensor constant_(Tensor tensor, double value) {
  check_floating(tensor, "constant_");
  visit_floating(tensor.dtype(), "constant_", [&](auto tag) {
    using T = decltype(tag);
    std::fill_n(tensor.mutable_data<T>(), tensor.numel(), static_cast<T>(value));
  });
  return tensor;
}

Tensor zeros_(Tensor tensor) { return constant_(std::move(tensor), 0.0); }
Tensor ones_(Tensor tensor) { return constant_(std::move(tensor), 1.0); }

Tensor xavier_uniform_(Tensor tensor, double gain) {
  check_floating(tensor, "xavier_uniform_");
  const Fans fans = fans_of(tensor, "xavier_uniform_");
  const double bound = gain * std::sqrt(6.0 / (fans.in + fans.out));
  return uniform_(std::move(tensor), -bound, bound);
}

Tensor kaiming_uniform_(Tensor tensor, double a) {
  check_floating(tensor, "kaiming_uniform_");
  const Fans fans = fans_of(tensor, "kaiming_uniform_");
  const double bound = std::sqrt(6.0 / ((1.0 + a * a) * fans.in));
  return uniform_(std::move(tensor), -bound, bound);
}

}  // namespace xgrad::nn::init
