// Indexing ops: select, slice, narrow, index_select, masked_fill, cat, stack, where. Values and
// gradients against PyTorch fixtures (float32 and float64, random upstream), float64 gradcheck,
// the storage dtypes, and the error messages for bad dims, indices, shapes and dtypes.
// The permute and expand fixtures live in indexing.json too and are checked here; their other
// tests are in test_shape.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::differentiates_twice;
using testing::golden_cases;
using testing::golden_tensor;
using testing::Json;
using testing::leaf;
using testing::matches_golden;
using testing::passes_gradcheck;
using testing::throws_error_containing;
using testing::values;

Tensor arange_shaped(IntArrayRef shape) { return reshape(arange(numel_of(shape.vec()), kFloat64), shape); }

std::vector<std::int64_t> longs(const Tensor& t) { return t.to_vector<std::int64_t>(); }
std::vector<bool> bools(const Tensor& t) { return t.to_vector<bool>(); }

// ---- PyTorch fixtures ----------------------------------------------------------------------------

std::optional<std::int64_t> optional_int(const Json& value) {
  if (value.is_null()) return std::nullopt;
  return value.get<std::int64_t>();
}

// Masks and conditions are stored as int64 0/1 (the fixture format has no bool).
Tensor golden_mask(const Json& tensor) { return golden_tensor(tensor).to(kBool); }

// The xgrad call matching make_golden_indexing.py's CALLS[fn].
Tensor run_case(const std::string& fn, const Json& o, const std::vector<Tensor>& in) {
  if (fn == "select") return select(in[0], o.at("dim"), o.at("index"));
  if (fn == "slice")
    return slice(in[0], o.at("dim"), optional_int(o.at("start")), optional_int(o.at("end")), o.at("step"));
  if (fn == "narrow") return narrow(in[0], o.at("dim"), o.at("start"), o.at("length"));
  if (fn == "index_select") return index_select(in[0], o.at("dim"), golden_tensor(o.at("index")));
  if (fn == "masked_fill") {
    const Tensor mask = golden_mask(o.at("mask"));
    return o.contains("value") ? masked_fill(in[0], mask, o.at("value").get<double>()) : masked_fill(in[0], mask, in[1]);
  }
  if (fn == "cat") return cat(in, o.at("dim"));
  if (fn == "stack") return stack(in, o.at("dim"));
  if (fn == "where") return where(golden_mask(o.at("condition")), in[0], in[1]);
  if (fn == "permute") return permute(in[0], o.at("dims").get<std::vector<std::int64_t>>());
  if (fn == "expand") return expand(in[0], o.at("sizes").get<std::vector<std::int64_t>>());
  throw Error("test_indexing: no call for fixture fn " + fn);
}

void expect_matches_fixtures(const std::string& fn) {
  const std::vector<Json> cases = golden_cases("indexing.json", fn);
  ASSERT_FALSE(cases.empty());
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    std::vector<Tensor> inputs;
    for (const Json& input : c.at("inputs")) inputs.push_back(golden_tensor(input).requires_grad_());
    const Tensor out = run_case(fn, c.at("options"), inputs);
    EXPECT_TRUE(matches_golden(out, golden_tensor(c.at("output"))));
    ASSERT_TRUE(out.grad_fn());
    EXPECT_EQ(std::string(out.grad_fn()->name()), c.at("grad_fn").get<std::string>());
    out.backward(golden_tensor(c.at("upstream")));
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      SCOPED_TRACE("gradient of input " + std::to_string(i));
      EXPECT_TRUE(matches_golden(inputs[i].grad(), golden_tensor(c.at("grads").at(i))));
    }
  }
}

TEST(IndexingFixtures, Select) { expect_matches_fixtures("select"); }
TEST(IndexingFixtures, Slice) { expect_matches_fixtures("slice"); }
TEST(IndexingFixtures, Narrow) { expect_matches_fixtures("narrow"); }
TEST(IndexingFixtures, IndexSelect) { expect_matches_fixtures("index_select"); }
TEST(IndexingFixtures, MaskedFill) { expect_matches_fixtures("masked_fill"); }
TEST(IndexingFixtures, Cat) { expect_matches_fixtures("cat"); }
TEST(IndexingFixtures, Stack) { expect_matches_fixtures("stack"); }
TEST(IndexingFixtures, Where) { expect_matches_fixtures("where"); }
TEST(ShapeFixtures, Permute) { expect_matches_fixtures("permute"); }
TEST(ShapeFixtures, Expand) { expect_matches_fixtures("expand"); }

// ---- select and operator[] -------------------------------------------------------------------------

