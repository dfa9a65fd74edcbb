#include <xgrad/core/gradcheck.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include <xgrad/core/autograd.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad {

namespace {


// Its own generator, so a gradcheck does not shift the user's random stream.
Tensor random_upstream(const Shape& shape, std::uint64_t seed = 20240613) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> values(numel_of(shape));
  for (double& v : values) v = normal(engine);
  return from_buffer(values.data(), shape);
}

// <upstream, fn(inputs)> without recording, in double.
double weighted_output(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                       const std::vector<Tensor>& inputs, const Tensor& upstream) {
  NoGradGuard no_grad;
  const Tensor out = fn(inputs);
  const double* values = out.data<double>();
  const double* weights = upstream.data<double>();
  double total = 0.0;
  for (std::int64_t i = 0; i < out.numel(); ++i) total += values[i] * weights[i];
  return total;
}

std::string index_str(std::size_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (std::size_t axis = shape.size(); axis-- > 0;) {
    index[axis] = flat % shape[axis];
    flat /= shape[axis];
  }
  return shape_str(index);
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double eps, double atol, double rtol) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    check(inputs[i].defined(), "gradcheck: input ", i, " is undefined");
    check(!inputs[i].requires_grad() || inputs[i].dtype() == kFloat64, "gradcheck: input ", i,
          " requires grad but has dtype ", dtype_name(inputs[i].dtype()), "; finite differences need float64");
  }
  check(eps > 0, "gradcheck: eps must be positive, got ", eps);

  // Analytic: one backward with a random upstream gradient; the inputs' own grads are put back after.
  const Tensor out = fn(inputs);
  check(out.defined() && out.dtype() == kFloat64, "gradcheck: fn must return a float64 tensor, got ",
        out.defined() ? dtype_name(out.dtype()) : "an undefined tensor");
  const Tensor upstream = random_upstream(out.shape());
  std::vector<Tensor> saved_grads, analytic;
  for (const Tensor& input : inputs) {
    saved_grads.push_back(input.grad());
    input.impl()->grad = Tensor();
  }
  // The graph is kept, as PyTorch's gradcheck keeps it: fn's output may lead through a node that
  // outlives the call (a node's own backward evaluated under grad mode reaches that node through
  // its unpacked saved output), and freeing it would break the next evaluation.
  if (out.requires_grad()) out.backward(upstream, /*retain_graph=*/true);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    analytic.push_back(inputs[i].grad());
    inputs[i].impl()->grad = saved_grads[i];
  }
  // The same gradients from each node's recorded formula (backward under create_graph), where the
  // call above ran the fused loops that some nodes have: both are checked against the numbers.
  std::vector<Tensor> recorded(inputs.size());
  std::vector<Tensor> wrt;
  for (const Tensor& input : inputs)
    if (input.requires_grad()) wrt.push_back(input);
  if (out.requires_grad() && !wrt.empty()) {
    const std::vector<Tensor> found = autograd::grad({out}, wrt, {upstream}, /*retain_graph=*/true,
                                                     /*create_graph=*/true, /*allow_unused=*/true);
    std::size_t k = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].requires_grad()) continue;
      const Tensor& gradient = found[k++];
      if (gradient.defined()) recorded[i] = gradient.detach();
    }
  }

  GradcheckResult result;
  result.passed = true;
  std::ostringstream worst;
  double worst_excess = -1.0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    Tensor input = inputs[i];
    // Perturbed in place where the input's elements live: through its strides, so a view or a
    // transposed input is checked as it is.
    double* storage = input.data_ptr<double>();
    const std::vector<std::int64_t> at = strided::positions({to_dims(input.shape()), to_dims(input.strides()), 0});
    const auto x = [&](std::int64_t j) -> double& { return storage[at[static_cast<std::size_t>(j)]]; };
    const double* grad = analytic[i].defined() ? analytic[i].data<double>() : nullptr;
    const double* recorded_grad = recorded[i].defined() ? recorded[i].data<double>() : nullptr;
    for (std::int64_t j = 0; j < input.numel(); ++j) {
      const double original = x(j);
      x(j) = original + eps;
      const double plus = weighted_output(fn, inputs, upstream);
      x(j) = original - eps;
      const double minus = weighted_output(fn, inputs, upstream);
      x(j) = original;
      const double numeric = (plus - minus) / (2 * eps);
      const double fused = grad ? grad[j] : 0.0, formula = recorded_grad ? recorded_grad[j] : 0.0;
      // The worse of the two paths is judged (NaN counting as worst).
      const bool formula_worse = !(std::abs(formula - numeric) <= std::abs(fused - numeric));
      const double exact = formula_worse ? formula : fused;
      const double error = std::abs(exact - numeric);
      const bool ok = error <= atol + rtol * std::abs(numeric);  // false for NaN, as it should be
      result.passed = result.passed && ok;
      result.max_abs_error = std::max(result.max_abs_error, std::isnan(error) ? INFINITY : error);
      const double excess = std::isnan(error) ? INFINITY : error - (atol + rtol * std::abs(numeric));
      if (excess > worst_excess) {
        worst_excess = excess;
        worst.str("");
        worst << "input " << i << " index " << index_str(j, input.shape()) << ": analytic " << exact;
        if (!(fused == formula)) worst << " (fused backward " << fused << ", recorded formula " << formula << ")";
        worst << ", numeric " << numeric << ", |difference| " << error;
      }
    }
  }
  result.report = std::string(result.passed ? "gradcheck passed" : "gradcheck FAILED") +
                  (worst_excess > -1.0 ? "; worst entry: " + worst.str() : "; no input requires grad");
  return result;
}

GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                              const std::vector<Tensor>& inputs, double eps, double atol, double rtol) {
  std::vector<std::size_t> differentiable;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad()) differentiable.push_back(i);
  check(!differentiable.empty(), "gradgradcheck: no input requires grad");
  Tensor first_upstream;
  GradcheckResult overall;
  overall.passed = true;
  overall.report = "gradgradcheck passed";
  for (std::size_t k : differentiable) {
    const auto gradient_of_input_k = [&](const std::vector<Tensor>& x) {
      AutoGradMode enable_grad(true);  // gradcheck evaluates fn under NoGradGuard
      const Tensor out = fn(x);
      if (!first_upstream.defined()) first_upstream = random_upstream(out.shape(), 20240614);
      std::vector<Tensor> wrt;
      for (std::size_t i : differentiable) wrt.push_back(x[i]);
      const std::size_t position = static_cast<std::size_t>(
          std::find(differentiable.begin(), differentiable.end(), k) - differentiable.begin());
      const Tensor grad = autograd::grad({out}, wrt, {first_upstream}, true, true, true)[position];
      return grad.defined() ? grad : zeros(x[k].sizes(), x[k].dtype());
    };
    GradcheckResult result = gradcheck(gradient_of_input_k, inputs, eps, atol, rtol);
    overall.max_abs_error = std::max(overall.max_abs_error, result.max_abs_error);
    if (!result.passed && overall.passed) {
      overall.passed = false;
      overall.report = concat("gradgradcheck FAILED for the gradient of input ", k, ": ", result.report);
    }
  }
  return overall;
}

}  // namespace xgrad
