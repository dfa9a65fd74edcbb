// matmul, transpose and linear: values against the textbook loops, gradients by finite differences,
// second derivatives (create_graph), and every bad input as an Error that names the shapes.
#include <gtest/gtest.h>

#include <vector>

#include "compare.hpp"
#include "create_graph_checks.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::expect_differentiable_twice;
using testing::Inputs;
using testing::passes_third_order_check;
using testing::throws_error_containing;

Tensor random_leaf(const Shape& shape, Dtype dtype = kFloat64) { return randn(shape, dtype).requires_grad_(); }

std::vector<double> as_doubles(const Tensor& t) {
  if (t.dtype() == kFloat64) return t.to_vector<double>();
  const std::vector<float> values = t.to_vector<float>();
  return {values.begin(), values.end()};
}

Tensor from_doubles(const std::vector<double>& values, const Shape& shape, Dtype dtype) {
  if (dtype == kFloat64) return from_buffer(values.data(), shape);
  const std::vector<float> narrowed(values.begin(), values.end());
  return from_buffer(narrowed.data(), shape);
}

// One row of the torch.matmul table: a 1-D a is one row (m = 1), a 1-D b one column (n = 1), and a
// "shared" operand is used by every batch entry.
struct ProductCase {
  Shape a, b, out;
  std::size_t batch;
  bool a_shared, b_shared;
};

const std::vector<ProductCase>& product_cases() {
  static const std::vector<ProductCase> cases = {
      {{2, 3}, {3, 4}, {2, 4}, 1, true, true},
      {{3}, {3, 4}, {4}, 1, true, true},
      {{2, 3}, {3}, {2}, 1, true, true},
      {{3}, {3}, {}, 1, true, true},
      {{5, 2, 3}, {5, 3, 4}, {5, 2, 4}, 5, false, false},
      {{5, 2, 3}, {3, 4}, {5, 2, 4}, 5, false, true},
      {{2, 3}, {5, 3, 4}, {5, 2, 4}, 5, true, false},
      {{3}, {5, 3, 4}, {5, 4}, 5, true, false},
      {{5, 2, 3}, {3}, {5, 2}, 5, false, true},
      {{2, 3, 2, 3}, {2, 3, 3, 4}, {2, 3, 2, 4}, 6, false, false},
      {{33, 65}, {65, 17}, {33, 17}, 1, true, true},
  };
  return cases;
}

// out[batch, i, j] = sum_p a[batch, i, p] * b[batch, p, j], one multiply-add at a time.
std::vector<double> naive_product(const ProductCase& c, const std::vector<double>& a, const std::vector<double>& b) {
  const std::size_t m = c.a.size() >= 2 ? c.a[c.a.size() - 2] : 1;
  const std::size_t k = c.a.back();
  const std::size_t n = c.b.size() >= 2 ? c.b.back() : 1;
  std::vector<double> out(c.batch * m * n, 0.0);
  for (std::size_t batch = 0; batch < c.batch; ++batch) {
    const double* a_entry = a.data() + (c.a_shared ? 0 : batch * m * k);
    const double* b_entry = b.data() + (c.b_shared ? 0 : batch * k * n);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j)
        for (std::size_t p = 0; p < k; ++p) out[(batch * m + i) * n + j] += a_entry[i * k + p] * b_entry[p * n + j];
  }
  return out;
}

TEST(Matmul, MatchesTripleLoopInEveryRankCombination) {
  manual_seed(11);
  for (Dtype dtype : {kFloat32, kFloat64}) {
    for (const ProductCase& c : product_cases()) {
      SCOPED_TRACE(shape_str(c.a) + " x " + shape_str(c.b) + " " + dtype_name(dtype));
      const Tensor a = randn(c.a, dtype), b = randn(c.b, dtype);
      const Tensor product = matmul(a, b);
      const Tensor expected = from_doubles(naive_product(c, as_doubles(a), as_doubles(b)), c.out, dtype);
      const double tolerance = dtype == kFloat64 ? 1e-12 : 1e-5;
      EXPECT_TRUE(all_close(product, expected, tolerance, tolerance));
    }
  }
}