TEST(Select, FixesOneDim) {
  const Tensor x = arange_shaped({2, 3, 4});
  EXPECT_EQ(select(x, 1, 2).shape(), (Shape{2, 4}));
  EXPECT_EQ(values(select(x, 1, 2)), (std::vector<double>{8, 9, 10, 11, 20, 21, 22, 23}));
  EXPECT_EQ(values(select(x, -1, -1)), (std::vector<double>{3, 7, 11, 15, 19, 23}));
  EXPECT_EQ(values(x.select(0, 1)), values(select(x, 0, -1)));
  EXPECT_EQ(values(x[1][2]), (std::vector<double>{20, 21, 22, 23}));
  const Tensor element = x[1][2][3];
  EXPECT_EQ(element.shape(), Shape{});
  EXPECT_EQ(element.item<double>(), 23.0);
}

TEST(Select, IsAViewOfItsBase) {
  const Tensor x = arange_shaped({2, 3});
  Tensor row = x[1];
  row.mutable_data<double>()[0] = 100.0;
  EXPECT_EQ(values(x)[3], 100.0);
  EXPECT_TRUE(row.is_view());
  EXPECT_EQ(row.storage_offset(), 3);
}

TEST(Select, StorageDtypes) {
  EXPECT_EQ(longs(tensor({{1, 2}, {3, 4}})[1]), (std::vector<std::int64_t>{3, 4}));
  const Tensor flags = tensor({{1, 0}, {0, 1}}).to(kBool);
  EXPECT_EQ(bools(select(flags, 1, 1)), (std::vector<bool>{false, true}));
  EXPECT_EQ(select(tensor({7, 8}).to(kUInt8), 0, 1).to(kInt64).item<std::int64_t>(), 8);
}

TEST(SelectGradients, GradcheckAndNames) {
  manual_seed(41);
  const Tensor x = leaf({3, 4, 2});
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return select(in[0], 1, -2); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0][2]; }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return in[0][0] * in[0][1]; }, {x}));
  EXPECT_EQ(std::string(x[0].grad_fn()->name()), "SelectBackward0");
  // The same row twice: both gradients land on it.
  Tensor y = tensor({{1.0, 2.0}, {3.0, 4.0}}, kFloat64).requires_grad_();
  (y[1] * 2.0 + y[1]).backward(tensor({1.0, 10.0}, kFloat64));
  EXPECT_EQ(values(y.grad()), (std::vector<double>{0, 0, 3, 30}));
}

// ---- slice and narrow ------------------------------------------------------------------------------

TEST(Slice, PythonSlicing) {
  const Tensor x = arange(7, kFloat64);
  EXPECT_EQ(values(slice(x, 0, 1, 5, 2)), (std::vector<double>{1, 3}));
  EXPECT_EQ(values(slice(x, 0, 1, 6, 2)), (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(values(slice(x, 0, -3)), (std::vector<double>{4, 5, 6}));
  EXPECT_EQ(values(slice(x, 0, std::nullopt, -5)), (std::vector<double>{0, 1}));
  EXPECT_EQ(values(slice(x, 0, std::nullopt, std::nullopt, 3)), (std::vector<double>{0, 3, 6}));
  EXPECT_EQ(values(x.slice()), values(x));
  // Out-of-range bounds are clamped, as x[5:100] and x[-100:2] in Python.
  EXPECT_EQ(values(slice(x, 0, 5, 100)), (std::vector<double>{5, 6}));
  EXPECT_EQ(values(slice(x, 0, -100, 2)), (std::vector<double>{0, 1}));
  EXPECT_EQ(slice(x, 0, 9, 12).shape(), (Shape{0}));
  EXPECT_EQ(slice(x, 0, 4, 2).shape(), (Shape{0}));
  EXPECT_EQ(slice(x, 0, 0, 7, std::numeric_limits<std::int64_t>::max()).shape(), (Shape{1}));
}

TEST(Slice, AlongInnerDims) {
  const Tensor x = arange_shaped({2, 3, 4});
  const Tensor s = x.slice(2, 1, std::nullopt, 2);
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(values(s), (std::vector<double>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23}));
  EXPECT_EQ(values(slice(x, -2, 1, 2)), (std::vector<double>{4, 5, 6, 7, 16, 17, 18, 19}));
  EXPECT_EQ(longs(slice(tensor({{1, 2, 3}, {4, 5, 6}}), 1, 1)), (std::vector<std::int64_t>{2, 3, 5, 6}));
  EXPECT_EQ(bools(slice(tensor({1, 0, 1}).to(kBool), 0, 1)), (std::vector<bool>{false, true}));
}

TEST(Narrow, StrictRange) {
  const Tensor x = arange_shaped({3, 4});
  EXPECT_EQ(values(narrow(x, 1, 1, 2)), (std::vector<double>{1, 2, 5, 6, 9, 10}));
  EXPECT_EQ(values(x.narrow(0, -1, 1)), (std::vector<double>{8, 9, 10, 11}));
  EXPECT_EQ(narrow(x, 0, 3, 0).shape(), (Shape{0, 4}));
  EXPECT_EQ(narrow(x, 0, -3, 3).shape(), (Shape{3, 4}));
}

TEST(SliceGradients, GradcheckAndNames) {
  manual_seed(42);
  const Tensor x = leaf({5, 4});
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return slice(in[0], 0, 1, 5, 2); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return slice(in[0], -1, -3, 100, 2); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return narrow(in[0], 1, 1, 3); }, {x}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return narrow(in[0], 0, -2, 2) * slice(in[0], 0, 0, 2); }, {x}));
  EXPECT_EQ(std::string(slice(x, 0, 1).grad_fn()->name()), "SliceBackward0");
  EXPECT_EQ(std::string(narrow(x, 0, 1, 1).grad_fn()->name()), "SliceBackward0");
  // An empty slice still gives x a (zero) gradient of its own shape.
  Tensor y = leaf({3, 2});
  sum(slice(y, 0, 2, 1)).backward();
  EXPECT_EQ(values(y.grad()), (std::vector<double>(6, 0.0)));
}

