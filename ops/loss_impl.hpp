#pragma once
// Library-internal helpers shared by ops/loss_classification.cpp and ops/loss_pointwise.cpp: argument
// checks with PyTorch-style messages, the reduction of per-element losses, and the upstream
// gradient each element receives back from that reduction.
#include <cstddef>
#include <cstdint>
#include <string>

#include <xgrad/core/reduction.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad::loss_detail {

// kNone, kSum and kMean are accepted by every loss; kBatchMean only where `allow_batchmean`.
inline void check_reduction(const char* op, Reduction reduction, bool allow_batchmean = false) {
  check(reduction != kBatchMean || allow_batchmean, op, ": reduction ", reduction_name(reduction),
        " is only defined for kl_div; use none, sum or mean");
}

// Both tensors must have one floating dtype; mixing float32 and float64 names both. (The message is
// only built on failure: this runs on every call.)
inline void check_same_dtype(const char* op, const char* name_a, const Tensor& a, const char* name_b,
                             const Tensor& b) {
  if (!is_floating(b.dtype()))
    throw Error(concat(op, ": ", name_b, " must be floating point, got ", dtype_name(b.dtype()), " of shape ",
                       shape_str(b.shape())));
  if (a.dtype() != b.dtype())
    throw Error(concat(op, ": ", name_a, " has dtype ", dtype_name(a.dtype()), " but ", name_b, " has dtype ",
                       dtype_name(b.dtype()), "; convert one so both match"));
}

// An element's position in a tensor of `shape` for an error message: "1" for a vector, "[0, 2]" for
// more dimensions.
inline std::string index_str(std::size_t flat, const Shape& shape) {
  if (shape.size() <= 1) return std::to_string(flat);
  Shape index(shape.size());
  for (std::size_t axis = shape.size(); axis-- > 0;) {
    index[axis] = flat % shape[axis];
    flat /= shape[axis];
  }
  return shape_str(index);
}

// The loss tensor for a reduction: the per-element losses themselves for kNone, otherwise their sum
// divided by `divisor` (1 for kSum; the element count, summed weights or batch size for a mean) as a
// 0-dim tensor. The sum is accumulated in double.
template <class T>
Tensor reduce_losses(Array<T>&& losses, Reduction reduction, double divisor) {
  if (reduction == kNone) return make_tensor(std::move(losses));
  double total = 0.0;
  const T* values = losses.data();
  for (std::size_t i = 0; i < losses.size(); ++i) total += values[i];
  Array<T> result = Array<T>::from_shape({});
  result() = static_cast<T>(total / divisor);
  return make_tensor(std::move(result));
}

// What each element's loss receives from the reduction in backward: the element's own upstream
// value for kNone, the scalar upstream divided by the reduction's divisor otherwise.
template <class T>
class UpstreamScale {
 public:
  UpstreamScale(const Tensor& grad, Reduction reduction, double divisor)
      : values_(array<T>(grad).data()),
        per_element_(reduction == kNone),
        shared_(per_element_ ? T(0) : static_cast<T>(values_[0] / divisor)) {}
  T operator[](std::size_t element) const { return per_element_ ? values_[element] : shared_; }

 private:
  const T* values_;
  bool per_element_;
  T shared_;
};

}  // namespace xgrad::loss_detail
