#include "ops/reduce.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

#include "core/tensor_impl.hpp"
#include "ops/broadcast_impl.hpp"
#include "ops/shape.hpp"

namespace xgrad {

namespace {

// Every reduction here walks the input as [outer, axis, inner] (see AxisSplit) and writes
// outer * inner results; keepdim only changes the result's shape, never its layout.
struct ReductionPlan {
  AxisSplit split;
  Shape input_shape, output_shape;
  bool whole = false;  // over every element (PyTorch names the node ...Backward0) or one dim (...Backward1)
};

ReductionPlan plan_along(const Tensor& x, std::int64_t dim, bool keepdim, const char* op) {
  check(x.defined(), op, ": input is an undefined tensor");
  ReductionPlan plan;
  plan.input_shape = x.shape();
  const std::size_t axis = normalize_dim(dim, plan.input_shape, op);
  plan.split = split_at(plan.input_shape, axis);
  plan.output_shape = plan.input_shape;
  if (!plan.output_shape.empty()) {
    if (keepdim) plan.output_shape[axis] = 1;
    else plan.output_shape.erase(plan.output_shape.begin() + static_cast<std::ptrdiff_t>(axis));
  }
  return plan;
}

// The whole tensor as one slice: outer = inner = 1, axis = numel; the result has shape {}.
ReductionPlan plan_whole(const Tensor& x, const char* op) {
  check(x.defined(), op, ": input is an undefined tensor");
  ReductionPlan plan;
  plan.input_shape = x.shape();
  plan.split.axis = numel_of(plan.input_shape);
  plan.whole = true;
  return plan;
}

void check_not_empty(const ReductionPlan& plan, std::int64_t dim, const char* op) {
  if (plan.split.axis == 0)
    throw Error(concat(op, ": cannot reduce over dim ", dim, " of size 0 (input shape ", shape_str(plan.input_shape),
                       ")"));
}

template <class T>
Array<T> sum_along(const Array<T>& x, const ReductionPlan& plan) {
  const auto [outer, axis, inner] = plan.split;
  Array<T> out = Array<T>::from_shape(plan.output_shape);
  const T* in = x.data();
  T* o = out.data();
  if (inner == 1) {  // contiguous slices (the last dim, or everything)
    for (std::size_t r = 0; r < outer; ++r) o[r] = static_cast<T>(sum_contiguous(in + r * axis, axis));
    return out;
  }
  // A non-last dim: add whole rows of `inner` elements into the result, which vectorises (the
  // running sums are in T here, one per output element).
  std::fill(o, o + outer * inner, T(0));
  for (std::size_t r = 0; r < outer; ++r)
    for (std::size_t k = 0; k < axis; ++k) {
      const T* row = in + (r * axis + k) * inner;
      T* target = o + r * inner;
      for (std::size_t i = 0; i < inner; ++i) target[i] += row[i];
    }
  return out;
}

// The gradient of a sum: each output gradient, times `scale`, copied along the reduced dim.
template <class T>
Array<T> spread_along(const Array<T>& grad, const ReductionPlan& plan, T scale) {
  const auto [outer, axis, inner] = plan.split;
  Array<T> out = Array<T>::from_shape(plan.input_shape);
  const T* g = grad.data();
  T* o = out.data();
  for (std::size_t r = 0; r < outer; ++r)
    for (std::size_t k = 0; k < axis; ++k) {
      T* row = o + (r * axis + k) * inner;
      const T* source = g + r * inner;
      for (std::size_t i = 0; i < inner; ++i) row[i] = source[i] * scale;
    }
  return out;
}

template <class T>
bool is_nan(T value) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(value);
  else return false;
}

// The maximum of every slice and the index of its first occurrence; a NaN beats everything, as
// torch.max. Row by row along the reduced dim, so a non-last dim still reads contiguous memory.
template <class T>
void max_along(const Array<T>& x, const AxisSplit& split, T* values, std::int64_t* indices) {
  const auto [outer, axis, inner] = split;
  const T* in = x.data();
  for (std::size_t r = 0; r < outer; ++r) {
    T* best = values + r * inner;
    std::int64_t* where = indices + r * inner;
    std::copy(in + r * axis * inner, in + r * axis * inner + inner, best);
    std::fill(where, where + inner, 0);
    for (std::size_t k = 1; k < axis; ++k) {
      const T* row = in + (r * axis + k) * inner;
      for (std::size_t i = 0; i < inner; ++i) {
        // Branch-free, so the loop over a row vectorises.
        const bool take = row[i] > best[i] || (is_nan(row[i]) && !is_nan(best[i]));
        best[i] = take ? row[i] : best[i];
        where[i] = take ? static_cast<std::int64_t>(k) : where[i];
      }
    }
  }
}

}  // namespace

