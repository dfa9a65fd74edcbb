// Embedding and F::embedding: initialisation (N(0, 1), the padding row zero), lookups, the
// padding row's gradient, negative padding_idx, max_norm through the module, from_pretrained,
// printing and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "compare.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using testing::all_close;
using testing::printed;
using testing::throws_error_containing;

TEST(EmbeddingModule, WeightIsStandardNormalWithThePaddingRowZero) {
  manual_seed(1);
  nn::Embedding emb(nn::EmbeddingOptions(1000, 50).padding_idx(3));
  EXPECT_EQ(emb->weight.sizes().vec(), (Shape{1000, 50}));
  EXPECT_EQ(emb->named_parameters().keys(), (std::vector<std::string>{"weight"}));
  EXPECT_TRUE(emb->weight.requires_grad());
  const std::vector<float> w = emb->weight.to_vector<float>();
  for (std::size_t k = 0; k < 50; ++k) ASSERT_EQ(w[3 * 50 + k], 0.0f);
  double sum = 0, squares = 0;
  for (float v : w) sum += v, squares += double(v) * v;
  const double mean = sum / w.size();
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(std::sqrt(squares / w.size() - mean * mean), 1.0, 0.02);
}

TEST(EmbeddingModule, LooksUpAndKeepsThePaddingRowUntrained) {
  manual_seed(2);
  nn::Embedding emb(nn::EmbeddingOptions(5, 3).padding_idx(-1));  // the last row
  EXPECT_EQ(*emb->options.padding_idx(), 4);
  const Tensor indices = tensor({{4, 0}, {2, 4}});
  const Tensor out = emb(indices);
  EXPECT_EQ(out.sizes().vec(), (Shape{2, 2, 3}));
  EXPECT_STREQ(out.grad_fn()->name(), "EmbeddingBackward0");
  EXPECT_TRUE(all_close(out[0][1], emb->weight[0], 0.0, 0.0));
  EXPECT_TRUE(all_close(out[0][0], zeros({3}), 0.0, 0.0));
  out.sum().backward();
  EXPECT_TRUE(all_close(emb->weight.grad()[4], zeros({3}), 0.0, 0.0));
  EXPECT_TRUE(all_close(emb->weight.grad()[0], ones({3}), 0.0, 0.0));
  EXPECT_TRUE(all_close(emb->weight.grad()[1], zeros({3}), 0.0, 0.0));
}

TEST(EmbeddingModule, MaxNormRenormalisesTheRowsLookedUp) {
  nn::Embedding emb(nn::EmbeddingOptions(3, 2).max_norm(1.0));
  {
    NoGradGuard no_grad;
    emb->weight.copy_(tensor({{3.0f, 4.0f}, {0.3f, 0.4f}, {6.0f, 8.0f}}));
  }
  const Tensor out = emb(tensor({0, 1}));
  EXPECT_NEAR(out[0].norm().item<double>(), 1.0, 1e-6);
  EXPECT_TRUE(all_close(emb->weight[2], tensor({6.0f, 8.0f}), 0.0, 0.0));  // not looked up
  EXPECT_NEAR(emb->weight[0].norm().item<double>(), 1.0, 1e-6);
  out.sum().backward();  // the lookup saw the renormalised weight, so backward is fine
  EXPECT_TRUE(all_close(emb->weight.grad()[0], ones({2}), 0.0, 0.0));
}

TEST(EmbeddingModule, FromPretrained) {
  const Tensor table = tensor({{1.0f, 2.0f}, {3.0f, 4.0f}});
  nn::Embedding frozen = nn::Embedding::from_pretrained(table);
  EXPECT_FALSE(frozen->weight.requires_grad());
  EXPECT_TRUE(all_close(frozen(tensor({1})), tensor({{3.0f, 4.0f}}), 0.0, 0.0));
  EXPECT_EQ(frozen->weight.impl(), table.impl());  // shared, as libtorch's
  nn::Embedding trained =
      nn::Embedding::from_pretrained(tensor({{1.0, 2.0}}, kFloat64), nn::EmbeddingFromPretrainedOptions().freeze(false));
  EXPECT_TRUE(trained->weight.requires_grad());
  EXPECT_TRUE(throws_error_containing([] { nn::Embedding::from_pretrained(ones({3})); },
                                      {"from_pretrained", "2-dimensional", "[3]"}));
}

TEST(EmbeddingFunctional, OptionsReachTheOp) {
  const Tensor weight = randn({4, 2}, kFloat64).requires_grad_();
  const Tensor indices = tensor({1, 3, 1});
  const Tensor out = F::embedding(indices, weight, F::EmbeddingFuncOptions().padding_idx(-3).scale_grad_by_freq(true));
  out.backward(ones({3, 2}, kFloat64));
  // padding_idx -3 is row 1: no gradient; row 3 occurs once.
  EXPECT_TRUE(all_close(weight.grad(), tensor({{0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {1.0, 1.0}}, kFloat64), 0.0, 0.0));
  EXPECT_TRUE(all_close(F::embedding(indices, weight), embedding(weight, indices), 0.0, 0.0));
}

TEST(EmbeddingModule, PrettyPrint) {
  EXPECT_EQ(printed(*nn::Embedding(4, 10)), "Embedding(num_embeddings=4, embedding_dim=10)");
  EXPECT_EQ(printed(*nn::Embedding(nn::EmbeddingOptions(4, 10).padding_idx(-1).max_norm(2.0).norm_type(1.0)
                                       .scale_grad_by_freq(true))),
            "Embedding(num_embeddings=4, embedding_dim=10, padding_idx=3, max_norm=2, norm_type=1, "
            "scale_grad_by_freq=true)");
}

TEST(EmbeddingModule, BadArguments) {
  EXPECT_TRUE(throws_error_containing([] { nn::Embedding(nn::EmbeddingOptions(5, 3).padding_idx(5)); },
                                      {"Embedding", "padding_idx 5 must be within num_embeddings"}));
  EXPECT_TRUE(throws_error_containing([] { nn::Embedding(nn::EmbeddingOptions(5, 3).padding_idx(-6)); },
                                      {"padding_idx -6"}));
  EXPECT_TRUE(throws_error_containing([] { nn::Embedding(nn::EmbeddingOptions(5, 3).sparse(true)); },
                                      {"Embedding", "sparse"}));
  EXPECT_TRUE(throws_error_containing(
      [] { nn::Embedding(nn::EmbeddingOptions(5, 3)._weight(ones({4, 3}))); },
      {"Embedding", "Shape of _weight does not match", "[4, 3]", "[5, 3]"}));
  nn::Embedding emb(5, 3);
  EXPECT_TRUE(throws_error_containing([&] { emb(tensor({0, 9})); }, {"index 9 out of range for 5 embeddings"}));
  EXPECT_TRUE(throws_error_containing([&] { emb(tensor({0.5f})); }, {"indices must be int64"}));
  EXPECT_TRUE(throws_error_containing(
      [&] { F::embedding(tensor({0}), emb->weight, F::EmbeddingFuncOptions().padding_idx(7)); },
      {"embedding", "padding_idx 7"}));
}

}  // namespace
}  // namespace xgrad
