#pragma once
// A decoder-only transformer as nanoGPT writes it, from xgrad's modules:
//
//   idx (B, T) int64 -> wte(idx) + wpe(0..T-1) -> n_layer Blocks -> ln_f -> lm_head -> logits (B, T, vocab)
//   Block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))          (pre-LayerNorm, residual)
//   attn:   causal self-attention of n_head heads (one c_attn product for q, k and v, c_proj after)
//   mlp:    c_fc (n_embd -> 4 n_embd), GELU, c_proj (4 n_embd -> n_embd)
//
// Parameter names are nanoGPT's without its "transformer." prefix ("h.0.attn.c_attn.weight"), so a
// state_dict written from PyTorch with numpy.savez under those names loads with xgrad::load;
// tests/nn/test_gpt_end_to_end.cpp checks this model against PyTorch that way.
#include <cstdint>
#include <optional>
#include <utility>

#include <xgrad/xgrad.hpp>

namespace char_gpt {

struct GPTConfig {
  std::int64_t vocab_size = 256;  // bytes as tokens
  std::int64_t block_size = 64;   // the longest context
  std::int64_t n_layer = 4;
  std::int64_t n_head = 4;
  std::int64_t n_embd = 128;
  double dropout = 0.0;
};

class CausalSelfAttentionImpl : public xgrad::nn::Module {
 public:
  explicit CausalSelfAttentionImpl(const GPTConfig& config);
  // x (B, T, C) -> (B, T, C); position t attends to positions 0..t only.
  xgrad::Tensor forward(const xgrad::Tensor& x);

 private:
  std::int64_t n_head_;
  double dropout_;
  xgrad::nn::Linear c_attn_{nullptr}, c_proj_{nullptr};
  xgrad::nn::Dropout resid_dropout_{nullptr};
};
XGRAD_MODULE(CausalSelfAttention);

class MLPImpl : public xgrad::nn::Module {
 public:
  explicit MLPImpl(const GPTConfig& config);
  xgrad::Tensor forward(const xgrad::Tensor& x);

 private:
  xgrad::nn::Linear c_fc_{nullptr}, c_proj_{nullptr};
  xgrad::nn::Dropout dropout_{nullptr};
};
XGRAD_MODULE(MLP);

class BlockImpl : public xgrad::nn::Module {
 public:
  explicit BlockImpl(const GPTConfig& config);
  xgrad::Tensor forward(xgrad::Tensor x);

 private:
  // Declared in the order of registration, which is the order of named_parameters().
  xgrad::nn::LayerNorm ln_1_{nullptr};
  CausalSelfAttention attn_{nullptr};
  xgrad::nn::LayerNorm ln_2_{nullptr};
  MLP mlp_{nullptr};
};
XGRAD_MODULE(Block);

class GPTImpl : public xgrad::nn::Module {
 public:
  // Initialised as nanoGPT: weights normal(0, 0.02), the residual projections (c_proj) normal(0,
  // 0.02 / sqrt(2 n_layer)) so that the residual stream's variance does not grow with depth, biases 0.
  explicit GPTImpl(const GPTConfig& config);

  // idx (B, T) with T <= block_size -> logits (B, T, vocab_size).
  xgrad::Tensor forward(const xgrad::Tensor& idx);
  // The mean cross-entropy of the logits against targets (B, T).
  xgrad::Tensor loss(const xgrad::Tensor& logits, const xgrad::Tensor& targets) const;
  // Appends max_new_tokens tokens to idx (B, T0), each sampled from the softmax of the last
  // position's logits / temperature, restricted to the top_k most likely when given; the context fed
  // to the model is the last block_size tokens. Runs without recording a graph.
  xgrad::Tensor generate(xgrad::Tensor idx, std::int64_t max_new_tokens, double temperature = 1.0,
                         std::optional<std::int64_t> top_k = std::nullopt);
  // nanoGPT's AdamW parameter groups: (matrices, which decay) and (biases and LayerNorm weights, which do not).
  std::pair<std::vector<xgrad::Tensor>, std::vector<xgrad::Tensor>> decay_groups() const;

  const GPTConfig& config() const { return config_; }

 private:
  GPTConfig config_;
  xgrad::nn::Embedding wte_{nullptr}, wpe_{nullptr};
  xgrad::nn::Dropout drop_{nullptr};
  xgrad::nn::ModuleList h_{nullptr};
  xgrad::nn::LayerNorm ln_f_{nullptr};
  xgrad::nn::Linear lm_head_{nullptr};
};
XGRAD_MODULE(GPT);

}  // namespace char_gpt
