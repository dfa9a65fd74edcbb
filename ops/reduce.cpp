#include <xgrad/ops/reduce.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/broadcast_impl.hpp>
#include <xgrad/ops/compare.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad {

namespace {

// Every reduction here walks the input as [outer, axis, inner] (see AxisSplit) and writes
// outer * inner results; keepdim only changes the result's shape, never its layout.
struct ReductionPlan {
  AxisSplit split;
  Shape input_shape, output_shape;
  std::size_t dim = 0;  // the reduced dim, unless whole
  bool whole = false;   // over every element (PyTorch names the node ...Backward0) or one dim (...Backward1)
};

ReductionPlan plan_along(const Tensor& x, std::int64_t dim, bool keepdim, const char* op) {
  check(x.defined(), op, ": input is an undefined tensor");
  ReductionPlan plan;
  plan.input_shape = x.shape();
  const std::size_t axis = normalize_dim(dim, plan.input_shape, op);
  plan.dim = axis;
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

// The result's shape with the reduced dim kept as size 1 (every dim, for a whole-tensor reduction):
// a result or gradient of that shape broadcasts against the input.
Shape kept_shape(const ReductionPlan& plan) {
  if (plan.whole) return Shape(plan.input_shape.size(), 1);
  Shape shape = plan.input_shape;
  if (!shape.empty()) shape[plan.dim] = 1;
  return shape;
}

// One value per reduced slice (a result or its gradient) in kept_shape, recorded: the gradient
// formulas broadcast it against the input instead of looping over [outer, axis, inner].
Tensor kept(const Tensor& per_slice, const ReductionPlan& plan) { return reshape(per_slice, kept_shape(plan)); }

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

// The gradient of a sum: g repeated along the reduced dim (a broadcast view, no copy), times scale.
Tensor spread(const Tensor& grad, const ReductionPlan& plan, double scale) {
  const Tensor spread = broadcast_to(kept(grad, plan), plan.input_shape);
  return scale == 1.0 ? spread : spread * scale;
}

template <class T>
bool is_nan(T value) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(value);
  else return false;
}

// Which extreme a max/min-style reduction looks for.
enum class Extreme { Largest, Smallest };

// The largest (or smallest) value of every slice and the index of its first occurrence; a NaN beats
// everything, as in torch.max and torch.min. Row by row along the reduced dim, so a non-last dim
// still reads contiguous memory.
template <Extreme extreme, class T>
void extremum_along(const Array<T>& x, const AxisSplit& split, T* values, std::int64_t* indices) {
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
        const bool better = extreme == Extreme::Largest ? row[i] > best[i] : row[i] < best[i];
        const bool take = better || (is_nan(row[i]) && !is_nan(best[i]));
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
  const char* formula() const override {
    return plan.whole ? "d sum(x) = g copied to every element of x" : "d sum(x, dim) = g copied along dim";
  }
  gradient_list backward(const Tensor& grad) override {
    return {spread(grad, plan, 1.0)};
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
  if (any_requires_grad({&x})) record(out, make_node<SumBackward>(std::move(plan)), {&x});
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
  const char* formula() const override {
    return plan.whole ? "d mean(x) = g / n copied to every element of x" : "d mean(x, dim) = g / n copied along dim";
  }
  gradient_list backward(const Tensor& grad) override {
    return {spread(grad, plan, 1.0 / static_cast<double>(plan.split.axis))};
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
  if (any_requires_grad({&x})) record(out, make_node<MeanBackward>(std::move(plan)), {&x});
  return out;
}

}  // namespace

Tensor mean(const Tensor& x) { return mean_by_plan(x, plan_whole(x, "mean"), "mean"); }

Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim) {
  return mean_by_plan(x, plan_along(x, dim, keepdim, "mean"), "mean");
}

// ---- logsumexp -----------------------------------------------------------------------------------

namespace {

// d logsumexp(x) = g exp(x - y) = g softmax(x), with y the saved output
struct LogsumexpBackward final : Node {
  LogsumexpBackward(ReductionPlan plan, const Tensor& x, const Tensor& output)
      : plan(std::move(plan)), saved_x(x, /*is_output=*/false), saved_output(output, /*is_output=*/true) {}
  const char* name() const override { return "LogsumexpBackward0"; }
  const char* formula() const override { return "d logsumexp(x) = g * softmax(x)"; }
  gradient_list backward(const Tensor& grad) override {
    const Tensor x = saved_x.unpack(*this), output = saved_output.unpack(*this);
    // Under create_graph the output comes back with this node as its grad_fn, so that its own
    // derivative (softmax) is recorded.
    return {kept(grad, plan) * exp(x - kept(output, plan))};
  }
  void release_saved() override {
    saved_x.reset();
    saved_output.reset();
  }
  ReductionPlan plan;
  SavedTensor saved_x, saved_output;
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
  extremum_along<Extreme::Largest>(x, plan.split, o, unused.data());
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
    record(out, make_node<LogsumexpBackward>(std::move(plan), x, out), {&x});
  return out;
}

// ---- max, min, argmax, argmin ----------------------------------------------------------------------

namespace {

const char* extreme_op(Extreme extreme) { return extreme == Extreme::Largest ? "max" : "min"; }

// The extreme values and their int64 indices of each slice of the plan, in arrays of the output shape.
template <class T>
Array<T> extremum_by_plan(const Tensor& x, const ReductionPlan& plan, Extreme extreme, std::int64_t* indices) {
  Array<T> values = Array<T>::from_shape(plan.output_shape);
  if (extreme == Extreme::Largest) extremum_along<Extreme::Largest>(array<T>(x), plan.split, values.data(), indices);
  else extremum_along<Extreme::Smallest>(array<T>(x), plan.split, values.data(), indices);
  return values;
}

// Whether an element equals a whole-tensor max or min `result` (is NaN, when the result is).
template <class T>
auto equals_result(double result) {
  const T value = static_cast<T>(result);
  const bool nan_result = std::isnan(value);
  return [=](T v) { return nan_result ? std::isnan(v) : v == value; };
}

// d max(x) = g shared evenly by the k elements equal to the result (the NaNs when it is NaN):
// g / k at each, 0 elsewhere
struct EvenlyDistributedBackward final : Node {
  EvenlyDistributedBackward(Extreme extreme, const Tensor& x, double result)
      : extreme(extreme), saved_x(x, /*is_output=*/false), result(result) {}
  const char* name() const override { return extreme == Extreme::Largest ? "MaxBackward1" : "MinBackward1"; }
  const char* formula() const override {
    return extreme == Extreme::Largest ? "d max(x) = g / k at each of the k elements equal to the max, 0 elsewhere"
                                       : "d min(x) = g / k at each of the k elements equal to the min, 0 elsewhere";
  }
  gradient_list backward(const Tensor& grad) override {
    // Which elements share the gradient is a constant; g / k is recorded.
    const Tensor x = saved_x.unpack(*this);
    std::int64_t ties = 0;
    const Tensor mask = visit_floating(x.dtype(), extreme_op(extreme), [&](auto tag) {
      using T = decltype(tag);
      const Array<T>& in = array<T>(x);
      Array<bool> out = Array<bool>::from_shape(in.shape());
      std::transform(in.data(), in.data() + in.size(), out.data(), equals_result<T>(result));
      ties = std::count(out.data(), out.data() + out.size(), true);
      return make_tensor(std::move(out));
    });
    return {where(mask, grad / static_cast<double>(ties), 0.0)};
  }
  void release_saved() override { saved_x.reset(); }
  Extreme extreme;
  SavedTensor saved_x;
  double result;  // exact for float32 and float64 values
};

Tensor whole_extremum(const Tensor& x, Extreme extreme) {
  const char* op = extreme_op(extreme);
  const ReductionPlan plan = plan_whole(x, op);
  if (plan.split.axis == 0)
    throw Error(concat(op, ": the tensor is empty (shape ", shape_str(plan.input_shape),
                       "), so it has no ", extreme == Extreme::Largest ? "largest" : "smallest",
                       " element; give a dim"));
  std::int64_t unused = 0;
  Tensor out = visit_any_dtype(x.dtype(), [&](auto tag) {
    return make_tensor(extremum_by_plan<decltype(tag)>(x, plan, extreme, &unused));
  });
  if (any_requires_grad({&x})) {
    const double result = visit_floating(x.dtype(), op, [&](auto tag) { return double(*array<decltype(tag)>(out).data()); });
    record(out, make_node<EvenlyDistributedBackward>(extreme, x, result), {&x});
  }
  return out;
}

// d max(x, dim) = g at the index of each slice's maximum, 0 elsewhere
struct IndexedExtremumBackward final : Node {
  IndexedExtremumBackward(Extreme extreme, ReductionPlan plan, std::vector<std::int64_t> indices)
      : extreme(extreme), plan(std::move(plan)), indices(std::move(indices)) {}
  const char* name() const override { return extreme == Extreme::Largest ? "MaxBackward0" : "MinBackward0"; }
  const char* formula() const override {
    return extreme == Extreme::Largest ? "d max(x, dim) = g at each slice's max, 0 elsewhere"
                                       : "d min(x, dim) = g at each slice's min, 0 elsewhere";
  }
  gradient_list backward(const Tensor& grad) override {
    return {where(selected(), kept(grad, plan), 0.0)};
  }
  // The positions the forward picked, as a mask of the input's shape: one per slice.
  Tensor selected() const {
    const auto [outer, axis, inner] = plan.split;
    Array<bool> mask = Array<bool>::from_shape(plan.input_shape);
    mask.fill(false);
    for (std::size_t r = 0; r < outer; ++r)
      for (std::size_t i = 0; i < inner; ++i) {
        const auto k = static_cast<std::size_t>(indices[r * inner + i]);
        mask.data()[(r * axis + k) * inner + i] = true;
      }
    return make_tensor(std::move(mask));
  }
  void release_saved() override { indices = {}; }
  Extreme extreme;
  ReductionPlan plan;
  std::vector<std::int64_t> indices;
};

std::tuple<Tensor, Tensor> extremum_along_dim(const Tensor& x, std::int64_t dim, bool keepdim, Extreme extreme) {
  const char* op = extreme_op(extreme);
  ReductionPlan plan = plan_along(x, dim, keepdim, op);
  check_not_empty(plan, dim, op);
  Array<std::int64_t> indices = Array<std::int64_t>::from_shape(plan.output_shape);
  Tensor values = visit_any_dtype(x.dtype(), [&](auto tag) {
    return make_tensor(extremum_by_plan<decltype(tag)>(x, plan, extreme, indices.data()));
  });
  if (any_requires_grad({&x})) {
    std::vector<std::int64_t> saved(indices.begin(), indices.end());
    record(values, make_node<IndexedExtremumBackward>(extreme, std::move(plan), std::move(saved)), {&x});
  }
  return {values, make_tensor(std::move(indices))};
}

Tensor arg_extremum(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim, Extreme extreme) {
  const char* op = extreme == Extreme::Largest ? "argmax" : "argmin";
  ReductionPlan plan = dim ? plan_along(x, *dim, keepdim, op) : plan_whole(x, op);
  if (!dim) {
    if (plan.split.axis == 0)
      throw Error(concat(op, ": the tensor is empty (shape ", shape_str(plan.input_shape), "); give a dim"));
    // The index into the flattened tensor; keepdim keeps every dim with size 1, as PyTorch.
    if (keepdim) plan.output_shape = Shape(plan.input_shape.size(), 1);
  }
  check_not_empty(plan, dim.value_or(0), op);
  Array<std::int64_t> indices = Array<std::int64_t>::from_shape(plan.output_shape);
  visit_any_dtype(x.dtype(), [&](auto tag) { extremum_by_plan<decltype(tag)>(x, plan, extreme, indices.data()); });
  return make_tensor(std::move(indices));
}

}  // namespace

Tensor max(const Tensor& x) { return whole_extremum(x, Extreme::Largest); }
Tensor min(const Tensor& x) { return whole_extremum(x, Extreme::Smallest); }

std::tuple<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extremum_along_dim(x, dim, keepdim, Extreme::Largest);
}
std::tuple<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extremum_along_dim(x, dim, keepdim, Extreme::Smallest);
}

