// MultiheadAttention, the transformer encoder and decoder layers and stacks, and Transformer:
// parameter names, shapes and initialisation as Python's, PyTorch's values and every gradient with
// PyTorch's parameters loaded (masks, padding, kdim/vdim, bias_kv, zero_attn, unbatched,
// batch_first, norm_first, GELU), state_dicts written by numpy.savez loaded through xgrad::load,
// deep copies in the stacks, generate_square_subsequent_mask, gradcheck and double backward, and
// the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <limits>
#include <string>
#include <vector>

#include "compare.hpp"
#include "golden.hpp"
#include "module_fixture.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using testing::all_close;
using testing::expect_module_matches;
using testing::fixture_inputs;
using testing::golden_cases;
using testing::golden_path;
using testing::golden_tensor;
using testing::input_or_undefined;
using Inputs = std::vector<Tensor>;
using testing::Json;
using testing::leaf;
using testing::load_fixture_parameters;
using testing::matches_golden;
using testing::passes_gradcheck;
using testing::passes_gradgradcheck;
using testing::printed;
using testing::throws_error_containing;

nn::MultiheadAttention make_mha(const Json& config) {
  nn::MultiheadAttentionOptions options(config.at("embed_dim"), config.at("num_heads"));
  if (config.contains("kdim")) options.kdim(config.at("kdim"));
  if (config.contains("vdim")) options.vdim(config.at("vdim"));
  options.bias(config.value("bias", true))
      .add_bias_kv(config.value("add_bias_kv", false))
      .add_zero_attn(config.value("add_zero_attn", false));
  return nn::MultiheadAttention(options);
}

nn::TransformerEncoderLayerOptions layer_options(const Json& config) {
  nn::TransformerEncoderLayerOptions options(config.at("d_model"), config.at("nhead"));
  options.dim_feedforward(config.at("dim_feedforward")).dropout(0.0);
  if (config.at("activation") == "gelu") options.activation(kGELU);
  return options.batch_first(config.value("batch_first", false)).norm_first(config.value("norm_first", false));
}

TEST(MultiheadAttention, ParametersAsPython) {
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(8, 2));
  EXPECT_EQ(mha->named_parameters().keys(),
            (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}));
  EXPECT_EQ(mha->in_proj_weight.sizes(), IntArrayRef({24, 8}));
  EXPECT_TRUE(all_close(mha->in_proj_bias, zeros({24}), 0, 0));
  EXPECT_TRUE(all_close(mha->out_proj->bias, zeros({8}), 0, 0));
  // xavier_uniform_ on (24, 8): bound sqrt(6 / (24 + 8)).
  EXPECT_LE(mha->in_proj_weight.abs().max().item<float>(), std::sqrt(6.0 / 32.0));
  EXPECT_GT(mha->in_proj_weight.abs().max().item<float>(), 0.5 * std::sqrt(6.0 / 32.0));

  nn::MultiheadAttention separate(nn::MultiheadAttentionOptions(8, 2).kdim(5).vdim(3).bias(false).add_bias_kv(true));
  EXPECT_EQ(separate->named_parameters().keys(),
            (std::vector<std::string>{"q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k", "bias_v",
                                      "out_proj.weight"}));
  EXPECT_EQ(separate->k_proj_weight.sizes(), IntArrayRef({8, 5}));
  EXPECT_EQ(separate->v_proj_weight.sizes(), IntArrayRef({8, 3}));
  EXPECT_EQ(separate->bias_k.sizes(), IntArrayRef({1, 1, 8}));
  EXPECT_EQ(printed(*mha), "MultiheadAttention(\n  (out_proj): Linear(in_features=8, out_features=8, bias=true)\n)");
}

TEST(MultiheadAttention, MatchesPyTorch) {
  const std::vector<Json> cases = golden_cases("attention.json", "MultiheadAttention");
  ASSERT_EQ(cases.size(), 14u);
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    nn::MultiheadAttention mha = make_mha(c.at("config"));
    ASSERT_TRUE(load_fixture_parameters(*mha, c));
    const auto inputs = fixture_inputs(c);
    const bool need_weights = c.at("config").at("need_weights");
    auto [out, weights] = mha->forward(inputs.at("query"), inputs.at("key"), inputs.at("value"),
                                       input_or_undefined(inputs, "key_padding_mask"), need_weights,
                                       input_or_undefined(inputs, "attn_mask"), c.at("config").value("average", true));
    EXPECT_EQ(weights.defined(), need_weights);
    std::vector<Tensor> outputs{out};
    if (need_weights) outputs.push_back(weights);
    expect_module_matches(*mha, c, outputs, inputs);
  }
}