TEST(Matmul, SmallExampleByHand) {
  const Tensor a = tensor({{1.0, 2.0}, {3.0, 4.0}}, kFloat64);
  const Tensor b = tensor({{5.0, 6.0}, {7.0, 8.0}}, kFloat64);
  EXPECT_EQ(matmul(a, b).to_vector<double>(), (std::vector<double>{19, 22, 43, 50}));
  const Tensor dot = matmul(tensor({1.0f, 2.0f, 3.0f}), tensor({4.0f, 5.0f, 6.0f}));
  EXPECT_EQ(dot.dim(), 0u);
  EXPECT_EQ(dot.item<float>(), 32.0f);
}

TEST(Matmul, LargeProductUsesTheSameValues) {
  // Past OpenBLAS's single-thread threshold (m n k > 262144), where it may split the work.
  manual_seed(12);
  const ProductCase c{{96, 80}, {80, 72}, {96, 72}, 1, true, true};
  const Tensor a = randn(c.a, kFloat64), b = randn(c.b, kFloat64);
  const Tensor expected = from_doubles(naive_product(c, as_doubles(a), as_doubles(b)), c.out, kFloat64);
  EXPECT_TRUE(all_close(matmul(a, b), expected, 1e-12, 1e-12));
}

TEST(Matmul, GradcheckInEveryRankCombination) {
  manual_seed(13);
  for (const ProductCase& c : product_cases()) {
    if (numel_of(c.a) > 200) continue;  // the big float32 case adds nothing to a Jacobian check
    SCOPED_TRACE(shape_str(c.a) + " x " + shape_str(c.b));
    const auto result = gradcheck([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
                                  {random_leaf(c.a), random_leaf(c.b)});
    EXPECT_TRUE(result.passed) << result.report;
  }
}

TEST(Matmul, GradcheckWithOneSideConstantAndWithAnOperandUsedTwice) {
  manual_seed(14);
  const Tensor constant = randn({4, 2}, kFloat64);
  auto only_a = gradcheck([&](const std::vector<Tensor>& in) { return matmul(in[0], constant); }, {random_leaf({3, 4})});
  EXPECT_TRUE(only_a.passed) << only_a.report;
  auto square = gradcheck([](const std::vector<Tensor>& in) { return matmul(in[0], in[0]); }, {random_leaf({3, 3})});
  EXPECT_TRUE(square.passed) << square.report;
}

TEST(Matmul, GradientsHaveTheRightValuesForAnAllOnesUpstream) {
  // dA = 1 B^T: every row of dA holds B's row sums; dB = A^T 1: every column holds A's column sums.
  const Tensor a = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, kFloat64).requires_grad_();
  const Tensor b = tensor({{1.0, -1.0, 2.0}, {0.5, 0.0, 3.0}}, kFloat64).requires_grad_();
  matmul(a, b).backward(ones({3, 3}, kFloat64));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{2, 3.5, 2, 3.5, 2, 3.5}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{9, 9, 9, 12, 12, 12}));
}

TEST(Matmul, EmptyInnerDimensionGivesZeros) {
  const Tensor a = zeros({2, 0}, kFloat64).requires_grad_();
  const Tensor b = zeros({0, 3}, kFloat64).requires_grad_();
  const Tensor c = matmul(a, b);
  EXPECT_EQ(c.to_vector<double>(), std::vector<double>(6, 0.0));
  c.backward(ones({2, 3}, kFloat64));
  EXPECT_EQ(a.grad().shape(), (Shape{2, 0}));
  EXPECT_EQ(b.grad().shape(), (Shape{0, 3}));
  EXPECT_EQ(matmul(zeros({0, 3}), zeros({3, 4})).shape(), (Shape{0, 4}));
}