Tensor argmax(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extremum(x, dim, keepdim, Extreme::Largest);
}
Tensor argmin(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extremum(x, dim, keepdim, Extreme::Smallest);
}

// ---- var, std --------------------------------------------------------------------------------------

namespace {

// Bessel's correction: divide by n - 1 instead of n. A divisor of 0 (one element, unbiased) gives
// 0 / 0 = NaN, as in PyTorch.
double variance_divisor(const ReductionPlan& plan, bool unbiased) {
  return std::max(0.0, static_cast<double>(plan.split.axis) - (unbiased ? 1.0 : 0.0));
}

// fold(running, x) over every slice, in double, starting from `initial`; one result per slice,
// laid out as the output ([outer, inner]). Row by row, so a non-last dim reads contiguous memory.
template <class T, class Fold>
std::vector<double> fold_along(const Array<T>& x, const AxisSplit& split, double initial, Fold fold) {
  const auto [outer, axis, inner] = split;
  std::vector<double> results(outer * inner, initial);
  const T* in = x.data();
  for (std::size_t r = 0; r < outer; ++r)
    for (std::size_t k = 0; k < axis; ++k) {
      const T* row = in + (r * axis + k) * inner;
      double* target = results.data() + r * inner;
      for (std::size_t i = 0; i < inner; ++i) target[i] = fold(target[i], static_cast<double>(row[i]));
    }
  return results;
}

template <class T>
std::vector<double> means_along(const Array<T>& x, const AxisSplit& split) {
  std::vector<double> means = fold_along(x, split, 0.0, [](double total, double v) { return total + v; });
  for (double& m : means) m /= static_cast<double>(split.axis);
  return means;
}

// sum((x - mean)^2) / divisor per slice: two passes (mean first), which is accurate where the
// one-pass sum(x^2) - n mean^2 cancels catastrophically.
template <class T>
Array<T> variance_along(const Array<T>& x, const ReductionPlan& plan, double divisor) {
  const auto [outer, axis, inner] = plan.split;
  const std::vector<double> means = means_along(x, plan.split);
  std::vector<double> squares(outer * inner, 0.0);
  const T* in = x.data();
  for (std::size_t r = 0; r < outer; ++r)
    for (std::size_t k = 0; k < axis; ++k) {
      const T* row = in + (r * axis + k) * inner;
      const double* mean = means.data() + r * inner;
      double* target = squares.data() + r * inner;
      for (std::size_t i = 0; i < inner; ++i) {
        const double deviation = row[i] - mean[i];
        target[i] += deviation * deviation;
      }
    }
  Array<T> out = Array<T>::from_shape(plan.output_shape);
  std::transform(squares.begin(), squares.end(), out.data(), [divisor](double s) { return static_cast<T>(s / divisor); });
  return out;
}

// d var(x) = g 2 (x - mean) / divisor;  d std(x) = g (x - mean) / (divisor std), 0 where std = 0
struct VarianceBackward final : Node {
  VarianceBackward(bool is_std, ReductionPlan plan, double divisor, const Tensor& x, const Tensor& output)
      : is_std(is_std), plan(std::move(plan)), divisor(divisor), saved_x(x, /*is_output=*/false),
        saved_output(output, /*is_output=*/true) {}
  const char* name() const override { return is_std ? "StdBackward0" : "VarBackward0"; }
  const char* formula() const override {
    return is_std ? "d std(x) = g * (x - mean(x)) / ((n - correction) * y), 0 where y = 0"
                  : "d var(x) = g * 2 (x - mean(x)) / (n - correction)";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor x = saved_x.unpack(*this), output = saved_output.unpack(*this);
    return {gradient(grad, x, output)};
  }
  // The mean recomputed from x, and the std the output, which under create_graph comes back with
  // this node as its grad_fn, so that their derivatives are recorded.
  Tensor gradient(const Tensor& grad, const Tensor& x, const Tensor& output) const;
  void release_saved() override {
    saved_x.reset();
    saved_output.reset();
  }
  bool is_std;
  ReductionPlan plan;
  double divisor;
  SavedTensor saved_x, saved_output;
};

Tensor variance_with_divisor(const Tensor& x, ReductionPlan plan, double divisor, bool is_std) {
  const char* op = is_std ? "std" : "var";
  Tensor out = visit_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Array<T> variance = variance_along(array<T>(x), plan, divisor);
    if (is_std)
      for (T& v : variance) v = std::sqrt(v);
    return make_tensor(std::move(variance));
  });
  if (any_requires_grad({&x}))
    record(out, make_node<VarianceBackward>(is_std, std::move(plan), divisor, x, out), {&x});
  return out;
}

