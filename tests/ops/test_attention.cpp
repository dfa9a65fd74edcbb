// scaled_dot_product_attention: PyTorch 2.0's values and gradients (from its reference formula),
// masks (float, bool, broadcast, causal, fully masked rows), non-contiguous inputs, the fused
// backward against the recorded formula, finite-difference first and second derivatives, dropout
// (its rate, its scale, its seed and its gradients), and every bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "compare.hpp"
#include "create_graph_checks.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::create_graph_keeps_the_gradients;
using testing::expect_differentiable_twice;
using testing::golden_cases;
using testing::golden_tensor;
using testing::Inputs;
using testing::Json;
using testing::leaf;
using testing::matches_golden;
using testing::passes_gradcheck;
using testing::passes_third_order_check;
using testing::throws_error_containing;

Tensor fixture_mask(const Json& options) {
  return options.contains("attn_mask") ? golden_tensor(options.at("attn_mask")) : Tensor();
}

// Each case with contiguous inputs, and again with each input a non-contiguous view of the same
// values (the (B, T, H, D) -> (B, H, T, D) transpose of a model's heads).
TEST(ScaledDotProductAttention, MatchesPyTorch) {
  const std::vector<Json> cases = golden_cases("attention.json", "sdpa");
  ASSERT_EQ(cases.size(), 26u);
  for (const Json& c : cases) {
    for (const bool strided : {false, true}) {
      SCOPED_TRACE(c.at("name").get<std::string>() + (strided ? " (strided)" : ""));
      Inputs leaves, inputs;
      for (const Json& input : c.at("inputs")) {
        const Tensor value = golden_tensor(input);
        const std::int64_t rank = value.dim();
        leaves.push_back(strided ? value.transpose(0, rank - 2).contiguous().requires_grad_() : value.requires_grad_());
        inputs.push_back(strided ? leaves.back().transpose(0, rank - 2) : leaves.back());
      }
      if (strided && inputs[0].dim() > 2 && inputs[0].size(0) > 1) ASSERT_FALSE(inputs[0].is_contiguous());
      const Tensor out = scaled_dot_product_attention(inputs[0], inputs[1], inputs[2], fixture_mask(c.at("options")),
                                                      0.0, c.at("options").at("is_causal"));
      EXPECT_TRUE(matches_golden(out, golden_tensor(c.at("output"))));
      ASSERT_TRUE(out.grad_fn());
      EXPECT_EQ(out.grad_fn()->name(), std::string("ScaledDotProductFlashAttentionBackward0"));
      out.backward(golden_tensor(c.at("upstream")));
      for (std::size_t i = 0; i < 3; ++i) {
        const Tensor grad = strided ? leaves[i].grad().transpose(0, leaves[i].dim() - 2) : leaves[i].grad();
        EXPECT_TRUE(matches_golden(grad, golden_tensor(c.at("grads").at(i)))) << "gradient " << i;
      }
    }
  }
}

// The recorded formula (create_graph) gives the fused backward's first derivatives, masks included.
TEST(ScaledDotProductAttention, FusedBackwardAgreesWithTheFormula) {
  for (const Json& c : golden_cases("attention.json", "sdpa")) {
    if (c.at("dtype") != "float64" || c.at("name").get<std::string>().find("fully_masked") != std::string::npos)
      continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    Inputs inputs;
    for (const Json& input : c.at("inputs")) inputs.push_back(golden_tensor(input).requires_grad_());
    const Tensor mask = fixture_mask(c.at("options"));
    const bool causal = c.at("options").at("is_causal");
    EXPECT_TRUE(create_graph_keeps_the_gradients(
        [&](const Inputs& in) { return scaled_dot_product_attention(in[0], in[1], in[2], mask, 0.0, causal); },
        inputs, 1e-10));
  }
}

