#!/usr/bin/python3
"""Generate PyTorch golden fixtures for xgrad's normalisation and attention ops and modules.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tests/golden/make_golden_attention.py

It (re)writes attention.json next to this script, and npz/mha_state.npz and
npz/encoder_state.npz (PyTorch state_dicts written by numpy.savez, for xgrad::load):

- "layer_norm", "group_norm": F.layer_norm / F.group_norm; inputs [input, weight?, bias?];
  options: normalized_shape or num_groups, eps, affine ("weight+bias", "weight", "none").
- "sdpa": scaled_dot_product_attention with PyTorch 2.0's semantics, computed with 2.0's documented
  reference formula (torch 1.13 has no F.scaled_dot_product_attention); inputs [q, k, v]; options:
  is_causal, and "attn_mask" (a tensor, never differentiated) when given.
- Module cases ("LayerNorm", "GroupNorm", "MultiheadAttention", "TransformerEncoderLayer",
  "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder", "Transformer"): "config" (constructor arguments), "params" (every parameter, by its
  state_dict name, which the test copies into the xgrad module), "inputs" (named), "call" (masks
  and flags), "outputs" (the first output; MultiheadAttention's weights second when need_weights),
  "upstreams" (one per output), "grads" (the differentiable inputs' gradients, by name) and
  "param_grads" (every parameter's gradient, by name). backward is of
  sum(output_i * upstream_i).
- "npz": for each .npz, the module's config, an input and PyTorch's output.

Every differentiable case exists in float32 and float64 with a random upstream.
"""

import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import SEED, UniqueCases, tensor_to_json, upstream_like, write_json  # noqa: E402

F64 = torch.float64
DTYPES = (torch.float32, torch.float64)
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}
HERE = os.path.dirname(os.path.abspath(__file__))


def randn(*shape):
    return torch.randn(*shape, dtype=F64)


def sdpa_reference(q, k, v, attn_mask=None, is_causal=False):
    """PyTorch 2.0's documented reference implementation of F.scaled_dot_product_attention."""
    L, S = q.size(-2), k.size(-2)
    if is_causal:
        attn_mask = torch.ones(L, S, dtype=torch.bool).tril(diagonal=0)
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        attn_mask = torch.zeros(attn_mask.shape, dtype=q.dtype).masked_fill(~attn_mask, -float("inf"))
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if attn_mask is not None:
        scores = scores + attn_mask.to(q.dtype)
    return torch.softmax(scores, dim=-1) @ v


def to_json(t):
    """make_golden's tensor_to_json, and bool masks as JSON booleans."""
    if t.dtype == torch.bool:
        return {"shape": list(t.shape), "dtype": "bool", "data": t.reshape(-1).tolist()}
    return tensor_to_json(t)


def option_json(value):
    return to_json(value) if torch.is_tensor(value) else value


# ---- op cases: inputs [..] differentiated, options passed through ------------------------------------

def norm_call(fn, inputs, options):
    x = inputs[0]
    affine = options["affine"]
    weight = inputs[1] if affine != "none" else None
    bias = inputs[2] if affine == "weight+bias" else None
    if fn == "layer_norm":
        return F.layer_norm(x, options["normalized_shape"], weight, bias, options["eps"])
    return F.group_norm(x, options["num_groups"], weight, bias, options["eps"])


def op_call(fn, inputs, options):
    if fn == "sdpa":
        return sdpa_reference(inputs[0], inputs[1], inputs[2], options.get("attn_mask"), options["is_causal"])
    return norm_call(fn, inputs, options)


def add_op(cl, fn, variant, inputs, **options):
    for dtype in DTYPES:
        base = f"{fn}/{variant}"
        leaves = [x.to(dtype).clone().requires_grad_(True) for x in inputs]
        opts = {k: (v.to(dtype) if torch.is_tensor(v) and v.is_floating_point() else v) for k, v in options.items()}
        out = op_call(fn, leaves, opts)
        up = upstream_like(out, base)
        out.backward(up)
        cl.append({
            "name": f"{base}/{DTYPE_NAMES[dtype]}",
            "fn": fn,
            "dtype": DTYPE_NAMES[dtype],
            "grad_fn": out.grad_fn.name(),
            "options": {k: option_json(v) for k, v in opts.items()},
            "inputs": [tensor_to_json(x.detach()) for x in leaves],
            "upstream": tensor_to_json(up),
            "output": tensor_to_json(out),
            "grads": [tensor_to_json(x.grad) for x in leaves],
        })


