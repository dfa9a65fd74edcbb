#include <xgrad/ops/softmax.hpp>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/softmax_impl.hpp>

namespace xgrad {

SoftmaxLayout softmax_layout(const Shape& shape, std::int64_t dim, const char* op) {
  // As in PyTorch, a 0-dim tensor accepts dims 0 and -1 and is a single distribution.
  const auto rank = static_cast<std::int64_t>(std::max<std::size_t>(shape.size(), 1));
  if (dim < -rank || dim >= rank)  // the message only on failure: shape_str allocates
    throw Error(concat(op, ": dim ", dim, " out of range for a tensor of shape ", shape_str(shape), " (expected ",
                       -rank, " to ", rank - 1, ")"));
  SoftmaxLayout layout;
  if (shape.empty()) return layout;
  const auto axis = static_cast<std::size_t>(dim < 0 ? dim + rank : dim);
  for (std::size_t d = 0; d < axis; ++d) layout.outer *= shape[d];
  layout.classes = shape[axis];
  for (std::size_t d = axis + 1; d < shape.size(); ++d) layout.inner *= shape[d];
  return layout;
}

namespace {

// d softmax(x) = y * (g - sum(g * y)) along dim, with y = softmax(x)
struct SoftmaxBackward final : Node {
  SoftmaxBackward(const Tensor& output, SoftmaxLayout layout, std::int64_t dim)
      : output(output, /*is_output=*/true), layout(layout), dim(dim) {}
  const char* name() const override { return "SoftmaxBackward0"; }
  const char* formula() const override { return "d softmax(x) = y * (g - sum(g * y, dim))"; }
  gradient_list backward(const Tensor& grad) override {
    // Under create_graph y comes back with this node as its grad_fn, so the second derivative
    // reaches x through it.
    const Tensor y = output.unpack(*this);
    return {y * (grad - sum(grad * y, dim, /*keepdim=*/true))};
  }
  // One pass per row instead of four ops with three temporaries.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor y = output.unpack(*this);
    return visit_floating(grad.dtype(), "softmax backward", [&](auto tag) {
      using T = decltype(tag);
      Array<T> dx = Array<T>::from_shape(y.shape());
      softmax_backward_rows(array<T>(y).data(), array<T>(grad).data(), dx.data(), layout);
      return gradient_list{make_tensor(std::move(dx))};
    });
  }
  void release_saved() override { output.reset(); }
  SavedTensor output;
  SoftmaxLayout layout;
  std::int64_t dim;
};

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) {
  check(x.defined(), "softmax: argument x is an undefined tensor");
  const Shape shape = x.shape();
  const SoftmaxLayout layout = softmax_layout(shape, dim, "softmax");
  Tensor out = visit_floating(x.dtype(), "softmax", [&](auto tag) {
    using T = decltype(tag);
    Array<T> y = Array<T>::from_shape(shape);
    softmax_rows(array<T>(x).data(), y.data(), layout);
    return make_tensor(std::move(y));
  });
  if (any_requires_grad({&x}))
    record(out, make_node<SoftmaxBackward>(out, layout, dim), {&x});
  return out;
}

namespace {

// d log_softmax(x) = g - softmax(x) * sum(g) along dim, with softmax(x) = exp(y)
struct LogSoftmaxBackward final : Node {
  LogSoftmaxBackward(const Tensor& output, SoftmaxLayout layout, std::int64_t dim)
      : output(output, /*is_output=*/true), layout(layout), dim(dim) {}
  const char* name() const override { return "LogSoftmaxBackward0"; }
  const char* formula() const override { return "d log_softmax(x) = g - exp(y) * sum(g, dim)"; }
  gradient_list backward(const Tensor& grad) override {
    // Under create_graph exp(y) is recorded from the output, which rejoins the graph through this node.
    const Tensor y = output.unpack(*this);
    return {grad - exp(y) * sum(grad, dim, /*keepdim=*/true)};
  }
  // One pass per row instead of four ops with three temporaries.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor y = output.unpack(*this);
    return visit_floating(grad.dtype(), "log_softmax backward", [&](auto tag) {
      using T = decltype(tag);
      Array<T> dx = Array<T>::from_shape(y.shape());
      log_softmax_backward_rows(array<T>(y).data(), array<T>(grad).data(), dx.data(), layout);
      return gradient_list{make_tensor(std::move(dx))};
    });
  }
  void release_saved() override { output.reset(); }
  SavedTensor output;
  SoftmaxLayout layout;
  std::int64_t dim;
};

}  // namespace

Tensor log_softmax(const Tensor& x, std::int64_t dim) {
  check(x.defined(), "log_softmax: argument x is an undefined tensor");
  const Shape shape = x.shape();
  const SoftmaxLayout layout = softmax_layout(shape, dim, "log_softmax");
  Tensor out = visit_floating(x.dtype(), "log_softmax", [&](auto tag) {
    using T = decltype(tag);
    Array<T> y = Array<T>::from_shape(shape);
    log_softmax_rows(array<T>(x).data(), y.data(), layout);
    return make_tensor(std::move(y));
  });
  if (any_requires_grad({&x}))
    record(out, make_node<LogSoftmaxBackward>(out, layout, dim), {&x});
  return out;
}

}  // namespace xgrad
