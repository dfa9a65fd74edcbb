#include "model.hpp"

#include <cmath>
#include <limits>

namespace char_gpt {

namespace nn = xgrad::nn;
namespace F = xgrad::nn::functional;
using xgrad::Tensor;

CausalSelfAttentionImpl::CausalSelfAttentionImpl(const GPTConfig& config)
    : n_head_(config.n_head), dropout_(config.dropout) {
  if (config.n_embd % config.n_head != 0) {
    throw xgrad::Error("CausalSelfAttention: n_embd (" + std::to_string(config.n_embd) +
                       ") must be divisible by n_head (" + std::to_string(config.n_head) + ")");
  }
  c_attn_ = register_module("c_attn", nn::Linear(config.n_embd, 3 * config.n_embd));
  c_proj_ = register_module("c_proj", nn::Linear(config.n_embd, config.n_embd));
  resid_dropout_ = register_module("resid_dropout", nn::Dropout(config.dropout));
}

Tensor CausalSelfAttentionImpl::forward(const Tensor& x) {
  const std::int64_t B = x.size(0), T = x.size(1), C = x.size(2);
  // One product gives q, k and v side by side; each head is then a view (B, n_head, T, C / n_head)
  // of it, so splitting into heads copies nothing.
  const auto qkv = c_attn_->forward(x).split(C, 2);
  const auto heads = [&](const Tensor& t) { return t.view({B, T, n_head_, C / n_head_}).transpose(1, 2); };
  const Tensor y = xgrad::scaled_dot_product_attention(heads(qkv[0]), heads(qkv[1]), heads(qkv[2]), {},
                                                       is_training() ? dropout_ : 0.0, /*is_causal=*/true);
  return resid_dropout_->forward(c_proj_->forward(y.transpose(1, 2).reshape({B, T, C})));
}

MLPImpl::MLPImpl(const GPTConfig& config)
    : c_fc_(register_module("c_fc", nn::Linear(config.n_embd, 4 * config.n_embd))),
      c_proj_(register_module("c_proj", nn::Linear(4 * config.n_embd, config.n_embd))),
      dropout_(register_module("dropout", nn::Dropout(config.dropout))) {}

Tensor MLPImpl::forward(const Tensor& x) { return dropout_->forward(c_proj_->forward(F::gelu(c_fc_->forward(x)))); }

BlockImpl::BlockImpl(const GPTConfig& config)
    : ln_1_(register_module("ln_1", nn::LayerNorm(nn::LayerNormOptions({config.n_embd})))),
      attn_(register_module("attn", CausalSelfAttention(config))),
      ln_2_(register_module("ln_2", nn::LayerNorm(nn::LayerNormOptions({config.n_embd})))),
      mlp_(register_module("mlp", MLP(config))) {}

Tensor BlockImpl::forward(Tensor x) {
  x = x + attn_->forward(ln_1_->forward(x));
  return x + mlp_->forward(ln_2_->forward(x));
}

GPTImpl::GPTImpl(const GPTConfig& config) : config_(config) {
  wte_ = register_module("wte", nn::Embedding(config.vocab_size, config.n_embd));
  wpe_ = register_module("wpe", nn::Embedding(config.block_size, config.n_embd));
  drop_ = register_module("drop", nn::Dropout(config.dropout));
  h_ = register_module("h", nn::ModuleList());
  for (std::int64_t i = 0; i < config.n_layer; ++i) h_->push_back(Block(config));
  ln_f_ = register_module("ln_f", nn::LayerNorm(nn::LayerNormOptions({config.n_embd})));
  lm_head_ = register_module("lm_head", nn::Linear(nn::LinearOptions(config.n_embd, config.vocab_size).bias(false)));

  xgrad::NoGradGuard no_grad;
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(config.n_layer));
  for (auto& named : named_parameters()) {
    const std::string& name = named.key();
    Tensor& p = named.value();
    const bool is_residual_projection = name.size() >= 13 && name.compare(name.size() - 13, 13, "c_proj.weight") == 0;
    if (p.dim() == 2) {
      nn::init::normal_(p, 0.0, is_residual_projection ? residual_std : 0.02);
    } else if (name.find("ln_") == std::string::npos) {
      nn::init::zeros_(p);
    }
  }
}

Tensor GPTImpl::forward(const Tensor& idx) {
  const std::int64_t T = idx.size(1);
  if (T > config_.block_size) {
    throw xgrad::Error("GPT: a sequence of " + std::to_string(T) + " tokens is longer than block_size " +
                       std::to_string(config_.block_size));
  }
  Tensor x = drop_->forward(wte_->forward(idx) + wpe_->forward(xgrad::arange(T)));
  for (const auto& block : *h_) x = block->as<BlockImpl>()->forward(x);
  return lm_head_->forward(ln_f_->forward(x));
}

Tensor GPTImpl::loss(const Tensor& logits, const Tensor& targets) const {
  return F::cross_entropy(logits.view({-1, logits.size(-1)}), targets.reshape({-1}));
}

Tensor GPTImpl::generate(Tensor idx, std::int64_t max_new_tokens, double temperature,
                         std::optional<std::int64_t> top_k) {
  xgrad::NoGradGuard no_grad;
  for (std::int64_t i = 0; i < max_new_tokens; ++i) {
    const std::int64_t T = idx.size(1);
    const Tensor context = T <= config_.block_size ? idx : idx.narrow(1, T - config_.block_size, config_.block_size);
    Tensor logits = forward(context).select(1, -1) / temperature;
    if (top_k) {
      const std::int64_t k = std::min(*top_k, logits.size(-1));
      const Tensor kth = std::get<0>(logits.topk(k, -1)).narrow(1, k - 1, 1);
      logits = logits.masked_fill(logits < kth, -std::numeric_limits<double>::infinity());
    }
    const Tensor next = xgrad::softmax(logits, -1).multinomial(1);
    idx = xgrad::cat({idx, next}, 1);
  }
  return idx;
}

std::pair<std::vector<Tensor>, std::vector<Tensor>> GPTImpl::decay_groups() const {
  std::pair<std::vector<Tensor>, std::vector<Tensor>> groups;
  for (const auto& p : parameters()) (p.dim() >= 2 ? groups.first : groups.second).push_back(p);
  return groups;
}

}  // namespace char_gpt
