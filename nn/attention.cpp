#include <xgrad/nn/attention.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/ops/attention.hpp>
#include <xgrad/ops/dropout.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/linalg.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/sequence.hpp>
#include <xgrad/ops/shape.hpp>
#include <xgrad/ops/softmax.hpp>
#include <xgrad/ops/view.hpp>

namespace xgrad::nn {

namespace {

constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();

// Python's _mha_shape_check: whether the inputs are batched (3-D) or unbatched (2-D), and the
// masks' ranks.
bool check_ranks(const char* op, const Tensor& query, const Tensor& key, const Tensor& value,
                 const Tensor& key_padding_mask, const Tensor& attn_mask, std::int64_t num_heads) {
  for (const Tensor* t : {&query, &key, &value})
    check(t->defined(), op, ": query, key and value must be defined tensors");
  if (query.dim() != 2 && query.dim() != 3)
    throw Error(concat(op, ": query should be unbatched 2D or batched 3D tensor but received ", query.dim(),
                       "-D query tensor (shape ", shape_str(query.shape()), ")"));
  const bool batched = query.dim() == 3;
  const char* kind = batched ? "batched (3-D)" : "unbatched (2-D)";
  if (key.dim() != query.dim() || value.dim() != query.dim())
    throw Error(concat(op, ": For ", kind, " `query`, expected `key` and `value` to be ", query.dim(),
                       "-D but found ", key.dim(), "-D and ", value.dim(), "-D tensors respectively"));
  if (key_padding_mask.defined() && key_padding_mask.dim() != query.dim() - 1)
    throw Error(concat(op, ": For ", kind, " `query`, expected `key_padding_mask` to be `None` or ", query.dim() - 1,
                       "-D but found ", key_padding_mask.dim(), "-D tensor instead"));
  if (attn_mask.defined() && attn_mask.dim() != 2 && attn_mask.dim() != 3)
    throw Error(concat(op, ": For ", kind, " `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found ",
                       attn_mask.dim(), "-D tensor instead"));
  if (!batched && attn_mask.defined() && attn_mask.dim() == 3) {
    const Shape expected{num_heads, query.size(0), key.size(0)};
    if (attn_mask.shape() != expected)
      throw Error(concat(op, ": Expected `attn_mask` shape to be ", shape_str(expected), " but got ",
                         shape_str(attn_mask.shape())));
  }
  return batched;
}

// A mask as the bias added to the scores: a bool (or uint8) mask is -inf where true (Python's
// meaning: may not attend) and 0 elsewhere; a float mask is itself.
Tensor additive_mask(const Tensor& mask, Dtype dtype, const char* op, const char* what) {
  if (!mask.defined()) return mask;
  if (mask.dtype() == kBool || mask.dtype() == kUInt8) {
    const Tensor as_bool = mask.dtype() == kBool ? mask : mask.to(kBool);
    return masked_fill(zeros(mask.sizes(), dtype), as_bool, kMinusInfinity);
  }
  if (!is_floating(mask.dtype()))
    throw Error(concat(op, ": Only float, byte, and bool types are supported for ", what, ", not ",
                       dtype_name(mask.dtype())));
  return mask.dtype() == dtype ? mask : mask.to(dtype);
}

// The three projections of the query, key and value: one packed (3E, E) weight, or three.
struct Projected {
  Tensor q, k, v;
};

Projected project(const Tensor& query, const Tensor& key, const Tensor& value,
                  const functional::MultiheadAttentionForwardFuncOptions& o) {
  const Tensor& bias = o.in_proj_bias();
  std::vector<Tensor> b(3);
  if (bias.defined()) b = chunk(bias, 3);
  if (o.use_separate_proj_weight())
    return {linear(query, o.q_proj_weight(), b[0]), linear(key, o.k_proj_weight(), b[1]),
            linear(value, o.v_proj_weight(), b[2])};
  // Self-attention: one product for all three (Python's _in_projection_packed).
  if (query.is_same(key) && key.is_same(value)) {
    const std::vector<Tensor> qkv = chunk(linear(query, o.in_proj_weight(), bias), 3, -1);
    return {qkv[0], qkv[1], qkv[2]};
  }
  const std::vector<Tensor> w = chunk(o.in_proj_weight(), 3);
  return {linear(query, w[0], b[0]), linear(key, w[1], b[1]), linear(value, w[2], b[2])};
}

// (T, B, E) -> (B num_heads, T, head_dim), as Python's view and transpose.
Tensor split_heads(const Tensor& x, std::int64_t batch_heads, std::int64_t head_dim) {
  return x.contiguous().view({x.size(0), batch_heads, head_dim}).transpose(0, 1);
}

// Appends one key position to a mask of shape (..., S): 0 (attend) for bias_k and the zero key.
Tensor pad_one_key(const Tensor& mask) { return mask.defined() ? constant_pad_nd(mask, {0, 1}) : mask; }

void check_shape(bool ok, const char* op, const std::string& message) {
  if (!ok) throw Error(concat(op, ": ", message));
}

// Python's multi_head_attention_forward, step for step; op names the caller in errors.
std::tuple<Tensor, Tensor> mha_forward(const char* op, Tensor query, Tensor key, Tensor value,
                                       const functional::MultiheadAttentionForwardFuncOptions& o) {
  const std::int64_t heads = o.num_heads();
  Tensor key_padding_mask = o.key_padding_mask(), attn_mask = o.attn_mask();
  const bool batched = check_ranks(op, query, key, value, key_padding_mask, attn_mask, heads);
  if (!batched) {
    query = query.unsqueeze(1);
    key = key.unsqueeze(1);
    value = value.unsqueeze(1);
    if (key_padding_mask.defined()) key_padding_mask = key_padding_mask.unsqueeze(0);
  }
  const std::int64_t tgt_len = query.size(0), bsz = query.size(1), embed_dim = query.size(2);
  std::int64_t src_len = key.size(0);
  if (key_padding_mask.defined() && key_padding_mask.dtype() != kBool && !is_floating(key_padding_mask.dtype()))
    throw Error(concat(op, ": only bool and floating types of key_padding_mask are supported, got ",
                       dtype_name(key_padding_mask.dtype())));
  check_shape(embed_dim == o.embed_dim_to_check(), op,
              concat("was expecting embedding dimension of ", o.embed_dim_to_check(), ", but got ", embed_dim,
                     " (query of shape ", shape_str(query.shape()), ")"));
  check_shape(heads > 0 && embed_dim % heads == 0, op,
              concat("embed_dim ", embed_dim, " not divisible by num_heads ", heads));
  const std::int64_t head_dim = embed_dim / heads;
  if (o.use_separate_proj_weight())
    check_shape(key.size(0) == value.size(0) && key.size(1) == value.size(1), op,
                concat("key's sequence and batch dims ", shape_str({key.size(0), key.size(1)}),
                       " do not match value's ", shape_str({value.size(0), value.size(1)})));
  else
    check_shape(key.shape() == value.shape(), op,
                concat("key shape ", shape_str(key.shape()), " does not match value shape ", shape_str(value.shape())));
  check_shape(key.size(1) == bsz, op,
              concat("query and key must have the same batch size, got query ", shape_str(query.shape()), " and key ",
                     shape_str(key.shape())));
  Projected p = project(query, key, value, o);

  const Dtype dtype = p.q.dtype();
  if (attn_mask.defined()) {
    const Shape expected_2d{tgt_len, src_len}, expected_3d{bsz * heads, tgt_len, src_len};
    if (attn_mask.dim() == 2) {
      check_shape(attn_mask.shape() == expected_2d, op,
                  concat("The shape of the 2D attn_mask is ", shape_str(attn_mask.shape()), ", but should be ",
                         shape_str(expected_2d), "."));
      attn_mask = attn_mask.unsqueeze(0);
    } else {
      check_shape(attn_mask.shape() == expected_3d, op,
                  concat("The shape of the 3D attn_mask is ", shape_str(attn_mask.shape()), ", but should be ",
                         shape_str(expected_3d), "."));
    }
    attn_mask = additive_mask(attn_mask, dtype, op, "attn_mask");
  }
  key_padding_mask = additive_mask(key_padding_mask, dtype, op, "key_padding_mask");

  if (o.bias_k().defined() && o.bias_v().defined()) {
    check_shape(!o.static_k().defined() && !o.static_v().defined(), op, "bias cannot be added to static key or value.");
    p.k = cat({p.k, o.bias_k().repeat({1, bsz, 1})});
    p.v = cat({p.v, o.bias_v().repeat({1, bsz, 1})});
    attn_mask = pad_one_key(attn_mask);
    key_padding_mask = pad_one_key(key_padding_mask);
  } else {
    check_shape(!o.bias_k().defined() && !o.bias_v().defined(), op, "bias_k and bias_v must be given together");
  }

  const std::int64_t batch_heads = bsz * heads;
  const Tensor q = split_heads(p.q, batch_heads, head_dim);
  Tensor k = split_heads(p.k, batch_heads, head_dim), v = split_heads(p.v, batch_heads, head_dim);
  for (const auto& [static_kv, target, name] : {std::tuple{o.static_k(), &k, "static_k"},
                                                std::tuple{o.static_v(), &v, "static_v"}}) {
    if (!static_kv.defined()) continue;
    check_shape(static_kv.dim() == 3 && static_kv.size(0) == batch_heads && static_kv.size(2) == head_dim, op,
                concat("expecting ", name, " of shape (", batch_heads, ", S, ", head_dim, "), but got ",
                       shape_str(static_kv.shape())));
    *target = static_kv;
  }
  if (o.add_zero_attn()) {
    k = cat({k, zeros({batch_heads, 1, head_dim}, dtype)}, 1);
    v = cat({v, zeros({batch_heads, 1, head_dim}, dtype)}, 1);
    attn_mask = pad_one_key(attn_mask);
    key_padding_mask = pad_one_key(key_padding_mask);
  }
  src_len = k.size(1);
  if (key_padding_mask.defined()) {
    check_shape(key_padding_mask.shape() == Shape{bsz, src_len}, op,
                concat("expecting key_padding_mask shape of ", shape_str({bsz, src_len}), ", but got ",
                       shape_str(key_padding_mask.shape())));
    const Tensor per_head = key_padding_mask.view({bsz, 1, 1, src_len})
                                .expand({bsz, heads, 1, src_len})
                                .reshape({batch_heads, 1, src_len});
    attn_mask = attn_mask.defined() ? attn_mask + per_head : per_head;
  }
  const double dropout_p = o.training() ? o.dropout_p() : 0.0;

  Tensor attn_output, weights;
  if (o.need_weights()) {  // the weights themselves are wanted: softmax(q k^T / sqrt(d) + mask) spelled out
    const Tensor q_scaled = q / std::sqrt(static_cast<double>(head_dim));
    weights = attn_mask.defined() ? baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
                                  : bmm(q_scaled, k.transpose(-2, -1));
    weights = softmax(weights, -1);
    if (dropout_p > 0) weights = dropout(weights, dropout_p, /*train=*/true);
    attn_output = bmm(weights, v);
  } else {  // only the output: the fused attention, which keeps no (L, S) matrix
    attn_output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p);
  }
  attn_output = attn_output.transpose(0, 1).contiguous().view({tgt_len * bsz, embed_dim});
  attn_output = linear(attn_output, o.out_proj_weight(), o.out_proj_bias()).view({tgt_len, bsz, -1});
  if (weights.defined()) {
    weights = weights.view({bsz, heads, tgt_len, src_len});
    if (o.average_attn_weights()) weights = weights.sum(1) / static_cast<double>(heads);
    if (!batched) weights = weights.squeeze(0);
  }
  if (!batched) attn_output = attn_output.squeeze(1);
  return {attn_output, weights};
}

}  // namespace