// ---- sum ----------------------------------------------------------------------------------------

namespace {

// d sum(x) = g copied to every summed element
struct SumBackward final : Node {
  explicit SumBackward(ReductionPlan plan) : plan(std::move(plan)) {}
  const char* name() const override { return plan.whole ? "SumBackward0" : "SumBackward1"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    return {visit_floating(grad.dtype(), "sum backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(spread_along(array<T>(grad), plan, T(1)));
    })};
  }
  ReductionPlan plan;
};

Tensor sum_by_plan(const Tensor& x, ReductionPlan plan) {
  // Counting a mask is the usual reason to sum bools: they sum to int64, as in PyTorch.
  if (x.dtype() == kBool || x.dtype() == kUInt8) return sum_by_plan(to_dtype(x, kInt64), std::move(plan));
  Tensor out = visit_dtype(x.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(sum_along(array<T>(x), plan));
  });
  if (any_requires_grad({&x})) record(out, std::make_shared<SumBackward>(std::move(plan)), {&x});
  return out;
}

}  // namespace

Tensor sum(const Tensor& x) { return sum_by_plan(x, plan_whole(x, "sum")); }

Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim) {
  return sum_by_plan(x, plan_along(x, dim, keepdim, "sum"));
}

// ---- mean ---------------------------------------------------------------------------------------

namespace {

// d mean(x) = g / n copied to every averaged element, n the number of them
struct MeanBackward final : Node {
  explicit MeanBackward(ReductionPlan plan) : plan(std::move(plan)) {}
  const char* name() const override { return plan.whole ? "MeanBackward0" : "MeanBackward1"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    return {visit_floating(grad.dtype(), "mean backward", [&](auto tag) {
      using T = decltype(tag);
      return make_tensor(spread_along(array<T>(grad), plan, T(1) / static_cast<T>(plan.split.axis)));
    })};
  }
  ReductionPlan plan;
};

Tensor mean_by_plan(const Tensor& x, ReductionPlan plan, const char* op) {
  Tensor out = visit_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Array<T> total = sum_along(array<T>(x), plan);
    // Dividing by 0 for an empty dim gives NaN, as PyTorch's mean of nothing.
    const T count = static_cast<T>(plan.split.axis);
    for (T& v : total) v /= count;
    return make_tensor(std::move(total));
  });
  if (any_requires_grad({&x})) record(out, std::make_shared<MeanBackward>(std::move(plan)), {&x});
  return out;
}

}  // namespace

Tensor mean(const Tensor& x) { return mean_by_plan(x, plan_whole(x, "mean"), "mean"); }

Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim) {
  return mean_by_plan(x, plan_along(x, dim, keepdim, "mean"), "mean");
}

// ---- max ------------------------------------------------------------------------------------------

namespace {

// d max(x, dim) = g at the first maximal element of each slice, 0 elsewhere
struct MaxBackward final : Node {
  MaxBackward(ReductionPlan plan, std::vector<std::int64_t> indices)
      : plan(std::move(plan)), indices(std::move(indices)) {}
  const char* name() const override { return plan.whole ? "MaxBackward1" : "MaxBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    return {visit_floating(grad.dtype(), "max backward", [&](auto tag) {
      using T = decltype(tag);
      const auto [outer, axis, inner] = plan.split;
      Array<T> out = Array<T>::from_shape(plan.input_shape);
      out.fill(T(0));
      const T* g = array<T>(grad).data();
      T* o = out.data();
      for (std::size_t r = 0; r < outer; ++r)
        for (std::size_t i = 0; i < inner; ++i) {
          const std::size_t k = static_cast<std::size_t>(indices[r * inner + i]);
          o[(r * axis + k) * inner + i] = g[r * inner + i];
        }
      return make_tensor(std::move(out));
    })};
  }
  void release_saved() override { indices = {}; }
  ReductionPlan plan;
  std::vector<std::int64_t> indices;
};

}  // namespace

