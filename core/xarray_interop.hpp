#pragma once
// from_xarray / to_xarray: moving data between xtensor and xgrad. These are inline templates on
// purpose: they copy through raw pointers and a Shape, so no xtensor type crosses the library's ABI
// and a program may use xtensor with whatever flags it likes.
#include <xtensor/xarray.hpp>
#include <xtensor/xeval.hpp>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>

namespace xgrad {

// A tensor holding a copy of any xtensor expression of float, double or std::int64_t elements;
// the dtype follows the element type (float -> float32, double -> float64, int64 -> int64).
template <class E>
Tensor from_xarray(const xt::xexpression<E>& expression) {
  using T = typename E::value_type;
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::int64_t>,
                "from_xarray: element type must be float, double or std::int64_t");
  const xt::xarray<T, xt::layout_type::row_major> values = expression.derived_cast();
  return from_buffer(values.data(), Shape(values.shape().begin(), values.shape().end()));
}

// A row-major copy of the tensor's data; T must match its dtype.
template <class T>
xt::xarray<T> to_xarray(const Tensor& tensor) {
  check(tensor.defined(), "to_xarray: called on an undefined tensor");
  check(tensor.dtype() == dtype_of<T>(), "to_xarray: tensor has dtype ", dtype_name(tensor.dtype()),
        ", requested ", dtype_name(dtype_of<T>()));
  xt::xarray<T> values = xt::xarray<T>::from_shape(tensor.shape());
  std::copy(tensor.data<T>(), tensor.data<T>() + tensor.numel(), values.data());
  return values;
}

}  // namespace xgrad