def norm_cases(cl):
    ln = dict(eps=1e-5)
    add_op(cl, "layer_norm", "2x3x4/[4]", [randn(2, 3, 4), randn(4), randn(4)], normalized_shape=[4],
           affine="weight+bias", **ln)
    add_op(cl, "layer_norm", "2x3x4/[3,4]", [randn(2, 3, 4), randn(3, 4), randn(3, 4)], normalized_shape=[3, 4],
           affine="weight+bias", **ln)
    add_op(cl, "layer_norm", "3x5/no_affine", [randn(3, 5)], normalized_shape=[5], affine="none", **ln)
    add_op(cl, "layer_norm", "4x6/weight_only/eps=0.1", [randn(4, 6), randn(6)], normalized_shape=[6],
           affine="weight", eps=0.1)
    add_op(cl, "layer_norm", "2x8/mean_100", [randn(2, 8) * 0.1 + 100, randn(8), randn(8)], normalized_shape=[8],
           affine="weight+bias", **ln)
    add_op(cl, "group_norm", "2x6x4/3_groups", [randn(2, 6, 4), randn(6), randn(6)], num_groups=3,
           affine="weight+bias", **ln)
    add_op(cl, "group_norm", "3x4/2_groups", [randn(3, 4), randn(4), randn(4)], num_groups=2,
           affine="weight+bias", **ln)
    add_op(cl, "group_norm", "2x4x2x3/1_group/no_affine", [randn(2, 4, 2, 3)], num_groups=1, affine="none", **ln)
    add_op(cl, "group_norm", "2x4x3/4_groups", [randn(2, 4, 3), randn(4), randn(4)], num_groups=4,
           affine="weight+bias", eps=1e-3)


def sdpa_cases(cl):
    add_op(cl, "sdpa", "2x3x4x8", [randn(2, 3, 4, 8), randn(2, 3, 4, 8), randn(2, 3, 4, 8)], is_causal=False)
    add_op(cl, "sdpa", "L5_S7_Ev6", [randn(2, 5, 8), randn(2, 7, 8), randn(2, 7, 6)], is_causal=False)
    add_op(cl, "sdpa", "2d", [randn(4, 3), randn(6, 3), randn(6, 2)], is_causal=False)
    add_op(cl, "sdpa", "causal_2x2x5x4", [randn(2, 2, 5, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 4)], is_causal=True)
    add_op(cl, "sdpa", "causal_L3_S5", [randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 4)], is_causal=True)
    add_op(cl, "sdpa", "causal_L70", [randn(1, 70, 4), randn(1, 70, 4), randn(1, 70, 3)], is_causal=True)
    add_op(cl, "sdpa", "float_mask_LS", [randn(2, 2, 4, 8), randn(2, 2, 6, 8), randn(2, 2, 6, 8)],
           is_causal=False, attn_mask=randn(4, 6))
    keep = torch.rand(2, 1, 4, 6) > 0.4
    keep[..., 0] = True  # every row keeps a key
    add_op(cl, "sdpa", "bool_mask_B1LS", [randn(2, 3, 4, 8), randn(2, 3, 6, 8), randn(2, 3, 6, 8)],
           is_causal=False, attn_mask=keep)
    add_op(cl, "sdpa", "float_mask_with_-inf", [randn(3, 4, 5), randn(3, 4, 5), randn(3, 4, 5)], is_causal=False,
           attn_mask=torch.triu(torch.full((4, 4), -float("inf"), dtype=F64), 1) + randn(4, 4))
    fully = torch.ones(2, 3, 4, dtype=torch.bool)
    fully[1, 2] = False  # row 2 of batch 1 attends to nothing: NaN, as the math path gives
    add_op(cl, "sdpa", "fully_masked_row", [randn(2, 3, 5), randn(2, 4, 5), randn(2, 4, 5)], is_causal=False,
           attn_mask=fully)
    add_op(cl, "sdpa", "long_S130", [randn(1, 2, 3, 8), randn(1, 2, 130, 8), randn(1, 2, 130, 8)], is_causal=False)
    add_op(cl, "sdpa", "broadcast_kv_1xH", [randn(2, 3, 4, 8), randn(1, 3, 5, 8), randn(1, 3, 5, 6)], is_causal=False,
           attn_mask=randn(4, 5))
    add_op(cl, "sdpa", "broadcast_ranks/causal", [randn(2, 1, 5, 4), randn(3, 5, 4), randn(5, 2)], is_causal=True)


