// Ops for sequences: bmm, baddbmm, matmul with broadcast batch dimensions, tril/triu, sort, argsort,
// topk, multinomial, cumsum, cumprod, flip, roll, repeat, repeat_interleave and einsum. Values,
// gradients and node names against PyTorch fixtures (sequence.json, float32 and float64, random
// upstream), gradcheck and gradgradcheck in float64, non-contiguous inputs, multinomial's
// distribution by a chi-square test, and every bad input as an Error naming the op. The functional
// forms (F::pad, F::normalize, F::cosine_similarity, F::one_hot) are in tests/nn.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::differentiates_twice;
using testing::golden_cases;
using testing::golden_scalar;
using testing::golden_sizes;
using testing::golden_tensor;
using testing::Json;
using testing::leaf;
using testing::matches_golden;
using testing::passes_gradcheck;
using testing::throws_error_containing;
using testing::values;

std::vector<std::int64_t> longs(const Tensor& t) { return t.contiguous().to_vector<std::int64_t>(); }

std::optional<std::int64_t> optional_dim(const Json& o) {
  if (!o.contains("dim") || o.at("dim").is_null()) return std::nullopt;
  return o.at("dim").get<std::int64_t>();
}

// The xgrad call matching make_golden_sequence.py's CALLS[fn].
Tensor run_case(const std::string& fn, const Json& o, const std::vector<Tensor>& in) {
  if (fn == "bmm") return bmm(in[0], in[1]);
  if (fn == "baddbmm") return baddbmm(in[0], in[1], in[2], golden_scalar(o.at("beta")), golden_scalar(o.at("alpha")));
  if (fn == "matmul") return matmul(in[0], in[1]);
  if (fn == "tril") return tril(in[0], o.at("diagonal"));
  if (fn == "triu") return triu(in[0], o.at("diagonal"));
  if (fn == "sort") return std::get<0>(sort(in[0], o.at("dim").get<std::int64_t>(), o.at("descending").get<bool>()));
  if (fn == "sort_stable")
    return std::get<0>(sort(in[0], std::optional<bool>(true), o.at("dim").get<std::int64_t>(), o.at("descending").get<bool>()));
  if (fn == "topk") return std::get<0>(topk(in[0], o.at("k"), o.at("dim"), o.at("largest")));
  if (fn == "cumsum") return cumsum(in[0], o.at("dim"));
  if (fn == "cumprod") return cumprod(in[0], o.at("dim"));
  if (fn == "flip") return flip(in[0], golden_sizes(o, "dims", {}));
  if (fn == "roll") return roll(in[0], golden_sizes(o, "shifts", {}), golden_sizes(o, "dims", {}));
  if (fn == "repeat") return in[0].repeat(golden_sizes(o, "repeats", {}));
  if (fn == "repeat_interleave") {
    const Json& repeats = o.at("repeats");
    if (repeats.is_number()) return repeat_interleave(in[0], repeats.get<std::int64_t>(), optional_dim(o));
    return repeat_interleave(in[0], golden_tensor(repeats), optional_dim(o));
  }
  if (fn == "einsum") return einsum(o.at("equation").get<std::string>(), in);
  throw Error("test_sequence: no call for fixture fn " + fn);
}

// The indices sort and topk return, from the same call.
Tensor run_indices(const std::string& fn, const Json& o, const Tensor& x) {
  if (fn == "topk") return std::get<1>(topk(x, o.at("k"), o.at("dim"), o.at("largest")));
  return std::get<1>(sort(x, o.at("dim").get<std::int64_t>(), o.at("descending").get<bool>()));
}

// einsum is a composite: PyTorch's last node depends on its contraction path, so only values and
// gradients are compared for it.
void expect_matches_fixtures(const std::string& fn, bool compare_node_names = true) {
  const std::vector<Json> cases = golden_cases("sequence.json", fn);
  ASSERT_FALSE(cases.empty());
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    std::vector<Tensor> inputs;
    for (const Json& input : c.at("inputs")) inputs.push_back(golden_tensor(input).requires_grad_());
    const Tensor out = run_case(fn, c.at("options"), inputs);
    EXPECT_TRUE(matches_golden(out, golden_tensor(c.at("output"))));
    ASSERT_TRUE(out.grad_fn());
    if (compare_node_names) EXPECT_EQ(std::string(out.grad_fn()->name()), c.at("grad_fn").get<std::string>());
    if (c.contains("indices"))
      EXPECT_EQ(longs(run_indices(fn, c.at("options"), inputs[0])), longs(golden_tensor(c.at("indices"))));
    out.backward(golden_tensor(c.at("upstream")));
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      SCOPED_TRACE("gradient of input " + std::to_string(i));
      EXPECT_TRUE(matches_golden(inputs[i].grad(), golden_tensor(c.at("grads").at(i))));
    }
  }
}

