#pragma once
// Tensor comparisons for GoogleTest that say which element differs and by how much.
#include <gtest/gtest.h>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace xgrad::testing {

// Elementwise |actual - expected| <= atol + rtol * |expected|; NaN matches NaN and an infinity
// matches the same infinity. Shapes must be equal.
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol, double atol);

// The fixture tolerance: 1e-9 relative in float64; in float32 2e-5 relative to the largest
// magnitude of the expected tensor.
::testing::AssertionResult matches_golden(const Tensor& actual, const Tensor& expected);

// gradcheck(fn, inputs) as a GoogleTest assertion whose failure message is gradcheck's report.
::testing::AssertionResult passes_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                            const std::vector<Tensor>& inputs);

// gradgradcheck(fn, inputs): second derivatives (create_graph) against finite differences of the
// first, with random first- and second-order upstream gradients.
::testing::AssertionResult passes_gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                                const std::vector<Tensor>& inputs);

// The first-order gradients of <v, fn(inputs)>, for a random upstream v that itself requires grad,
// agree within 1e-12 (relative and absolute) whether backward runs with create_graph (the
// recorded, composite formulas) or without (the fast path). Float64 inputs.
::testing::AssertionResult create_graph_keeps_first_order(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                                          const std::vector<Tensor>& inputs);

// passes_gradgradcheck and create_graph_keeps_first_order: what every differentiable op must pass.
::testing::AssertionResult differentiates_twice(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                               const std::vector<Tensor>& inputs);

// A float64 leaf of standard normal values that requires grad: the usual gradcheck input.
Tensor leaf(const Shape& shape);

// The elements of a float64 tensor.
std::vector<double> values(const Tensor& tensor);

// What operator<< writes for value (a tensor, a module, sizes), as a string.
template <class T>
std::string printed(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// run() once with xgrad's thread count at 1 and once at 2 (the previous count restored), and its
// tensors (outputs, gradients) equal element for element: what every split over xgrad's threads
// must give, since each element is computed as on one thread.
::testing::AssertionResult same_on_one_and_two_threads(const std::function<std::vector<Tensor>()>& run);

// Expects fn() to throw xgrad::Error whose message contains every one of the fragments.
::testing::AssertionResult throws_error_containing(const std::function<void()>& fn,
                                                   const std::vector<std::string>& fragments);
inline ::testing::AssertionResult throws_error_containing(const std::function<void()>& fn,
                                                          std::initializer_list<std::string> fragments) {
  return throws_error_containing(fn, std::vector<std::string>(fragments));
}

}  // namespace xgrad::testing
