#pragma once
// Library-internal: what a Tensor handle points to, and typed access to its xtensor array.
// Only the library's .cpp files include this header; it is not installed.
#include <xtensor/xarray.hpp>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <xgrad/kernels/buffer_cache.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/node.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// Row-major, with buffers from the per-thread cache of kernels/buffer_cache.hpp: a training step
// reuses the previous step's buffers instead of going back to malloc and the kernel.
template <class T>
using Array = xt::xarray<T, xt::layout_type::row_major, BufferAllocator<T>>;
// The alternatives follow Dtype's order, so Tensor::dtype() is the variant's index.
using StorageVariant =
    std::variant<Array<float>, Array<double>, Array<std::int64_t>, Array<bool>, Array<std::uint8_t>>;
// One row-major contiguous array with its version counter; detach() and saved tensors share it
// through a shared_ptr, so an in-place write through any handle is seen (and counted) by all.
struct Storage : StorageVariant {
  using StorageVariant::StorageVariant;
  explicit Storage(const StorageVariant& values) : StorageVariant(values) {}
  // A copy starts its own history: version 0.
  Storage(const Storage& other) : StorageVariant(static_cast<const StorageVariant&>(other)) {}
  Storage& operator=(const Storage&) = delete;
  // Bumped by every in-place op (PyTorch's version counter).
  std::uint64_t version = 0;
};
template <Dtype D>
using StorageAlternative = std::variant_alternative_t<static_cast<std::size_t>(D), StorageVariant>;
static_assert(std::is_same_v<StorageAlternative<kFloat32>, Array<float>> &&
                  std::is_same_v<StorageAlternative<kFloat64>, Array<double>> &&
                  std::is_same_v<StorageAlternative<kInt64>, Array<std::int64_t>> &&
                  std::is_same_v<StorageAlternative<kBool>, Array<bool>> &&
                  std::is_same_v<StorageAlternative<kUInt8>, Array<std::uint8_t>>,
              "Storage's alternatives must follow Dtype's order");

struct TensorImpl {
  TensorImpl() = default;
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;
  // Hands grad_fn to defer_destruction, so dropping the last tensor of a long chain cannot recurse.
  ~TensorImpl();

  std::shared_ptr<Storage> storage;
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  // A leaf reuses one AccumulateGrad for all the ops that read it; weak so the leaf does not keep
  // the graph alive.
  std::weak_ptr<Node> grad_accumulator;
  std::string name;
  // A leaf's Tensor::register_hook functions, in registration order (a non-leaf's live in its
  // grad_fn). A removed hook stays as an empty hole so that hook handles remain valid.
  std::vector<std::function<Tensor(const Tensor&)>> hooks;
  bool retains_grad = false;
};

template <class T>
const Array<T>& array(const Tensor& tensor) {
  return std::get<Array<T>>(*tensor.impl()->storage);
}
template <class T>
Array<T>& mutable_array(const Tensor& tensor) {
  return std::get<Array<T>>(*tensor.impl()->storage);
}

// Wraps a freshly computed array in a new leaf tensor (no copy).
template <class T>
Tensor make_tensor(Array<T>&& values) {
  auto impl = make_cached_shared<TensorImpl>();
  impl->storage = make_cached_shared<Storage>(std::in_place_type<Array<T>>, std::move(values));
  return Tensor(std::move(impl));
}

// a + b for two gradients of one shape and dtype, in a new tensor (neither input is modified, so
// gradients routed to several places may share storage safely).
Tensor sum_of_gradients(const Tensor& a, const Tensor& b);

// total += addend in place, for a leaf's grad outside create_graph (PyTorch's AccumulateGrad does the
// same, so a handle taken on x.grad() sees later backward passes). Returns false, changing nothing,
// when the two differ in dtype or shape, share their storage, or total is part of a graph.
bool add_gradient_in_place(const Tensor& total, const Tensor& addend);

// True when the tensor's array has exactly this shape (no allocation).
bool has_shape(const Tensor& tensor, const Shape& shape);
bool has_shape(const Tensor& tensor, const InlineShape& shape);

// True when both arrays have one dtype and one shape, read straight from them (no Shape built):
// checks that run for every parameter or gradient of a step.
bool same_dtype_and_shape(const Tensor& a, const Tensor& b);

// The tensor's shape, copied into a node's inline shape without building a Shape.
void copy_shape(const Tensor& tensor, InlineShape& out);

// Calls f(T{}) with T = float or double for a floating dtype; int64 is an error naming the op.
template <class F>
decltype(auto) visit_floating(Dtype dtype, const char* op, F&& f) {
  switch (dtype) {
    case Dtype::Float32: return f(float{});
    case Dtype::Float64: return f(double{});
    default: break;
  }
  throw Error(concat(op, ": expected a floating point tensor (float32 or float64), got ", dtype_name(dtype)));
}

// Calls f(T{}) with T = float, double or std::int64_t: the dtypes arithmetic works on. bool and
// uint8 are storage-only and get an Error naming the op.
template <class F>
decltype(auto) visit_dtype(Dtype dtype, const char* op, F&& f) {
  switch (dtype) {
    case Dtype::Float32: return f(float{});
    case Dtype::Float64: return f(double{});
    case Dtype::Int64: return f(std::int64_t{});
    default: break;
  }
  throw Error(concat(op, ": arithmetic is not defined for dtype ", dtype_name(dtype),
                     "; convert with to(xgrad::kFloat) or to(xgrad::kLong) first"));
}

// Calls f(T{}) with the element type of any dtype, storage-only ones included (copies, indexing,
// printing, conversion).
template <class F>
decltype(auto) visit_any_dtype(Dtype dtype, F&& f) {
  switch (dtype) {
    case Dtype::Float32: return f(float{});
    case Dtype::Float64: return f(double{});
    case Dtype::Int64: return f(std::int64_t{});
    case Dtype::Bool: return f(bool{});
    case Dtype::UInt8: break;
  }
  return f(std::uint8_t{});
}

// Converts xtensor's size_t shape to a Shape and back.
template <class S>
Shape to_shape(const S& dims) {
  return Shape(dims.begin(), dims.end());
}
inline std::vector<std::size_t> to_xshape(const Shape& shape) {
  return std::vector<std::size_t>(shape.begin(), shape.end());
}

}  // namespace xgrad