# ---- module cases ------------------------------------------------------------------------------

def module_case(cl, fn, variant, make, config, inputs, call, differentiable):
    """make() builds the torch module (float64); inputs: name -> tensor; call(module, inputs) returns
    a tuple of outputs; differentiable: names of the inputs that get gradients."""
    torch.manual_seed(SEED)
    reference = make().double()
    reference.train()
    for param in reference.parameters():  # random values, so every parameter's gradient matters
        with torch.no_grad():
            param.copy_(torch.randn(param.shape, dtype=F64) * 0.5)
    state = {k: v.detach().clone() for k, v in reference.state_dict().items()}
    for dtype in DTYPES:
        base = f"{fn}/{variant}"
        module = make().to(dtype)
        module.load_state_dict({k: v.to(dtype) for k, v in state.items()})
        module.train()
        leaves = {k: (v.to(dtype).clone().requires_grad_(k in differentiable) if v.is_floating_point() else v)
                  for k, v in inputs.items()}
        outputs = [o for o in call(module, leaves) if o is not None]
        ups = [upstream_like(o, f"{base}/{i}") for i, o in enumerate(outputs)]
        sum((o * u).sum() for o, u in zip(outputs, ups)).backward()
        cl.append({
            "name": f"{base}/{DTYPE_NAMES[dtype]}",
            "fn": fn,
            "dtype": DTYPE_NAMES[dtype],
            "config": config,
            "params": {k: tensor_to_json(v) for k, v in module.state_dict().items()},
            "inputs": {k: to_json(v.detach()) for k, v in leaves.items()},
            "outputs": [tensor_to_json(o.detach()) for o in outputs],
            "upstreams": [tensor_to_json(u) for u in ups],
            "grads": {k: tensor_to_json(leaves[k].grad) for k in differentiable},
            "param_grads": {k: tensor_to_json(p.grad) for k, p in module.named_parameters()},
        })


def norm_module_cases(cl):
    module_case(cl, "LayerNorm", "[4]", lambda: nn.LayerNorm([4]), {"normalized_shape": [4], "eps": 1e-5},
                {"input": randn(2, 3, 4)}, lambda m, x: (m(x["input"]),), ["input"])
    module_case(cl, "LayerNorm", "[2,3]/eps=1e-3", lambda: nn.LayerNorm([2, 3], eps=1e-3),
                {"normalized_shape": [2, 3], "eps": 1e-3}, {"input": randn(4, 2, 3)},
                lambda m, x: (m(x["input"]),), ["input"])
    module_case(cl, "GroupNorm", "2_groups_of_6", lambda: nn.GroupNorm(2, 6), {"num_groups": 2, "num_channels": 6},
                {"input": randn(3, 6, 5)}, lambda m, x: (m(x["input"]),), ["input"])


def mha_call(need_weights=True, average=True, kpm=False, attn_mask=False):
    def call(m, x):
        return m(x["query"], x["key"], x["value"], key_padding_mask=x.get("key_padding_mask") if kpm else None,
                 need_weights=need_weights, attn_mask=x.get("attn_mask") if attn_mask else None,
                 average_attn_weights=average)
    return call


def mha(config):
    return lambda: nn.MultiheadAttention(config["embed_dim"], config["num_heads"], bias=config.get("bias", True),
                                         add_bias_kv=config.get("add_bias_kv", False),
                                         add_zero_attn=config.get("add_zero_attn", False),
                                         kdim=config.get("kdim"), vdim=config.get("vdim"))