MultiheadAttentionImpl::MultiheadAttentionImpl(const MultiheadAttentionOptions& options)
    : options(options),
      _qkv_same_embed_dim(options.kdim() == options.embed_dim() && options.vdim() == options.embed_dim()),
      head_dim(options.num_heads() > 0 ? options.embed_dim() / options.num_heads() : 0) {
  const std::int64_t e = options.embed_dim();
  check(e > 0 && options.num_heads() > 0 && options.kdim() > 0 && options.vdim() > 0,
        "MultiheadAttention: embed_dim, num_heads, kdim and vdim must be positive, got embed_dim=", e,
        ", num_heads=", options.num_heads(), ", kdim=", options.kdim(), ", vdim=", options.vdim());
  check(head_dim * options.num_heads() == e, "MultiheadAttention: embed_dim must be divisible by num_heads (got embed_dim=",
        e, " and num_heads=", options.num_heads(), ")");
  // Python's registration order, so that named_parameters() lists them as state_dict() does.
  if (_qkv_same_embed_dim) {
    in_proj_weight = register_parameter("in_proj_weight", zeros({3 * e, e}));
  } else {
    q_proj_weight = register_parameter("q_proj_weight", zeros({e, e}));
    k_proj_weight = register_parameter("k_proj_weight", zeros({e, options.kdim()}));
    v_proj_weight = register_parameter("v_proj_weight", zeros({e, options.vdim()}));
  }
  if (options.bias()) in_proj_bias = register_parameter("in_proj_bias", zeros({3 * e}));
  out_proj = register_module("out_proj", Linear(LinearOptions(e, e).bias(options.bias())));
  if (options.add_bias_kv()) {
    bias_k = register_parameter("bias_k", zeros({1, 1, e}));
    bias_v = register_parameter("bias_v", zeros({1, 1, e}));
  }
  _reset_parameters();
}

