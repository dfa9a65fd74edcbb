#include <xgrad/ops/dropout.hpp>

#include <cmath>
#include <cstdint>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/dropout_keep.hpp>
#include <xgrad/kernels/thread_pool.hpp>
#include <xgrad/ops/elementwise.hpp>

namespace xgrad {

namespace {

void check_probability(double p, const char* op) {
  // Written so that a NaN p fails too.
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(concat(op, ": dropout probability has to be between 0 and 1, but got ", p));
}

void check_dropout_arguments(const Tensor& x, double p, const char* op) {
  check(x.defined(), op, ": input is an undefined tensor");
  check_probability(p, op);
  if (!is_floating(x.dtype()))
    throw Error(concat(op, ": expected a floating point input (float32 or float64), got ", dtype_name(x.dtype())));
}

// One draw per (n, c) slice: (N, C, 1, ...).
Shape channel_mask_shape(const Tensor& x, const char* op) {
  if (x.dim() < 2)
    throw Error(concat(op, ": Feature dropout requires at least 2 dimensions in the input, got shape ",
                       shape_str(x.shape())));
  Shape shape(x.shape().size(), 1);
  shape[0] = x.size(0);
  shape[1] = x.size(1);
  return shape;
}

// When dropout changes nothing: evaluation, p = 0, or nothing to drop.
bool is_identity(const Tensor& x, double p, bool train) { return !train || p == 0.0 || x.numel() == 0; }

// Elements of a mask a thread must get before a second one joins: a position costs about a
// nanosecond, so below this a worker's wake-up costs more than its share saves.
constexpr std::int64_t kMinMaskElementsPerThread = std::int64_t{1} << 15;

// dropout_mask for a Shape or an InlineShape (what a training step's dropout passes, no Shape built).
// Element i is kept by kernels/dropout_keep.hpp's rule, from its position and one seed per mask, so
// the mask is made in blocks on xgrad's threads and is the same for every thread count.
template <class Dims>
Tensor mask_of_shape(const Dims& shape, double p, Dtype dtype) {
  check_probability(p, "dropout_mask");
  check(p < 1.0, "dropout_mask: p must be below 1 (p = 1 keeps nothing and has no scale), got ", p);
  const double keep = 1.0 - p;
  const dropout_keep::Rule rule = dropout_keep::Rule::draw(keep);
  return visit_floating(dtype, "dropout_mask", [&](auto tag) {
    using T = decltype(tag);
    const T scale = static_cast<T>(1.0 / keep);
    Array<T> mask = Array<T>::from_shape(shape);
    T* out = mask.data();
    thread_pool::for_element_blocks(static_cast<std::int64_t>(mask.size()), kMinMaskElementsPerThread,
                                    [&](std::int64_t first, std::int64_t last) {
                                      dropout_keep::fill(rule, static_cast<std::uint64_t>(first),
                                                         static_cast<std::size_t>(last - first), scale, out + first);
                                    });
    return make_tensor(std::move(mask));
  });
}

// What x is multiplied by. PyTorch multiplies by a 0-dim zero when p = 1, so the node is still
// MulBackward0 and g * 0 flows back.
Tensor multiplier(const Tensor& x, double p, const InlineShape& mask_shape) {
  return p == 1.0 ? zeros({}, x.dtype()) : mask_of_shape(mask_shape, p, x.dtype());
}

}  // namespace

Tensor dropout_mask(const Shape& shape, double p, Dtype dtype) { return mask_of_shape(shape, p, dtype); }

Tensor dropout(const Tensor& x, double p, bool train) {
  check_dropout_arguments(x, p, "dropout");
  if (is_identity(x, p, train)) return x;
  return x * multiplier(x, p, shape_of(x));
}

Tensor feature_dropout(const Tensor& x, double p, bool train) {
  check_dropout_arguments(x, p, "feature_dropout");
  const Shape mask_shape = channel_mask_shape(x, "feature_dropout");
  if (is_identity(x, p, train)) return x;
  return x * multiplier(x, p, mask_shape);
}

Tensor& dropout_(Tensor& x, double p, bool train) {
  check_dropout_arguments(x, p, "dropout_");
  if (is_identity(x, p, train)) return x;
  return x.mul_(multiplier(x, p, shape_of(x)));
}

Tensor& feature_dropout_(Tensor& x, double p, bool train) {
  check_dropout_arguments(x, p, "feature_dropout_");
  const Shape mask_shape = channel_mask_shape(x, "feature_dropout_");
  if (is_identity(x, p, train)) return x;
  return x.mul_(multiplier(x, p, mask_shape));
}

}  // namespace xgrad