TEST(ScaledDotProductAttention, GradcheckAndDoubleBackward) {
  const auto plain = [](const Inputs& in) { return scaled_dot_product_attention(in[0], in[1], in[2]); };
  const Inputs inputs{leaf({2, 3, 4}), leaf({2, 5, 4}), leaf({2, 5, 3})};
  EXPECT_TRUE(passes_gradcheck(plain, inputs));
  expect_differentiable_twice(plain, inputs);
  EXPECT_TRUE(passes_third_order_check(plain, inputs, 1));

  const auto causal = [](const Inputs& in) { return scaled_dot_product_attention(in[0], in[1], in[2], {}, 0.0, true); };
  const Inputs square{leaf({1, 2, 4, 3}), leaf({1, 2, 4, 3}), leaf({1, 2, 4, 3})};
  EXPECT_TRUE(passes_gradcheck(causal, square));
  expect_differentiable_twice(causal, square);

  // k and v shared by every head (broadcast leading dims): their gradients sum over the heads.
  const auto shared = [](const Inputs& in) { return scaled_dot_product_attention(in[0], in[1], in[2], {}, 0.0, true); };
  const Inputs heads{leaf({2, 1, 3, 4}), leaf({2, 3, 4}), leaf({3, 2})};
  EXPECT_TRUE(passes_gradcheck(shared, heads));
  expect_differentiable_twice(shared, heads);

  const Tensor keep = tensor({true, false, true, true, true}).view({1, 5});
  const auto masked = [&](const Inputs& in) { return scaled_dot_product_attention(in[0], in[1], in[2], keep); };
  EXPECT_TRUE(passes_gradcheck(masked, inputs));
  expect_differentiable_twice(masked, inputs);
}

TEST(ScaledDotProductAttention, AFloatMaskThatRequiresGradGetsItsGradient) {
  const auto fn = [](const Inputs& in) { return scaled_dot_product_attention(in[0], in[1], in[2], in[3]); };
  const Inputs inputs{leaf({2, 3, 4}), leaf({2, 5, 4}), leaf({2, 5, 2}), leaf({3, 5})};
  EXPECT_TRUE(passes_gradcheck(fn, inputs));
  EXPECT_TRUE(testing::passes_gradgradcheck(fn, inputs));
}

TEST(ScaledDotProductAttention, LongCausalSequencesSpanSeveralBlocks) {
  // 150 queries: three blocks of query rows, the later ones seeing more keys.
  manual_seed(5);
  const Tensor q = randn({1, 150, 8}, kFloat64), k = randn({1, 150, 8}, kFloat64), v = randn({1, 150, 4}, kFloat64);
  const Tensor causal_mask = tril(ones({150, 150}, kBool));
  const Tensor expected = scaled_dot_product_attention(q, k, v, causal_mask);
  EXPECT_TRUE(all_close(scaled_dot_product_attention(q, k, v, {}, 0.0, true), expected, 1e-12, 1e-12));
  EXPECT_TRUE(create_graph_keeps_the_gradients(
      [](const Inputs& in) { return scaled_dot_product_attention(in[0], in[1], in[2], {}, 0.0, true); },
      {q.clone().requires_grad_(), k.clone().requires_grad_(), v.clone().requires_grad_()}, 1e-10));
}

TEST(ScaledDotProductAttention, DropoutDrawsFromTheGlobalGenerator) {
  const Tensor q = randn({2, 4, 3}), k = randn({2, 5, 3}), v = randn({2, 5, 2});
  manual_seed(11);
  const Tensor first = scaled_dot_product_attention(q, k, v, {}, 0.5);
  manual_seed(11);
  EXPECT_TRUE(all_close(scaled_dot_product_attention(q, k, v, {}, 0.5), first, 0, 0));
  EXPECT_FALSE(all_close(scaled_dot_product_attention(q, k, v, {}, 0.5), first, 1e-5, 1e-6));
}

// With v the identity the output is the dropped weights themselves: each is 0 or the undropped
// weight / (1 - p), and about p of them are 0.
TEST(ScaledDotProductAttention, DropoutZeroesAboutPOfTheWeightsAndScalesTheRest) {
  const std::int64_t s = 64;
  const Tensor q = randn({4, s, 8}, kFloat64), k = randn({4, s, 8}, kFloat64);
  const Tensor identity = eye(s, kFloat64).expand({4, s, s});
  const Tensor weights = scaled_dot_product_attention(q, k, identity);
  const Tensor dropped = scaled_dot_product_attention(q, k, identity, {}, 0.25);
  const Tensor kept = dropped != 0;
  EXPECT_TRUE(all_close(dropped, where(kept, weights / 0.75, 0.0), 1e-12, 1e-15));
  const double zero_fraction = 1.0 - kept.sum().item<std::int64_t>() / double(4 * s * s);
  EXPECT_NEAR(zero_fraction, 0.25, 0.02);
}

