#include <xgrad/ops/pool.hpp>
#include <xgrad/ops/conv_impl.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/max_pool_2x2.hpp>
#include <xgrad/kernels/thread_pool.hpp>

namespace xgrad {

namespace {

// ---- shapes --------------------------------------------------------------------------------------

// The planes of an input (every leading dim together) and its spatial sizes, and those of the output.
struct PoolShape {
  std::int64_t planes = 1, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  InlineShape leading;  // (N, C) or (C)
  std::int64_t in_plane() const { return in_h * in_w; }
  std::int64_t out_plane() const { return out_h * out_w; }
  InlineShape input_shape() const { return with_spatial(in_h, in_w); }
  InlineShape output_shape() const { return with_spatial(out_h, out_w); }
  InlineShape with_spatial(std::int64_t h, std::int64_t w) const {
    InlineShape shape;
    if (leading.size() == 2) shape.assign(std::array<std::int64_t, 4>{leading[0], leading[1], h, w});
    else shape.assign(std::array<std::int64_t, 3>{leading[0], h, w});
    return shape;
  }
};

PoolShape pool_input(const char* op, const Tensor& x) {
  check(x.defined(), op, ": argument x is an undefined tensor");
  check(is_floating(x.dtype()), op, ": expected a floating point tensor (float32 or float64), got ",
        dtype_name(x.dtype()));
  const InlineShape shape = shape_of(x);
  const bool rank_ok = shape.size() == 3 || shape.size() == 4;
  // PyTorch allows an empty batch, never an empty channel or spatial dim.
  if (!rank_ok || std::any_of(shape.end() - 3, shape.end(), [](std::int64_t d) { return d == 0; }))
    throw Error(concat(op, ": expected a 3-D (C, H, W) or 4-D (N, C, H, W) input with non-empty C, H and W, got ",
                       shape_str(shape.to_shape())));
  PoolShape p;
  if (shape.size() == 4) p.leading.assign(std::array<std::int64_t, 2>{shape[0], shape[1]});
  else p.leading.assign(std::array<std::int64_t, 1>{shape[0]});
  for (std::int64_t d : p.leading) p.planes *= d;
  p.in_h = shape[shape.size() - 2];
  p.in_w = shape.back();
  return p;
}

// A size argument of one or two numbers as a pair (h, w); `fallback` for an empty one (stride).
void expand_pair(const char* op, const char* name, IntArrayRef values, std::int64_t out[2],
                 const std::int64_t* fallback = nullptr) {
  if (values.empty() && fallback != nullptr) {
    out[0] = fallback[0];
    out[1] = fallback[1];
  } else if (values.size() == 1) {
    out[0] = out[1] = values[0];
  } else if (values.size() == 2) {
    out[0] = values[0];
    out[1] = values[1];
  } else {
    throw Error(concat(op, ": ", name, " must be one number or a pair {h, w}, got ", values));
  }
}

using Window = PoolWindow;  // ops/conv_impl.hpp

// PyTorch's pooling_output_shape: floor or ceil division, and a ceil_mode window that would start
// in the trailing padding dropped.
std::int64_t pooled_size(std::int64_t size, std::int64_t kernel, std::int64_t pad, std::int64_t stride,
                         std::int64_t dilation, bool ceil_mode) {
  const std::int64_t span = size + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  // Rounded towards -infinity, so a span of -1 gives 0 (and an Error below), not 1.
  std::int64_t out = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= size + pad) --out;
  return out;
}

PoolShape plan_window(const char* op, const Tensor& x, const Window& w, bool ceil_mode) {
  PoolShape p = pool_input(op, x);
  if (w.kernel[0] <= 0 || w.kernel[1] <= 0)
    throw Error(concat(op, ": kernel_size must be positive, got ", w.kernel[0], " x ", w.kernel[1]));
  if (w.stride[0] <= 0 || w.stride[1] <= 0)
    throw Error(concat(op, ": stride must be positive, got ", w.stride[0], " x ", w.stride[1]));
  if (w.dilation[0] <= 0 || w.dilation[1] <= 0)
    throw Error(concat(op, ": dilation must be positive, got ", w.dilation[0], " x ", w.dilation[1]));
  if (w.padding[0] < 0 || w.padding[1] < 0 || w.padding[0] > w.kernel[0] / 2 || w.padding[1] > w.kernel[1] / 2)
    throw Error(concat(op, ": padding must be between 0 and half the kernel size, got padding ", w.padding[0], " x ",
                       w.padding[1], " for kernel_size ", w.kernel[0], " x ", w.kernel[1]));
  p.out_h = pooled_size(p.in_h, w.kernel[0], w.padding[0], w.stride[0], w.dilation[0], ceil_mode);
  p.out_w = pooled_size(p.in_w, w.kernel[1], w.padding[1], w.stride[1], w.dilation[1], ceil_mode);
  if (p.out_h < 1 || p.out_w < 1)
    throw Error(concat(op, ": input of shape ", shape_str(x.shape()), " gives an output of ", p.out_h, " x ", p.out_w,
                       " with kernel_size ", w.kernel[0], " x ", w.kernel[1], ", stride ", w.stride[0], " x ",
                       w.stride[1], ", padding ", w.padding[0], " x ", w.padding[1], " and dilation ", w.dilation[0],
                       " x ", w.dilation[1], "; the output is too small"));
  return p;
}

template <class T, class Kernel>
Tensor computed(const InlineShape& shape, Kernel kernel) {
  Array<T> out = Array<T>::from_shape(shape);
  kernel(out.data());
  return make_tensor(std::move(out));
}

// ---- average pools: fixed windows, each with its divisor -------------------------------------------

// Output position (oh, ow) averages input rows [h0, h1) and columns [w0, w1) of its plane, dividing
// the sum by divisor_a and then by divisor_b (adaptive pooling divides by the height, then by the
// width, as PyTorch does; avg_pool2d by one divisor). An empty window gives 0.
struct Box {
  std::int64_t h0, h1, w0, w1, divisor_a, divisor_b;
};

struct AveragePlan {
  PoolShape shape;
  std::vector<Box> boxes;  // one per output position of a plane, row-major
};

// Each output element is its box's sum, divided.
template <class T>
void average_forward(const AveragePlan& plan, const T* x, T* y) {
  const PoolShape& s = plan.shape;
  for (std::int64_t plane = 0; plane < s.planes; ++plane) {
    const T* in = x + plane * s.in_plane();
    T* out = y + plane * s.out_plane();
    for (std::size_t o = 0; o < plan.boxes.size(); ++o) {
      const Box& b = plan.boxes[o];
      T total = T(0);
      for (std::int64_t h = b.h0; h < b.h1; ++h)
        for (std::int64_t w = b.w0; w < b.w1; ++w) total += in[h * s.in_w + w];
      out[o] = b.h0 < b.h1 && b.w0 < b.w1 ? total / static_cast<T>(b.divisor_a) / static_cast<T>(b.divisor_b) : T(0);
    }
  }
}

// The adjoint: each output element's gradient, divided, added to every position of its box.
template <class T>
void average_backward(const AveragePlan& plan, const T* dy, T* dx) {
  const PoolShape& s = plan.shape;
  std::fill(dx, dx + s.planes * s.in_plane(), T(0));
  for (std::int64_t plane = 0; plane < s.planes; ++plane) {
    T* in = dx + plane * s.in_plane();
    const T* out = dy + plane * s.out_plane();
    for (std::size_t o = 0; o < plan.boxes.size(); ++o) {
      const Box& b = plan.boxes[o];
      const T share = out[o] / static_cast<T>(b.divisor_a) / static_cast<T>(b.divisor_b);
      for (std::int64_t h = b.h0; h < b.h1; ++h)
        for (std::int64_t w = b.w0; w < b.w1; ++w) in[h * s.in_w + w] += share;
    }
  }
}

Tensor average_op(const Tensor& x, std::shared_ptr<const AveragePlan> plan, const char* node_name,
                  const char* backward_name);
Tensor average_backward_op(const Tensor& dy, std::shared_ptr<const AveragePlan> plan, const char* node_name,
                           const char* forward_name);

// The pool's backward as a recorded op: linear in dy, so its own derivative is the pool again.
struct AverageBackwardBackward final : Node {
  AverageBackwardBackward(std::shared_ptr<const AveragePlan> plan, const char* node_name, const char* forward_name)
      : plan(std::move(plan)), node_name(node_name), forward_name(forward_name) {}
  const char* name() const override { return node_name; }
  const char* formula() const override { return "d (g divided and spread over each box)/d g = avg_pool(gg)"; }
  gradient_list backward(const Tensor& u) override {
    // forward_name is the pool's node name; the backward's node name is this one.
    return {average_op(u, plan, forward_name, node_name)};
  }
  std::shared_ptr<const AveragePlan> plan;
  const char* node_name;
  const char* forward_name;
};

Tensor average_backward_op(const Tensor& dy, std::shared_ptr<const AveragePlan> plan, const char* node_name,
                           const char* forward_name) {
  Tensor dx = visit_floating(dy.dtype(), "pool backward", [&](auto tag) {
    using T = decltype(tag);
    return computed<T>(plan->shape.input_shape(), [&](T* out) { average_backward(*plan, array<T>(dy).data(), out); });
  });
  if (any_requires_grad({&dy}))
    record(dx, make_node<AverageBackwardBackward>(std::move(plan), node_name, forward_name), {&dy});
  return dx;
}

// y = mean of each box:  dx = dy divided and spread over the box
struct AverageBackward final : Node {
  AverageBackward(std::shared_ptr<const AveragePlan> plan, const char* node_name, const char* backward_name)
      : plan(std::move(plan)), node_name(node_name), backward_name(backward_name) {}
  const char* name() const override { return node_name; }
  const char* formula() const override { return "d avg_pool(x) = g divided by the box size and spread over each box"; }
  gradient_list backward(const Tensor& dy) override {
    return {average_backward_op(dy, plan, backward_name, node_name)};
  }
  std::shared_ptr<const AveragePlan> plan;  // sizes only, never values
  const char* node_name;
  const char* backward_name;
};

Tensor average_op(const Tensor& x, std::shared_ptr<const AveragePlan> plan, const char* node_name,
                  const char* backward_name) {
  Tensor y = visit_floating(x.dtype(), "pool", [&](auto tag) {
    using T = decltype(tag);
    return computed<T>(plan->shape.output_shape(), [&](T* out) { average_forward(*plan, array<T>(x).data(), out); });
  });
  if (any_requires_grad({&x})) record(y, make_node<AverageBackward>(std::move(plan), node_name, backward_name), {&x});
  return y;
}

// ---- max pool: windows whose maximum is found per plane ------------------------------------------

// 2 x 2 windows at stride 2 that stay inside the plane: the pooling of nearly every small CNN.
bool is_plain_2x2(const PoolShape& s, const Window& w) {
  return w.kernel[0] == 2 && w.kernel[1] == 2 && w.stride[0] == 2 && w.stride[1] == 2 && w.padding[0] == 0 &&
         w.padding[1] == 0 && w.dilation[0] == 1 && w.dilation[1] == 1 && 2 * s.out_h <= s.in_h &&
         2 * s.out_w <= s.in_w;
}

// The maximum of each window of every plane, and its position in the plane (h * W + w).
template <class T>
void max_forward(const PoolShape& s, const Window& w, const T* x, T* y, std::int64_t* indices) {
  if (is_plain_2x2(s, w)) return max_pool_2x2::forward({s.planes, s.in_h, s.in_w, s.out_h, s.out_w}, x, y, indices);
  for (std::int64_t plane = 0; plane < s.planes; ++plane) {
    const T* in = x + plane * s.in_plane();
    for (std::int64_t oh = 0; oh < s.out_h; ++oh) {
      std::int64_t h0 = oh * w.stride[0] - w.padding[0];
      const std::int64_t h1 = std::min(h0 + (w.kernel[0] - 1) * w.dilation[0] + 1, s.in_h);
      while (h0 < 0) h0 += w.dilation[0];
      for (std::int64_t ow = 0; ow < s.out_w; ++ow) {
        std::int64_t w0 = ow * w.stride[1] - w.padding[1];
        const std::int64_t w1 = std::min(w0 + (w.kernel[1] - 1) * w.dilation[1] + 1, s.in_w);
        while (w0 < 0) w0 += w.dilation[1];
        // As PyTorch's CPU kernel: start from -inf at the window's first position; a larger value
        // or any NaN takes over.
        std::int64_t best = h0 * s.in_w + w0;
        T best_value = -std::numeric_limits<T>::infinity();
        for (std::int64_t h = h0; h < h1; h += w.dilation[0])
          for (std::int64_t c = w0; c < w1; c += w.dilation[1]) {
            const T value = in[h * s.in_w + c];
            if (value > best_value || std::isnan(value)) {
              best_value = value;
              best = h * s.in_w + c;
            }
          }
        const std::int64_t o = plane * s.out_plane() + oh * s.out_w + ow;
        y[o] = best_value;
        indices[o] = best;
      }
    }
  }
}

// dx[plane, indices[o]] += dy[o]: every element of dx is written.
template <class T>
void scatter_by_index(const PoolShape& s, const T* dy, const std::int64_t* indices, T* dx) {
  std::fill(dx, dx + s.planes * s.in_plane(), T(0));
  for (std::int64_t plane = 0; plane < s.planes; ++plane)
    for (std::int64_t o = 0; o < s.out_plane(); ++o) {
      const std::int64_t at = plane * s.out_plane() + o;
      // An index outside the plane cannot come from max_forward; checked anyway, as it is cheap.
      if (indices[at] >= 0 && indices[at] < s.in_plane()) dx[plane * s.in_plane() + indices[at]] += dy[at];
    }
}

// v[o] = u[plane, indices[o]]: the adjoint of the scatter.
template <class T>
void gather_by_index(const PoolShape& s, const T* u, const std::int64_t* indices, T* v) {
  for (std::int64_t plane = 0; plane < s.planes; ++plane)
    for (std::int64_t o = 0; o < s.out_plane(); ++o) {
      const std::int64_t at = plane * s.out_plane() + o;
      v[at] = indices[at] >= 0 && indices[at] < s.in_plane() ? u[plane * s.in_plane() + indices[at]] : T(0);
    }
}

// Input elements a thread must get before a second one joins (a pass of some tens of microseconds).
constexpr std::int64_t kMinElementsPerThread = std::int64_t{1} << 16;

// body(part, first) for blocks of consecutive planes on xgrad's threads (kernels/thread_pool.hpp):
// `part` is s with its plane count cut to the block's, `first` the block's first plane. Planes are
// independent, so the result does not depend on the split.
template <class Body>
void for_plane_blocks(const PoolShape& s, const Body& body) {
  thread_pool::for_item_blocks(s.planes, static_cast<double>(s.planes * s.in_plane()),
                               static_cast<double>(kMinElementsPerThread), [&](std::int64_t first, std::int64_t last) {
                                 PoolShape part = s;
                                 part.planes = last - first;
                                 body(part, first);
                               });
}

// The argmax positions, shared by the pool's node and the nodes of its derivatives.
struct MaxPlan {
  PoolShape shape;
  Array<std::int64_t> indices;
};

Tensor scatter_op(const Tensor& dy, std::shared_ptr<const MaxPlan> plan);

// d/du gather(u) = scatter: the third derivative of max pooling, as the second's is a gather.
struct GatherByIndexBackward final : Node {
  explicit GatherByIndexBackward(std::shared_ptr<const MaxPlan> plan) : plan(std::move(plan)) {}
  const char* name() const override { return "GatherBackward0"; }
  const char* formula() const override { return "d (u read at each window's max)/d u = zeros with g added there"; }
  gradient_list backward(const Tensor& v) override { return {scatter_op(v, plan)}; }
  std::shared_ptr<const MaxPlan> plan;
};

Tensor gather_op(const Tensor& u, std::shared_ptr<const MaxPlan> plan) {
  Tensor v = visit_floating(u.dtype(), "max_pool2d backward", [&](auto tag) {
    using T = decltype(tag);
    return computed<T>(plan->shape.output_shape(),
                       [&](T* out) { gather_by_index(plan->shape, array<T>(u).data(), plan->indices.data(), out); });
  });
  if (any_requires_grad({&u})) record(v, make_node<GatherByIndexBackward>(std::move(plan)), {&u});
  return v;
}

// d/d(dy) scatter(dy) = gather at the same indices
struct MaxPoolBackwardBackward final : Node {
  explicit MaxPoolBackwardBackward(std::shared_ptr<const MaxPlan> plan) : plan(std::move(plan)) {}
  const char* name() const override { return "MaxPool2DWithIndicesBackwardBackward0"; }
  const char* formula() const override { return "d (g added at each window's max)/d g = gg read at each window's max"; }
  gradient_list backward(const Tensor& u) override { return {gather_op(u, plan)}; }
  std::shared_ptr<const MaxPlan> plan;
};

Tensor scatter_op(const Tensor& dy, std::shared_ptr<const MaxPlan> plan) {
  Tensor dx = visit_floating(dy.dtype(), "max_pool2d backward", [&](auto tag) {
    using T = decltype(tag);
    return computed<T>(plan->shape.input_shape(),
                       [&](T* out) {
                         const PoolShape& s = plan->shape;
                         const T* g = array<T>(dy).data();
                         for_plane_blocks(s, [&](const PoolShape& part, std::int64_t first) {
                           scatter_by_index(part, g + first * s.out_plane(),
                                            plan->indices.data() + first * s.out_plane(), out + first * s.in_plane());
                         });
                       });
  });
  if (any_requires_grad({&dy})) record(dx, make_node<MaxPoolBackwardBackward>(std::move(plan)), {&dy});
  return dx;
}

// y = max of each window:  dx[argmax] += dy
// The input is kept only as the source of the second derivative's zero: where the maximum sits is
// a step function of x, whose derivative PyTorch passes on as zeros_like(x). Its values are never read.
struct MaxPoolBackward final : Node {
  MaxPoolBackward(std::shared_ptr<const MaxPlan> plan, const Tensor& input)
      : plan(std::move(plan)), input(input, /*is_output=*/false) {}
  const char* name() const override { return "MaxPool2DWithIndicesBackward0"; }
  const char* formula() const override { return "d max_pool2d(x) = g added at each window's max, 0 elsewhere"; }
  gradient_list backward(const Tensor& dy) override {
    return {with_zero_gradient_to(scatter_op(dy, plan), input.unpack(*this), "MaxPool2DWithIndicesBackwardBackward0")};
  }
  void release_saved() override {
    plan.reset();
    input.reset();
  }
  std::shared_ptr<const MaxPlan> plan;
  SavedTensor input;
};

}  // namespace