// ---- index_select ----------------------------------------------------------------------------------

TEST(IndexSelect, PicksInIndexOrder) {
  const Tensor x = arange_shaped({3, 4});
  EXPECT_EQ(values(index_select(x, 0, tensor({2, 0, 2}))), (std::vector<double>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}));
  const Tensor columns = x.index_select(-1, tensor({3, 1}));
  EXPECT_EQ(columns.shape(), (Shape{3, 2}));
  EXPECT_EQ(values(columns), (std::vector<double>{3, 1, 7, 5, 11, 9}));
  // A 0-D index acts as a one-element list: the dim stays, with size 1.
  EXPECT_EQ(index_select(x, 1, tensor(2)).shape(), (Shape{3, 1}));
  EXPECT_EQ(index_select(x, 0, zeros({0}, kLong)).shape(), (Shape{0, 4}));
  EXPECT_EQ(index_select(tensor(5.0, kFloat64), 0, tensor({0})).shape(), Shape{});
  EXPECT_EQ(longs(index_select(tensor({10, 20, 30}), 0, tensor({2, 2}))), (std::vector<std::int64_t>{30, 30}));
  EXPECT_EQ(bools(index_select(tensor({1, 0}).to(kBool), 0, tensor({1, 0}))), (std::vector<bool>{false, true}));
}

TEST(IndexSelectGradients, RepeatedIndicesAccumulate) {
  Tensor x = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, kFloat64).requires_grad_();
  const Tensor out = index_select(x, 0, tensor({2, 0, 2, 2}));
  EXPECT_EQ(std::string(out.grad_fn()->name()), "IndexSelectBackward0");
  out.backward(tensor({{1.0, 2.0}, {10.0, 20.0}, {100.0, 200.0}, {1000.0, 2000.0}}, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{10, 20, 0, 0, 1101, 2202}));
  manual_seed(43);
  const Tensor index = tensor({1, 3, 1, 0, 1});
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return index_select(in[0], 1, index); }, {leaf({2, 4, 3})}));
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return index_select(in[0], 0, index); }, {leaf({4, 3})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return index_select(in[0], -1, tensor(2)); }, {leaf({2, 3})}));
}

// ---- masked_fill -----------------------------------------------------------------------------------