TEST(MultiheadAttention, FunctionalFormGivesTheModulesValues) {
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(6, 3));
  const Tensor x = randn({4, 2, 6});
  auto [expected, expected_weights] = mha->forward(x, x, x);
  auto [out, weights] = F::multi_head_attention_forward(
      x, x, x,
      F::MultiheadAttentionForwardFuncOptions(6, 3, mha->in_proj_weight, mha->in_proj_bias, {}, {}, false, 0.0,
                                              mha->out_proj->weight, mha->out_proj->bias));
  EXPECT_TRUE(all_close(out, expected, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(weights, expected_weights, 1e-6, 1e-6));
}

TEST(MultiheadAttention, BatchFirstTransposesInputsAndOutput) {
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(8, 2));
  nn::MultiheadAttention batch_first(nn::MultiheadAttentionOptions(8, 2).batch_first(true));
  {
    NoGradGuard no_grad;
    for (auto& item : batch_first->named_parameters()) item.value().copy_(mha->named_parameters()[item.key()]);
  }
  const Tensor x = randn({5, 3, 8});
  const Tensor expected = std::get<0>(mha->forward(x, x, x));
  const Tensor y = std::get<0>(batch_first->forward(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1)));
  EXPECT_TRUE(all_close(y.transpose(0, 1), expected, 1e-5, 1e-6));
}

TEST(MultiheadAttention, GradcheckAndDoubleBackward) {
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(4, 2));
  mha->to(kFloat64);
  const Tensor causal = triu(ones({3, 3}, kBool), 1);
  for (const bool need_weights : {true, false}) {
    const auto fn = [&](const Inputs& in) {
      return std::get<0>(mha->forward(in[0], in[1], in[1], {}, need_weights, causal));
    };
    const Inputs inputs{leaf({3, 2, 4}), leaf({3, 2, 4})};
    EXPECT_TRUE(passes_gradcheck(fn, inputs)) << "need_weights " << need_weights;
    EXPECT_TRUE(passes_gradgradcheck(fn, inputs)) << "need_weights " << need_weights;
  }
  // Through the parameters as well.
  const Tensor x = randn({3, 2, 4}, kFloat64);
  const auto in_params = [&](const Inputs& in) {
    return std::get<0>(F::multi_head_attention_forward(
        x, x, x, F::MultiheadAttentionForwardFuncOptions(4, 2, in[0], in[1], {}, {}, false, 0.0, in[2], in[3])));
  };
  const Inputs params{leaf({12, 4}), leaf({12}), leaf({4, 4}), leaf({4})};
  EXPECT_TRUE(passes_gradcheck(in_params, params));
  EXPECT_TRUE(passes_gradgradcheck(in_params, params));
}

TEST(MultiheadAttention, Errors) {
  EXPECT_TRUE(throws_error_containing([] { nn::MultiheadAttention(nn::MultiheadAttentionOptions(10, 3)); },
                                      {"MultiheadAttention", "embed_dim must be divisible by num_heads"}));
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(8, 2));
  const Tensor x = randn({5, 3, 8});
  EXPECT_TRUE(throws_error_containing([&] { mha->forward(randn({2, 5, 3, 8}), x, x); },
                                      {"MultiheadAttention", "query should be unbatched 2D or batched 3D tensor",
                                       "4-D"}));
  EXPECT_TRUE(throws_error_containing([&] { mha->forward(randn({5, 3, 6}), x, x); },
                                      {"MultiheadAttention", "was expecting embedding dimension of 8, but got 6"}));
  EXPECT_TRUE(throws_error_containing([&] { mha->forward(x, x, x, {}, true, zeros({5, 4})); },
                                      {"MultiheadAttention", "The shape of the 2D attn_mask is [5, 4], but should be "
                                                             "[5, 5]."}));
  EXPECT_TRUE(throws_error_containing([&] { mha->forward(x, x, x, {}, true, zeros({2, 5, 5})); },
                                      {"MultiheadAttention", "3D attn_mask", "[6, 5, 5]"}));
  EXPECT_TRUE(throws_error_containing([&] { mha->forward(x, x, x, {}, true, zeros({5, 5}, kInt64)); },
                                      {"MultiheadAttention", "Only float, byte, and bool types", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { mha->forward(x, x, x, zeros({3, 4}, kBool)); },
                                      {"MultiheadAttention", "expecting key_padding_mask shape of [3, 5]"}));
  EXPECT_TRUE(throws_error_containing([&] { mha->forward(x, x, x, zeros({3, 5}, kInt64)); },
                                      {"MultiheadAttention", "only bool and floating types of key_padding_mask"}));
  EXPECT_TRUE(throws_error_containing([&] { mha->forward(x, randn({5, 8}), randn({5, 8})); },
                                      {"MultiheadAttention", "expected `key` and `value` to be 3-D"}));
  EXPECT_TRUE(throws_error_containing([&] { mha->forward(x, x, randn({4, 3, 8})); },
                                      {"MultiheadAttention", "does not match value shape"}));
}

