#pragma once
// Scalar: one number of any dtype, as libtorch's c10::Scalar. Tensor::item() returns one
// (item().to<double>()), and arithmetic accepts one on either side of a tensor.
#include <cstdint>
#include <type_traits>

#include <xgrad/core/dtype.hpp>

namespace xgrad {

class Scalar {
 public:
  Scalar() = default;
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Scalar(T value) {
    if constexpr (std::is_same_v<T, bool>) {
      kind_ = Kind::Bool;
      integer_ = value;
    } else if constexpr (std::is_integral_v<T>) {
      kind_ = Kind::Integer;
      integer_ = static_cast<std::int64_t>(value);
    } else {
      kind_ = Kind::Floating;
      floating_ = static_cast<double>(value);
    }
  }

  template <class T>
  T to() const {
    static_assert(std::is_arithmetic_v<T>, "Scalar::to<T>() needs an arithmetic T");
    return kind_ == Kind::Floating ? static_cast<T>(floating_) : static_cast<T>(integer_);
  }
  double toDouble() const { return to<double>(); }
  float toFloat() const { return to<float>(); }
  std::int64_t toLong() const { return to<std::int64_t>(); }
  int toInt() const { return to<int>(); }
  bool toBool() const { return to<bool>(); }
  bool isFloatingPoint() const { return kind_ == Kind::Floating; }
  bool isIntegral(bool include_bool = false) const {
    return kind_ == Kind::Integer || (include_bool && kind_ == Kind::Bool);
  }
  bool isBoolean() const { return kind_ == Kind::Bool; }
  // The value as a double, which is what arithmetic with a tensor uses.
  operator double() const { return to<double>(); }

 private:
  enum class Kind { Floating, Integer, Bool };
  Kind kind_ = Kind::Integer;
  double floating_ = 0.0;
  std::int64_t integer_ = 0;
};

}  // namespace xgrad