Tensor max(const Tensor& x, std::int64_t dim, bool keepdim) {
  ReductionPlan plan = plan_along(x, dim, keepdim, "max");
  check_not_empty(plan, dim, "max");
  std::vector<std::int64_t> indices(plan.split.outer * plan.split.inner);
  Tensor out = visit_dtype(x.dtype(), "max", [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape(plan.output_shape);
    max_along(array<T>(x), plan.split, values.data(), indices.data());
    return make_tensor(std::move(values));
  });
  if (any_requires_grad({&x})) record(out, std::make_shared<MaxBackward>(std::move(plan), std::move(indices)), {&x});
  return out;
}

Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) {
  const ReductionPlan plan = plan_along(x, dim, keepdim, "argmax");
  check_not_empty(plan, dim, "argmax");
  Array<std::int64_t> indices = Array<std::int64_t>::from_shape(plan.output_shape);
  visit_dtype(x.dtype(), "argmax", [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> values(plan.split.outer * plan.split.inner);
    max_along(array<T>(x), plan.split, values.data(), indices.data());
  });
  return make_tensor(std::move(indices));
}

// ---- logsumexp -----------------------------------------------------------------------------------

namespace {

// d logsumexp(x) = g exp(x - y) = g softmax(x), with y the saved output
struct LogsumexpBackward final : Node {
  LogsumexpBackward(ReductionPlan plan, Tensor x, Tensor output)
      : plan(std::move(plan)), x(std::move(x)), output(std::move(output)) {}
  const char* name() const override { return "LogsumexpBackward0"; }
  std::vector<Tensor> backward(const Tensor& grad) override {
    return {visit_floating(grad.dtype(), "logsumexp backward", [&](auto tag) {
      using T = decltype(tag);
      const auto [outer, axis, inner] = plan.split;
      Array<T> out = Array<T>::from_shape(plan.input_shape);
      const T* in = array<T>(x).data();
      const T* y = array<T>(output).data();
      const T* g = array<T>(grad).data();
      T* o = out.data();
      for (std::size_t r = 0; r < outer; ++r)
        for (std::size_t k = 0; k < axis; ++k)
          for (std::size_t i = 0; i < inner; ++i) {
            const std::size_t at = (r * axis + k) * inner + i;
            o[at] = g[r * inner + i] * std::exp(in[at] - y[r * inner + i]);
          }
      return make_tensor(std::move(out));
    })};
  }
  void release_saved() override { x = output = Tensor(); }
  ReductionPlan plan;
  Tensor x, output;  // output detached
};

// m + log(sum(exp(x - m))) per slice, m the slice's max (0 when m is infinite, so that a slice of
// -inf gives -inf and a +inf gives +inf instead of NaN from inf - inf). An empty slice gives -inf.
template <class T>
Array<T> logsumexp_along(const Array<T>& x, const ReductionPlan& plan) {
  const auto [outer, axis, inner] = plan.split;
  Array<T> out = Array<T>::from_shape(plan.output_shape);
  T* o = out.data();
  if (axis == 0) {
    std::fill(o, o + outer * inner, -std::numeric_limits<T>::infinity());
    return out;
  }
  std::vector<std::int64_t> unused(outer * inner);
  max_along(x, plan.split, o, unused.data());
  std::vector<T> shift(o, o + outer * inner), total(outer * inner, T(0));
  for (T& m : shift)
    if (std::isinf(m)) m = T(0);
  const T* in = x.data();
  for (std::size_t r = 0; r < outer; ++r)
    for (std::size_t k = 0; k < axis; ++k) {
      const T* row = in + (r * axis + k) * inner;
      for (std::size_t i = 0; i < inner; ++i) total[r * inner + i] += std::exp(row[i] - shift[r * inner + i]);
    }
  for (std::size_t j = 0; j < outer * inner; ++j) o[j] = std::log(total[j]) + shift[j];
  return out;
}

}  // namespace

Tensor logsumexp(const Tensor& x, std::int64_t dim, bool keepdim) {
  ReductionPlan plan = plan_along(x, dim, keepdim, "logsumexp");
  Tensor out = visit_floating(x.dtype(), "logsumexp", [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(logsumexp_along(array<T>(x), plan));
  });
  if (any_requires_grad({&x}))
    record(out, std::make_shared<LogsumexpBackward>(std::move(plan), x, out.detach()), {&x}, {&x, &out});
  return out;
}

}  // namespace xgrad