TEST(MaskedFill, FillsWhereTheMaskIsTrue) {
  const Tensor x = arange_shaped({2, 3});
  const Tensor mask = tensor({{1, 0, 0}, {0, 1, 1}}).to(kBool);
  EXPECT_EQ(values(masked_fill(x, mask, -1.0)), (std::vector<double>{-1, 1, 2, 3, -1, -1}));
  EXPECT_EQ(values(x), (std::vector<double>{0, 1, 2, 3, 4, 5}));  // out of place
  // A row mask broadcasts down the rows (the attention-mask pattern), here with -inf.
  const Tensor row = tensor({0, 0, 1}).to(kBool);
  const Tensor inf = x.masked_fill(row, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isinf(values(inf)[2]) && std::isinf(values(inf)[5]));
  EXPECT_EQ(values(inf)[4], 4.0);
  // A mask larger than x broadcasts x, as PyTorch's out-of-place masked_fill does.
  const Tensor wide = masked_fill(tensor({{1.0}, {2.0}}, kFloat64), tensor({{{1, 0, 0}, {0, 0, 1}}}).to(kBool), 0.0);
  EXPECT_EQ(wide.shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(values(wide), (std::vector<double>{0, 1, 1, 2, 2, 0}));
  EXPECT_EQ(values(masked_fill(x, mask, tensor(7.0, kFloat64))), (std::vector<double>{7, 1, 2, 3, 7, 7}));
}

TEST(MaskedFill, ValueTakesTheInputDtype) {
  const Tensor mask = tensor({1, 0}).to(kBool);
  EXPECT_EQ(longs(masked_fill(tensor({1, 2}), mask, 2.5)), (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(masked_fill(tensor({1, 2}).to(kUInt8), mask, -1).to(kInt64).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{255, 2}));
  EXPECT_EQ(bools(masked_fill(tensor({0, 0}).to(kBool), mask, 5)), (std::vector<bool>{true, false}));
  EXPECT_EQ(masked_fill(tensor({1.0f, 2.0f}), mask, tensor(0.5, kFloat64)).dtype(), kFloat32);
  const Tensor nan = masked_fill(tensor({1.0f, 2.0f}), mask, std::nan(""));
  EXPECT_TRUE(std::isnan(nan.to_vector<float>()[0]));
}

TEST(MaskedFillGradients, ZeroWhereFilledAndValueGetsTheMaskedSum) {
  Tensor x = tensor({{1.0, 2.0}, {3.0, 4.0}}, kFloat64).requires_grad_();
  Tensor value = tensor(9.0, kFloat64).requires_grad_();
  const Tensor mask = tensor({{1, 0}, {1, 1}}).to(kBool);
  const Tensor out = masked_fill(x, mask, value);
  EXPECT_EQ(std::string(out.grad_fn()->name()), "MaskedFillBackward1");
  out.backward(tensor({{1.0, 2.0}, {10.0, 20.0}}, kFloat64));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 2, 0, 0}));
  EXPECT_EQ(value.grad().item<double>(), 31.0);
  EXPECT_EQ(std::string(masked_fill(x, mask, 0.0).grad_fn()->name()), "MaskedFillBackward0");

  // A float64 value filling a float32 input gets its gradient in float64.
  Tensor wide_value = tensor(1.0, kFloat64).requires_grad_();
  masked_fill(tensor({1.0f, 2.0f}), tensor({1, 1}).to(kBool), wide_value).backward(tensor({0.5f, 0.25f}));
  EXPECT_EQ(wide_value.grad().dtype(), kFloat64);
  EXPECT_EQ(wide_value.grad().item<double>(), 0.75);

  manual_seed(44);
  const Tensor random_mask = randint(2, {3, 4}).to(kBool);
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return masked_fill(in[0], random_mask, 0.5); }, {leaf({3, 4})}));
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return masked_fill(in[0], random_mask, in[1]); },
                               {leaf({3, 4}), leaf({})}));
  // x broadcast by the mask: its gradient is summed back.
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return masked_fill(in[0], random_mask, in[1]); },
                               {leaf({4}), leaf({})}));
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return masked_fill(in[0], random_mask[0], 1.0); },
                               {leaf({2, 3, 4})}));
}

// ---- where -----------------------------------------------------------------------------------------

TEST(Where, ChoosesElementwise) {
  const Tensor c = tensor({{1, 0, 1}}).to(kBool);
  const Tensor a = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64);
  const Tensor b = tensor({{-1.0}, {-2.0}}, kFloat64);
  const Tensor out = where(c, a, b);
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(out), (std::vector<double>{1, -1, 3, 4, -2, 6}));
  EXPECT_EQ(values(where(c, a, 0.0)), (std::vector<double>{1, 0, 3, 4, 0, 6}));
  EXPECT_EQ(values(where(c, 7.0, b)), (std::vector<double>{7, -1, 7, 7, -2, 7}));
  // Three-way broadcasting: [3] with [2, 1] with [] gives [2, 3].
  EXPECT_EQ(where(tensor({1, 0, 1}).to(kBool), tensor({{1.0}, {2.0}}, kFloat64), tensor(0.0, kFloat64)).shape(), (Shape{2, 3}));
  EXPECT_EQ(longs(where(tensor({1, 0}).to(kBool), tensor({1, 2}), tensor({3, 4}))), (std::vector<std::int64_t>{1, 4}));
  EXPECT_EQ(bools(where(tensor({1, 0}).to(kBool), tensor({0, 0}).to(kBool), tensor({1, 1}).to(kBool))),
            (std::vector<bool>{false, true}));
}

TEST(Where, PromotesAsPyTorch) {
  const Tensor c = tensor({1, 0}).to(kBool);
  EXPECT_EQ(where(c, tensor({1.0f, 2.0f}), tensor({1.0, 2.0}, kFloat64)).dtype(), kFloat64);
  EXPECT_EQ(where(c, tensor({1.0f, 2.0f}), tensor({1, 2})).dtype(), kFloat32);
  const Tensor mixed = where(c, tensor({1, 2}), 2.5);
  EXPECT_EQ(mixed.dtype(), kFloat32);
  EXPECT_EQ(mixed.to_vector<float>(), (std::vector<float>{1.0f, 2.5f}));
  EXPECT_EQ(where(c, tensor({1, 1}).to(kBool), 3).dtype(), kInt64);
  EXPECT_EQ(where(c, 1.0, tensor({1.0f, 1.0f})).dtype(), kFloat32);
}