Tensor variance_by_plan(const Tensor& x, ReductionPlan plan, bool unbiased, bool is_std) {
  const double divisor = variance_divisor(plan, unbiased);
  return variance_with_divisor(x, std::move(plan), divisor, is_std);
}

Tensor VarianceBackward::gradient(const Tensor& grad, const Tensor& x, const Tensor& output) const {
  const Tensor deviation = x - kept(mean_by_plan(x, plan, "mean"), plan);
  if (!is_std) return kept(grad * 2.0 / divisor, plan) * deviation;
  // g / (divisor std), with 0 (and no 0 / 0 in the second derivative) where std = 0.
  const Tensor y = kept(output, plan);
  const Tensor zero = y == 0.0;
  return where(zero, 0.0, kept(grad, plan) / (where(zero, 1.0, y) * divisor)) * deviation;
}

}  // namespace

Tensor var(const Tensor& x, bool unbiased) { return variance_by_plan(x, plan_whole(x, "var"), unbiased, false); }
Tensor var(const Tensor& x, std::int64_t dim, bool unbiased, bool keepdim) {
  return variance_by_plan(x, plan_along(x, dim, keepdim, "var"), unbiased, false);
}
Tensor std(const Tensor& x, bool unbiased) { return variance_by_plan(x, plan_whole(x, "std"), unbiased, true); }
Tensor std(const Tensor& x, std::int64_t dim, bool unbiased, bool keepdim) {
  return variance_by_plan(x, plan_along(x, dim, keepdim, "std"), unbiased, true);
}

