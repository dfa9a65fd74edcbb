// The functional forms for sequences: F::one_hot, F::pad (constant), F::normalize and
// F::cosine_similarity. Values, gradients and node names against PyTorch fixtures (sequence.json),
// options' defaults, gradcheck and gradgradcheck in float64, non-contiguous inputs, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using testing::all_close;
using testing::differentiates_twice;
using testing::golden_cases;
using testing::golden_tensor;
using testing::Json;
using testing::leaf;
using testing::matches_fixture;
using testing::passes_gradcheck;
using testing::throws_error_containing;
using testing::values;

std::vector<std::int64_t> longs(const Tensor& t) { return t.contiguous().to_vector<std::int64_t>(); }

// The xgrad call matching make_golden_sequence.py's CALLS[fn].
Tensor run_case(const std::string& fn, const Json& o, const std::vector<Tensor>& in) {
  if (fn == "pad")
    return F::pad(in[0], F::PadFuncOptions(o.at("pad").get<std::vector<std::int64_t>>()).value(o.at("value").get<double>()));
  if (fn == "normalize")
    return F::normalize(in[0], F::NormalizeFuncOptions().p(o.at("p").get<double>()).dim(o.at("dim").get<std::int64_t>()).eps(o.at("eps").get<double>()));
  if (fn == "cosine_similarity")
    return F::cosine_similarity(in[0], in[1], F::CosineSimilarityFuncOptions().dim(o.at("dim").get<std::int64_t>()).eps(o.at("eps").get<double>()));
  throw Error("test_functional_sequence: no call for fixture fn " + fn);
}

void expect_matches_fixtures(const std::string& fn) {
  const std::vector<Json> cases = golden_cases("sequence.json", fn);
  ASSERT_FALSE(cases.empty());
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    EXPECT_TRUE(matches_fixture(c, [&](const std::vector<Tensor>& in) { return run_case(fn, c.at("options"), in); }));
  }
}

TEST(FunctionalSequenceFixtures, Pad) { expect_matches_fixtures("pad"); }
TEST(FunctionalSequenceFixtures, Normalize) { expect_matches_fixtures("normalize"); }
TEST(FunctionalSequenceFixtures, CosineSimilarity) { expect_matches_fixtures("cosine_similarity"); }

TEST(FunctionalSequenceFixtures, OneHot) {
  const std::vector<Json> cases = golden_cases("sequence.json", "one_hot");
  ASSERT_FALSE(cases.empty());
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor out = F::one_hot(golden_tensor(c.at("inputs").at(0)), c.at("options").at("num_classes"));
    const Tensor expected = golden_tensor(c.at("output"));
    EXPECT_EQ(out.dtype(), kInt64);
    EXPECT_EQ(out.shape(), expected.shape());
    EXPECT_EQ(longs(out), longs(expected));
  }
}

// ---- options -------------------------------------------------------------------------------------

TEST(FunctionalSequenceOptions, LibtorchDefaults) {
  const F::PadFuncOptions pad({1, 2});
  EXPECT_EQ(pad.pad(), (std::vector<std::int64_t>{1, 2}));
  EXPECT_TRUE(std::holds_alternative<enumtype::kConstant>(pad.mode()));
  EXPECT_EQ(pad.value(), 0.0);
  const F::NormalizeFuncOptions normalize;
  EXPECT_EQ(normalize.p(), 2.0);
  EXPECT_EQ(normalize.dim(), 1);
  EXPECT_EQ(normalize.eps(), 1e-12);
  const F::CosineSimilarityFuncOptions cosine;
  EXPECT_EQ(cosine.dim(), 1);
  EXPECT_EQ(cosine.eps(), 1e-8);
  EXPECT_EQ(F::PadFuncOptions({0, 1}).mode(kConstant).value(2.5).value(), 2.5);
}

// ---- one_hot ---------------------------------------------------------------------------------------