TEST(TransformerEncoderLayer, SubmodulesNamedAsPython) {
  nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(32));
  EXPECT_EQ(layer->named_parameters().keys(),
            (std::vector<std::string>{"self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                                      "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
                                      "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"}));
  EXPECT_EQ(layer->linear1->weight.sizes(), IntArrayRef({32, 8}));
  EXPECT_EQ(layer->options.dropout(), 0.1);
  EXPECT_EQ(layer->self_attn->options.dropout(), 0.1);
  EXPECT_EQ(nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(), 2048);
  EXPECT_TRUE(throws_error_containing([&] { layer(randn({5, 3, 6})); }, {"TransformerEncoderLayer", "d_model=8"}));
}

TEST(TransformerEncoderLayer, MatchesPyTorch) {
  const std::vector<Json> cases = golden_cases("attention.json", "TransformerEncoderLayer");
  ASSERT_EQ(cases.size(), 4u);
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    nn::TransformerEncoderLayer layer(layer_options(c.at("config")));
    ASSERT_TRUE(load_fixture_parameters(*layer, c));
    const auto inputs = fixture_inputs(c);
    const Tensor out = layer->forward(inputs.at("src"), input_or_undefined(inputs, "src_mask"),
                                      input_or_undefined(inputs, "src_key_padding_mask"));
    expect_module_matches(*layer, c, {out}, inputs);
  }
}

TEST(TransformerEncoderLayer, UnbatchedInputIsOneSequence) {
  nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0.0));
  const Tensor x = randn({5, 1, 8});
  const Tensor mask = nn::TransformerImpl::generate_square_subsequent_mask(5);
  EXPECT_TRUE(all_close(layer->forward(x.squeeze(1), mask), layer->forward(x, mask).squeeze(1), 1e-5, 1e-6));
}

TEST(MultiheadAttention, DropoutOnlyInTraining) {
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(8, 2).dropout(0.5));
  nn::MultiheadAttention plain(nn::MultiheadAttentionOptions(8, 2));
  {
    NoGradGuard no_grad;
    for (auto& item : plain->named_parameters()) item.value().copy_(mha->named_parameters()[item.key()]);
  }
  const Tensor x = randn({6, 2, 8});
  for (const bool need_weights : {true, false}) {
    manual_seed(1);
    const Tensor first = std::get<0>(mha->forward(x, x, x, {}, need_weights));
    manual_seed(1);
    EXPECT_TRUE(all_close(std::get<0>(mha->forward(x, x, x, {}, need_weights)), first, 0, 0));
    EXPECT_FALSE(all_close(first, std::get<0>(plain->forward(x, x, x, {}, need_weights)), 1e-4, 1e-5));
  }
  mha->eval();
  for (const bool need_weights : {true, false})
    EXPECT_TRUE(all_close(std::get<0>(mha->forward(x, x, x, {}, need_weights)),
                          std::get<0>(plain->forward(x, x, x, {}, need_weights)), 1e-5, 1e-6));
}

TEST(TransformerEncoder, LayersAreCopiesWithTheirOwnParameters) {
  nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16));
  nn::TransformerEncoder encoder(nn::TransformerEncoderOptions(layer, 3));
  const auto names = encoder->named_parameters();
  EXPECT_EQ(names.size(), 36u);
  EXPECT_TRUE(names.contains("layers.0.self_attn.in_proj_weight"));
  EXPECT_TRUE(names.contains("layers.2.norm2.bias"));
  for (int i = 0; i < 3; ++i) {
    const Tensor w = names["layers." + std::to_string(i) + ".linear1.weight"];
    EXPECT_TRUE(all_close(w, layer->linear1->weight, 0, 0));
    EXPECT_NE(w.data_ptr<float>(), layer->linear1->weight.data_ptr<float>());
  }
  NoGradGuard no_grad;
  names["layers.0.linear1.weight"].add_(1.0);
  EXPECT_TRUE(all_close(names["layers.1.linear1.weight"], layer->linear1->weight, 0, 0));
}