// The fused backward regenerates the forward's dropout decisions: it agrees with the recorded
// formula, and with finite differences of the forward under the same seed.
TEST(ScaledDotProductAttention, DropoutGradients) {
  for (const bool causal : {false, true}) {
    const auto fn = [causal](const Inputs& in) {
      manual_seed(4);
      return scaled_dot_product_attention(in[0], in[1], in[2], {}, 0.3, causal);
    };
    const Inputs inputs{leaf({2, 4, 3}), leaf({2, 4, 3}), leaf({2, 4, 2})};
    EXPECT_TRUE(passes_gradcheck(fn, inputs)) << "causal " << causal;
    expect_differentiable_twice(fn, inputs);
  }
  const auto masked = [](const Inputs& in) {
    manual_seed(9);
    return scaled_dot_product_attention(in[0], in[1], in[2], tensor({true, false, true}), 0.5);
  };
  const Inputs inputs{leaf({2, 2, 4}), leaf({2, 3, 4}), leaf({2, 3, 2})};
  EXPECT_TRUE(passes_gradcheck(masked, inputs));
  expect_differentiable_twice(masked, inputs);
}

TEST(ScaledDotProductAttention, AFullyMaskedRowIsNaN) {
  const Tensor keep = tensor({true, true, false, false}).view({2, 2, 1});  // query 1 of batch 1 sees nothing
  const Tensor out = scaled_dot_product_attention(randn({2, 2, 3}), randn({2, 1, 3}), randn({2, 1, 3}), keep);
  EXPECT_FALSE(std::isnan(out[0].sum().item<float>()));
  EXPECT_TRUE(std::isnan(out[1][0][0].item<float>()));
}

TEST(ScaledDotProductAttention, BadArguments) {
  const Tensor q = randn({2, 3, 4}), k = randn({2, 5, 4}), v = randn({2, 5, 6});
  EXPECT_TRUE(throws_error_containing([&] { scaled_dot_product_attention(q, randn({2, 5, 3}), v); },
                                      {"scaled_dot_product_attention", "E", "[2, 3, 4]", "[2, 5, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { scaled_dot_product_attention(q, k, randn({2, 4, 6})); },
                                      {"scaled_dot_product_attention", "(S)", "[2, 4, 6]"}));
  EXPECT_TRUE(throws_error_containing([&] { scaled_dot_product_attention(q, randn({3, 5, 4}), randn({3, 5, 6})); },
                                      {"scaled_dot_product_attention", "leading"}));
  EXPECT_TRUE(throws_error_containing([&] { scaled_dot_product_attention(randn({4}), k, v); },
                                      {"scaled_dot_product_attention", "at least 2"}));
  EXPECT_TRUE(throws_error_containing([&] { scaled_dot_product_attention(q, k.to(kFloat64), v); },
                                      {"scaled_dot_product_attention", "same dtype", "float64"}));
  EXPECT_TRUE(throws_error_containing([&] { scaled_dot_product_attention(q, k, v, ones({3, 5}, kBool), 0.0, true); },
                                      {"scaled_dot_product_attention",
                                       "Explicit attn_mask should not be set when is_causal=True"}));
  EXPECT_TRUE(throws_error_containing([&] { scaled_dot_product_attention(q, k, v, zeros({3, 4})); },
                                      {"scaled_dot_product_attention", "attn_mask of shape [3, 4]", "[2, 3, 5]"}));
  EXPECT_TRUE(throws_error_containing([&] { scaled_dot_product_attention(q, k, v, zeros({3, 5}, kInt64)); },
                                      {"scaled_dot_product_attention", "bool or to match query dtype", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { scaled_dot_product_attention(q, k, v, {}, 1.5); },
                                      {"scaled_dot_product_attention", "between 0 and 1", "1.5"}));
  EXPECT_TRUE(throws_error_containing([&] { scaled_dot_product_attention(q.to(kInt64), k, v); },
                                      {"scaled_dot_product_attention", "int64"}));
}

// A char-GPT's attention (batch 12, 4 heads, 64 positions of 32) splits its (batch, head) slices
// over two threads, causal and with dropout: each slice is computed as on one thread and draws its
// dropout mask from its own position, so the results agree bit for bit.
TEST(ScaledDotProductAttention, TwoThreadsAgreeWithOneExactly) {
  const Tensor q0 = randn({12, 4, 64, 32}), k0 = randn({12, 4, 64, 32}), v0 = randn({12, 4, 64, 32});
  const Tensor up = randn({12, 4, 64, 32});
  for (const bool causal : {false, true})
    for (const double dropout : {0.0, 0.25})
      EXPECT_TRUE(testing::same_on_one_and_two_threads([&] {
        manual_seed(5);
        Tensor q = q0.clone().requires_grad_(), k = k0.clone().requires_grad_(), v = v0.clone().requires_grad_();
        const Tensor y = scaled_dot_product_attention(q, k, v, Tensor(), dropout, causal);
        y.backward(up);
        return std::vector<Tensor>{y.detach(), q.grad(), k.grad(), v.grad()};
      })) << "causal " << causal << ", dropout " << dropout;
}

}  // namespace
}  // namespace xgrad