TEST(OneHot, ValuesAndErrors) {
  EXPECT_EQ(longs(F::one_hot(tensor({2, 0}))), (std::vector<std::int64_t>{0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(F::one_hot(zeros({0}, kInt64), 4).shape(), (Shape{0, 4}));
  EXPECT_EQ(one_hot(tensor({1}), 3).dtype(), kInt64);
  EXPECT_TRUE(throws_error_containing([] { F::one_hot(tensor({1.0, 2.0})); },
                                      {"one_hot", "only applicable to index tensor", "float32"}));
  EXPECT_TRUE(throws_error_containing([] { F::one_hot(tensor({1, -2}), 5); }, {"Class values must be non-negative"}));
  EXPECT_TRUE(throws_error_containing([] { F::one_hot(tensor({1, 2}), 2); },
                                      {"Class values must be smaller than num_classes", "2"}));
  EXPECT_TRUE(throws_error_containing([] { F::one_hot(zeros({0}, kInt64)); },
                                      {"Can not infer total number of classes from empty tensor"}));
}

// ---- pad -----------------------------------------------------------------------------------------------

TEST(Pad, ValuesDtypesAndCropping) {
  const Tensor x = tensor({{1.0, 2.0}, {3.0, 4.0}}, kFloat64);
  EXPECT_EQ(values(F::pad(x, F::PadFuncOptions({1, 0}).value(9.0))), (std::vector<double>{9, 1, 2, 9, 3, 4}));
  EXPECT_EQ(F::pad(x, F::PadFuncOptions({0, 0, 1, 2})).shape(), (Shape{5, 2}));
  EXPECT_EQ(values(F::pad(x, F::PadFuncOptions({-1, 0}))), (std::vector<double>{2, 4}));
  // The value takes the input's dtype: 1.5 pads an int64 tensor with 1, 2 a bool one with true.
  EXPECT_EQ(longs(F::pad(tensor({1, 2}), F::PadFuncOptions({1, 1}).value(1.5))), (std::vector<std::int64_t>{1, 1, 2, 1}));
  EXPECT_EQ(F::pad(tensor({false}), F::PadFuncOptions({1, 0}).value(2)).to(kInt64).sum().item<std::int64_t>(), 1);
  EXPECT_EQ(constant_pad_nd(x, {1, 1}, -1).shape(), (Shape{2, 4}));
}

TEST(Pad, NonContiguousInputAndGradients) {
  manual_seed(201);
  const Tensor x = randn({3, 4}, kFloat64).t();
  ASSERT_FALSE(x.is_contiguous());
  const F::PadFuncOptions options({1, -1, 2, 0});
  EXPECT_TRUE(all_close(F::pad(x, options), F::pad(x.contiguous(), options), 0, 0));
  const Tensor y = leaf({2, 3, 2});
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return F::pad(in[0], F::PadFuncOptions({1, 2, -1, 1})); }, {y}));
  EXPECT_TRUE(differentiates_twice(
      [](const auto& in) { return F::pad(in[0] * in[0], F::PadFuncOptions({1, 2, -1, 1}).value(3.0)); }, {y}));
}

