#pragma once
// ArrayRef<T>: a non-owning view of contiguous elements, what libtorch's get_batch takes as its
// batch request (c10::ArrayRef<size_t>). A std::vector<T>, a braced list or a pointer and a length
// convert to it; it must not outlive what it views, so keep it as a parameter, never a member.
#include <cstddef>
#include <initializer_list>
#include <vector>

namespace xgrad::data {

template <class T>
class ArrayRef {
 public:
  ArrayRef() = default;
  ArrayRef(const T* data, std::size_t length) : data_(data), size_(length) {}
  ArrayRef(const std::vector<T>& values) : data_(values.data()), size_(values.size()) {}
  // For a call such as get_batch({3, 1, 4}): the list lives until the call returns, as the view does.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  ArrayRef(std::initializer_list<T> values) : data_(values.begin()), size_(values.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  std::vector<T> vec() const { return std::vector<T>(begin(), end()); }

 private:
  const T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace xgrad::data