TEST(TransformerEncoder, MatchesPyTorch) {
  const std::vector<Json> cases = golden_cases("attention.json", "TransformerEncoder");
  ASSERT_EQ(cases.size(), 2u);
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Json& config = c.at("config");
    nn::TransformerEncoder encoder(
        nn::TransformerEncoderOptions(nn::TransformerEncoderLayer(layer_options(config)), config.at("num_layers"))
            .norm(nn::AnyModule(nn::LayerNorm(nn::LayerNormOptions({config.at("d_model").get<std::int64_t>()})))));
    ASSERT_TRUE(load_fixture_parameters(*encoder, c));
    const auto inputs = fixture_inputs(c);
    const Tensor out = encoder->forward(inputs.at("src"), input_or_undefined(inputs, "src_mask"));
    expect_module_matches(*encoder, c, {out}, inputs);
  }
}

TEST(TransformerEncoder, GradcheckAndDoubleBackward) {
  nn::TransformerEncoder encoder(
      nn::TransformerEncoderOptions(nn::TransformerEncoderLayerOptions(4, 2).dim_feedforward(6).dropout(0.0), 2));
  encoder->to(kFloat64);
  const Tensor mask = nn::TransformerImpl::generate_square_subsequent_mask(3).to(kFloat64);
  const auto fn = [&](const Inputs& in) { return encoder->forward(in[0], mask); };
  EXPECT_TRUE(passes_gradcheck(fn, {leaf({3, 2, 4})}));
  EXPECT_TRUE(passes_gradgradcheck(fn, {leaf({3, 2, 4})}));
}

TEST(Transformer, GenerateSquareSubsequentMask) {
  for (const Json& c : golden_cases("attention.json", "generate_square_subsequent_mask")) {
    const Tensor mask = nn::TransformerImpl::generate_square_subsequent_mask(c.at("size"));
    EXPECT_EQ(mask.dtype(), kFloat32);
    EXPECT_TRUE(all_close(mask, golden_tensor(c.at("output")), 0, 0));
  }
}

// State dicts written by PyTorch through numpy.savez load by name and reproduce PyTorch's outputs.
TEST(AttentionCheckpoints, LoadPyTorchStateDicts) {
  for (const Json& c : golden_cases("attention.json", "npz")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Json& config = c.at("config");
    const Tensor input = golden_tensor(c.at("input"));
    if (c.at("name") == "npz/mha_state") {
      nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(config.at("embed_dim"), config.at("num_heads")));
      load(mha, golden_path(c.at("file")));
      auto [out, weights] = mha->forward(input, input, input);
      EXPECT_TRUE(matches_golden(out, golden_tensor(c.at("output"))));
      EXPECT_TRUE(matches_golden(weights, golden_tensor(c.at("weights"))));
    } else {
      nn::TransformerEncoder encoder(
          nn::TransformerEncoderOptions(nn::TransformerEncoderLayerOptions(config.at("d_model"), config.at("nhead"))
                                            .dim_feedforward(config.at("dim_feedforward"))
                                            .dropout(0.0),
                                        config.at("num_layers"))
              .norm(nn::AnyModule(nn::LayerNorm(nn::LayerNormOptions({config.at("d_model").get<std::int64_t>()})))));
      EXPECT_EQ(encoder->named_parameters().keys(), c.at("names").get<std::vector<std::string>>());
      load(encoder, golden_path(c.at("file")));
      const Tensor out = encoder->forward(input, nn::TransformerImpl::generate_square_subsequent_mask(input.size(0)));
      EXPECT_TRUE(matches_golden(out, golden_tensor(c.at("output"))));
    }
  }
}

nn::TransformerDecoderLayerOptions decoder_layer_options(const Json& config) {
  nn::TransformerDecoderLayerOptions options(config.at("d_model"), config.at("nhead"));
  options.dim_feedforward(config.at("dim_feedforward")).dropout(0.0);
  if (config.at("activation") == "gelu") options.activation(kGELU);
  return options.batch_first(config.value("batch_first", false)).norm_first(config.value("norm_first", false));
}