TEST(Pad, Errors) {
  const Tensor x = zeros({3, 4});
  EXPECT_TRUE(throws_error_containing([&] { F::pad(x, F::PadFuncOptions({1})); },
                                      {"pad", "Padding length must be divisible by 2", "[1]"}));
  EXPECT_TRUE(throws_error_containing([&] { F::pad(x, F::PadFuncOptions({1, 1, 1, 1, 1, 1})); },
                                      {"pad", "Padding length too large", "[3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { F::pad(x, F::PadFuncOptions({-3, -2})); },
                                      {"The input size 4, plus negative padding -3 and -2 resulted in a negative output "
                                       "size", "dimension 1"}));
  EXPECT_TRUE(throws_error_containing([&] { constant_pad_nd(x, {1, 1, 1}); }, {"constant_pad_nd", "even", "3"}));
}

// Expected values printed by libtorch 1.13's F::pad on the same inputs.
TEST(Pad, ReflectReplicateAndCircular) {
  const Tensor row = arange(1, 5, kFloat64).reshape({1, 1, 4});  // 1 2 3 4
  EXPECT_EQ(values(F::pad(row, F::PadFuncOptions({2, 1}).mode(kReflect))), (std::vector<double>{3, 2, 1, 2, 3, 4, 3}));
  EXPECT_EQ(values(F::pad(row, F::PadFuncOptions({2, 1}).mode(kReplicate))),
            (std::vector<double>{1, 1, 1, 2, 3, 4, 4}));
  EXPECT_EQ(values(F::pad(row, F::PadFuncOptions({2, 1}).mode(kCircular))), (std::vector<double>{3, 4, 1, 2, 3, 4, 1}));
  EXPECT_EQ(values(F::pad(row, F::PadFuncOptions({4, 0}).mode(kCircular))), (std::vector<double>{1, 2, 3, 4, 1, 2, 3, 4}));
  // A negative amount crops; circular wraps what is left.
  EXPECT_EQ(values(F::pad(row, F::PadFuncOptions({-1, 2}).mode(kReflect))), (std::vector<double>{2, 3, 4, 3, 2}));
  EXPECT_EQ(values(F::pad(row, F::PadFuncOptions({-1, 2}).mode(kReplicate))), (std::vector<double>{2, 3, 4, 4, 4}));
  EXPECT_EQ(values(F::pad(row, F::PadFuncOptions({-1, 2}).mode(kCircular))), (std::vector<double>{2, 3, 4, 2, 3}));
  // An unbatched (C, W) input.
  EXPECT_EQ(values(F::pad(row.reshape({1, 4}), F::PadFuncOptions({1, 1}).mode(kReflect))),
            (std::vector<double>{2, 1, 2, 3, 4, 3}));

  const Tensor square = arange(1, 10, kFloat64).reshape({1, 1, 3, 3});
  const Tensor reflected = F::pad(square, F::PadFuncOptions({1, 1, 2, 0}).mode(kReflect));
  EXPECT_EQ(reflected.shape(), (Shape{1, 1, 5, 5}));
  EXPECT_EQ(values(reflected), (std::vector<double>{8, 7, 8, 9, 8, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 8, 7, 8,
                                                    9, 8}));
  EXPECT_EQ(values(F::pad(square, F::PadFuncOptions({1, 0, 0, 2}).mode(kReplicate))),
            (std::vector<double>{1, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 7, 7, 8, 9, 7, 7, 8, 9}));
  EXPECT_EQ(values(F::pad(square, F::PadFuncOptions({1, 2, 1, 0}).mode(kCircular))),
            (std::vector<double>{9, 7, 8, 9, 7, 8, 3, 1, 2, 3, 1, 2, 6, 4, 5, 6, 4, 5, 9, 7, 8, 9, 7, 8}));
  // Three padded dims of an unbatched (C, D, H, W) input.
  EXPECT_EQ(F::pad(square, F::PadFuncOptions({1, 1, 1, 1, 0, 0}).mode(kReflect)).shape(), (Shape{1, 1, 5, 5}));
}

TEST(Pad, ReflectReplicateAndCircularGradients) {
  const Tensor x = leaf({2, 3, 4});
  for (const F::PadFuncOptions& options :
       {F::PadFuncOptions({2, 1}).mode(kReflect), F::PadFuncOptions({3, -1, 1, 2}).mode(kReplicate),
        F::PadFuncOptions({4, -1, 1, 3}).mode(kCircular), F::PadFuncOptions({-1, 2, 2, 0}).mode(kReflect)}) {
    EXPECT_TRUE(passes_gradcheck([&](const auto& in) { return F::pad(in[0], options); }, {x}));
    EXPECT_TRUE(differentiates_twice([&](const auto& in) { return F::pad(in[0] * in[0], options); }, {x}));
  }
}

TEST(Pad, ReflectReplicateAndCircularErrors) {
  const Tensor row = zeros({1, 1, 4});
  EXPECT_TRUE(throws_error_containing([&] { F::pad(row, F::PadFuncOptions({4, 0}).mode(kReflect)); },
                                      {"pad", "Padding size should be less than the corresponding input dimension",
                                       "padding (4, 0) at dimension 2", "[1, 1, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { F::pad(row, F::PadFuncOptions({5, 0}).mode(kCircular)); },
                                      {"pad", "Padding value causes wrapping around more than once"}));
  EXPECT_TRUE(throws_error_containing([&] { F::pad(zeros({4}), F::PadFuncOptions({1, 1}).mode(kReflect)); },
                                      {"pad", "Only 2D, 3D, 4D, 5D padding with non-constant padding", "[4]"}));
  EXPECT_TRUE(throws_error_containing([&] { F::pad(zeros({1, 1, 1, 4}), F::PadFuncOptions({1, 1}).mode(kReplicate)); },
                                      {"pad", "Only 2D, 3D, 4D, 5D padding", "kReplicate"}));
  EXPECT_TRUE(throws_error_containing([&] { F::pad(zeros({1, 1, 4}, kInt64), F::PadFuncOptions({1, 1}).mode(kReflect)); },
                                      {"pad", "kReflect", "floating point", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { F::pad(row, F::PadFuncOptions({1, 1}).mode(kReplicate).value(2)); },
                                      {"pad", "Padding mode \"replicate\" doesn't take in value argument"}));
  EXPECT_TRUE(throws_error_containing([&] { F::pad(row, F::PadFuncOptions({-3, -1}).mode(kReplicate)); },
                                      {"pad", "too small", "dimension 2"}));
  // The int64 circular pad works, as in PyTorch (it is a copy of elements).
  EXPECT_EQ(longs(F::pad(tensor({1, 2, 3}).reshape({1, 1, 3}), F::PadFuncOptions({1, 0}).mode(kCircular))),
            (std::vector<std::int64_t>{3, 1, 2, 3}));
}

// ---- normalize and cosine_similarity -------------------------------------------------------------------

TEST(Normalize, UnitRowsAndAZeroRow) {
  const Tensor x = tensor({{3.0, 4.0}, {0.0, 0.0}}, kFloat64);
  EXPECT_EQ(values(F::normalize(x)), (std::vector<double>{0.6, 0.8, 0, 0}));
  EXPECT_TRUE(all_close(F::normalize(x, F::NormalizeFuncOptions().p(1).dim(0)),
                        tensor({{1.0, 1.0}, {0.0, 0.0}}, kFloat64), 0, 0));
  EXPECT_EQ(std::string(F::normalize(leaf({2, 3})).grad_fn()->name()), "DivBackward0");
}

TEST(Normalize, GradientsAndNonContiguousInput) {
  manual_seed(202);
  const Tensor x = leaf({3, 4});
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return F::normalize(in[0]); }, {x}));
  EXPECT_TRUE(differentiates_twice([](const auto& in) { return F::normalize(in[0], F::NormalizeFuncOptions().dim(-1).p(3)); },
                                   {x}));
  const Tensor transposed = randn({4, 3}, kFloat64).t();
  EXPECT_TRUE(all_close(F::normalize(transposed), F::normalize(transposed.contiguous()), 1e-15, 0));
}