TEST(Matmul, AnOperandBroadcastAgainstAnEmptyBatchGetsAZeroGradient) {
  // Its matrices feed no product, so nothing is accumulated into their gradient: it must start at
  // zero rather than uninitialised (found by fuzz/engine_program).
  const Tensor a = ones({3, 4}, kFloat64).requires_grad_();
  const Tensor batched_a = ones({1, 3, 4}, kFloat64).requires_grad_();
  const Tensor b = ones({0, 4, 2}, kFloat64).requires_grad_();
  for (int repeat = 0; repeat < 3; ++repeat) {
    const Tensor garbage = full({64, 64}, 7.0, kFloat64);  // freed memory that an unwritten gradient would show
    a.zero_grad();
    batched_a.zero_grad();
    ((matmul(a, b).sum() + matmul(batched_a, b).sum()) + a.sum() + batched_a.sum()).backward();
    EXPECT_TRUE(a.grad().equal(ones({3, 4}, kFloat64)));
    EXPECT_TRUE(batched_a.grad().equal(ones({1, 3, 4}, kFloat64)));
    EXPECT_EQ(b.grad().shape(), (Shape{0, 4, 2}));
  }
  const auto result =
      gradcheck([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]).sum() + in[0].pow(2).sum(); }, {a, b});
  EXPECT_TRUE(result.passed) << result.report;
}

TEST(Matmul, NoGraphUnderNoGradGuard) {
  const Tensor a = random_leaf({2, 2});
  NoGradGuard no_grad;
  EXPECT_FALSE(matmul(a, a).requires_grad());
}

TEST(Matmul, BadInputsNameTheShapesAndDtypes) {
  EXPECT_TRUE(throws_error_containing([] { matmul(zeros({2, 3}), zeros({4, 5})); },
                                      {"matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)"}));
  EXPECT_TRUE(throws_error_containing([] { matmul(zeros({3}), zeros({4})); }, {"matmul", "[3]", "[4]", "3 != 4"}));
  EXPECT_TRUE(throws_error_containing([] { matmul(zeros({2, 2, 3}), zeros({4, 3, 2})); },
                                      {"matmul", "[2, 2, 3]", "[4, 3, 2]", "batch"}));
  EXPECT_TRUE(throws_error_containing([] { matmul(full({}, 2.0), zeros({2})); }, {"matmul", "[]", "[2]"}));
  EXPECT_TRUE(throws_error_containing([] { matmul(zeros({2, 2}, kInt64), zeros({2, 2}, kInt64)); },
                                      {"matmul", "int64"}));
  EXPECT_TRUE(throws_error_containing([] { matmul(zeros({2, 2}), zeros({2, 2}, kFloat64)); },
                                      {"matmul", "float32", "float64"}));
  EXPECT_TRUE(throws_error_containing([] { matmul(Tensor(), zeros({2})); }, {"matmul", "undefined"}));
}

TEST(Matmul, EngineWorksAfterAnError) {
  const Tensor a = tensor({{1.0, 2.0}}, kFloat64).requires_grad_();
  EXPECT_THROW(matmul(a, zeros({3, 1}, kFloat64)), Error);
  matmul(a, tensor({{3.0}, {4.0}}, kFloat64)).backward(ones({1, 1}, kFloat64));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{3, 4}));
}