TEST(WhereGradients, SplitByTheCondition) {
  Tensor a = tensor({1.0, 2.0, 3.0}, kFloat64).requires_grad_();
  Tensor b = tensor(5.0, kFloat64).requires_grad_();
  const Tensor out = where(tensor({1, 0, 0}).to(kBool), a, b);
  EXPECT_EQ(std::string(out.grad_fn()->name()), "WhereBackward0");
  out.backward(tensor({1.0, 10.0, 100.0}, kFloat64));
  EXPECT_EQ(values(a.grad()), (std::vector<double>{1, 0, 0}));
  EXPECT_EQ(b.grad().item<double>(), 110.0);
  // A float32 input promoted next to float64 gets its gradient back in float32.
  Tensor narrow_input = tensor({1.0f, 2.0f}).requires_grad_();
  where(tensor({1, 0}).to(kBool), narrow_input, tensor({0.0, 0.0}, kFloat64)).backward(tensor({3.0, 4.0}, kFloat64));
  EXPECT_EQ(narrow_input.grad().to_vector<float>(), (std::vector<float>{3.0f, 0.0f}));

  manual_seed(45);
  const Tensor c = randint(2, {2, 3, 4}).to(kBool);
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return where(c, in[0], in[1]); }, {leaf({2, 3, 4}), leaf({2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return where(c, in[0], in[1]); }, {leaf({3, 1}), leaf({4})}));
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return where(c[0], in[0], -1.0); }, {leaf({2, 3, 4})}));
  EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return where(c, 2.0, in[0]); }, {leaf({})}));
}

// ---- cat and stack ---------------------------------------------------------------------------------