Tensor max_pool2d(const Tensor& x, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
                  IntArrayRef dilation, bool ceil_mode) {
  const char* op = "max_pool2d";
  Window w{};
  expand_pair(op, "kernel_size", kernel_size, w.kernel);
  expand_pair(op, "stride", stride, w.stride, w.kernel);
  expand_pair(op, "padding", padding, w.padding);
  expand_pair(op, "dilation", dilation, w.dilation);
  return detail::max_pool2d(x, w, ceil_mode);
}

Tensor detail::max_pool2d(const Tensor& x, const PoolWindow& w, bool ceil_mode) {
  const char* op = "max_pool2d";
  auto plan = make_cached_shared<MaxPlan>();
  plan->shape = plan_window(op, x, w, ceil_mode);
  const PoolShape& s = plan->shape;
  plan->indices = Array<std::int64_t>::from_shape({static_cast<std::size_t>(s.planes * s.out_plane())});
  Tensor y = visit_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return computed<T>(s.output_shape(), [&](T* out) {
      const T* in = array<T>(x).data();
      for_plane_blocks(s, [&](const PoolShape& part, std::int64_t first) {
        max_forward(part, w, in + first * s.in_plane(), out + first * s.out_plane(),
                    plan->indices.data() + first * s.out_plane());
      });
    });
  });
  if (any_requires_grad({&x})) record(y, make_node<MaxPoolBackward>(std::move(plan), x), {&x});
  return y;
}