TEST(TransformerDecoderLayer, SubmodulesNamedAsPython) {
  nn::TransformerDecoderLayer layer(nn::TransformerDecoderLayerOptions(8, 2).dim_feedforward(32));
  const std::vector<std::string> names = layer->named_parameters().keys();
  EXPECT_EQ(names.size(), 18u);  // 4 + 4 attention, 2 + 2 linear, 3 x 2 norm
  EXPECT_EQ(names[4], "multihead_attn.in_proj_weight");
  EXPECT_EQ(names.back(), "norm3.bias");
  EXPECT_TRUE(throws_error_containing([&] { layer(randn({4, 2, 8}), randn({5, 2, 6})); },
                                      {"TransformerDecoderLayer", "memory", "d_model=8"}));
}

TEST(TransformerDecoder, MatchesPyTorch) {
  for (const std::string fn : {"TransformerDecoderLayer", "TransformerDecoder"}) {
    const std::vector<Json> cases = golden_cases("attention.json", fn);
    ASSERT_FALSE(cases.empty());
    for (const Json& c : cases) {
      SCOPED_TRACE(c.at("name").get<std::string>());
      const Json& config = c.at("config");
      std::shared_ptr<nn::Module> module;
      std::function<Tensor(const std::map<std::string, Tensor>&)> forward;
      const auto masks = [](const std::map<std::string, Tensor>& in) {
        return std::vector<Tensor>{input_or_undefined(in, "tgt_mask"), input_or_undefined(in, "memory_mask"),
                                   input_or_undefined(in, "tgt_key_padding_mask"),
                                   input_or_undefined(in, "memory_key_padding_mask")};
      };
      if (fn == "TransformerDecoderLayer") {
        nn::TransformerDecoderLayer layer(decoder_layer_options(config));
        module = layer.ptr();
        forward = [layer, masks](const std::map<std::string, Tensor>& in) mutable {
          const std::vector<Tensor> m = masks(in);
          return layer->forward(in.at("tgt"), in.at("memory"), m[0], m[1], m[2], m[3]);
        };
      } else {
        nn::TransformerDecoder decoder(
            nn::TransformerDecoderOptions(nn::TransformerDecoderLayer(decoder_layer_options(config)),
                                          config.at("num_layers"))
                .norm(nn::AnyModule(nn::LayerNorm(nn::LayerNormOptions({config.at("d_model").get<std::int64_t>()})))));
        module = decoder.ptr();
        forward = [decoder, masks](const std::map<std::string, Tensor>& in) mutable {
          const std::vector<Tensor> m = masks(in);
          return decoder->forward(in.at("tgt"), in.at("memory"), m[0], m[1], m[2], m[3]);
        };
      }
      ASSERT_TRUE(load_fixture_parameters(*module, c));
      const auto inputs = fixture_inputs(c);
      expect_module_matches(*module, c, {forward(inputs)}, inputs);
    }
  }
}

TEST(Transformer, MatchesPyTorch) {
  const std::vector<Json> cases = golden_cases("attention.json", "Transformer");
  ASSERT_EQ(cases.size(), 2u);
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Json& config = c.at("config");
    nn::Transformer transformer(nn::TransformerOptions(config.at("d_model"), config.at("nhead"),
                                                       config.at("num_encoder_layers"), config.at("num_decoder_layers"))
                                    .dim_feedforward(config.at("dim_feedforward"))
                                    .dropout(0.0));
    ASSERT_TRUE(load_fixture_parameters(*transformer, c));
    const auto inputs = fixture_inputs(c);
    const Tensor out = transformer->forward(inputs.at("src"), inputs.at("tgt"), {}, inputs.at("tgt_mask"));
    expect_module_matches(*transformer, c, {out}, inputs);
  }
}

TEST(Transformer, GradcheckAndDoubleBackward) {
  nn::Transformer transformer(nn::TransformerOptions(4, 2, 1, 1).dim_feedforward(6).dropout(0.0));
  transformer->to(kFloat64);
  const Tensor mask = nn::TransformerImpl::generate_square_subsequent_mask(3).to(kFloat64);
  const auto fn = [&](const Inputs& in) { return transformer->forward(in[0], in[1], {}, mask); };
  EXPECT_TRUE(passes_gradcheck(fn, {leaf({2, 2, 4}), leaf({3, 2, 4})}));
  EXPECT_TRUE(passes_gradgradcheck(fn, {leaf({2, 2, 4}), leaf({3, 2, 4})}));
  EXPECT_TRUE(throws_error_containing([&] { transformer->forward(randn({2, 3, 4}, kFloat64), randn({3, 2, 4}, kFloat64)); },
                                      {"Transformer", "batch number of src and tgt must be equal"}));
}

}  // namespace
}  // namespace xgrad
