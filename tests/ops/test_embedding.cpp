// embedding: PyTorch's values and weight gradients (repeated indices, padding_idx,
// scale_grad_by_freq, max_norm), gradcheck, second and third derivatives, and bad inputs.
#include <gtest/gtest.h>

#include <vector>

#include "compare.hpp"
#include "create_graph_checks.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::expect_differentiable_twice;
using testing::golden_cases;
using testing::golden_tensor;
using testing::Inputs;
using testing::Json;
using testing::leaf;
using testing::matches_golden;
using testing::passes_gradcheck;
using testing::passes_gradgradcheck;
using testing::passes_third_order_check;
using testing::throws_error_containing;

TEST(Embedding, MatchesPyTorch) {
  const std::vector<Json> cases = golden_cases("norm.json", "embedding");
  ASSERT_EQ(cases.size(), 16u);
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor weight = golden_tensor(c.at("weight")).requires_grad_();
    const Tensor indices = golden_tensor(c.at("indices"));
    const std::int64_t padding_idx = c.at("padding_idx");
    const bool scale = c.at("scale_grad_by_freq");
    Tensor out;
    if (c.contains("max_norm")) {
      namespace F = nn::functional;
      F::EmbeddingFuncOptions options;
      options.max_norm(c.at("max_norm").get<double>())
          .norm_type(testing::golden_number(c.at("norm_type")))
          .scale_grad_by_freq(scale);
      if (padding_idx >= 0) options.padding_idx(padding_idx);
      out = F::embedding(indices, weight, options);
      EXPECT_TRUE(matches_golden(weight.detach(), golden_tensor(c.at("weight_after"))));
    } else {
      out = embedding(weight, indices, padding_idx, scale);
    }
    EXPECT_TRUE(matches_golden(out, golden_tensor(c.at("output"))));
    ASSERT_TRUE(out.grad_fn());
    EXPECT_EQ(out.grad_fn()->name(), c.at("grad_fn").get<std::string>());
    out.backward(golden_tensor(c.at("upstream")));
    EXPECT_TRUE(matches_golden(weight.grad(), golden_tensor(c.at("grad_weight"))));
  }
}

TEST(Embedding, LooksUpRowsForIndicesOfAnyShape) {
  const Tensor weight = tensor({{0.0, 0.5}, {1.0, 1.5}, {2.0, 2.5}}, kFloat64);
  const Tensor out = embedding(weight, tensor({{2, 0}, {1, 2}}));
  EXPECT_EQ(out.sizes().vec(), (Shape{2, 2, 2}));
  EXPECT_TRUE(all_close(out, tensor({{{2.0, 2.5}, {0.0, 0.5}}, {{1.0, 1.5}, {2.0, 2.5}}}, kFloat64), 0.0, 0.0));
  EXPECT_EQ(embedding(weight, tensor(int64_t{1})).sizes().vec(), (Shape{2}));
  EXPECT_EQ(embedding(weight, zeros({0}, kInt64)).sizes().vec(), (Shape{0, 2}));
  // Integer tables are looked up too (they just carry no gradient).
  EXPECT_EQ(embedding(tensor({{7, 8}, {9, 10}}), tensor({1})).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{9, 10}));
}

TEST(Embedding, RepeatedIndicesAccumulateAndPaddingGetsNothing) {
  const Tensor weight = zeros({4, 2}, kFloat64).requires_grad_();
  const Tensor indices = tensor({1, 3, 1, 1, 0});
  const Tensor g = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}, {7.0, 8.0}, {9.0, 10.0}}, kFloat64);
  embedding(weight, indices, /*padding_idx=*/3).backward(g);
  EXPECT_TRUE(all_close(weight.grad(), tensor({{9.0, 10.0}, {13.0, 16.0}, {0.0, 0.0}, {0.0, 0.0}}, kFloat64), 0.0, 0.0));
  const Tensor scaled = zeros({4, 2}, kFloat64).requires_grad_();
  embedding(scaled, indices, -1, /*scale_grad_by_freq=*/true).backward(g);
  EXPECT_TRUE(all_close(scaled.grad(), tensor({{9.0, 10.0}, {13.0 / 3, 16.0 / 3}, {0.0, 0.0}, {3.0, 4.0}}, kFloat64), 1e-15,
                        0.0));
}