TEST(CosineSimilarity, ValuesBroadcastingAndDtypes) {
  const Tensor a = tensor({{1.0, 0.0}, {1.0, 1.0}}, kFloat64);
  const Tensor b = tensor({{0.0, 2.0}}, kFloat64);
  const Tensor cos = F::cosine_similarity(a, b);
  EXPECT_NEAR(values(cos)[0], 0.0, 1e-15);
  EXPECT_NEAR(values(cos)[1], std::sqrt(0.5), 1e-15);
  EXPECT_EQ(std::string(F::cosine_similarity(leaf({2, 3}), leaf({2, 3})).grad_fn()->name()), "SumBackward1");
  // float32 with float64 compares in float64, an int64 operand takes the other's dtype.
  EXPECT_EQ(F::cosine_similarity(ones({2, 3}), ones({2, 3}, kFloat64)).dtype(), kFloat64);
  EXPECT_EQ(cosine_similarity(ones({3}), tensor({1, 2, 3}), 0).dtype(), kFloat32);
  EXPECT_EQ(cosine_similarity(ones({3}), ones({3}), 0).dim(), 0);
}

TEST(CosineSimilarity, GradientsAndNonContiguousInput) {
  manual_seed(203);
  EXPECT_TRUE(passes_gradcheck([](const auto& in) { return F::cosine_similarity(in[0], in[1]); },
                               {leaf({3, 4}), leaf({3, 4})}));
  EXPECT_TRUE(differentiates_twice(
      [](const auto& in) { return F::cosine_similarity(in[0], in[1], F::CosineSimilarityFuncOptions().dim(-1)); },
      {leaf({2, 3, 4}), leaf({3, 1})}));
  const Tensor x = randn({4, 3}, kFloat64).t(), y = randn({3, 4}, kFloat64);
  EXPECT_TRUE(all_close(F::cosine_similarity(x, y), F::cosine_similarity(x.contiguous(), y), 1e-15, 0));
}

TEST(CosineSimilarity, Errors) {
  EXPECT_TRUE(throws_error_containing([] { F::cosine_similarity(zeros({2, 3}), zeros({4, 3})); },
                                      {"cosine_similarity", "[2, 3]", "[4, 3]"}));
  EXPECT_TRUE(throws_error_containing([] { F::cosine_similarity(zeros({3}), zeros({3})); },
                                      {"cosine_similarity", "dim 1", "[3]"}));
  EXPECT_TRUE(throws_error_containing([] { F::cosine_similarity(tensor({1, 2}), tensor({1, 2}), F::CosineSimilarityFuncOptions().dim(0)); },
                                      {"cosine_similarity", "floating point", "int64"}));
  EXPECT_TRUE(throws_error_containing([] { F::normalize(tensor({1, 2}), F::NormalizeFuncOptions().dim(0)); },
                                      {"norm", "int64"}));
}

}  // namespace
}  // namespace xgrad