TEST(SequenceFixtures, Bmm) { expect_matches_fixtures("bmm"); }
TEST(SequenceFixtures, Baddbmm) { expect_matches_fixtures("baddbmm"); }
TEST(SequenceFixtures, MatmulBroadcastsBatchDimensions) { expect_matches_fixtures("matmul"); }
TEST(SequenceFixtures, Tril) { expect_matches_fixtures("tril"); }
TEST(SequenceFixtures, Triu) { expect_matches_fixtures("triu"); }
TEST(SequenceFixtures, Sort) { expect_matches_fixtures("sort"); }
TEST(SequenceFixtures, StableSortWithTiesAndNaN) { expect_matches_fixtures("sort_stable"); }
TEST(SequenceFixtures, Topk) { expect_matches_fixtures("topk"); }
TEST(SequenceFixtures, Cumsum) { expect_matches_fixtures("cumsum"); }
TEST(SequenceFixtures, CumprodWithAndWithoutZeros) { expect_matches_fixtures("cumprod"); }
TEST(SequenceFixtures, Flip) { expect_matches_fixtures("flip"); }
TEST(SequenceFixtures, Roll) { expect_matches_fixtures("roll"); }
TEST(SequenceFixtures, Repeat) { expect_matches_fixtures("repeat"); }
TEST(SequenceFixtures, RepeatInterleave) { expect_matches_fixtures("repeat_interleave"); }
TEST(SequenceFixtures, Einsum) { expect_matches_fixtures("einsum", false); }

TEST(SequenceFixtures, Argsort) {
  const std::vector<Json> cases = golden_cases("sequence.json", "argsort");
  ASSERT_FALSE(cases.empty());
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor x = golden_tensor(c.at("inputs").at(0));
    const Json& o = c.at("options");
    const Tensor indices = argsort(x, o.at("dim"), o.at("descending"));
    EXPECT_EQ(indices.dtype(), kInt64);
    EXPECT_EQ(longs(indices), longs(golden_tensor(c.at("output"))));
    EXPECT_EQ(longs(x.argsort(o.at("dim"), o.at("descending"))), longs(indices));
  }
}

// ---- gradcheck and gradgradcheck -------------------------------------------------------------------

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// First derivatives by gradcheck; second by gradgradcheck, with create_graph's first derivatives
// equal to the fast path's.
::testing::AssertionResult checks_twice(const Fn& fn, const std::vector<Tensor>& inputs) {
  if (auto first = passes_gradcheck(fn, inputs); !first) return first;
  return differentiates_twice(fn, inputs);
}

TEST(SequenceGradients, Products) {
  manual_seed(101);
  EXPECT_TRUE(checks_twice([](const auto& in) { return bmm(in[0], in[1]); }, {leaf({2, 3, 4}), leaf({2, 4, 2})}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return baddbmm(in[0], in[1], in[2], 0.5, -2.0); },
                           {leaf({3, 2}), leaf({2, 3, 4}), leaf({2, 4, 2})}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return in[0].baddbmm(in[1], in[2]); },
                           {leaf({1, 3, 1}), leaf({2, 3, 4}), leaf({2, 4, 2})}));
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4}, {4, 2}},       {{2, 2, 3, 4}, {2, 2, 4, 3}}, {{2, 1, 3, 4}, {3, 4, 2}}, {{1, 3, 4}, {2, 4, 5}},
      {{4}, {2, 2, 4, 3}},       {{2, 2, 3, 4}, {4}},          {{3, 4}, {2, 4, 2}},       {{2, 1, 2, 3}, {1, 2, 3, 2}}};
  for (const auto& [a, b] : shapes) {
    SCOPED_TRACE(shape_str(a) + " @ " + shape_str(b));
    EXPECT_TRUE(checks_twice([](const auto& in) { return matmul(in[0], in[1]); }, {leaf(a), leaf(b)}));
  }
}

TEST(SequenceGradients, MasksAndOrderings) {
  manual_seed(102);
  const Tensor x = leaf({3, 4});
  EXPECT_TRUE(checks_twice([](const auto& in) { return tril(in[0], -1); }, {x}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return in[0].triu(1); }, {leaf({2, 3, 3})}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return std::get<0>(sort(in[0], 0, true)); }, {x}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return std::get<0>(in[0].sort()); }, {leaf({2, 3, 4})}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return std::get<0>(topk(in[0], 2)); }, {x}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return std::get<0>(in[0].topk(2, 0, false)); }, {x}));
  // Selected values used again: the second derivative of sum(topk^2) is 2 at the selected places.
  EXPECT_TRUE(checks_twice([](const auto& in) { return std::get<0>(topk(in[0] * in[0], 3, 1)) * in[0].sum(); },
                           {x}));
}

TEST(SequenceGradients, RunningTotals) {
  manual_seed(103);
  EXPECT_TRUE(checks_twice([](const auto& in) { return cumsum(in[0], 1); }, {leaf({3, 4})}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return in[0].cumsum(-3); }, {leaf({2, 3, 2})}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return cumprod(in[0], 1); }, {leaf({3, 4})}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return in[0].cumprod(0); }, {leaf({4, 2, 2})}));
  // Exact zeros: cumprod is a polynomial, so its derivatives there are well defined.
  const Tensor with_zeros = tensor({{1.5, 0.0, 2.0, -1.0}, {0.0, 3.0, 0.0, 2.0}}, kFloat64).requires_grad_();
  EXPECT_TRUE(checks_twice([](const auto& in) { return cumprod(in[0], 1); }, {with_zeros}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return cumprod(in[0] * in[0], 1); }, {with_zeros}));
}

