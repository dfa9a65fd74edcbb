#!/usr/bin/python3
"""Generate PyTorch golden fixtures for xgrad's batch normalisation and embedding.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tests/golden/make_golden_norm.py

It (re)writes norm.json next to this script. Output is deterministic. See
README.md for the format. Three kinds of case:

  batch_norm        torch.batch_norm(x, weight, bias, running_mean, running_var,
                    training, momentum, eps, False): output, gradients of x,
                    weight and bias for a random upstream, running statistics
                    after the call
  batchnorm_module  nn.BatchNorm1d / BatchNorm2d trained on a few batches,
                    then evaluated: running statistics and num_batches_tracked
                    after each batch, every output
  embedding         torch.embedding(weight, indices, padding_idx,
                    scale_grad_by_freq, False), or F.embedding with max_norm:
                    output, gradient of weight, weight after the call
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import SEED, tensor_to_json, upstream_like, write_json  # noqa: E402

F64 = torch.float64
DTYPES = (torch.float32, torch.float64)
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}


def randn(*shape):
    return torch.randn(*shape, dtype=F64)


def maybe(t):
    return None if t is None else tensor_to_json(t)


def batch_norm_case(variant, dtype, x, weight, bias, running_mean, running_var, training, momentum, eps):
    base_name = f"batch_norm/{variant}"
    leaves = [t.to(dtype).clone().requires_grad_(True) for t in (x, weight, bias) if t is not None]
    xl = leaves[0]
    wl = leaves[1] if weight is not None else None
    bl = leaves[-1] if bias is not None else None
    rm = None if running_mean is None else running_mean.to(dtype).clone()
    rv = None if running_var is None else running_var.to(dtype).clone()
    out = torch.batch_norm(xl, wl, bl, rm, rv, training, momentum, eps, False)
    up = upstream_like(out, base_name)
    out.backward(up)
    return {
        "name": f"{base_name}/{DTYPE_NAMES[dtype]}", "fn": "batch_norm", "dtype": DTYPE_NAMES[dtype],
        "training": training, "momentum": momentum, "eps": eps,
        "affine": weight is not None,
        "inputs": [tensor_to_json(t.detach()) for t in leaves],   # x[, weight, bias]
        "running_mean": maybe(None if running_mean is None else running_mean.to(dtype)),
        "running_var": maybe(None if running_var is None else running_var.to(dtype)),
        "running_mean_after": maybe(rm), "running_var_after": maybe(rv),
        "upstream": tensor_to_json(up), "output": tensor_to_json(out),
        "grads": [tensor_to_json(t.grad) for t in leaves],
        "grad_fn": out.grad_fn.name(),
    }


def batch_norm_cases(cases):
    def add(variant, x, weight=None, bias=None, running=False, training=True, momentum=0.1, eps=1e-5):
        channels = x.shape[1]
        rm = randn(channels) * 0.5 if running else None
        rv = torch.rand(channels, dtype=F64) + 0.5 if running else None
        for dtype in DTYPES:
            cases.append(batch_norm_case(variant, dtype, x, weight, bias, rm, rv, training, momentum, eps))

    add("6x3/train/affine", randn(6, 3), randn(3), randn(3))
    add("4x3x5/train/no_affine", randn(4, 3, 5))
    add("2x3x4x5/train/affine/running", randn(2, 3, 4, 5), randn(3), randn(3), running=True)
    add("2x3x4x5/train/weight_only/running/momentum=0.3", randn(2, 3, 4, 5), randn(3), running=True,
        momentum=0.3)
    add("3x2x3x3/train/no_affine/eps=1e-3", randn(3, 2, 3, 3), None, None, eps=1e-3)
    add("2x4x3x2/eval/affine/running", randn(2, 4, 3, 2), randn(4), randn(4), running=True, training=False)
    add("5x4/eval/no_affine/running", randn(5, 4), running=True, training=False)
    add("8x2/train/large_mean", randn(8, 2) * 0.01 + 100.0, randn(2), randn(2), running=True)
    add("2x1x3/train/two_values_each_constant", torch.full((2, 1, 3), 1.5, dtype=F64), randn(1), randn(1),
        running=True)


def module_case(kind, num_features, options, shapes, dtype):
    torch.manual_seed(SEED + num_features)
    module = getattr(nn, kind)(num_features, **options).to(dtype)
    train_inputs = [(randn(*s) * 2.0 + 0.5).to(dtype) for s in shapes]
    eval_input = randn(*shapes[0]).to(dtype)
    case = {
        "name": f"batchnorm_module/{kind}/{num_features}/{options}/{DTYPE_NAMES[dtype]}",
        "fn": "batchnorm_module", "module": kind, "num_features": num_features, "dtype": DTYPE_NAMES[dtype],
        "options": {"eps": module.eps, "momentum": module.momentum, "affine": module.affine,
                    "track_running_stats": module.track_running_stats},
        "train_inputs": [], "train_outputs": [], "running_mean": [], "running_var": [],
        "num_batches_tracked": [],
    }
    module.train()
    with torch.no_grad():
        for x in train_inputs:
            y = module(x)
            case["train_inputs"].append(tensor_to_json(x))
            case["train_outputs"].append(tensor_to_json(y))
            if module.track_running_stats:
                case["running_mean"].append(tensor_to_json(module.running_mean))
                case["running_var"].append(tensor_to_json(module.running_var))
                case["num_batches_tracked"].append(int(module.num_batches_tracked))
        module.eval()
        case["eval_input"] = tensor_to_json(eval_input)
        case["eval_output"] = tensor_to_json(module(eval_input))
    return case


def module_cases(cases):
    runs = [
        ("BatchNorm1d", 3, {}, [(5, 3), (4, 3), (6, 3)]),
        ("BatchNorm1d", 2, {"momentum": None}, [(4, 2, 3), (3, 2, 5), (2, 2, 2), (5, 2, 1)]),
        ("BatchNorm2d", 4, {"momentum": 0.25, "eps": 1e-3}, [(2, 4, 3, 3), (3, 4, 2, 5), (1, 4, 4, 2)]),
        ("BatchNorm2d", 3, {"momentum": None, "affine": False}, [(2, 3, 2, 2), (4, 3, 1, 3), (2, 3, 3, 1)]),
        ("BatchNorm2d", 2, {"track_running_stats": False}, [(2, 2, 3, 3), (3, 2, 2, 2)]),
    ]
    for kind, n, options, shapes in runs:
        for dtype in DTYPES:
            cases.append(module_case(kind, n, options, shapes, dtype))


def embedding_case(variant, dtype, weight, indices, padding_idx=-1, scale_grad_by_freq=False, max_norm=None,
                   norm_type=2.0):
    base_name = f"embedding/{variant}"
    w = weight.to(dtype).clone().requires_grad_(True)
    if max_norm is None:
        out = torch.embedding(w, indices, padding_idx, scale_grad_by_freq, False)
    else:
        out = F.embedding(indices, w, padding_idx=None if padding_idx < 0 else padding_idx, max_norm=max_norm,
                          norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq)
    up = upstream_like(out, base_name)
    out.backward(up)
    case = {
        "name": f"{base_name}/{DTYPE_NAMES[dtype]}", "fn": "embedding", "dtype": DTYPE_NAMES[dtype],
        "padding_idx": padding_idx, "scale_grad_by_freq": scale_grad_by_freq,
        "weight": tensor_to_json(weight.to(dtype)), "indices": tensor_to_json(indices),
        "upstream": tensor_to_json(up), "output": tensor_to_json(out), "grad_weight": tensor_to_json(w.grad),
        "grad_fn": out.grad_fn.name(),
    }
    if max_norm is not None:
        case["max_norm"] = max_norm
        case["norm_type"] = "inf" if norm_type == float("inf") else norm_type
        case["weight_after"] = tensor_to_json(w.detach())
    return case


def embedding_cases(cases):
    long = lambda values: torch.tensor(values, dtype=torch.int64)  # noqa: E731

    def add(variant, weight, indices, **options):
        for dtype in DTYPES:
            cases.append(embedding_case(variant, dtype, weight, indices, **options))

    w = randn(6, 4)
    add("6x4/indices_2x3/repeated", w, long([[1, 5, 1], [0, 1, 5]]))
    add("6x4/indices_5/padding_idx=1", w, long([1, 2, 1, 3, 1]), padding_idx=1)
    add("6x4/indices_2x2x2/scale_grad_by_freq", w, long([[[2, 2], [2, 4]], [[0, 4], [2, 5]]]),
        scale_grad_by_freq=True)
    add("6x4/indices_6/padding_idx=2/scale_grad_by_freq", w, long([2, 3, 2, 3, 3, 0]), padding_idx=2,
        scale_grad_by_freq=True)
    add("6x4/0-dim_index", w, long(4))
    big = randn(5, 3) * 2.0
    add("5x3/max_norm=1.0", big, long([[0, 2], [2, 4]]), max_norm=1.0)
    add("5x3/max_norm=1.5/norm_type=1", big, long([1, 3, 3]), max_norm=1.5, norm_type=1.0)
    add("5x3/max_norm=0.5/norm_type=inf/padding_idx=3", big, long([3, 0, 4]), max_norm=0.5,
        norm_type=float("inf"), padding_idx=3)


def main():
    torch.manual_seed(SEED)
    cases = []
    batch_norm_cases(cases)
    module_cases(cases)
    torch.manual_seed(SEED + 1)
    embedding_cases(cases)
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    write_json("norm.json", {"cases": cases})


if __name__ == "__main__":
    main()