Tensor avg_pool2d(const Tensor& x, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding, bool ceil_mode,
                  bool count_include_pad, std::optional<std::int64_t> divisor_override) {
  const char* op = "avg_pool2d";
  Window w{};
  expand_pair(op, "kernel_size", kernel_size, w.kernel);
  expand_pair(op, "stride", stride, w.stride, w.kernel);
  expand_pair(op, "padding", padding, w.padding);
  w.dilation[0] = w.dilation[1] = 1;
  check(!divisor_override || *divisor_override != 0, op, ": divisor_override must not be zero");
  auto plan = make_cached_shared<AveragePlan>();
  plan->shape = plan_window(op, x, w, ceil_mode);
  const PoolShape& s = plan->shape;
  plan->boxes.reserve(static_cast<std::size_t>(s.out_plane()));
  for (std::int64_t oh = 0; oh < s.out_h; ++oh)
    for (std::int64_t ow = 0; ow < s.out_w; ++ow) {
      // PyTorch's rule: the padded window is cut at the far padding's edge, then at the input's.
      const std::int64_t h0 = oh * w.stride[0] - w.padding[0], w0 = ow * w.stride[1] - w.padding[1];
      const std::int64_t h1 = std::min(h0 + w.kernel[0], s.in_h + w.padding[0]);
      const std::int64_t w1 = std::min(w0 + w.kernel[1], s.in_w + w.padding[1]);
      Box b{std::max<std::int64_t>(h0, 0), std::min(h1, s.in_h), std::max<std::int64_t>(w0, 0), std::min(w1, s.in_w),
            0, 1};
      if (divisor_override) b.divisor_a = *divisor_override;
      else if (count_include_pad) b.divisor_a = (h1 - h0) * (w1 - w0);
      else b.divisor_a = std::max<std::int64_t>(b.h1 - b.h0, 0) * std::max<std::int64_t>(b.w1 - b.w0, 0);
      if (b.divisor_a == 0) b.divisor_a = 1;  // an empty window: its output is 0 either way
      plan->boxes.push_back(b);
    }
  return average_op(x, std::move(plan), "AvgPool2DBackward0", "AvgPool2DBackwardBackward0");
}

