#include "compare.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace xgrad::testing {

namespace {

std::vector<double> as_doubles(const Tensor& tensor) {
  switch (tensor.dtype()) {
    case kFloat32: {
      auto values = tensor.to_vector<float>();
      return {values.begin(), values.end()};
    }
    case kFloat64: return tensor.to_vector<double>();
    case kInt64: {
      auto values = tensor.to_vector<std::int64_t>();
      return {values.begin(), values.end()};
    }
    case kBool: {
      std::vector<double> values(static_cast<std::size_t>(tensor.numel()));
      std::copy(tensor.data<bool>(), tensor.data<bool>() + tensor.numel(), values.begin());
      return values;
    }
    case kUInt8: {
      auto values = tensor.to_vector<std::uint8_t>();
      return {values.begin(), values.end()};
    }
  }
  return {};
}

bool same_value(double actual, double expected, double tolerance) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);
  if (std::isinf(expected) || std::isinf(actual)) return actual == expected;
  return std::abs(actual - expected) <= tolerance;
}

}  // namespace

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (!actual.defined()) return ::testing::AssertionFailure() << "actual tensor is undefined";
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " != expected "
                                         << shape_str(expected.shape());
  if (actual.dtype() != expected.dtype())
    return ::testing::AssertionFailure() << "dtype " << dtype_name(actual.dtype()) << " != expected "
                                         << dtype_name(expected.dtype());
  const std::vector<double> a = as_doubles(actual), e = as_doubles(expected);
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_value(a[i], e[i], atol + rtol * std::abs(e[i])))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs expected " << e[i]
                                           << " (difference " << std::abs(a[i] - e[i]) << ")";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult matches_golden(const Tensor& actual, const Tensor& expected) {
  if (expected.dtype() == kFloat64) return all_close(actual, expected, 1e-9, 1e-300);
  double largest = 0.0;
  for (double value : as_doubles(expected))
    if (std::isfinite(value)) largest = std::max(largest, std::abs(value));
  return all_close(actual, expected, 0.0, 2e-5 * std::max(largest, 1e-30));
}

::testing::AssertionResult passes_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                            const std::vector<Tensor>& inputs) {
  const GradcheckResult result = gradcheck(fn, inputs);
  if (result) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << result.report;
}

::testing::AssertionResult passes_gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                                const std::vector<Tensor>& inputs) {
  const GradcheckResult result = gradgradcheck(fn, inputs);
  if (result) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << result.report;
}

::testing::AssertionResult create_graph_keeps_first_order(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                                          const std::vector<Tensor>& inputs) {
  const Tensor out = fn(inputs);
  // An upstream that requires grad makes every node record its backward, linear ones included.
  const Tensor upstream = randn(out.sizes(), out.dtype()).requires_grad_();
  std::vector<Tensor> wrt;
  for (const Tensor& input : inputs)
    if (input.requires_grad()) wrt.push_back(input);
  const std::vector<Tensor> fast = autograd::grad({out}, wrt, {upstream}, true, false, true);
  const std::vector<Tensor> recorded = autograd::grad({out}, wrt, {upstream}, true, true, true);
  for (std::size_t i = 0; i < wrt.size(); ++i) {
    if (fast[i].defined() != recorded[i].defined())
      return ::testing::AssertionFailure() << "input " << i << ": the gradient is defined in only one of the passes";
    if (!fast[i].defined()) continue;
    ::testing::AssertionResult same = all_close(recorded[i].detach(), fast[i], 1e-12, 1e-12);
    if (!same) return same << " (gradient of input " << i << ", create_graph against the fast path)";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult differentiates_twice(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                               const std::vector<Tensor>& inputs) {
  ::testing::AssertionResult second_order = passes_gradgradcheck(fn, inputs);
  if (!second_order) return second_order;
  return create_graph_keeps_first_order(fn, inputs);
}

Tensor leaf(const Shape& shape) { return randn(shape, kFloat64).requires_grad_(); }

std::vector<double> values(const Tensor& tensor) { return tensor.to_vector<double>(); }

::testing::AssertionResult throws_error_containing(const std::function<void()>& fn,
                                                   const std::vector<std::string>& fragments) {
  try {
    fn();
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const std::string& fragment : fragments)
      if (message.find(fragment) == std::string::npos)
        return ::testing::AssertionFailure() << "message \"" << message << "\" lacks \"" << fragment << "\"";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& other) {
    return ::testing::AssertionFailure() << "threw a non-xgrad exception: " << other.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

::testing::AssertionResult same_on_one_and_two_threads(const std::function<std::vector<Tensor>()>& run) {
  const int previous = get_num_threads();
  std::vector<Tensor> results[2];
  try {
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      results[threads - 1] = run();
    }
  } catch (...) {
    set_num_threads(previous);
    throw;
  }
  set_num_threads(previous);
  if (results[0].size() != results[1].size())
    return ::testing::AssertionFailure() << results[0].size() << " tensors on one thread, " << results[1].size()
                                         << " on two";
  for (std::size_t i = 0; i < results[0].size(); ++i)
    if (!equal(results[0][i], results[1][i]))
      return ::testing::AssertionFailure() << "tensor " << i << " differs between one thread and two"
                                           << all_close(results[1][i], results[0][i], 0.0, 0.0).message();
  return ::testing::AssertionSuccess();
}

}  // namespace xgrad::testing