TEST(SequenceGradients, Rearrangements) {
  manual_seed(104);
  const Tensor x = leaf({2, 3, 4});
  EXPECT_TRUE(checks_twice([](const auto& in) { return flip(in[0] * in[0], {0, 2}); }, {x}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return roll(in[0] * in[0], {1, -5}, {2, 0}); }, {x}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return in[0].roll(7) * in[0]; }, {x}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return (in[0] * in[0]).repeat({2, 1, 1, 2}); }, {x}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return repeat_interleave(in[0] * in[0], 2, 1); }, {x}));
  EXPECT_TRUE(checks_twice([](const auto& in) { return in[0].repeat_interleave(tensor({2, 0, 1, 3}), -1) * 2.0; },
                           {x}));
}

TEST(SequenceGradients, Einsum) {
  manual_seed(105);
  const std::vector<std::pair<std::string, std::vector<Shape>>> cases = {
      {"bhqd,bhkd->bhqk", {{2, 2, 3, 2}, {2, 2, 4, 2}}},
      {"bhqk,bhkd->bhqd", {{2, 2, 3, 4}, {2, 2, 4, 2}}},
      {"ij,jk->ik", {{2, 3}, {3, 2}}},
      {"bi,bi->b", {{3, 4}, {3, 4}}},
      {"ii->i", {{3, 3}}},
      {"...ij,...jk->...ik", {{2, 2, 3}, {3, 2}}},
      {"ij,jk,kl->il", {{2, 3}, {3, 2}, {2, 2}}},
  };
  for (const auto& [equation, shapes] : cases) {
    SCOPED_TRACE(equation);
    std::vector<Tensor> inputs;
    for (const Shape& shape : shapes) inputs.push_back(leaf(shape));
    const std::string eq = equation;
    EXPECT_TRUE(checks_twice([eq](const auto& in) { return einsum(eq, in); }, inputs));
  }
}

// ---- matmul's broadcasting ---------------------------------------------------------------------------

TEST(MatmulBroadcast, EachProductIsTheMatchingPairOfMatrices) {
  manual_seed(110);
  const Tensor a = randn({2, 1, 3, 4}, kFloat64), b = randn({3, 4, 5}, kFloat64);
  const Tensor c = matmul(a, b);
  ASSERT_EQ(c.shape(), (Shape{2, 3, 3, 5}));
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t h = 0; h < 3; ++h) EXPECT_TRUE(all_close(c[i][h], mm(a[i][0], b[h]), 1e-12, 1e-12));
}

TEST(MatmulBroadcast, GradientOfASharedMatrixIsTheSumOverItsProducts) {
  manual_seed(111);
  const Tensor a = leaf({1, 3, 4}), b = leaf({2, 4, 5});
  const Tensor g = randn({2, 3, 5}, kFloat64);
  matmul(a, b).backward(g);
  const Tensor expected = mm(g[0], b[0].t()) + mm(g[1], b[1].t());
  EXPECT_TRUE(all_close(a.grad()[0], expected, 1e-12, 1e-12));
}

TEST(MatmulBroadcast, NonContiguousOperandsGiveTheSameResultsAndGradients) {
  manual_seed(112);
  const Tensor a_base = leaf({2, 1, 4, 3}), b_base = leaf({3, 5, 4});
  const Tensor a = a_base.transpose(-1, -2), b = b_base.transpose(-1, -2);
  ASSERT_FALSE(a.is_contiguous());
  const Tensor c = matmul(a, b);
  EXPECT_TRUE(all_close(c, matmul(a.contiguous(), b.contiguous()), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(bmm(a[0].expand({3, 3, 4}), b), bmm(a[0].expand({3, 3, 4}).contiguous(), b.contiguous()),
                        1e-12, 1e-12));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return matmul(in[0].transpose(-1, -2), in[1].transpose(-1, -2)); },
                               {a_base, b_base}));
}

TEST(MatmulBroadcast, BatchDimensionsThatDoNotBroadcastAreAnError) {
  EXPECT_TRUE(throws_error_containing([] { matmul(zeros({2, 3, 4}), zeros({3, 4, 5})); },
                                      {"matmul", "[2, 3, 4]", "[3, 4, 5]", "broadcast"}));
  EXPECT_TRUE(throws_error_containing([] { matmul(zeros({2, 2, 3, 4}), zeros({3, 1, 4, 5})); },
                                      {"matmul", "[2, 2]", "[3, 1]"}));
}

// ---- bmm and baddbmm ---------------------------------------------------------------------------------

TEST(Bmm, IsMatmulOfThreeDimensionalTensors) {
  manual_seed(112);
  const Tensor a = randn({3, 2, 4}, kFloat64), b = randn({3, 4, 5}, kFloat64);
  EXPECT_TRUE(all_close(bmm(a, b), matmul(a, b), 0, 0));
  EXPECT_TRUE(all_close(a.bmm(b), matmul(a, b), 0, 0));
}

