#pragma once
// Library-internal: what a Tensor handle points to, and typed access to its xtensor array.
// Only the library's .cpp files include this header; it is not installed.
#include <xtensor/xarray.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <xgrad/kernels/buffer_cache.hpp>
#include <xgrad/kernels/strided.hpp>
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
// The elements every view of one tensor shares, with their version counter; detach(), views and
// saved tensors share it through a shared_ptr, so an in-place write through any handle is seen (and
// counted) by all. Usually the elements are the array itself, laid out as the tensor that created
// it (the root of its views); from_blob's storage is the caller's memory instead, and the array
// stays empty, naming only the dtype.
struct Storage : StorageVariant {
  using StorageVariant::StorageVariant;
  explicit Storage(const StorageVariant& values) : StorageVariant(values) {}
  // A copy starts its own history: version 0.
  Storage(const Storage& other) : StorageVariant(static_cast<const StorageVariant&>(other)) {}
  Storage& operator=(const Storage&) = delete;
  ~Storage();

  // Bumped by every in-place op (PyTorch's version counter).
  std::uint64_t version = 0;
  // Bumped by every write the library can see (in-place ops, writable data pointers handed out), so
  // a view's dense copy (TensorImpl::Strided) knows when to gather again. Kept apart from version,
  // which autograd compares and which a read through data_ptr must not change.
  std::atomic<std::uint64_t> generation{0};
  // Set once a writable pointer to the elements has been handed out (data_ptr, mutable_data): the
  // holder may write at any time, unseen, so views of this storage gather on every read from then on.
  std::atomic<bool> escaped{false};
  // from_blob: the caller's elements, how many, and what releases them (may be empty).
  void* external = nullptr;
  std::int64_t external_numel = 0;
  std::function<void(void*)> deleter;

  void bump_version() {
    ++version;
    generation.fetch_add(1, std::memory_order_relaxed);
  }
  // The first element and the element count, whichever memory holds them.
  template <class T>
  T* elements() {
    return external ? static_cast<T*>(external) : std::get<Array<T>>(*this).data();
  }
  std::int64_t numel() const;
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

  // Where a tensor that is not its storage's array sits in the storage: views (x[0], x.t(),
  // x.narrow(...)), detach() of a view, from_blob. A tensor without it is the array itself: dense,
  // row-major, at offset 0, with the array's shape (every op result).
  struct Strided {
    strided::Layout layout;
    // The tensor this one is a view of, always a root (a view of a view names the first one's
    // base), as PyTorch's _base; null for detach() and from_blob, which are not views.
    std::shared_ptr<TensorImpl> base;
    // True when the layout is exactly the array's (a detach() of a whole tensor): reads need no copy.
    bool whole = false;
    // The name of the op when it returned several views (unbind, split, chunk): PyTorch refuses
    // in-place ops on those.
    const char* multi_output_op = nullptr;
    // The storage version when grad_fn was last set: a later in-place op on the base or another
    // view changes what this view means to autograd, and its grad_fn is made again from the base's.
    std::uint64_t grad_fn_version = 0;
    // Ops read tensors as dense arrays: a view is gathered into this copy, kept while the storage's
    // generation says nothing wrote to it since.
    std::mutex dense_mutex;
    std::optional<StorageVariant> dense;
    std::uint64_t dense_generation = 0;
  };

  std::shared_ptr<Storage> storage;
  cached_unique_ptr<Strided> strided;
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

// The tensor's elements as a dense row-major array: the storage's own array, or, for a view, a
// gathered copy (see TensorImpl::Strided). What every op reads.
const StorageVariant& dense_values(const Tensor& tensor);

// The tensor's place in its storage: its sizes, strides and offset.
strided::Layout layout_of(const TensorImpl& impl);

// True when the tensor's elements are its storage's whole array, so ops may read and write the
// array itself.
inline bool is_whole(const TensorImpl& impl) { return !impl.strided || impl.strided->whole; }

// True when nothing but this handle holds the tensor or its storage, and it is a whole array: a
// gradient the engine hands over in that state may be written in place (an AccumulateGrad keeps it
// as grad(), ReLU's backward writes its result into it).
inline bool is_exclusive(const Tensor& tensor) {
  return tensor.impl_ptr().use_count() == 1 && tensor.impl()->storage.use_count() == 1 && is_whole(*tensor.impl());
}

// Throws an Error naming `op` unless the tensor is a whole array.
void check_whole(const TensorImpl& impl, const char* op);

template <class T>
const Array<T>& array(const Tensor& tensor) {
  const TensorImpl& impl = *tensor.impl();
  if (is_whole(impl)) return std::get<Array<T>>(*impl.storage);
  return std::get<Array<T>>(dense_values(tensor));
}
// For writing a tensor's elements in place; the tensor must be a whole array (op results, leaves,
// gradients). Views are written through by scatter (ops/inplace.cpp), never through this.
template <class T>
Array<T>& mutable_array(const Tensor& tensor) {
  TensorImpl& impl = *tensor.impl();
  check_whole(impl, "mutable_array");
  impl.storage->generation.fetch_add(1, std::memory_order_relaxed);
  return std::get<Array<T>>(*impl.storage);
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
// The same, returned: what ops read instead of tensor.shape() where they run every training step,
// since a Shape is a heap-allocated vector.
inline InlineShape shape_of(const Tensor& tensor) {
  InlineShape shape;
  copy_shape(tensor, shape);
  return shape;
}
// has_shape(bias, {out_features}) without building a Shape for the braced list.
bool has_shape(const Tensor& tensor, std::initializer_list<std::int64_t> shape);

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
// A Shape as a view's sizes or strides, and those printed as a Shape is.
inline strided::Dims to_dims(const Shape& shape) { return strided::Dims(shape.begin(), shape.end()); }
inline std::string shape_str(const strided::Dims& dims) { return shape_str(to_shape(dims)); }

}  // namespace xgrad
