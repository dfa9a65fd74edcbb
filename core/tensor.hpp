#pragma once
// Tensor: a cheap-to-copy handle on a TensorImpl. Copies share data, gradient and graph node, as
// torch::Tensor does. The data lives in xtensor arrays inside the library; this header keeps xtensor
// out of the public ABI (see core/xarray_interop.hpp for from_xarray / to_xarray).
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "dtype.hpp"

namespace xgrad {

struct TensorImpl;
class Node;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl);

  bool defined() const { return impl_ != nullptr; }
  Shape shape() const;
  std::size_t dim() const;
  std::size_t numel() const;
  // Size along one dimension; negative dims count from the end.
  std::size_t size(std::int64_t dim) const;
  Dtype dtype() const;

  // True for leaves the user marked and for every result of an op recorded from them.
  bool requires_grad() const;
  // Marks a leaf. Only floating-point leaves can require grad.
  Tensor& requires_grad_(bool requires_grad = true);
  bool is_leaf() const;
  // The gradient accumulated by backward; undefined until a backward reaches this tensor.
  Tensor grad() const;
  // The op that produced this tensor, or null for a leaf.
  const std::shared_ptr<Node>& grad_fn() const;

  // Reverse pass from this tensor. Without grad_output the tensor must hold one element (the seed is
  // 1). The graph's saved data is freed afterwards unless retain_graph is true.
  void backward(const Tensor& grad_output = {}, bool retain_graph = false) const;
  // Drops the accumulated gradient (grad() becomes undefined, as set_to_none in PyTorch).
  void zero_grad();
  // A tensor sharing this one's data but cut from the graph.
  Tensor detach() const;
  // A new tensor with its own copy of the data, cut from the graph.
  Tensor clone() const;

  // The single element, converted to T. Throws when numel() != 1.
  template <class T>
  T item() const {
    static_assert(std::is_arithmetic_v<T>, "item<T>() needs an arithmetic T");
    if constexpr (std::is_integral_v<T>) return static_cast<T>(item_int64());
    else return static_cast<T>(item_double());
  }
  // A copy of the elements in row-major order; T must match dtype().
  template <class T>
  std::vector<T> to_vector() const {
    const T* begin = data<T>();
    return std::vector<T>(begin, begin + numel());
  }
  // Row-major contiguous elements; T must match dtype() (checked).
  template <class T>
  const T* data() const {
    return static_cast<const T*>(data_ptr(dtype_of<T>()));
  }
  // Writable elements, for optimisers and initialisers (never recorded by autograd).
  template <class T>
  T* mutable_data() {
    return static_cast<T*>(const_cast<void*>(data_ptr(dtype_of<T>())));
  }

  // An optional label (nn sets "0.weight", ...) shown by to_dot and to_string.
  const std::string& name() const;
  Tensor& set_name(std::string name);

  std::string to_string() const;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  double item_double() const;
  std::int64_t item_int64() const;
  const void* data_ptr(Dtype expected) const;

  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& out, const Tensor& tensor);

}  // namespace xgrad