def mha_cases(cl):
    qkv = ["query", "key", "value"]
    x = randn(5, 3, 8)
    c = {"embed_dim": 8, "num_heads": 2}
    module_case(cl, "MultiheadAttention", "self/average", mha(c), {**c, "need_weights": True, "average": True},
                {"query": x, "key": x.clone(), "value": x.clone()}, mha_call(), qkv)
    pad = torch.tensor([[False] * 5 + [True], [False] * 3 + [True] * 3])
    module_case(cl, "MultiheadAttention", "cross/padding/float_mask/per_head", mha(c),
                {**c, "need_weights": True, "average": False},
                {"query": randn(4, 2, 8), "key": randn(6, 2, 8), "value": randn(6, 2, 8), "key_padding_mask": pad,
                 "attn_mask": randn(4, 6)},
                mha_call(average=False, kpm=True, attn_mask=True), qkv)
    causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)  # True: may not attend (Python's meaning)
    module_case(cl, "MultiheadAttention", "bool_causal_mask/no_weights", mha(c), {**c, "need_weights": False},
                {"query": x, "key": x.clone(), "value": x.clone(), "attn_mask": causal},
                mha_call(need_weights=False, attn_mask=True), qkv)
    bool_pad = torch.tensor([[False, True, False, False, True], [False] * 5, [True, False, False, False, False]])
    module_case(cl, "MultiheadAttention", "bool_mask_and_padding", mha(c), {**c, "need_weights": True},
                {"query": x, "key": x.clone(), "value": x.clone(), "attn_mask": causal, "key_padding_mask": bool_pad},
                mha_call(attn_mask=True, kpm=True), qkv)
    ckv = {"embed_dim": 8, "num_heads": 2, "kdim": 5, "vdim": 3, "bias": False}
    module_case(cl, "MultiheadAttention", "kdim5_vdim3/no_bias", mha(ckv), {**ckv, "need_weights": True},
                {"query": randn(4, 2, 8), "key": randn(6, 2, 5), "value": randn(6, 2, 3)}, mha_call(), qkv)
    cbz = {"embed_dim": 6, "num_heads": 3, "add_bias_kv": True, "add_zero_attn": True}
    module_case(cl, "MultiheadAttention", "bias_kv/zero_attn/padding/mask3d", mha(cbz), {**cbz, "need_weights": True},
                {"query": randn(4, 2, 6), "key": randn(5, 2, 6), "value": randn(5, 2, 6),
                 "key_padding_mask": torch.tensor([[False] * 4 + [True], [False] * 5]), "attn_mask": randn(6, 4, 5)},
                mha_call(kpm=True, attn_mask=True), qkv)
    module_case(cl, "MultiheadAttention", "unbatched/padding", mha(c), {**c, "need_weights": True},
                {"query": randn(4, 8), "key": randn(6, 8), "value": randn(6, 8),
                 "key_padding_mask": torch.tensor([False, False, True, False, True, False])},
                mha_call(kpm=True), qkv)


def encoder_layer(config):
    return lambda: nn.TransformerEncoderLayer(config["d_model"], config["nhead"], config["dim_feedforward"],
                                              dropout=0.0, activation=config["activation"],
                                              batch_first=config.get("batch_first", False),
                                              norm_first=config.get("norm_first", False))


def encoder_call(m, x):
    return (m(x["src"], x.get("src_mask"), x.get("src_key_padding_mask")),)


def transformer_cases(cl):
    c = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "activation": "relu"}
    causal = nn.Transformer.generate_square_subsequent_mask(5).to(F64)
    pad = torch.tensor([[False] * 5, [False, False, False, True, True], [False] * 4 + [True]])
    module_case(cl, "TransformerEncoderLayer", "relu/causal/padding", encoder_layer(c), c,
                {"src": randn(5, 3, 8), "src_mask": causal, "src_key_padding_mask": pad}, encoder_call, ["src"])
    g = {"d_model": 8, "nhead": 4, "dim_feedforward": 12, "activation": "gelu", "batch_first": True,
         "norm_first": True}
    module_case(cl, "TransformerEncoderLayer", "gelu/batch_first/norm_first", encoder_layer(g), g,
                {"src": randn(3, 5, 8)}, encoder_call, ["src"])
    e = {**c, "num_layers": 2, "norm": True}
    module_case(cl, "TransformerEncoder", "2_layers/norm/causal",
                lambda: nn.TransformerEncoder(encoder_layer(c)(), 2, norm=nn.LayerNorm(8)), e,
                {"src": randn(5, 2, 8), "src_mask": causal}, encoder_call, ["src"])


def decoder_layer(config):
    return lambda: nn.TransformerDecoderLayer(config["d_model"], config["nhead"], config["dim_feedforward"],
                                              dropout=0.0, activation=config["activation"],
                                              batch_first=config.get("batch_first", False),
                                              norm_first=config.get("norm_first", False))


def decoder_call(m, x):
    return (m(x["tgt"], x["memory"], tgt_mask=x.get("tgt_mask"), memory_mask=x.get("memory_mask"),
              tgt_key_padding_mask=x.get("tgt_key_padding_mask"),
              memory_key_padding_mask=x.get("memory_key_padding_mask")),)


