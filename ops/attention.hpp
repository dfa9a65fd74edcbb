#pragma once
// Scaled dot-product attention, as PyTorch 2.0's torch.nn.functional.scaled_dot_product_attention
// (at::scaled_dot_product_attention; beyond libtorch 1.13).
//
//   Tensor y = xgrad::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true);
//
// With q (..., L, E), k (..., S, E), v (..., S, Ev), whose leading (batch, head) dims broadcast as
// matmul's do (k and v of shape (1, H, S, E) serve every batch entry, for example):
//
//   y = softmax(q k^T / sqrt(E) + M) v                                      (..., L, Ev)
//
// where M is the attention mask as an additive (L, S) bias per batch and head:
//   - attn_mask of the query's floating dtype: added to the scores as it is (-inf forbids a key);
//   - attn_mask of dtype bool: true where attention is ALLOWED (2.0's meaning), i.e. 0 there and
//     -inf elsewhere (nn::MultiheadAttention's bool masks mean the opposite, as in Python);
//   - is_causal: query i attends to keys j <= i (2.0's torch.ones(L, S).tril()); giving both it and
//     attn_mask is an error, as in 2.0.
// The mask broadcasts to (..., L, S) by NumPy's rules. With dropout_p > 0 each attention weight
// (after the softmax) is zeroed with probability dropout_p and the rest scaled by 1 / (1 - p), as
// 2.0's reference does; the decisions come from one seed drawn from manual_seed's generator and
// each weight's position, so the same seed gives the same output (PyTorch's random stream is not
// reproduced).
//
// A row whose keys are all forbidden is a softmax of -inf only, which is NaN, and so is that
// query's output (and every gradient it reaches), as PyTorch's math path gives.
//
// Gradients, with P the attention weights, D the dropout multipliers (0 or 1 / (1 - p); all 1
// without dropout), g the upstream and s = 1 / sqrt(E):
//   dv = (P D)^T g,   dP = (g v^T) D,   dZ = P (dP - rowsum(dP P)),   dq = s dZ k,   dk = s dZ^T q
// That formula, written with xgrad's ops (P rebuilt from q and k, D from the seed), is the
// derivative used when a create_graph backward must itself be differentiable. The op is one fused
// node (ScaledDotProductFlashAttentionBackward0, the name of PyTorch's CPU kernel): the forward
// walks each (batch, head) in blocks of query rows, and the node keeps q, k, v and each query's
// logsumexp of scores, never an (L, S) matrix; when create_graph is off, the backward recomputes P
// block by block from them, as FlashAttention's backward does, and regenerates the dropout
// decisions from the seed. Causal blocks skip the keys after the block's last query.
// With a float mask that requires grad, or dropout_p = 1, the op is the formula recorded from
// xgrad's ops (softmax, dropout, matmul), which does keep P.
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// Errors (xgrad::Error naming scaled_dot_product_attention): q, k, v not floating or of different
// dtypes, fewer than 2 dims, leading dims that do not broadcast, E or S not matching, a mask that is neither bool nor the query's dtype or does not broadcast to
// (..., L, S), both attn_mask and is_causal, dropout_p outside [0, 1].
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = {}, double dropout_p = 0.0, bool is_causal = false);

}  // namespace xgrad