// ---- norm ------------------------------------------------------------------------------------------

namespace {

// Whether |v| is the norm (both NaN counting as equal): the elements that p = +-inf picks.
template <class T>
bool attains(T v, T norm) {
  return std::abs(v) == norm || (std::isnan(v) && std::isnan(norm));
}

// The p-norm of every slice, accumulated in double. p = +-inf takes the largest / smallest |x|,
// with a NaN winning either way; p = 0 counts the non-zero elements (NaN is non-zero).
template <class T>
Array<T> norm_along(const Array<T>& x, const ReductionPlan& plan, double p) {
  const AxisSplit& split = plan.split;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> totals;
  if (p == inf) {
    totals = fold_along(x, split, 0.0, [](double top, double v) {
      return std::isnan(top) || std::abs(v) <= top ? top : std::abs(v);  // a NaN |v| is not <= top
    });
  } else if (p == -inf) {
    totals = fold_along(x, split, inf, [](double bottom, double v) {
      return std::isnan(bottom) || std::abs(v) >= bottom ? bottom : std::abs(v);
    });
  } else if (p == 0.0) {
    totals = fold_along(x, split, 0.0, [](double count, double v) { return count + (v != 0.0 ? 1.0 : 0.0); });
  } else if (p == 1.0) {
    totals = fold_along(x, split, 0.0, [](double total, double v) { return total + std::abs(v); });
  } else if (p == 2.0) {
    totals = fold_along(x, split, 0.0, [](double total, double v) { return total + v * v; });
    for (double& total : totals) total = std::sqrt(total);
  } else {
    totals = fold_along(x, split, 0.0, [p](double total, double v) { return total + std::pow(std::abs(v), p); });
    for (double& total : totals) total = std::pow(total, 1.0 / p);
  }
  Array<T> out = Array<T>::from_shape(plan.output_shape);
  std::transform(totals.begin(), totals.end(), out.data(), [](double total) { return static_cast<T>(total); });
  return out;
}

// d norm(x) / dx (see the table in ops/reduce.hpp)
struct NormBackward final : Node {
  NormBackward(ReductionPlan plan, double p, const Tensor& x, const Tensor& output)
      : plan(std::move(plan)), p(p), saved_x(x, /*is_output=*/false), saved_output(output, /*is_output=*/true) {}
  const char* name() const override { return "NormBackward1"; }
  const char* formula() const override {
    if (p == 2) return "d norm(x) = g * x / y, 0 where y = 0";
    if (p == 1) return "d norm(x, 1) = g * sign(x)";
    if (std::isinf(p)) return "d norm(x, inf) = g * sign(x) / k at the k elements with |x| = y, 0 elsewhere";
    return "d norm(x, p) = g * sign(x) |x|^(p-1) / y^(p-1)";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor x = saved_x.unpack(*this), output = saved_output.unpack(*this);
    return {gradient(grad, x, output)};
  }
  // The table in ops/reduce.hpp in recorded ops, the norm being the output, which under
  // create_graph comes back with this node as its grad_fn.
  Tensor gradient(const Tensor& grad, const Tensor& x, const Tensor& output) const;
  // p = +-inf: which elements attain the norm (a constant mask) and how many per slice (kept shape).
  std::pair<Tensor, Tensor> attaining(const Tensor& x, const Tensor& output) const;
  void release_saved() override {
    saved_x.reset();
    saved_output.reset();
  }
  ReductionPlan plan;
  double p;
  SavedTensor saved_x, saved_output;
};

Tensor norm_by_plan(const Tensor& x, ReductionPlan plan, const Scalar& p) {
  const double power = p.toDouble();
  if (std::isnan(power)) throw Error("norm: p must be a number, got nan");
  Tensor out = visit_floating(x.dtype(), "norm", [&](auto tag) {
    using T = decltype(tag);
    return make_tensor(norm_along(array<T>(x), plan, power));
  });
  if (any_requires_grad({&x}))
    record(out, make_node<NormBackward>(std::move(plan), power, x, out), {&x});
  return out;
}

std::pair<Tensor, Tensor> NormBackward::attaining(const Tensor& x, const Tensor& output) const {
  return visit_floating(x.dtype(), "norm backward", [&](auto tag) {
    using T = decltype(tag);
    const auto [outer, axis, inner] = plan.split;
    const T* in = array<T>(x).data();
    const T* n = array<T>(output).data();
    Array<bool> mask = Array<bool>::from_shape(plan.input_shape);
    Array<T> count = Array<T>::from_shape(plan.output_shape);
    count.fill(T(0));
    for (std::size_t r = 0; r < outer; ++r)
      for (std::size_t k = 0; k < axis; ++k)
        for (std::size_t i = 0; i < inner; ++i) {
          const std::size_t at = (r * axis + k) * inner + i, slice = r * inner + i;
          mask.data()[at] = attains(in[at], n[slice]);
          count.data()[slice] += mask.data()[at] ? T(1) : T(0);
        }
    return std::pair{make_tensor(std::move(mask)), kept(make_tensor(std::move(count)), plan)};
  });
}

// Where the gradient is 0 to avoid 0 / 0 (a zero norm, a zero element for p < 1), the masked value
// is replaced before the division too, so that the second derivative has no 0 / 0 either.
Tensor NormBackward::gradient(const Tensor& grad, const Tensor& x, const Tensor& output) const {
  if (p == 0.0) return zeros(x.sizes(), x.dtype());  // a constant: nothing to record
  const Tensor g = kept(grad, plan);
  if (std::isinf(p)) {
    const auto [mask, count] = attaining(x, output);
    return where(mask, sgn(x) * g / count, 0.0);
  }
  if (p == 1.0) return sgn(x) * g;
  const Tensor n = kept(output, plan);
  const Tensor n_is_zero = n == 0.0;
  if (p == 2.0) return x * where(n_is_zero, 0.0, g / where(n_is_zero, 1.0, n));
  if (p < 1.0) {
    const Tensor x_is_zero = x == 0.0;
    const Tensor scaled = where(x_is_zero, 0.0, sgn(x) * pow(where(x_is_zero, 1.0, abs(x)), p - 1.0));
    return scaled * (g * pow(n, 1.0 - p));
  }
  const Tensor scale = where(n_is_zero, 0.0, g / pow(where(n_is_zero, 1.0, n), p - 1.0));
  if (p < 2.0) return sgn(x) * pow(abs(x), p - 1.0) * scale;
  return x * pow(abs(x), p - 2.0) * scale;
}

}  // namespace