TEST(Transpose, SwapsTwoDimensions) {
  const Tensor a = tensor({{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
  const Tensor t = transpose(a, 0, 1);
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(transpose(a, -1, -2).to_vector<float>(), t.to_vector<float>());
  EXPECT_EQ(transpose(a, 1, 1).to_vector<float>(), a.to_vector<float>());
}

TEST(Transpose, OuterAndInnerDimensionsOfA4dTensor) {
  // out[i, l, k, j] = in[i, j, k, l] for a swap of dims 1 and 3
  const Shape shape{2, 3, 4, 5};
  const Tensor flat = arange(120, kFloat64);
  const Tensor in = from_buffer(flat.data<double>(), shape);
  const Tensor out = transpose(in, 1, -1);
  ASSERT_EQ(out.shape(), (Shape{2, 5, 4, 3}));
  const std::vector<double> x = in.to_vector<double>(), y = out.to_vector<double>();
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k)
        for (std::size_t l = 0; l < 5; ++l)
          ASSERT_EQ(y[((i * 5 + l) * 4 + k) * 3 + j], x[((i * 3 + j) * 4 + k) * 5 + l]);
}

TEST(Transpose, Gradcheck) {
  manual_seed(15);
  for (auto dims : std::vector<std::pair<int, int>>{{0, 1}, {0, 2}, {1, 2}, {-1, 0}, {1, 1}}) {
    SCOPED_TRACE(std::to_string(dims.first) + ", " + std::to_string(dims.second));
    const auto result = gradcheck(
        [&](const std::vector<Tensor>& in) { return transpose(in[0], dims.first, dims.second); },
        {random_leaf({2, 3, 4})});
    EXPECT_TRUE(result.passed) << result.report;
  }
}

TEST(Transpose, OfAProductGivesTheProductOfTransposes) {
  manual_seed(16);
  const Tensor a = randn({3, 4}, kFloat64), b = randn({4, 2}, kFloat64);
  EXPECT_TRUE(all_close(transpose(matmul(a, b), 0, 1), matmul(transpose(b, 0, 1), transpose(a, 0, 1)), 1e-12, 1e-12));
}

TEST(Transpose, DimOutOfRangeNamesDimAndShape) {
  EXPECT_TRUE(throws_error_containing([] { transpose(zeros({2, 3}), 0, 2); }, {"transpose", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([] { transpose(zeros({2, 3}), -3, 0); }, {"transpose", "dim -3", "[2, 3]"}));
}

// y = x W^T + b, the definition linear must agree with.
Tensor linear_by_hand(const Tensor& x, const Tensor& w, const Tensor& b) {
  const std::vector<double> xs = as_doubles(x), ws = as_doubles(w);
  const std::vector<double> bs = b.defined() ? as_doubles(b) : std::vector<double>();
  const std::size_t out = w.shape()[0], in = w.shape()[1], rows = x.numel() / in;
  std::vector<double> y(rows * out);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t o = 0; o < out; ++o) {
      double total = bs.empty() ? 0.0 : bs[o];
      for (std::size_t i = 0; i < in; ++i) total += xs[r * in + i] * ws[o * in + i];
      y[r * out + o] = total;
    }
  Shape shape = x.shape();
  shape.back() = out;
  return from_doubles(y, shape, x.dtype());
}

TEST(Linear, MatchesTheDefinitionWithAndWithoutBias) {
  manual_seed(17);
  for (Dtype dtype : {kFloat32, kFloat64}) {
    const Tensor w = randn({4, 3}, dtype), b = randn({4}, dtype);
    for (const Shape& x_shape : std::vector<Shape>{{5, 3}, {3}, {2, 5, 3}}) {
      SCOPED_TRACE(shape_str(x_shape) + " " + dtype_name(dtype));
      const Tensor x = randn(x_shape, dtype);
      EXPECT_TRUE(all_close(linear(x, w, b), linear_by_hand(x, w, b), 1e-5, 1e-5));
      EXPECT_TRUE(all_close(linear(x, w, Tensor()), linear_by_hand(x, w, Tensor()), 1e-5, 1e-5));
    }
  }
}

TEST(Linear, GradcheckWithBiasWithoutBiasAndForVectorAndBatchedInputs) {
  manual_seed(18);
  for (const Shape& x_shape : std::vector<Shape>{{5, 3}, {3}, {2, 4, 3}}) {
    SCOPED_TRACE(shape_str(x_shape));
    const auto with_bias = gradcheck([](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
                                     {random_leaf(x_shape), random_leaf({4, 3}), random_leaf({4})});
    EXPECT_TRUE(with_bias.passed) << with_bias.report;
    const auto without_bias = gradcheck([](const std::vector<Tensor>& in) { return linear(in[0], in[1], Tensor()); },
                                        {random_leaf(x_shape), random_leaf({4, 3})});
    EXPECT_TRUE(without_bias.passed) << without_bias.report;
  }
}

TEST(Linear, BiasGradientIsTheColumnSumOfTheUpstream) {
  const Tensor x = zeros({3, 2}, kFloat64);
  const Tensor w = zeros({2, 2}, kFloat64).requires_grad_();
  const Tensor b = zeros({2}, kFloat64).requires_grad_();
  linear(x, w, b).backward(tensor({{1.0, 10.0}, {2.0, 20.0}, {3.0, 30.0}}, kFloat64));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{6, 60}));
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{0, 0, 0, 0}));
}

