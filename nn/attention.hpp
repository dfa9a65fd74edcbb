#pragma once
// Multi-head attention, as torch::nn::MultiheadAttention, with the values of Python's
// nn.MultiheadAttention (torch 1.13), and its functional form F::multi_head_attention_forward.
//
//   nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(64, 4).dropout(0.1));
//   auto [out, weights] = mha->forward(x, x, x);         // x (T, B, 64) -> out (T, B, 64), weights (B, T, T)
//   auto [y, none] = mha->forward(q, k, v, padding, false, xgrad::triu(xgrad::ones({T, T}, xgrad::kBool), 1));
//
// Inputs are (L, B, E) query, (S, B, kdim) key and (S, B, vdim) value (sequence first, as in
// libtorch; batch_first(true) takes (B, L, E) as Python's), or unbatched (L, E), (S, kdim),
// (S, vdim). Each of the num_heads heads attends with head_dim = E / num_heads of the projected
// query, key and value:
//
//   q = query W_q^T + b_q, k = key W_k^T + b_k, v = value W_v^T + b_v       (split into heads)
//   out = concat_heads(softmax(q k^T / sqrt(head_dim) + mask) v) W_o^T + b_o
//
// Masks follow Python: a bool attn_mask ((L, S) or (B num_heads, L, S)) is true where a query may
// NOT attend (the opposite of scaled_dot_product_attention's bool mask); a float attn_mask is added
// to the scores; key_padding_mask (B, S) bool is true for keys to ignore, a float one is added.
// Parameters, under Python's names: in_proj_weight (3E, E) and in_proj_bias (3E), or, when kdim or
// vdim differ from E, q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim);
// out_proj.weight (E, E), out_proj.bias (E); with add_bias_kv, bias_k and bias_v (1, 1, E).
// Initialised as Python's _reset_parameters: xavier_uniform_ projections, zero biases, out_proj's
// weight as Linear's, bias_k and bias_v xavier_normal_.
#include <cstdint>
#include <optional>
#include <tuple>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/linear.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad::nn {

// MultiheadAttentionOptions(embed_dim, num_heads).dropout(0).bias(true).add_bias_kv(false)
// .add_zero_attn(false).kdim(embed_dim).vdim(embed_dim), as libtorch's; batch_first(false) is
// Python's, an extension here.
class MultiheadAttentionOptions {
 public:
  MultiheadAttentionOptions(std::int64_t embed_dim, std::int64_t num_heads)
      : embed_dim_(embed_dim), num_heads_(num_heads), kdim_(embed_dim), vdim_(embed_dim) {}

  XGRAD_ARG(std::int64_t, embed_dim);
  XGRAD_ARG(std::int64_t, num_heads);
  // Dropout on the attention weights, in training mode.
  XGRAD_ARG(double, dropout) = 0.0;
  // Whether the projections have biases (in_proj_bias, out_proj.bias).
  XGRAD_ARG(bool, bias) = true;
  // Learned bias_k and bias_v appended to the keys and values as one more position.
  XGRAD_ARG(bool, add_bias_kv) = false;
  // A position of zeros appended to the keys and values (after bias_k/bias_v).
  XGRAD_ARG(bool, add_zero_attn) = false;
  // Widths of the key and value inputs.
  XGRAD_ARG(std::int64_t, kdim);
  XGRAD_ARG(std::int64_t, vdim);
  // (B, L, E) inputs and output instead of (L, B, E).
  XGRAD_ARG(bool, batch_first) = false;
};

class MultiheadAttentionImpl : public Module {
 public:
  MultiheadAttentionImpl(std::int64_t embed_dim, std::int64_t num_heads)
      : MultiheadAttentionImpl(MultiheadAttentionOptions(embed_dim, num_heads)) {}
  explicit MultiheadAttentionImpl(const MultiheadAttentionOptions& options);

  // -> (attn_output (L, B, E), attn_weights): the weights are (B, L, S) averaged over the heads
  // (average_attn_weights) or (B, num_heads, L, S), undefined without need_weights. Unbatched inputs
  // give (L, E) and (L, S) or (num_heads, L, S). Errors (xgrad::Error naming MultiheadAttention):
  // inputs of the wrong rank or width, masks of the wrong shape or dtype.
  std::tuple<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                     const Tensor& key_padding_mask = {}, bool need_weights = true,
                                     const Tensor& attn_mask = {}, bool average_attn_weights = true);
  // Python's _reset_parameters.
  void _reset_parameters();

  MultiheadAttentionOptions options;
  bool _qkv_same_embed_dim;
  std::int64_t head_dim;
  Tensor in_proj_weight, in_proj_bias;                // in_proj_weight undefined when kdim or vdim differ
  Tensor q_proj_weight, k_proj_weight, v_proj_weight;  // defined only then
  Tensor bias_k, bias_v;                               // defined with add_bias_kv
  Linear out_proj = nullptr;
};
XGRAD_MODULE(MultiheadAttention);

namespace functional {

// F::multi_head_attention_forward's options, as libtorch's: the projections' parameters, then
// training(true), key_padding_mask, need_weights(true), attn_mask, use_separate_proj_weight(false)
// with q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v ((B num_heads, S, head_dim)
// keys and values used instead of projecting), and average_attn_weights(true).
class MultiheadAttentionForwardFuncOptions {
 public:
  MultiheadAttentionForwardFuncOptions(std::int64_t embed_dim_to_check, std::int64_t num_heads, Tensor in_proj_weight,
                                       Tensor in_proj_bias, Tensor bias_k, Tensor bias_v, bool add_zero_attn,
                                       double dropout_p, Tensor out_proj_weight, Tensor out_proj_bias)
      : embed_dim_to_check_(embed_dim_to_check), num_heads_(num_heads), in_proj_weight_(std::move(in_proj_weight)),
        in_proj_bias_(std::move(in_proj_bias)), bias_k_(std::move(bias_k)), bias_v_(std::move(bias_v)),
        add_zero_attn_(add_zero_attn), dropout_p_(dropout_p), out_proj_weight_(std::move(out_proj_weight)),
        out_proj_bias_(std::move(out_proj_bias)) {}

  XGRAD_ARG(std::int64_t, embed_dim_to_check);
  XGRAD_ARG(std::int64_t, num_heads);
  XGRAD_ARG(Tensor, in_proj_weight);
  XGRAD_ARG(Tensor, in_proj_bias);
  XGRAD_ARG(Tensor, bias_k);
  XGRAD_ARG(Tensor, bias_v);
  XGRAD_ARG(bool, add_zero_attn);
  XGRAD_ARG(double, dropout_p);
  XGRAD_ARG(Tensor, out_proj_weight);
  XGRAD_ARG(Tensor, out_proj_bias);
  XGRAD_ARG(bool, training) = true;
  XGRAD_ARG(Tensor, key_padding_mask);
  XGRAD_ARG(bool, need_weights) = true;
  XGRAD_ARG(Tensor, attn_mask);
  XGRAD_ARG(bool, use_separate_proj_weight) = false;
  XGRAD_ARG(Tensor, q_proj_weight);
  XGRAD_ARG(Tensor, k_proj_weight);
  XGRAD_ARG(Tensor, v_proj_weight);
  XGRAD_ARG(Tensor, static_k);
  XGRAD_ARG(Tensor, static_v);
  XGRAD_ARG(bool, average_attn_weights) = true;
};

// Python's F.multi_head_attention_forward (sequence-first inputs), as the module above describes.
std::tuple<Tensor, Tensor> multi_head_attention_forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                                        const MultiheadAttentionForwardFuncOptions& options);

}  // namespace functional

}  // namespace xgrad::nn