TEST(Cat, JoinsAlongADim) {
  const Tensor a = arange_shaped({2, 2});
  const Tensor b = arange_shaped({2, 1}) + 10.0;
  EXPECT_EQ(values(cat({a, b}, 1)), (std::vector<double>{0, 1, 10, 2, 3, 11}));
  EXPECT_EQ(values(cat({a, a}, 0)), (std::vector<double>{0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(cat({a, a}).shape(), (Shape{4, 2}));
  EXPECT_EQ(cat({a, b, a}, -1).shape(), (Shape{2, 5}));
  const std::vector<Tensor> parts{a, a, a};
  EXPECT_EQ(cat(parts, 1).shape(), (Shape{2, 6}));
  EXPECT_EQ(cat({a}, 0).shape(), (Shape{2, 2}));
  EXPECT_EQ(cat({zeros({0, 2}, kFloat64), a}, 0).shape(), (Shape{2, 2}));
  EXPECT_EQ(longs(cat({tensor({1, 2}), tensor({3})})), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(bools(cat({tensor({1}).to(kBool), tensor({0}).to(kBool)})), (std::vector<bool>{true, false}));
}

TEST(Cat, LegacyEmptyTensorsAndPromotion) {
  // As PyTorch: a 1-D tensor with no elements joins anything.
  const Tensor a = arange_shaped({2, 3});
  EXPECT_EQ(values(cat({zeros({0}, kFloat64), a, zeros({0}, kFloat64)}, 1)), values(a));
  EXPECT_EQ(cat({zeros({0}), zeros({0})}).shape(), (Shape{0}));
  EXPECT_EQ(cat({tensor({1.0f}), tensor({2.0}, kFloat64)}).dtype(), kFloat64);
  EXPECT_EQ(cat({tensor({1.0f}), tensor({2})}).to_vector<float>(), (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(cat({tensor({1}).to(kBool), tensor({7}).to(kUInt8)}).dtype(), kUInt8);
}

TEST(Stack, JoinsAlongANewDim) {
  const Tensor a = arange_shaped({2, 3});
  const Tensor b = a + 10.0;
  EXPECT_EQ(stack({a, b}).shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(values(stack({a, b}, 1)), (std::vector<double>{0, 1, 2, 10, 11, 12, 3, 4, 5, 13, 14, 15}));
  EXPECT_EQ(values(stack({a, b}, -1)), (std::vector<double>{0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15}));
  EXPECT_EQ(values(stack({tensor(1.0, kFloat64), tensor(2.0, kFloat64)})), (std::vector<double>{1, 2}));
  EXPECT_EQ(longs(stack({tensor({1, 2}), tensor({3, 4})}, 1)), (std::vector<std::int64_t>{1, 3, 2, 4}));
  EXPECT_EQ(stack({tensor({1.0f}), tensor({1.0}, kFloat64)}).dtype(), kFloat64);
}

TEST(CatStackGradients, PiecesGoBack) {
  Tensor a = tensor({{1.0, 2.0}}, kFloat64).requires_grad_();
  const Tensor constant = tensor({{3.0}}, kFloat64);
  Tensor b = tensor({{4.0, 5.0, 6.0}}, kFloat64).requires_grad_();
  const Tensor out = cat({a, constant, b}, 1);
  EXPECT_EQ(std::string(out.grad_fn()->name()), "CatBackward0");
  out.backward(tensor({{1.0, 2.0, 3.0, 4.0, 5.0, 6.0}}, kFloat64));
  EXPECT_EQ(values(a.grad()), (std::vector<double>{1, 2}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{4, 5, 6}));
  // The same tensor twice gets both pieces.
  Tensor c = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  cat({c, c}).backward(tensor({1.0, 2.0, 10.0, 20.0}, kFloat64));
  EXPECT_EQ(values(c.grad()), (std::vector<double>{11, 22}));
  Tensor d = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  const Tensor stacked = stack({d, d * 3.0}, 1);
  EXPECT_EQ(std::string(stacked.grad_fn()->name()), "StackBackward0");
  stacked.backward(tensor({{1.0, 2.0}, {10.0, 20.0}}, kFloat64));
  EXPECT_EQ(values(d.grad()), (std::vector<double>{7, 70}));
  // A skipped empty input still gets its (empty) gradient.
  Tensor empty = zeros({0}, kFloat64).requires_grad_();
  sum(cat({empty, leaf({2, 2})}, 1)).backward();
  EXPECT_EQ(empty.grad().shape(), (Shape{0}));

  manual_seed(46);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return cat({in[0], in[1], in[0]}, 1); },
                               {leaf({2, 3, 2}), leaf({2, 1, 2})}));
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return cat({in[0], in[1]}, -1); }, {leaf({3, 2}), leaf({3, 4})}));
  for (std::int64_t dim : {0, 1, 2, -1})
    EXPECT_TRUE(passes_gradcheck([dim](const auto& in) { return stack({in[0], in[1], in[0]}, dim); },
                                 {leaf({2, 3}), leaf({2, 3})}));
}

// ---- the derivatives are differentiable ops themselves ------------------------------------------------

// Each Backward computes its gradient with recorded ops, so a gradient can be differentiated again
// once backward records its own pass. Called directly (outside backward's no-grad mode), a node's
// backward is a function of the upstream g; as a function of g it must pass gradcheck too.
::testing::AssertionResult backward_passes_gradcheck(const Tensor& out, const std::string& backward_name) {
  const std::shared_ptr<Node> node = out.grad_fn();
  const Tensor g = leaf(out.shape());
  const gradient_list grads = node->backward(g);
  for (const Tensor& grad : grads) {
    if (!grad.defined()) continue;
    if (!grad.grad_fn() || grad.grad_fn()->name() != backward_name)
      return ::testing::AssertionFailure() << node->name() << " gave a gradient recorded as "
                                           << (grad.grad_fn() ? grad.grad_fn()->name() : "nothing")
                                           << ", expected " << backward_name;
  }
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    ::testing::AssertionResult result = passes_gradcheck([&](const auto& in) { return node->backward(in[0])[i]; }, {g});
    if (!result) return result << " (gradient " << i << " of " << node->name() << ")";
  }
  return ::testing::AssertionSuccess();
}

TEST(IndexingGradients, BackwardsAreDifferentiable) {
  manual_seed(47);
  const Tensor x = leaf({3, 4});
  EXPECT_TRUE(backward_passes_gradcheck(select(x, 1, 2), "SelectBackwardBackward0"));
  EXPECT_TRUE(backward_passes_gradcheck(slice(x, 1, 1, 4, 2), "SliceBackwardBackward0"));
  EXPECT_TRUE(backward_passes_gradcheck(index_select(x, 0, tensor({2, 0, 2})), "IndexAddBackward0"));
  const Tensor mask = tensor({1, 0, 0, 1}).to(kBool);
  EXPECT_TRUE(backward_passes_gradcheck(masked_fill(x, mask, 0.0), "MaskedFillBackward0"));
  EXPECT_TRUE(backward_passes_gradcheck(where(mask, x, leaf({3, 4})), "WhereBackward0"));
  EXPECT_TRUE(backward_passes_gradcheck(cat({x, leaf({3, 2})}, 1), "SliceBackward0"));
  EXPECT_TRUE(backward_passes_gradcheck(stack({x, x}, 1), "SelectBackward0"));
}

// ---- errors ----------------------------------------------------------------------------------------