def decoder_cases(cl):
    c = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "activation": "relu"}
    causal = nn.Transformer.generate_square_subsequent_mask(4).to(F64)
    memory_pad = torch.tensor([[False] * 5, [False, False, False, True, True]])
    module_case(cl, "TransformerDecoderLayer", "relu/causal/memory_padding/memory_mask", decoder_layer(c), c,
                {"tgt": randn(4, 2, 8), "memory": randn(5, 2, 8), "tgt_mask": causal, "memory_mask": randn(4, 5),
                 "memory_key_padding_mask": memory_pad}, decoder_call, ["tgt", "memory"])
    g = {"d_model": 8, "nhead": 4, "dim_feedforward": 12, "activation": "gelu", "batch_first": True,
         "norm_first": True}
    module_case(cl, "TransformerDecoderLayer", "gelu/batch_first/norm_first/tgt_padding", decoder_layer(g), g,
                {"tgt": randn(2, 4, 8), "memory": randn(2, 3, 8),
                 "tgt_key_padding_mask": torch.tensor([[False, False, False, True], [False] * 4])},
                decoder_call, ["tgt", "memory"])
    d = {**c, "num_layers": 2, "norm": True}
    module_case(cl, "TransformerDecoder", "2_layers/norm/causal",
                lambda: nn.TransformerDecoder(decoder_layer(c)(), 2, norm=nn.LayerNorm(8)), d,
                {"tgt": randn(4, 2, 8), "memory": randn(5, 2, 8), "tgt_mask": causal}, decoder_call,
                ["tgt", "memory"])
    t = {"d_model": 8, "nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 1, "dim_feedforward": 16}
    module_case(cl, "Transformer", "2_encoder_1_decoder/causal",
                lambda: nn.Transformer(8, 2, 2, 1, 16, dropout=0.0), t,
                {"src": randn(5, 2, 8), "tgt": randn(4, 2, 8), "tgt_mask": causal},
                lambda m, x: (m(x["src"], x["tgt"], tgt_mask=x["tgt_mask"]),), ["src", "tgt"])


def mask_cases(cl):
    for size in (1, 4):
        cl.append({"name": f"generate_square_subsequent_mask/{size}", "fn": "generate_square_subsequent_mask",
                   "size": size,
                   "output": tensor_to_json(nn.Transformer.generate_square_subsequent_mask(size))})


# ---- state_dicts written by numpy.savez --------------------------------------------------------

def npz_cases(cl):
    torch.manual_seed(SEED + 1)
    mha_module = nn.MultiheadAttention(8, 2)
    with torch.no_grad():
        mha_module.in_proj_bias.normal_()
        mha_module.out_proj.bias.normal_()
    x = torch.randn(4, 2, 8)
    out, weights = mha_module(x, x, x)
    np.savez(os.path.join(HERE, "npz", "mha_state.npz"),
             **{k: v.numpy() for k, v in mha_module.state_dict().items()})
    cl.append({"name": "npz/mha_state", "fn": "npz", "file": "npz/mha_state.npz",
               "config": {"embed_dim": 8, "num_heads": 2}, "input": tensor_to_json(x),
               "output": tensor_to_json(out.detach()), "weights": tensor_to_json(weights.detach())})

    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
    encoder.train()  # the same values as eval with dropout 0, without 1.13's fused fast path
    src = torch.randn(5, 2, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    out = encoder(src, mask)
    np.savez(os.path.join(HERE, "npz", "encoder_state.npz"),
             **{k: v.numpy() for k, v in encoder.state_dict().items()})
    cl.append({"name": "npz/encoder_state", "fn": "npz", "file": "npz/encoder_state.npz",
               "config": {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "num_layers": 2},
               "input": tensor_to_json(src), "output": tensor_to_json(out.detach()),
               "names": list(encoder.state_dict().keys())})


def main():
    torch.manual_seed(SEED)
    cl = UniqueCases()
    norm_cases(cl)
    sdpa_cases(cl)
    norm_module_cases(cl)
    mha_cases(cl)
    transformer_cases(cl)
    decoder_cases(cl)
    mask_cases(cl)
    npz_cases(cl)
    write_json(os.path.join(HERE, "attention.json"), {"cases": cl.cases})
    print(f"wrote {len(cl.cases)} cases to attention.json")


if __name__ == "__main__":
    main()
