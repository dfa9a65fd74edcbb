#pragma once
// ExpandingArray<D>: D sizes (one per spatial dim) that may be written as one number, as libtorch's:
//
//   Conv2dOptions(1, 16, 5)           kernel_size [5, 5]
//   Conv2dOptions(1, 16, {3, 5})      kernel_size [3, 5]
//   *options.kernel_size()            the std::array<int64_t, 2>; ->size(), (*k)[0] likewise
//
// It converts to IntArrayRef, so it can be passed straight to xgrad::conv2d and the pools, and
// prints as [3, 5].
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <vector>

#include <xgrad/core/error.hpp>
#include <xgrad/core/int_array_ref.hpp>

namespace xgrad {

template <std::size_t D, class T = std::int64_t>
class ExpandingArray {
 public:
  // One value for every dim.
  ExpandingArray(T single) { values_.fill(single); }
  // Exactly D values; another count is an Error.
  ExpandingArray(std::initializer_list<T> list) : ExpandingArray(std::vector<T>(list)) {}
  ExpandingArray(const std::vector<T>& list) {
    check(list.size() == D, "ExpandingArray: expected ", D, " values, got ", list.size());
    std::copy(list.begin(), list.end(), values_.begin());
  }
  ExpandingArray(const std::array<T, D>& values) : values_(values) {}

  std::array<T, D>& operator*() { return values_; }
  const std::array<T, D>& operator*() const { return values_; }
  std::array<T, D>* operator->() { return &values_; }
  const std::array<T, D>* operator->() const { return &values_; }

  operator IntArrayRef() const { return IntArrayRef(std::vector<std::int64_t>(values_.begin(), values_.end())); }
  // libtorch's accessor for the same view.
  IntArrayRef ref() const { return *this; }

  friend bool operator==(const ExpandingArray& a, const ExpandingArray& b) { return a.values_ == b.values_; }
  friend bool operator!=(const ExpandingArray& a, const ExpandingArray& b) { return a.values_ != b.values_; }

 private:
  std::array<T, D> values_{};
};

template <std::size_t D, class T>
std::ostream& operator<<(std::ostream& out, const ExpandingArray<D, T>& array) {
  out << '[';
  for (std::size_t i = 0; i < D; ++i) out << (i ? ", " : "") << (*array)[i];
  return out << ']';
}

}  // namespace xgrad
