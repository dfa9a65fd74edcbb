#pragma once
// IntArrayRef: the sizes argument of every factory and shape op, as libtorch's. It accepts what
// libtorch programs write: a braced list of integers of any one type ({n, 2} with n an int,
// int64_t or size_t), a mixed list that widens to int64 ({n, m} with an int and an int64_t), a
// single integer (randn(3)) and a std::vector<int64_t>.
//
// Unlike libtorch's (a non-owning view), it owns a copy of the sizes, so a temporary list can never
// dangle; the copy is a handful of integers. Tensor::sizes() returns one too: indexable, with
// size(), slice(start), begin()/end() and vec(), printed as [2, 3].
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <type_traits>
#include <vector>

#include <xgrad/core/dtype.hpp>

namespace xgrad {

class IntArrayRef {
  template <class I>
  static constexpr bool is_size_v = std::is_integral_v<I> && !std::is_same_v<I, bool>;

 public:
  IntArrayRef() = default;
  // {2, 3}, {n, n}: a list of one integer type.
  template <class I, std::enable_if_t<is_size_v<I>, int> = 0>
  IntArrayRef(std::initializer_list<I> sizes) : sizes_(sizes.begin(), sizes.end()) {}
  // {6, classes} with an int and a size_t, and a single integer (randn(3)): a braced list whose
  // types differ is passed element by element, so no conversion narrows.
  template <class... I, std::enable_if_t<(sizeof...(I) > 0) && (is_size_v<I> && ...), int> = 0>
  IntArrayRef(I... sizes) : sizes_{static_cast<std::int64_t>(sizes)...} {}
  IntArrayRef(std::vector<std::int64_t> sizes) : sizes_(std::move(sizes)) {}
  IntArrayRef(const std::int64_t* data, std::size_t length) : sizes_(data, data + length) {}

  std::size_t size() const { return sizes_.size(); }
  bool empty() const { return sizes_.empty(); }
  const std::int64_t* data() const { return sizes_.data(); }
  std::int64_t operator[](std::size_t i) const { return sizes_[i]; }
  // Checked access; throws Error naming the index and the sizes.
  std::int64_t at(std::size_t i) const;
  std::int64_t front() const { return sizes_.front(); }
  std::int64_t back() const { return sizes_.back(); }
  std::vector<std::int64_t>::const_iterator begin() const { return sizes_.begin(); }
  std::vector<std::int64_t>::const_iterator end() const { return sizes_.end(); }
  // The sizes from position start on (checked).
  IntArrayRef slice(std::size_t start) const;
  IntArrayRef slice(std::size_t start, std::size_t length) const;
  const std::vector<std::int64_t>& vec() const { return sizes_; }
  operator const std::vector<std::int64_t>&() const { return sizes_; }

  friend bool operator==(const IntArrayRef& a, const IntArrayRef& b) { return a.sizes_ == b.sizes_; }
  friend bool operator!=(const IntArrayRef& a, const IntArrayRef& b) { return a.sizes_ != b.sizes_; }

 private:
  std::vector<std::int64_t> sizes_;
};

// Prints [2, 3], as libtorch prints sizes().
std::ostream& operator<<(std::ostream& out, const IntArrayRef& sizes);

}  // namespace xgrad