Tensor adaptive_avg_pool2d(const Tensor& x, IntArrayRef output_size) {
  const char* op = "adaptive_avg_pool2d";
  std::int64_t size[2];
  expand_pair(op, "output_size", output_size, size);
  check(size[0] >= 0 && size[1] >= 0, op, ": output_size must not be negative, got ", output_size);
  auto plan = make_cached_shared<AveragePlan>();
  plan->shape = pool_input(op, x);
  PoolShape& s = plan->shape;
  s.out_h = size[0];
  s.out_w = size[1];
  plan->boxes.reserve(static_cast<std::size_t>(s.out_plane()));
  for (std::int64_t oh = 0; oh < s.out_h; ++oh)
    for (std::int64_t ow = 0; ow < s.out_w; ++ow) {
      const std::int64_t h0 = oh * s.in_h / s.out_h, h1 = ((oh + 1) * s.in_h + s.out_h - 1) / s.out_h;
      const std::int64_t w0 = ow * s.in_w / s.out_w, w1 = ((ow + 1) * s.in_w + s.out_w - 1) / s.out_w;
      plan->boxes.push_back({h0, h1, w0, w1, h1 - h0, w1 - w0});
    }
  // PyTorch computes a 1 x 1 output as x.mean({-1, -2}, keepdim=true) and names its node so.
  const bool global = s.out_h == 1 && s.out_w == 1;
  return average_op(x, std::move(plan), global ? "MeanBackward1" : "AdaptiveAvgPool2DBackward0",
                    "AdaptiveAvgPool2DBackwardBackward0");
}

}  // namespace xgrad