TEST(Linear, BiasGradientOfWideLayersCoversWholeAndPartialColumnBlocks) {
  // 70 outputs = two full blocks of 32 columns and a partial one in the blocked column sum.
  manual_seed(12);
  const std::size_t rows = 5, outputs = 70;
  const Tensor upstream = randn({rows, outputs}, kFloat64);
  const Tensor b = zeros({outputs}, kFloat64).requires_grad_();
  linear(zeros({rows, 3}, kFloat64), zeros({outputs, 3}, kFloat64), b).backward(upstream);
  const std::vector<double> g = upstream.to_vector<double>(), db = b.grad().to_vector<double>();
  for (std::size_t column = 0; column < outputs; ++column) {
    double expected = 0.0;
    for (std::size_t row = 0; row < rows; ++row) expected += g[row * outputs + column];
    EXPECT_NEAR(db[column], expected, 1e-12) << "column " << column;
  }
}

TEST(Linear, AgreesWithMatmulOfTheTransposedWeightPlusBias) {
  // The fused op against its composite definition, values and all three gradients.
  manual_seed(19);
  const Tensor x1 = random_leaf({6, 3}), w1 = random_leaf({4, 3}), b1 = random_leaf({4});
  const Tensor x2 = x1.detach().requires_grad_(), w2 = w1.detach().requires_grad_(), b2 = b1.detach().requires_grad_();
  const Tensor fused = linear(x1, w1, b1);
  const Tensor composite = matmul(x2, transpose(w2, 0, 1)) + b2;
  EXPECT_TRUE(all_close(fused, composite, 1e-12, 1e-12));
  const Tensor upstream = randn({6, 4}, kFloat64);
  fused.backward(upstream);
  composite.backward(upstream);
  EXPECT_TRUE(all_close(x1.grad(), x2.grad(), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(w1.grad(), w2.grad(), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(b1.grad(), b2.grad(), 1e-12, 1e-12));
}

TEST(Matmul, GradcheckInsideAComposition) {
  // A two-layer network's shape of use: tanh between two products, a broadcast weight after.
  manual_seed(20);
  const Tensor scale = randn({1, 2}, kFloat64);
  const auto result = gradcheck(
      [&](const std::vector<Tensor>& in) { return matmul(tanh(matmul(in[0], in[1])), in[2]) * scale; },
      {random_leaf({5, 3}), random_leaf({3, 4}), random_leaf({4, 2})});
  EXPECT_TRUE(result.passed) << result.report;
}

// ---- Second derivatives (create_graph) ----------------------------------------------------------
// With create_graph each Backward computes its gradient with recorded matmuls, transposes and sums
// (tests/support/create_graph_checks.hpp). A product is linear in each operand, so what the second
// derivatives check is the mixed terms: d(dA)/dB and d(dB)/dA.

TEST(Matmul, DifferentiableTwiceInEveryRankCombination) {
  manual_seed(31);
  for (const ProductCase& c : product_cases()) {
    if (numel_of(c.a) > 200) continue;
    SCOPED_TRACE(shape_str(c.a) + " x " + shape_str(c.b));
    expect_differentiable_twice([](const Inputs& in) { return matmul(in[0], in[1]); },
                                {random_leaf(c.a), random_leaf(c.b)});
    expect_differentiable_twice([](const Inputs& in) { return matmul(in[0], in[1]); },
                                {random_leaf(c.a), randn(c.b, kFloat64)});
  }
}

TEST(Matmul, DifferentiableTwiceWithAnOperandUsedTwice) {
  // matmul(A, A): its Hessian is not zero, unlike a product of two independent operands.
  manual_seed(32);
  expect_differentiable_twice([](const Inputs& in) { return matmul(in[0], in[0]); }, {random_leaf({3, 3})});
  expect_differentiable_twice([](const Inputs& in) { return mm(in[0], t(in[0])); }, {random_leaf({3, 4})});
}

TEST(Transpose, DifferentiableTwice) {
  manual_seed(33);
  for (auto dims : std::vector<std::pair<int, int>>{{0, 1}, {0, 2}, {1, 2}, {-1, 0}, {1, 1}}) {
    SCOPED_TRACE(std::to_string(dims.first) + ", " + std::to_string(dims.second));
    expect_differentiable_twice([&](const Inputs& in) { return transpose(in[0], dims.first, dims.second); },
                                {random_leaf({2, 3, 4})});
  }
  expect_differentiable_twice([](const Inputs& in) { return t(in[0]); }, {random_leaf({3, 4})});
  // Transposes around a product, so the second derivative has mixed terms to get right.
  expect_differentiable_twice([](const Inputs& in) { return mm(t(in[0]), transpose(in[1], 1, 0)); },
                              {random_leaf({4, 3}), random_leaf({2, 4})});
}

TEST(Linear, DifferentiableTwiceWithAndWithoutBiasForVectorAndBatchedInputs) {
  manual_seed(34);
  for (const Shape& x_shape : std::vector<Shape>{{5, 3}, {3}, {2, 4, 3}}) {
    SCOPED_TRACE(shape_str(x_shape));
    expect_differentiable_twice([](const Inputs& in) { return linear(in[0], in[1], in[2]); },
                                {random_leaf(x_shape), random_leaf({4, 3}), random_leaf({4})});
    expect_differentiable_twice([](const Inputs& in) { return linear(in[0], in[1], Tensor()); },
                                {random_leaf(x_shape), random_leaf({4, 3})});
    expect_differentiable_twice([](const Inputs& in) { return linear(in[0], in[1], in[2]); },
                                {randn(x_shape, kFloat64), random_leaf({4, 3}), random_leaf({4})});
  }
}

TEST(Linear, ThirdDerivativesThroughMatmulTransposeAndLinear) {
  // Products of the same operands, so that derivatives up to the third are not all zero.
  manual_seed(36);
  const testing::FnOfInputs chain = [](const Inputs& in) {
    const Tensor hidden = linear(in[0], in[1], in[2]);
    return matmul(linear(hidden, transpose(in[1], 0, 1)), t(in[1]));
  };
  const Inputs inputs = {random_leaf({5, 3}), random_leaf({3, 3}), random_leaf({3})};
  for (std::size_t k = 0; k < inputs.size(); ++k)
    EXPECT_TRUE(passes_third_order_check(chain, inputs, k)) << "input " << k;
}

TEST(Linear, HessianVectorProductOfAQuadraticByHand) {
  // f(W) = sum(linear(x, W)^2) = ||x W^T||^2 has the Hessian-vector product 2 V x^T x.
  manual_seed(35);
  const Tensor x = randn({5, 3}, kFloat64);
  const Tensor w = random_leaf({4, 3});
  const Tensor v = randn({4, 3}, kFloat64);
  const Tensor y = linear(x, w);
  const Tensor dw = autograd::grad({y}, {w}, {y * 2.0}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  const Tensor hvp = autograd::grad({dw}, {w}, {v})[0];
  EXPECT_TRUE(all_close(hvp, matmul(v, matmul(transpose(x, 0, 1), x)) * 2.0, 1e-12, 1e-12));
}

TEST(Linear, BadInputsNameAllShapes) {
  EXPECT_TRUE(throws_error_containing([] { linear(zeros({2, 3}), zeros({4, 5}), zeros({4})); },
                                      {"linear", "input [2, 3]", "weight [4, 5]", "bias [4]"}));
  EXPECT_TRUE(throws_error_containing([] { linear(zeros({2, 3}), zeros({4, 3}), zeros({3})); },
                                      {"linear", "bias", "[4]", "input [2, 3]", "weight [4, 3]", "bias [3]"}));
  EXPECT_TRUE(throws_error_containing([] { linear(zeros({2, 3}), zeros({3}), Tensor()); },
                                      {"linear", "weight", "2-D", "input [2, 3]", "weight [3]", "bias undefined"}));
  EXPECT_TRUE(throws_error_containing([] { linear(full({}, 1.0), zeros({1, 1}), Tensor()); },
                                      {"linear", "input []"}));
  EXPECT_TRUE(throws_error_containing([] { linear(zeros({2, 3}), zeros({4, 3}, kFloat64), Tensor()); },
                                      {"linear", "float32", "float64"}));
  EXPECT_TRUE(throws_error_containing([] { linear(zeros({2, 3}), zeros({4, 3}), zeros({4}, kFloat64)); },
                                      {"linear", "bias", "float32", "float64"}));
  EXPECT_TRUE(throws_error_containing([] { linear(zeros({2, 3}, kInt64), zeros({4, 3}), Tensor()); },
                                      {"linear", "input", "int64"}));
}

}  // namespace
}  // namespace xgrad