Tensor norm(const Tensor& x, const Scalar& p) { return norm_by_plan(x, plan_whole(x, "norm"), p); }
Tensor norm(const Tensor& x, const Scalar& p, std::int64_t dim, bool keepdim) {
  return norm_by_plan(x, plan_along(x, dim, keepdim, "norm"), p);
}

// ---- all, any --------------------------------------------------------------------------------------

namespace {

template <class T>
Tensor zero_dim(T value) {
  Array<T> out = Array<T>::from_shape(std::vector<std::size_t>{});
  *out.data() = value;
  return make_tensor(std::move(out));
}

Tensor truth(const Tensor& x, bool every, const char* op) {
  check(x.defined(), op, ": input is an undefined tensor");
  const bool result = visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const Array<T>& values = array<T>(x);
    const auto non_zero = [](T v) { return v != T(0); };  // NaN != 0
    return every ? std::all_of(values.begin(), values.end(), non_zero)
                 : std::any_of(values.begin(), values.end(), non_zero);
  });
  if (x.dtype() == kUInt8) return zero_dim(static_cast<std::uint8_t>(result));
  return zero_dim(result);
}

}  // namespace

Tensor all(const Tensor& x) { return truth(x, true, "all"); }
Tensor any(const Tensor& x) { return truth(x, false, "any"); }