TEST(Bmm, BadInputsNameTheArgumentAndShapes) {
  EXPECT_TRUE(throws_error_containing([] { bmm(zeros({3, 4}), zeros({3, 4, 5})); },
                                      {"bmm", "batch1 must be a 3D tensor", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { bmm(zeros({2, 3, 4}), zeros({2, 4})); },
                                      {"bmm", "batch2 must be a 3D tensor", "[2, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { bmm(zeros({2, 3, 4}), zeros({3, 4, 5})); },
                                      {"bmm", "Expected size for first two dimensions of batch2 tensor to be: [2, 4] "
                                              "but got: [3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { bmm(zeros({2, 3, 4}), zeros({2, 3, 5})); }, {"bmm", "[2, 3, 5]"}));
  EXPECT_TRUE(throws_error_containing([] { bmm(zeros({2, 3, 4}), zeros({2, 4, 5}, kFloat64)); },
                                      {"bmm", "float32", "float64"}));
  EXPECT_TRUE(throws_error_containing([] { bmm(zeros({2, 3, 4}, kInt64), zeros({2, 4, 5}, kInt64)); },
                                      {"bmm", "int64"}));
}

TEST(Baddbmm, BetaZeroIgnoresSelfEvenWhereItIsNaN) {
  manual_seed(113);
  const Tensor self = full({2, 3, 5}, std::nan(""), kFloat64);
  const Tensor a = randn({2, 3, 4}, kFloat64), b = randn({2, 4, 5}, kFloat64);
  EXPECT_TRUE(all_close(baddbmm(self, a, b, 0, 2), bmm(a, b) * 2.0, 1e-12, 1e-12));
}

TEST(Baddbmm, InPlaceWritesThroughAndRecords) {
  manual_seed(114);
  const Tensor a = leaf({2, 3, 4}), b = leaf({2, 4, 5});
  Tensor y = randn({2, 3, 5}, kFloat64);
  const Tensor expected = y * 0.5 + bmm(a, b).detach();
  y.baddbmm_(a, b, 0.5);
  EXPECT_TRUE(all_close(y, expected, 1e-12, 1e-12));
  EXPECT_EQ(std::string(y.grad_fn()->name()), "BaddbmmBackward0");
  y.sum().backward();
  EXPECT_TRUE(all_close(a.grad(), bmm(ones({2, 3, 5}, kFloat64), b.detach().transpose(1, 2)), 1e-12, 1e-12));
}

TEST(Baddbmm, SelfThatDoesNotBroadcastIsAnError) {
  EXPECT_TRUE(throws_error_containing([] { baddbmm(zeros({3, 4}), zeros({2, 3, 4}), zeros({2, 4, 5})); },
                                      {"baddbmm", "self", "[3, 4]", "[2, 3, 5]"}));
  EXPECT_TRUE(throws_error_containing([] { baddbmm(zeros({2, 3, 5}), zeros({3, 4}), zeros({2, 4, 5})); },
                                      {"baddbmm", "batch1 must be a 3D tensor"}));
  EXPECT_TRUE(throws_error_containing([] { baddbmm(zeros({2, 3, 5}, kFloat64), zeros({2, 3, 4}), zeros({2, 4, 5})); },
                                      {"baddbmm", "float64", "float32"}));
}

// ---- tril and triu -----------------------------------------------------------------------------------

Tensor arange_shaped(IntArrayRef shape) { return reshape(arange(numel_of(shape.vec()), kFloat64) + 1.0, shape); }

TEST(Triangles, KeepTheDiagonalsTheyName) {
  const Tensor x = arange_shaped({3, 3});
  EXPECT_EQ(values(tril(x)), (std::vector<double>{1, 0, 0, 4, 5, 0, 7, 8, 9}));
  EXPECT_EQ(values(triu(x, 1)), (std::vector<double>{0, 2, 3, 0, 0, 6, 0, 0, 0}));
  EXPECT_EQ(values(x.tril(-1)), (std::vector<double>{0, 0, 0, 4, 0, 0, 7, 8, 0}));
}

TEST(Triangles, CausalMaskForAttention) {
  // The usual causal mask: a position sees itself and the ones before it.
  const Tensor future = triu(ones({4, 4}, kBool), 1);
  EXPECT_EQ(future.dtype(), kBool);
  const Tensor scores = zeros({2, 4, 4});
  const Tensor masked = scores.masked_fill(future, -INFINITY);
  const Tensor weights = softmax(masked, -1);
  EXPECT_FLOAT_EQ(weights[1][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(weights[0][3][2].item<float>(), 0.25f);
  EXPECT_FLOAT_EQ(weights[0][1][2].item<float>(), 0.0f);
}

TEST(Triangles, InPlaceOnANonLeafAndErrors) {
  const Tensor x = leaf({3, 4});
  Tensor y = x * 1.0;
  y.triu_();
  EXPECT_EQ(std::string(y.grad_fn()->name()), "TriuBackward0");
  const Tensor g = randn({3, 4}, kFloat64);
  y.backward(g);
  EXPECT_TRUE(all_close(x.grad(), triu(g), 0, 0));
  Tensor z = arange_shaped({2, 2});
  z.tril_();
  EXPECT_EQ(values(z), (std::vector<double>{1, 0, 3, 4}));
  EXPECT_TRUE(throws_error_containing([&] { x.tril_(); }, {"tril_", "leaf"}));
  EXPECT_TRUE(throws_error_containing([] { tril(zeros({3})); }, {"tril", "at least 2 dimensions", "[3]"}));
  EXPECT_TRUE(throws_error_containing([] { triu(full({}, 1.0)); }, {"triu", "[]"}));
}

TEST(Triangles, EveryDtype) {
  EXPECT_EQ(longs(tril(tensor({{1, 2}, {3, 4}}))), (std::vector<std::int64_t>{1, 0, 3, 4}));
  EXPECT_EQ(triu(ones({2, 2}, kBool)).to(kInt64).sum().item<std::int64_t>(), 3);
}

// ---- sort, argsort, topk ------------------------------------------------------------------------------

TEST(Sort, NaNIsLargestAndTiesKeepTheirOrder) {
  const Tensor x = tensor({3.0, 1.0, 2.0, 1.0, NAN, 3.0, 0.0, 1.0}, kFloat64);
  auto [ascending_values, ascending] = sort(x);
  EXPECT_EQ(longs(ascending), (std::vector<std::int64_t>{6, 1, 3, 7, 2, 0, 5, 4}));
  EXPECT_TRUE(std::isnan(values(ascending_values).back()));
  EXPECT_EQ(longs(std::get<1>(x.sort(0, true))), (std::vector<std::int64_t>{4, 0, 5, 2, 1, 3, 7, 6}));
  // A long row of ties stays in order (PyTorch's default may reorder it; its stable=true does not).
  const Tensor flat = ones({40});
  EXPECT_EQ(longs(argsort(flat)), longs(arange(40)));
}

TEST(Sort, IntegerBoolAndZeroDim) {
  EXPECT_EQ(longs(std::get<0>(sort(tensor({3, -1, 2})))), (std::vector<std::int64_t>{-1, 2, 3}));
  EXPECT_EQ(longs(std::get<1>(sort(tensor({true, false, true}), 0, true))), (std::vector<std::int64_t>{0, 2, 1}));
  auto [value, index] = sort(full({}, 2.5));
  EXPECT_EQ(value.dim(), 0);
  EXPECT_EQ(index.item<std::int64_t>(), 0);
  EXPECT_EQ(std::string(std::get<0>(sort(leaf({3}), std::optional<bool>(true))).grad_fn()->name()), "SortBackward1");
}

TEST(Sort, NonContiguousInputsGiveTheSameResults) {
  manual_seed(120);
  const Tensor base = randn({5, 4}, kFloat64);
  const Tensor transposed = base.t();
  ASSERT_FALSE(transposed.is_contiguous());
  for (std::int64_t dim : {0, 1}) {
    auto [v1, i1] = sort(transposed, dim, true);
    auto [v2, i2] = sort(transposed.contiguous(), dim, true);
    EXPECT_TRUE(all_close(v1, v2, 0, 0));
    EXPECT_EQ(longs(i1), longs(i2));
    auto [t1, j1] = topk(transposed, 2, dim);
    auto [t2, j2] = topk(transposed.contiguous(), 2, dim);
    EXPECT_TRUE(all_close(t1, t2, 0, 0));
    EXPECT_EQ(longs(j1), longs(j2));
  }
}

TEST(Topk, SortedOrNotTheSameSetAndTiesTakeTheLowerIndex) {
  const Tensor x = tensor({5.0, 1.0, 4.0, 5.0, 3.0});
  auto [v, i] = topk(x, 3, -1, true, false);
  EXPECT_EQ(longs(i), (std::vector<std::int64_t>{0, 3, 2}));
  EXPECT_EQ(values(v.to(kFloat64)), (std::vector<double>{5, 5, 4}));
  auto [none, nothing] = topk(zeros({3, 4}), 0);
  EXPECT_EQ(none.shape(), (Shape{3, 0}));
  EXPECT_EQ(nothing.dtype(), kInt64);
  EXPECT_EQ(longs(std::get<0>(topk(tensor({3, 1, 2}), 2))), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(std::get<0>(topk(full({}, 1.5), 0)).item<float>(), 1.5f);
}

TEST(Topk, GradientGoesToTheSelectedElements) {
  const Tensor x = tensor({{1.0, 4.0, 2.0}, {6.0, 5.0, 0.0}}, kFloat64).requires_grad_();
  std::get<0>(topk(x, 2)).backward(tensor({{10.0, 20.0}, {30.0, 40.0}}, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 10, 20, 30, 40, 0}));
}

TEST(Orderings, BadInputsAreErrors) {
  EXPECT_TRUE(throws_error_containing([] { sort(zeros({3, 4}), 2); }, {"sort", "dim 2", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { argsort(zeros({3, 4}), -3); }, {"argsort", "dim -3"}));
  EXPECT_TRUE(throws_error_containing([] { topk(zeros({3, 4}), 5); },
                                      {"topk", "selected index k out of range", "k = 5", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { topk(zeros({3, 4}), -1); }, {"topk", "k = -1"}));
  EXPECT_TRUE(throws_error_containing([] { topk(zeros({3, 4}), 1, 2); }, {"topk", "dim 2"}));
  EXPECT_TRUE(throws_error_containing([] { topk(ones({2}, kBool), 1); }, {"topk", "bool"}));
  EXPECT_TRUE(throws_error_containing([] { sort(Tensor()); }, {"sort", "undefined"}));
}

// ---- multinomial --------------------------------------------------------------------------------------

// Pearson's statistic sum((observed - expected)^2 / expected) over the categories.
double chi_square(const std::vector<std::int64_t>& counts, const std::vector<double>& probabilities, double draws) {
  double statistic = 0.0;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    const double expected = probabilities[c] * draws;
    statistic += (static_cast<double>(counts[c]) - expected) * (static_cast<double>(counts[c]) - expected) / expected;
  }
  return statistic;
}

TEST(Multinomial, WithReplacementFollowsTheWeights) {
  manual_seed(130);
  const Tensor weights = tensor({1.0, 2.0, 3.0, 4.0, 0.0});  // unnormalised; the last is never drawn
  const std::int64_t draws = 40000;
  const Tensor samples = multinomial(weights, draws, true);
  ASSERT_EQ(samples.shape(), (Shape{draws}));
  ASSERT_EQ(samples.dtype(), kInt64);
  std::vector<std::int64_t> counts(5, 0);
  for (std::int64_t s : longs(samples)) ++counts[static_cast<std::size_t>(s)];
  EXPECT_EQ(counts[4], 0);
  counts.pop_back();
  // 3 degrees of freedom: P(chi2 > 16.27) = 0.001.
  EXPECT_LT(chi_square(counts, {0.1, 0.2, 0.3, 0.4}, draws), 16.27);
}

TEST(Multinomial, WithoutReplacementDrawsFromWhatIsLeft) {
  manual_seed(131);
  const std::vector<double> p = {0.1, 0.2, 0.3, 0.4};
  // Two draws per row of many identical rows: the ordered pair (i, j) has probability
  // p_i p_j / (1 - p_i), and i != j always.
  const std::int64_t rows = 20000;
  const Tensor samples = multinomial(tensor(p, kFloat64).expand({rows, 4}), 2);
  ASSERT_EQ(samples.shape(), (Shape{rows, 2}));
  std::vector<std::int64_t> counts(16, 0);
  const std::vector<std::int64_t> flat = longs(samples);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t i = flat[static_cast<std::size_t>(2 * r)], j = flat[static_cast<std::size_t>(2 * r + 1)];
    ASSERT_NE(i, j);
    ++counts[static_cast<std::size_t>(i * 4 + j)];
  }
  std::vector<std::int64_t> observed;
  std::vector<double> expected;
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      if (i != j) {
        observed.push_back(counts[i * 4 + j]);
        expected.push_back(p[i] * p[j] / (1.0 - p[i]));
      }
  // 11 degrees of freedom: P(chi2 > 31.26) = 0.001.
  EXPECT_LT(chi_square(observed, expected, static_cast<double>(rows)), 31.26);
}

TEST(Multinomial, ExhaustedWeightsLeaveTheZeroCategoriesAndSeedsRepeat) {
  manual_seed(132);
  const Tensor draws = multinomial(tensor({{0.0, 1.0, 0.0}, {0.0, 0.0, 2.0}}), 3);
  for (std::int64_t r = 0; r < 2; ++r) {
    std::vector<std::int64_t> row = longs(draws[r]);
    EXPECT_EQ(row[0], r == 0 ? 1 : 2);  // the only weighted category comes first
    std::sort(row.begin(), row.end());
    EXPECT_EQ(row, (std::vector<std::int64_t>{0, 1, 2}));
  }
  manual_seed(7);
  const Tensor first = rand({3, 6}).multinomial(4);
  manual_seed(7);
  const Tensor second = rand({3, 6}).multinomial(4);
  EXPECT_EQ(longs(first), longs(second));
  EXPECT_EQ(multinomial(ones({0, 3}), 2).shape(), (Shape{0, 2}));
}

TEST(Multinomial, BadInputsAreErrors) {
  const Tensor p = tensor({0.1, 0.2, 0.7});
  EXPECT_TRUE(throws_error_containing([&] { multinomial(p, 4); },
                                      {"multinomial", "cannot sample n_sample > prob_dist.size(-1) samples without "
                                                      "replacement"}));
  EXPECT_TRUE(throws_error_containing([&] { multinomial(p, 0, true); }, {"multinomial", "n_sample <= 0"}));
  EXPECT_TRUE(throws_error_containing([] { multinomial(full({}, 0.5), 1); }, {"prob_dist must be 1 or 2 dim", "[]"}));
  EXPECT_TRUE(throws_error_containing([] { multinomial(ones({2, 2, 2}), 1); }, {"prob_dist must be 1 or 2 dim"}));
  EXPECT_TRUE(throws_error_containing([] { multinomial(zeros({2}), 1); },
                                      {"multinomial", "invalid multinomial distribution (sum of probabilities <= 0)"}));
  EXPECT_TRUE(throws_error_containing([] { multinomial(tensor({0.5, -0.1}), 1); },
                                      {"multinomial", "`inf`, `nan` or element < 0"}));
  EXPECT_TRUE(throws_error_containing([] { multinomial(tensor({0.5, NAN}), 1); }, {"`inf`, `nan` or element < 0"}));
  EXPECT_TRUE(throws_error_containing([] { multinomial(tensor({0.5, INFINITY}), 1); }, {"`inf`, `nan`"}));
  EXPECT_TRUE(throws_error_containing([] { multinomial(tensor({1, 2}), 1); },
                                      {"multinomial", "floating-point", "int64"}));
  EXPECT_TRUE(throws_error_containing([] { multinomial(tensor({{0.0, 1.0}, {0.0, 0.0}}), 1); }, {"row 1"}));
}

// ---- cumsum and cumprod -------------------------------------------------------------------------------

TEST(RunningTotals, ValuesDtypesAndDims) {
  const Tensor x = arange_shaped({2, 3});
  EXPECT_EQ(values(cumsum(x, 1)), (std::vector<double>{1, 3, 6, 4, 9, 15}));
  EXPECT_EQ(values(x.cumprod(0)), (std::vector<double>{1, 2, 3, 4, 10, 18}));
  EXPECT_EQ(longs(cumsum(tensor({1, 2, 3}), 0)), (std::vector<std::int64_t>{1, 3, 6}));
  EXPECT_EQ(cumsum(tensor({true, false, true}), 0).dtype(), kInt64);
  EXPECT_EQ(longs(cumsum(tensor({true, false, true}), 0)), (std::vector<std::int64_t>{1, 1, 2}));
  EXPECT_EQ(cumsum(tensor({1, 2}), 0, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(cumsum(full({}, 2.0), 0).item<float>(), 2.0f);
  EXPECT_EQ(cumsum(zeros({0, 3}), 0).shape(), (Shape{0, 3}));
  // float32 running sums accumulate in double, as PyTorch's CPU kernel: 1e8 + 1 + ... stays exact.
  EXPECT_EQ(cumsum(tensor({1e8f, 1.0f, 1.0f, -1e8f}), 0)[3].item<float>(), 2.0f);
}

TEST(RunningTotals, NonContiguousInput) {
  manual_seed(140);
  const Tensor x = randn({4, 3}, kFloat64).t();
  EXPECT_TRUE(all_close(cumsum(x, 1), cumsum(x.contiguous(), 1), 0, 0));
  EXPECT_TRUE(all_close(cumprod(x, 0), cumprod(x.contiguous(), 0), 0, 0));
}

TEST(RunningTotals, Errors) {
  EXPECT_TRUE(throws_error_containing([] { cumsum(zeros({3}), 1); }, {"cumsum", "dim 1", "[3]"}));
  EXPECT_TRUE(throws_error_containing([] { cumprod(zeros({3, 2}), -3); }, {"cumprod", "dim -3", "[3, 2]"}));
  EXPECT_TRUE(throws_error_containing([] { cumsum(Tensor(), 0); }, {"cumsum", "undefined"}));
}

// ---- flip, roll, repeat, repeat_interleave ---------------------------------------------------------------

TEST(Rearrangements, Values) {
  const Tensor x = arange_shaped({2, 3});
  EXPECT_EQ(values(flip(x, {1})), (std::vector<double>{3, 2, 1, 6, 5, 4}));
  EXPECT_EQ(values(x.flip({0, 1})), (std::vector<double>{6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(values(roll(x, 1, 1)), (std::vector<double>{3, 1, 2, 6, 4, 5}));
  EXPECT_EQ(values(x.roll(-1)), (std::vector<double>{2, 3, 4, 5, 6, 1}));
  EXPECT_EQ(values(x.repeat({1, 2})), (std::vector<double>{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}));
  EXPECT_EQ(x.repeat({2, 1, 1}).shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(values(x.repeat_interleave(2, 1)), (std::vector<double>{1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6}));
  EXPECT_EQ(values(repeat_interleave(x, tensor({0, 2}), 0)), (std::vector<double>{4, 5, 6, 4, 5, 6}));
  EXPECT_EQ(longs(repeat_interleave(tensor({2, 0, 1}))), (std::vector<std::int64_t>{0, 0, 2}));
  EXPECT_EQ(longs(flip(tensor({1, 2, 3}), {0})), (std::vector<std::int64_t>{3, 2, 1}));
  EXPECT_EQ(flip(ones({2}, kBool), {0}).dtype(), kBool);
}

TEST(Rearrangements, NonContiguousInputs) {
  manual_seed(150);
  const Tensor x = randn({4, 3, 2}, kFloat64).permute({2, 0, 1});
  ASSERT_FALSE(x.is_contiguous());
  const Tensor dense = x.contiguous();
  EXPECT_TRUE(all_close(flip(x, {0, 2}), flip(dense, {0, 2}), 0, 0));
  EXPECT_TRUE(all_close(roll(x, {1, 2}, {1, 2}), roll(dense, {1, 2}, {1, 2}), 0, 0));
  EXPECT_TRUE(all_close(x.roll(3), dense.roll(3), 0, 0));
  EXPECT_TRUE(all_close(x.repeat({2, 1, 2}), dense.repeat({2, 1, 2}), 0, 0));
  EXPECT_TRUE(all_close(x.repeat_interleave(2, 1), dense.repeat_interleave(2, 1), 0, 0));
  EXPECT_TRUE(all_close(tril(x), tril(dense), 0, 0));
  EXPECT_TRUE(all_close(einsum("abc,acd->abd", {x, x.transpose(1, 2)}), matmul(dense, dense.transpose(1, 2)),
                        1e-12, 1e-12));
}

TEST(Rearrangements, Errors) {
  EXPECT_TRUE(throws_error_containing([] { flip(zeros({3, 4}), {0, -2}); }, {"flip", "dim 0 appears multiple times"}));
  EXPECT_TRUE(throws_error_containing([] { flip(zeros({3, 4}), {2}); }, {"flip", "dim 2", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { roll(zeros({3, 4}), std::vector<std::int64_t>{}); },
                                      {"roll", "`shifts` required"}));
  EXPECT_TRUE(throws_error_containing([] { roll(zeros({3, 4}), {1, 2}, {0}); },
                                      {"roll", "shifts and dimensions must align. shifts: 2, dims:1"}));
  EXPECT_TRUE(throws_error_containing([] { roll(zeros({3, 4}), {1, 2}); }, {"roll", "shifts: 2, dims:0"}));
  EXPECT_TRUE(throws_error_containing([] { roll(zeros({3, 4}), 1, 2); }, {"roll", "dim 2"}));
  EXPECT_TRUE(throws_error_containing([] { zeros({3, 4}).repeat({2}); },
                                      {"repeat", "can not be smaller than number of dimensions", "[2]", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { zeros({3, 4}).repeat({-1, 2}); }, {"repeat", "non-negative", "[-1, 2]"}));
  EXPECT_TRUE(throws_error_containing([] { repeat_interleave(zeros({3}), -1, 0); },
                                      {"repeat_interleave", "repeats can not be negative", "-1"}));
  EXPECT_TRUE(throws_error_containing([] { repeat_interleave(zeros({3, 4}), tensor({1, 2}), 0); },
                                      {"repeat_interleave", "same size as input along dim", "[2]", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { repeat_interleave(zeros({3}), tensor({1, -2, 1}), 0); },
                                      {"repeats can not be negative", "-2"}));
  EXPECT_TRUE(throws_error_containing([] { repeat_interleave(zeros({3}), tensor({{1, 2, 1}}), 0); },
                                      {"0-dim or 1-dim", "[1, 3]"}));
  EXPECT_TRUE(throws_error_containing([] { repeat_interleave(zeros({3}), tensor({1.0, 2.0, 1.0}), 0); },
                                      {"repeat_interleave", "int64", "float32"}));
  EXPECT_TRUE(throws_error_containing([] { repeat_interleave(zeros({3}), 2, 0, 5); }, {"output_size 5", "6"}));
  EXPECT_TRUE(throws_error_containing([] { repeat_interleave(zeros({3}), 2, 1); }, {"repeat_interleave", "dim 1"}));
}

// ---- einsum ---------------------------------------------------------------------------------------------

TEST(Einsum, AttentionScoresEqualTheMatmulOfTheTranspose) {
  manual_seed(160);
  const Tensor q = randn({2, 3, 4, 5}, kFloat64), k = randn({2, 3, 6, 5}, kFloat64);
  EXPECT_TRUE(all_close(einsum("bhqd,bhkd->bhqk", {q, k}), matmul(q, k.transpose(-2, -1)), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(einsum("b h q d , b h k d -> b h q k", {q, k}), matmul(q, k.transpose(-2, -1)), 1e-12, 1e-12));
}

TEST(Einsum, ImplicitOutputAndIntegers) {
  const Tensor a = tensor({{1, 2}, {3, 4}}), b = tensor({{5, 6}, {7, 8}});
  const Tensor product = einsum("ij,jk", {a, b});
  EXPECT_EQ(product.dtype(), kInt64);
  EXPECT_EQ(longs(product), (std::vector<std::int64_t>{19, 22, 43, 50}));
  // Capitals sort before small letters in an implicit output.
  EXPECT_EQ(einsum("ba,Ab", {zeros({2, 3}), zeros({4, 2})}).shape(), (Shape{4, 3}));
  EXPECT_EQ(einsum("ij->", {ones({2, 3})}).item<float>(), 6.0f);
  EXPECT_EQ(einsum("...ij->ij", {ones({5, 2, 3})})[0][0].item<float>(), 5.0f);
  EXPECT_EQ(einsum("i,i", {tensor({1.0, 2.0}), tensor({3.0, 4.0})}).item<float>(), 11.0f);
}

TEST(Einsum, Errors) {
  const Tensor a = zeros({2, 3}), b = zeros({3, 4});
  EXPECT_TRUE(throws_error_containing([&] { einsum("ij,jk->ik", {a, zeros({4, 4})}); },
                                      {"einsum(): subscript j has size 4 for operand 1 which does not broadcast with "
                                       "previously seen size 3"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("ij,jk->ik", {a}); }, {"fewer operands"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("ij,jk->ik", {a, b, b}); }, {"more operands"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("ijk,jk->ik", {a, b}); },
                                      {"number of subscripts in the equation (3) does not match the number of "
                                       "dimensions (2) for operand 0 and no ellipsis was given"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("i...jk", {a}); }, {"(3) is more than the number of dimensions (2)"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("ij,jk->iz", {a, b}); },
                                      {"output subscript z does not appear in the equation for any input operand"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("ij,jk->ii", {a, b}); }, {"output subscript i appears more than once"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("i1,jk->ik", {a, b}); },
                                      {"invalid subscript given at index 1", "[a-zA-Z]"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("ii", {zeros({3, 4})}); },
                                      {"subscript i is repeated for operand 0 but the sizes don't match, 4 != 3"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("i..j", {a}); }, {"found '.' for operand 0 that is not part of any ellipsis"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("i......", {a}); }, {"for which an ellipsis was already found"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("ij,jk->ik", {a, zeros({3, 4}, kFloat64)}); },
                                      {"einsum()", "float32", "float64"}));
  EXPECT_TRUE(throws_error_containing([&] { einsum("ij", {}); }, {"at least one operand"}));
}

}  // namespace
}  // namespace xgrad
