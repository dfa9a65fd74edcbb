#pragma once
// Tensor: a cheap-to-copy handle on a TensorImpl. Copies share data, gradient and graph node, as
// torch::Tensor does. The data lives in xtensor arrays inside the library; this header keeps xtensor
// out of the public ABI (see core/xarray_interop.hpp for from_xarray / to_xarray).
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <xgrad/core/dtype.hpp>
#include <xgrad/core/int_array_ref.hpp>
#include <xgrad/core/scalar.hpp>
#include <xgrad/core/tensor_options.hpp>

namespace xgrad {

namespace indexing {
class TensorIndex;
}
template <class T>
class ArrayRef;

struct TensorImpl;
class Node;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl);

  // ---- inspection ----------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  Shape shape() const;
  // The sizes as libtorch's IntArrayRef: indexable, printable as [2, 3].
  IntArrayRef sizes() const;
  std::int64_t dim() const;
  std::int64_t ndimension() const { return dim(); }
  std::int64_t numel() const;
  // Size along one dimension; negative dims count from the end.
  std::int64_t size(std::int64_t dim) const;
  // The element type; it prints as libtorch's does ("float"), and compares and converts as a Dtype.
  TypeMeta dtype() const;
  ScalarType scalar_type() const { return dtype(); }
  TensorOptions options() const;
  Device device() const { return Device(kCPU); }
  bool is_cuda() const { return false; }
  // ---- storage: views share it (see docs/guide.md, "Views") ----------------------------------
  // Element (i0, i1, ...) sits at storage_offset() + i0 * stride(0) + i1 * stride(1) + ... of the
  // storage, counted in elements, as libtorch's.
  std::vector<std::int64_t> strides() const;
  std::int64_t stride(std::int64_t dim) const;
  std::int64_t storage_offset() const;
  // Row-major without gaps (dimensions of size 1 may have any stride).
  bool is_contiguous() const;
  // *this when contiguous, else a contiguous copy (recorded as CloneBackward0).
  Tensor contiguous() const;
  // True for the result of a view op (x[0], x.t(), x.narrow(...)); _base() is the tensor whose
  // storage it shares (the first one, for a view of a view), as PyTorch's.
  bool is_view() const;
  Tensor _base() const;
  // The same handle (one TensorImpl), as libtorch's is_same; is_alias_of: the same storage.
  bool is_same(const Tensor& other) const;
  bool is_alias_of(const Tensor& other) const;
  // Bumped by every in-place op on this tensor's storage; backward compares it with the version a
  // node saved (PyTorch's "modified by an inplace operation" check).
  std::int64_t _version() const;

  // ---- autograd ------------------------------------------------------------------------------
  // True for leaves the user marked and for every result of an op recorded from them.
  bool requires_grad() const;
  // Marks a leaf. Only floating-point leaves can require grad.
  Tensor& requires_grad_(bool requires_grad = true) const;
  // libtorch's older spelling of requires_grad_.
  Tensor& set_requires_grad(bool requires_grad) const { return requires_grad_(requires_grad); }
  bool is_leaf() const;
  // The gradient accumulated by backward; undefined until a backward reaches this tensor. A later
  // backward adds into this same tensor (in place, as PyTorch), except under create_graph, which
  // leaves a new, differentiable sum.
  Tensor grad() const;
  // The op that produced this tensor, or null for a leaf.
  const std::shared_ptr<Node>& grad_fn() const;
  // Reverse pass from this tensor, in libtorch's argument order. Without gradient the tensor must
  // hold one element (the seed is 1). What the graph's nodes saved is freed afterwards unless
  // retain_graph, which defaults to create_graph; with create_graph the backward pass is itself
  // recorded, so the gradients it leaves in grad() can be differentiated again.
  void backward(const Tensor& gradient = {}, std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false) const;
  // A non-leaf keeps its gradient in grad() too (leaves always do).
  void retain_grad() const;
  bool retains_grad() const;
  // Registers hook(grad), called with this tensor's gradient each time a backward pass computes it,
  // in registration order; a hook returning a Tensor replaces the gradient (for later hooks and
  // for everything the gradient flows into). Returns a handle for remove_hook.
  template <class Hook>
  unsigned register_hook(Hook&& hook) const {
    if constexpr (std::is_void_v<std::invoke_result_t<Hook&, Tensor>>) {
      return add_hook([hook = std::forward<Hook>(hook)](const Tensor& grad) mutable {
        hook(grad);
        return Tensor();
      });
    } else {
      return add_hook([hook = std::forward<Hook>(hook)](const Tensor& grad) mutable { return Tensor(hook(grad)); });
    }
  }
  void remove_hook(unsigned handle) const;
  // Drops the accumulated gradient (grad() becomes undefined, as set_to_none in PyTorch).
  void zero_grad() const;
  // A tensor sharing this one's data (and version counter) but cut from the graph.
  Tensor detach() const;
  // A copy of the data; differentiable (d/dx = g).
  Tensor clone() const;

  // ---- elements ------------------------------------------------------------------------------
  // The single element, converted to T. Throws when numel() != 1.
  template <class T>
  T item() const {
    static_assert(std::is_arithmetic_v<T>, "item<T>() needs an arithmetic T");
    if constexpr (std::is_integral_v<T>) return static_cast<T>(item_int64());
    else return static_cast<T>(item_double());
  }
  // The single element as a Scalar of the tensor's kind (floating, integral or bool).
  Scalar item() const;
  // A copy of the elements in row-major order; T must match dtype().
  template <class T>
  std::vector<T> to_vector() const {
    const T* begin = data<T>();
    return std::vector<T>(begin, begin + numel());
  }
  // Row-major contiguous elements; T must match dtype() (checked). For a non-contiguous view, a
  // dense copy the library gathers (data_ptr<T>() is the view's place in its storage instead).
  template <class T>
  const T* data() const {
    return static_cast<const T*>(data_ptr(dtype_of<T>()));
  }
  // Writable row-major elements, for optimisers and initialisers (never recorded by autograd);
  // the tensor must be contiguous (a view's elements are then written in its base).
  template <class T>
  T* mutable_data() {
    return static_cast<T*>(contiguous_storage_ptr(dtype_of<T>()));
  }
  // As libtorch's: the first element's place in the storage, so for a view a pointer into its
  // base, laid out by strides(). Writing through it is not recorded by autograd.
  template <class T>
  T* data_ptr() const {
    return static_cast<T*>(storage_ptr(dtype_of<T>()));
  }

  // ---- conversion ----------------------------------------------------------------------------
  // The elements in another dtype (a copy unless the dtype already matches); differentiable
  // between float32 and float64.
  Tensor to(Dtype dtype) const;
  Tensor to(TypeMeta dtype) const { return to(Dtype(dtype)); }
  Tensor to(const TensorOptions& options) const;
  // A no-op for the CPU; any other device is an Error.
  Tensor to(Device device) const;

  // ---- arithmetic (see ops/elementwise.hpp for formulas and gradients) -----------------------
  Tensor add(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor add(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor sub(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor sub(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor mul(const Tensor& other) const;
  Tensor mul(const Scalar& other) const;
  Tensor div(const Tensor& other) const;
  Tensor div(const Scalar& other) const;
  Tensor neg() const;
  Tensor pow(const Scalar& exponent) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor log1p() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor sign() const;
  Tensor sgn() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor atan() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  Tensor clamp_min(const Scalar& min) const;
  Tensor clamp_max(const Scalar& max) const;
  Tensor maximum(const Tensor& other) const;
  Tensor minimum(const Tensor& other) const;

  // ---- reductions (see ops/reduce.hpp) -------------------------------------------------------
  Tensor sum() const;
  Tensor sum(std::int64_t dim, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(std::int64_t dim, bool keepdim = false) const;
  // Variance and standard deviation, with Bessel's correction when unbiased. A dim given as an
  // integer reduces along it (as Python's x.var(1)); a bool is the unbiased flag of the whole-tensor
  // form.
  Tensor var(bool unbiased = true) const;
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  Tensor var(I dim, bool unbiased = true, bool keepdim = false) const {
    return var_dim(static_cast<std::int64_t>(dim), unbiased, keepdim);
  }
  Tensor std(bool unbiased = true) const;
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  Tensor std(I dim, bool unbiased = true, bool keepdim = false) const {
    return std_dim(static_cast<std::int64_t>(dim), unbiased, keepdim);
  }
  // The largest / smallest element (0-dim).
  Tensor max() const;
  Tensor min() const;
  // (values, int64 indices) along dim, as torch.max(x, dim).
  std::tuple<Tensor, Tensor> max(std::int64_t dim, bool keepdim = false) const;
  std::tuple<Tensor, Tensor> min(std::int64_t dim, bool keepdim = false) const;
  // Index of the largest / smallest element: of the flattened tensor without dim.
  Tensor argmax(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor argmin(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
  // The p-norm (sum |x|^p)^(1/p); p may be inf.
  Tensor norm(const Scalar& p = 2) const;
  Tensor norm(const Scalar& p, std::int64_t dim, bool keepdim = false) const;
  Tensor logsumexp(std::int64_t dim, bool keepdim = false) const;
  Tensor softmax(std::int64_t dim) const;
  Tensor log_softmax(std::int64_t dim) const;
  // True (0-dim; kBool, or kUInt8 for a uint8 tensor as in PyTorch 1.13) when every / some element is non-zero.
  Tensor all() const;
  Tensor any() const;
  // See ops/compare.hpp.
  Tensor isclose(const Tensor& other, double rtol = 1e-05, double atol = 1e-08, bool equal_nan = false) const;
  bool allclose(const Tensor& other, double rtol = 1e-05, double atol = 1e-08, bool equal_nan = false) const;
  bool equal(const Tensor& other) const;
  Tensor isfinite() const;
  Tensor isinf() const;
  Tensor isnan() const;

  // ---- linear algebra (see ops/linalg.hpp) ---------------------------------------------------
  Tensor matmul(const Tensor& other) const;
  // 2-D by 2-D matrix product only.
  Tensor mm(const Tensor& other) const;
  // The transpose of a tensor of at most 2 dims.
  Tensor t() const;
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  // Batched products (3-D by 3-D, see ops/linalg.hpp): this [B, n, m] x mat2 [B, m, p]; and
  // beta * this + alpha * bmm(batch1, batch2), in place for baddbmm_.
  Tensor bmm(const Tensor& mat2) const;
  Tensor baddbmm(const Tensor& batch1, const Tensor& batch2, const Scalar& beta = 1, const Scalar& alpha = 1) const;
  Tensor& baddbmm_(const Tensor& batch1, const Tensor& batch2, const Scalar& beta = 1,
                   const Scalar& alpha = 1) const;

  // ---- shape and indexing (see ops/shape.hpp and ops/indexing.hpp) ---------------------------
  Tensor permute(IntArrayRef dims) const;
  Tensor reshape(IntArrayRef shape) const;
  // The same elements with another shape, sharing the storage; an Error when the strides do not
  // allow it (a transposed tensor), where reshape would copy.
  Tensor view(IntArrayRef shape) const;
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t dim) const;
  // `implicit` is accepted for libtorch's signature and has no effect.
  Tensor expand(IntArrayRef sizes, bool implicit = false) const;
  Tensor expand_as(const Tensor& other) const;
  Tensor select(std::int64_t dim, std::int64_t index) const;
  Tensor operator[](std::int64_t index) const;
  Tensor slice(std::int64_t dim = 0, std::optional<std::int64_t> start = std::nullopt,
               std::optional<std::int64_t> end = std::nullopt, std::int64_t step = 1) const;
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
  Tensor as_strided(IntArrayRef size, IntArrayRef stride, std::optional<std::int64_t> storage_offset = std::nullopt) const;
  Tensor diagonal(std::int64_t offset = 0, std::int64_t dim1 = 0, std::int64_t dim2 = 1) const;
  Tensor unfold(std::int64_t dim, std::int64_t size, std::int64_t step) const;
  std::vector<Tensor> chunk(std::int64_t chunks, std::int64_t dim = 0) const;
  std::vector<Tensor> split(std::int64_t split_size, std::int64_t dim = 0) const;
  std::vector<Tensor> split_with_sizes(IntArrayRef split_sizes, std::int64_t dim = 0) const;
  std::vector<Tensor> unbind(std::int64_t dim = 0) const;
  Tensor view_as(const Tensor& other) const;
  // libtorch's indexing (see ops/tensor_index.hpp): x.index({Slice(), 0}), x.index({mask}),
  // x.index_put_({Slice(), 3}, 7.0). Basic indices give a view, index tensors and masks a copy.
  Tensor index(ArrayRef<indexing::TensorIndex> indices) const;
  Tensor index(std::initializer_list<indexing::TensorIndex> indices) const;
  Tensor& index_put_(ArrayRef<indexing::TensorIndex> indices, const Tensor& values) const;
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Tensor& values) const;
  Tensor& index_put_(ArrayRef<indexing::TensorIndex> indices, const Scalar& value) const;
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Scalar& value) const;
  // ATen's form: one optional index tensor per leading dim; accumulate adds instead of writing.
  Tensor& index_put_(const std::vector<std::optional<Tensor>>& indices, const Tensor& values,
                     bool accumulate = false) const;
  Tensor index_put(const std::vector<std::optional<Tensor>>& indices, const Tensor& values,
                   bool accumulate = false) const;
  // ATen's in-place scatters along dim (as torch.Tensor's), each with an out-of-place twin.
  Tensor& index_add_(std::int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha = 1) const;
  Tensor& index_copy_(std::int64_t dim, const Tensor& index, const Tensor& source) const;
  Tensor& index_fill_(std::int64_t dim, const Tensor& index, const Scalar& value) const;
  Tensor& scatter_(std::int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor& scatter_(std::int64_t dim, const Tensor& index, const Scalar& value) const;
  Tensor& scatter_add_(std::int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor& masked_scatter_(const Tensor& mask, const Tensor& source) const;
  Tensor index_add(std::int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha = 1) const;
  Tensor index_copy(std::int64_t dim, const Tensor& index, const Tensor& source) const;
  Tensor index_fill(std::int64_t dim, const Tensor& index, const Scalar& value) const;
  Tensor scatter(std::int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor scatter(std::int64_t dim, const Tensor& index, const Scalar& value) const;
  Tensor scatter_add(std::int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor masked_scatter(const Tensor& mask, const Tensor& source) const;
  Tensor masked_select(const Tensor& mask) const;
  // The positions of the non-zero elements, one row of x.dim() coordinates each (int64).
  Tensor nonzero() const;
  Tensor index_select(std::int64_t dim, const Tensor& index) const;
  Tensor gather(std::int64_t dim, const Tensor& index) const;
  Tensor masked_fill(const Tensor& mask, const Scalar& value) const;
  Tensor masked_fill(const Tensor& mask, const Tensor& value) const;

  // ---- ops for sequences (see ops/sequence.hpp) ----------------------------------------------
  Tensor tril(std::int64_t diagonal = 0) const;
  Tensor triu(std::int64_t diagonal = 0) const;
  Tensor& tril_(std::int64_t diagonal = 0) const;
  Tensor& triu_(std::int64_t diagonal = 0) const;
  // (values, int64 indices); ties keep their order.
  std::tuple<Tensor, Tensor> sort(std::int64_t dim = -1, bool descending = false) const;
  std::tuple<Tensor, Tensor> sort(std::optional<bool> stable, std::int64_t dim = -1, bool descending = false) const;
  Tensor argsort(std::int64_t dim = -1, bool descending = false) const;
  std::tuple<Tensor, Tensor> topk(std::int64_t k, std::int64_t dim = -1, bool largest = true, bool sorted = true) const;
  // Category indices drawn from this tensor's rows of weights (global generator).
  Tensor multinomial(std::int64_t num_samples, bool replacement = false) const;
  Tensor cumsum(std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor cumprod(std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor flip(IntArrayRef dims) const;
  Tensor roll(IntArrayRef shifts, IntArrayRef dims = {}) const;
  Tensor repeat(IntArrayRef repeats) const;
  Tensor repeat_interleave(const Tensor& repeats, std::optional<std::int64_t> dim = std::nullopt,
                           std::optional<std::int64_t> output_size = std::nullopt) const;
  Tensor repeat_interleave(std::int64_t repeats, std::optional<std::int64_t> dim = std::nullopt,
                           std::optional<std::int64_t> output_size = std::nullopt) const;

  // ---- comparisons: kBool results with broadcasting (see ops/compare.hpp) --------------------
  Tensor eq(const Tensor& other) const;
  Tensor eq(const Scalar& other) const;
  Tensor ne(const Tensor& other) const;
  Tensor ne(const Scalar& other) const;
  Tensor lt(const Tensor& other) const;
  Tensor lt(const Scalar& other) const;
  Tensor le(const Tensor& other) const;
  Tensor le(const Scalar& other) const;
  Tensor gt(const Tensor& other) const;
  Tensor gt(const Scalar& other) const;
  Tensor ge(const Tensor& other) const;
  Tensor ge(const Scalar& other) const;

  // ---- in place (see ops/inplace.cpp): each bumps _version() ---------------------------------
  // On a leaf that requires grad these throw unless a NoGradGuard is alive, as in PyTorch. They are
  // const like libtorch's: a Tensor is a handle, and the data it points to is what changes.
  Tensor& add_(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor& add_(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor& sub_(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor& sub_(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor& mul_(const Tensor& other) const;
  Tensor& mul_(const Scalar& other) const;
  Tensor& div_(const Tensor& other) const;
  Tensor& div_(const Scalar& other) const;
  Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  Tensor& relu_() const;
  Tensor& masked_fill_(const Tensor& mask, const Scalar& value) const;
  Tensor& zero_() const;
  Tensor& fill_(const Scalar& value) const;
  // Copies src's values (broadcast to this tensor's shape, converted to its dtype).
  Tensor& copy_(const Tensor& src) const;
  Tensor& uniform_(double from = 0.0, double to = 1.0) const;
  Tensor& normal_(double mean = 0.0, double std = 1.0) const;
  // Whole numbers drawn uniformly from [from, to), [0, to), or, without bounds, from 0 to the
  // largest integer the dtype holds exactly (2^24 for float32, 2^53 for float64), as libtorch's.
  Tensor& random_(std::int64_t from, std::optional<std::int64_t> to) const;
  Tensor& random_(std::int64_t to) const;
  Tensor& random_() const;
  // New sizes in place, as libtorch's resize_: the elements keep their row-major order, and those a
  // larger size adds start at zero. A tensor that requires grad cannot be resized (PyTorch's rule).
  const Tensor& resize_(IntArrayRef sizes) const;
  Tensor& operator+=(const Tensor& other) { return add_(other); }
  Tensor& operator+=(const Scalar& other) { return add_(other); }
  Tensor& operator-=(const Tensor& other) { return sub_(other); }
  Tensor& operator-=(const Scalar& other) { return sub_(other); }
  Tensor& operator*=(const Tensor& other) { return mul_(other); }
  Tensor& operator*=(const Scalar& other) { return mul_(other); }
  Tensor& operator/=(const Tensor& other) { return div_(other); }
  Tensor& operator/=(const Scalar& other) { return div_(other); }

  // ---- labels and printing -------------------------------------------------------------------
  // An optional label (nn sets "0.weight", ...) shown by to_dot.
  const std::string& name() const;
  Tensor& set_name(std::string name);

  // As Python prints it: tensor([[1., 2.]], grad_fn=<AddBackward0>).
  std::string to_string() const;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  unsigned add_hook(std::function<Tensor(const Tensor&)> hook) const;
  double item_double() const;
  std::int64_t item_int64() const;
  const void* data_ptr(Dtype expected) const;
  void* storage_ptr(Dtype expected) const;
  void* first_element() const;
  void* contiguous_storage_ptr(Dtype expected) const;
  Tensor var_dim(std::int64_t dim, bool unbiased, bool keepdim) const;
  Tensor std_dim(std::int64_t dim, bool unbiased, bool keepdim) const;

  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& out, const Tensor& tensor);

}  // namespace xgrad