// ---- Tensor methods --------------------------------------------------------------------------------

Tensor Tensor::var(bool unbiased) const { return xgrad::var(*this, unbiased); }
Tensor Tensor::var_dim(std::int64_t dim, bool unbiased, bool keepdim) const {
  return xgrad::var(*this, dim, unbiased, keepdim);
}
Tensor Tensor::std(bool unbiased) const { return xgrad::std(*this, unbiased); }
Tensor Tensor::std_dim(std::int64_t dim, bool unbiased, bool keepdim) const {
  return xgrad::std(*this, dim, unbiased, keepdim);
}
Tensor Tensor::max() const { return xgrad::max(*this); }
Tensor Tensor::min() const { return xgrad::min(*this); }
std::tuple<Tensor, Tensor> Tensor::max(std::int64_t dim, bool keepdim) const { return xgrad::max(*this, dim, keepdim); }
std::tuple<Tensor, Tensor> Tensor::min(std::int64_t dim, bool keepdim) const { return xgrad::min(*this, dim, keepdim); }
Tensor Tensor::argmin(std::optional<std::int64_t> dim, bool keepdim) const { return xgrad::argmin(*this, dim, keepdim); }
Tensor Tensor::norm(const Scalar& p) const { return xgrad::norm(*this, p); }
Tensor Tensor::norm(const Scalar& p, std::int64_t dim, bool keepdim) const {
  return xgrad::norm(*this, p, dim, keepdim);
}
Tensor Tensor::all() const { return xgrad::all(*this); }
Tensor Tensor::any() const { return xgrad::any(*this); }

}  // namespace xgrad