void MultiheadAttentionImpl::_reset_parameters() {
  NoGradGuard no_grad;
  if (_qkv_same_embed_dim) {
    init::xavier_uniform_(in_proj_weight);
  } else {
    init::xavier_uniform_(q_proj_weight);
    init::xavier_uniform_(k_proj_weight);
    init::xavier_uniform_(v_proj_weight);
  }
  if (in_proj_bias.defined()) {
    init::zeros_(in_proj_bias);
    init::zeros_(out_proj->bias);
  }
  if (bias_k.defined()) init::xavier_normal_(bias_k);
  if (bias_v.defined()) init::xavier_normal_(bias_v);
}

std::tuple<Tensor, Tensor> MultiheadAttentionImpl::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                                           const Tensor& key_padding_mask, bool need_weights,
                                                           const Tensor& attn_mask, bool average_attn_weights) {
  const bool batch_first = options.batch_first() && query.defined() && query.dim() == 3;
  const auto sequence_first = [&](const Tensor& t) { return batch_first && t.defined() ? t.transpose(0, 1) : t; };
  functional::MultiheadAttentionForwardFuncOptions o(options.embed_dim(), options.num_heads(), in_proj_weight,
                                                     in_proj_bias, bias_k, bias_v, options.add_zero_attn(),
                                                     options.dropout(), out_proj->weight, out_proj->bias);
  o.training(is_training())
      .key_padding_mask(key_padding_mask)
      .need_weights(need_weights)
      .attn_mask(attn_mask)
      .average_attn_weights(average_attn_weights);
  if (!_qkv_same_embed_dim)
    o.use_separate_proj_weight(true).q_proj_weight(q_proj_weight).k_proj_weight(k_proj_weight).v_proj_weight(
        v_proj_weight);
  auto [out, weights] = mha_forward("MultiheadAttention", sequence_first(query), sequence_first(key),
                                    sequence_first(value), o);
  return {sequence_first(out), weights};
}

namespace functional {

std::tuple<Tensor, Tensor> multi_head_attention_forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                                        const MultiheadAttentionForwardFuncOptions& options) {
  return mha_forward("multi_head_attention_forward", query, key, value, options);
}

}  // namespace functional

}  // namespace xgrad::nn
