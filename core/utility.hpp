#pragma once
// The small c10 utilities that libtorch programs use everywhere, under xgrad's namespace so that
// a program ported by renaming c10:: to xgrad:: compiles:
//   for (const auto i : xgrad::irange(n)) ...      integers 0 .. n-1, typed as n
//   throw xgrad::Error(xgrad::str("got ", n));     every argument streamed into one string
//   xgrad::optional<std::int64_t> dim = xgrad::nullopt;
//   xgrad::ArrayRef<double> values(vector);        a non-owning view of contiguous elements
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <xgrad/core/error.hpp>

namespace xgrad {

using std::make_optional;
using std::nullopt;
using std::optional;

// c10::str: every argument streamed into one string.
template <class... Args>
std::string str(const Args&... args) {
  if constexpr (sizeof...(Args) == 0) return std::string();
  else return concat(args...);
}

// The integers [begin, end) for a range-for, typed as end; an end before begin gives nothing.
template <class Integer>
class integer_range {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Integer;
    using difference_type = std::ptrdiff_t;
    using pointer = const Integer*;
    using reference = Integer;
    explicit iterator(Integer value) : value_(value) {}
    Integer operator*() const { return value_; }
    iterator& operator++() {
      ++value_;
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++value_;
      return before;
    }
    bool operator==(const iterator& other) const { return value_ == other.value_; }
    bool operator!=(const iterator& other) const { return value_ != other.value_; }

   private:
    Integer value_;
  };

  integer_range(Integer begin, Integer end) : begin_(begin), end_(std::max(begin, end)) {}
  iterator begin() const { return iterator(begin_); }
  iterator end() const { return iterator(end_); }

 private:
  Integer begin_, end_;
};

template <class Integer, std::enable_if_t<std::is_integral_v<Integer>, int> = 0>
integer_range<Integer> irange(Integer end) {
  return {Integer(0), end};
}
template <class Begin, class End,
          std::enable_if_t<std::is_integral_v<Begin> && std::is_integral_v<End>, int> = 0>
integer_range<End> irange(Begin begin, End end) {
  return {static_cast<End>(begin), end};
}

// c10::ArrayRef<T>: a pointer and a length, viewing elements someone else owns (a vector, an
// array, a braced list that lives until the end of the full expression).
template <class T>
class ArrayRef {
 public:
  using value_type = T;
  using iterator = const T*;
  using const_iterator = const T*;

  constexpr ArrayRef() = default;
  constexpr ArrayRef(const T& one) : data_(&one), size_(1) {}
  constexpr ArrayRef(const T* data, std::size_t size) : data_(data), size_(size) {}
  constexpr ArrayRef(const T* begin, const T* end) : data_(begin), size_(static_cast<std::size_t>(end - begin)) {}
  template <class Allocator>
  ArrayRef(const std::vector<T, Allocator>& values) : data_(values.data()), size_(values.size()) {}
  template <std::size_t N>
  constexpr ArrayRef(const std::array<T, N>& values) : data_(values.data()), size_(N) {}
  template <std::size_t N>
  constexpr ArrayRef(const T (&values)[N]) : data_(values), size_(N) {}
  constexpr ArrayRef(const std::initializer_list<T>& values)
      : data_(values.size() ? values.begin() : nullptr), size_(values.size()) {}

  constexpr const T* data() const { return data_; }
  constexpr std::size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr const T* begin() const { return data_; }
  constexpr const T* end() const { return data_ + size_; }
  constexpr const T& operator[](std::size_t i) const { return data_[i]; }
  // Checked access: an Error naming the index and the length.
  const T& at(std::size_t i) const {
    check(i < size_, "ArrayRef: index ", i, " out of range for length ", size_);
    return data_[i];
  }
  const T& front() const { return at(0); }
  const T& back() const { return at(size_ - 1); }
  ArrayRef slice(std::size_t start, std::size_t length) const {
    check(start + length <= size_, "ArrayRef::slice: [", start, ", ", start + length, ") out of range for length ",
          size_);
    return ArrayRef(data_ + start, length);
  }
  ArrayRef slice(std::size_t start) const { return slice(start, size_ - std::min(start, size_)); }
  std::vector<T> vec() const { return std::vector<T>(begin(), end()); }
  bool equals(ArrayRef other) const { return size_ == other.size_ && std::equal(begin(), end(), other.begin()); }

 private:
  const T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace xgrad