TEST(IndexingErrors, Select) {
  const Tensor x = zeros({3, 4});
  EXPECT_TRUE(throws_error_containing([&] { select(x, 0, 3); }, {"select", "index 3 is out of bounds for dimension 0 with size 3", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { select(x, 1, -5); }, {"select", "index -5", "dimension 1", "size 4", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { select(x, 2, 0); }, {"select", "dim 2", "[3, 4]"}));
  // x[i] reports as the operator the program used.
  EXPECT_TRUE(throws_error_containing([&] { x[-4]; }, {"operator[]", "index -4", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { tensor(1.0, kFloat64)[0]; }, {"operator[]", "0-dim"}));
  EXPECT_TRUE(throws_error_containing([] { select(Tensor(), 0, 0); }, {"select", "undefined"}));
}

TEST(IndexingErrors, SliceAndNarrow) {
  const Tensor x = zeros({3, 4});
  EXPECT_TRUE(throws_error_containing([&] { slice(x, 0, 0, 2, 0); }, {"slice", "step", "0"}));
  EXPECT_TRUE(throws_error_containing([&] { slice(x, 0, 0, 2, -1); }, {"slice", "step", "-1"}));
  EXPECT_TRUE(throws_error_containing([&] { slice(x, -3); }, {"slice", "dim -3", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { slice(tensor(1.0, kFloat64)); }, {"slice", "0-dim"}));
  EXPECT_TRUE(throws_error_containing([&] { narrow(x, 0, 2, 2); }, {"narrow", "start (2)", "length (2)", "size 3", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { narrow(x, 1, -5, 1); }, {"narrow", "start -5", "size 4", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { narrow(x, 1, 5, 0); }, {"narrow", "start 5", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { narrow(x, 0, 1, -1); }, {"narrow", "length (-1)"}));
  EXPECT_TRUE(throws_error_containing([&] { narrow(x, 2, 0, 1); }, {"narrow", "dim 2", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { narrow(tensor(1.0, kFloat64), 0, 0, 1); }, {"narrow", "0-dim"}));
}

TEST(IndexingErrors, IndexSelect) {
  const Tensor x = zeros({3, 4});
  EXPECT_TRUE(throws_error_containing([&] { index_select(x, 0, tensor({0, 3})); },
                                      {"index_select", "index value 3", "position 1", "dim 0", "size 3", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { index_select(x, 1, tensor({-1})); }, {"index_select", "index value -1", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { index_select(x, 0, tensor({0.0}, kFloat64)); }, {"index_select", "int64", "float64"}));
  EXPECT_TRUE(throws_error_containing([&] { index_select(x, 0, tensor({1}).to(kBool)); }, {"index_select", "int64", "bool"}));
  EXPECT_TRUE(throws_error_containing([&] { index_select(x, 0, tensor({{0, 1}})); }, {"index_select", "1-D", "[1, 2]"}));
  EXPECT_TRUE(throws_error_containing([&] { index_select(x, 2, tensor({0})); }, {"index_select", "dim 2", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { index_select(tensor(1.0, kFloat64), 0, tensor({0, 0})); }, {"index_select", "0-dim", "[2]"}));
  EXPECT_TRUE(throws_error_containing([&] { index_select(x, 0, Tensor()); }, {"index_select", "index", "undefined"}));
}

TEST(IndexingErrors, MaskedFill) {
  const Tensor x = zeros({3, 4});
  EXPECT_TRUE(throws_error_containing([&] { masked_fill(x, ones({3, 4}).to(kUInt8), 1.0); },
                                      {"masked_fill", "mask", "bool", "uint8", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { masked_fill(x, ones({3, 4}), 1.0); }, {"masked_fill", "mask", "float32"}));
  EXPECT_TRUE(throws_error_containing([&] { masked_fill(x, ones({3}).to(kBool), 1.0); }, {"masked_fill", "[3, 4]", "[3]"}));
  EXPECT_TRUE(throws_error_containing([&] { masked_fill(x, ones({4}).to(kBool), tensor({1.0}, kFloat64)); },
                                      {"masked_fill", "value", "0-dim", "[1]"}));
  const Tensor mask = ones({2}).to(kBool);
  EXPECT_TRUE(throws_error_containing([&] { masked_fill(ones({2}).to(kUInt8), mask, 300); },
                                      {"masked_fill", "300", "uint8", "overflow"}));
  EXPECT_TRUE(throws_error_containing([&] { masked_fill(tensor({1, 2}), mask, std::nan("")); },
                                      {"masked_fill", "nan", "int64", "overflow"}));
  EXPECT_TRUE(throws_error_containing([&] { masked_fill(zeros({2}), mask, 1e300); }, {"masked_fill", "float32", "overflow"}));
  EXPECT_TRUE(throws_error_containing([&] { masked_fill(x, Tensor(), 1.0); }, {"masked_fill", "mask", "undefined"}));
}

TEST(IndexingErrors, Where) {
  const Tensor x = zeros({3, 4});
  EXPECT_TRUE(throws_error_containing([&] { where(ones({3, 4}), x, x); }, {"where", "condition", "bool", "float32"}));
  EXPECT_TRUE(throws_error_containing([&] { where(ones({2}).to(kBool), x, x); }, {"where", "[2]", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { where(ones({4}).to(kBool), x, zeros({5})); }, {"where", "[4]", "[3, 4]", "[5]"}));
  EXPECT_TRUE(throws_error_containing([&] { where(ones({2}).to(kBool), ones({2}).to(kUInt8), 300); },
                                      {"where", "300", "uint8", "overflow"}));
  EXPECT_TRUE(throws_error_containing([&] { where(ones({4}).to(kBool), x, Tensor()); }, {"where", "b", "undefined"}));
}

TEST(IndexingErrors, CatAndStack) {
  const Tensor a = zeros({2, 3});
  EXPECT_TRUE(throws_error_containing([] { cat({}); }, {"cat", "non-empty"}));
  EXPECT_TRUE(throws_error_containing([&] { cat({a, zeros({2, 4})}, 0); },
                                      {"cat", "except along dim 0", "tensor 1", "[2, 4]", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { cat({a, zeros({3})}); }, {"cat", "number of dims", "[2, 3]", "[3]"}));
  EXPECT_TRUE(throws_error_containing([&] { cat({a, a}, 2); }, {"cat", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([] { cat({tensor(1.0, kFloat64), tensor(2.0, kFloat64)}); }, {"cat", "zero-dimensional", "position 0"}));
  EXPECT_TRUE(throws_error_containing([&] { cat({a, Tensor()}); }, {"cat", "tensor 1", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { stack({}); }, {"stack", "non-empty"}));
  EXPECT_TRUE(throws_error_containing([&] { stack({a, zeros({3, 2})}); }, {"stack", "[2, 3]", "entry 0", "[3, 2]", "entry 1"}));
  EXPECT_TRUE(throws_error_containing([&] { stack({a, a}, 3); }, {"stack", "dim 3", "[2, 3]", "[-3, 2]"}));
  EXPECT_TRUE(throws_error_containing([&] { stack({a, a}, -4); }, {"stack", "dim -4"}));
}

TEST(IndexingErrors, NothingIsRecordedOrHalfDone) {
  Tensor x = leaf({3, 2});
  EXPECT_THROW(index_select(x, 0, tensor({0, 7})), Error);
  EXPECT_THROW(cat({x, leaf({3, 3})}), Error);
  sum(index_select(x, 0, tensor({1}))).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 1, 1, 0, 0}));
}

// ---- second order (create_graph) ------------------------------------------------------------------
//
// differentiates_twice: gradgradcheck, and create_graph's first derivatives equal to the fast path's.
// Every indexing op is linear in its floating inputs: squaring its result makes the second
// derivative go through its recorded backward.

Tensor squared(const Tensor& t) { return t * t; }

TEST(IndexingSecondOrder, Picks) {
  manual_seed(90);
  const Tensor x = leaf({3, 4});
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(select(in[0], 1, 2)); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(in[0][-1]); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(slice(in[0], 1, 1, 4, 2)); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(narrow(in[0], 0, 1, 2)); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(index_select(in[0], 0, tensor({2, 0, 2}))); }, {x}));
}

TEST(IndexingSecondOrder, MaskedFillAndWhere) {
  manual_seed(91);
  const Tensor x = leaf({3, 4});
  const Tensor mask = tensor({1, 0, 0, 1}).to(kBool);
  EXPECT_TRUE(differentiates_twice([&](const auto& in) { return squared(masked_fill(in[0], mask, 2.5)); }, {x}));
  EXPECT_TRUE(differentiates_twice([&](const auto& in) { return squared(masked_fill(in[0], mask, in[1])); },
                                   {x, leaf({})}));
  EXPECT_TRUE(differentiates_twice([&](const auto& in) { return squared(where(mask, in[0], in[1])); },
                                   {x, leaf({3, 1})}));
  EXPECT_TRUE(differentiates_twice([&](const auto& in) { return squared(where(mask, in[0], 0.5)); }, {x}));
  EXPECT_TRUE(differentiates_twice([&](const auto& in) { return where(mask, in[0], in[1]) * in[1]; },
                                   {leaf({4}), leaf({3, 4})}));
}

TEST(IndexingSecondOrder, CatAndStack) {
  manual_seed(92);
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(cat({in[0], in[1], in[0]}, 1)); },
                                   {leaf({2, 3, 2}), leaf({2, 1, 2})}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return squared(cat({in[0], in[1]}, 1)); },
                                   {leaf({0}), leaf({2, 2})}));
  for (std::int64_t dim : {0, 1, 2, -1})
    EXPECT_TRUE(differentiates_twice([dim](const auto& in) { return squared(stack({in[0], in[1], in[0]}, dim)); },
                                     {leaf({2, 3}), leaf({2, 3})}));
}

}  // namespace
}  // namespace xgrad