TEST(Embedding, Gradcheck) {
  manual_seed(11);
  const Tensor indices = tensor({{0, 2, 2}, {4, 1, 2}});
  EXPECT_TRUE(passes_gradcheck([&](const Inputs& in) { return embedding(in[0], indices); }, {leaf({5, 3})}));
  // Only without padding_idx and scale_grad_by_freq: both change the gradient by design, so it is
  // no longer the derivative finite differences measure.
}

TEST(Embedding, SecondAndThirdDerivatives) {
  manual_seed(12);
  const Tensor indices = tensor({{0, 2, 2}, {4, 1, 2}});
  // Squared, so that the second derivative is not zero.
  const auto squared = [&](std::int64_t padding, bool scale) {
    return [=](const Inputs& in) {
      const Tensor e = embedding(in[0], indices, padding, scale);
      return e * e;
    };
  };
  for (const std::int64_t padding : {std::int64_t{-1}, std::int64_t{2}})
    for (const bool scale : {false, true}) {
      SCOPED_TRACE(testing::printed(padding) + (scale ? " scaled" : ""));
      // Includes the gradient as a function of the upstream, where PyTorch 1.13 leaves out the
      // 1 / count of scale_grad_by_freq (its gradgradcheck fails there); xgrad's includes it.
      expect_differentiable_twice([&](const Inputs& in) { return embedding(in[0], indices, padding, scale); },
                                  {leaf({5, 3})});
    }
  // Through a square, so that the second derivative in the weight is not zero. Not with
  // scale_grad_by_freq: its first "derivative" of the lookup is scaled on purpose, so a chain rule
  // through it cannot match finite differences.
  EXPECT_TRUE(passes_gradgradcheck(squared(-1, false), {leaf({5, 3})}));
  EXPECT_TRUE(passes_gradgradcheck(squared(2, false), {leaf({5, 3})}));
  EXPECT_TRUE(passes_third_order_check(squared(2, false), {leaf({5, 3})}));
  // The gradient is linear in the upstream, and recorded: its own gradient is the lookup again.
  const Tensor out = embedding(leaf({5, 3}), indices, 1, true);
  const Tensor g = leaf(out.shape());
  const Tensor grad_weight = out.grad_fn()->backward(g)[0];
  EXPECT_STREQ(grad_weight.grad_fn()->name(), "EmbeddingDenseBackwardBackward0");
}

TEST(Embedding, RenormScalesOnlyTheRowsLookedUp) {
  Tensor weight = tensor({{3.0, 4.0}, {0.3, 0.4}, {6.0, 8.0}}, kFloat64);
  embedding_renorm_(weight, tensor({0, 1, 0}), 1.0, 2.0);
  const double scale = 1.0 / (5.0 + 1e-7);
  EXPECT_TRUE(all_close(weight, tensor({{3.0 * scale, 4.0 * scale}, {0.3, 0.4}, {6.0, 8.0}}, kFloat64), 1e-15, 0.0));
  EXPECT_EQ(weight._version(), 1);
}

TEST(Embedding, BadInputs) {
  const Tensor weight = randn({5, 3});
  EXPECT_TRUE(throws_error_containing([&] { embedding(weight, tensor({1, 5})); },
                                      {"embedding", "index 5 out of range for 5 embeddings", "[5, 3]", "position 1"}));
  EXPECT_TRUE(throws_error_containing([&] { embedding(weight, tensor({-1})); }, {"index -1 out of range"}));
  EXPECT_TRUE(throws_error_containing([&] { embedding(weight, tensor({1.0f})); },
                                      {"embedding", "indices must be int64", "float32"}));
  EXPECT_TRUE(throws_error_containing([&] { embedding(randn({5}), tensor({1})); },
                                      {"embedding", "weight must be 2-D", "[5]"}));
  EXPECT_TRUE(throws_error_containing([&] { embedding(weight, tensor({1}), -1, false, /*sparse=*/true); },
                                      {"embedding", "sparse", "no sparse tensors"}));
  EXPECT_TRUE(throws_error_containing([&] { embedding(Tensor(), tensor({1})); }, {"embedding", "undefined"}));
  EXPECT_TRUE(throws_error_containing([&] { embedding_renorm_(weight, tensor({7}), 1.0, 2.0); },
                                      {"embedding_renorm_", "index 7"}));
  EXPECT_TRUE(throws_error_containing([&] { embedding_renorm_(tensor({{1, 2}}), tensor({0}), 1.0, 2.0); },
                                      {"embedding_renorm_", "floating"}));
}

}  // namespace
}  // namespace xgrad
